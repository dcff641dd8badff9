"""MMRazor's algorithm contract: every switch of ``SingleTeacherDistill`` behaves the same in
``SegmentationDistill`` (checked against MMRazor's own algorithm on the same weights and random
stream), or the difference is stated here with its reason."""
import copy
import warnings

import pytest
import torch
from mmengine.config import Config
from mmrazor.registry import MODELS
from tiny_pair import fake_batch, load_model_cfg

import mmseg_distill  # noqa: F401

# Same-valued runs: our algorithm with MMRazor's defaults (teacher_eval=False, the plain
# mode='loss' teacher path) against MMRazor's SingleTeacherDistill.
AS_MMRAZOR = dict(teacher_eval=False, teacher_fast_path=False)


def build_pair_of_algorithms(method_dir='pixel_kd', name='pixel-kd', **switches):
    cfg = load_model_cfg(method_dir, name)
    cfg.update(switches)
    ours_cfg = copy.deepcopy(cfg)
    ours_cfg.update(AS_MMRAZOR)
    theirs_cfg = copy.deepcopy(cfg)
    theirs_cfg.type = 'mmrazor.SingleTeacherDistill'
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        ours, theirs = MODELS.build(ours_cfg), MODELS.build(theirs_cfg)
    theirs.load_state_dict(ours.state_dict())
    return ours, theirs


def losses_of(model, seed=0):
    torch.manual_seed(seed)
    model.train()
    return model.loss(*fake_batch())


def assert_same_losses(ours, theirs):
    a, b = losses_of(ours), losses_of(theirs)
    assert set(a) == set(b)
    for key in a:
        torch.testing.assert_close(a[key], b[key], msg=key)


def test_default_switches_give_mmrazors_losses():
    assert_same_losses(*build_pair_of_algorithms())


@pytest.mark.parametrize('switches', [dict(calculate_student_loss=False),
                                      dict(calculate_student_loss=False,
                                           student_trainable=False),
                                      dict(teacher_trainable=True)],
                         ids=['no-student-loss', 'student-frozen', 'teacher-trainable'])
def test_each_switch_gives_mmrazors_losses_and_gradients(switches):
    ours, theirs = build_pair_of_algorithms(**switches)
    a, b = losses_of(ours), losses_of(theirs)
    assert set(a) == set(b)
    if switches.get('teacher_trainable'):
        assert any(k.startswith('teacher.') for k in a)
    if switches.get('calculate_student_loss') is False:
        assert not any(k.startswith('student.') for k in a)
    if switches.get('student_trainable') is False:  # nothing to train in either
        assert not any(v.requires_grad for v in list(a.values()) + list(b.values()))
        return
    for model, values in ((ours, a), (theirs, b)):
        sum(v for k, v in values.items() if 'loss' in k).backward()
    for (name, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert (p.grad is None) == (q.grad is None), name
        if p.grad is not None:
            torch.testing.assert_close(p.grad, q.grad, msg=name)


@pytest.mark.parametrize('norm_eval', [True, False])
def test_teacher_norm_eval_as_mmrazor(norm_eval):
    ours, theirs = build_pair_of_algorithms(teacher_norm_eval=norm_eval)
    for model in (ours, theirs):
        model.train()
        bn = [m for m in model.teacher.modules() if isinstance(m, torch.nn.BatchNorm2d)]
        dropout = [m for m in model.teacher.modules() if isinstance(m, torch.nn.Dropout2d)]
        assert all(m.training != norm_eval for m in bn)
        assert dropout and all(m.training for m in dropout)
    # the project's default on top: the whole frozen teacher in eval mode
    default = MODELS.build(load_model_cfg('pixel_kd', 'pixel-kd'))
    default.train()
    assert not any(m.training for m in default.teacher.modules())


@pytest.mark.parametrize('inplace', [False, True])
def test_teacher_module_inplace_switch(inplace):
    cfg = load_model_cfg('pixel_kd', 'pixel-kd')
    cfg.teacher_module_inplace = inplace
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        model = MODELS.build(cfg)
    relus = [m for m in model.teacher.modules() if isinstance(m, torch.nn.ReLU)]
    assert relus and all(m.inplace == inplace for m in relus)
    # the student's records must be what its modules returned: never in place (project's)
    assert not any(getattr(m, 'inplace', False) for m in model.student.modules())


def delivery_cfg():
    # the teacher's classifier outputs (decode and auxiliary head) replace the student's
    return dict(logits=dict(type='MethodOutputs', max_keep_data=2,
                            method_path='mmseg.models.decode_heads.decode_head.'
                                        'BaseDecodeHead.cls_seg'))


def test_deliveries_as_mmrazor_and_the_fast_path_steps_aside():
    ours, theirs = build_pair_of_algorithms(
        distiller=dict(distill_deliveries=delivery_cfg()))
    assert 'deliveries' in ours.teacher_side.fast_path_blocker
    assert_same_losses(ours, theirs)
    # the student's logits are the teacher's: the delivered values
    losses_of(ours)
    torch.testing.assert_close(ours.distiller.get_record('logits', True),
                               ours.distiller.get_record('logits', False))


def count_teacher_runs(model):
    calls = []
    model.teacher.backbone.register_forward_hook(lambda *args: calls.append(1))
    return calls


def test_stopped_distillation_computes_no_distill_loss_and_skips_the_teacher():
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        model = MODELS.build(load_model_cfg('pfs', 'pfs'))
    calls = count_teacher_runs(model)
    assert any(k.startswith('distill.') for k in losses_of(model)) and len(calls) == 1
    model.distillation_stopped = True
    losses = losses_of(model)
    assert not any(k.startswith('distill.') for k in losses)
    assert any(k.startswith('student.') for k in losses) and len(calls) == 1
    # MMRazor's algorithm computes the same losses once stopped (their values differ only
    # through the random stream: MMRazor's teacher still runs, its dropout drawing numbers)
    ours, theirs = build_pair_of_algorithms('pfs', 'pfs')
    ours.distillation_stopped = theirs.distillation_stopped = True
    assert set(losses_of(ours)) == set(losses_of(theirs))


def test_stopped_distillation_still_runs_the_teacher_for_deliveries():
    cfg = load_model_cfg('pixel_kd', 'pixel-kd')
    cfg.distiller.distill_deliveries = delivery_cfg()
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        model = MODELS.build(cfg)
    model.distillation_stopped = True
    calls = count_teacher_runs(model)
    losses_of(model)
    assert len(calls) == 1


def test_untrained_unrecorded_student_is_not_run_where_mmrazor_runs_it():
    """The one difference (KA stage 1): MMRazor runs such a student under no_grad, which only
    updates its BatchNorm statistics; nothing reads them (stage 2 starts a new student)."""
    cfg = load_model_cfg('ka', 'ka-stage1')
    ours, theirs = build_pair_of_algorithms('ka', 'ka-stage1')
    assert not ours.student_trainable and not ours.calculate_student_loss
    assert not ours.distiller.student_recorders.recorders
    before = copy.deepcopy(ours.student.state_dict())
    losses_of(ours), losses_of(theirs)
    ours_after, theirs_after = ours.student.state_dict(), theirs.student.state_dict()
    moved = [k for k in before if 'running_mean' in k and
             not torch.equal(before[k], theirs_after[k])]
    assert moved, 'MMRazor updates the untrained student\'s BatchNorm statistics'
    assert all(torch.equal(before[k], ours_after[k]) for k in before)
    assert cfg.calculate_student_loss is False


def test_stop_distill_hook_through_a_real_runner(tmp_path):
    """MMRazor's StopDistillHook in a real (epoch-based) run: epoch 0 distils, epoch 1 trains
    the student alone and never runs the teacher."""
    from mmengine.hooks import Hook
    from mmengine.runner import Runner
    from tiny_pair import leaf_config

    cfg = Config.fromfile(leaf_config('pixel_kd', 'pixel-kd'))
    cfg.work_dir = str(tmp_path / 'work')
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.data_root = str(tmp_path / 'data')
        cfg[loader].dataset.generator = dict(num_train=8, num_val=2, size=64, seed=0)
    cfg.train_dataloader.sampler = dict(type='DefaultSampler', shuffle=True)
    cfg.train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=2, val_interval=10)
    cfg.param_scheduler = []
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=1)
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=10)
    cfg.default_hooks.visualization.draw = False
    cfg.log_processor = dict(by_epoch=True)
    cfg.custom_hooks = cfg.custom_hooks + [dict(type='mmrazor.StopDistillHook', stop_epoch=1)]

    class Watch(Hook):  # teacher runs and logged losses of each training iteration
        def before_train(self, runner):
            self.calls, self.keys, self.in_step = [], {}, False

            def count(*args):
                if self.in_step:
                    self.calls.append(runner.epoch)

            runner.model.teacher.backbone.register_forward_hook(count)

        def before_train_iter(self, runner, batch_idx, data_batch=None):
            self.in_step = True

        def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
            self.in_step = False
            self.keys.setdefault(runner.epoch, set()).update(outputs)

    runner = Runner.from_cfg(cfg)
    watch = Watch()
    runner.register_hook(watch)
    runner.train()
    assert watch.calls == [0, 0]  # two iterations of epoch 0; none in epoch 1
    assert any(k.startswith('distill.') for k in watch.keys[0])
    assert not any(k.startswith('distill.') for k in watch.keys[1])
    assert any(k.startswith('student.') for k in watch.keys[1])
