# KA stage 2 (He et al., CVPR 2019): CE + 50 * knowledge translation + 1 * affinity, with the
# teacher feature encoded by the frozen stage-1 encoder and the student's feature mapped by two
# adapters (3x3 conv + BN + ReLU). Leaf configs set the channels and the stage-1 checkpoint:
#   teacher_autoencoder: in_channels (teacher feature), checkpoint (stage-1 .pth)
#   student_adapter / student_affinity_adapter: in_channel (student feature),
#       out_channel (= code channels of the auto-encoder, in_channels // 2 by default)
model = dict(
    _scope_='mmrazor',
    type='SegmentationDistill',
    distiller=dict(
        type='SegmentationDistiller',
        student_recorders=dict(
            head_feat=dict(type='SegHeadFeature')),
        teacher_recorders=dict(
            head_feat=dict(type='SegHeadFeature')),
        connectors=dict(
            teacher_autoencoder=dict(
                type='KAAutoEncoderConnector', in_channels=None, mode='encode',
                checkpoint=None,
                checkpoint_prefix='distiller.connectors.teacher_autoencoder.'),
            student_adapter=dict(
                type='ConvModuleConnector', in_channel=None, out_channel=None, kernel_size=3,
                padding=1, norm_cfg=dict(type='BN'), act_cfg=dict(type='ReLU')),
            student_affinity_adapter=dict(
                type='ConvModuleConnector', in_channel=None, out_channel=None, kernel_size=3,
                padding=1, norm_cfg=dict(type='BN'), act_cfg=dict(type='ReLU'))),
        distill_losses=dict(
            # source: He et al. (CVPR 2019) as recorded in shared/methods.md (paper note, full
            # text not checked here): L1 distance (p=1) of per-position normalised features,
            # total CE + 50 * L_adapt + 1 * L_aff
            loss_ka=dict(type='KnowledgeAdaptationLoss', p=1, normalize='position',
                         loss_weight=50.0),
            # source: as above, unit weight on the affinity term
            loss_affinity=dict(type='AffinityLoss', loss_weight=1.0)),
        loss_forward_mappings=dict(
            loss_ka=dict(
                feat_S=dict(recorder='head_feat', from_student=True,
                            connector='student_adapter'),
                feat_T=dict(recorder='head_feat', from_student=False,
                            connector='teacher_autoencoder')),
            loss_affinity=dict(
                feat_S=dict(recorder='head_feat', from_student=True,
                            connector='student_affinity_adapter'),
                feat_T=dict(recorder='head_feat', from_student=False,
                            connector='teacher_autoencoder')))))
find_unused_parameters = True
# torch RNG state in checkpoints: --resume continues exactly
custom_hooks = [dict(type='mmrazor.RNGStateHook')]
