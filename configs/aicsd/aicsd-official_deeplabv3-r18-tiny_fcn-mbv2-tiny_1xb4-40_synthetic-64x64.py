_base_ = ['../_base_/distill/aicsd_official.py', '../_base_/pairs/deeplabv3-r18-tiny_fcn-mbv2-tiny_synthetic-64x64.py']
model = dict(
    architecture=_base_.student_model, teacher=_base_.teacher_model,
    teacher_ckpt=_base_.teacher_ckpt,
    distiller=dict(
        # the tiny FCN student has no ASPP: its last conv block before the classifier, read at
        # its BN output (before the ReLU) like the teacher's ASPP projection
        student_recorders=dict(aspp=dict(source='decode_head.convs.0.bn'))))
