"""Chapter 01 (foundations): perplexity, KL divergence, the E-step of a Gaussian mixture."""

import math

import torch

from .core import Exercise, Mistake, register

CHAPTER = "01"


def _perplexity_reference(logits: torch.Tensor, targets: torch.Tensor) -> float:
    """PPL = exp( −(1/N) Σ_n log softmax(logits_n)[y_n] ), natural logs throughout."""
    return math.exp(torch.nn.functional.cross_entropy(logits.double(), targets).item())


def _perplexity_cases():
    g = torch.Generator().manual_seed(1)
    return [
        ("uniform logits over 8 tokens (perplexity 8)", (torch.zeros(5, 8), torch.arange(5))),
        ("random logits, 50 tokens, V = 30",
         (torch.randn(50, 30, generator=g), torch.randint(0, 30, (50,), generator=g))),
        ("confident and right", (torch.eye(4) * 20, torch.arange(4))),
    ]


register(Exercise(
    name="perplexity", chapter=CHAPTER, difficulty="easy", minutes=5, title="perplexity from logits",
    reference=_perplexity_reference,
    cases=_perplexity_cases,
    hint="perplexity = exp(mean cross-entropy), with the log and the exp in the same base.",
    mistakes=[
        Mistake(lambda z, y: 2 ** torch.nn.functional.cross_entropy(z.double(), y).item(),
                "cross_entropy is in nats (natural log); 2 ** nats mixes bases: use math.exp."),
        Mistake(lambda z, y: math.exp(torch.nn.functional.cross_entropy(z.double(), y, reduction="sum").item()),
                "you exponentiated the SUM of the token losses; perplexity is exp of their MEAN."),
    ],
))


def _kl_reference(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """KL(p ‖ q) = Σ_x p(x) log(p(x) / q(x)) over the last axis, with 0 log 0 = 0."""
    return torch.where(p > 0, p * (p.log() - q.log()), torch.zeros_like(p)).sum(-1)


def _kl_cases():
    g = torch.Generator().manual_seed(2)
    p, q = torch.softmax(torch.randn(2, 6, generator=g), -1), torch.softmax(torch.randn(2, 6, generator=g), -1)
    return [
        ("identical distributions (KL = 0)", (p, p.clone())),
        ("two random distributions: KL(p ‖ q), not KL(q ‖ p)", (p, q)),
        ("p with a zero entry (0 log 0 = 0)", (torch.tensor([[0.5, 0.5, 0.0]]), torch.tensor([[0.2, 0.3, 0.5]]))),
    ]


register(Exercise(
    name="kl_divergence", chapter=CHAPTER, difficulty="easy", minutes=10, title="KL divergence of two distributions",
    reference=_kl_reference,
    cases=_kl_cases,
    hint="the expectation is under p (the first argument), and terms with p(x) = 0 contribute 0.",
    mistakes=[
        Mistake(lambda p, q: (q * (q / p).log()).sum(-1),
                "that is KL(q ‖ p): the divergence is not symmetric; weight the log-ratio log(p/q) by p."),
        Mistake(lambda p, q: (p * (p / q).log()).sum(-1),
                "0 · log 0 gave nan: a term with p(x) = 0 contributes 0 (use torch.where(p > 0, ..., 0))."),
    ],
))


def _e_step_reference(x, weights, means, variances):
    """r_nk = π_k N(x_n; μ_k, σ_k²) / Σ_j π_j N(x_n; μ_j, σ_j²) for 1-D data x (N,) and K components."""
    log_n = torch.distributions.Normal(means, variances.sqrt()).log_prob(x[:, None])  # (N, K)
    return torch.softmax(weights.log() + log_n, dim=1)


def _e_step_cases():
    g = torch.Generator().manual_seed(3)
    x = torch.randn(20, generator=g, dtype=torch.float64) * 2
    f64 = dict(dtype=torch.float64)
    return [
        ("two equal components", (x, torch.tensor([0.5, 0.5], **f64), torch.tensor([-1.0, 1.0], **f64),
                                  torch.tensor([1.0, 1.0], **f64))),
        ("unequal weights and variances", (x, torch.tensor([0.2, 0.3, 0.5], **f64),
                                           torch.tensor([-2.0, 0.0, 3.0], **f64),
                                           torch.tensor([0.5, 1.0, 4.0], **f64))),
    ]


register(Exercise(
    name="gmm_e_step", chapter=CHAPTER, difficulty="medium", minutes=15, title="responsibilities of a Gaussian mixture",
    reference=_e_step_reference,
    cases=_e_step_cases,
    hint="multiply each component's density by its weight π_k before normalising; variances are σ², not σ.",
    atol=1e-8, rtol=1e-6,
    mistakes=[
        Mistake(lambda x, w, m, v: torch.softmax(torch.distributions.Normal(m, v.sqrt()).log_prob(x[:, None]), 1),
                "the mixture weights π_k are missing: r_nk ∝ π_k N(x_n; μ_k, σ_k²)."),
        Mistake(lambda x, w, m, v: torch.softmax(w.log() + torch.distributions.Normal(m, v).log_prob(x[:, None]), 1),
                "torch.distributions.Normal takes the standard deviation σ = √variance, not the variance."),
    ],
))
