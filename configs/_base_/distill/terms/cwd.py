# Channel-wise distillation (Shu et al., ICCV 2021) with MMRazor's own loss,
# ChannelWiseDivergence: each class channel of the logits is a distribution over positions
# (softmax at tau), KL(teacher || student) summed over positions, tau^2 times, divided by
# N * C. A baseline beside the seed methods, as MMRazor ships it for MMSeg.
cwd_terms = dict(
    student_recorders=dict(
        logits=dict(type='SegLogits')),
    teacher_recorders=dict(
        logits=dict(type='SegLogits')),
    distill_losses=dict(
        # source: MMRazor configs/distill/mmseg/cwd/cwd_logits_pspnet_r101_d8_pspnet_r18_d8_
        # 512x1024_cityscapes_80k.py: ChannelWiseDivergence tau=1, loss_weight=5 on the logits
        # (decode_head.conv_seg), PSPNet R101 -> R18 on Cityscapes (75.54 vs 74.87 mIoU in
        # its README)
        loss_cwd=dict(type='ChannelWiseDivergence', tau=1.0, loss_weight=5.0)),
    loss_forward_mappings=dict(
        loss_cwd=dict(
            preds_S=dict(recorder='logits', from_student=True),
            preds_T=dict(recorder='logits', from_student=False))))
