_base_ = ['../_base_/distill/dsd_paper.py', '../_base_/pairs/deeplabv3-r18-tiny_fcn-mbv2-tiny_synthetic-64x64.py']
model = dict(
    architecture=_base_.student_model, teacher=_base_.teacher_model,
    teacher_ckpt=_base_.teacher_ckpt,
    # calibration: 1/P rescaling to 8x8 maps, docs/calibration/dsd-psd_tiny.json
    distiller=dict(distill_losses=dict(loss_psd=dict(loss_weight=998.0 * 64 / 8192))))
