"""Pairwise cosine-similarity losses evaluated tile by tile in float32 (which of this form and
the Gram algebra of ``similarity.py`` a loss uses: ``similarity_dispatch.py``).

With S (N, P, C_S) and T (N, P, C_T) the L2-normalised rows (positions) and
D = S S^T - T T^T (P x P per image), a block of rows D_b = S_b S^T - T_b T^T is formed directly,
used and dropped; the backward pass forms it again. Each entry of D is the difference of two
cosines in [-1, 1] computed in float32, so its error is ~1e-7 absolute whatever P is: no
cancellation between O(P^2)-sized sums, hence no float64. Memory: one (N, block, P) tile.
Time: O(P^2 (C_S + C_T)), against O(P (C_S^2 + C_S C_T + C_T^2)) for the Gram algebra.

Gradients (D symmetric):
    L = sum_ij D_ij^2           dL/dS = 4 D S,                 dL/dT = -4 D T
    L = sum_i g_i ||D_i||       W = diag(g / ||D_i||) D,        dL/dS = (W + W^T) S,
                                                                dL/dT = -(W + W^T) T
"""
from typing import Optional

import torch

from .similarity import row_spans

TILE_ELEMENTS = 2**22  # values in one (N, block, P) tile: 16 MiB in float32


def _block_rows(batch: int, positions: int, block: Optional[int]) -> int:
    if block and block > 0:
        return block
    return max(1, TILE_ELEMENTS // max(batch * positions, 1))


def _tile(rows_S, rows_T, start, stop):
    """D_b = S_b S^T - T_b T^T for rows start:stop: (N, stop - start, P), one allocation."""
    tile = torch.bmm(rows_S[:, start:stop], rows_S.transpose(1, 2))
    return tile.baddbmm_(rows_T[:, start:stop], rows_T.transpose(1, 2), alpha=-1)


class _TiledAffinitySqError(torch.autograd.Function):

    @staticmethod
    def forward(ctx, rows_S, rows_T, block):
        block = _block_rows(rows_S.shape[0], rows_S.shape[1], block)
        total = rows_S.new_zeros(rows_S.shape[0])
        for a, b in row_spans(rows_S.shape[1], block):
            total += _tile(rows_S, rows_T, a, b).square_().sum((1, 2))
        ctx.save_for_backward(rows_S, rows_T)
        ctx.block = block
        return total

    @staticmethod
    def backward(ctx, grad):
        rows_S, rows_T = ctx.saved_tensors
        scale = 4 * grad[:, None, None]
        grad_S = torch.empty_like(rows_S) if ctx.needs_input_grad[0] else None
        grad_T = torch.empty_like(rows_T) if ctx.needs_input_grad[1] else None
        for a, b in row_spans(rows_S.shape[1], ctx.block):
            tile = _tile(rows_S, rows_T, a, b).mul_(scale)
            if grad_S is not None:
                grad_S[:, a:b] = tile @ rows_S
            if grad_T is not None:
                grad_T[:, a:b] = -(tile @ rows_T)
        return grad_S, grad_T, None


class _TiledAffinityRowDistance(torch.autograd.Function):

    @staticmethod
    def forward(ctx, rows_S, rows_T, block):
        block = _block_rows(rows_S.shape[0], rows_S.shape[1], block)
        distance = rows_S.new_empty(rows_S.shape[:2])
        for a, b in row_spans(rows_S.shape[1], block):
            distance[:, a:b] = torch.linalg.vector_norm(
                _tile(rows_S, rows_T, a, b), dim=-1)
        ctx.save_for_backward(rows_S, rows_T, distance)
        ctx.block = block
        return distance

    @staticmethod
    def backward(ctx, grad):
        rows_S, rows_T, distance = ctx.saved_tensors
        positive = distance > 0
        lam = torch.where(positive, grad / torch.where(positive, distance, 1.0), 0.0)
        need_S, need_T = ctx.needs_input_grad[:2]
        grad_S = torch.zeros_like(rows_S) if need_S else None
        grad_T = torch.zeros_like(rows_T) if need_T else None
        for a, b in row_spans(rows_S.shape[1], ctx.block):
            weighted = _tile(rows_S, rows_T, a, b).mul_(lam[:, a:b, None])
            if need_S:  # rows a:b of W S, and W_b^T S_b for every row
                grad_S[:, a:b] += weighted @ rows_S
                grad_S += weighted.transpose(1, 2) @ rows_S[:, a:b]
            if need_T:
                grad_T[:, a:b] -= weighted @ rows_T
                grad_T -= weighted.transpose(1, 2) @ rows_T[:, a:b]
        return grad_S, grad_T, None


def tiled_affinity_sq_error(unit_S: torch.Tensor, unit_T: torch.Tensor,
                            block: Optional[int] = None) -> torch.Tensor:
    """Per-image sum_ij (S S^T - T T^T)_ij^2, S/T already L2-normalised rows: (N,)."""
    return _TiledAffinitySqError.apply(unit_S, unit_T, block).clamp_min(0)


def tiled_affinity_row_distance(unit_S: torch.Tensor, unit_T: torch.Tensor,
                                block: Optional[int] = None) -> torch.Tensor:
    """||(S S^T - T T^T)_i||_2 for every row i, S/T already L2-normalised rows: (N, P)."""
    return _TiledAffinityRowDistance.apply(unit_S, unit_T, block)
