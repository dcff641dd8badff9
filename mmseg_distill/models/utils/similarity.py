"""Pixel-to-pixel cosine-similarity losses without the P x P matrix.

For features flattened to rows (one row per position, L2-normalised over channels) S (P x C_S)
and T (P x C_T), the affinity matrices are A_S = S S^T and A_T = T T^T (P x P). Every loss here
needs only sums of squares of D = A_S - A_T, which are exact functions of the C x C Gram matrices:

    sum_ij D_ij^2 = ||S^T S||_F^2 - 2 ||S^T T||_F^2 + ||T^T T||_F^2
    sum_j  D_ij^2 = s_i^T (S^T S) s_i - 2 s_i^T (S^T T) t_i + t_i^T (T^T T) t_i

so time is O(P C^2), extra memory O(C^2 + chunk * C), for the backward pass too, and the channel
counts of student and teacher are free to differ. The three terms are each O(P^2) while their
difference can be tiny when the student is close to the teacher; the Gram matrices are therefore
accumulated in float64 (chunk by chunk over positions, so no float64 copy of a whole feature is
kept), the combination is done in float64 and clamped at 0 against rounding.
"""
from typing import Optional

import torch
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint

DEFAULT_CHUNK = 4096


def l2_normalize(x: torch.Tensor, dim: int, eps: float = 1e-12) -> torch.Tensor:
    """L2 normalisation that maps an all-zero vector to zero (finite gradient), not NaN."""
    return F.normalize(x, p=2, dim=dim, eps=eps)


def positions_as_rows(feat: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) -> (N, P, C): one row per position."""
    return feat.flatten(2).transpose(1, 2)


def safe_sqrt(x: torch.Tensor, tiny: float = 1e-30) -> torch.Tensor:
    """sqrt with value 0 and gradient 0 at 0 (sqrt'(0) is infinite)."""
    positive = x > tiny
    return torch.where(positive, torch.sqrt(torch.where(positive, x, torch.ones_like(x))),
                       torch.zeros_like(x))


def row_spans(length: int, chunk: Optional[int]):
    chunk = length if not chunk or chunk <= 0 else chunk
    return [(start, min(start + chunk, length)) for start in range(0, length, chunk)]


def gram64(a: torch.Tensor, b: torch.Tensor, chunk: Optional[int] = DEFAULT_CHUNK) -> torch.Tensor:
    """a^T b for (N, P, Ca), (N, P, Cb) -> (N, Ca, Cb), accumulated over P in float64."""
    total = None
    for start, stop in row_spans(a.shape[1], chunk):
        part = (a[:, start:stop].transpose(1, 2) @ b[:, start:stop]).double()
        total = part if total is None else total + part
    return total


def cosine_affinity_sq_error(rows_S: torch.Tensor, rows_T: torch.Tensor,
                             chunk: Optional[int] = DEFAULT_CHUNK) -> torch.Tensor:
    """Per-image sum_ij (A_S - A_T)_ij^2 (float64, shape (N,)) for normalised rows."""
    gram_ss = gram64(rows_S, rows_S, chunk)
    gram_st = gram64(rows_S, rows_T, chunk)
    gram_tt = gram64(rows_T, rows_T, chunk)
    total = (gram_ss.square().sum((1, 2)) - 2 * gram_st.square().sum((1, 2)) +
             gram_tt.square().sum((1, 2)))
    return total.clamp_min(0)


def _row_sq_error(rows_S, rows_T, gram_ss, gram_st, gram_tt):
    s = rows_S.double()
    t = rows_T.double()
    return ((s @ gram_ss) * s).sum(-1) - 2 * ((s @ gram_st) * t).sum(-1) + \
        ((t @ gram_tt) * t).sum(-1)


def cosine_affinity_row_distance(rows_S: torch.Tensor, rows_T: torch.Tensor,
                                 chunk: Optional[int] = DEFAULT_CHUNK) -> torch.Tensor:
    """||A_S,i - A_T,i||_2 for every row i (float64, shape (N, P)) for normalised rows.

    The per-row quadratic forms run chunk by chunk under activation checkpointing, so the
    float64 copies of a chunk are recomputed in the backward pass instead of being stored.
    """
    gram_ss = gram64(rows_S, rows_S, chunk)
    gram_st = gram64(rows_S, rows_T, chunk)
    gram_tt = gram64(rows_T, rows_T, chunk)
    parts = []
    for start, stop in row_spans(rows_S.shape[1], chunk):
        args = (rows_S[:, start:stop], rows_T[:, start:stop], gram_ss, gram_st, gram_tt)
        if torch.is_grad_enabled() and any(a.requires_grad for a in args):
            parts.append(checkpoint(_row_sq_error, *args, use_reentrant=False))
        else:
            parts.append(_row_sq_error(*args))
    return safe_sqrt(torch.cat(parts, dim=1).clamp_min(0))
