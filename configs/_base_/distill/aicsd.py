# AICSD (Mansourian et al., arXiv:2308.04243): ICSD (tau 1, weight 9500) + pixel KD (tau 1,
# weight 10) under adaptive loss weighting: L = (1 - a) L_KD + a (L_ICS + L_CE), a = iter /
# max_iters. Weights inferred from the official README command.
model = dict(
    _scope_='mmrazor',
    type='SegmentationDistill',
    distiller=dict(
        type='SegmentationDistiller',
        student_recorders=dict(
            logits=dict(type='ModuleOutputs', source='decode_head.conv_seg')),
        teacher_recorders=dict(
            logits=dict(type='ModuleOutputs', source='decode_head.conv_seg')),
        distill_losses=dict(
            loss_icsd=dict(type='InterClassSimilarityLoss', tau=1.0, loss_weight=9500.0),
            loss_kd=dict(type='PixelwiseKDLoss', tau=1.0, loss_weight=10.0)),
        loss_forward_mappings=dict(
            loss_icsd=dict(
                preds_S=dict(recorder='logits', from_student=True),
                preds_T=dict(recorder='logits', from_student=False)),
            loss_kd=dict(
                preds_S=dict(recorder='logits', from_student=True),
                preds_T=dict(recorder='logits', from_student=False)))))
find_unused_parameters = True
custom_hooks = [
    # torch RNG state in checkpoints: --resume continues exactly
    dict(type='mmrazor.RNGStateHook'),
    dict(
        type='mmrazor.AdaptiveLossWeightHook',
        falling=['distiller.distill_losses.loss_kd'],
        rising=['distiller.distill_losses.loss_icsd', 'architecture.decode_head.loss_decode'],
        floor=0.0)
]
