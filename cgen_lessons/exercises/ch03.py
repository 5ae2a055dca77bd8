"""Chapter 03 (attention and the Transformer): the causal mask, one attention head, splitting heads."""

import math

import torch

from .core import Exercise, Mistake, register

CHAPTER = "03"


def _causal_mask_reference(T: int) -> torch.Tensor:
    """Boolean (T, T): True where query t may attend to key s, i.e. s ≤ t."""
    return torch.ones(T, T, dtype=torch.bool).tril()


register(Exercise(
    name="causal_mask", chapter=CHAPTER, difficulty="easy", minutes=5, title="the causal attention mask",
    reference=_causal_mask_reference,
    cases=lambda: [("T = 1", (1,)), ("T = 4", (4,)), ("T = 9", (9,))],
    hint="row = query position, column = key position; a query may see itself and the past (torch.tril).",
    mistakes=[
        Mistake(lambda T: torch.ones(T, T, dtype=torch.bool).triu(),
                "True above the diagonal lets each position see the FUTURE; keep the lower triangle (tril)."),
        Mistake(lambda T: torch.ones(T, T, dtype=torch.bool).tril(-1),
                "the diagonal is False, so a position cannot attend to itself (and the first row attends to nothing)."),
    ],
))


def _attention_head_reference(x, W_q, W_k, W_v):
    """One causal head: softmax((x W_qᵀ)(x W_kᵀ)ᵀ / √d_k + M) (x W_vᵀ), x (B, T, d), W_* (d_k, d)."""
    q, k, v = x @ W_q.T, x @ W_k.T, x @ W_v.T  # (B, T, d_k)
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    T = x.shape[1]
    scores = scores.masked_fill(~torch.ones(T, T, dtype=torch.bool).tril(), float("-inf"))
    return torch.softmax(scores, dim=-1) @ v


def _attention_head_cases():
    g = torch.Generator().manual_seed(6)

    def case(B, T, d, dk):
        return (torch.randn(B, T, d, generator=g), *(torch.randn(dk, d, generator=g) / math.sqrt(d) for _ in range(3)))
    return [("B = 1, T = 3, d = 4, d_k = 4", case(1, 3, 4, 4)),
            ("B = 2, T = 6, d = 8, d_k = 16 (scaling matters)", case(2, 6, 8, 16))]


def _head(x, W_q, W_k, W_v, scale=True, mask=True, dim=-1):
    q, k, v = x @ W_q.T, x @ W_k.T, x @ W_v.T
    scores = q @ k.transpose(-2, -1) / (math.sqrt(q.shape[-1]) if scale else 1.0)
    if mask:
        T = x.shape[1]
        scores = scores.masked_fill(~torch.ones(T, T, dtype=torch.bool).tril(), float("-inf"))
    return torch.softmax(scores, dim=dim) @ v


register(Exercise(
    name="attention_head", chapter=CHAPTER, difficulty="medium", minutes=15, title="one causal attention head",
    reference=_attention_head_reference,
    cases=_attention_head_cases,
    hint="scale the scores by 1/√d_k, mask the future with −inf before the softmax, and normalise over the keys "
         "(dim=-1).",
    mistakes=[
        Mistake(lambda *a: _head(*a, scale=False), "the scores were not divided by √d_k."),
        Mistake(lambda *a: _head(*a, mask=False),
                "the future is not masked: set scores[t, s] = −inf for s > t before the softmax."),
    ],
))


def _split_heads_reference(x: torch.Tensor, h: int) -> torch.Tensor:
    """(B, T, d) → (B, h, T, d/h): head j gets features j·d/h … (j+1)·d/h − 1 of every position."""
    B, T, d = x.shape
    return x.view(B, T, h, d // h).transpose(1, 2)


def _split_cases():
    return [("B = 1, T = 3, d = 4, 2 heads", (torch.arange(12.0).view(1, 3, 4), 2)),
            ("B = 2, T = 3, d = 6, 3 heads", (torch.arange(36.0).view(2, 3, 6), 3)),
            ("one head (nothing to split)", (torch.arange(12.0).view(1, 3, 4), 1))]


register(Exercise(
    name="split_heads", chapter=CHAPTER, difficulty="medium", minutes=10,
    title="splitting features into attention heads",
    reference=_split_heads_reference,
    cases=_split_cases,
    hint="first view the LAST dimension as (h, d/h): x.view(B, T, h, d // h); then move the head axis "
         "before time with .transpose(1, 2).",
    mistakes=[
        Mistake(lambda x, h: x.view(x.shape[0], h, x.shape[1], x.shape[2] // h),
                "x.view(B, h, T, d/h) reinterprets memory in the wrong order: it mixes positions into heads. "
                "Split the feature axis first, view(B, T, h, d/h), then transpose(1, 2)."),
        Mistake(lambda x, h: x.view(x.shape[0], x.shape[1], h, x.shape[2] // h),
                "the shape is (B, T, h, d/h): move the head axis before time with .transpose(1, 2)."),
    ],
))
