_base_ = ['../_base_/distill/dist.py', '../_base_/pairs/pspnet-r101-d8_pspnet-r18-d8_cityscapes-512x1024.py']
model = dict(
    architecture=_base_.student_model, teacher=_base_.teacher_model,
    teacher_ckpt=_base_.teacher_ckpt)
