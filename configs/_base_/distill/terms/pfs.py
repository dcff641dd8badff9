# PFS (Shan et al., arXiv:1910.14226): pixel-wise feature similarities of the decode-head feature
# (input of conv_seg) + weighted soft-prediction imitation on the logits.
pfs_terms = dict(
    student_recorders=dict(
        head_feat=dict(type='SegHeadFeature'),
        logits=dict(type='SegLogits')),
    teacher_recorders=dict(
        head_feat=dict(type='SegHeadFeature'),
        logits=dict(type='SegLogits')),
    distill_losses=dict(
        # uncalibrated: the paper's weights are not public (no code exists); 10 is the
        # project's choice, not a measurement
        loss_pfs=dict(type='PixelFeatureSimilarityLoss', mode='cosine_mse',
                      loss_weight=10.0),
        # uncalibrated: unit weight and tau 1 are the project's choice (plain pixel KD's)
        loss_wsi=dict(type='WeightedSoftImitationLoss', tau=1.0, weighting='gap',
                      loss_weight=1.0)),
    loss_forward_mappings=dict(
        loss_pfs=dict(
            feat_S=dict(recorder='head_feat', from_student=True),
            feat_T=dict(recorder='head_feat', from_student=False)),
        loss_wsi=dict(
            preds_S=dict(recorder='logits', from_student=True),
            preds_T=dict(recorder='logits', from_student=False))))
