# CIRKD's protocol (batch 16 on 8 GPUs, 40k iterations), the one the published DSD numbers of this pair
# were trained with (README.md, "Published"); the 4xb2-80k leaf beside it is MMSeg's and MMRazor's protocol
_base_ = ['../_base_/distill/dsd_cirkd.py', '../_base_/pairs/deeplabv3-r101-d8_deeplabv3-r18-d8_8xb2-40k_cityscapes-512x1024.py']
model = dict(
    architecture=_base_.student_model, teacher=_base_.teacher_model,
    teacher_ckpt=_base_.teacher_ckpt)
