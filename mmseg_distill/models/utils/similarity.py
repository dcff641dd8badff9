"""Pixel-to-pixel cosine-similarity losses without the P x P matrix.

For features flattened to rows (one row per position) and L2-normalised over channels, S
(P x C_S) and T (P x C_T), the affinity matrices are A_S = S S^T and A_T = T T^T (P x P). Every loss here
needs only sums of squares of D = A_S - A_T, which are exact functions of the C x C Gram matrices:

    sum_ij D_ij^2 = ||S^T S||_F^2 - 2 ||S^T T||_F^2 + ||T^T T||_F^2
    sum_j  D_ij^2 = s_i^T (S^T S) s_i - 2 s_i^T (S^T T) t_i + t_i^T (T^T T) t_i

so time is O(P C^2), extra memory O(C^2 + chunk * C), for the backward pass too, and the channel
counts of student and teacher are free to differ. The three terms are each O(P^2) while their
difference can be tiny when the student is close to the teacher. So the Gram matrices and every
product with them are computed in float64 (``dtype``; float32 is the faster option for GPUs with
slow float64), chunk by chunk over positions, and both functions have hand-written backward
passes: autograd would otherwise keep float64 copies of whole features. The L2 normalisation
is folded into the chunks too (forward and backward), so not even a normalised float32 copy of a
feature exists. Results are clamped at 0 against rounding; at a zero row distance the gradient
is 0.
"""
from typing import Optional

import torch
import torch.nn.functional as F

DEFAULT_CHUNK = None  # rows per chunk; None: sized so one chunk holds CHUNK_ELEMENTS values
CHUNK_ELEMENTS = 2**20  # 8 MiB in float64 per chunk buffer, whatever the batch and width


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


NORM_EPS = 1e-12  # as F.normalize


def _auto_chunk(rows_S: torch.Tensor, rows_T: torch.Tensor, chunk: Optional[int]) -> int:
    if chunk and chunk > 0:
        return chunk
    widest = rows_S.shape[0] * max(rows_S.shape[2], rows_T.shape[2])
    return max(16, CHUNK_ELEMENTS // max(widest, 1))


def _inverse_norms(rows: torch.Tensor) -> torch.Tensor:
    """1 / max(||row||, eps) per row, (N, P): what F.normalize divides by."""
    return 1.0 / torch.linalg.vector_norm(rows, dim=-1).clamp_min(NORM_EPS)


def _unit(rows, inv, start, stop, dtype):
    """Rows start:stop normalised, in ``dtype``: only one chunk is ever materialised."""
    return rows[:, start:stop].to(dtype) * inv[:, start:stop, None].to(dtype)


def _normalize_backward(grad_unit, rows, inv, start, stop, dtype):
    """Gradient through x / max(||x||, eps) for rows start:stop (as F.normalize's autograd)."""
    unit = _unit(rows, inv, start, stop, dtype)
    scale = inv[:, start:stop, None].to(dtype)
    normal = 1.0 / scale > NORM_EPS  # rows whose norm exceeded eps: project out the radial part
    radial = (unit * grad_unit).sum(-1, keepdim=True)
    return torch.where(normal, (grad_unit - unit * radial) * scale, grad_unit * scale)


def _gram(a, inv_a, b, inv_b, chunk, dtype) -> torch.Tensor:
    """A^T B of the normalised rows of a (N, P, Ca) and b (N, P, Cb): (N, Ca, Cb) in dtype."""
    total = a.new_zeros((a.shape[0], a.shape[2], b.shape[2]), dtype=dtype)
    for start, stop in row_spans(a.shape[1], chunk):
        total += _unit(a, inv_a, start, stop, dtype).transpose(1, 2) @ \
            _unit(b, inv_b, start, stop, dtype)
    return total


def _normalized_grams(rows_S, rows_T, chunk, dtype):
    """Inverse row norms and the Gram matrices S^T S, S^T T, T^T T of the normalised rows."""
    inv_S, inv_T = _inverse_norms(rows_S), _inverse_norms(rows_T)
    return (inv_S, inv_T, _gram(rows_S, inv_S, rows_S, inv_S, chunk, dtype),
            _gram(rows_S, inv_S, rows_T, inv_T, chunk, dtype),
            _gram(rows_T, inv_T, rows_T, inv_T, chunk, dtype))


class _AffinitySqError(torch.autograd.Function):
    """sum_ij (S S^T - T T^T)_ij^2 per image, S and T the L2-normalised rows, with the analytic
    gradient dL/dS = 4 (S G_ss - T G_st^T), dL/dT = 4 (T G_tt - S G_st) chained through the
    normalisation chunk by chunk: nothing of size P x P, and no normalised or high-precision copy
    of a whole feature, is ever held."""

    @staticmethod
    def forward(ctx, rows_S, rows_T, chunk, dtype):
        chunk = _auto_chunk(rows_S, rows_T, chunk)
        inv_S, inv_T, gram_ss, gram_st, gram_tt = _normalized_grams(rows_S, rows_T, chunk, dtype)
        ctx.save_for_backward(rows_S, rows_T, inv_S, inv_T, gram_ss, gram_st, gram_tt)
        ctx.chunk = chunk
        return (gram_ss.square().sum((1, 2)) - 2 * gram_st.square().sum((1, 2)) +
                gram_tt.square().sum((1, 2)))

    @staticmethod
    def backward(ctx, grad):
        rows_S, rows_T, inv_S, inv_T, gram_ss, gram_st, gram_tt = ctx.saved_tensors
        dtype, chunk = gram_ss.dtype, ctx.chunk
        scale = 4 * grad.to(dtype)[:, None, None]
        grad_S = torch.empty_like(rows_S) if ctx.needs_input_grad[0] else None
        grad_T = torch.empty_like(rows_T) if ctx.needs_input_grad[1] else None
        for a, b in row_spans(rows_S.shape[1], chunk):
            s = _unit(rows_S, inv_S, a, b, dtype)
            t = _unit(rows_T, inv_T, a, b, dtype)
            if grad_S is not None:
                g = scale * (s @ gram_ss - t @ gram_st.transpose(1, 2))
                grad_S[:, a:b] = _normalize_backward(g, rows_S, inv_S, a, b, dtype)
            if grad_T is not None:
                g = scale * (t @ gram_tt - s @ gram_st)
                grad_T[:, a:b] = _normalize_backward(g, rows_T, inv_T, a, b, dtype)
        return grad_S, grad_T, None, None


class _AffinityRowDistance(torch.autograd.Function):
    """d_i = ||(S S^T - T T^T)_i||_2 for every row (S, T normalised rows), analytic gradient.

    With D = S S^T - T T^T and lambda_i = g_i / d_i (0 where d_i = 0):
    dL/dS = Lambda (S G_ss - T G_st^T) + S (S^T Lambda S) - T (T^T Lambda S)
    dL/dT = -Lambda (S G_st - T G_tt) - S (S^T Lambda T) + T (T^T Lambda T)
    then chained through the normalisation, chunk by chunk.
    """

    @staticmethod
    def forward(ctx, rows_S, rows_T, chunk, dtype):
        chunk = _auto_chunk(rows_S, rows_T, chunk)
        inv_S, inv_T, gram_ss, gram_st, gram_tt = _normalized_grams(rows_S, rows_T, chunk, dtype)
        sq = rows_S.new_empty(rows_S.shape[:2], dtype=dtype)
        for a, b in row_spans(rows_S.shape[1], chunk):
            s = _unit(rows_S, inv_S, a, b, dtype)
            t = _unit(rows_T, inv_T, a, b, dtype)
            sq[:, a:b] = (((s @ gram_ss) * s).sum(-1) - 2 * ((s @ gram_st) * t).sum(-1) +
                          ((t @ gram_tt) * t).sum(-1))
        # each d_i^2 is a sum of squares; the subtraction can round to a tiny negative value
        distance = sq.clamp_min(0).sqrt()
        ctx.save_for_backward(rows_S, rows_T, inv_S, inv_T, gram_ss, gram_st, gram_tt, distance)
        ctx.chunk = chunk
        return distance

    @staticmethod
    def backward(ctx, grad):
        rows_S, rows_T, inv_S, inv_T, gram_ss, gram_st, gram_tt, distance = ctx.saved_tensors
        dtype, chunk = gram_ss.dtype, ctx.chunk
        positive = distance > 1e-30
        lam = torch.where(positive, grad.to(dtype) / torch.where(positive, distance, 1.0), 0.0)
        spans = row_spans(rows_S.shape[1], chunk)

        def weighted_gram(left, inv_left, right, inv_right):  # left^T Lambda right
            return sum(_unit(left, inv_left, a, b, dtype).transpose(1, 2) @
                       (lam[:, a:b, None] * _unit(right, inv_right, a, b, dtype))
                       for a, b in spans)

        grad_S = grad_T = None
        if ctx.needs_input_grad[0]:
            h_ss = weighted_gram(rows_S, inv_S, rows_S, inv_S)
            h_ts = weighted_gram(rows_T, inv_T, rows_S, inv_S)
            grad_S = torch.empty_like(rows_S)
            for a, b in spans:
                s, t = _unit(rows_S, inv_S, a, b, dtype), _unit(rows_T, inv_T, a, b, dtype)
                g = lam[:, a:b, None] * (s @ gram_ss - t @ gram_st.transpose(1, 2)) + \
                    s @ h_ss - t @ h_ts
                grad_S[:, a:b] = _normalize_backward(g, rows_S, inv_S, a, b, dtype)
        if ctx.needs_input_grad[1]:
            h_st = weighted_gram(rows_S, inv_S, rows_T, inv_T)
            h_tt = weighted_gram(rows_T, inv_T, rows_T, inv_T)
            grad_T = torch.empty_like(rows_T)
            for a, b in spans:
                s, t = _unit(rows_S, inv_S, a, b, dtype), _unit(rows_T, inv_T, a, b, dtype)
                g = -lam[:, a:b, None] * (s @ gram_st - t @ gram_tt) - s @ h_st + t @ h_tt
                grad_T[:, a:b] = _normalize_backward(g, rows_T, inv_T, a, b, dtype)
        return grad_S, grad_T, None, None


def cosine_affinity_sq_error(rows_S: torch.Tensor, rows_T: torch.Tensor,
                             chunk: Optional[int] = DEFAULT_CHUNK,
                             dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """Per-image sum_ij (A_S - A_T)_ij^2 (shape (N,), in ``dtype``), A the cosine similarities
    of the rows (positions) of ``rows_S`` (N, P, C_S) and ``rows_T`` (N, P, C_T)."""
    return _AffinitySqError.apply(rows_S, rows_T, chunk, dtype).clamp_min(0)


def cosine_affinity_row_distance(rows_S: torch.Tensor, rows_T: torch.Tensor,
                                 chunk: Optional[int] = DEFAULT_CHUNK,
                                 dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """||A_S,i - A_T,i||_2 for every row i (shape (N, P), in ``dtype``), A the cosine
    similarities of the rows. Zero rows get value 0 and gradient 0 (no derivative there)."""
    return _AffinityRowDistance.apply(rows_S, rows_T, chunk, dtype)
