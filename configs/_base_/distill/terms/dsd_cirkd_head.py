# DSD in CIRKD's form for models without auxiliary heads, as CIRKD distils SegFormer
# (winycg/CIRKD train_kd_segformer.py: feat_list = [outputs[-1], outputs[0]], i.e. PSD over the
# decoder's fused feature, the input of the classifier, and the logits; one residual pair).
# Same losses and weights as dsd_cirkd.py: CIRKD's SegFormer script (scripts/train_kd/
# train_dsd.sh, train_kd_segformer.py at 1024x1024 crops) keeps --lambda-psd 1000. and
# --lambda-csd 10.
_base_ = './dsd_cirkd.py'
dsd_terms = dict(
    student_recorders=dict(
        _delete_=True,
        head_feat=dict(type='SegHeadFeature'),
        logits=dict(type='SegLogits')),
    teacher_recorders=dict(
        _delete_=True,
        head_feat=dict(type='SegHeadFeature'),
        logits=dict(type='SegLogits')),
    loss_forward_mappings=dict(
        loss_psd=dict(
            feats_S=[dict(recorder='head_feat', from_student=True),
                     dict(recorder='logits', from_student=True)],
            feats_T=[dict(recorder='head_feat', from_student=False),
                     dict(recorder='logits', from_student=False)])))
