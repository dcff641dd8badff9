"""Spatial alignment and shape checks shared by the losses."""
from typing import Optional, Tuple

import torch
import torch.nn.functional as F

from .validation import check_choice

ALIGN_CHOICES = ('teacher', 'student')


def resize_like(x: torch.Tensor, size: Tuple[int, int], mode: str = 'bilinear') -> torch.Tensor:
    """Resize an (N, C, H, W) map to ``size``; a no-op when it already has that size."""
    if tuple(x.shape[-2:]) == tuple(size):
        return x
    if mode in ('bilinear', 'bicubic'):
        return F.interpolate(x, size=size, mode=mode, align_corners=False)
    return F.interpolate(x, size=size, mode=mode)


def align_spatial(student: torch.Tensor, teacher: torch.Tensor, align_to: str = 'teacher',
                  mode: str = 'bilinear') -> Tuple[torch.Tensor, torch.Tensor]:
    """Bring student and teacher maps to one spatial size.

    ``align_to='teacher'`` (the project's default) resizes the student to the teacher's size, so
    the teacher's target is never interpolated; ``'student'`` resizes the teacher instead.
    """
    if student.dim() != 4 or teacher.dim() != 4:
        raise ValueError('expected (N, C, H, W) maps, got student '
                         f'{tuple(student.shape)} and teacher {tuple(teacher.shape)}')
    if student.shape[0] != teacher.shape[0]:
        raise ValueError(f'student batch {tuple(student.shape)} and teacher batch '
                         f'{tuple(teacher.shape)} differ: record both from the same forward')
    if check_choice('align_to', align_to, ALIGN_CHOICES) == 'teacher':
        return resize_like(student, teacher.shape[-2:], mode), teacher
    return student, resize_like(teacher, student.shape[-2:], mode)


def check_same_classes(preds_S: torch.Tensor, preds_T: torch.Tensor, loss_name: str) -> None:
    """Logit losses compare class by class: the class counts must agree."""
    if preds_S.dim() != 4 or preds_T.dim() != 4:
        raise ValueError(f'{loss_name} expects logits (N, K, H, W), got student '
                         f'{tuple(preds_S.shape)} and teacher {tuple(preds_T.shape)}')
    if preds_S.shape[1] != preds_T.shape[1]:
        raise ValueError(
            f'{loss_name} compares logits class by class, but the student has '
            f'{preds_S.shape[1]} classes {tuple(preds_S.shape)} and the teacher '
            f'{preds_T.shape[1]} {tuple(preds_T.shape)}. Record the logits (output of '
            "'decode_head.conv_seg') of a student and teacher trained on the same class list.")


def check_feature_maps(feat_S: torch.Tensor, feat_T: torch.Tensor, loss_name: str) -> None:
    """Feature losses compare (N, C, H, W) maps."""
    if feat_S.dim() != 4 or feat_T.dim() != 4:
        raise ValueError(f'{loss_name} expects feature maps (N, C, H, W), got student '
                         f'{tuple(feat_S.shape)} and teacher {tuple(feat_T.shape)}')


def max_pool_by_scale(feat: torch.Tensor, kernel: Tuple[int, int]) -> torch.Tensor:
    """Max pooling with kernel = stride = ``kernel``, ceil mode: each window of the map becomes
    one position (SKD's pooling of the map into a few patches)."""
    return F.max_pool2d(feat, kernel_size=kernel, stride=kernel, padding=0, ceil_mode=True)


def valid_mask_from_gt(gt_seg: Optional[torch.Tensor], size: Tuple[int, int],
                       ignore_index: int) -> Optional[torch.Tensor]:
    """(N, H, W) bool mask of pixels that are not ``ignore_index`` (padding/void), at ``size``.

    Labels are resized with nearest neighbour, so a position is valid when its nearest label
    pixel is.
    """
    if gt_seg is None:
        return None
    if gt_seg.dim() == 4:
        gt_seg = gt_seg.squeeze(1)
    if gt_seg.dim() != 3:
        raise ValueError(f'gt_seg must be (N, H, W) or (N, 1, H, W), got {tuple(gt_seg.shape)}')
    if tuple(gt_seg.shape[-2:]) != tuple(size):
        gt_seg = F.interpolate(gt_seg[:, None].float(), size=size, mode='nearest')[:, 0]
    return gt_seg != ignore_index
