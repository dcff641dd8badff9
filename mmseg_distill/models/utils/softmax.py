"""Temperature softmaxes and KL divergences shared by the logit and similarity losses."""
from typing import Optional

import torch
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint

from .similarity import row_spans


def pixel_kl_divergence(preds_S: torch.Tensor, preds_T: torch.Tensor,
                        tau: float = 1.0) -> torch.Tensor:
    """Per-pixel KL(p_T || p_S) over the class axis at temperature ``tau``: (N, H, W).

    Computed from log-softmaxes, so it stays finite for arbitrarily large logits.
    """
    log_p_S = F.log_softmax(preds_S / tau, dim=1)
    log_p_T = F.log_softmax(preds_T / tau, dim=1)
    return (log_p_T.exp() * (log_p_T - log_p_S)).sum(1)


def masked_spatial_log_softmax(logits: torch.Tensor, tau: float,
                               valid: Optional[torch.Tensor] = None):
    """Softmax of each class map over its positions: (N, K, H, W) -> probs, log-probs (N, K, P).

    Positions where ``valid`` (N, H, W) is False get probability 0 and log-probability 0 (so
    that ``p * log p`` and ``p_i * log p_j`` vanish there instead of becoming NaN). An image with
    no valid position keeps all positions; callers weight such images by zero.
    """
    flat = logits.flatten(2) / tau
    if valid is None:
        log_p = F.log_softmax(flat, dim=-1)
        return log_p.exp(), log_p
    mask = valid.flatten(1)
    mask = mask | ~mask.any(dim=1, keepdim=True)
    mask = mask[:, None, :].expand_as(flat)
    log_p = F.log_softmax(flat.masked_fill(~mask, float('-inf')), dim=-1)
    prob = log_p.exp()
    return prob, log_p.masked_fill(~mask, 0.0)


def _row_softmax_kl(rows_S, rows_T, keys_S, keys_T, tau):
    log_q_S = F.log_softmax(rows_S @ keys_S.transpose(1, 2) / tau, dim=-1)
    log_q_T = F.log_softmax(rows_T @ keys_T.transpose(1, 2) / tau, dim=-1)
    return (log_q_T.exp() * (log_q_T - log_q_S)).sum(-1)


def chunked_row_softmax_kl(rows_S: torch.Tensor, rows_T: torch.Tensor, tau: float = 1.0,
                           chunk: Optional[int] = 1024) -> torch.Tensor:
    """Per-row KL(softmax(T T^T/tau)_i || softmax(S S^T/tau)_i): (N, P).

    Evaluated ``chunk`` rows at a time under activation checkpointing, so forward and backward
    hold at most ``chunk x P`` similarities at once instead of P x P.
    """
    parts = []
    for start, stop in row_spans(rows_S.shape[1], chunk):
        args = (rows_S[:, start:stop], rows_T[:, start:stop], rows_S, rows_T, tau)
        if torch.is_grad_enabled() and (rows_S.requires_grad or rows_T.requires_grad):
            parts.append(checkpoint(_row_softmax_kl, *args, use_reentrant=False))
        else:
            parts.append(_row_softmax_kl(*args))
    return torch.cat(parts, dim=1)
