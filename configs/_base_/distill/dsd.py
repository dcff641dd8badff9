# DSD (Feng et al., TIP 2021) in the CIRKD recipe: CE + 1000 * PSD + 10 * CSD, no logit KD.
# PSD compares residual attention maps of three stride-8 maps taken from *several recorders*:
# the auxiliary-head logits, the decode-head feature (input of conv_seg) and the final logits.
# Models without an auxiliary head: use dsd_stages.py (backbone/neck stage outputs) instead.
model = dict(
    _scope_='mmrazor',
    type='SegmentationDistill',
    distiller=dict(
        type='SegmentationDistiller',
        student_recorders=dict(
            aux_logits=dict(type='ModuleOutputs', source='auxiliary_head.conv_seg'),
            head_feat=dict(type='ModuleInputs', source='decode_head.conv_seg'),
            logits=dict(type='ModuleOutputs', source='decode_head.conv_seg')),
        teacher_recorders=dict(
            aux_logits=dict(type='ModuleOutputs', source='auxiliary_head.conv_seg'),
            head_feat=dict(type='ModuleInputs', source='decode_head.conv_seg'),
            logits=dict(type='ModuleOutputs', source='decode_head.conv_seg')),
        distill_losses=dict(
            loss_psd=dict(type='PixelSimilarityLoss', pairs='adjacent', loss_weight=1000.0),
            loss_csd=dict(type='CategorySimilarityLoss', tau=4.0, pool_size=2,
                          normalize_rows=True, loss_weight=10.0)),
        loss_forward_mappings=dict(
            loss_psd=dict(
                feats_S=[
                    dict(recorder='aux_logits', from_student=True),
                    dict(recorder='head_feat', from_student=True, data_idx=0),
                    dict(recorder='logits', from_student=True),
                ],
                feats_T=[
                    dict(recorder='aux_logits', from_student=False),
                    dict(recorder='head_feat', from_student=False, data_idx=0),
                    dict(recorder='logits', from_student=False),
                ]),
            loss_csd=dict(
                preds_S=dict(recorder='logits', from_student=True),
                preds_T=dict(recorder='logits', from_student=False)))))
find_unused_parameters = True
# torch RNG state in checkpoints: --resume continues exactly
custom_hooks = [dict(type='mmrazor.RNGStateHook')]
