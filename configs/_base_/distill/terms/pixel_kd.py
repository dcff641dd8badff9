# Pixel-wise KD on the logits (baseline of the KA/PFS/AICSD comparisons).
pixel_kd_terms = dict(
    student_recorders=dict(
        logits=dict(type='SegLogits')),
    teacher_recorders=dict(
        logits=dict(type='SegLogits')),
    distill_losses=dict(
        # source: CIRKD's scripts/train_kd/train_{at,cwd,fitnet,ifvd,skd}.sh set
        # --lambda-kd 1.0 on CriterionKD (losses/kd.py: KL summed over classes, mean over
        # pixels, times T^2 = class_reduction='sum'), the logit term beside each of those
        # methods; tau 1 is train_kd.py's default --kd-temperature
        loss_kd=dict(type='PixelwiseKDLoss', tau=1.0, class_reduction='sum',
                     loss_weight=1.0)),
    loss_forward_mappings=dict(
        loss_kd=dict(
            preds_S=dict(recorder='logits', from_student=True),
            preds_T=dict(recorder='logits', from_student=False))))
