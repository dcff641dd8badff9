# AICSD (Mansourian et al., arXiv:2308.04243) in the paper's form: ICSD (KL between the spatial
# distributions of every pair of classes, per image) + pixel KD, under adaptive loss weighting
# L = (1 - a) L_KD + a (L_ICS + L_CE), a = iter / max_iters.
aicsd_terms = dict(
    student_recorders=dict(
        logits=dict(type='SegLogits')),
    teacher_recorders=dict(
        logits=dict(type='SegLogits')),
    distill_losses=dict(
        # source: tau 1 is the official code's temperature (distiller.py, self.temperature).
        # calibration: docs/calibration/aicsd_tiny.json (rule, figures, command)
        loss_icsd=dict(type='InterClassSimilarityLoss', formulation='paper', tau=1.0,
                       loss_weight=84.0),
        # source: official README command --pi_lambda 10 on KLDivLoss() with reduction
        # 'mean' over (b, K, H, W), i.e. 10 on the per-pixel KL divided by K: reproduced by
        # class_reduction='mean' (official strength for any K); tau 1 as distiller.py
        loss_kd=dict(type='PixelwiseKDLoss', tau=1.0, class_reduction='mean',
                     loss_weight=10.0)),
    loss_forward_mappings=dict(
        loss_icsd=dict(
            preds_S=dict(recorder='logits', from_student=True),
            preds_T=dict(recorder='logits', from_student=False)),
        loss_kd=dict(
            preds_S=dict(recorder='logits', from_student=True),
            preds_T=dict(recorder='logits', from_student=False))))
aicsd_hooks = [
    dict(
        type='mmrazor.AdaptiveLossWeightHook',
        falling=['distiller.distill_losses.loss_kd'],
        rising=['distiller.distill_losses.loss_icsd'],
        # the student's whole supervised loss rises, auxiliary heads' CE included: the official
        # model has no auxiliary head, so its L_CE is all of it (project's reading; 'decode_head'
        # keeps auxiliary CE at its fixed weight)
        student_ce='all',
        # source: train_kd.py (commented-out ALW), alpha = epoch / 120: CE starts at weight 0
        floor=0.0)
]
