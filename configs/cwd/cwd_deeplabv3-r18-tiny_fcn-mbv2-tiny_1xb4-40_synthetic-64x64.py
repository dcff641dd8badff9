_base_ = ['../_base_/distill/cwd.py', '../_base_/pairs/deeplabv3-r18-tiny_fcn-mbv2-tiny_synthetic-64x64.py']
model = dict(
    architecture=_base_.student_model, teacher=_base_.teacher_model,
    teacher_ckpt=_base_.teacher_ckpt)
