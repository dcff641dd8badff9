"""The README's "Distil your own pair", run exactly as written: a pair the repository does not
ship (a teacher config of the user's own over their data, a model-zoo student), from the pair
tool to a student that plain MMSeg tests."""
import json
import os
import os.path as osp
import re
import subprocess
import sys

import pytest
from tiny_pair import REPO

pytestmark = pytest.mark.e2e


def walkthrough_commands():
    with open(osp.join(REPO, 'README.md')) as f:
        text = f.read()
    block = re.search(r'<!-- own-pair-walkthrough -->\n```bash\n(.*?)```', text, re.S)
    assert block, 'the README lost its walkthrough block'
    return block.group(1)


def test_the_readme_walkthrough_runs_from_a_fresh_folder(tmp_path):
    # the commands use repository-relative paths: a folder with the repository's tools and
    # configs, where everything they write stays
    for name in ('tools', 'configs'):  # the user's own configs go to my_configs/
        os.symlink(osp.join(REPO, name), tmp_path / name)
    script = tmp_path / 'walkthrough.sh'
    script.write_text('set -euo pipefail\n' + walkthrough_commands())
    # one thread in every process, as torchrun gives each rank, so `mim test` runs the same
    # kernels as the run's validation and the two mIoUs can be compared digit for digit
    env = dict(os.environ, PATH=osp.dirname(sys.executable) + os.pathsep + os.environ['PATH'],
               PYTHONUNBUFFERED='1', OMP_NUM_THREADS='1')
    out = subprocess.run(['bash', str(script)], cwd=tmp_path, capture_output=True, text=True,
                         env=env, timeout=1800)
    log = out.stdout + out.stderr
    assert out.returncode == 0, log[-5000:]
    # every mask of yours checked, every term's share printed, none dead, the leaf trained once
    assert '[data] scanned all 200 training masks' in out.stdout
    assert '| loss_psd |' in out.stdout and '| loss_csd |' in out.stdout
    assert 'every term between the band edges' in out.stdout
    # a SyncBN zoo student in two CPU processes, distilled and as the baseline
    assert log.count('DeviceAgnosticDDP: no CUDA, so the SyncBatchNorm layers') == 2
    own = tmp_path / 'work_dirs' / 'own'
    assert (own / 'dsd' / 'iter_40.pth').exists() and (own / 'baseline' / 'iter_40.pth').exists()
    # plain MMSeg tested the exported student with the mIoU the distillation run validated
    val = re.findall(r'Iter\(val\) .*? mIoU: ([0-9.]+)', log)
    test = re.findall(r'Iter\(test\) .*? mIoU: ([0-9.]+)', log)
    # every rank validates with rank 0's running statistics, the ones the checkpoint carries
    assert test and val and test[-1] == val[-2]  # the last validation is the baseline's
    # every relation both students allow, PSD included (Fast-SCNN has a list of aux heads)
    with open(own / 'transfer' / 'transfer.json') as f:
        transfer = json.load(f)
    for student in ('baseline', 'distilled'):
        assert {'logit_kl', 'agreement', 'psd', 'csd', 'pfs', 'icsd'} <= set(transfer[student])
    assert 'Not measured:' in out.stdout and '- psd' not in out.stdout
    # what the stack's pinned setuptools says at every import, the project silences
    assert 'pkg_resources is deprecated' not in log
