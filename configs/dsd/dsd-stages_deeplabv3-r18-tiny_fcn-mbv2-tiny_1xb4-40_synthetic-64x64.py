_base_ = ['../_base_/distill/dsd_stages.py', '../_base_/pairs/deeplabv3-r18-tiny_fcn-mbv2-tiny_synthetic-64x64.py']
model = dict(
    architecture=_base_.student_model, teacher=_base_.teacher_model,
    teacher_ckpt=_base_.teacher_ckpt,
    # uncalibrated: CIRKD's 1000 (three stride-8 maps, 64x128 positions) rescaled by 1/P to the
    # largest stage map here (16x16 at stride 4: 1000 * 256 / 8192); PSD on backbone stages is
    # this project's extension, nobody calibrated a weight for it.
    distiller=dict(distill_losses=dict(loss_psd=dict(loss_weight=1000.0 * 256 / 8192))))
