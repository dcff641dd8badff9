"""Pixel-to-pixel cosine-similarity losses without the P x P matrix.

For features flattened to rows (one row per position, L2-normalised over channels) S (P x C_S)
and T (P x C_T), the affinity matrices are A_S = S S^T and A_T = T T^T (P x P). Every loss here
needs only sums of squares of D = A_S - A_T, which are exact functions of the C x C Gram matrices:

    sum_ij D_ij^2 = ||S^T S||_F^2 - 2 ||S^T T||_F^2 + ||T^T T||_F^2
    sum_j  D_ij^2 = s_i^T (S^T S) s_i - 2 s_i^T (S^T T) t_i + t_i^T (T^T T) t_i

so time is O(P C^2), extra memory O(C^2 + chunk * C), for the backward pass too, and the channel
counts of student and teacher are free to differ. The three terms are each O(P^2) while their
difference can be tiny when the student is close to the teacher. So the Gram matrices and every
product with them are computed in float64 (``dtype``; float32 is the faster option for GPUs with
slow float64), chunk by chunk over positions, and both functions have hand-written backward
passes: autograd would otherwise keep float64 copies of whole features. Results are clamped at 0
against rounding; at a zero row distance the gradient is 0.
"""
from typing import Optional

import torch
import torch.nn.functional as F

DEFAULT_CHUNK = 4096


def l2_normalize(x: torch.Tensor, dim: int, eps: float = 1e-12) -> torch.Tensor:
    """L2 normalisation that maps an all-zero vector to zero (finite gradient), not NaN."""
    return F.normalize(x, p=2, dim=dim, eps=eps)


def positions_as_rows(feat: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) -> (N, P, C): one row per position."""
    return feat.flatten(2).transpose(1, 2)


def row_spans(length: int, chunk: Optional[int]):
    chunk = length if not chunk or chunk <= 0 else chunk
    return [(start, min(start + chunk, length)) for start in range(0, length, chunk)]


GRAM_PRECISIONS = {'float64': torch.float64, 'float32': torch.float32}


def gram_dtype(precision: str) -> torch.dtype:
    if precision not in GRAM_PRECISIONS:
        raise ValueError(f'gram_precision must be one of {sorted(GRAM_PRECISIONS)}, '
                         f'got {precision!r}')
    return GRAM_PRECISIONS[precision]


def _gram(a: torch.Tensor, b: torch.Tensor, chunk: Optional[int], dtype) -> torch.Tensor:
    """a^T b for (N, P, Ca), (N, P, Cb) -> (N, Ca, Cb) in ``dtype``, chunk by chunk over P."""
    total = a.new_zeros((a.shape[0], a.shape[2], b.shape[2]), dtype=dtype)
    for start, stop in row_spans(a.shape[1], chunk):
        total += a[:, start:stop].to(dtype).transpose(1, 2) @ b[:, start:stop].to(dtype)
    return total


def _rows_times(rows: torch.Tensor, matrix: torch.Tensor, chunk: Optional[int]):
    """Yield (start, stop, rows_chunk @ matrix) in the matrix's dtype."""
    for start, stop in row_spans(rows.shape[1], chunk):
        yield start, stop, rows[:, start:stop].to(matrix.dtype) @ matrix


class _AffinitySqError(torch.autograd.Function):
    """sum_ij (S S^T - T T^T)_ij^2 per image, with the analytic gradient
    dL/dS = 4 (S G_ss - T G_st^T), dL/dT = 4 (T G_tt - S G_st): nothing of size P x P and no
    high-precision copy of S or T is kept for the backward pass."""

    @staticmethod
    def forward(ctx, rows_S, rows_T, chunk, dtype):
        gram_ss = _gram(rows_S, rows_S, chunk, dtype)
        gram_st = _gram(rows_S, rows_T, chunk, dtype)
        gram_tt = _gram(rows_T, rows_T, chunk, dtype)
        ctx.save_for_backward(rows_S, rows_T, gram_ss, gram_st, gram_tt)
        ctx.chunk = chunk
        return (gram_ss.square().sum((1, 2)) - 2 * gram_st.square().sum((1, 2)) +
                gram_tt.square().sum((1, 2)))

    @staticmethod
    def backward(ctx, grad):
        rows_S, rows_T, gram_ss, gram_st, gram_tt = ctx.saved_tensors
        scale = 4 * grad.to(gram_ss.dtype)[:, None, None]
        grad_S = grad_T = None
        if ctx.needs_input_grad[0]:
            grad_S = torch.empty_like(rows_S)
            for (a, b, s_g), (_, _, t_g) in zip(_rows_times(rows_S, gram_ss, ctx.chunk),
                                                _rows_times(rows_T, gram_st.transpose(1, 2),
                                                            ctx.chunk)):
                grad_S[:, a:b] = (scale * (s_g - t_g)).to(rows_S.dtype)
        if ctx.needs_input_grad[1]:
            grad_T = torch.empty_like(rows_T)
            for (a, b, t_g), (_, _, s_g) in zip(_rows_times(rows_T, gram_tt, ctx.chunk),
                                                _rows_times(rows_S, gram_st, ctx.chunk)):
                grad_T[:, a:b] = (scale * (t_g - s_g)).to(rows_T.dtype)
        return grad_S, grad_T, None, None


class _AffinityRowDistance(torch.autograd.Function):
    """d_i = ||(S S^T - T T^T)_i||_2 for every row, with the analytic gradient.

    With D = S S^T - T T^T and lambda_i = g_i / d_i (0 where d_i = 0):
    dL/dS = Lambda (S G_ss - T G_st^T) + S (S^T Lambda S) - T (T^T Lambda S)
    dL/dT = -Lambda (S G_st - T G_tt) - S (S^T Lambda T) + T (T^T Lambda T)
    """

    @staticmethod
    def forward(ctx, rows_S, rows_T, chunk, dtype):
        gram_ss = _gram(rows_S, rows_S, chunk, dtype)
        gram_st = _gram(rows_S, rows_T, chunk, dtype)
        gram_tt = _gram(rows_T, rows_T, chunk, dtype)
        sq = rows_S.new_empty(rows_S.shape[:2], dtype=dtype)
        for start, stop in row_spans(rows_S.shape[1], chunk):
            s = rows_S[:, start:stop].to(dtype)
            t = rows_T[:, start:stop].to(dtype)
            sq[:, start:stop] = (((s @ gram_ss) * s).sum(-1) - 2 * ((s @ gram_st) * t).sum(-1) +
                                 ((t @ gram_tt) * t).sum(-1))
        # each d_i^2 is a sum of squares; the subtraction can round to a tiny negative value
        distance = sq.clamp_min(0).sqrt()
        ctx.save_for_backward(rows_S, rows_T, gram_ss, gram_st, gram_tt, distance)
        ctx.chunk = chunk
        return distance

    @staticmethod
    def backward(ctx, grad):
        rows_S, rows_T, gram_ss, gram_st, gram_tt, distance = ctx.saved_tensors
        dtype, chunk = gram_ss.dtype, ctx.chunk
        positive = distance > 1e-30
        lam = torch.where(positive, grad.to(dtype) / torch.where(positive, distance, 1.0), 0.0)
        spans = row_spans(rows_S.shape[1], chunk)

        def weighted_gram(left, right):  # left^T Lambda right, C_left x C_right
            return sum(left[:, a:b].to(dtype).transpose(1, 2) @
                       (lam[:, a:b, None] * right[:, a:b].to(dtype)) for a, b in spans)

        h_ss = weighted_gram(rows_S, rows_S)
        h_ts = weighted_gram(rows_T, rows_S)
        grad_S = grad_T = None
        if ctx.needs_input_grad[0]:
            grad_S = torch.empty_like(rows_S)
            for a, b in spans:
                s, t = rows_S[:, a:b].to(dtype), rows_T[:, a:b].to(dtype)
                value = lam[:, a:b, None] * (s @ gram_ss - t @ gram_st.transpose(1, 2)) + \
                    s @ h_ss - t @ h_ts
                grad_S[:, a:b] = value.to(rows_S.dtype)
        if ctx.needs_input_grad[1]:
            h_st = weighted_gram(rows_S, rows_T)
            h_tt = weighted_gram(rows_T, rows_T)
            grad_T = torch.empty_like(rows_T)
            for a, b in spans:
                s, t = rows_S[:, a:b].to(dtype), rows_T[:, a:b].to(dtype)
                value = -lam[:, a:b, None] * (s @ gram_st - t @ gram_tt) - s @ h_st + t @ h_tt
                grad_T[:, a:b] = value.to(rows_T.dtype)
        return grad_S, grad_T, None, None


def cosine_affinity_sq_error(rows_S: torch.Tensor, rows_T: torch.Tensor,
                             chunk: Optional[int] = DEFAULT_CHUNK,
                             dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """Per-image sum_ij (A_S - A_T)_ij^2 (shape (N,), in ``dtype``) for normalised rows."""
    return _AffinitySqError.apply(rows_S, rows_T, chunk, dtype).clamp_min(0)


def cosine_affinity_row_distance(rows_S: torch.Tensor, rows_T: torch.Tensor,
                                 chunk: Optional[int] = DEFAULT_CHUNK,
                                 dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """||A_S,i - A_T,i||_2 for every row i (shape (N, P), in ``dtype``) for normalised rows.

    Zero rows get value 0 and gradient 0 (the norm is not differentiable there).
    """
    return _AffinityRowDistance.apply(rows_S, rows_T, chunk, dtype)
