"""Generative adversarial networks (Goodfellow et al. 2014) and common variants.

Value function:  V(D, G) = E_{x~p_data}[log D(x)] + E_{z~p(z)}[log(1 − D(G(z)))],
D maximises V, G minimises it. For fixed G the best discriminator is
D*(x) = p_data(x) / (p_data(x) + p_g(x)), and V(D*, G) = 2 JS(p_data ‖ p_g) − log 4.
Discriminators here output a logit l, D = σ(l), and the losses use log σ(l) = −softplus(−l),
log(1 − σ(l)) = −softplus(l) for numerical stability ("BCE with logits").

Losses (each returns a scalar to *minimise*):
- discriminator:        softplus(−l_real) + softplus(l_fake)                   (= −V)
- generator, minimax:   −softplus(l_fake)                = E log(1 − D(G(z)))   (saturates)
- generator, non-sat.:  softplus(−l_fake)                = −E log D(G(z))
- LSGAN (Mao et al. 2017): D: ½(l_real − 1)² + ½ l_fake², G: ½(l_fake − 1)²
- WGAN-GP (Gulrajani et al. 2017): critic f: E f(fake) − E f(real) + λ E(‖∇_x̂ f(x̂)‖₂ − 1)²,
  x̂ = ε x_real + (1 − ε) x_fake, ε ~ U(0, 1) per sample; G: −E f(fake).
PacGAN (Lin et al. 2018): the discriminator judges ``pack`` samples at once, concatenated.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from . import checks, results
from .utils import check_positive_int, eval_mode, load_model

__all__ = ["MLPGenerator", "Maxout", "MLPDiscriminator", "ConvGenerator", "ConvDiscriminator", "ImageMLPGenerator",
           "ImageMLPDiscriminator", "DCGANGenerator", "DCGANDiscriminator", "GAN", "d_loss_bce",
           "g_loss_minimax", "g_loss_nonsaturating", "lsgan_losses", "gradient_penalty", "make_gan_step",
           "mode_coverage", "toy_gan_1d", "LOSSES", "dcgan_init", "MNIST_GAN_CHECKPOINTS",
           "load_mnist_generator"]

LOSSES = ("minimax", "nonsaturating", "lsgan", "wgan-gp")
MNIST_GAN_CHECKPOINTS = {arch: results.ROOT / "data" / "checkpoints" / f"mnist_gan_{arch}.pt"
                         for arch in ("mlp", "dcgan")}


class MLPGenerator(nn.Module):
    """G(z): an MLP from z_dim to out_dim (linear output). With ``batch_norm`` every hidden layer is
    Linear (no bias) → BatchNorm → ReLU, as in the 2-D experiments of Lin et al. (2018)."""

    def __init__(self, z_dim: int = 2, out_dim: int = 2, hidden: int = 128, n_layers: int = 3,
                 batch_norm: bool = False):
        super().__init__()
        self.z_dim = check_positive_int(z_dim, "z_dim")
        dims = [z_dim] + [check_positive_int(hidden, "hidden")] * check_positive_int(n_layers, "n_layers")
        layers = []
        for a, b in zip(dims, dims[1:]):
            layers += [nn.Linear(a, b, bias=False), nn.BatchNorm1d(b), nn.ReLU()] if batch_norm else [nn.Linear(a, b),
                                                                                                      nn.ReLU()]
        self.net = nn.Sequential(*layers, nn.Linear(dims[-1], check_positive_int(out_dim, "out_dim")))

    def forward(self, z):
        return self.net(z)


class Maxout(nn.Module):
    """maxout_k(h): split the last axis into groups of k consecutive units and keep each group's maximum
    (Goodfellow et al. 2013); a Linear(a, b·k) followed by Maxout(k) is a LinearMaxout layer of width b."""

    def __init__(self, pieces: int):
        super().__init__()
        self.pieces = check_positive_int(pieces, "pieces")

    def forward(self, h):
        return h.unflatten(-1, (h.shape[-1] // self.pieces, self.pieces)).amax(-1)  # (..., b·k) -> (..., b)


class MLPDiscriminator(nn.Module):
    """Logit l(x) of an MLP; with ``pack`` = m it scores groups of m samples concatenated (PacGAN).
    Hidden units are LeakyReLU(0.2), or maxout units with ``maxout`` = k > 1 pieces (Lin et al. 2018 use
    3 layers of 200 units with 5 pieces)."""

    def __init__(self, in_dim: int = 2, hidden: int = 128, n_layers: int = 3, pack: int = 1,
                 spectral_norm: bool = False,
                 maxout: int = 1):
        super().__init__()
        self.pack = check_positive_int(pack, "pack")
        k = check_positive_int(maxout, "maxout")
        sn = nn.utils.parametrizations.spectral_norm if spectral_norm else (lambda m: m)
        hidden, n_layers = check_positive_int(hidden, "hidden"), check_positive_int(n_layers, "n_layers")
        dims = [check_positive_int(in_dim, "in_dim") * self.pack] + [hidden] * n_layers
        layers = []
        for a, b in zip(dims, dims[1:]):
            layers += [sn(nn.Linear(a, b * k)), Maxout(k)] if k > 1 else [sn(nn.Linear(a, b)), nn.LeakyReLU(0.2)]
        self.net = nn.Sequential(*layers, sn(nn.Linear(dims[-1], 1)))

    def forward(self, x):
        x = x.flatten(1)
        if x.shape[0] % self.pack:
            raise ValueError(f"batch size {x.shape[0]} is not divisible by pack = {self.pack}")
        return self.net(x.reshape(x.shape[0] // self.pack, -1)).squeeze(-1)  # (B / pack,)


class ConvGenerator(nn.Module):
    """DCGAN-style generator for 8×8 images in [0, 1]: z → 128×2×2 → 64×4×4 → 1×8×8."""

    def __init__(self, z_dim: int = 32, width: int = 64):
        super().__init__()
        self.z_dim, w = check_positive_int(z_dim, "z_dim"), check_positive_int(width, "width")
        self.fc = nn.Sequential(nn.Linear(z_dim, 2 * w * 4), nn.BatchNorm1d(2 * w * 4), nn.ReLU())
        self.net = nn.Sequential(
            nn.ConvTranspose2d(2 * w, w, 4, stride=2, padding=1), nn.BatchNorm2d(w), nn.ReLU(),  # (B, w, 4, 4)
            nn.ConvTranspose2d(w, 1, 4, stride=2, padding=1), nn.Sigmoid())  # (B, 1, 8, 8)
        self.width = w

    def forward(self, z):
        return self.net(self.fc(z).view(-1, 2 * self.width, 2, 2))


class ConvDiscriminator(nn.Module):
    """DCGAN-style discriminator for 8×8 images: 1×8×8 → 64×4×4 → 128×2×2 → logit."""

    def __init__(self, width: int = 64, spectral_norm: bool = False):
        super().__init__()
        w = check_positive_int(width, "width")
        sn = nn.utils.parametrizations.spectral_norm if spectral_norm else (lambda m: m)
        self.pack = 1
        self.net = nn.Sequential(
            sn(nn.Conv2d(1, w, 4, stride=2, padding=1)), nn.LeakyReLU(0.2),  # (B, w, 4, 4)
            sn(nn.Conv2d(w, 2 * w, 4, stride=2, padding=1)), nn.LeakyReLU(0.2),  # (B, 2w, 2, 2)
            nn.Flatten(), sn(nn.Linear(2 * w * 4, 1)))

    def forward(self, x):
        if not ((x.dim() == 4 and tuple(x.shape[1:]) == (1, 8, 8)) or (x.dim() == 2 and x.shape[1] == 64)):
            raise ValueError(f"ConvDiscriminator takes 8×8 single-channel images, (B, 1, 8, 8) or (B, 64); "
                             f"got shape {tuple(x.shape)}")
        return self.net(x.reshape(-1, 1, 8, 8)).squeeze(-1)  # (B,)


class ImageMLPGenerator(nn.Module):
    """Article A §5.2's MNIST generator (the networks were right; its training code was not):
    z (B, z_dim) → 256 → 512 (ReLU) → 784, tanh → images (B, 1, 28, 28) in [−1, 1]."""

    def __init__(self, z_dim: int = 100, hidden: tuple = (256, 512)):
        super().__init__()
        self.z_dim = check_positive_int(z_dim, "z_dim")
        if not isinstance(hidden, (tuple, list)) or not hidden:
            raise ValueError(f"hidden must be a non-empty tuple of layer widths, got {hidden!r}")
        dims = [z_dim, *(check_positive_int(h, "hidden") for h in hidden)]
        layers = [m for a, b in zip(dims, dims[1:]) for m in (nn.Linear(a, b), nn.ReLU())]
        self.net = nn.Sequential(*layers, nn.Linear(dims[-1], 28 * 28), nn.Tanh())

    def forward(self, z):
        return self.net(z).view(-1, 1, 28, 28)  # (B, 1, 28, 28)


class ImageMLPDiscriminator(nn.Module):
    """Article A §5.2's discriminator with its missing ReLU defined and its first layer used:
    x (B, 1, 28, 28) → 784 → 512 → 256 (ReLU) → logit l(x); D(x) = σ(l(x))."""

    def __init__(self, hidden: tuple = (512, 256)):
        super().__init__()
        if not isinstance(hidden, (tuple, list)) or not hidden:
            raise ValueError(f"hidden must be a non-empty tuple of layer widths, got {hidden!r}")
        dims = [28 * 28, *(check_positive_int(h, "hidden") for h in hidden)]
        layers = [m for a, b in zip(dims, dims[1:]) for m in (nn.Linear(a, b), nn.ReLU())]
        self.net = nn.Sequential(nn.Flatten(), *layers, nn.Linear(dims[-1], 1))

    def forward(self, x):
        return self.net(x).squeeze(-1)  # (B,)


def dcgan_init(m: nn.Module) -> None:
    """Radford et al.'s initialisation: (transposed) convolution weights ~ N(0, 0.02²), batch-norm scales
    ~ N(1, 0.02²) and shifts 0 (article B leaves PyTorch's defaults)."""
    if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(m.weight, 0.0, 0.02)
    elif isinstance(m, nn.BatchNorm2d):
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)


class DCGANGenerator(nn.Module):
    """The DCGAN generator of Radford et al. (2016) as article B §5.2.1 lays it out, for 32×32 images:
    z (B, z_dim) → 4w×4×4 → 2w×8×8 → w×16×16 (transposed convolutions with kernel 4, batch norm, ReLU)
    → channels×32×32, tanh, in [−1, 1]. MNIST's 28×28 digits are padded to 32×32 to fit it."""

    def __init__(self, z_dim: int = 100, width: int = 64, channels: int = 1):
        super().__init__()
        self.z_dim, w = check_positive_int(z_dim, "z_dim"), check_positive_int(width, "width")
        ups = [(z_dim, 4 * w, 1, 0), (4 * w, 2 * w, 2, 1), (2 * w, w, 2, 1)]  # (in, out, stride, padding)
        layers = [m for c_in, c_out, stride, pad in ups for m in
                  (nn.ConvTranspose2d(c_in, c_out, 4, stride, pad, bias=False), nn.BatchNorm2d(c_out), nn.ReLU())]
        self.net = nn.Sequential(*layers, nn.ConvTranspose2d(w, check_positive_int(channels, "channels"), 4, 2, 1,
                                                             bias=False), nn.Tanh())
        self.apply(dcgan_init)

    def forward(self, z):
        return self.net(z.view(-1, self.z_dim, 1, 1))  # (B, z_dim, 1, 1) -> (B, channels, 32, 32)


class DCGANDiscriminator(nn.Module):
    """Article B §5.2.1's DCGAN discriminator for 32×32 images, returning a logit (no sigmoid; the losses
    take logits): channels×32×32 → w×16×16 → 2w×8×8 → 4w×4×4 (convolutions with kernel 4 and stride 2,
    batch norm after all but the first, LeakyReLU 0.2) → a 4×4 convolution to one logit."""

    def __init__(self, width: int = 64, channels: int = 1):
        super().__init__()
        w, self.channels = check_positive_int(width, "width"), check_positive_int(channels, "channels")
        self.net = nn.Sequential(
            nn.Conv2d(channels, w, 4, 2, 1, bias=False), nn.LeakyReLU(0.2),  # (B, w, 16, 16)
            nn.Conv2d(w, 2 * w, 4, 2, 1, bias=False), nn.BatchNorm2d(2 * w), nn.LeakyReLU(0.2),  # (B, 2w, 8, 8)
            nn.Conv2d(2 * w, 4 * w, 4, 2, 1, bias=False), nn.BatchNorm2d(4 * w), nn.LeakyReLU(0.2),  # (B, 4w, 4, 4)
            nn.Conv2d(4 * w, 1, 4, 1, 0, bias=False))  # (B, 1, 1, 1)
        self.apply(dcgan_init)

    def forward(self, x):
        if x.dim() != 4 or tuple(x.shape[1:]) != (self.channels, 32, 32):
            raise ValueError(f"DCGANDiscriminator takes images (B, {self.channels}, 32, 32); got {tuple(x.shape)}")
        return self.net(x).flatten()  # (B,)


class GAN(nn.Module):
    """A container so that the shared training loop can save, load and move both networks."""

    def __init__(self, G: nn.Module, D: nn.Module):
        super().__init__()
        self.G, self.D = G, D

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        z = torch.randn(check_positive_int(n, "n"), self.G.z_dim,
                        generator=generator).to(next(self.G.parameters()).device)
        with eval_mode(self.G):
            return self.G(z)  # (n, ...)


def _check_logits(**logits) -> None:
    """Discriminator outputs: non-empty floating-point tensors of any shape."""
    for name, value in logits.items():
        checks.tensor(value, name, kind="float")


def d_loss_bce(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """−V(D, G) = −E log D(x) − E log(1 − D(G(z))) = E softplus(−l_real) + E softplus(l_fake)."""
    _check_logits(real_logits=real_logits, fake_logits=fake_logits)
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def g_loss_minimax(fake_logits: torch.Tensor) -> torch.Tensor:
    """The original generator objective E log(1 − D(G(z))) = −E softplus(l_fake), minimised."""
    _check_logits(fake_logits=fake_logits)
    return -F.softplus(fake_logits).mean()


def g_loss_nonsaturating(fake_logits: torch.Tensor) -> torch.Tensor:
    """−E log D(G(z)) = E softplus(−l_fake): strong gradients when D rejects the fakes."""
    _check_logits(fake_logits=fake_logits)
    return F.softplus(-fake_logits).mean()


def lsgan_losses(real_logits, fake_logits, for_generator: bool):
    """Least-squares GAN with targets 1 (real) and 0 (fake)."""
    if not isinstance(for_generator, bool):
        raise TypeError(f"for_generator must be True or False, got {for_generator!r}")
    _check_logits(fake_logits=fake_logits, **({} if for_generator else {"real_logits": real_logits}))
    if for_generator:
        return 0.5 * ((fake_logits - 1) ** 2).mean()
    return 0.5 * ((real_logits - 1) ** 2).mean() + 0.5 * (fake_logits**2).mean()


def gradient_penalty(critic: nn.Module, real: torch.Tensor, fake: torch.Tensor,
                     generator: torch.Generator | None = None) -> torch.Tensor:
    """E_x̂ (‖∇_x̂ f(x̂)‖₂ − 1)² on random interpolates x̂ = ε real + (1 − ε) fake, taken w.r.t. x̂ (the data
    space), never w.r.t. z."""
    checks.tensor(real, "real", kind="float")
    checks.tensor(fake, "fake", kind="float")
    checks.same_shape(real, fake, "real and fake")
    eps = torch.rand((real.shape[0],) + (1,) * (real.dim() - 1), generator=generator).to(real.device)
    x_hat = (eps * real + (1 - eps) * fake.detach()).requires_grad_(True)
    scores = critic(x_hat)
    (grad,) = torch.autograd.grad(scores.sum(), x_hat, create_graph=True)
    return ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()


def make_gan_step(loss: str = "nonsaturating", n_critic: int = 1, gp_weight: float = 10.0):
    """A ``step_fn`` for ``cgen_lessons.train.fit``: ``n_critic`` discriminator updates, then one
    generator update, with the chosen loss. ``fit`` passes the GAN, a batch of real data and the
    optimisers {"D": ..., "G": ...}; the step returns the losses and the mean D(x), D(G(z))."""
    if loss not in LOSSES:
        raise ValueError(f"unknown GAN loss {loss!r}; choose one of {', '.join(LOSSES)}")
    n_critic = check_positive_int(n_critic, "n_critic")
    gp_weight = checks.number(gp_weight, "gp_weight", low=0)

    def step(gan: GAN, real: torch.Tensor, optimizers: dict) -> dict:
        if set(optimizers) != {"D", "G"}:
            raise ValueError("a GAN step needs optimizers {'D': ..., 'G': ...}")
        B = checks.tensor(real, "real", kind="float").shape[0]
        for _ in range(n_critic):
            z = torch.randn(B, gan.G.z_dim, device=real.device)
            fake = gan.G(z).detach()  # D's update must not move G
            l_real, l_fake = gan.D(real), gan.D(fake)
            if loss == "wgan-gp":
                d_loss = l_fake.mean() - l_real.mean() + gp_weight * gradient_penalty(gan.D, real, fake)
            elif loss == "lsgan":
                d_loss = lsgan_losses(l_real, l_fake, for_generator=False)
            else:
                d_loss = d_loss_bce(l_real, l_fake)
            optimizers["D"].zero_grad(set_to_none=True)
            d_loss.backward()
            optimizers["D"].step()
        z = torch.randn(B, gan.G.z_dim, device=real.device)
        l_gen = gan.D(gan.G(z))  # not detached: the generator learns through D
        if loss == "wgan-gp":
            g_loss = -l_gen.mean()
        elif loss == "lsgan":
            g_loss = lsgan_losses(None, l_gen, for_generator=True)
        elif loss == "minimax":
            g_loss = g_loss_minimax(l_gen)
        else:
            g_loss = g_loss_nonsaturating(l_gen)
        optimizers["G"].zero_grad(set_to_none=True)
        g_loss.backward()
        optimizers["G"].step()
        return {"d_loss": d_loss.item(), "g_loss": g_loss.item(),
                "D_real": torch.sigmoid(l_real).mean().item(), "D_fake": torch.sigmoid(l_fake).mean().item()}

    return step


def mode_coverage(samples: torch.Tensor, modes: torch.Tensor, std: float,
                  min_count: int = 20) -> tuple[int, float, list[int]]:
    """Mode coverage on a mixture of K well-separated Gaussians (the 2-D protocol of Srivastava
    et al. 2017 and Lin et al. 2018, evaluated on 2,500 samples).

    A sample is *high quality* if it lies within 3σ of its nearest mode. A mode is *captured* if
    at least ``min_count`` high-quality samples are nearest to it: with ``min_count=1`` a single
    stray sample would count, so a generator that smears a thin haze over the whole ring could
    "capture" every mode while almost none of its samples are any good. Returns (modes captured,
    fraction of high-quality samples, high-quality count per mode).
    """
    checks.tensor(samples, "samples", dims=2, kind="float", finite=True)
    checks.tensor(modes, "modes", dims=2, kind="float", finite=True)
    if samples.shape[1] != modes.shape[1]:
        raise ValueError(f"samples (N, d) and modes (K, d) must have the same d, "
                         f"got {samples.shape[1]} and {modes.shape[1]}")
    checks.number(std, "std", low=0, low_open=True)
    min_count = check_positive_int(min_count, "min_count")
    dist, nearest = torch.cdist(samples.float(), modes.float()).min(dim=1)  # (N,), (N,)
    good = dist <= 3 * std
    per_mode = torch.bincount(nearest[good], minlength=len(modes))  # (K,) high-quality samples per mode
    return int((per_mode >= min_count).sum()), good.float().mean().item(), per_mode.tolist()


def toy_gan_1d(generator_loss, steps: int = 400, data_mean: float = 3.0, seed: int = 0) -> float:
    """The smallest GAN that shows which way a generator loss pushes: data x ~ N(data_mean, 0.5²), a
    generator that shifts noise, G(z) = z/2 + b with z ~ N(0, 1), and a logistic discriminator
    D(x) = σ(w₀ + w₁x + w₂x²) trained with the correct loss softplus(−l_real) + softplus(l_fake) (= −V).

    ``generator_loss(l_fake)`` maps the discriminator's logits on a fake batch to the scalar G minimises,
    e.g. ``g_loss_nonsaturating``. Adam (lr 0.05) on both players, 128 samples per step; returns the
    final shift b, i.e. the generator's mean, which a sound loss brings close to ``data_mean``.
    """
    steps = check_positive_int(steps, "steps")
    g = torch.Generator().manual_seed(seed)
    b = torch.zeros(1, requires_grad=True)
    w = torch.zeros(3, requires_grad=True)
    opt_g, opt_d = torch.optim.Adam([b], 0.05), torch.optim.Adam([w], 0.05)

    def d_logit(x):  # (N,) -> (N,)
        return w[0] + w[1] * x + w[2] * x ** 2

    for _ in range(steps):
        real_x = data_mean + 0.5 * torch.randn(128, generator=g)  # (128,)
        fake_x = 0.5 * torch.randn(128, generator=g) + b  # (128,)
        opt_d.zero_grad()
        d_loss_bce(d_logit(real_x), d_logit(fake_x.detach())).backward()
        opt_d.step()
        opt_g.zero_grad()
        generator_loss(d_logit(fake_x)).backward()
        opt_g.step()
    return b.item()


def load_mnist_generator(arch: str, path=None) -> nn.Module:
    """The generator that ``benchmarks/mnist_gan.py`` trains for ``arch`` ("mlp": article A's, 28×28; "dcgan":
    article B's, 32×32), loaded with ``weights_only=True`` in eval mode; a missing file names the script."""
    if arch not in MNIST_GAN_CHECKPOINTS:
        raise ValueError(f"arch must be one of {sorted(MNIST_GAN_CHECKPOINTS)}, got {arch!r}")
    cls = ImageMLPGenerator if arch == "mlp" else DCGANGenerator
    return load_model(cls, MNIST_GAN_CHECKPOINTS[arch] if path is None else path,
                      f"run `python benchmarks/mnist_gan.py --set arch={arch}` to train it")
