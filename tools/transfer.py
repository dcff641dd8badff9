"""What each student took from the teacher: its distance to the teacher in every relation the
methods distil (``mmseg_distill.evidence``), on the same validation images.

    python tools/transfer.py TEACHER_CFG TEACHER_CKPT --student NAME CFG CKPT [--student ...]
        [--data DATA_CFG] [--num-classes K] [--stage1 CKPT] [--pre-relu NAME=MODULE ...]
        [--batches N] [--max-images N] [--device DEVICE] [--out DIR]

Checkpoints may be distillation checkpoints (the student under ``architecture.``) or plain
MMSeg ones (the exported student). Give the baseline as one of the students: each row then
shows whether a distilled student is closer to the teacher than the baseline in the relation its
method distils. ``--stage1`` (a KA stage-1 checkpoint) adds KA's relations in the encoded
space; ``--pre-relu teacher=decode_head.bottleneck.bn NAME=...`` the pair-wise relation.
Writes ``transfer.md`` and ``transfer.json`` to ``--out``.
"""


def main():
    from mmseg_distill.evidence.transfer import main as transfer_main
    transfer_main(description=__doc__.split('\n\n')[0].replace('\n', ' '))


if __name__ == '__main__':
    main()
