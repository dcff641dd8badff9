# What the official AICSD README command trains (AmirMansurian/AICSD, README:
# `python train_kd.py --backbone resnet18 --dataset pascal --pa_lambda 9500 --pi_lambda 10 --ALW`;
# `--ALW` is not an argument of train_kd.py, which stops with an argparse error; without it):
# CE + 9500 * pair-wise similarity (SKD, Liu et al. CVPR 2019) on the ASPP output before its ReLU
# + 10 * pixel KD with KLDivLoss's 'mean' reduction. No ICSD (--lo_lambda is never set) and no
# ALW (commented out in train_kd.py). The paper's method is aicsd_paper.py.
# Recorders: `aspp` reads the BN output of the ASPP's projection, before the ReLU, as the
# official ASPP.extract_feature returns it (feats[4]). In MMSeg's ASPPHead and
# DepthwiseSeparableASPPHead (DeepLabV3, DeepLabV3+) that is `decode_head.bottleneck.bn`;
# other heads: set the source in the leaf (tools/inspect_pair.py lists modules).
# The official run also differs in ways the fragment does not copy (see configs/aicsd/README.md):
# CE divided by the batch size, teacher in train mode, student frozen for epoch 0, 10x lr on the
# head, batch 6, lr 0.007, 50 epochs, no auxiliary head, pixel KD on logits upsampled to the input.
aicsd_terms = dict(
    student_recorders=dict(
        aspp=dict(type='ModuleOutputs', source='decode_head.bottleneck.bn'),
        logits=dict(type='SegLogits')),
    teacher_recorders=dict(
        aspp=dict(type='ModuleOutputs', source='decode_head.bottleneck.bn'),
        logits=dict(type='SegLogits')),
    distill_losses=dict(
        # source: official README command --pa_lambda 9500 on sim_dis_compute of the
        # max-pooled ASPP feature (distiller.py, self.scale = 0.5), reproduced exactly by
        # PairwiseSimilarityLoss(pool_scale=0.5)
        loss_pa=dict(type='PairwiseSimilarityLoss', pool_scale=0.5, loss_weight=9500.0),
        # source: official README command --pi_lambda 10 on KLDivLoss() with reduction
        # 'mean' over (b, K, H, W) = class_reduction='mean'; tau 1 as distiller.py
        loss_kd=dict(type='PixelwiseKDLoss', tau=1.0, class_reduction='mean',
                     loss_weight=10.0)),
    loss_forward_mappings=dict(
        loss_pa=dict(
            feat_S=dict(recorder='aspp', from_student=True),
            feat_T=dict(recorder='aspp', from_student=False)),
        loss_kd=dict(
            preds_S=dict(recorder='logits', from_student=True),
            preds_T=dict(recorder='logits', from_student=False))))
