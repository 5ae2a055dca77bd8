"""Evaluation metrics shared by the chapters."""

from __future__ import annotations

import math

import torch

__all__ = ["perplexity"]


def perplexity(cross_entropy_nats) -> float:
    """PPL = exp(CE) for a mean per-token cross-entropy CE in nats (a float or a 0-d tensor)."""
    ce = float(cross_entropy_nats.item() if isinstance(cross_entropy_nats, torch.Tensor) else cross_entropy_nats)
    if not math.isfinite(ce) or ce < 0:
        raise ValueError(f"cross-entropy must be a finite non-negative number of nats, got {ce!r}")
    return math.exp(ce)
