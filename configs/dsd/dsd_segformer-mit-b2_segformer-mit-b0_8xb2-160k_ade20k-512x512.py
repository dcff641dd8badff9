# CIRKD's SegFormer form (dsd_cirkd_head.py): PSD over [the decoder's fused feature, the logits],
# CSD on the logits, CIRKD's 1000 / 10 (its SegFormer B4 -> B0 run)
_base_ = ['../_base_/distill/dsd_cirkd_head.py', '../_base_/pairs/segformer-mit-b2_segformer-mit-b0_ade20k-512x512.py']
model = dict(
    architecture=_base_.student_model, teacher=_base_.teacher_model,
    teacher_ckpt=_base_.teacher_ckpt)
