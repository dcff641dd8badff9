# DSD in CIRKD's form (every layer pair, un-normalised CSD; see dsd_cirkd.py), with PSD on
# stage outputs taken from *one recorder that records a tuple*: the backbone's outputs (all
# out_indices), shallow to deep. This is the project's extension for models without an
# auxiliary head; CIRKD's weights were set for its three stride-8 maps, not for stages. Switch for models with a neck (FPN,
# MultiLevelNeck): set both `stages` recorders' source to 'neck' in the leaf config, e.g.
#   model = dict(distiller=dict(student_recorders=dict(stages=dict(source='neck')),
#                               teacher_recorders=dict(stages=dict(source='neck'))))
# Student and teacher must expose the same number of maps.
_base_ = './dsd_cirkd.py'
dsd_terms = dict(
    student_recorders=dict(
        _delete_=True,
        stages=dict(type='ModuleOutputs', source='backbone'),
        logits=dict(type='SegLogits')),
    teacher_recorders=dict(
        _delete_=True,
        stages=dict(type='ModuleOutputs', source='backbone'),
        logits=dict(type='SegLogits')),
    loss_forward_mappings=dict(
        loss_psd=dict(
            feats_S=dict(_delete_=True, recorder='stages', from_student=True),
            feats_T=dict(_delete_=True, recorder='stages', from_student=False))))
