# DeepLabV3+ R101-D8 -> DeepLabV3+ MobileNetV2-D8 on Pascal VOC aug, 512x512 crops, 40k iterations (the AICSD pair).
# The teacher's weights are MMSeg's published checkpoint (by URL, as MMRazor's CWD configs do).
_base_ = [
    'mmseg::_base_/datasets/pascal_voc12_aug.py',
    'mmseg::_base_/schedules/schedule_40k.py',
    'mmseg::_base_/default_runtime.py'
]
custom_imports = dict(imports=['mmseg_distill'], allow_failed_imports=False)
student_model = dict(
    type='ModelFromConfig',
    cfg_path='{{ fileDirname }}/../../students/deeplabv3plus_mobilenet-v2-d8_4xb4-40k_voc12aug-512x512.py')
teacher_model = dict(
    cfg_path='mmseg::deeplabv3plus/deeplabv3plus_r101-d8_4xb4-40k_voc12aug-512x512.py',
    pretrained=False)
teacher_ckpt = 'https://download.openmmlab.com/mmsegmentation/v0.5/deeplabv3plus/deeplabv3plus_r101-d8_512x512_40k_voc12aug/deeplabv3plus_r101-d8_512x512_40k_voc12aug_20200613_205333-faf03387.pth'  # noqa: E501
val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')
# the batch the schedule's lr is set for (MMSeg's VOC aug protocol, 4 GPUs x 4 images): `--auto-scale-lr` scales the lr
# linearly to the batch a run really has (GPUs x train_dataloader.batch_size)
auto_scale_lr = dict(enable=False, base_batch_size=16)
