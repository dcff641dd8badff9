# What every distillation fragment runs with; each root fragment inherits it.
# Multi-process training (--launcher pytorch / slurm): MMEngine's DDP wrapper, which also runs
# on CPU-only machines (SyncBN as BatchNorm there); unused parameters are expected (e.g.
# teacher-side connectors).
model_wrapper_cfg = dict(type='mmrazor.DeviceAgnosticDDP', broadcast_buffers=False,
                         find_unused_parameters=True)
# the random state in checkpoints, untouched by validation: --resume continues exactly
custom_hooks = [dict(type='mmrazor.RNGStateHook')]
