"""``mmseg_distill.pairing.runs``: the options a run is given, read back from the config they
make."""
from mmengine.config import Config
from tiny_pair import leaf_config

from mmseg_distill.pairing.runs import schedule_options
from mmseg_distill.pairing.search import parse_options


def test_schedule_options_train_validate_and_checkpoint_once_at_the_end():
    cfg = Config.fromfile(leaf_config('dsd', 'dsd'))
    assert cfg.train_cfg.max_iters != 7  # the options change something
    cfg.merge_from_dict(parse_options(schedule_options(7)))
    assert (cfg.train_cfg.max_iters, cfg.train_cfg.val_interval,
            cfg.default_hooks.checkpoint.interval) == (7, 7, 7)
    end = cfg.param_scheduler[0].end
    cfg.merge_from_dict(parse_options(schedule_options(7, scheduler_end=True)))
    assert cfg.param_scheduler[0].end == 7 and end != 7


def test_a_training_of_several_processes_is_launched_as_the_users_own(monkeypatch):
    from mmseg_distill.pairing.runs import launch_options, with_job_gpus
    assert launch_options(1) == [] and launch_options(0) == []
    assert launch_options(2) == ['--launcher', 'pytorch', '--gpus', '2']
    monkeypatch.setenv('CUDA_VISIBLE_DEVICES', '2,3')  # what run_jobs gave this job
    assert with_job_gpus({'OMP_NUM_THREADS': '1'}) == dict(OMP_NUM_THREADS='1',
                                                           CUDA_VISIBLE_DEVICES='2,3')
    monkeypatch.delenv('CUDA_VISIBLE_DEVICES')
    assert with_job_gpus({'CUDA_VISIBLE_DEVICES': '0'}) == {'CUDA_VISIBLE_DEVICES': '0'}
