"""Denoising diffusion models (Sohl-Dickstein et al. 2015; Ho et al. 2020; Song et al. 2021).

Forward process, t = 1..T, with β_t ∈ (0, 1), α_t = 1 − β_t, ᾱ_t = Π_{s≤t} α_s (ᾱ_0 = 1):

    q(x_t | x_{t−1}) = N(√α_t x_{t−1}, β_t I),      q(x_t | x_0) = N(√ᾱ_t x_0, (1 − ᾱ_t) I),
    so x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε with ε ~ N(0, I).

Posterior (for t ≥ 1):  q(x_{t−1} | x_t, x_0) = N(μ̃_t, β̃_t I) with

    μ̃_t = √ᾱ_{t−1} β_t / (1 − ᾱ_t) · x_0 + √α_t (1 − ᾱ_{t−1}) / (1 − ᾱ_t) · x_t,
    β̃_t = (1 − ᾱ_{t−1}) / (1 − ᾱ_t) · β_t          (β̃_1 = 0 because ᾱ_0 = 1).

A network ε_θ(x_t, t) predicts the noise; the simplified loss is E_{t, x_0, ε} ‖ε − ε_θ(x_t, t)‖².
DDPM (ancestral) sampling: x_{t−1} = (x_t − β_t / √(1 − ᾱ_t) · ε_θ) / √α_t + √β̃_t z.
DDIM (Song et al. 2021) on a decreasing sub-sequence of steps t → s (s < t):

    x̂_0 = (x_t − √(1 − ᾱ_t) ε_θ) / √ᾱ_t,
    σ = η √((1 − ᾱ_s) / (1 − ᾱ_t)) · √(1 − ᾱ_t / ᾱ_s),
    x_s = √ᾱ_s x̂_0 + √(1 − ᾱ_s − σ²) ε_θ + σ z;

η = 0 is deterministic; η = 1 with s = t − 1 is exactly the DDPM step above.
Classifier-free guidance (Ho & Salimans 2021): one network is trained with the label dropped
(replaced by a "null" class) with probability p_uncond, and sampling uses
ε̃ = ε_θ(x_t, t, ∅) + w (ε_θ(x_t, t, y) − ε_θ(x_t, t, ∅)); w = 1 is the plain conditional model.

Index convention: arrays have length T + 1 and are indexed by the math's t, entry 0 being x_0.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

from . import checks
from .utils import check_positive_int, eval_mode, load_model

__all__ = ["make_betas", "NoiseSchedule", "q_sample", "q_posterior", "ddpm_step", "ddim_step",
           "timestep_embedding", "MLPDenoiser", "UNetDenoiser", "Diffusion", "SCHEDULES"]

SCHEDULES = ("linear", "cosine")


def make_betas(kind: str = "linear", T: int = 1000) -> torch.Tensor:
    """β_1..β_T (float64, shape (T,)).

    ``linear``: evenly from 1e-4 to 0.02 for T = 1000 (Ho et al. 2020), both ends scaled by 1000/T
    so that ᾱ_T is about as small for any T.  ``cosine`` (Nichol & Dhariwal 2021):
    ᾱ_t = f(t)/f(0), f(t) = cos²(π/2 · (t/T + s)/(1 + s)), s = 0.008, β_t = min(1 − ᾱ_t/ᾱ_{t−1}, 0.999).
    """
    T = check_positive_int(T, "T")
    if kind == "linear":
        scale = 1000 / T
        return torch.linspace(scale * 1e-4, min(scale * 0.02, 0.999), T, dtype=torch.float64)
    if kind == "cosine":
        s = 0.008
        t = torch.arange(T + 1, dtype=torch.float64) / T
        f = torch.cos((t + s) / (1 + s) * math.pi / 2) ** 2
        alpha_bar = f / f[0]  # (T + 1,)
        return (1 - alpha_bar[1:] / alpha_bar[:-1]).clamp(max=0.999)
    raise ValueError(f"schedule kind must be one of {SCHEDULES}, got {kind!r}")


class NoiseSchedule(nn.Module):
    """β_t, α_t, ᾱ_t and derived quantities as buffers of length T + 1 (index = the math's t)."""

    def __init__(self, T: int = 1000, kind: str = "linear", betas: torch.Tensor | None = None):
        super().__init__()
        if betas is None:
            betas = make_betas(kind, T)
        betas = torch.as_tensor(betas, dtype=torch.float64)
        if betas.dim() != 1 or len(betas) == 0 or not bool(((betas > 0) & (betas < 1)).all()):
            raise ValueError("betas must be a non-empty 1-D sequence of numbers in (0, 1)")
        self.T, self.kind = len(betas), kind
        beta = torch.cat([torch.zeros(1, dtype=torch.float64), betas])  # (T + 1,), β_0 := 0
        alpha_bar = torch.cumprod(1 - beta, 0)  # (T + 1,), ᾱ_0 = 1
        alpha_bar_prev = torch.cat([torch.ones(1, dtype=torch.float64), alpha_bar[:-1]])
        posterior_var, coef_x0, coef_xt = torch.zeros_like(beta), torch.zeros_like(beta), torch.zeros_like(beta)
        posterior_var[1:] = (1 - alpha_bar_prev[1:]) / (1 - alpha_bar[1:]) * beta[1:]  # β̃_t
        coef_x0[1:] = alpha_bar_prev[1:].sqrt() * beta[1:] / (1 - alpha_bar[1:])  # μ̃_t's weight on x_0
        coef_xt[1:] = (1 - beta[1:]).sqrt() * (1 - alpha_bar_prev[1:]) / (1 - alpha_bar[1:])  # ... on x_t
        # computed in float64, stored in float32
        for name, value in dict(beta=beta, alpha=1 - beta, alpha_bar=alpha_bar, posterior_var=posterior_var,
                                posterior_coef_x0=coef_x0, posterior_coef_xt=coef_xt).items():
            self.register_buffer(name, value.float(), persistent=False)

    def check_t(self, t: torch.Tensor, low: int = 1) -> torch.Tensor:
        t = torch.as_tensor(t)
        if t.dtype.is_floating_point or bool(((t < low) | (t > self.T)).any()):
            shown = t.tolist() if t.numel() < 9 else t
            raise ValueError(f"timesteps must be integers in [{low}, {self.T}], got {shown}")
        return t.long().to(self.beta.device)

    def snr(self, t: torch.Tensor | None = None) -> torch.Tensor:
        """Signal-to-noise ratio ᾱ_t / (1 − ᾱ_t) at t (all t = 1..T when ``t`` is None)."""
        t = torch.arange(1, self.T + 1) if t is None else t
        ab = self.alpha_bar[self.check_t(t)]
        return ab / (1 - ab)


def _bcast(values: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """(N,) per-sample coefficients → (N, 1, ..., 1) to broadcast over a (N, ...) batch."""
    return values.view(-1, *([1] * (like.dim() - 1))).to(like.dtype)


def q_sample(schedule: NoiseSchedule, x0: torch.Tensor, t: torch.Tensor, eps: torch.Tensor | None = None,
             generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Draw x_t ~ q(x_t | x_0) = N(√ᾱ_t x_0, (1 − ᾱ_t) I); returns (x_t, ε), both shaped like x0.

    ``t`` is an int or a (N,) tensor of integers in [0, T] (t = 0 returns x_0 itself).
    """
    checks.tensor(x0, "x0", kind="float", finite=True)
    t = torch.as_tensor(t)
    if t.dim() > 1 or (t.dim() == 1 and len(t) not in (1, len(x0))):
        raise ValueError(f"t must be an int or a ({len(x0)},) tensor, one step per sample, got shape {tuple(t.shape)}")
    t = schedule.check_t(t.expand(x0.shape[0]), low=0)
    if eps is None:
        eps = torch.randn(x0.shape, generator=generator, dtype=x0.dtype).to(x0.device)
    elif eps.shape != x0.shape:
        raise ValueError(f"eps must have the shape of x0 {tuple(x0.shape)}, got {tuple(eps.shape)}")
    ab = _bcast(schedule.alpha_bar[t], x0)  # (N, 1, ...)
    return ab.sqrt() * x0 + (1 - ab).sqrt() * eps, eps


def q_posterior(schedule: NoiseSchedule, x0: torch.Tensor, xt: torch.Tensor, t: torch.Tensor):
    """Mean μ̃_t(x_t, x_0) (shaped like x0) and variance β̃_t ((N, 1, ...)) of q(x_{t−1} | x_t, x_0)."""
    checks.tensor(x0, "x0", kind="float", finite=True)
    checks.tensor(xt, "xt", kind="float", finite=True)
    checks.same_shape(x0, xt, "x0 and xt")
    t = torch.as_tensor(t)
    if t.dim() > 1 or (t.dim() == 1 and len(t) not in (1, len(x0))):
        raise ValueError(f"t must be one step or one per row of x0 ({len(x0)}), got shape {tuple(t.shape)}")
    t = schedule.check_t(t.expand(x0.shape[0]))
    mean = _bcast(schedule.posterior_coef_x0[t], x0) * x0 + _bcast(schedule.posterior_coef_xt[t], x0) * xt
    return mean, _bcast(schedule.posterior_var[t], x0)


def _check_step(schedule, xt, eps_pred, z) -> None:
    checks.tensor(xt, "xt", kind="float")
    checks.tensor(eps_pred, "eps_pred", kind="float")
    checks.same_shape(eps_pred, xt, "eps_pred and xt")
    if z is not None:
        checks.same_shape(checks.tensor(z, "z", kind="float"), xt, "z and xt")


def ddpm_step(schedule: NoiseSchedule, xt: torch.Tensor, t: int, eps_pred: torch.Tensor,
              z: torch.Tensor | None = None) -> torch.Tensor:
    """One ancestral step (Ho et al. 2020, Algorithm 2) with σ_t² = β̃_t:
    x_{t−1} = (x_t − β_t / √(1 − ᾱ_t) · ε_θ) / √α_t + σ_t z   (no noise is added at t = 1)."""
    _check_step(schedule, xt, eps_pred, z)
    t = int(schedule.check_t(torch.tensor(t)))
    beta, alpha, ab = (float(v[t]) for v in (schedule.beta, schedule.alpha, schedule.alpha_bar))
    mean = (xt - beta / math.sqrt(1 - ab) * eps_pred) / math.sqrt(alpha)
    if t == 1 or z is None:
        return mean
    return mean + math.sqrt(float(schedule.posterior_var[t])) * z


def _check_ddim(schedule, xt, t, s, eps_pred, eta, z, clip_x0) -> None:
    _check_step(schedule, xt, eps_pred, z)
    t, s = checks.nonneg_int(t, "t"), checks.nonneg_int(s, "s")
    if not 0 <= s < t <= schedule.T:
        raise ValueError(f"need 0 <= s < t <= T = {schedule.T}, got t = {t}, s = {s}")
    checks.number(eta, "eta", low=0)
    if clip_x0 is not None:
        checks.number(clip_x0, "clip_x0", low=0, low_open=True)


def ddim_step(schedule: NoiseSchedule, xt: torch.Tensor, t: int, s: int, eps_pred: torch.Tensor, eta: float = 0.0,
              z: torch.Tensor | None = None, clip_x0: float | None = None):
    """Generalised DDIM step from t to s < t (see the module docstring); returns (x_s, x̂_0, σ).

    With ``clip_x0`` = c, x̂_0 is clamped to [−c, c] and ε is recomputed from the clamped x̂_0.
    """
    _check_ddim(schedule, xt, t, s, eps_pred, eta, z, clip_x0)
    ab_t, ab_s = float(schedule.alpha_bar[t]), float(schedule.alpha_bar[s])
    x0_pred = (xt - math.sqrt(1 - ab_t) * eps_pred) / math.sqrt(ab_t)
    if clip_x0 is not None:
        x0_pred = x0_pred.clamp(-clip_x0, clip_x0)
        eps_pred = (xt - math.sqrt(ab_t) * x0_pred) / math.sqrt(1 - ab_t)
    sigma = eta * math.sqrt((1 - ab_s) / (1 - ab_t) * (1 - ab_t / ab_s))
    x_s = math.sqrt(ab_s) * x0_pred + math.sqrt(max(1 - ab_s - sigma ** 2, 0.0)) * eps_pred
    if sigma > 0 and z is not None:
        x_s = x_s + sigma * z
    return x_s, x0_pred, sigma


def timestep_embedding(t: torch.Tensor, dim: int, max_period: float = 10_000.0) -> torch.Tensor:
    """Sinusoidal features of integer steps (Vaswani et al. 2017): [cos(t ω_k), sin(t ω_k)], ω_k = P^(−k/(dim/2))."""
    t = checks.tensor(t, "t", dims=1, kind="real")
    dim, max_period = check_positive_int(dim, "dim"), checks.number(max_period, "max_period", low=1.0, low_open=True)
    if dim % 2:
        raise ValueError(f"dim must be even, got {dim}")
    freqs = torch.exp(-math.log(max_period) * torch.arange(dim // 2, device=t.device) / (dim // 2))  # (dim/2,)
    angles = t.float()[:, None] * freqs[None]  # (N, dim/2)
    return torch.cat([angles.cos(), angles.sin()], dim=-1)  # (N, dim)


class _Conditioning(nn.Module):
    """e(t, y) = MLP(sinusoid(t)) + E[y]; label n_classes is the "null" label used for guidance."""

    def __init__(self, dim: int, n_classes: int):
        super().__init__()
        if isinstance(n_classes, bool) or not isinstance(n_classes, int) or n_classes < 0:
            raise ValueError(f"n_classes must be a non-negative integer, got {n_classes!r}")
        self.dim, self.n_classes = dim, n_classes
        self.time = nn.Sequential(nn.Linear(dim, dim), nn.SiLU(), nn.Linear(dim, dim))
        self.label = nn.Embedding(n_classes + 1, dim) if n_classes else None

    def forward(self, t: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
        e = self.time(timestep_embedding(t, self.dim))  # (N, dim)
        if self.label is None:
            if y is not None:
                raise ValueError("this denoiser is unconditional: do not pass labels")
            return e
        if y is None:  # no label given: the null label (unconditional prediction)
            y = torch.full_like(t, self.n_classes)
        checks.class_ids(y, self.n_classes + 1, "y (labels, with n_classes = the null label)", n=t.shape[0])
        return e + self.label(y.long())


class MLPDenoiser(nn.Module):
    """ε_θ(x_t, t[, y]) for vectors x ∈ R^d: residual MLP blocks h ← h + W₂ SiLU(W₁ SiLU(h) + e(t, y))."""

    def __init__(self, x_dim: int = 2, hidden: int = 128, n_blocks: int = 3, n_classes: int = 0):
        super().__init__()
        self.x_dim, hidden = check_positive_int(x_dim, "x_dim"), check_positive_int(hidden, "hidden")
        self.cond = _Conditioning(hidden, n_classes)
        self.n_classes = n_classes
        self.inp = nn.Linear(x_dim, hidden)
        self.blocks = nn.ModuleList(nn.ModuleList([nn.Linear(hidden, hidden), nn.Linear(hidden, hidden)])
                                    for _ in range(check_positive_int(n_blocks, "n_blocks")))
        self.out = nn.Sequential(nn.SiLU(), nn.Linear(hidden, x_dim))

    def forward(self, x: torch.Tensor, t: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        if x.dim() != 2 or x.shape[1] != self.x_dim:
            raise ValueError(f"x must have shape (N, {self.x_dim}) for this MLP denoiser, got {tuple(x.shape)}")
        e = self.cond(t, y)  # (N, H)
        h = self.inp(x)  # (N, H)
        for lin1, lin2 in self.blocks:
            h = h + lin2(F.silu(lin1(F.silu(h)) + e))
        return self.out(h)  # (N, d)


class _ResBlock(nn.Module):
    """GroupNorm → SiLU → conv, add the conditioning vector, GroupNorm → SiLU → conv, plus a skip."""

    def __init__(self, c_in: int, c_out: int, e_dim: int):
        super().__init__()
        self.norm1, self.conv1 = nn.GroupNorm(8, c_in), nn.Conv2d(c_in, c_out, 3, padding=1)
        self.emb = nn.Linear(e_dim, c_out)
        self.norm2, self.conv2 = nn.GroupNorm(8, c_out), nn.Conv2d(c_out, c_out, 3, padding=1)
        self.skip = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x, e):
        h = self.conv1(F.silu(self.norm1(x)))  # (N, c_out, H, W)
        h = h + self.emb(F.silu(e))[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        return self.skip(x) + h


class UNetDenoiser(nn.Module):
    """A U-Net ε_θ(x_t, t[, y]) for (N, C, H, W) images; ``mults`` gives each resolution's width in units of
    ``width``: (1, 2) is 8×8 → 4×4 → 8×8 with one skip, (1, 2, 2) is 28×28 → 14×14 → 7×7 and back.

    Going down, level i applies a residual block at width w_i = width · mults[i], then a stride-2 convolution
    to w_{i+1}; two residual blocks work at the coarsest level; going up, a transposed convolution returns to
    w_i and a residual block reads its output concatenated with level i's (the skip connection).
    Every residual block adds the conditioning vector e(t, y).
    """

    def __init__(self, channels: int = 1, width: int = 32, n_classes: int = 0, mults: tuple[int, ...] = (1, 2)):
        super().__init__()
        c = check_positive_int(width, "width")
        if c % 8:
            raise ValueError(f"width must be a multiple of 8 (GroupNorm with 8 groups), got {c}")
        if not isinstance(mults, (tuple, list)) or len(mults) < 2:
            raise ValueError(f"mults must be a tuple of at least two width multipliers, got {mults!r}")
        w = [c * check_positive_int(m, "mults entry") for m in mults]  # width per resolution
        self.n_classes, e_dim = n_classes, 4 * c
        self.cond = _Conditioning(e_dim, n_classes)
        self.inp = nn.Conv2d(check_positive_int(channels, "channels"), c, 3, padding=1)
        self.downs, self.downsamples = nn.ModuleList(), nn.ModuleList()
        for i in range(len(w) - 1):
            self.downs.append(_ResBlock(w[i] if i else c, w[i], e_dim))
            self.downsamples.append(nn.Conv2d(w[i], w[i + 1], 3, stride=2, padding=1))
        self.mid1, self.mid2 = _ResBlock(w[-1], w[-1], e_dim), _ResBlock(w[-1], w[-1], e_dim)
        self.upsamples, self.ups = nn.ModuleList(), nn.ModuleList()
        for i in reversed(range(len(w) - 1)):
            self.upsamples.append(nn.ConvTranspose2d(w[i + 1], w[i], 4, stride=2, padding=1))
            self.ups.append(_ResBlock(2 * w[i], w[i], e_dim))
        self.out = nn.Sequential(nn.GroupNorm(8, c), nn.SiLU(), nn.Conv2d(c, channels, 3, padding=1))

    def forward(self, x: torch.Tensor, t: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        e = self.cond(t, y)  # (N, 4c)
        h, skips = self.inp(x), []  # (N, c, H, W)
        for block, down in zip(self.downs, self.downsamples):
            h = block(h, e)  # (N, w_i, H_i, W_i)
            skips.append(h)
            h = down(h)  # (N, w_{i+1}, H_i / 2, W_i / 2)
        h = self.mid2(self.mid1(h, e), e)  # (N, w_last, H_last, W_last)
        for up, block in zip(self.upsamples, self.ups):
            h = block(torch.cat([up(h), skips.pop()], dim=1), e)  # (N, w_i, H_i, W_i)
        return self.out(h)  # (N, C, H, W)


class Diffusion(nn.Module):
    """An ε-prediction diffusion model: a denoiser plus its noise schedule.

    ``loss`` is the simplified objective of Ho et al.; ``sample`` runs DDPM (``steps=None``,
    ``eta=1``) or DDIM on ``steps`` evenly spaced timesteps, optionally with classifier-free
    guidance and with known pixels held fixed (inpainting by replacement).
    """

    def __init__(self, denoiser: nn.Module, schedule: NoiseSchedule, p_uncond: float = 0.0):
        super().__init__()
        p_uncond = checks.probability(p_uncond, "p_uncond", allow_one=False)
        if not isinstance(schedule, NoiseSchedule):
            raise TypeError(f"schedule must be a NoiseSchedule, got {type(schedule).__name__}")
        self.denoiser, self.schedule, self.p_uncond = denoiser, schedule, p_uncond
        self.n_classes = getattr(denoiser, "n_classes", 0)

    @property
    def T(self) -> int:
        return self.schedule.T

    def loss(self, x0: torch.Tensor, y: torch.Tensor | None = None, generator: torch.Generator | None = None):
        """E_{t ~ U{1..T}, ε} ‖ε − ε_θ(√ᾱ_t x_0 + √(1 − ᾱ_t) ε, t)‖², averaged over elements."""
        checks.tensor(x0, "x0", kind="float", finite=True)
        x_dim = getattr(self.denoiser, "x_dim", None)  # an MLP denoiser takes vectors of one length
        if x_dim is not None and (x0.dim() != 2 or x0.shape[1] != x_dim):
            raise ValueError(f"x0 must have shape (N, {x_dim}) for this model's denoiser, got {tuple(x0.shape)}")
        n = x0.shape[0]
        if y is not None and self.n_classes == 0:
            raise ValueError("y was given, but this model is unconditional (n_classes=0); pass y=None")
        if y is not None:
            checks.class_ids(y, self.n_classes, "y", n=n)
        t = torch.randint(1, self.T + 1, (n,), generator=generator).to(x0.device)  # (N,)
        xt, eps = q_sample(self.schedule, x0, t, generator=generator)
        if y is not None and self.p_uncond > 0:  # label dropout teaches the unconditional model too
            drop = torch.rand(n, generator=generator).to(x0.device) < self.p_uncond
            y = torch.where(drop, torch.full_like(y, self.n_classes), y)
        return F.mse_loss(self.denoiser(xt, t, y), eps)

    def eps(self, xt: torch.Tensor, t: int, y: torch.Tensor | None = None, guidance: float = 1.0) -> torch.Tensor:
        """ε̃ = ε_θ(x_t, t, ∅) + w (ε_θ(x_t, t, y) − ε_θ(x_t, t, ∅)), or ε_θ(x_t, t) without labels."""
        tt = torch.full((xt.shape[0],), t, dtype=torch.long, device=xt.device)
        if y is None or guidance == 1.0:
            return self.denoiser(xt, tt, y)
        null = torch.full_like(y, self.n_classes)
        e = self.denoiser(torch.cat([xt, xt]), torch.cat([tt, tt]), torch.cat([y, null]))  # one batched call
        e_cond, e_uncond = e.chunk(2)
        return e_uncond + guidance * (e_cond - e_uncond)

    def timesteps(self, steps: int | None = None) -> list[int]:
        """Decreasing steps T = τ_1 > … > τ_S ≥ 1, evenly spaced (all T steps when ``steps`` is None)."""
        steps = self.T if steps is None else check_positive_int(steps, "steps")
        if steps > self.T:
            raise ValueError(f"steps must be at most T = {self.T}, got {steps}")
        return torch.linspace(self.T, 1, steps, dtype=torch.float64).round().long().tolist()

    def _check_sample(self, n, shape, eta, y, guidance, clip_x0, known, mask, resample) -> int:
        n = checks.positive_int(n, "n")
        if not isinstance(shape, (tuple, list)) or not shape:
            raise ValueError(f"shape must be a non-empty tuple of sizes per sample, got {shape!r}")
        [checks.positive_int(size, "shape entry") for size in shape]
        checks.number(eta, "eta", low=0)
        checks.number(guidance, "guidance", low=0)
        if clip_x0 is not None:
            checks.number(clip_x0, "clip_x0", low=0, low_open=True)
        if y is not None:
            if self.n_classes == 0:
                raise ValueError("this model is unconditional: do not pass labels y")
            checks.class_ids(y, self.n_classes, "y", n=n)
        if guidance != 1.0 and (self.n_classes == 0 or y is None):
            raise ValueError("guidance != 1 needs a class-conditional model and labels y")
        if (known is None) != (mask is None):
            raise ValueError("pass both known and mask, or neither")
        if known is not None:
            for name, x in (("known", known), ("mask", mask)):
                if checks.tensor(x, name).shape != (n, *shape):
                    raise ValueError(f"{name} must have shape {(n, *shape)}, got {tuple(x.shape)}")
        checks.positive_int(resample, "resample")
        return n

    @torch.no_grad()
    def sample(self, n: int, shape: tuple[int, ...], steps: int | None = None, eta: float = 1.0,
               y: torch.Tensor | None = None, guidance: float = 1.0, generator: torch.Generator | None = None,
               clip_x0: float | None = None, known: torch.Tensor | None = None, mask: torch.Tensor | None = None,
               resample: int = 1, return_chain: bool = False, progress: bool = False):
        """Draw n samples of the given per-sample ``shape``: x_T ~ N(0, I), then DDIM steps τ_i → τ_{i+1}
        (τ_{S+1} = 0). ``eta=1`` with all steps is ancestral DDPM sampling.

        ``known``/``mask`` (shaped (n, *shape); mask 1 = known): after each step the known entries are
        replaced by a fresh draw of q(x_s | known) — inpainting by replacement. ``resample`` = r > 1
        repeats every step r times, going back from s to t in between with
        q(x_t | x_s) = N(√(ᾱ_t/ᾱ_s) x_s, (1 − ᾱ_t/ᾱ_s) I), which lets the invented part adjust to the
        known part (RePaint, Lugmayr et al. 2022).
        Returns x_0 (n, *shape), or (x_0, chain) with the chain of states x_{τ_1}, …, x_0 on the CPU.
        """
        n = self._check_sample(n, shape, eta, y, guidance, clip_x0, known, mask, resample)
        device = next(self.parameters()).device
        randn = lambda: torch.randn((n, *shape), generator=generator).to(device)  # noqa: E731
        x = randn()  # x_T, (n, *shape)
        if known is not None:
            known, mask = known.to(device), mask.to(device).bool()
        if y is not None:
            y = y.to(device)
        taus = self.timesteps(steps) + [0]
        chain = [x.cpu()] if return_chain else None
        with eval_mode(self):
            pairs = list(zip(taus[:-1], taus[1:]))
            if progress:
                from tqdm.auto import tqdm
                pairs = tqdm(pairs, desc="sampling", leave=False)
            for t, s in pairs:
                for r in range(resample):
                    if r > 0:  # back from s to t: x_t ~ q(x_t | x_s)
                        ratio = float(self.schedule.alpha_bar[t] / self.schedule.alpha_bar[s])
                        x = math.sqrt(ratio) * x + math.sqrt(1 - ratio) * randn()
                    z = randn() if eta > 0 and s > 0 else None
                    x, _, _ = ddim_step(self.schedule, x, t, s, self.eps(x, t, y, guidance), eta=eta, z=z,
                                        clip_x0=clip_x0)
                    if known is not None:
                        known_s = q_sample(self.schedule, known, s, generator=generator)[0] if s > 0 else known
                        x = torch.where(mask, known_s, x)
                    if s == 0:
                        break
                if return_chain:
                    chain.append(x.cpu())
        return (x, chain) if return_chain else x


MNIST_CHECKPOINT = Path(__file__).resolve().parent.parent / "data" / "checkpoints" / "mnist_diffusion.pt"


def load_mnist_diffusion(path=None, T: int = 1000, schedule: str = "linear") -> Diffusion:
    """The class-conditional MNIST model that ``benchmarks/mnist_diffusion.py`` trains (its U-Net's weights in
    ``data/checkpoints/mnist_diffusion.pt``, loaded with ``weights_only=True``) with the noise schedule it was
    trained with, in eval mode; a missing file names the script that writes it."""
    denoiser = load_model(UNetDenoiser, MNIST_CHECKPOINT if path is None else path,
                          "run `python benchmarks/mnist_diffusion.py` to train the MNIST diffusion model")
    return Diffusion(denoiser, NoiseSchedule(T, schedule)).eval()
