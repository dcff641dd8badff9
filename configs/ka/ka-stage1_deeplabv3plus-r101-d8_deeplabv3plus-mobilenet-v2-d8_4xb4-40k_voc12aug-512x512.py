_base_ = ['../_base_/distill/ka_stage1.py', '../_base_/pairs/deeplabv3plus-r101-d8_deeplabv3plus-mobilenet-v2-d8_voc12aug-512x512.py']
model = dict(
    architecture=_base_.student_model, teacher=_base_.teacher_model,
    teacher_ckpt=_base_.teacher_ckpt,
    distiller=dict(connectors=dict(teacher_autoencoder=dict(in_channels=512))))
# stage 1: the auto-encoder for one pass over the training set, stated in data passes so that
# its length does not depend on the GPU count or the batch; source: torchdistill KTAAD stage1
# config (1 epoch, SGD lr 0.1, momentum 0.9, weight decay 1e-4)
optim_wrapper = dict(_delete_=True, type='OptimWrapper',
                     optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=1e-4))
param_scheduler = [dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0, end=1, by_epoch=True,
                        convert_to_iter_based=True)]
train_cfg = dict(_delete_=True, type='EpochBasedTrainLoop', max_epochs=1, val_interval=1)
# an epoch needs a sampler that ends (the pair's InfiniteSampler never does)
train_dataloader = dict(sampler=dict(_delete_=True, type='DefaultSampler', shuffle=True))
default_hooks = dict(checkpoint=dict(by_epoch=True, interval=1))
