# DSD in CIRKD's form for a teacher with an auxiliary head and a student without one (CIRKD's
# DeepLabV3 R101 -> DeepLabV3-MobileNetV2 run): CIRKD builds both lists as
# [outputs[-2], outputs[-1], outputs[0]] (train_kd.py), which for a student whose outputs are
# (logits, feature) is [logits, feature, logits]; the teacher's stays [aux logits, feature,
# logits]. Same losses and weights as dsd_cirkd.py (train_dsd.sh uses 1000 / 10 for that run).
_base_ = './dsd_cirkd.py'
dsd_terms = dict(
    student_recorders=dict(
        _delete_=True,
        head_feat=dict(type='SegHeadFeature'),
        logits=dict(type='SegLogits')),
    loss_forward_mappings=dict(
        loss_psd=dict(
            feats_S=[dict(recorder='logits', from_student=True),
                     dict(recorder='head_feat', from_student=True),
                     dict(recorder='logits', from_student=True)])))
