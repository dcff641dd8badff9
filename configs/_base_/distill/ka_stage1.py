# KA stage 1 (He et al., CVPR 2019): train the auto-encoder on the frozen teacher's decode-head
# feature (input of conv_seg). The student is neither trained nor evaluated for its CE here.
# Leaf configs set `in_channels` of the auto-encoder to the teacher feature's channels.
model = dict(
    _scope_='mmrazor',
    type='SegmentationDistill',
    calculate_student_loss=False,
    student_trainable=False,
    distiller=dict(
        type='SegmentationDistiller',
        teacher_recorders=dict(
            head_feat=dict(type='SegHeadFeature')),
        connectors=dict(
            teacher_autoencoder=dict(type='KAAutoEncoderConnector', in_channels=None,
                                     mode='train')),
        distill_losses=dict(
            # source: He et al. (CVPR 2019) as recorded in shared/methods.md (paper note, full
            # text not checked here): L_AE = reconstruction + 1e-7 * |code|_1, unit weight
            loss_ae=dict(type='AutoEncoderReconstructionLoss', alpha=1e-7, loss_weight=1.0)),
        loss_forward_mappings=dict(
            loss_ae=dict(
                ae_outputs=dict(recorder='head_feat', from_student=False,
                                connector='teacher_autoencoder'),
                target=dict(recorder='head_feat', from_student=False)))))
find_unused_parameters = True
# torch RNG state in checkpoints: --resume continues exactly
custom_hooks = [dict(type='mmrazor.RNGStateHook')]
