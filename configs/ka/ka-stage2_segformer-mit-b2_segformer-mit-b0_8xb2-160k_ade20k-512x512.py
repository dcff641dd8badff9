_base_ = ['../_base_/distill/ka_stage2.py', '../_base_/pairs/segformer-mit-b2_segformer-mit-b0_ade20k-512x512.py']
model = dict(
    architecture=_base_.student_model, teacher=_base_.teacher_model,
    teacher_ckpt=_base_.teacher_ckpt,
    distiller=dict(
        connectors=dict(
            teacher_autoencoder=dict(
                in_channels=256,
                # the stage-1 run: its default work directory (launched from the same
                # working directory), whose last checkpoint is loaded, whatever its length
                checkpoint='work_dirs/ka-stage1_segformer-mit-b2_segformer-mit-b0_8xb2-160k_ade20k-512x512'),  # noqa: E501
            student_adapter=dict(in_channel=256, out_channel=128),
            student_affinity_adapter=dict(in_channel=256, out_channel=128))))
