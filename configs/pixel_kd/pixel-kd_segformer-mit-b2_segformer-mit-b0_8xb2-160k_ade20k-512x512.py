_base_ = [
    '../_base_/distill/pixel_kd.py',
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
    teacher_ckpt=teacher_ckpt)
# SegFormer's own schedule (AdamW, warm-up, head lr x10), as in its MMSeg config
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=0.00006, betas=(0.9, 0.999), weight_decay=0.01),
    paramwise_cfg=dict(
        custom_keys={
            'pos_block': dict(decay_mult=0.),
            'norm': dict(decay_mult=0.),
            'head': dict(lr_mult=10.)
        }))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0, end=1500),
    dict(type='PolyLR', eta_min=0.0, power=1.0, begin=1500, end=160000, by_epoch=False)
]
train_dataloader = dict(batch_size=2, num_workers=2)
val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')
