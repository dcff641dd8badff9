# DIST (Huang et al., NeurIPS 2022) with MMRazor's own loss, DISTLoss: 1 - Pearson
# correlation between the students' and the teacher's softmax scores, across classes for each
# sample (inter-class) plus across samples for each class (intra-class). Segmentation as the
# official DIST code distils it (hunto/DIST_KD segmentation/losses/dist_kd.py): every pixel is
# a sample, so the logits pass through PixelsAsSamplesConnector ((N, C, H, W) -> (NHW, C))
# on both sides. A baseline beside the seed methods.
dist_terms = dict(
    student_recorders=dict(
        logits=dict(type='SegLogits')),
    teacher_recorders=dict(
        logits=dict(type='SegLogits')),
    connectors=dict(
        pixels_as_samples=dict(type='PixelsAsSamplesConnector')),
    distill_losses=dict(
        # source: hunto/DIST_KD segmentation: train_kd.py builds DIST() (beta = gamma = 1, no
        # temperature: tau 1) with --lambda-kd 1. (its default; the scripts do not set it);
        # MMRazor's DISTLoss inter/intra_loss_weight are beta/gamma. The official run adds
        # 0.4 x the same term on the auxiliary head's logits; this fragment distils the logits
        loss_dist=dict(type='DISTLoss', inter_loss_weight=1.0, intra_loss_weight=1.0, tau=1.0,
                       loss_weight=1.0)),
    loss_forward_mappings=dict(
        loss_dist=dict(
            logits_S=dict(recorder='logits', from_student=True, connector='pixels_as_samples'),
            logits_T=dict(recorder='logits', from_student=False,
                          connector='pixels_as_samples'))))
