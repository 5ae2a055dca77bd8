"""Chapter 06 (GANs): the optimal discriminator, the non-saturating loss, the gradient penalty."""

import torch

from .core import Exercise, Mistake, register

CHAPTER = "06"


def _optimal_d_reference(p_data: torch.Tensor, p_model: torch.Tensor) -> torch.Tensor:
    """D*(x) = p_data(x) / (p_data(x) + p_g(x))."""
    return p_data / (p_data + p_model)


register(Exercise(
    name="optimal_discriminator", chapter=CHAPTER, difficulty="easy", minutes=5, title="the optimal discriminator",
    reference=_optimal_d_reference,
    cases=lambda: [("equal densities (D* = ½)", (torch.tensor([0.3, 0.1]), torch.tensor([0.3, 0.1]))),
                   ("data three times as likely", (torch.tensor([0.3]), torch.tensor([0.1]))),
                   ("only the model puts mass here", (torch.tensor([0.0, 0.2]), torch.tensor([0.4, 0.2])))],
    hint="maximising p_data log D + p_g log(1 − D) pointwise gives D* = p_data / (p_data + p_g).",
    mistakes=[
        Mistake(lambda pd, pg: pg / (pd + pg),
                "that is the probability that x came from the MODEL; D outputs the probability that x is real."),
        Mistake(lambda pd, pg: pd / pg, "a ratio of densities is not a probability: divide by p_data + p_g."),
    ],
))


def _ns_loss_reference(fake_logits: torch.Tensor) -> torch.Tensor:
    """Non-saturating generator loss −E log D(G(z)) = E softplus(−l) for discriminator logits l."""
    return torch.nn.functional.softplus(-fake_logits).mean()


register(Exercise(
    name="nonsaturating_loss", chapter=CHAPTER, difficulty="medium", minutes=10,
    title="the non-saturating generator loss",
    reference=_ns_loss_reference,
    cases=lambda: [("logits [0, 0]", (torch.zeros(2),)),
                   ("confident discriminator, logits −30", (torch.full((3,), -30.0),)),
                   ("mixed logits", (torch.tensor([2.0, -1.0, 0.5, -8.0]),)),
                   ("a hopeless generator, logits −200", (torch.full((2,), -200.0),))],
    hint="minimise −log D(G(z)), not log(1 − D(G(z))); compute it from logits with softplus so that "
         "very negative logits do not give log(0).",
    mistakes=[
        Mistake(lambda l: -torch.nn.functional.softplus(l).mean(),
                "that is the SATURATING loss log(1 − D(G(z))): its gradient vanishes exactly when D rejects the "
                "fakes confidently. Minimise −log D(G(z)) = softplus(−l) instead."),
        Mistake(lambda l: -torch.sigmoid(l).log().mean(),
                "sigmoid(−200) underflows to 0 and −log 0 = inf: compute −log σ(l) as softplus(−l)."),
    ],
))


def _gp_reference(critic_weight: torch.Tensor, real: torch.Tensor, fake: torch.Tensor,
                  eps: torch.Tensor) -> torch.Tensor:
    """Gradient penalty for the critic f(x) = tanh(x) · w summed, on x̂ = ε real + (1 − ε) fake, w.r.t. x̂."""
    x_hat = (eps[:, None] * real + (1 - eps[:, None]) * fake).requires_grad_(True)
    scores = (torch.tanh(x_hat) * critic_weight).sum(1)
    (grad,) = torch.autograd.grad(scores.sum(), x_hat)
    return ((grad.norm(dim=1) - 1) ** 2).mean()


def _gp_cases():
    g = torch.Generator().manual_seed(10)
    return [("3 samples in 2-D", (torch.tensor([1.0, -2.0]), torch.randn(3, 2, generator=g),
                                  torch.randn(3, 2, generator=g), torch.rand(3, generator=g))),
            ("8 samples in 5-D", (torch.randn(5, generator=g), torch.randn(8, 5, generator=g),
                                  torch.randn(8, 5, generator=g), torch.rand(8, generator=g)))]


def _gp_variant(w, real, fake, eps, minus_one=True, per_sample=True):
    x_hat = (eps[:, None] * real + (1 - eps[:, None]) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad((torch.tanh(x_hat) * w).sum(), x_hat)
    norm = grad.norm(dim=1) if per_sample else grad.norm()
    return ((norm - (1 if minus_one else 0)) ** 2).mean()


register(Exercise(
    name="gradient_penalty", chapter=CHAPTER, difficulty="hard", minutes=20, title="the WGAN-GP gradient penalty",
    reference=_gp_reference,
    cases=_gp_cases,
    hint="interpolate between real and fake with ε per sample, take the gradient of the critic w.r.t. the "
         "interpolate (not w.r.t. z), and penalise (‖grad‖₂ − 1)² per sample.",
    mistakes=[
        Mistake(lambda *a: _gp_variant(*a, minus_one=False),
                "you penalised ‖∇f‖², which pushes the gradient to 0; the 1-Lipschitz target is ‖∇f‖ = 1: "
                "(‖∇f‖ − 1)²."),
        Mistake(lambda *a: _gp_variant(*a, per_sample=False),
                "one norm over the whole batch: the constraint is per point, so take grad.norm(dim=1) for each "
                "sample."),
    ],
))
