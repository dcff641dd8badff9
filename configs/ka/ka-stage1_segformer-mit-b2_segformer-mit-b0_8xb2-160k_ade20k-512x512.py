_base_ = [
    '../_base_/distill/ka_stage1.py',
    'mmseg::_base_/datasets/ade20k.py',
    'mmseg::_base_/schedules/schedule_160k.py',
    'mmseg::_base_/default_runtime.py'
]
custom_imports = dict(imports=['mmseg_distill'], allow_failed_imports=False)
teacher_ckpt = 'https://download.openmmlab.com/mmsegmentation/v0.5/segformer/segformer_mit-b2_512x512_160k_ade20k/segformer_mit-b2_512x512_160k_ade20k_20210726_112103-cbd414ac.pth'  # noqa: E501
model = dict(
    architecture=dict(
        cfg_path='mmseg::segformer/segformer_mit-b0_8xb2-160k_ade20k-512x512.py',
        pretrained=False),
    teacher=dict(
        cfg_path='mmseg::segformer/segformer_mit-b2_8xb2-160k_ade20k-512x512.py',
        pretrained=False),
    teacher_ckpt=teacher_ckpt,
    distiller=dict(connectors=dict(teacher_autoencoder=dict(in_channels=256))))
# stage 1 trains the auto-encoder for about one epoch at lr 0.1 (paper)
optim_wrapper = dict(_delete_=True, type='OptimWrapper',
                     optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=1e-4))
param_scheduler = [dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0, end=1300, by_epoch=False)]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=1300, val_interval=1300)
default_hooks = dict(checkpoint=dict(interval=1300))
val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')
