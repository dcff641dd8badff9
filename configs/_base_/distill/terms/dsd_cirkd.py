# DSD (Feng et al., TIP 2021) exactly as CIRKD re-implements it (winycg/CIRKD, losses/dsd.py +
# train_kd.py + scripts/train_kd/train_dsd.sh): CE + 1000 * PSD + 10 * CSD, no logit KD.
# PSD: residual attention maps over EVERY pair l < m of three stride-8 maps, in CIRKD's order
# [auxiliary-head logits, the decode head's last feature (input of the classifier), logits];
# CSD: 2x2 average pooling (ceil mode), softmax over positions at tau 4, NO row normalisation.
# CIRKD keeps these weights at every resolution (its SegFormer run at 1024x1024 crops too).
# Other model families in CIRKD's own forms: dsd_cirkd_head.py (no auxiliary heads: SegFormer's
# [feature, logits]) and dsd_cirkd_student_no_aux.py (student without one: [logits, feature,
# logits]); dsd_stages.py is this project's extension to backbone/neck stage maps.
dsd_terms = dict(
    student_recorders=dict(
        aux_logits=dict(type='ModuleOutputs', source='auxiliary_head.conv_seg'),
        head_feat=dict(type='SegHeadFeature'),
        logits=dict(type='SegLogits')),
    teacher_recorders=dict(
        aux_logits=dict(type='ModuleOutputs', source='auxiliary_head.conv_seg'),
        head_feat=dict(type='SegHeadFeature'),
        logits=dict(type='SegLogits')),
    distill_losses=dict(
        # source: CIRKD scripts/train_kd/train_dsd.sh, --lambda-psd 1000. (the same for its
        # DeepLabV3 runs at 512x1024 and its SegFormer run at 1024x1024); pairs 'all' as
        # losses/dsd.py
        loss_psd=dict(type='PixelSimilarityLoss', pairs='all', loss_weight=1000.0),
        # source: CIRKD train_dsd.sh --lambda-csd 10.; tau 4 and the 2x2 ceil-mode pooling
        # from CIRKD losses/dsd.py CriterionCSD, which does not normalise rows
        loss_csd=dict(type='CategorySimilarityLoss', tau=4.0, pool_size=2,
                      normalize_rows=False, loss_weight=10.0)),
    loss_forward_mappings=dict(
        loss_psd=dict(
            feats_S=[
                dict(recorder='aux_logits', from_student=True),
                dict(recorder='head_feat', from_student=True),
                dict(recorder='logits', from_student=True),
            ],
            feats_T=[
                dict(recorder='aux_logits', from_student=False),
                dict(recorder='head_feat', from_student=False),
                dict(recorder='logits', from_student=False),
            ]),
        loss_csd=dict(
            preds_S=dict(recorder='logits', from_student=True),
            preds_T=dict(recorder='logits', from_student=False))))
