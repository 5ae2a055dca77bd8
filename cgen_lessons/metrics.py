"""Evaluation metrics shared by the chapters."""

from __future__ import annotations

import math

import torch

__all__ = ["perplexity", "stream_nll"]


def perplexity(cross_entropy_nats) -> float:
    """PPL = exp(CE) for a mean per-token cross-entropy CE in nats (a float or a 0-d tensor)."""
    ce = float(cross_entropy_nats.item() if isinstance(cross_entropy_nats, torch.Tensor) else cross_entropy_nats)
    if not math.isfinite(ce) or ce < 0:
        raise ValueError(f"cross-entropy must be a finite non-negative number of nats, got {ce!r}")
    return math.exp(ce)


@torch.no_grad()
def stream_nll(model, ids: torch.Tensor, rows: int = 16) -> float:
    """Mean per-token NLL (nats) of a held-out id stream under an LM.

    The stream is cut into ``rows`` contiguous pieces scored in one batch, so each piece's
    first token is predicted from an empty history (≤ rows − 1 tokens of the stream are scored
    with less context than a single pass would give). Models with ``forward_with_state``
    (RNNs) read each piece in full; models with a finite ``context_size`` are scored with the
    course interface on windows of that size.
    """
    if ids.dim() != 1 or len(ids) < 2 * rows:
        raise ValueError(f"ids must be a 1-D stream of at least {2 * rows} tokens")
    was_training = model.training
    model.eval()
    L = (len(ids) - 1) // rows
    x = ids[: rows * L].view(rows, L)  # (rows, L)
    y = ids[1: rows * L + 1].view(rows, L)
    device = next(iter(model.parameters()), torch.empty(0)).device
    x, y = x.to(device), y.to(device)
    if hasattr(model, "forward_with_state"):
        logits, _ = model.forward_with_state(x)
        nll = torch.nn.functional.cross_entropy(logits.flatten(0, 1).float(), y.flatten()).item()
    else:
        _, loss = model(x, y)
        nll = loss.item()
    model.train(was_training)
    return nll
