_base_ = ['../_base_/distill/ka_stage2.py', '../_base_/pairs/pspnet-r101-d8_pspnet-r18-d8_cityscapes-512x1024.py']
model = dict(
    architecture=_base_.student_model, teacher=_base_.teacher_model,
    teacher_ckpt=_base_.teacher_ckpt,
    distiller=dict(
        connectors=dict(
            teacher_autoencoder=dict(
                in_channels=512,
                # the stage-1 run: its default work directory (launched from the same
                # working directory), whose last checkpoint is loaded, whatever its length
                checkpoint='work_dirs/ka-stage1_pspnet-r101-d8_pspnet-r18-d8_4xb2-80k_cityscapes-512x1024'),  # noqa: E501
            student_adapter=dict(in_channel=128, out_channel=256),
            student_affinity_adapter=dict(in_channel=128, out_channel=256))))
