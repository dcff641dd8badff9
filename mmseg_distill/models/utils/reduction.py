from typing import Optional

import torch


def masked_mean(values: torch.Tensor, valid: Optional[torch.Tensor]) -> torch.Tensor:
    """Mean over valid entries; 0 (with zero gradient) when nothing is valid."""
    if valid is None:
        return values.mean()
    weights = valid.to(values.dtype)
    return (values * weights).sum() / weights.sum().clamp_min(1.0)


def image_weights(valid: Optional[torch.Tensor], batch: int, like: torch.Tensor) -> torch.Tensor:
    """1 for images with at least one valid position, 0 for fully ignored ones."""
    if valid is None:
        return torch.ones(batch, dtype=like.dtype, device=like.device)
    return valid.flatten(1).any(dim=1).to(like.dtype)


def weighted_image_mean(per_image: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    return (per_image * weights).sum() / weights.sum().clamp_min(1.0)
