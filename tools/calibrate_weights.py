"""Measure distillation loss terms at the student's initialisation and derive loss weights.

A recipe weight that no source publishes is set by a rule that can be re-run: the unweighted
value of each distillation term is averaged over the same training batches, with the trained
teacher and the student as it starts training (``mmseg_distill.engine.shares``, the pair
tool's measurement), and

- ``--reference REF.py``: every loss of CONFIG that REF has under the same name gets the weight
  that gives it REF's weighted magnitude there (w = w_ref * L_ref / L);
- ``--balance loss_a=loss_b``: loss_a gets the weight that equals loss_b's weighted magnitude
  in CONFIG (w_a = w_b * L_b / L_a).

    python tools/calibrate_weights.py CONFIG [--reference REF.py] [--balance A=B ...]
        [--batches 8] [--seed 0] [--device DEVICE] [--out calib.json] [--cfg-options k=v ...]

``--cfg-options`` apply to both configs (teacher checkpoint, data root). It prints a table with
each term's share of the student's task loss and writes JSON; the recipes cite the command and
the figures.
"""
import argparse
import json


def main():
    from mmengine.config import DictAction

    from mmseg_distill.engine.shares import format_shares
    from mmseg_distill.pairing.calibration import balance_weight, measure_config, reference_weights
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0].replace('\n', ' '))
    parser.add_argument('config', help='a distillation config (leaf)')
    parser.add_argument('--reference', help='config whose weighted magnitudes are matched')
    parser.add_argument('--balance', nargs='*', default=[], metavar='LOSS_A=LOSS_B')
    parser.add_argument('--batches', type=int, default=8)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--device', help='where the models run (default: cuda where a CUDA '
                        'device is visible, else cpu)')
    parser.add_argument('--out', help='write the figures as JSON here')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args()

    from mmseg_distill.utils.device import tool_device
    try:
        device = tool_device(args.device)
    except ValueError as error:
        parser.error(str(error))
    terms, task = measure_config(args.config, args.cfg_options, args.batches, args.seed,
                                 device)
    result = dict(config=args.config, batches=args.batches, seed=args.seed, task_loss=task,
                  terms={name: vars(t) for name, t in terms.items()}, suggested={})
    if args.reference:
        reference, ref_task = measure_config(args.reference, args.cfg_options, args.batches,
                                             args.seed, device)
        result['reference'] = dict(config=args.reference, task_loss=ref_task,
                                   terms={name: vars(t) for name, t in reference.items()})
        result['suggested'].update(reference_weights(terms, reference))
    for rule in args.balance:
        target, weight = balance_weight(terms, rule)
        result['suggested'][target] = weight

    print(format_shares(terms, task, f'{args.config}: mean over {args.batches} batches at the '
                        'student initialisation'))
    if args.reference:
        print(format_shares(reference, ref_task, f'\nreference {args.reference}:'))
    for name, weight in result['suggested'].items():
        print(f'suggested {name}: {weight:.4g}')
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(result, f, indent=1)


if __name__ == '__main__':
    main()
