"""Every config example of the README and docs/ runs as a user would run it: written to a folder
outside the checkout, loaded with ``Config.fromfile``, its model built (random weights, nothing
downloaded) and trained one step. A documented example cannot break unseen."""
import glob
import os.path as osp
import re

import pytest
from tiny_pair import REPO

import mmseg_distill  # noqa: F401


def config_examples():
    """(where, text) of every ```python block that inherits a ``mmseg_distill::`` file: the
    examples a user copies into a config of their own."""
    found = []
    pages = [osp.join(REPO, 'README.md')] + sorted(glob.glob(osp.join(REPO, 'docs', '*.md'))) + \
        sorted(glob.glob(osp.join(REPO, 'configs', '*', 'README.md')))
    for page in pages:
        with open(page) as f:
            text = f.read()
        for match in re.finditer(r'```python\n(.*?)```', text, re.S):
            block = match.group(1)
            if re.search(r"_base_ = \[?\s*'mmseg_distill::", block):
                line = text[:match.start()].count('\n') + 2
                found.append((f'{osp.relpath(page, REPO)}:{line}', block))
    return found


EXAMPLES = config_examples()


def test_the_docs_have_config_examples():
    where = [w for w, _ in EXAMPLES]
    assert any(w.startswith('README.md') for w in where)
    assert any(w.startswith('docs/composition.md') for w in where)


@pytest.mark.e2e  # builds model-zoo models
@pytest.mark.parametrize('where,text', EXAMPLES, ids=[w for w, _ in EXAMPLES])
def test_a_config_example_builds_and_trains_a_step_from_a_users_folder(tmp_path, where, text):
    from mmengine.config import Config

    from mmseg_distill.pairing.check import build_model_of, one_iteration
    from mmseg_distill.utils.data_check import label_spec
    folder = tmp_path / 'my_configs'  # outside the checkout, as a user's own folder
    folder.mkdir()
    (folder / 'leaf.py').write_text(text)
    cfg = Config.fromfile(str(folder / 'leaf.py'))
    cfg.model.teacher_ckpt = None  # random weights: the example's checkpoint is not here
    model = build_model_of(cfg)
    losses = one_iteration(model, (64, 64), label_spec(model)[0])
    assert losses and all(v == v for v in losses.values()), where  # finite, every term ran
