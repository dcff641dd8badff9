"""The fixes for current PyTorch: each test shows the failure without the fix and the fix."""
import os
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from torch import nn

import mmseg_distill  # noqa: F401
import mmseg_distill_boot
from mmseg_distill.compat import history_buffer_getattr

TORCH = tuple(int(part) for part in torch.__version__.split('+')[0].split('.')[:2])


def run_python(code, env=None, cwd=None):
    return subprocess.run([sys.executable, '-c', textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=300, env=env, cwd=cwd)


# -- start-up hook: mmrazor's quantization import ---------------------------------------------
def test_boot_hook_is_installed_at_startup_without_importing_anything_heavy():
    out = run_python('''
        import sys
        print([type(f).__name__ for f in sys.meta_path][0])
        print(sorted(m for m in ('torch', 'numpy', 'mmrazor', 'mmengine') if m in sys.modules))
    ''')
    assert out.returncode == 0, out.stderr
    first, heavy = out.stdout.split('\n')[:2]
    assert first == 'QuantizationFallbackFinder'
    assert heavy == '[]'


@pytest.mark.e2e  # runs the tool (or Python) in a subprocess
def test_mmrazor_models_import_fails_without_the_fallback_and_works_with_it():
    without = run_python('''
        import sys
        sys.meta_path[:] = [f for f in sys.meta_path
                            if type(f).__name__ != 'QuantizationFallbackFinder']
        import mmrazor.models
    ''')
    assert without.returncode != 0 and 'ImportError' in without.stderr
    with_fix = run_python('''
        import mmrazor.models
        import mmrazor.structures.quantization as q
        from mmrazor.registry import MODELS
        print(bool(getattr(q, 'MMSEG_DISTILL_FALLBACK', '')), 'SingleTeacherDistill' in MODELS)
        try:
            q.QConfigHandler({})
        except RuntimeError as error:
            print('quantization' in str(error))
    ''')
    assert with_fix.returncode == 0, with_fix.stderr
    assert with_fix.stdout.split() == ['True', 'True', 'True']


def test_fallback_leaves_a_working_quantization_module_untouched(tmp_path):
    pkg = tmp_path / 'mmrazor' / 'structures' / 'quantization'
    pkg.mkdir(parents=True)
    for init in (tmp_path / 'mmrazor', tmp_path / 'mmrazor' / 'structures'):
        (init / '__init__.py').write_text('')
    (pkg / '__init__.py').write_text('BackendConfigs = {"real": 1}\nQConfigHandler = object\n')
    env = dict(os.environ, PYTHONPATH=str(tmp_path))
    out = run_python('''
        import mmrazor.structures.quantization as q
        print(q.BackendConfigs, hasattr(q, 'MMSEG_DISTILL_FALLBACK'))
    ''', env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "{'real': 1} False"


# -- start-up hook: --local-rank ---------------------------------------------------------------
@pytest.mark.parametrize('given,expected', [
    (['--local-rank=1'], ['--local_rank=1']),
    (['--local-rank', '3'], ['--local_rank', '3']),
    (['--local_rank=2'], ['--local_rank=2']),
])
def test_local_rank_spelling_is_fixed_for_mmrazor_train_only(given, expected):
    argv = ['/x/site-packages/mmrazor/.mim/tools/train.py', 'cfg.py'] + given
    mmseg_distill_boot.fix_local_rank_argv(argv)
    assert argv[2:] == expected
    other = ['/x/other/train.py'] + given
    mmseg_distill_boot.fix_local_rank_argv(other)
    assert other[1:] == given


def test_local_rank_is_rewritten_before_an_mmrazor_train_script_parses_it(tmp_path):
    script = tmp_path / 'mmrazor' / '.mim' / 'tools' / 'train.py'
    script.parent.mkdir(parents=True)
    # the argument parser of MMRazor 1.0.0's tools/train.py, reduced to the part that matters
    script.write_text(textwrap.dedent('''
        import argparse
        parser = argparse.ArgumentParser()
        parser.add_argument('--launcher', default='none')
        parser.add_argument('--local_rank', type=int, default=0)
        print(parser.parse_args().local_rank)
    '''))
    out = subprocess.run([sys.executable, str(script), '--launcher', 'pytorch', '--local-rank=1'],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == '1'


# -- weights_only loading of MMEngine checkpoints -----------------------------------------------
def _mmengine_like_checkpoint(path):
    from mmengine.logging import HistoryBuffer
    buffer = HistoryBuffer()
    buffer.update(1.5)
    torch.save({'state_dict': {'w': torch.ones(2)},
                'message_hub': {'log_scalars': {'train/loss': buffer}},
                'meta': {'seed': np.int64(3), 'mean': np.array([1.0, 2.0])}}, path)


@pytest.mark.skipif(TORCH < (2, 6), reason='torch.load defaults to weights_only=True from 2.6: '
                    'before, the failure the fix is for does not arise (the fix is inert)')
def test_mmengine_checkpoint_loads_with_weights_only_only_with_the_fix(tmp_path):
    path = str(tmp_path / 'ckpt.pth')
    _mmengine_like_checkpoint(path)
    plain = run_python(f'''
        import torch
        torch.load({path!r})
    ''')
    assert plain.returncode != 0 and 'weights_only' in plain.stderr
    loaded = torch.load(path)  # default weights_only=True, with mmseg_distill imported
    assert loaded['message_hub']['log_scalars']['train/loss'].current() == 1.5
    assert loaded['meta']['seed'] == 3


class _Evil:
    def __reduce__(self):
        return getattr, (np.ndarray, '__class__')


def test_restricted_getattr_refuses_anything_but_history_buffer_statistics(tmp_path):
    from mmengine.logging import HistoryBuffer
    assert history_buffer_getattr(HistoryBuffer, 'mean') is HistoryBuffer.mean
    with pytest.raises(pickle.UnpicklingError):
        history_buffer_getattr(np.ndarray, '__class__')
    with pytest.raises(pickle.UnpicklingError):
        history_buffer_getattr(HistoryBuffer, '__init__')
    path = str(tmp_path / 'evil.pth')
    torch.save({'x': _Evil()}, path)
    with pytest.raises(pickle.UnpicklingError):  # the default from torch 2.6, asked for before
        torch.load(path, weights_only=True)


# -- in-place activations after a recorded module ------------------------------------------------
class _Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 2, 1)
        self.act = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(2, 2, 1)

    def forward(self, x):
        return self.conv2(self.act(self.conv(x)))


class _Residual(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 2, 1)

    def forward(self, x):
        out = self.conv(x)
        out += x  # functional in-place on the recorded output
        return out


def test_mmrazor_inplace_switch_is_a_no_op_on_this_torch_and_ours_works():
    from mmrazor.models.algorithms.base import BaseAlgorithm

    from mmseg_distill.models.distillers import disable_inplace

    model = nn.Sequential(_Block())
    holder = type('Holder', (), {'set_module_inplace_false':
                                 BaseAlgorithm.set_module_inplace_false})()
    holder.model = model
    holder.set_module_inplace_false(model, 'self.model')
    # torch >= 2.5: _modules is a plain dict and MMRazor's walk stops at the root (before, its
    # walk reaches the activation)
    assert model[0].act.inplace is (TORCH >= (2, 5))
    fresh = nn.Sequential(_Block())  # ours, on a model not walked yet
    assert disable_inplace(fresh) == 1 and fresh[0].act.inplace is False


def _distiller(source, model):
    from mmrazor.registry import MODELS
    distiller = MODELS.build(dict(
        type='SegmentationDistiller',
        student_recorders=dict(feat=dict(type='ModuleOutputs', source=source)),
        teacher_recorders=dict(feat=dict(type='ModuleOutputs', source=source)),
        distill_losses=dict(loss_x=dict(type='PixelFeatureSimilarityLoss')),
        loss_forward_mappings=dict(loss_x=dict(
            feat_S=dict(recorder='feat', from_student=True),
            feat_T=dict(recorder='feat', from_student=False)))))
    distiller.prepare_from_student(model)
    distiller.prepare_from_teacher(model)
    return distiller


def test_recorded_value_equals_module_output_despite_inplace_relu():
    model = _Block()
    distiller = _distiller('conv', model)
    x = torch.randn(1, 2, 4, 4)
    expected = model.conv(x)
    assert (expected < 0).any()  # so an in-place ReLU would change it
    with distiller.student_recorders:
        model(x)
    torch.testing.assert_close(distiller.get_record('feat', True), expected)


def test_record_modified_in_place_later_is_an_error_not_a_wrong_value():
    model = _Residual()
    distiller = _distiller('conv', model)
    with distiller.student_recorders:
        model(torch.randn(1, 2, 4, 4))
    with pytest.raises(RuntimeError, match="student recorder 'feat'.*modified in place"):
        distiller.get_record('feat', True)


@pytest.mark.e2e  # runs the tool (or Python) in a subprocess
def test_the_pinned_setuptools_deprecation_note_is_silenced_unless_asked_for():
    def stderr_of(**env):
        return subprocess.run([sys.executable, '-c', 'import pkg_resources'], text=True,
                              capture_output=True, env=dict(os.environ, **env)).stderr
    assert 'pkg_resources is deprecated' not in stderr_of()
    assert 'pkg_resources is deprecated' in stderr_of(MMSEG_DISTILL_VERBOSE='1')
    assert 'pkg_resources is deprecated' in stderr_of(PYTHONWARNINGS='default')


def test_building_a_model_prints_none_of_mmsegs_per_build_notes(monkeypatch):
    import warnings

    from tiny_pair import STUDENT_CFG

    from mmseg_distill.models import ModelFromConfig
    for verbose, expected in ((None, False), ('1', True)):
        if verbose:
            monkeypatch.setenv('MMSEG_DISTILL_VERBOSE', verbose)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter('always')
            ModelFromConfig(STUDENT_CFG, random_init=True)
        notes = [str(w.message) for w in caught if 'build_loss' in str(w.message)]
        assert bool(notes) == expected
