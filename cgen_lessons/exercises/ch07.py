"""Chapter 07 (diffusion): the forward process, the cosine schedule, one DDPM sampling step."""

import math

import torch

from .core import Exercise, Mistake, register

CHAPTER = "07"


def _q_sample_reference(x0: torch.Tensor, alpha_bar_t: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    """x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε, with one ᾱ_t per sample (shape (N,)) broadcast over the rest."""
    ab = alpha_bar_t.view(-1, *([1] * (x0.dim() - 1)))
    return ab.sqrt() * x0 + (1 - ab).sqrt() * eps


def _q_sample_cases():
    g = torch.Generator().manual_seed(11)
    return [("4 points in 2-D", (torch.randn(4, 2, generator=g), torch.tensor([0.99, 0.5, 0.1, 1e-4]),
                                 torch.randn(4, 2, generator=g))),
            ("images (3, 1, 8, 8)", (torch.rand(3, 1, 8, 8, generator=g), torch.tensor([0.9, 0.3, 0.01]),
                                     torch.randn(3, 1, 8, 8, generator=g)))]


def _q_variant(x0, ab, eps, root_signal=True, root_noise=True):
    ab = ab.view(-1, *([1] * (x0.dim() - 1)))
    return (ab.sqrt() if root_signal else ab) * x0 + ((1 - ab).sqrt() if root_noise else 1 - ab) * eps


register(Exercise(
    name="q_sample", chapter=CHAPTER, difficulty="easy", minutes=10, title="sampling the forward process in one step",
    reference=_q_sample_reference,
    cases=_q_sample_cases,
    hint="scale x_0 by √ᾱ_t and the noise by √(1 − ᾱ_t) — square roots, and ᾱ_t (the product), not β_t; "
         "reshape ᾱ_t to (N, 1, ...) so it broadcasts over each sample.",
    mistakes=[
        Mistake(lambda *a: _q_variant(*a, root_signal=False, root_noise=False),
                "the coefficients are square roots: x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε, so that Var(x_t) stays 1."),
        Mistake(lambda *a: _q_variant(*a, root_noise=False),
                "the noise is scaled by √(1 − ᾱ_t), not (1 − ᾱ_t): the VARIANCE of the noise part is 1 − ᾱ_t."),
    ],
))


def _cosine_reference(T: int, s: float) -> torch.Tensor:
    """ᾱ_t = f(t)/f(0), f(t) = cos²(π/2 · (t/T + s)/(1 + s)), for t = 0, …, T; shape (T + 1,), float64."""
    t = torch.arange(T + 1, dtype=torch.float64) / T
    f = torch.cos((t + s) / (1 + s) * math.pi / 2) ** 2
    return f / f[0]


def _cosine_variant(T, s, square=True, normalise=True):
    t = torch.arange(T + 1, dtype=torch.float64) / T
    f = torch.cos((t + s) / (1 + s) * math.pi / 2) ** (2 if square else 1)
    return f / f[0] if normalise else f


register(Exercise(
    name="cosine_alpha_bar", chapter=CHAPTER, difficulty="medium", minutes=10, title="the cosine noise schedule",
    reference=_cosine_reference,
    cases=lambda: [("T = 4, s = 0.008", (4, 0.008)), ("T = 1000, s = 0.008", (1000, 0.008)),
                   ("T = 10, s = 0.1", (10, 0.1))],
    hint="f(t) = cos²(π/2 · (t/T + s)/(1 + s)) for t = 0 … T (T + 1 values), and ᾱ_t = f(t)/f(0) so that ᾱ_0 = 1.",
    atol=1e-8, rtol=1e-6,
    mistakes=[
        Mistake(lambda T, s: _cosine_variant(T, s, normalise=False),
                "ᾱ_0 must be exactly 1 (no noise at t = 0): divide f(t) by f(0), which the offset s makes < 1."),
        Mistake(lambda T, s: _cosine_variant(T, s, square=False),
                "the cosine is SQUARED in Nichol & Dhariwal's schedule."),
    ],
))


def _ddpm_step_reference(xt: torch.Tensor, eps_pred: torch.Tensor, z: torch.Tensor, beta_t: float, alpha_bar_t: float,
                         alpha_bar_prev: float) -> torch.Tensor:
    """x_{t−1} = (x_t − β_t/√(1 − ᾱ_t) ε_θ)/√α_t + σ_t z with σ_t² = β̃_t = (1 − ᾱ_{t−1})/(1 − ᾱ_t) β_t."""
    alpha_t = 1 - beta_t
    mean = (xt - beta_t / math.sqrt(1 - alpha_bar_t) * eps_pred) / math.sqrt(alpha_t)
    return mean + math.sqrt((1 - alpha_bar_prev) / (1 - alpha_bar_t) * beta_t) * z


def _ddpm_step_cases():
    g = torch.Generator().manual_seed(12)
    cases = []
    for desc, beta, ab_prev in (("early step (t small)", 0.001, 0.998), ("middle step", 0.02, 0.4),
                                ("last steps (t ≈ T)", 0.3, 0.01)):
        ab = ab_prev * (1 - beta)
        cases.append((desc, (torch.randn(5, 2, generator=g), torch.randn(5, 2, generator=g),
                             torch.randn(5, 2, generator=g), beta, ab, ab_prev)))
    return cases


def _ddpm_variant(xt, eps, z, beta, ab, ab_prev, tilde=True, divide=True):
    mean = (xt - beta / math.sqrt(1 - ab) * eps) / (math.sqrt(1 - beta) if divide else 1.0)
    sigma = math.sqrt((1 - ab_prev) / (1 - ab) * beta) if tilde else math.sqrt(beta)
    return mean + sigma * z


register(Exercise(
    name="ddpm_step", chapter=CHAPTER, difficulty="hard", minutes=20, title="one DDPM ancestral sampling step",
    reference=_ddpm_step_reference,
    cases=_ddpm_step_cases,
    hint="the mean removes β_t/√(1 − ᾱ_t) times the predicted noise and divides by √α_t (α_t = 1 − β_t); "
         "the noise scale is the posterior standard deviation √β̃_t, not β_t.",
    mistakes=[
        Mistake(lambda *a: _ddpm_variant(*a, tilde=False),
                "σ_t = √β_t is Ho et al.'s other choice; this exercise asks for the posterior's σ_t = √β̃_t "
                "with β̃_t = (1 − ᾱ_{t−1})/(1 − ᾱ_t) · β_t."),
        Mistake(lambda *a: _ddpm_variant(*a, divide=False),
                "the mean is divided by √α_t = √(1 − β_t) after the predicted noise is removed."),
    ],
))
