# The DeepLabV3 R101-D8 -> R18-D8 Cityscapes pair in CIRKD's protocol, the one its published DSD numbers
# (configs/dsd/README.md) were trained with. source: winycg/CIRKD train_kd.py defaults, which its KD scripts
# run on 8 GPUs: --batch-size 16 (the total, split over the processes: 2 images per GPU), --max-iterations
# 40000, --lr 0.02, --momentum 0.9, --weight-decay 1e-4, crops 512x1024, and adjust_lr's poly decay with
# power 0.9 down to 0. The data pipeline stays MMSeg's Cityscapes one (CIRKD's own loader scales and flips
# too, but is not MMSeg's); validation and checkpoints every 4,000 iterations are MMSeg's 40k cadence, not
# CIRKD's (every 800).
_base_ = ['./deeplabv3-r101-d8_deeplabv3-r18-d8_cityscapes-512x1024.py']
optim_wrapper = dict(optimizer=dict(lr=0.02, weight_decay=1e-4))
param_scheduler = [dict(type='PolyLR', eta_min=0.0, power=0.9, begin=0, end=40000, by_epoch=False)]
train_cfg = dict(max_iters=40000, val_interval=4000)
default_hooks = dict(checkpoint=dict(interval=4000))
# the batch the lr is set for (8 GPUs x 2 images): `--auto-scale-lr` scales the lr linearly to the batch a
# run really has (GPUs x train_dataloader.batch_size)
auto_scale_lr = dict(enable=False, base_batch_size=16)
