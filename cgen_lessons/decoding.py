"""Turning a language model's next-token distributions into text.

Every LM of the course has the interface ``model(idx, targets=None) -> (logits, loss)`` with
``logits`` of shape (B, T, V), and may set ``context_size`` (how many trailing tokens it reads;
``None`` for unbounded). ``sample`` draws x_{t+1} ~ softmax(logits_t / τ) one token at a time.
Chapter 04 extends this module with greedy, beam search, top-k, top-p and a KV cache.
"""

from __future__ import annotations

import torch

from .utils import check_positive_int

__all__ = ["sample"]


@torch.no_grad()
def sample(model, idx: torch.Tensor, max_new_tokens: int, generator: torch.Generator | None = None,
           temperature: float = 1.0) -> torch.Tensor:
    """Ancestral sampling: append ``max_new_tokens`` tokens to each row of ``idx`` (B, T).

    p(x_{t+1} = v | x_≤t) = softmax(z_t / τ)_v with z_t the model's last logits and τ the
    temperature (> 0). Returns (B, T + max_new_tokens).
    """
    max_new_tokens = check_positive_int(max_new_tokens, "max_new_tokens")
    if not isinstance(temperature, (int, float)) or temperature <= 0:
        raise ValueError(f"temperature must be a positive number, got {temperature!r}")
    if not isinstance(idx, torch.Tensor) or idx.dim() != 2 or idx.shape[1] == 0:
        raise ValueError("idx must be a (B, T) tensor of token ids with T >= 1")
    was_training = getattr(model, "training", False)
    if hasattr(model, "eval"):
        model.eval()
    context = getattr(model, "context_size", None)
    for _ in range(max_new_tokens):
        window = idx if context is None else idx[:, -max(1, context):]
        logits, _ = model(window)  # (B, T', V)
        probs = torch.softmax(logits[:, -1].double() / temperature, dim=-1)  # (B, V)
        nxt = torch.multinomial(probs.cpu(), 1, generator=generator).to(idx.device)  # (B, 1)
        idx = torch.cat([idx, nxt], dim=1)
    if was_training:
        model.train()
    return idx
