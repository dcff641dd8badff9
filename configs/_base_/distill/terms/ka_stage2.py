# KA stage 2 (He et al., CVPR 2019) in torchdistill's formulation, the only public
# implementation and the only one with published weights (torchdistill, configs/sample/coco2017/
# multi_stage/ktaad/lraspp_mobilenet_v3_large_from_deeplabv3_resnet50.yaml, stage2):
# CE + 50 * KTALoss(p=1, q=2, 'mean') + 1 * AffinityLoss('mean'), the teacher feature encoded by
# the frozen stage-1 encoder, the student feature mapped by a feature adapter (3x3 conv + BN +
# ReLU) for the translation term and an affinity adapter (a bare 3x3 conv) for the affinity term.
# The per-position (paper-note) formulation with its own weights is ka_stage2_paper.py.
# One difference from torchdistill's config: it reads the teacher's final classifier output
# (21-class logits, code channels 10) and LRASPP's high classifier; this fragment reads the
# feature the classifier sees, Phi in the paper. The torchdistill form scales as
# 1 / sqrt(C H W) of the encoded map: tools/inspect_pair.py prints each term's share on a pair.
# Leaf configs set the channels and the stage-1 checkpoint:
#   teacher_autoencoder: in_channels (teacher feature), checkpoint (stage-1 .pth)
#   student_adapter / student_affinity_adapter: in_channel (student feature),
#       out_channel (= code channels of the auto-encoder, in_channels // 2 by default)
ka_terms = dict(
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
        # torchdistill's Student4KTAAD: the affinity adapter is one conv, no BN or ReLU
        student_affinity_adapter=dict(
            type='ConvModuleConnector', in_channel=None, out_channel=None, kernel_size=3,
            padding=1, norm_cfg=None, act_cfg=None)),
    distill_losses=dict(
        # source: torchdistill KTAAD stage2 config, 'adapt' term: KTALoss p=1, q=2,
        # reduction 'mean', weight 50.0 (this formulation exactly: formulation='torchdistill')
        loss_ka=dict(type='KnowledgeAdaptationLoss', formulation='torchdistill', p=1,
                     loss_weight=50.0),
        # source: torchdistill KTAAD stage2 config, 'aff' term: AffinityLoss reduction
        # 'mean', weight 1.0 (formulation='torchdistill')
        loss_affinity=dict(type='AffinityLoss', formulation='torchdistill',
                           loss_weight=1.0)),
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
                        connector='teacher_autoencoder'))))
