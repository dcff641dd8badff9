_base_ = ['../_base_/distill/dsd_stages.py', '../_base_/pairs/fpn-r18-tiny_fpn-mbv2-tiny_synthetic-64x64.py']
model = dict(
    architecture=_base_.student_model, teacher=_base_.teacher_model,
    teacher_ckpt=_base_.teacher_ckpt,
    distiller=dict(
        # the neck switch: PSD on the FPN outputs instead of the backbone stages
        student_recorders=dict(stages=dict(source='neck')),
        teacher_recorders=dict(stages=dict(source='neck')),
        # uncalibrated: CIRKD's 1000 (three stride-8 maps, 64x128 positions) rescaled by 1/P to
        # the 16x16 FPN maps here; PSD on neck outputs is this project's extension.
        distill_losses=dict(loss_psd=dict(loss_weight=1000.0 * 256 / 8192))))
# Tiny CPU pair with FPN necks. Pass the trained teacher with
# --cfg-options model.teacher_ckpt=<teacher .pth>
