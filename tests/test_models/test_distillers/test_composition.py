"""The rules by which methods compose in one distiller (``model.distiller.compose``)."""
import pytest

from mmseg_distill.models.distillers.composition import (CompositionError, compose_distiller,
                                                         compose_terms)

LOGITS = dict(type='SegLogits')
KD = dict(type='PixelwiseKDLoss', tau=1.0, loss_weight=1.0)
KD_MAPPING = dict(preds_S=dict(recorder='logits', from_student=True),
                  preds_T=dict(recorder='logits', from_student=False))


def kd_terms(**loss):
    return dict(student_recorders=dict(logits=LOGITS), teacher_recorders=dict(logits=LOGITS),
                distill_losses=dict(loss_kd=dict(KD, **loss)),
                loss_forward_mappings=dict(loss_kd=KD_MAPPING))


def csd_terms():
    return dict(student_recorders=dict(logits=LOGITS), teacher_recorders=dict(logits=LOGITS),
                distill_losses=dict(loss_csd=dict(type='CategorySimilarityLoss')),
                loss_forward_mappings=dict(loss_csd=KD_MAPPING))


def test_identical_recorders_are_shared_and_every_loss_is_kept():
    flat = compose_terms(dict(a=kd_terms(), b=csd_terms()))
    assert flat['student_recorders'] == dict(logits=LOGITS)
    assert list(flat['distill_losses']) == ['loss_kd', 'loss_csd']
    assert list(flat['loss_forward_mappings']) == ['loss_kd', 'loss_csd']


def test_the_scope_mmengine_stamps_through_the_package_prefix_does_not_make_entries_differ():
    """A leaf inheriting one method's fragment and another's terms file through
    ``mmseg_distill::`` gets ``_scope_='mmseg_distill'`` on some entries and not on others
    (docs/composition.md's example did); the entries are still the same."""
    stamped = csd_terms()
    stamped['student_recorders'] = dict(logits=dict(LOGITS, _scope_='mmseg_distill'))
    flat = compose_terms(dict(a=kd_terms(), b=stamped))
    assert set(flat['distill_losses']) == {'loss_kd', 'loss_csd'}
    # another scope can resolve the name to another class: still an error
    elsewhere = csd_terms()
    elsewhere['student_recorders'] = dict(logits=dict(LOGITS, _scope_='mmseg'))
    with pytest.raises(CompositionError, match="student_recorders\\['logits'\\], differently"):
        compose_terms(dict(a=kd_terms(), b=elsewhere))


def test_a_loss_defined_by_two_methods_is_an_error_naming_both():
    with pytest.raises(CompositionError, match="'a' and 'b' both define the loss 'loss_kd'"):
        compose_terms(dict(a=kd_terms(), b=kd_terms(tau=4.0)))
    # identical too: a term is distilled once, never silently counted twice or once
    with pytest.raises(CompositionError, match='both define the loss'):
        compose_terms(dict(a=kd_terms(), b=kd_terms()))


def test_a_recorder_of_one_name_recording_different_things_is_an_error():
    other = csd_terms()
    other['student_recorders'] = dict(logits=dict(type='ModuleOutputs', source='x'))
    with pytest.raises(CompositionError, match=r"student_recorders\['logits'\], differently"):
        compose_terms(dict(a=kd_terms(), b=other))


def test_unknown_keys_and_non_dict_terms_are_errors():
    with pytest.raises(CompositionError, match="does not take"):
        compose_terms(dict(a=dict(kd_terms(), custom_hooks=[])))
    with pytest.raises(CompositionError, match='must be a method'):
        compose_terms(dict(a='pixel_kd'))


def test_overrides_merge_onto_the_composed_terms_as_mmengine_merges_a_child():
    distiller = dict(type='SegmentationDistiller', compose=dict(a=kd_terms(), b=csd_terms()),
                     distill_losses=dict(loss_kd=dict(loss_weight=0.5)),
                     student_recorders=dict(_delete_=True, logits=dict(type='SegLogits',
                                                                       source='architecture')))
    flat = compose_distiller(distiller)
    assert 'compose' not in flat and flat['type'] == 'SegmentationDistiller'
    assert flat['distill_losses']['loss_kd'] == dict(KD, loss_weight=0.5)
    assert flat['student_recorders'] == dict(logits=dict(type='SegLogits', source='architecture'))
    # a method removed by the leaf
    removed = compose_distiller(dict(distiller, compose=dict(a=kd_terms(), b=None),
                                     student_recorders=None))
    assert list(removed['distill_losses']) == ['loss_kd']


def test_an_override_of_a_term_no_method_defines_is_an_error():
    with pytest.raises(CompositionError, match=r'distill_losses\.loss_kdd changes an entry'):
        compose_distiller(dict(compose=dict(a=kd_terms()),
                               distill_losses=dict(loss_kdd=dict(loss_weight=2.0))))


def test_a_flat_config_is_returned_as_it_is():
    flat = dict(type='SegmentationDistiller', **kd_terms())
    assert compose_distiller(flat) == flat


def test_the_distiller_builds_composed_terms_and_refuses_a_bad_composition():
    from mmrazor.registry import MODELS

    import mmseg_distill  # noqa: F401
    distiller = MODELS.build(dict(type='SegmentationDistiller',
                                  compose=dict(a=kd_terms(), b=csd_terms()),
                                  distill_losses=dict(loss_csd=dict(loss_weight=3.0))))
    assert list(distiller.distill_losses) == ['loss_kd', 'loss_csd']
    assert distiller.distill_losses['loss_csd'].loss_weight == 3.0
    with pytest.raises(CompositionError, match='both define the loss'):
        MODELS.build(dict(type='SegmentationDistiller',
                          compose=dict(a=kd_terms(), b=kd_terms(tau=2.0))))
