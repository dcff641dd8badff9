"""Turn a distillation checkpoint into a student-only checkpoint that plain MMSeg loads.

    python tools/export_student.py WORK_DIR/iter_80000.pth OUT_DIR [--name NAME]

Writes OUT_DIR/<NAME>_<date>-<sha256[:8]>.pth with {'meta', 'state_dict'} (the teacher,
connectors and loss modules dropped, the 'architecture.' prefix removed from the start of each
student key) and OUT_DIR/<NAME>.py, the student's config with the class count the distillation
used. NAME defaults to the distillation config's name. Test it with MMSeg's own tools:
`mim test mmseg OUT_DIR/<NAME>.py --checkpoint OUT_DIR/<NAME>_*.pth`.
"""
import argparse

import mmseg_distill  # noqa: F401  (torch>=2.6 safe loading of MMEngine checkpoints)
from mmseg_distill.engine.export import export_student


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0].replace('\n', ' '))
    parser.add_argument('checkpoint', help='a checkpoint of a distillation run (iter_N.pth)')
    parser.add_argument('out_dir', help='where the student checkpoint and config are written')
    parser.add_argument('--name', help="file name stem (default: the distillation config's "
                        'name, as OpenMMLab names model-zoo files)')
    parser.add_argument('--no-config', action='store_true',
                        help="write the checkpoint only, not the student's config")
    args = parser.parse_args()
    checkpoint, config = export_student(args.checkpoint, args.out_dir, args.name,
                                        write_config=not args.no_config)
    if config:
        print(f'[export_student] wrote {checkpoint} (the student alone) and {config} (its '
              f'config); test it with: mim test mmseg {config} --checkpoint {checkpoint}')
    else:
        print(f'[export_student] wrote {checkpoint} (the student alone)')


if __name__ == '__main__':
    main()
