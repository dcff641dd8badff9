_base_ = ['../_base_/distill/ka_stage1.py', '../_base_/pairs/pspnet-r101-d8_pspnet-r18-d8_cityscapes-512x1024.py']
model = dict(
    architecture=_base_.student_model, teacher=_base_.teacher_model,
    teacher_ckpt=_base_.teacher_ckpt,
    distiller=dict(connectors=dict(teacher_autoencoder=dict(in_channels=512))))
# stage 1: the auto-encoder for about one epoch; source: torchdistill KTAAD stage1 config
# (1 epoch, SGD lr 0.1, momentum 0.9, weight decay 1e-4)
optim_wrapper = dict(_delete_=True, type='OptimWrapper',
                     optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=1e-4))
param_scheduler = [dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0, end=400, by_epoch=False)]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=400, val_interval=400)
default_hooks = dict(checkpoint=dict(interval=400))
