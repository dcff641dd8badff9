"""Pixel-to-pixel cosine-similarity losses without the P x P matrix.

For features flattened to rows (one row per position) and L2-normalised over channels, S
(P x C_S) and T (P x C_T), the affinity matrices are A_S = S S^T and A_T = T T^T (P x P). Every
loss here needs only sums of squares of D = A_S - A_T, which are exact functions of the C x C
Gram matrices:

    sum_ij D_ij^2 = ||S^T S||_F^2 - 2 ||S^T T||_F^2 + ||T^T T||_F^2
    sum_j  D_ij^2 = s_i^T (S^T S) s_i - 2 s_i^T (S^T T) t_i + t_i^T (T^T T) t_i

so time is O(P C^2), extra memory O(C^2 + chunk * C), for the backward pass too, and the channel
counts of student and teacher are free to differ. The three terms are each O(P^2) while their
difference can be tiny when the student is close to the teacher. So the Gram matrices and every
product with them are computed in float64 (``dtype``; float32 is the faster option for GPUs with
slow float64), chunk by chunk over positions, and both functions have hand-written backward
passes: autograd would otherwise keep float64 copies of whole features. The L2 normalisation
is folded into the chunks too (forward and backward), so not even a normalised float32 copy of a
feature exists beyond one chunk. When a single chunk covers every position (within the chunk
budget anyway), its normalised rows, and the row distance's D S, are kept for the backward pass
instead of being formed again. Results are clamped at 0 against rounding; at a zero row distance
the gradient is 0.
"""
from typing import Optional

import torch
import torch.nn.functional as F

DEFAULT_CHUNK = None  # rows per chunk; None: sized so one chunk holds CHUNK_ELEMENTS values
CHUNK_ELEMENTS = 2**20  # 8 MiB in float64 per chunk buffer, whatever the batch and width


def l2_normalize(x: torch.Tensor, dim: int, eps: float = 1e-12, p: float = 2.0) -> torch.Tensor:
    """L2 (or ``p``-norm) normalisation that maps an all-zero vector to zero (finite gradient),
    not NaN."""
    return F.normalize(x, p=p, dim=dim, eps=eps)


def safe_sqrt(x: torch.Tensor) -> torch.Tensor:
    """sqrt with value 0 and gradient 0 at 0 (a distance between equal inputs), no NaN."""
    positive = x > 0
    return torch.where(positive, x.clamp_min(torch.finfo(x.dtype).tiny).sqrt(),
                       torch.zeros_like(x))


def channel_outer_product_distance(maps_S: torch.Tensor, maps_T: torch.Tensor) -> torch.Tensor:
    """||x x^T - y y^T||_F for every (image, channel): (N, C) from maps (N, C, P).

    x and y are the L2-normalised P-vectors of one channel (an all-zero map stays zero). With
    a = ||x||, b = ||y|| (1, or 0 for a zero map):
    ||x x^T - y y^T||_F^2 = (a^2 - b^2)^2 + 2 a^2 b^2 (1 - cos^2)
                          = (a^2 - b^2)^2 + a^2 b^2 ||x - y||^2 ||x + y||^2 / 2,
    so no P x P matrix is formed and nothing cancels when x is close to y (the naive
    a^4 + b^4 - 2 (x.y)^2 loses all precision there).
    """
    x, y = l2_normalize(maps_S, dim=-1), l2_normalize(maps_T, dim=-1)
    a2, b2 = x.square().sum(-1), y.square().sum(-1)
    sq = (a2 - b2).square() + \
        a2 * b2 * (x - y).square().sum(-1) * (x + y).square().sum(-1) / 2
    return safe_sqrt(sq)


def position_cosine_matrix_detached_norm(feat: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """(N, P, P) similarities of the positions of (N, C, H, W) as SKD computes them: each
    position's channel vector divided by (its L2 norm + eps) with the norm *detached* (no
    gradient through the normalisation), then all inner products. For pooled maps of a few
    positions (SKD's pair-wise term); the matrix is P x P."""
    unit = feat / (torch.linalg.vector_norm(feat, dim=1, keepdim=True).detach() + eps)
    rows = unit.flatten(2)
    return rows.transpose(1, 2) @ rows


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


class _UnitRows:
    """The L2-normalised rows of ``rows`` (N, P, C) in ``dtype``, served a chunk at a time.

    Only one chunk exists at a time. When a single chunk covers every row (so it is within the
    chunk budget) it is made once and kept (``kept``, handed on to the backward pass), so no
    later pass converts and scales the rows again.
    """

    def __init__(self, rows: torch.Tensor, dtype: torch.dtype, spans,
                 inv: Optional[torch.Tensor] = None, kept: Optional[torch.Tensor] = None):
        self.rows, self.dtype = rows, dtype
        self.inv = _inverse_norms(rows).to(dtype) if inv is None else inv
        self.kept = kept
        if kept is None and len(spans) == 1:
            self.kept = self._make(*spans[0])

    def _make(self, start, stop):
        return self.rows[:, start:stop].to(self.dtype) * self.inv[:, start:stop, None]

    def __call__(self, start, stop):
        return self.kept if self.kept is not None else self._make(start, stop)

    def normalize_backward(self, grad_unit, start, stop):
        """Gradient through x / max(||x||, eps) for rows start:stop, as F.normalize's autograd:
        the radial part is projected out where the norm exceeded eps."""
        unit = self(start, stop)
        scale = self.inv[:, start:stop, None]
        radial = (unit * grad_unit).sum(-1, keepdim=True) * (1.0 / scale > NORM_EPS)
        return (grad_unit - unit * radial).mul_(scale)


def _grams(spans, units_S: _UnitRows, units_T: _UnitRows, products, weight=None):
    """L^T diag(weight) R for each product 'lr' in ``products`` ('ss', 'st', 'ts', 'tt'; l and
    r name S or T, the normalised rows): (N, C_l, C_r) each, accumulated chunk by chunk in
    place (no C x C temporary per chunk), each chunk normalised once for all products."""
    totals = {}
    for start, stop in spans:
        rows = {'s': units_S(start, stop), 't': units_T(start, stop)}
        right = rows if weight is None else \
            {side: weight[:, start:stop, None] * rows[side] for side in {p[1] for p in products}}
        for product in products:
            left = rows[product[0]].transpose(1, 2)
            if product in totals:
                totals[product].baddbmm_(left, right[product[1]])
            else:
                totals[product] = left @ right[product[1]]
    return [totals[product] for product in products]


def _unit_rows_pair(rows_S, rows_T, chunk, dtype):
    spans = row_spans(rows_S.shape[1], _auto_chunk(rows_S, rows_T, chunk))
    return spans, _UnitRows(rows_S, dtype, spans), _UnitRows(rows_T, dtype, spans)


def _saved_unit_rows(ctx, spans, dtype):
    rows_S, rows_T, inv_S, inv_T, kept_S, kept_T = ctx.saved_tensors[:6]
    return (_UnitRows(rows_S, dtype, spans, inv_S, kept_S),
            _UnitRows(rows_T, dtype, spans, inv_T, kept_T))


class _AffinitySqError(torch.autograd.Function):
    """sum_ij (S S^T - T T^T)_ij^2 per image, S and T the L2-normalised rows, with the analytic
    gradient dL/dS = 4 (S G_ss - T G_st^T), dL/dT = 4 (T G_tt - S G_st) chained through the
    normalisation chunk by chunk: nothing of size P x P, and no normalised or high-precision copy
    of a whole feature beyond one chunk, is ever held."""

    @staticmethod
    def forward(ctx, rows_S, rows_T, chunk, dtype):
        spans, units_S, units_T = _unit_rows_pair(rows_S, rows_T, chunk, dtype)
        gram_ss, gram_st, gram_tt = _grams(spans, units_S, units_T, ('ss', 'st', 'tt'))
        ctx.save_for_backward(rows_S, rows_T, units_S.inv, units_T.inv, units_S.kept,
                              units_T.kept, gram_ss, gram_st, gram_tt)
        ctx.spans = spans
        return (gram_ss.square().sum((1, 2)) - 2 * gram_st.square().sum((1, 2)) +
                gram_tt.square().sum((1, 2)))

    @staticmethod
    def backward(ctx, grad):
        gram_ss, gram_st, gram_tt = ctx.saved_tensors[6:]
        dtype = gram_ss.dtype
        units_S, units_T = _saved_unit_rows(ctx, ctx.spans, dtype)
        scale = 4 * grad.to(dtype)[:, None, None]
        grad_S = torch.empty_like(units_S.rows) if ctx.needs_input_grad[0] else None
        grad_T = torch.empty_like(units_T.rows) if ctx.needs_input_grad[1] else None
        for a, b in ctx.spans:
            s, t = units_S(a, b), units_T(a, b)
            if grad_S is not None:
                g = scale * (s @ gram_ss - t @ gram_st.transpose(1, 2))
                grad_S[:, a:b] = units_S.normalize_backward(g, a, b)
            if grad_T is not None:
                g = scale * (t @ gram_tt - s @ gram_st)
                grad_T[:, a:b] = units_T.normalize_backward(g, a, b)
        return grad_S, grad_T, None, None


class _AffinityRowDistance(torch.autograd.Function):
    """d_i = ||(S S^T - T T^T)_i||_2 for every row (S, T normalised rows), analytic gradient.

    With D = S S^T - T T^T, R = D S = S G_ss - T G_st^T and lambda_i = g_i / d_i (0 where
    d_i = 0):
    dL/dS = Lambda R + S (S^T Lambda S) - T (T^T Lambda S)
    dL/dT = -Lambda (S G_st - T G_tt) - S (S^T Lambda T) + T (T^T Lambda T)
    then chained through the normalisation, chunk by chunk. The forward pass forms R on its
    way to d_i^2 = <R_i - (T G_st^T)_i, s_i> + <(T G_tt)_i, t_i> and keeps it for the backward
    pass when one chunk covers every row.
    """

    @staticmethod
    def forward(ctx, rows_S, rows_T, chunk, dtype):
        spans, units_S, units_T = _unit_rows_pair(rows_S, rows_T, chunk, dtype)
        # T^T S as a product of its own (not G_st transposed): with S == T it is then bitwise
        # G_ss, so D S and every d_i come out exactly 0 whatever the BLAS kernels round
        gram_ss, gram_st, gram_ts, gram_tt = _grams(spans, units_S, units_T,
                                                    ('ss', 'st', 'ts', 'tt'))
        sq = rows_S.new_empty(rows_S.shape[:2], dtype=dtype)
        residual = None
        for a, b in spans:
            s, t = units_S(a, b), units_T(a, b)
            cross = t @ gram_ts  # rows of A_T S
            residual = s @ gram_ss - cross  # rows of D S
            sq[:, a:b] = ((residual - cross) * s).sum(-1) + ((t @ gram_tt) * t).sum(-1)
        # each d_i^2 is a sum of squares; the subtraction can round to a tiny negative value
        distance = sq.clamp_min(0).sqrt()
        ctx.save_for_backward(rows_S, rows_T, units_S.inv, units_T.inv, units_S.kept,
                              units_T.kept, gram_ss, gram_st, gram_tt, distance,
                              residual if len(spans) == 1 else None)
        ctx.spans = spans
        return distance

    @staticmethod
    def backward(ctx, grad):
        gram_ss, gram_st, gram_tt, distance, kept_residual = ctx.saved_tensors[6:]
        dtype, spans = gram_ss.dtype, ctx.spans
        units_S, units_T = _saved_unit_rows(ctx, spans, dtype)
        positive = distance > 1e-30
        lam = torch.where(positive, grad.to(dtype) / torch.where(positive, distance, 1.0), 0.0)

        grad_S = grad_T = None
        if ctx.needs_input_grad[0]:
            h_ss, h_ts = _grams(spans, units_S, units_T, ('ss', 'ts'), lam)
            grad_S = torch.empty_like(units_S.rows)
            for a, b in spans:
                s, t = units_S(a, b), units_T(a, b)
                residual = kept_residual if kept_residual is not None else \
                    s @ gram_ss - t @ gram_st.transpose(1, 2)
                g = (s @ h_ss).sub_(t @ h_ts).addcmul_(lam[:, a:b, None], residual)
                grad_S[:, a:b] = units_S.normalize_backward(g, a, b)
        if ctx.needs_input_grad[1]:
            h_st, h_tt = _grams(spans, units_S, units_T, ('st', 'tt'), lam)
            grad_T = torch.empty_like(units_T.rows)
            for a, b in spans:
                s, t = units_S(a, b), units_T(a, b)
                g = -lam[:, a:b, None] * (s @ gram_st - t @ gram_tt) - s @ h_st + t @ h_tt
                grad_T[:, a:b] = units_T.normalize_backward(g, a, b)
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
