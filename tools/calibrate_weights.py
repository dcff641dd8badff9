"""Measure distillation loss terms at the student's initialisation and derive loss weights.

A recipe weight that no source publishes is set by a rule that can be re-run: the unweighted
value of each distillation term is averaged over the same training batches, with the trained
teacher and the student as it starts training, and

- ``--reference REF.py``: every loss of CONFIG that REF has under the same name gets the weight
  that gives it REF's weighted magnitude there (w = w_ref * L_ref / L);
- ``--balance loss_a=loss_b``: loss_a gets the weight that equals loss_b's weighted magnitude
  in CONFIG (w_a = w_b * L_b / L_a).

    python tools/calibrate_weights.py CONFIG [--reference REF.py] [--balance A=B ...]
        [--batches 8] [--seed 0] [--out calib.json] [--cfg-options k=v ...]

``--cfg-options`` apply to both configs (teacher checkpoint, data root). It prints a table and
writes JSON; the recipes cite the command and the figures.
"""
import argparse
import json
import statistics

import torch


def build(config, options, seed):
    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    from mmengine.runner import Runner, set_random_seed

    import mmseg_distill  # noqa: F401
    from mmrazor.registry import MODELS
    cfg = Config.fromfile(config)
    if options:
        cfg.merge_from_dict(options)
    set_random_seed(seed)  # torch, numpy and random: same student and same flips every run
    model = MODELS.build(cfg.model)
    model.init_weights()
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope', 'mmseg')):
        loader = Runner.build_dataloader(cfg.train_dataloader, seed=seed)
    return model, loader


def measure(config, options, batches, seed):
    """Mean unweighted value and the configured weight of every distillation loss."""
    model, loader = build(config, options, seed)
    model.train()
    losses = model.distiller.distill_losses
    values = {name: [] for name in losses}
    for index, batch in enumerate(loader):
        if index == batches:
            break
        with torch.no_grad():
            data = model.data_preprocessor(batch, True)
            out = model(**data, mode='loss')
        for name, module in losses.items():
            values[name].append(float(out[f'distill.{name}']) / float(module.loss_weight))
    return {name: dict(weight=float(losses[name].loss_weight),
                       unweighted=statistics.mean(v), spread=statistics.pstdev(v))
            for name, v in values.items()}


def main():
    from mmengine.config import DictAction
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('--reference', help='config whose weighted magnitudes are matched')
    parser.add_argument('--balance', nargs='*', default=[], metavar='LOSS_A=LOSS_B')
    parser.add_argument('--batches', type=int, default=8)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out', help='write the figures as JSON here')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args()

    terms = measure(args.config, args.cfg_options, args.batches, args.seed)
    result = dict(config=args.config, batches=args.batches, seed=args.seed, terms=terms,
                  suggested={})
    if args.reference:
        reference = measure(args.reference, args.cfg_options, args.batches, args.seed)
        result['reference'] = dict(config=args.reference, terms=reference)
        for name, term in terms.items():
            if name in reference:
                ref = reference[name]
                result['suggested'][name] = ref['weight'] * ref['unweighted'] / term['unweighted']
    for rule in args.balance:
        target, anchor = rule.split('=')
        result['suggested'][target] = (terms[anchor]['weight'] * terms[anchor]['unweighted'] /
                                       terms[target]['unweighted'])

    print(f'{args.config}: mean over {args.batches} batches at the student initialisation')
    print('| loss | weight | unweighted | spread | weighted | reference weighted | suggested |')
    print('| --- | --- | --- | --- | --- | --- | --- |')
    for name, term in terms.items():
        ref = result.get('reference', {}).get('terms', {}).get(name)
        ref_weighted = f"{ref['weight'] * ref['unweighted']:.4g}" if ref else ''
        suggested = result['suggested'].get(name)
        print(f"| {name} | {term['weight']:.4g} | {term['unweighted']:.4g} | "
              f"{term['spread']:.2g} | {term['weight'] * term['unweighted']:.4g} | "
              f"{ref_weighted} | {'' if suggested is None else f'{suggested:.4g}'} |")
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(result, f, indent=1)


if __name__ == '__main__':
    main()
