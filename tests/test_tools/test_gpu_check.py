"""tools/gpu_check.sh runs end to end on the CPU (the same code path the GPU run takes)."""
import json
import os
import os.path as osp
import subprocess

import pytest
from tiny_pair import REPO

pytestmark = pytest.mark.e2e


# on CPU the forms that tests/test_tools/test_mim_train.py does not train already (each code
# path trained once), and the first form, whose student the export check exports; on a GPU
# the script trains every form (its default)
FORMS = ['pixel_kd/pixel-kd', 'aicsd/aicsd-official-icsd', 'ka/ka-stage2-paper']


def test_the_gpu_check_trains_every_form_unless_told_otherwise():
    import sys

    from mmseg_distill.methods import all_forms

    # unwrapped (argparse wraps at hyphens, inside a form's name)
    out = subprocess.run([sys.executable, osp.join(REPO, 'tools/gpu_check.py'), '--help'],
                         capture_output=True, text=True, timeout=300,
                         env=dict(os.environ, COLUMNS='2000'))
    text = ' '.join(out.stdout.split())
    assert out.returncode == 0 and 'default: every form:' in text
    listed = text.split('default: every form:')[1].split(')')[0].split()
    assert listed == [f'{m.directory}/{f.prefix}' for m, f in all_forms()]
    assert set(FORMS) <= set(listed)


def test_gpu_check_passes_on_cpu_and_writes_its_report(tmp_path):
    out = tmp_path / 'check'
    report = tmp_path / 'report.md'
    result = subprocess.run(['bash', osp.join(REPO, 'tools/gpu_check.sh'), '--device', 'cpu',
                             '--out', str(out), '--iters', '4', '--report', str(report),
                             '--forms'] + FORMS,
                            capture_output=True, text=True, timeout=1200,
                            env=dict(os.environ, PYTHONWARNINGS='ignore'))
    assert result.returncode == 0, (result.stdout[-4000:], result.stderr[-3000:])
    with open(out / 'gpu_validation.json') as f:
        summary = json.load(f)
    checks = {row['check']: row for row in summary['checks']}
    assert all(row['result'] == 'PASS' for row in checks.values()), checks
    # the forms asked for through mim (KA with both stages) and the --amp run, resume, export,
    # loss tests
    forms = [f'mim train mmrazor {form}' for form in FORMS]
    assert set(forms) | {'mim train mmrazor --amp'} == \
        {name for name in checks if name.startswith('mim train mmrazor')}
    assert any('resumed' in name for name in checks)
    assert any('mim test mmseg' in name for name in checks)
    losses = checks['loss values and gradients vs CPU float64 '
                    '(tests/test_models/test_losses/test_device_losses.py)']
    assert 'passed' in losses['figure'] and 'failed' not in losses['figure']
    assert summary['info']['device'] == 'cpu' and summary['info']['torch']
    text = report.read_text()
    assert '| check | result | figure | seconds |' in text and 'FAIL' not in text
