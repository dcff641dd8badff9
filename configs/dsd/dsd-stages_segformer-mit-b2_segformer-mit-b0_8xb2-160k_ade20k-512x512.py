# no auxiliary head: PSD on the four MiT stage outputs (one tuple recorder), this project's
# extension (CIRKD's own SegFormer form is the dsd_ leaf: [feature, logits]); CIRKD's 1000 / 10
# from dsd_cirkd.py are uncalibrated for stage maps
_base_ = ['../_base_/distill/dsd_stages.py', '../_base_/pairs/segformer-mit-b2_segformer-mit-b0_ade20k-512x512.py']
model = dict(
    architecture=_base_.student_model, teacher=_base_.teacher_model,
    teacher_ckpt=_base_.teacher_ckpt)
