import math

import pytest
import torch

from cgen_lessons.vae import VAE, gaussian_kl, importance_log_likelihood, reparameterize


def test_gaussian_kl_matches_torch_distributions_and_monte_carlo():
    g = torch.Generator().manual_seed(0)
    mu, logvar = (torch.randn(5, 3, generator=g, dtype=torch.float64),
                  torch.randn(5, 3, generator=g, dtype=torch.float64))
    q = torch.distributions.Normal(mu, torch.exp(0.5 * logvar))
    p = torch.distributions.Normal(torch.zeros_like(mu), torch.ones_like(mu))
    torch.testing.assert_close(gaussian_kl(mu, logvar), torch.distributions.kl_divergence(q, p).sum(-1))
    z = q.sample((200000,))
    mc = (q.log_prob(z) - p.log_prob(z)).sum(-1).mean(0)
    torch.testing.assert_close(gaussian_kl(mu, logvar), mc, atol=0.05, rtol=0.02)
    assert (gaussian_kl(mu, logvar) >= 0).all()
    assert gaussian_kl(torch.zeros(2, 4), torch.zeros(2, 4)).abs().max() < 1e-7


def test_reparameterize_moments_and_gradients():
    mu = torch.tensor([1.0, -2.0], requires_grad=True)
    logvar = torch.tensor([0.0, math.log(4.0)], requires_grad=True)
    z = reparameterize(mu.expand(50000, 2), logvar.expand(50000, 2), torch.Generator().manual_seed(0))
    torch.testing.assert_close(z.mean(0), mu.detach(), atol=0.03, rtol=0)
    torch.testing.assert_close(z.std(0), torch.tensor([1.0, 2.0]), atol=0.03, rtol=0)
    z.sum().backward()
    assert mu.grad is not None and logvar.grad is not None and logvar.grad.abs().sum() > 0


def linear_gaussian(seed=0):
    """p(z) = N(0, I₂), p(x | z) = N(W z + b, s² I₃): log p(x) and p(z | x) in closed form."""
    g = torch.Generator().manual_seed(seed)
    W, b, s = torch.randn(3, 2, generator=g, dtype=torch.float64), torch.randn(3, generator=g, dtype=torch.float64), 0.5
    return W, b, s


def test_elbo_is_below_the_exact_log_likelihood_and_the_gap_is_the_posterior_kl():
    W, b, s = linear_gaussian()
    x = torch.tensor([0.3, -1.0, 2.0], dtype=torch.float64)
    log_px = torch.distributions.MultivariateNormal(b, W @ W.T + s**2 * torch.eye(3, dtype=torch.float64)).log_prob(x)
    # exact posterior N(m, S): S = (I + WᵀW / s²)⁻¹, m = S Wᵀ (x − b) / s²
    S = torch.linalg.inv(torch.eye(2, dtype=torch.float64) + W.T @ W / s**2)
    m = S @ W.T @ (x - b) / s**2
    g = torch.Generator().manual_seed(1)
    for _ in range(5):  # random diagonal Gaussian q(z | x)
        q_mu, q_logvar = (torch.randn(2, generator=g, dtype=torch.float64),
                          torch.randn(2, generator=g, dtype=torch.float64))
        q = torch.distributions.Normal(q_mu, torch.exp(0.5 * q_logvar))
        z = q.sample((400000,))
        log_lik = torch.distributions.Normal(z @ W.T + b, s).log_prob(x).sum(-1)
        elbo = log_lik.mean() - gaussian_kl(q_mu, q_logvar)
        assert elbo < log_px
        post = torch.distributions.MultivariateNormal(m, S)
        kl_post = (q.log_prob(z).sum(-1) - post.log_prob(z)).mean()
        torch.testing.assert_close(log_px - elbo, kl_post, atol=0.02, rtol=0.01)


def test_gradients_reach_the_encoder_through_the_reconstruction_term():
    torch.manual_seed(0)
    vae = VAE(x_dim=6, z_dim=2, hidden=8)
    x = torch.rand(4, 6).round()
    terms = vae.elbo_terms(x)
    terms["recon"].mean().backward()  # the reconstruction term alone
    assert vae.to_mu.weight.grad.abs().sum() > 0 and vae.encoder[0].weight.grad.abs().sum() > 0
    # the articles' bug: decoding fresh noise instead of the encoder's sample cuts the encoder off
    vae.zero_grad()
    mu, logvar = vae.encode(x)
    recon_bug = -vae.log_px_given_z(x, vae.decode(torch.randn(4, 2)))
    (recon_bug.mean() + 0 * mu.sum() + 0 * logvar.sum()).backward()
    assert vae.to_mu.weight.grad.abs().sum() == 0


def test_importance_bound_is_above_the_elbo_and_shapes():
    torch.manual_seed(0)
    vae = VAE(x_dim=6, z_dim=2, hidden=8, n_classes=3)
    x, y = torch.rand(5, 6).round(), torch.tensor([0, 1, 2, 0, 1])
    g = torch.Generator().manual_seed(0)
    ll = importance_log_likelihood(vae, x, y, k=2000, generator=g)
    elbo = torch.stack([vae.elbo_terms(x, y)["elbo"] for _ in range(2000)]).mean(0)
    assert ll.shape == (5,) and (ll >= elbo.detach() - 1e-3).all()
    assert vae.sample(7, y=torch.arange(7) % 3, generator=g).shape == (7, 6)
    assert VAE(x_dim=6, likelihood="gaussian").sample(3, generator=g, mean=False).shape == (3, 6)


def test_bad_arguments():
    with pytest.raises(ValueError, match="likelihood"):
        VAE(likelihood="poisson")
    with pytest.raises(ValueError, match="same shape"):
        gaussian_kl(torch.zeros(2, 3), torch.zeros(2, 2))
    with pytest.raises(ValueError, match="features per sample"):
        VAE(x_dim=64).encode(torch.zeros(2, 10))
    with pytest.raises(ValueError, match="conditional"):
        VAE(x_dim=4, n_classes=2).encode(torch.zeros(1, 4))
    with pytest.raises(ValueError, match="unconditional"):
        VAE(x_dim=4).encode(torch.zeros(1, 4), torch.tensor([0]))
    with pytest.raises(ValueError, match="beta"):
        VAE(x_dim=4).loss(torch.zeros(1, 4), beta=-1)


def test_chapter05_checkers():
    from cgen_lessons.exercises import check

    assert check("vae_kl", lambda m, lv: gaussian_kl(m, lv)).passed
    assert not check("vae_kl", lambda m, lv: -0.5 * (1 + lv - m**2 - lv).sum(-1)).passed
    assert check("reparameterize", lambda m, lv, e: m + torch.exp(0.5 * lv) * e).passed
    assert not check("reparameterize", lambda m, lv, e: m + torch.exp(lv) * e).passed


def test_iwae_bound_is_the_elbo_at_k_1_and_tightens_with_k():
    from cgen_lessons.vae import VAE, iwae_loss

    torch.manual_seed(0)
    model = VAE(x_dim=6, z_dim=2, hidden=8)
    x = torch.bernoulli(torch.full((4000, 6), 0.3), generator=torch.Generator().manual_seed(1))
    g = torch.Generator().manual_seed(2)
    with torch.no_grad():
        neg_elbo = -model.elbo_terms(x, generator=g)["elbo"].mean()  # analytic KL, one decoder draw
        l1, l5, l50 = (iwae_loss(model, x, k, generator=g) for k in (1, 5, 50))
    torch.testing.assert_close(l1, neg_elbo, rtol=0, atol=0.05)  # same bound, two Monte Carlo estimates
    assert l1 > l5 > l50  # −L_1 ≥ −L_5 ≥ −L_50
    with pytest.raises(ValueError, match="k"):
        iwae_loss(model, x, 0)
