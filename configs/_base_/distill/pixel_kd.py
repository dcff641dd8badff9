# Pixel-wise KD on the logits (baseline of the KA/PFS/AICSD comparisons).
model = dict(
    _scope_='mmrazor',
    type='SegmentationDistill',
    distiller=dict(
        type='SegmentationDistiller',
        student_recorders=dict(
            logits=dict(type='SegLogits')),
        teacher_recorders=dict(
            logits=dict(type='SegLogits')),
        distill_losses=dict(
            # source: tau 1 is CIRKD's default --kd-temperature (train_kd.py);
            # uncalibrated: the unit weight is the project's choice (no script sets one)
            loss_kd=dict(type='PixelwiseKDLoss', tau=1.0, loss_weight=1.0)),
        loss_forward_mappings=dict(
            loss_kd=dict(
                preds_S=dict(recorder='logits', from_student=True),
                preds_T=dict(recorder='logits', from_student=False)))))
find_unused_parameters = True
# torch RNG state in checkpoints: --resume continues exactly
custom_hooks = [dict(type='mmrazor.RNGStateHook')]
