_base_ = ['../_base_/distill/ka_stage1.py', '../_base_/pairs/deeplabv3-r18-tiny_fcn-mbv2-tiny_synthetic-64x64.py']
model = dict(
    architecture=_base_.student_model, teacher=_base_.teacher_model,
    teacher_ckpt=_base_.teacher_ckpt,
    # teacher decode-head feature: ASPP bottleneck, 32 channels
    distiller=dict(connectors=dict(teacher_autoencoder=dict(in_channels=32))))
# source: torchdistill KTAAD stage1 config, SGD lr 0.1 (its weight decay 1e-4 and one epoch are
# the zoo leaves'; the tiny schedule keeps its own)
optim_wrapper = dict(optimizer=dict(lr=0.1))
