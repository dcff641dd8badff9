import os.path as osp

from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmrazor.registry import HOOKS

from ..export import export_student


@HOOKS.register_module()
class ExportStudentHook(Hook):
    """After training, write the student-only model-zoo checkpoint of the last checkpoint.

    The file, ``<work_dir>/<out_dir>/<config name>_<YYYYMMDD_HHMMSS>-<sha256[:8]>.pth``, holds
    ``{'meta', 'state_dict'}`` with the ``architecture.`` prefix removed, and
    ``<config name>.py`` beside it is the student's config with the class count the
    distillation used, so plain MMSeg (``init_model``, ``mim test mmseg``) loads and tests it.
    Rank 0 only. A run that does not train its student (KA's stage 1, which trains the
    teacher-side auto-encoder: ``student_trainable=False``) exports nothing: its student is
    the random one it started from.

    Add it to ``default_hooks`` (merged by key, so the fragments' ``custom_hooks`` stay)::

        default_hooks = dict(export_student=dict(type='mmrazor.ExportStudentHook'))

    or on the command line: ``--cfg-options default_hooks.export_student.type=
    mmrazor.ExportStudentHook``. A leaf that lists ``custom_hooks`` itself replaces the
    fragment's list (MMEngine replaces lists): extend it instead,
    ``custom_hooks = _base_.custom_hooks + [...]``.
    """

    priority = 'VERY_LOW'  # after the CheckpointHook has written the last checkpoint

    def __init__(self, out_dir: str = 'student'):
        self.out_dir = out_dir

    def after_run(self, runner) -> None:
        if not is_main_process():
            return
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        if not getattr(model, 'student_trainable', True):
            runner.logger.info('ExportStudentHook: this run does not train the student '
                               '(student_trainable=False, e.g. KA stage 1), nothing exported')
            return
        last = osp.join(runner.work_dir, 'last_checkpoint')
        if not osp.exists(last):
            runner.logger.warning('ExportStudentHook: no checkpoint was saved, nothing exported')
            return
        with open(last) as f:
            checkpoint = f.read().strip()
        name = osp.splitext(osp.basename(runner.cfg.filename or 'student'))[0]
        path, config = export_student(checkpoint, osp.join(runner.work_dir, self.out_dir), name)
        runner.logger.info(f'ExportStudentHook: student checkpoint written to {path}'
                           + (f', its config to {config}' if config else ''))
