"""Chapter 02 (recurrent language models): an RNN step, an LSTM step, gradient clipping."""

import torch

from .core import Exercise, Mistake, register

CHAPTER = "02"


def _rnn_step_reference(x, h, W_ih, W_hh, b):
    """h_t = tanh(x_t W_ihᵀ + h_{t−1} W_hhᵀ + b)."""
    return torch.tanh(x @ W_ih.T + h @ W_hh.T + b)


def _rnn_step_cases():
    g = torch.Generator().manual_seed(14)

    def case(B, D, H):
        return (torch.randn(B, D, generator=g), torch.randn(B, H, generator=g), torch.randn(H, D, generator=g),
                torch.randn(H, H, generator=g), torch.randn(H, generator=g))
    return [("batch 1, D = 3, H = 3", case(1, 3, 3)), ("batch 4, D = 5, H = 7", case(4, 5, 7))]


register(Exercise(
    name="rnn_step", chapter=CHAPTER, difficulty="easy", minutes=5, title="one step of an Elman RNN",
    reference=_rnn_step_reference,
    cases=_rnn_step_cases,
    hint="h_t = tanh(x_t W_ihᵀ + h_{t−1} W_hhᵀ + b): the input and the previous state both enter, then tanh.",
    mistakes=[
        Mistake(lambda x, h, Wi, Wh, b: torch.tanh(x @ Wi.T + b),
                "the previous state h_{t−1} is missing: without h_{t−1} W_hhᵀ the network has no memory."),
        Mistake(lambda x, h, Wi, Wh, b: x @ Wi.T + h @ Wh.T + b,
                "the tanh is missing: a linear recurrence can only grow or shrink its state geometrically."),
    ],
))


def _lstm_step_reference(x, h, c, W_ih, W_hh, b):
    """(h_t, c_t) of an LSTM with stacked gate weights in the order (i, f, g, o); b = b_ih + b_hh."""
    i, f, g, o = (x @ W_ih.T + h @ W_hh.T + b).chunk(4, dim=-1)
    c_new = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return (torch.sigmoid(o) * torch.tanh(c_new), c_new)


def _lstm_step_cases():
    g = torch.Generator().manual_seed(4)

    def case(B, D, H):
        return (torch.randn(B, D, generator=g), torch.randn(B, H, generator=g), torch.randn(B, H, generator=g),
                torch.randn(4 * H, D, generator=g) * 0.5, torch.randn(4 * H, H, generator=g) * 0.5,
                torch.randn(4 * H, generator=g))
    return [("batch 1, D = 3, H = 2", case(1, 3, 2)), ("batch 5, D = 4, H = 6", case(5, 4, 6))]


def _lstm_old_cell(x, h, c, W_ih, W_hh, b):
    i, f, g, o = (x @ W_ih.T + h @ W_hh.T + b).chunk(4, dim=-1)
    c_new = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return (torch.sigmoid(o) * torch.tanh(c), c_new)


def _lstm_ifog(x, h, c, W_ih, W_hh, b):
    i, f, o, g = (x @ W_ih.T + h @ W_hh.T + b).chunk(4, dim=-1)
    c_new = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return (torch.sigmoid(o) * torch.tanh(c_new), c_new)


register(Exercise(
    name="lstm_step", chapter=CHAPTER, difficulty="medium", minutes=15, title="one step of an LSTM",
    reference=_lstm_step_reference,
    cases=_lstm_step_cases,
    hint="gates are ordered (i, f, g, o); c_t = f ⊙ c_{t−1} + i ⊙ g with g = tanh(·); h_t = o ⊙ tanh(c_t), "
         "using the new c_t.",
    mistakes=[
        Mistake(_lstm_old_cell, "h_t used the OLD cell state: compute c_t first, then h_t = o ⊙ tanh(c_t)."),
        Mistake(_lstm_ifog, "the gate order is (i, f, g, o) as in torch.nn.LSTM; you split it as (i, f, o, g)."),
    ],
))


def _clip_reference(grads: list, max_norm: float) -> list:
    """g ← g · min(1, max_norm / ‖g‖₂) with ‖g‖₂ the norm of all gradients concatenated."""
    total = torch.sqrt(sum((gr.double() ** 2).sum() for gr in grads))
    scale = min(1.0, max_norm / (total.item() + 1e-6))
    return [gr * scale for gr in grads]


def _clip_cases():
    g = torch.Generator().manual_seed(5)
    big = [torch.randn(3, 4, generator=g) * 10, torch.randn(5, generator=g) * 10]
    small = [torch.randn(2, 2, generator=g) * 0.01]
    return [("large gradients in two tensors (global norm, not per tensor)", (big, 1.0)),
            ("small gradients are left unchanged", (small, 1.0))]


register(Exercise(
    name="clip_grad_norm", chapter=CHAPTER, difficulty="medium", minutes=10,
    title="gradient clipping by the global norm",
    reference=_clip_reference,
    cases=_clip_cases,
    hint="compute ONE norm over all tensors together, and never scale up (min(1, ·)).",
    mistakes=[
        Mistake(lambda gs, m: [gr * min(1.0, m / gr.norm().item()) for gr in gs],
                "you clipped each tensor by its own norm; clipping uses ONE norm of all gradients together, so "
                "their directions relative to each other are kept."),
        Mistake(lambda gs, m: [gr * (m / torch.sqrt(sum((x ** 2).sum() for x in gs)).item()) for gr in gs],
                "small gradients were scaled UP to the threshold: multiply by min(1, max_norm / norm)."),
    ],
))
