_base_ = ['../_base_/distill/cwd.py', '../_base_/pairs/deeplabv3plus-r101-d8_deeplabv3plus-mobilenet-v2-d8_voc12aug-512x512.py']
model = dict(
    architecture=_base_.student_model, teacher=_base_.teacher_model,
    teacher_ckpt=_base_.teacher_ckpt)
