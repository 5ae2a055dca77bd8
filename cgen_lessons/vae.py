"""Variational autoencoders (Kingma & Welling 2014; Rezende et al. 2014).

Model: p(z) = N(0, I), p_θ(x | z) a decoder; approximate posterior q_φ(z | x) = N(μ_φ(x), diag σ²_φ(x)).
Evidence lower bound, for every x:

    log p_θ(x) ≥ ELBO(x) = E_{q(z|x)}[log p_θ(x | z)] − KL(q_φ(z | x) ‖ p(z)),
    log p_θ(x) − ELBO(x) = KL(q_φ(z | x) ‖ p_θ(z | x)) ≥ 0.

Closed-form KL to the standard normal, per sample (σ² = exp(logvar)):

    KL = ½ Σ_j (μ_j² + σ_j² − log σ_j² − 1).

Reparameterisation: z = μ + σ ⊙ ε, ε ~ N(0, I), so gradients reach μ and σ (hence the encoder).
β-VAE (Higgins et al. 2017) weights the KL by β; a conditional VAE (Sohn et al. 2015) feeds a
one-hot label to encoder and decoder. The importance-weighted bound (Burda et al. 2016), with
w_k = p(x, z_k) / q(z_k | x) and z_1..z_k ~ q(z | x),

    L_k(x) = E[log (1/k) Σ_k w_k],   ELBO = L_1 ≤ L_k ≤ L_{k+1} ≤ log p(x),

is the IWAE's training objective (``iwae_loss``) and, with large k, the log-likelihood estimate
(``importance_log_likelihood``).
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from . import checks
from .utils import check_positive_int, load_model

__all__ = ["gaussian_kl", "reparameterize", "VAE", "log_importance_weights", "iwae_loss", "importance_log_likelihood",
           "nll_estimate", "load_vae"]


def _check_gaussian(mu, logvar) -> None:
    checks.tensor(mu, "mu", kind="float")
    checks.tensor(logvar, "logvar", kind="float")
    checks.same_shape(mu, logvar, "mu and logvar")


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(μ, diag e^logvar) ‖ N(0, I)) per sample: ½ Σ_j (μ² + e^logvar − logvar − 1); shape (N,)."""
    _check_gaussian(mu, logvar)
    return 0.5 * (mu.pow(2) + logvar.exp() - logvar - 1.0).sum(dim=-1)


def reparameterize(mu: torch.Tensor, logvar: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """z = μ + σ ⊙ ε with σ = exp(½ logvar) and ε ~ N(0, I): differentiable in μ and logvar."""
    _check_gaussian(mu, logvar)
    eps = torch.randn(mu.shape, generator=generator, dtype=mu.dtype).to(mu.device)
    return mu + torch.exp(0.5 * logvar) * eps


class VAE(nn.Module):
    """MLP VAE for flattened images x ∈ [0, 1]^D, optionally conditional on a class label.

    ``likelihood="bernoulli"``: p(x | z) = Π_i Bern(x_i; sigmoid(logits_i)) (for binary x);
    ``likelihood="gaussian"``:  p(x | z) = Π_i N(x_i; m_i, s²) with a learned scalar log s.
    """

    def __init__(self, x_dim: int = 64, z_dim: int = 2, hidden: int = 256, likelihood: str = "bernoulli",
                 n_classes: int = 0):
        super().__init__()
        self.x_dim, self.z_dim = check_positive_int(x_dim, "x_dim"), check_positive_int(z_dim, "z_dim")
        hidden = check_positive_int(hidden, "hidden")
        if likelihood not in ("bernoulli", "gaussian"):
            raise ValueError(f"likelihood must be 'bernoulli' or 'gaussian', got {likelihood!r}")
        if isinstance(n_classes, bool) or not isinstance(n_classes, int) or n_classes < 0:
            raise ValueError(f"n_classes must be a non-negative integer, got {n_classes!r}")
        self.likelihood, self.n_classes = likelihood, n_classes
        self.encoder = nn.Sequential(nn.Linear(x_dim + n_classes, hidden), nn.ReLU(), nn.Linear(hidden, hidden),
                                     nn.ReLU())
        self.to_mu = nn.Linear(hidden, z_dim)
        self.to_logvar = nn.Linear(hidden, z_dim)
        self.decoder = nn.Sequential(nn.Linear(z_dim + n_classes, hidden), nn.ReLU(), nn.Linear(hidden, hidden),
                                     nn.ReLU(),
                                     nn.Linear(hidden, x_dim))
        self.log_scale = nn.Parameter(torch.zeros(())) if likelihood == "gaussian" else None

    def _cond(self, t: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
        if self.n_classes == 0:
            if y is not None:
                raise ValueError("this VAE is unconditional: do not pass labels")
            return t
        if y is None:
            raise ValueError("this VAE is conditional: pass the labels y")
        checks.class_ids(y, self.n_classes, "y", n=t.shape[0])
        return torch.cat([t, F.one_hot(y.long(), self.n_classes).to(t.dtype)], dim=-1)

    def _check_x(self, x: torch.Tensor) -> torch.Tensor:
        checks.tensor(x, "x", kind="float")
        x = x.flatten(1) if x.dim() > 2 else x
        if x.dim() != 2 or x.shape[1] != self.x_dim:
            raise ValueError(f"x must have {self.x_dim} features per sample, got shape {tuple(x.shape)}")
        if not torch.isfinite(x).all():
            raise ValueError("x contains NaN or infinite values")
        if self.likelihood == "bernoulli" and (x.min() < 0 or x.max() > 1):
            raise ValueError(f"a Bernoulli likelihood needs pixel values in [0, 1], got [{x.min().item():.3g}, "
                             f"{x.max().item():.3g}]; rescale the data or use likelihood='gaussian'")
        return x

    def encode(self, x: torch.Tensor, y: torch.Tensor | None = None):
        """q(z | x): returns μ (N, z_dim) and log σ² (N, z_dim)."""
        h = self.encoder(self._cond(self._check_x(x), y))
        return self.to_mu(h), self.to_logvar(h)

    def decode(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """Decoder output (N, x_dim): Bernoulli logits or Gaussian means."""
        return self.decoder(self._cond(z, y))

    def log_px_given_z(self, x: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        """log p(x | z) per sample, summed over pixels; shape (N,)."""
        if self.likelihood == "bernoulli":
            return -F.binary_cross_entropy_with_logits(out, x, reduction="none").sum(-1)
        var = torch.exp(2 * self.log_scale)
        return -0.5 * (((x - out) ** 2) / var + torch.log(2 * math.pi * var)).sum(-1)

    def elbo_terms(self, x: torch.Tensor, y: torch.Tensor | None = None,
                   generator: torch.Generator | None = None) -> dict:
        """Per-sample terms: ``recon`` = −log p(x | z) with z ~ q (one sample), ``kl``, ``elbo`` (N,)."""
        x = self._check_x(x)
        mu, logvar = self.encode(x, y)
        z = reparameterize(mu, logvar, generator)  # (N, z_dim): the encoder's sample goes to the decoder
        recon = -self.log_px_given_z(x, self.decode(z, y))
        kl = gaussian_kl(mu, logvar)
        return {"recon": recon, "kl": kl, "elbo": -(recon + kl), "mu": mu, "logvar": logvar}

    def loss(self, x: torch.Tensor, y: torch.Tensor | None = None, beta: float = 1.0) -> torch.Tensor:
        """Mean over the batch of −ELBO_β = recon + β · KL (β = 1: the true negative ELBO, nats per image)."""
        checks.number(beta, "beta", low=0)
        t = self.elbo_terms(x, y)
        return (t["recon"] + beta * t["kl"]).mean()

    @torch.no_grad()
    def sample(self, n: int, y: torch.Tensor | None = None, generator: torch.Generator | None = None,
               mean: bool = True) -> torch.Tensor:
        """z ~ N(0, I), then the decoder's mean (``mean=True``) or a draw from p(x | z); (n, x_dim)."""
        n = check_positive_int(n, "n")
        z = torch.randn(n, self.z_dim, generator=generator).to(next(self.parameters()).device)
        out = self.decode(z, y)
        if self.likelihood == "bernoulli":
            probs = torch.sigmoid(out)
            return probs if mean else torch.bernoulli(probs, generator=generator)
        return out if mean else out + torch.exp(self.log_scale) * torch.randn(out.shape, generator=generator)


def log_importance_weights(model: VAE, x: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor, k: int,
                           y: torch.Tensor | None = None, generator: torch.Generator | None = None) -> torch.Tensor:
    """log w_k = log p(x | z_k) + log p(z_k) − log q(z_k | x) for k reparameterised draws z_k ~ q(z | x) =
    N(μ, diag σ²) (``mu``, ``logvar`` from ``model.encode``; gradients flow through them); (k, N)."""
    std = torch.exp(0.5 * logvar)
    eps = torch.randn((k,) + mu.shape, generator=generator).to(mu.device)  # (k, N, z)
    z = mu + std * eps
    log_q = torch.distributions.Normal(mu, std).log_prob(z).sum(-1)  # (k, N)
    log_prior = torch.distributions.Normal(0.0, 1.0).log_prob(z).sum(-1)  # (k, N)
    out = model.decode(z.flatten(0, 1), None if y is None else y.repeat(k))  # (k · N, x_dim)
    log_lik = model.log_px_given_z(x.repeat(k, 1), out).view(k, -1)  # (k, N)
    return log_lik + log_prior - log_q


def iwae_loss(model: VAE, x: torch.Tensor, k: int, y: torch.Tensor | None = None,
              generator: torch.Generator | None = None) -> torch.Tensor:
    """−(1/N) Σ_n log (1/k) Σ_k w_nk: the negative importance-weighted bound L_k of Burda et al. (2016),
    the IWAE's training loss; L_1 is the ELBO, and L_k ≤ L_{k+1} ≤ log p(x) in expectation."""
    k = check_positive_int(k, "k")
    x = model._check_x(x)
    mu, logvar = model.encode(x, y)
    w = log_importance_weights(model, x, mu, logvar, k, y, generator)  # (k, N)
    return -(torch.logsumexp(w, dim=0) - math.log(k)).mean()


@torch.no_grad()
def importance_log_likelihood(model: VAE, x: torch.Tensor, y: torch.Tensor | None = None, k: int = 500,
                              generator: torch.Generator | None = None, chunk: int = 100) -> torch.Tensor:
    """log p(x) ≈ log (1/K) Σ_k p(x | z_k) p(z_k) / q(z_k | x), z_k ~ q(z | x) (Burda et al. 2016); (N,).

    A lower bound for every K that tightens as K grows (K = 1 gives the ELBO in expectation).
    """
    k = check_positive_int(k, "k")
    x = model._check_x(x)
    mu, logvar = model.encode(x, y)
    w = torch.cat([log_importance_weights(model, x, mu, logvar, min(chunk, k - start), y, generator)
                   for start in range(0, k, chunk)])  # (K, N)
    return torch.logsumexp(w, dim=0) - math.log(k)


def nll_estimate(model: VAE, x: torch.Tensor, k: int, seed: int = 0, batch: int = 100) -> float:
    """Mean −log p(x) in nats over the images x (N, x_dim), estimated by ``importance_log_likelihood`` with
    k samples, ``batch`` images at a time, all draws from one generator seeded with ``seed``."""
    batch = check_positive_int(batch, "batch")
    g = torch.Generator().manual_seed(seed)
    return -torch.cat([importance_log_likelihood(model, x[i:i + batch], k=k, generator=g)
                       for i in range(0, len(x), batch)]).mean().item()


def load_vae(path) -> VAE:
    """A VAE saved as ``{"config": VAE's keyword arguments, "state_dict": ...}`` (as benchmarks/mnist_vae.py
    writes data/checkpoints/mnist_{vae,iwae}.pt), loaded with ``weights_only=True``, in eval mode."""
    return load_model(VAE, path, "`python benchmarks/mnist_vae.py` writes the MNIST VAE "
                                 "(add `--set objective=iwae` for the IWAE)")
