"""docs/adding_a_method.md is exact: a sixth, toy method added by following it step by step, in a
copy of the tree, is picked up by the pair tool, the fragment test, the loss tests, the
model-index tests and the transfer measurement, with nothing else edited."""
import ast
import os
import os.path as osp
import re
import shutil
import subprocess
import sys

import pytest
import torch
from tiny_pair import REPO, STUDENT_CFG, TEACHER_CFG

from benchmarks.tiny import TINY_PAIR

pytestmark = pytest.mark.e2e

KEEP = ('mmseg_distill', 'benchmarks', 'configs', 'tools', 'tests', 'docs', 'model-index.yml',
        'README.md', 'pytest.ini', 'setup.cfg')
LOSS = '''"""A toy loss for the guide's test."""
import torch
from mmrazor.registry import MODELS

from ..utils import float32_compute
from .logit_distill_loss import LogitDistillLoss, aligned_logits


@float32_compute
def toy_l1(preds_S, preds_T, tau=1.0, align_to='teacher', owner='ToyL1Loss'):
    """``ToyL1Loss`` as a function (unweighted)."""
    preds_S, preds_T = aligned_logits(preds_S, preds_T, align_to, owner)
    return (torch.softmax(preds_S / tau, 1) - torch.softmax(preds_T / tau, 1)).abs().mean()


@MODELS.register_module()
class ToyL1Loss(LogitDistillLoss):
    """The mean absolute difference of the class probabilities (Toy et al., the guide's test).

    L = mean |softmax(z_S / tau) - softmax(z_T / tau)|. The project's choices: the student
    resized to the teacher's size, the teacher detached.
    """

    def __init__(self, tau=1.0, loss_weight=1.0, align_to='teacher', ignore_index=255):
        super().__init__(tau, loss_weight, align_to, ignore_index)

    @float32_compute
    def forward(self, preds_S, preds_T):
        return self.loss_weight * toy_l1(preds_S, preds_T, self.tau, self.align_to,
                                         type(self).__name__)
'''
NAIVE = '''

def toy_l1(zs, zt, tau=1.0):
    zs = resize_to(zs, zt.shape[-2:])
    return (torch.softmax(zs / tau, 1) - torch.softmax(zt / tau, 1)).abs().mean()
'''
TERMS = '''# The guide's toy method: the mean absolute difference of class probabilities.
toy_terms = dict(
    student_recorders=dict(logits=dict(type='SegLogits')),
    teacher_recorders=dict(logits=dict(type='SegLogits')),
    distill_losses=dict(
        # uncalibrated: the toy method has no published weight
        loss_toy=dict(type='ToyL1Loss', loss_weight=1.0)),
    loss_forward_mappings=dict(
        loss_toy=dict(
            preds_S=dict(recorder='logits', from_student=True),
            preds_T=dict(recorder='logits', from_student=False))))
'''
FRAGMENT = '''# toy: its terms are in terms/toy.py
_base_ = ['./_algorithm.py', './terms/toy.py']
model = dict(distiller=dict(compose=dict(toy=_base_.toy_terms)))
'''
README = '''# Toy

## Recipe

The mean absolute difference of the class probabilities; weight 1, uncalibrated.

## Configs

| config | pair |
| --- | --- |
| `toy_{pair}.py` | the tiny pair |

## Results

### Published

None.

### Measured here

None.

Export the student with every run:

```python
default_hooks = dict(export_student=dict(type='mmrazor.ExportStudentHook'))
```

```bibtex
@misc{{toy, title={{A toy}}, author={{Toy}}, year={{2026}}}}
```
'''
METAFILE = '''Collections:
  - Name: Toy
    Metadata:
      Training Techniques:
        - Knowledge Distillation
    README: configs/toy/README.md
Models:
  - Name: toy_{pair}
    In Collection: Toy
    Config: configs/toy/toy_{pair}.py
    Metadata:
      Training Data: procedural scenes (synthetic)
'''


def insert_after(path, anchor, text):
    with open(path) as f:
        content = f.read()
    assert anchor in content, f'{path} lost its anchor {anchor!r}: update the guide and its test'
    with open(path, 'w') as f:
        f.write(content.replace(anchor, anchor + text, 1))


def write(path, text):
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write(text)


@pytest.fixture(scope='module')
def tree(tmp_path_factory):
    """A copy of the tree with the toy method added as docs/adding_a_method.md says."""
    root = tmp_path_factory.mktemp('tree')
    ignore = shutil.ignore_patterns('__pycache__', '.mim', '*.pyc')
    for name in KEEP:
        source = osp.join(REPO, name)
        (shutil.copytree(source, root / name, ignore=ignore) if osp.isdir(source)
         else shutil.copy(source, root / name))
    mim = root / 'mmseg_distill' / '.mim'  # what an install links (setup.py)
    mim.mkdir()
    for name in ('configs', 'tools', 'model-index.yml'):
        os.symlink(root / name, mim / name)
    r = str(root)
    # "A new distillation loss": 1. the module, 3. its export, 4. naive reference and tests
    write(osp.join(r, 'mmseg_distill/models/losses/toy_l1.py'), LOSS)
    insert_after(osp.join(r, 'mmseg_distill/models/losses/__init__.py'),
                 'from .affinity import AffinityLoss\n', 'from .toy_l1 import ToyL1Loss\n')
    insert_after(osp.join(r, 'mmseg_distill/models/losses/__init__.py'), '__all__ = [\n',
                 "    'ToyL1Loss',\n")
    with open(osp.join(r, 'benchmarks/naive_reference.py'), 'a') as f:
        f.write(NAIVE)
    tests = osp.join(r, 'tests/test_models/test_losses/test_losses.py')
    insert_after(tests, 'LOGIT_LOSSES = {\n',
                 "    'ToyL1Loss': (dict(tau=2.0), lambda s, t: naive.toy_l1(s, t, tau=2.0)),\n")
    insert_after(tests, 'ALL_PAIRS = {\n',
                 "    'ToyL1Loss': lambda: (torch.randn(2, 5, 6, 6) * 3, ),\n")
    # "A new method": 1. the fragment, 2. the registry, 3. the fragment test, 4. leaves, README,
    # metafile, model index (5., a planner, is not needed: the default writes the fragment)
    write(osp.join(r, 'configs/_base_/distill/terms/toy.py'), TERMS)
    write(osp.join(r, 'configs/_base_/distill/toy.py'), FRAGMENT)
    insert_after(osp.join(r, 'mmseg_distill/methods.py'),
                 'METHODS: Dict[str, Method] = {m.key: m for m in (\n',
                 "    Method('toy', 'Toy', True, (Form('Toy', 'toy.py', 'toy', ('loss_toy', ),\n"
                 "                                     ('logit_kl', )), )),\n")
    insert_after(osp.join(r, 'tests/test_configs/test_fragments.py'), 'EXPECTED = {\n',
                 "    'toy.py': dict(losses={'loss_toy': ('ToyL1Loss', dict(tau=1.0), 1.0)}),\n")
    write(osp.join(r, f'configs/toy/toy_{TINY_PAIR}.py'),
          "_base_ = ['../_base_/distill/toy.py', '../_base_/pairs/"
          "deeplabv3-r18-tiny_fcn-mbv2-tiny_synthetic-64x64.py']\n"
          'model = dict(\n    architecture=_base_.student_model, teacher=_base_.teacher_model,\n'
          '    teacher_ckpt=_base_.teacher_ckpt)\n')
    write(osp.join(r, 'configs/toy/README.md'), README.format(pair=TINY_PAIR))
    write(osp.join(r, 'configs/toy/metafile.yml'), METAFILE.format(pair=TINY_PAIR))
    insert_after(osp.join(r, 'model-index.yml'), 'Import:\n', '  - configs/toy/metafile.yml\n')
    return root


def run(tree, *args, timeout=900):
    env = dict(os.environ, PYTHONPATH=str(tree), PYTHONUNBUFFERED='1')
    return subprocess.run([sys.executable] + [str(a) for a in args], cwd=str(tree), env=env,
                          capture_output=True, text=True, timeout=timeout)


def test_the_guide_names_every_place_the_toy_method_touched():
    with open(osp.join(REPO, 'docs', 'adding_a_method.md')) as f:
        guide = f.read()
    for place in ('mmseg_distill/models/losses/', 'mmseg_distill/models/losses/__init__.py',
                  'benchmarks/naive_reference.py',
                  'tests/test_models/test_losses/test_losses.py', '`LOGIT_LOSSES`',
                  '`ALL_PAIRS`', 'configs/_base_/distill/', 'configs/_base_/distill/terms/',
                  '<key>_terms', 'mmseg_distill/methods.py',
                  'tests/test_configs/test_fragments.py', '`EXPECTED`', 'README.md',
                  'metafile.yml', 'model-index.yml', '## Recipe', '## Configs', '## Results',
                  '### Published', '### Measured here', 'BibTeX', 'uncalibrated:',
                  "default_hooks = dict(export_student=dict(type='mmrazor.ExportStudentHook'))"):
        assert place in guide, place


def test_the_checks_pass_on_the_toy_method(tree):
    out = run(tree, '-m', 'pytest', '-v', '-p', 'no:cacheprovider', '-k',
              'toy or Toy or model_index or readme or every_form or registered',
              'tests/test_configs/test_fragments.py', 'tests/test_methods.py',
              'tests/test_wiring.py', 'tests/test_models/test_losses/test_losses.py',
              'tests/test_tools/test_tools_and_zoo.py', 'tests/test_configs/test_recipe_sources.py')
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
    passed = re.findall(r'^(\S+) PASSED', out.stdout, re.M)
    # the toy's own fragment, loss, registry, recipe-source and model-index checks ran
    for test in ('test_fragment_builds_and_trains_what_it_says[toy.py]',
                 'test_student_equal_to_teacher_gives_exactly_zero_and_finite_grads[ToyL1Loss]',
                 'test_every_loss_is_registered_documented_and_float32[ToyL1Loss]',
                 'test_model_index_lists_every_leaf_config_once',
                 'test_each_method_readme_has_recipe_results_and_bibtex',
                 'test_each_method_readme_lists_exactly_its_configs'):
        assert any(p.endswith(test) for p in passed), (test, passed)
    assert any('[toy' in p and 'test_methods' in p for p in passed), passed


def test_the_pair_tool_writes_and_trains_the_toy_leaf(tree):
    out = run(tree, 'tools/inspect_pair.py', TEACHER_CFG, STUDENT_CFG, '--method', 'toy',
              '--num-classes', 7, '--crop', 64, 64, '--out', 'work_dirs/toy_leaf.py', '--check')
    assert out.returncode == 0, out.stderr[-3000:]
    assert '| loss_toy |' in out.stdout
    assert 'one training step on a random 64x64 batch ran' in out.stdout
    assert 'mmseg_distill::_base_/distill/toy.py' in (tree / 'work_dirs/toy_leaf.py').read_text()


def test_the_transfer_measurement_reads_the_toy_students_relations(tree):
    from mmseg_distill.models import ModelFromConfig
    paths = {}
    for name, cfg in (('teacher', TEACHER_CFG), ('baseline', STUDENT_CFG),
                      ('toy', STUDENT_CFG)):
        model = ModelFromConfig(cfg, num_classes=7, random_init=True)
        paths[name] = str(tree / f'{name}.pth')
        torch.save({'state_dict': model.state_dict()}, paths[name])
    data = tree / 'data_cfg.py'
    data.write_text("_base_ = ['mmseg_distill::_base_/datasets/synthetic_scenes.py']\n"
                    "generator = dict(num_train=4, num_val=2, size=64, seed=0)\n"
                    "val_dataloader = dict(dataset=dict(generator=generator))\n")
    out = run(tree, 'tools/transfer.py', TEACHER_CFG, paths['teacher'], '--num-classes', 7,
              '--student', 'baseline', STUDENT_CFG, paths['baseline'], '--student', 'toy',
              STUDENT_CFG, paths['toy'], '--data', data, '--out', 'work_dirs/transfer')
    assert out.returncode == 0, out.stderr[-3000:]
    import json
    with open(tree / 'work_dirs/transfer/transfer.json') as f:
        results = json.load(f)
    registry = run(tree, '-c', 'from mmseg_distill.methods import METHODS; '
                   "print(METHODS['toy'].default.relations)")
    for relation in ast.literal_eval(registry.stdout.strip()):
        assert relation in results['toy'] and relation in results['baseline']
