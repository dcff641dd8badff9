_base_ = ['../_base_/distill/ka_stage2_paper.py', '../_base_/pairs/deeplabv3-r18-tiny_fcn-mbv2-tiny_synthetic-64x64.py']
# the last checkpoint of the stage-1 run (relative to the working directory); elsewhere:
#   --cfg-options model.distiller.connectors.teacher_autoencoder.checkpoint=<stage-1 .pth>
ka_stage1_ckpt = 'work_dirs/ka-stage1_deeplabv3-r18-tiny_fcn-mbv2-tiny_1xb4-40_synthetic-64x64/iter_40.pth'
model = dict(
    architecture=_base_.student_model, teacher=_base_.teacher_model,
    teacher_ckpt=_base_.teacher_ckpt,
    distiller=dict(
        connectors=dict(
            teacher_autoencoder=dict(in_channels=32, checkpoint=ka_stage1_ckpt),
            student_adapter=dict(in_channel=16, out_channel=16),
            student_affinity_adapter=dict(in_channel=16, out_channel=16))))
