"""Chapter 05 (variational autoencoders): the Gaussian KL term, reparameterisation, a Gaussian NLL."""

import math

import torch

from .core import Exercise, Mistake, register

CHAPTER = "05"


def _kl_term_reference(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(μ, e^logvar) ‖ N(0, I)) per sample = ½ Σ (μ² + e^logvar − logvar − 1); shape (N,)."""
    return 0.5 * (mu.pow(2) + logvar.exp() - logvar - 1.0).sum(-1)


def _kl_term_cases():
    g = torch.Generator().manual_seed(8)
    return [("μ = 0, logvar = 0 (KL = 0)", (torch.zeros(2, 3), torch.zeros(2, 3))),
            ("random μ and logvar", (torch.randn(4, 5, generator=g), torch.randn(4, 5, generator=g)))]


register(Exercise(
    name="vae_kl", chapter=CHAPTER, difficulty="easy", minutes=10, title="the VAE's KL term in closed form",
    reference=_kl_term_reference,
    cases=_kl_term_cases,
    hint="KL = ½ Σ (μ² + σ² − log σ² − 1) with σ² = exp(logvar): the log-variance appears once, "
         "the variance once, summed over latent dimensions.",
    mistakes=[
        Mistake(lambda mu, lv: 0.5 * (mu.pow(2) + lv.exp() - lv - 1.0).mean(-1),
                "you averaged over the latent dimensions; the KL of independent dimensions is their SUM."),
        Mistake(lambda mu, lv: (mu.pow(2) + lv.exp() - lv - 1.0).sum(-1),
                "the factor ½ is missing."),
    ],
))


def _reparam_reference(mu: torch.Tensor, logvar: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    """z = μ + exp(½ logvar) ⊙ ε."""
    return mu + torch.exp(0.5 * logvar) * eps


def _reparam_cases():
    g = torch.Generator().manual_seed(9)
    return [("logvar = log 4 (σ = 2)", (torch.zeros(1, 2), torch.full((1, 2), math.log(4.0)), torch.ones(1, 2))),
            ("random", (torch.randn(3, 4, generator=g), torch.randn(3, 4, generator=g),
                        torch.randn(3, 4, generator=g)))]


register(Exercise(
    name="reparameterize", chapter=CHAPTER, difficulty="easy", minutes=5, title="the reparameterisation trick",
    reference=_reparam_reference,
    cases=_reparam_cases,
    hint="the noise is scaled by the standard deviation σ = exp(½ logvar), not by the variance or by logvar.",
    mistakes=[
        Mistake(lambda mu, lv, e: mu + lv.exp() * e,
                "exp(logvar) is the VARIANCE σ²; scale the noise by σ = exp(½ logvar)."),
        Mistake(lambda mu, lv, e: mu + lv * e, "logvar is log σ², not σ: scale the noise by exp(½ logvar)."),
    ],
))


def _gaussian_nll_reference(x: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """−log N(x; μ, diag σ²) per sample = ½ Σ_d (log 2π + logvar_d + (x_d − μ_d)² / σ_d²); shape (N,)."""
    return 0.5 * (math.log(2 * math.pi) + logvar + (x - mu).pow(2) / logvar.exp()).sum(-1)


def _gaussian_nll_cases():
    g = torch.Generator().manual_seed(16)
    return [("random, σ² = e^logvar", (torch.randn(4, 6, generator=g), torch.randn(4, 6, generator=g),
                                       torch.randn(4, 6, generator=g))),
            ("standard normal at 0 (½ log 2π per dimension)",
             (torch.zeros(1, 3), torch.zeros(1, 3), torch.zeros(1, 3)))]


register(Exercise(
    name="gaussian_nll", chapter=CHAPTER, difficulty="medium", minutes=10,
    title="the Gaussian decoder's negative log-likelihood",
    reference=_gaussian_nll_reference,
    cases=_gaussian_nll_cases,
    hint="−log N(x; μ, σ²) = ½ (log 2π + log σ² + (x − μ)²/σ²) per dimension, summed over dimensions; "
         "check it against torch.distributions.Normal(mu, (0.5 * logvar).exp()).log_prob(x).",
    mistakes=[
        Mistake(lambda x, mu, lv: 0.5 * (lv + (x - mu).pow(2) / lv.exp()).sum(-1),
                "the constant ½ log 2π per dimension is missing: it does not change the gradient, but a "
                "likelihood without it cannot be compared with other models' (chapter 09)."),
        Mistake(lambda x, mu, lv: 0.5 * (x - mu).pow(2).sum(-1),
                "that is ½ · squared error, the NLL of a Gaussian with σ = 1 up to a constant: include "
                "log σ² and divide the squared error by σ²."),
    ],
))
