"""Every config the package ships works through ``mmseg_distill::`` from outside the checkout:
inherited by a user's file, its runner (hooks, visualiser, model), evaluators and datasets
(with their transforms) build, with no registry warning."""
import glob
import json
import os.path as osp
import subprocess
import sys

import pytest
from tiny_pair import REPO

from mmseg_distill.methods import METHODS

pytestmark = pytest.mark.e2e


SHIPPED = sorted(osp.relpath(p, osp.join(REPO, 'configs'))
                 for p in glob.glob(osp.join(REPO, 'configs', '**', '*.py'), recursive=True))

BUILD_ALL = r'''
import json, os, os.path as osp, sys, tempfile, warnings
warnings.simplefilter('ignore')
from mmengine.config import Config
from mmengine.registry import DATASETS, DefaultScope, EVALUATOR
from mmengine.runner import Runner

results = {}
for index, name in enumerate(json.loads(sys.argv[1])):
    leaf = f'leaf_{index}.py'
    with open(leaf, 'w') as f:
        f.write(f"_base_ = ['mmseg_distill::{name}']\n")
    try:
        cfg = Config.fromfile(leaf)
        built = []
        if 'model' in cfg and cfg.model.get('type') == 'SegmentationDistill' and \
                'architecture' in cfg.model:
            cfg.model.teacher_ckpt = None  # no download
            from mmseg_distill.methods import set_stage1_checkpoint, stage1_connector
            found = stage1_connector(cfg.model.distiller)
            encoder = found[1] if found else None
            if encoder is not None and encoder.get('mode') == 'encode':
                from benchmarks.tiny import write_ka_stage1_checkpoint
                set_stage1_checkpoint(cfg.model.distiller, write_ka_stage1_checkpoint(
                    osp.abspath(f"stage1_{encoder['in_channels']}.pth"),
                    encoder['in_channels'], encoder['checkpoint_prefix']))
        if 'model' in cfg and 'train_cfg' in cfg and 'default_hooks' in cfg:
            cfg.work_dir = tempfile.mkdtemp()
            cfg.experiment_name = f'scope_{index}'
            runner = Runner.from_cfg(cfg)
            built.append(f'runner with {len(runner.hooks)} hooks')
        scope = cfg.get('default_scope', 'mmseg')
        with DefaultScope.overwrite_default_scope(scope):
            for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
                if key in cfg:
                    dataset = dict(cfg[key].dataset, lazy_init=True)
                    if dataset.get('type') == 'SyntheticScenesDataset':
                        dataset['generate_if_missing'] = False
                    for part in [dataset] + list(dataset.get('datasets', [])):
                        if part.get('ann_file'):  # a one-line split list for data not here
                            path = osp.join(part.get('data_root', ''), part['ann_file'])
                            os.makedirs(osp.dirname(path) or '.', exist_ok=True)
                            with open(path, 'w') as f:
                                f.write('x\n')
                        for folder in part.get('data_prefix', {}).values():
                            os.makedirs(osp.join(part.get('data_root', ''), folder),
                                        exist_ok=True)
                        part['lazy_init'] = True
                    DATASETS.build(dataset)
                    built.append(key)
            for key in ('val_evaluator', 'test_evaluator'):
                if key in cfg:
                    metrics = cfg[key]  # as Runner.build_evaluator wraps a metric config
                    EVALUATOR.build(dict(type='Evaluator', metrics=metrics)
                                    if 'metrics' not in metrics else metrics)
                    built.append(key)
        results[name] = 'ok: ' + ', '.join(built)
    except Exception as error:
        results[name] = f'FAILED: {type(error).__name__}: {error}'
print('RESULTS ' + json.dumps(results))
'''


def test_every_shipped_config_builds_through_the_package_scope(tmp_path):
    from benchmarks import with_lab_on_path  # the script writes a KA stage-1 checkpoint with it
    out = subprocess.run([sys.executable, '-c', BUILD_ALL, json.dumps(SHIPPED)], cwd=tmp_path,
                         capture_output=True, text=True, timeout=1800, env=with_lab_on_path())
    line = [line for line in out.stdout.splitlines() if line.startswith('RESULTS ')]
    assert line, out.stderr[-4000:]
    results = json.loads(line[-1][len('RESULTS '):])
    failed = {name: r for name, r in results.items() if not r.startswith('ok')}
    assert not failed, json.dumps(failed, indent=1)
    # the leaves build runners; the dataset and schedule fragments their parts
    assert all('runner' in results[name] for name in SHIPPED
               if name.split('/')[0] in [m.directory for m in METHODS.values()] + ['tiny'])
    assert 'train_dataloader' in results['_base_/datasets/synthetic_scenes.py']
    log = out.stdout + out.stderr
    assert 'Failed to search registry' not in log, log[log.find('Failed to search'):][:500]
