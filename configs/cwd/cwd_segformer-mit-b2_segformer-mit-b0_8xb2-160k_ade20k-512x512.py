_base_ = ['../_base_/distill/cwd.py', '../_base_/pairs/segformer-mit-b2_segformer-mit-b0_ade20k-512x512.py']
model = dict(
    architecture=_base_.student_model, teacher=_base_.teacher_model,
    teacher_ckpt=_base_.teacher_ckpt)
