"""The registry of methods states the truth about every shipped form: its fragment's losses,
its relations, its first stage and its leaves."""
import os.path as osp

import pytest
from mmengine.config import Config
from tiny_pair import REPO

from benchmarks.tiny import TINY_PAIR
from mmseg_distill.evidence import RELATIONS
from mmseg_distill.methods import METHODS, all_forms, form_of, stage1_connector, stage1_forms
from mmseg_distill.models.distillers import flat_distiller

FRAGMENTS = osp.join(REPO, 'configs', '_base_', 'distill')


@pytest.mark.parametrize('method,form', all_forms(), ids=lambda x: getattr(x, 'prefix', None)
                         or getattr(x, 'key', None))
def test_each_form_names_its_fragments_losses_relations_and_leaves(method, form):
    cfg = Config.fromfile(osp.join(FRAGMENTS, form.fragment))
    assert tuple(flat_distiller(cfg.model.distiller)['distill_losses']) == form.losses
    # the terms file defines the method's terms under the registry's name, which the
    # fragment composes
    terms = Config.fromfile(osp.join(FRAGMENTS, form.terms))
    assert method.terms_variable in terms
    assert cfg.model.distiller.compose[method.key] == terms[method.terms_variable]
    assert (method.hooks_variable in terms) == form.weight_schedule
    assert set(form.relations) <= set(RELATIONS)
    assert osp.exists(osp.join(REPO, 'configs', form.leaf(method.directory, TINY_PAIR)))
    hooks = [str(h['type']).split('.')[-1] for h in cfg.get('custom_hooks', [])]
    assert form.weight_schedule == ('AdaptiveLossWeightHook' in hooks)
    if form.stage1:
        assert osp.exists(osp.join(REPO, 'configs', form.stage1_leaf(method.directory, TINY_PAIR)))
        stage, connector = stage1_connector(cfg.model.distiller)
        assert stage == form.stage1 and connector.get('mode') == 'encode'
        first = Config.fromfile(osp.join(FRAGMENTS, form.stage1.fragment))
        assert form.stage1.connector in first.model.distiller.connectors
    else:
        assert stage1_connector(cfg.model.distiller) is None
    assert form_of(form.label) == (method, form)


def test_a_methods_default_is_the_form_its_shipped_leaf_distils_and_keys_are_unique():
    for method in METHODS.values():
        # the default form's leaf on the tiny pair inherits the fragment the method names, as
        # the pair tool writes it (a method whose first form is not its shipped recipe fails)
        leaf = osp.join(REPO, 'configs', method.default.leaf(method.directory, TINY_PAIR))
        with open(leaf) as f:
            bases = f.readline()
        assert f"_base_/distill/{method.fragment}'" in bases, (method.key, bases)
    labels = [form.label for _, form in all_forms()]
    prefixes = [form.prefix for _, form in all_forms()]
    assert len(set(labels)) == len(labels) and len(set(prefixes)) == len(prefixes)
    assert stage1_forms() == [(m, f) for m, f in all_forms() if f.stage1]
    with pytest.raises(KeyError, match='no method form is labelled'):
        form_of('DSD (no such form)')
