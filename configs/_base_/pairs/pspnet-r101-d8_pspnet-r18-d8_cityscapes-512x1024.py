# PSPNet R101-D8 -> PSPNet R18-D8 on Cityscapes, 512x1024 crops, 80k iterations (MMRazor's CWD pair).
# The teacher's weights are MMSeg's published checkpoint (by URL, as MMRazor's CWD configs do).
_base_ = [
    'mmseg::_base_/datasets/cityscapes.py',
    'mmseg::_base_/schedules/schedule_80k.py',
    'mmseg::_base_/default_runtime.py'
]
custom_imports = dict(imports=['mmseg_distill'], allow_failed_imports=False)
student_model = dict(cfg_path='mmseg::pspnet/pspnet_r18-d8_4xb2-80k_cityscapes-512x1024.py', pretrained=False)
teacher_model = dict(cfg_path='mmseg::pspnet/pspnet_r101-d8_4xb2-80k_cityscapes-512x1024.py', pretrained=False)
teacher_ckpt = 'https://download.openmmlab.com/mmsegmentation/v0.5/pspnet/pspnet_r101-d8_512x1024_80k_cityscapes/pspnet_r101-d8_512x1024_80k_cityscapes_20200606_112211-e1e1100f.pth'  # noqa: E501
val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')
# the batch the schedule's lr is set for (MMRazor's and MMSeg's Cityscapes protocol, 4 GPUs x 2 images): `--auto-scale-lr` scales the lr
# linearly to the batch a run really has (GPUs x train_dataloader.batch_size)
auto_scale_lr = dict(enable=False, base_batch_size=8)
