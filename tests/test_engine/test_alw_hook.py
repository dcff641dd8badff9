import types

import pytest
import torch
from tiny_pair import build_algorithm, load_model_cfg

import mmseg_distill  # noqa: F401
from mmseg_distill.engine.hooks import AdaptiveLossWeightHook, alw_factors


def fake_runner(model, iteration, max_iters=100):
    scalars = {}
    hub = types.SimpleNamespace(update_scalar=lambda k, v: scalars.__setitem__(k, v))
    return types.SimpleNamespace(model=model, iter=iteration, max_iters=max_iters, epoch=0,
                                 max_epochs=1, message_hub=hub, scalars=scalars)


def test_alw_factors_follow_the_paper_schedule():
    assert alw_factors(0.0) == (1.0, 0.0)
    assert alw_factors(0.25) == (0.75, 0.25)
    assert alw_factors(1.0) == (0.0, 1.0)
    assert alw_factors(1.7) == (0.0, 1.0)
    assert alw_factors(0.05, floor=0.1) == (0.95, 0.1)


def _aicsd_hook_and_model():
    cfg = load_model_cfg('aicsd', 'aicsd')
    model = build_algorithm(cfg)
    hook = AdaptiveLossWeightHook(
        falling=['distiller.distill_losses.loss_kd'],
        rising=['distiller.distill_losses.loss_icsd', 'architecture.decode_head.loss_decode'])
    return hook, model


def test_hook_rescales_named_losses_from_their_built_weights():
    hook, model = _aicsd_hook_and_model()
    losses = model.distiller.distill_losses
    kd, icsd = losses['loss_kd'], losses['loss_icsd']
    ce = model.architecture.decode_head.loss_decode
    base = (kd.loss_weight, icsd.loss_weight, ce.loss_weight)
    runner = fake_runner(model, 0)
    hook.before_train(runner)
    for iteration, a in [(0, 0.0), (30, 0.3), (100, 1.0), (30, 0.3)]:
        runner.iter = iteration
        hook.before_train_iter(runner, 0)
        assert kd.loss_weight == pytest.approx(base[0] * (1 - a))
        assert icsd.loss_weight == pytest.approx(base[1] * a)
        assert ce.loss_weight == pytest.approx(base[2] * a)
        assert runner.scalars['train/alw_rising_factor'] == pytest.approx(a)


def test_resumed_hook_gives_the_weights_of_an_uninterrupted_run():
    hook, model = _aicsd_hook_and_model()
    runner = fake_runner(model, 0)
    hook.before_train(runner)
    for iteration in range(0, 41):
        runner.iter = iteration
        hook.before_train_iter(runner, 0)
    continuing = model.distiller.distill_losses['loss_kd'].loss_weight
    fresh_hook, fresh_model = _aicsd_hook_and_model()  # a new process after --resume
    fresh_runner = fake_runner(fresh_model, 40)
    fresh_hook.before_train(fresh_runner)
    fresh_hook.before_train_iter(fresh_runner, 0)
    assert fresh_model.distiller.distill_losses['loss_kd'].loss_weight == continuing


def test_unknown_path_names_closest_modules_and_weightless_module_is_rejected():
    _, model = _aicsd_hook_and_model()
    with pytest.raises(KeyError, match='distiller.distill_losses.loss_kd'):
        AdaptiveLossWeightHook(falling=['distiller.distill_losses.loss_k']).before_train(
            fake_runner(model, 0))
    with pytest.raises(ValueError, match="no 'loss_weight'"):
        AdaptiveLossWeightHook(rising=['architecture.backbone']).before_train(
            fake_runner(model, 0))
    with pytest.raises(ValueError, match='at least one'):
        AdaptiveLossWeightHook()


def _student_ce_modules(model):
    student = model.architecture
    return student.decode_head.loss_decode, student.auxiliary_head.loss_decode


@pytest.mark.parametrize('student_ce, aux_rises', [('all', True), ('decode_head', False)])
def test_student_ce_choice_schedules_auxiliary_heads_or_not(student_ce, aux_rises):
    cfg = load_model_cfg('aicsd', 'aicsd')
    model = build_algorithm(cfg)
    decode_ce, aux_ce = _student_ce_modules(model)
    base_decode, base_aux = decode_ce.loss_weight, aux_ce.loss_weight
    assert (base_decode, base_aux) == (1.0, 0.4)  # the tiny student's own CE weights
    hook = AdaptiveLossWeightHook(falling=['distiller.distill_losses.loss_kd'],
                                  rising=['distiller.distill_losses.loss_icsd'],
                                  student_ce=student_ce)
    runner = fake_runner(model, 25)
    hook.before_train(runner)
    hook.before_train_iter(runner, 0)
    assert decode_ce.loss_weight == pytest.approx(base_decode * 0.25)
    assert aux_ce.loss_weight == pytest.approx(base_aux * 0.25 if aux_rises else base_aux)


def test_the_aicsd_recipes_schedule_the_whole_student_ce():
    """The paper's method (both ICSD forms) schedules it; the official README command trains
    no ALW (its code is commented out in train_kd.py)."""
    from mmengine.config import Config
    from tiny_pair import leaf_config
    for name, scheduled in (('aicsd', True), ('aicsd-official-icsd', True),
                            ('aicsd-official', False)):
        hooks = Config.fromfile(leaf_config('aicsd', name)).custom_hooks
        alw = [h for h in hooks if h['type'].endswith('AdaptiveLossWeightHook')]
        if scheduled:
            assert len(alw) == 1 and alw[0]['student_ce'] == 'all', name
        else:
            assert not alw, name


def test_student_ce_rejects_unknown_choices_and_students_without_heads():
    from mmseg_distill.engine.hooks.adaptive_loss_weight_hook import student_ce_paths
    with pytest.raises(ValueError, match='student_ce'):
        AdaptiveLossWeightHook(falling=['x'], student_ce='aux')
    with pytest.raises(ValueError, match='no head'):
        student_ce_paths(torch.nn.Module(), 'all')
