# SegFormer MiT-B2 -> SegFormer MiT-B0 on ADE20K, 512x512 crops, 160k iterations (the transformer pair).
# The teacher's weights are MMSeg's published checkpoint (by URL, as MMRazor's CWD configs do).
_base_ = [
    'mmseg::_base_/datasets/ade20k.py',
    '../schedules/segformer_adamw_160k.py',
    'mmseg::_base_/default_runtime.py'
]
custom_imports = dict(imports=['mmseg_distill'], allow_failed_imports=False)
student_model = dict(cfg_path='mmseg::segformer/segformer_mit-b0_8xb2-160k_ade20k-512x512.py', pretrained=False)
teacher_model = dict(cfg_path='mmseg::segformer/segformer_mit-b2_8xb2-160k_ade20k-512x512.py', pretrained=False)
teacher_ckpt = 'https://download.openmmlab.com/mmsegmentation/v0.5/segformer/segformer_mit-b2_512x512_160k_ade20k/segformer_mit-b2_512x512_160k_ade20k_20210726_112103-cbd414ac.pth'  # noqa: E501
# 8 GPUs x 2 images, as SegFormer's MMSeg config
train_dataloader = dict(batch_size=2, num_workers=2)
val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')
# the batch the schedule's lr is set for (MMSeg's SegFormer ADE20K protocol, 8 GPUs x 2 images): `--auto-scale-lr` scales the lr
# linearly to the batch a run really has (GPUs x train_dataloader.batch_size)
auto_scale_lr = dict(enable=False, base_batch_size=16)
