"""Chapter 08 (text VAEs and GANs): Gumbel-softmax, REINFORCE with a baseline, cyclical KL annealing."""

import torch

from .core import Exercise, Mistake, register

CHAPTER = "08"


def _gumbel_softmax_reference(logits: torch.Tensor, g: torch.Tensor, tau: float) -> torch.Tensor:
    """y = softmax((θ + g)/τ) along the last dimension."""
    return ((logits + g) / tau).softmax(-1)


def _gumbel_softmax_cases():
    gen = torch.Generator().manual_seed(12)
    logits, g = torch.randn(3, 5, generator=gen), -torch.log(torch.empty(3, 5).exponential_(generator=gen))
    return [("τ = 1", (logits, g, 1.0)), ("τ = 0.1 (nearly one-hot)", (logits, g, 0.1)),
            ("τ = 5 (nearly uniform)", (logits, g, 5.0))]


register(Exercise(
    name="gumbel_softmax_sample", chapter=CHAPTER, difficulty="easy", minutes=10, title="a Gumbel-softmax sample",
    mistakes=[
        Mistake(lambda z, g, tau: ((z + g) * tau).softmax(-1),
                "τ must DIVIDE the perturbed logits: a small τ sharpens the sample towards one-hot."),
        Mistake(lambda z, g, tau: (z / tau).softmax(-1),
                "the Gumbel noise is missing: without it the output is the same for every draw, not a sample."),
    ],
    reference=_gumbel_softmax_reference,
    cases=_gumbel_softmax_cases,
    hint="add the Gumbel noise to the logits first, then divide the sum by τ, then softmax over the last "
         "dimension (the noise is not divided separately, and τ divides, it does not multiply).",
))


def _reinforce_baseline_reference(fx: torch.Tensor, onehot: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
    """(f(x_i) − b_i)(e_{x_i} − p) with b_i = mean of f over the other samples; shape (n, K)."""
    n = fx.shape[0]
    b = (fx.sum() - fx) / (n - 1)
    return (fx - b)[:, None] * (onehot - p)


def _reinforce_cases():
    gen = torch.Generator().manual_seed(13)
    p = torch.softmax(torch.randn(4, generator=gen), 0)
    x = torch.multinomial(p, 6, replacement=True, generator=gen)
    onehot = torch.nn.functional.one_hot(x, 4).float()
    return [("six samples", (torch.randn(6, generator=gen), onehot, p)),
            ("two samples", (torch.tensor([1.0, 3.0]), onehot[:2], p)),
            ("a constant reward (the estimate must be exactly zero)", (torch.full((6,), 2.5), onehot, p))]


register(Exercise(
    name="reinforce_baseline", chapter=CHAPTER, difficulty="hard", minutes=20,
    title="REINFORCE with a leave-one-out baseline",
    mistakes=[
        Mistake(lambda fx, oh, p: (fx - fx.mean())[:, None] * (oh - p),
                "the baseline includes the sample's own reward, which correlates it with the score and biases "
                "the estimate: average the OTHER n − 1 rewards."),
        Mistake(lambda fx, oh, p: (fx - (fx.sum() - fx) / (len(fx) - 1))[:, None] * oh,
                "the score of a softmax is ∇_θ log p(x) = e_x − p: you left out − p."),
    ],
    reference=_reinforce_baseline_reference,
    cases=_reinforce_cases,
    hint="the score of a softmax is ∇_θ log p(x) = e_x − p; the baseline of sample i is the mean reward of "
         "the OTHER n − 1 samples (including sample i itself makes the estimate biased).",
))


def _cyclical_beta_reference(step: int, total: int, n_cycles: int, ramp: float) -> float:
    """β rises linearly from 0 to 1 over the first ``ramp`` of each of ``n_cycles`` cycles, then stays at 1."""
    period = total / n_cycles
    return min(1.0, (((step - 1) % period + 1) / period) / ramp)


register(Exercise(
    name="cyclical_beta", chapter=CHAPTER, difficulty="medium", minutes=15, title="the cyclical KL-annealing schedule",
    mistakes=[
        Mistake(lambda step, total, n, ramp: min(1.0, ((step % (total / n)) / (total / n)) / ramp),
                "steps are 1-based: the position in the cycle is ((step − 1) mod period + 1) / period, so the "
                "last step of a cycle is at position 1, not 0."),
        Mistake(lambda step, total, n, ramp: ((step - 1) % (total / n) + 1) / (total / n),
                "β reaches 1 after the first ``ramp`` fraction of each cycle and stays there: divide the "
                "position by ramp and cap it with min(1, ·)."),
    ],
    reference=_cyclical_beta_reference,
    cases=lambda: [(f"step {s} of 100, 4 cycles, ramp 0.5", (s, 100, 4, 0.5)) for s in (1, 12, 13, 25, 26, 60, 100)]
    + [("step 30 of 90, 3 cycles, ramp 1.0", (30, 90, 3, 1.0)),
       ("step 31 of 90, 3 cycles, ramp 1.0", (31, 90, 3, 1.0))],
    hint="steps are 1-based: the position inside the current cycle is ((step − 1) mod period + 1) / period; "
         "β = min(1, position / ramp), so it restarts near 0 at the first step of every cycle.",
))

