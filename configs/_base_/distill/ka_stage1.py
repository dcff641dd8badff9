# KA stage 1 (He et al., CVPR 2019): train the auto-encoder on the frozen teacher's decode-head
# feature (input of conv_seg). The student is neither trained nor evaluated for its CE here.
# Leaf configs set `in_channels` of the auto-encoder to the teacher feature's channels.
_base_ = './_runtime.py'
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
            # source: torchdistill KTAAD stage1 config (configs/sample/coco2017/multi_stage/
            # ktaad/...yaml): MSELoss('mean') weight 1.0 + RegularizationLoss(p=1) on the code,
            # the L1 norm of the whole batch (code_reduction='batch_sum'), weight 1e-7; the
            # paper note in docs/methods.md gives the same alpha
            loss_ae=dict(type='AutoEncoderReconstructionLoss', alpha=1e-7,
                         code_reduction='batch_sum', loss_weight=1.0)),
        loss_forward_mappings=dict(
            loss_ae=dict(
                ae_outputs=dict(recorder='head_feat', from_student=False,
                                connector='teacher_autoencoder'),
                target=dict(recorder='head_feat', from_student=False)))))
