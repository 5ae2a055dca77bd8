import math

import pytest
import torch

from cgen_lessons.gan import (
    GAN,
    ConvDiscriminator,
    ConvGenerator,
    MLPDiscriminator,
    MLPGenerator,
    d_loss_bce,
    g_loss_minimax,
    g_loss_nonsaturating,
    gradient_penalty,
    make_gan_step,
    mode_coverage,
)
from cgen_lessons.metrics import frechet_distance


def test_package_d_loss_is_smallest_at_the_optimal_discriminator():
    """The package's d_loss_bce, evaluated on samples of p_data = N(0, 1) and p_g = N(1.5, 0.7²),
    is lowest for the optimal discriminator D* = p_data / (p_data + p_g) (logit log p_data − log p_g)
    and rises when that logit is shifted either way; at D* it equals log 4 − 2 JS (integrated)."""
    g = torch.Generator().manual_seed(0)
    p_data, p_g = torch.distributions.Normal(0.0, 1.0), torch.distributions.Normal(1.5, 0.7)
    real = torch.randn(200_000, generator=g, dtype=torch.float64)
    fake = 1.5 + 0.7 * torch.randn(200_000, generator=g, dtype=torch.float64)
    l_star = lambda x: p_data.log_prob(x) - p_g.log_prob(x)
    at_star = d_loss_bce(l_star(real), l_star(fake)).item()
    for eps in (0.3, -0.3):  # the same samples for both: the comparison is not Monte Carlo noise
        assert at_star < d_loss_bce(l_star(real) + eps, l_star(fake) + eps).item() - 1e-3
    x = torch.linspace(-8, 8, 4001, dtype=torch.float64)
    pd, pg = p_data.log_prob(x).exp(), p_g.log_prob(x).exp()
    m = (pd + pg) / 2
    js = 0.5 * ((pd * (pd / m).log() + pg * (pg / m).log()) * (x[1] - x[0])).sum().item()
    assert at_star == pytest.approx(math.log(4) - 2 * js, abs=5e-3)


def test_losses_equal_their_formulas():
    real, fake = torch.tensor([2.0, -1.0]), torch.tensor([0.5, -3.0])
    D_real, D_fake = torch.sigmoid(real), torch.sigmoid(fake)
    torch.testing.assert_close(d_loss_bce(real, fake), -(D_real.log().mean() + (1 - D_fake).log().mean()))
    torch.testing.assert_close(g_loss_minimax(fake), (1 - D_fake).log().mean())
    torch.testing.assert_close(g_loss_nonsaturating(fake), -D_fake.log().mean())


def test_gradient_penalty_on_a_linear_critic():
    """f(x) = wᵀx has ∇f = w everywhere, so the penalty is (‖w‖ − 1)² whatever the interpolates."""
    critic = torch.nn.Linear(3, 1, bias=True)
    with torch.no_grad():
        critic.weight.copy_(torch.tensor([[2.0, -1.0, 2.0]]))  # ‖w‖ = 3
    real, fake = torch.randn(16, 3), torch.randn(16, 3)
    gp = gradient_penalty(lambda x: critic(x).squeeze(-1), real, fake)
    torch.testing.assert_close(gp, torch.tensor((3.0 - 1.0) ** 2))
    with pytest.raises(ValueError, match="same shape"):
        gradient_penalty(critic, real, fake[:3])


@pytest.mark.parametrize("loss", ["minimax", "nonsaturating", "lsgan", "wgan-gp"])
def test_generator_receives_gradients_and_step_runs(loss):
    torch.manual_seed(0)
    gan = GAN(MLPGenerator(2, 2, 16, 2), MLPDiscriminator(2, 16, 2))
    opts = {"G": torch.optim.SGD(gan.G.parameters(), lr=0.0), "D": torch.optim.SGD(gan.D.parameters(), lr=0.0)}
    out = make_gan_step(loss, n_critic=2)(gan, torch.randn(8, 2), opts)
    assert set(out) == {"d_loss", "g_loss", "D_real", "D_fake"}
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in gan.G.parameters() if p.dim() > 1)


class _SpySGD(torch.optim.SGD):
    """Records, at each zero_grad, which of its parameters already held a gradient."""

    def zero_grad(self, set_to_none=True):
        self.seen = [p.grad is not None for group in self.param_groups for p in group["params"]]
        super().zero_grad(set_to_none)


@pytest.mark.parametrize("loss", ["nonsaturating", "wgan-gp"])
def test_gan_step_keeps_the_discriminator_update_away_from_the_generator(loss):
    """make_gan_step detaches the fakes for D's update (the articles' code does not): when the
    generator's turn comes, D's losses must not have left any gradient in G's parameters."""
    torch.manual_seed(0)
    gan = GAN(MLPGenerator(2, 2, 8, 2), MLPDiscriminator(2, 8, 2))
    opts = {"G": _SpySGD(gan.G.parameters(), lr=0.1), "D": torch.optim.SGD(gan.D.parameters(), lr=0.1)}
    make_gan_step(loss, n_critic=3)(gan, torch.randn(8, 2), opts)
    assert opts["G"].seen and not any(opts["G"].seen)


def test_conv_nets_shapes_and_pack():
    torch.manual_seed(0)
    G, D = ConvGenerator(16, 8), ConvDiscriminator(8, spectral_norm=True)
    x = G(torch.randn(5, 16))
    assert x.shape == (5, 1, 8, 8) and x.min() >= 0 and x.max() <= 1
    assert D(x).shape == (5,)
    assert MLPDiscriminator(2, 8, 2, pack=4)(torch.randn(8, 2)).shape == (2,)
    with pytest.raises(ValueError, match="divisible by pack"):
        MLPDiscriminator(2, 8, 2, pack=4)(torch.randn(6, 2))


def test_mode_coverage():
    modes = torch.tensor([[0.0, 0.0], [4.0, 0.0]])
    samples = torch.tensor([[0.01, 0.0], [0.0, 0.02], [2.0, 2.0], [10.0, 0.0]])
    assert mode_coverage(samples, modes, std=0.02, min_count=1) == (1, 0.5, [2, 0])
    with pytest.raises(ValueError, match="8×8"):
        ConvDiscriminator()(torch.randn(2, 1, 16, 16))  # would otherwise be cut into 8 fragments
    assert mode_coverage(samples, modes, std=0.02, min_count=3)[0] == 0  # two good samples are not enough
    with pytest.raises(ValueError, match="std"):
        mode_coverage(samples, modes, std=0.0)
    with pytest.raises(ValueError, match="NaN"):
        mode_coverage(torch.full((3, 2), float("nan")), modes, std=0.02)


def test_mode_coverage_does_not_credit_a_haze():
    """A ring of uniform haze with a few samples near each mode: every mode gets a stray
    high-quality sample, so counting one sample would report 8 of 8 modes."""
    g = torch.Generator().manual_seed(0)
    modes = torch.stack([torch.cos(torch.arange(8) * torch.pi / 4), torch.sin(torch.arange(8) * torch.pi / 4)], 1) * 2
    angle = torch.rand(2500, generator=g) * 2 * torch.pi
    haze = torch.stack([angle.cos(), angle.sin()], 1) * 2 + 0.2 * torch.randn(2500, 2, generator=g)
    captured_any, hq, per_mode = mode_coverage(haze, modes, std=0.02, min_count=1)
    assert captured_any == 8 and hq < 0.05 and sum(per_mode) == round(hq * 2500)
    assert mode_coverage(haze, modes, std=0.02)[0] < 8


def test_frechet_distance_properties():
    g = torch.Generator().manual_seed(0)
    a = torch.randn(2000, 5, generator=g, dtype=torch.float64)
    assert abs(frechet_distance(a, a)) < 1e-8
    d = [frechet_distance(a, a + s * torch.randn(2000, 5, generator=g, dtype=torch.float64)) for s in (0.1, 0.5, 1.0)]
    assert d[0] < d[1] < d[2]
    # two Gaussians with known parameters: FD = ‖μ₁ − μ₂‖² + Σ (σ₁ − σ₂)² for diagonal covariances
    b = 2.0 * torch.randn(200000, 5, generator=g, dtype=torch.float64) + 1.0
    c = torch.randn(200000, 5, generator=g, dtype=torch.float64)
    assert abs(frechet_distance(b, c) - (5 * 1.0 + 5 * 1.0)) < 0.1
    with pytest.raises(ValueError, match="same d"):
        frechet_distance(a, a[:, :3])


def test_bad_arguments():
    with pytest.raises(ValueError, match="unknown GAN loss"):
        make_gan_step("hinge")
    with pytest.raises(ValueError, match="n_critic"):
        make_gan_step("wgan-gp", n_critic=0)
    gan = GAN(MLPGenerator(2, 2, 8, 1), MLPDiscriminator(2, 8, 1))
    with pytest.raises(ValueError, match="optimizers"):
        make_gan_step()(gan, torch.randn(4, 2), {"G": torch.optim.SGD(gan.G.parameters(), lr=0.1)})


def test_chapter06_checkers():
    from cgen_lessons.exercises import check
    from cgen_lessons.exercises.ch06 import _gp_reference

    assert check("nonsaturating_loss", lambda logits: g_loss_nonsaturating(logits)).passed
    assert not check("nonsaturating_loss", lambda l: torch.log(1 - torch.sigmoid(l)).mean()).passed
    assert check("gradient_penalty", lambda *a, **k: _gp_reference(*a, **k)).passed

    def no_interpolation(w, real, fake, eps):
        x = fake.clone().requires_grad_(True)
        (grad,) = torch.autograd.grad((torch.tanh(x) * w).sum(), x)
        return ((grad.norm(dim=1) - 1) ** 2).mean()

    assert not check("gradient_penalty", no_interpolation).passed


def test_spectral_norm_bounds_every_discriminator_layer():
    """With spectral_norm=True each Linear weight is divided by its largest singular value
    (estimated by power iteration, refined on every training-mode forward pass)."""
    torch.manual_seed(0)
    D = MLPDiscriminator(2, 32, 2, spectral_norm=True)
    x = torch.randn(16, 2)
    for _ in range(30):
        D(x)
    linears = [m for m in D.modules() if isinstance(m, torch.nn.Linear)]
    assert len(linears) == 3
    for layer in linears:
        torch.testing.assert_close(torch.linalg.matrix_norm(layer.weight.detach(), ord=2), torch.tensor(1.0),
                                   atol=1e-3, rtol=0)
    plain = MLPDiscriminator(2, 32, 2)
    assert any(abs(torch.linalg.matrix_norm(m.weight.detach(), ord=2).item() - 1) > 0.05
               for m in plain.modules() if isinstance(m, torch.nn.Linear))


def test_packing_groups_consecutive_samples_of_one_kind():
    """PacGAN's discriminator sees m samples concatenated: rows (x0, x1), (x2, x3), … of *one*
    batch; make_gan_step calls D on real-only and fake-only batches, so packs never mix the two."""
    D = MLPDiscriminator(2, 8, 2, pack=2)
    seen = []
    D.net[0].register_forward_hook(lambda module, args, out: seen.append(args[0].detach().clone()))
    x = torch.arange(8.0).view(4, 2)  # samples (0,1), (2,3), (4,5), (6,7)
    D(x)
    assert torch.equal(seen[0], torch.tensor([[0.0, 1, 2, 3], [4, 5, 6, 7]]))

    torch.manual_seed(0)
    gan = GAN(MLPGenerator(2, 2, 8, 2), MLPDiscriminator(2, 8, 2, pack=2))
    calls = []
    gan.D.register_forward_pre_hook(lambda module, args: calls.append(args[0].detach().clone()))
    real = torch.randn(8, 2) + 10.0  # far from anything the generator produces
    opts = {"G": torch.optim.SGD(gan.G.parameters(), lr=0.0), "D": torch.optim.SGD(gan.D.parameters(), lr=0.0)}
    make_gan_step("nonsaturating", n_critic=2)(gan, real, opts)
    is_real = [(batch > 5).all(1) for batch in calls]  # per row: a real sample?
    assert len(calls) == 5 and all(r.all() or not r.any() for r in is_real)  # 2 × (real, fake) + 1 generator call
    assert sum(bool(r.all()) for r in is_real) == 2


def test_seeded_gan_training_is_repeatable():
    from cgen_lessons.train import fit

    def train():
        torch.manual_seed(0)
        gan = GAN(MLPGenerator(2, 2, 16, 2), MLPDiscriminator(2, 16, 2))
        opts = {"G": torch.optim.Adam(gan.G.parameters(), 1e-3), "D": torch.optim.Adam(gan.D.parameters(), 1e-3)}
        fit(gan, opts, lambda g: torch.randn(32, 2, generator=g), steps=30, step_fn=make_gan_step("nonsaturating"),
            progress=False, seed=3)
        return [p.detach().clone() for p in gan.parameters()]

    assert all(torch.equal(a, b) for a, b in zip(train(), train()))


def test_maxout_keeps_the_largest_of_each_group_of_pieces():
    from cgen_lessons.gan import Maxout

    h = torch.tensor([[1.0, 5.0, 2.0, -1.0, -3.0, -2.0]])  # two units of three pieces
    assert torch.equal(Maxout(3)(h), torch.tensor([[5.0, -1.0]]))
    D = MLPDiscriminator(2, 200, 3, pack=2, maxout=5)  # Lin et al.'s 2-D discriminator, packing 2
    widths = [(m.in_features, m.out_features) for m in D.modules() if isinstance(m, torch.nn.Linear)]
    assert widths == [(4, 1000), (200, 1000), (200, 1000), (200, 1)]
    assert D(torch.randn(6, 2)).shape == (3,)
    with pytest.raises(ValueError, match="maxout"):
        MLPDiscriminator(2, 8, 2, maxout=0)


def test_batch_norm_generator_normalises_each_hidden_layer():
    G = MLPGenerator(2, 2, 400, 4, batch_norm=True)
    norms = [m for m in G.modules() if isinstance(m, torch.nn.BatchNorm1d)]
    linears = [m for m in G.modules() if isinstance(m, torch.nn.Linear)]
    assert len(norms) == 4 and [m.bias is None for m in linears] == [True] * 4 + [False]
    gan = GAN(G, MLPDiscriminator(2, 8, 1))
    a, b = gan.sample(5, torch.Generator().manual_seed(0)), gan.sample(5, torch.Generator().manual_seed(0))
    assert torch.equal(a, b) and G.training  # sampling uses the running statistics, then restores training mode
