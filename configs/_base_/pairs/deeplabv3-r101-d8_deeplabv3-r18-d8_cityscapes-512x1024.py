# DeepLabV3 R101-D8 -> DeepLabV3 R18-D8 on Cityscapes, 512x1024 crops, in MMSeg's and MMRazor's Cityscapes
# protocol (4 GPUs x 2 images, 80k iterations, SGD lr 0.01). CIRKD reports on this pair in its own protocol:
# deeplabv3-r101-d8_deeplabv3-r18-d8_8xb2-40k_cityscapes-512x1024.py beside this file.
# The teacher's weights are MMSeg's published checkpoint (by URL, as MMRazor's CWD configs do).
_base_ = [
    'mmseg::_base_/datasets/cityscapes.py',
    'mmseg::_base_/schedules/schedule_80k.py',
    'mmseg::_base_/default_runtime.py'
]
custom_imports = dict(imports=['mmseg_distill'], allow_failed_imports=False)
student_model = dict(cfg_path='mmseg::deeplabv3/deeplabv3_r18-d8_4xb2-80k_cityscapes-512x1024.py', pretrained=False)
teacher_model = dict(cfg_path='mmseg::deeplabv3/deeplabv3_r101-d8_4xb2-80k_cityscapes-512x1024.py', pretrained=False)
teacher_ckpt = 'https://download.openmmlab.com/mmsegmentation/v0.5/deeplabv3/deeplabv3_r101-d8_512x1024_80k_cityscapes/deeplabv3_r101-d8_512x1024_80k_cityscapes_20200606_113503-9e428899.pth'  # noqa: E501
val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')
# the batch the schedule's lr is set for (MMRazor's and MMSeg's Cityscapes protocol, 4 GPUs x 2 images): `--auto-scale-lr` scales the lr
# linearly to the batch a run really has (GPUs x train_dataloader.batch_size)
auto_scale_lr = dict(enable=False, base_batch_size=8)
