"""Which algorithm computes a pairwise cosine-similarity loss: the Gram algebra of
``similarity.py`` (exact, O(P C^2), float64 by default) or the float32 tiles of
``tiled_similarity.py`` (O(P^2 C)), chosen by a cost model of float32-equivalent multiply-adds
(``pairwise_algorithm``); the losses call ``affinity_sq_error`` / ``affinity_row_distance``."""
from typing import Optional

import torch

from .similarity import cosine_affinity_row_distance, cosine_affinity_sq_error, l2_normalize
from .tiled_similarity import tiled_affinity_row_distance, tiled_affinity_sq_error
from .validation import check_choice

ALGORITHMS = ('auto', 'gram', 'tiled')
# float64 / float32 throughput of matrix products: ~1/2 on CPUs and on the GPUs with full-rate
# float64 (P100, V100, A100, H100/H200: compute capability x.0 from 6.0 on), 1/32 to 1/64 on
# the others (consumer and workstation cards); 1/32 is the optimistic end of that range.
FAST_FLOAT64_CUDA = {(6, 0), (7, 0), (8, 0), (9, 0)}


def float64_slowdown(device: torch.device) -> float:
    """How many times slower a float64 matrix product is than a float32 one on ``device``."""
    if device.type != 'cuda':
        return 2.0
    return 2.0 if torch.cuda.get_device_capability(device) in FAST_FLOAT64_CUDA else 32.0


def pairwise_algorithm(positions: int, channels_S: int, channels_T: int,
                       gram_dtype: torch.dtype, device: torch.device) -> str:
    """'gram' or 'tiled', whichever needs fewer float32-equivalent multiply-adds.

    Gram algebra: O(P (C_S^2 + C_S C_T + C_T^2)) in ``gram_dtype`` (float64 weighs
    ``float64_slowdown`` times a float32 product); tiles: O(P^2 (C_S + C_T)) in float32. Both
    need about three passes (forward, and a backward that forms the same products again), so
    only the per-pass terms are compared.
    """
    gram = positions * (channels_S**2 + channels_S * channels_T + channels_T**2)
    if gram_dtype == torch.float64:
        gram *= float64_slowdown(device)
    tiled = positions * positions * (channels_S + channels_T)
    return 'tiled' if tiled < gram else 'gram'


def check_algorithm(algorithm: str) -> str:
    return check_choice('algorithm', algorithm, ALGORITHMS)


def resolve_algorithm(algorithm: str, rows_S: torch.Tensor, rows_T: torch.Tensor,
                      gram_dtype: torch.dtype) -> str:
    if algorithm != 'auto':
        return algorithm
    return pairwise_algorithm(rows_S.shape[1], rows_S.shape[2], rows_T.shape[2], gram_dtype,
                              rows_S.device)


def affinity_sq_error(rows_S: torch.Tensor, rows_T: torch.Tensor, algorithm: str = 'auto',
                      chunk: Optional[int] = None,
                      gram_dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """Per-image sum_ij (A_S - A_T)_ij^2 of the cosine affinities of the rows (N, P, C)."""
    if resolve_algorithm(algorithm, rows_S, rows_T, gram_dtype) == 'gram':
        return cosine_affinity_sq_error(rows_S, rows_T, chunk, gram_dtype)
    return tiled_affinity_sq_error(l2_normalize(rows_S, dim=-1), l2_normalize(rows_T, dim=-1),
                                   chunk)


def affinity_row_distance(rows_S: torch.Tensor, rows_T: torch.Tensor, algorithm: str = 'auto',
                          chunk: Optional[int] = None,
                          gram_dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """||A_S,i - A_T,i||_2 for every row i (N, P) of the cosine affinities of the rows."""
    if resolve_algorithm(algorithm, rows_S, rows_T, gram_dtype) == 'gram':
        return cosine_affinity_row_distance(rows_S, rows_T, chunk, gram_dtype)
    return tiled_affinity_row_distance(l2_normalize(rows_S, dim=-1),
                                       l2_normalize(rows_T, dim=-1), chunk)
