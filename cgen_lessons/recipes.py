"""Recipes shared between chapters and benchmark scripts, so that later chapters rebuild
exactly the same models instead of copying training code:

- the language-model settings of chapters 02–03 (trained on random windows, ``lm_batch``);
- the digit models of chapters 06–07: the feature network behind the digits Fréchet distance
  (``DigitScorer``), the DCGAN/LSGAN of chapter 06, a Gaussian-likelihood VAE for the
  continuous digits, and chapter 07's diffusion models (digits and 2-D);
- the shipped weights: ``shipped_char_lm`` and ``shipped_digit_model`` load what a benchmark script
  trained with these recipes (seed 0), or train the model now when the file is absent.

Every recipe seeds everything, builds the model, and trains it with the shared loop ``fit``.
"""

from __future__ import annotations

import functools
import math
import time
from dataclasses import dataclass, field
from typing import Literal

import torch
import torch.nn.functional as F

from . import checks, data, results
from .config import Settings
from .diffusion import Diffusion, MLPDenoiser, NoiseSchedule, UNetDenoiser
from .gan import (
    GAN,
    ConvDiscriminator,
    ConvGenerator,
    DCGANDiscriminator,
    DCGANGenerator,
    ImageMLPDiscriminator,
    ImageMLPGenerator,
    make_gan_step,
)
from .metrics import frechet_distance
from .rnn import RecurrentLM
from .train import decay_groups, fit, warmup_cosine
from .transformer import GPT
from .utils import check_positive_int, eval_mode, load_model, seed_everything
from .vae import VAE

__all__ = ["NGramSettings", "RNNSettings", "GPTSettings", "DiffusionSettings", "NGRAM_SETTINGS", "RNN_SETTINGS",
           "GPT_SETTINGS", "char_lm_splits", "char_lm_config", "train_recurrent_lm", "train_gpt", "train_char_lm",
           "CHAR_LM_CHECKPOINTS", "shipped_char_lm", "DigitScorer", "digit_gan", "train_dcgan", "digit_vae_config",
           "train_digit_vae", "digit_diffusion_config", "digit_diffusion", "DIGIT_CHECKPOINTS", "DIGIT_MODEL_THREADS",
           "train_digit_model", "digit_samples", "shipped_digit_model",
           "DIFFUSION_SETTINGS", "train_digit_diffusion", "train_toy_diffusion", "MnistDiffusionSettings",
           "MNIST_DIFFUSION_SETTINGS", "train_mnist_diffusion", "MnistGANSettings", "MNIST_GAN_SETTINGS",
           "to_gan_images", "from_gan_images", "mnist_gan_samples", "train_mnist_gan"]


@dataclass(frozen=True)
class NGramSettings(Settings):
    """Chapter 01's choice on the validation plays (its notebook checks it)."""
    n: int = 9
    beta: float = 100.0


@dataclass(frozen=True)
class LMSettings(Settings):
    """A character LM's training recipe. ``schedule="cosine"``: linear warmup over the first ``warmup``
    fraction of the steps, then cosine decay to ``min_lr_ratio`` × lr (``train.warmup_cosine``);
    ``"constant"``: the same lr throughout."""
    block: int = 64
    batch: int = 32
    steps: int = 500
    clip: float = 1.0
    schedule: Literal["cosine", "constant"] = "cosine"
    warmup: float = 0.1
    min_lr_ratio: float = 0.1
    dropout: float = 0.0


@dataclass(frozen=True)
class RNNSettings(LMSettings):
    """Chapter 02. Peak learning rates per cell chosen on the validation plays by benchmarks/lm_lr_sweep.py."""
    d_embed: int = 64
    d_hidden: int = 128
    steps: int = 400
    lr: dict | float = field(default_factory=lambda: {"rnn": 2.4e-2, "lstm": 2.4e-2, "gru": 1.2e-2})


@dataclass(frozen=True)
class GPTSettings(LMSettings):
    """Chapter 03."""
    d_model: int = 128
    n_heads: int = 4
    n_layers: int = 2
    lr: float = 8e-3
    weight_decay: float = 0.1


@dataclass(frozen=True)
class DiffusionSettings(Settings):
    """Chapter 07's digit U-Net."""
    width: int = 16
    T: int = 200
    schedule: Literal["cosine", "linear"] = "cosine"
    p_uncond: float = 0.1
    lr: float = 2e-3
    batch: int = 128
    steps: int = 1500


@dataclass(frozen=True)
class MnistDiffusionSettings(Settings):
    """Chapter 07's MNIST U-Net (benchmarks/mnist_diffusion.py): three resolutions, 28×28 → 14×14 → 7×7."""
    width: int = 16
    mults: tuple = (1, 2, 4)
    T: int = 1000
    schedule: Literal["cosine", "linear"] = "linear"
    p_uncond: float = 0.1
    lr: float = 5e-4
    batch: int = 128
    steps: int = 7000
    ema: float = 0.999


@dataclass(frozen=True)
class MnistGANSettings(Settings):
    """Chapter 06's MNIST GANs (benchmarks/mnist_gan.py): article A's MLP GAN ("mlp", 28×28, A's batch of 32) or
    article B's DCGAN ("dcgan", 32×32, B's batch of 64), both with Adam (2·10⁻⁴, β₁ = 0.5) and the
    non-saturating loss."""
    arch: Literal["mlp", "dcgan"] = "dcgan"
    z_dim: int = 100
    width: int = 64  # the DCGAN's w (B: 64); unused by the MLP
    lr: float = 2e-4
    beta1: float = 0.5  # B's (and Radford et al.'s); A keeps Adam's default 0.9
    batch: int = 64
    steps: int = 3000


NGRAM_SETTINGS = NGramSettings()
RNN_SETTINGS = RNNSettings()
GPT_SETTINGS = GPTSettings()
DIFFUSION_SETTINGS = DiffusionSettings()
MNIST_DIFFUSION_SETTINGS = MnistDiffusionSettings()
MNIST_GAN_SETTINGS = {"mlp": MnistGANSettings(arch="mlp", batch=32, steps=20_000),
                      "dcgan": MnistGANSettings(arch="dcgan", steps=8000)}


@functools.lru_cache(maxsize=1)
def char_lm_splits():
    """The course's English LM data: a character tokenizer over the whole Shakespeare corpus and
    the train / validation / test id streams, split by whole plays (``data.shakespeare_splits``)."""
    splits = data.shakespeare_splits()
    tok = data.CharTokenizer.from_text(data.load_corpus("shakespeare"))
    return tok, tok.encode(splits["train"]), tok.encode(splits["val"]), tok.encode(splits["test"])


def _settings(defaults: Settings, overrides: dict):
    """Split ``overrides`` into changed recipe settings and keyword arguments for ``fit``."""
    changes = {k: v for k, v in overrides.items() if k in defaults.keys()}
    return defaults.replace(**changes), {k: v for k, v in overrides.items() if k not in changes}


def _train(model, opt, train_ids, s, seed, desc, **fit_kwargs):
    scheduler = None
    if s.schedule == "cosine":
        scheduler = warmup_cosine(opt, round(s.warmup * s.steps), s.steps, s.min_lr_ratio)
    start = time.perf_counter()
    history = fit(model, opt, lambda g: data.lm_batch(train_ids, s.block, s.batch, g), steps=s.steps,
                  grad_clip=s.clip, scheduler=scheduler, desc=desc, seed=seed, **fit_kwargs)
    return model, history, time.perf_counter() - start


def char_lm_config(name: str, vocab_size: int, s: Settings | None = None) -> dict:
    """The constructor arguments of a chapter 02–03 language model ("rnn", "lstm", "gru": ``RecurrentLM``;
    "gpt": ``GPT``) under settings ``s`` (default: the recipe's) — what the recipes build and what
    ``benchmarks/char_lms.py`` saves beside the weights."""
    if name == "gpt":
        s = s or GPT_SETTINGS
        return {"vocab_size": vocab_size, "block_size": s.block, "d_model": s.d_model, "n_heads": s.n_heads,
                "n_layers": s.n_layers, "dropout": s.dropout}
    s = s or RNN_SETTINGS
    return {"vocab_size": vocab_size, "cell": name, "d_embed": s.d_embed, "d_hidden": s.d_hidden,
            "dropout": s.dropout}


def train_recurrent_lm(cell: str, train_ids: torch.Tensor, vocab_size: int, *, seed: int = 0, **overrides):
    """Chapter 02's character LM (``cell`` = "rnn", "lstm" or "gru"), Adam with the recipe's schedule
    and the cell's peak learning rate: returns (model, history, seconds).
    ``overrides`` may change any key of ``RNN_SETTINGS`` and pass ``eval_fn``, ``eval_every`` or
    ``progress`` to ``fit``."""
    s, fit_kwargs = _settings(RNN_SETTINGS, overrides)
    seed_everything(seed)
    model = RecurrentLM(**char_lm_config(cell, vocab_size, s))
    lr = s.lr[cell] if isinstance(s.lr, dict) else s.lr  # per-cell default, or one overriding value
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    return _train(model, opt, train_ids, s, seed, f"{cell} LM", **fit_kwargs)


def train_gpt(train_ids: torch.Tensor, vocab_size: int, *, seed: int = 0, **overrides):
    """Chapter 03's GPT: AdamW with weight decay on the weight matrices only (``decay_groups``), the
    recipe's schedule, and the GPT-2 initialisation of ``GPT``; returns (model, history, seconds);
    ``overrides`` as in ``train_recurrent_lm``."""
    s, fit_kwargs = _settings(GPT_SETTINGS, overrides)
    seed_everything(seed)
    model = GPT(**char_lm_config("gpt", vocab_size, s))
    opt = torch.optim.AdamW(decay_groups(model, s.weight_decay), lr=s.lr)
    return _train(model, opt, train_ids, s, seed, "GPT", **fit_kwargs)


def train_char_lm(name: str, train_ids: torch.Tensor, vocab_size: int, **overrides):
    """Any language model of chapters 02–03 by name — "rnn", "lstm", "gru" (``train_recurrent_lm``)
    or "gpt" (``train_gpt``) — so benchmarks can loop over them; returns (model, history, seconds)."""
    if name == "gpt":
        return train_gpt(train_ids, vocab_size, **overrides)
    return train_recurrent_lm(name, train_ids, vocab_size, **overrides)


CHAR_LM_CHECKPOINTS = {name: results.ROOT / "data" / "checkpoints" / f"char_{name}.pt" for name in ("gpt", "gru")}


def shipped_char_lm(name: str):
    """Chapter 03's GPT (``name="gpt"``) or chapter 02's GRU (``"gru"``) exactly as their recipes train them
    (seed 0, on ``char_lm_splits``' training stream): the weights ``benchmarks/char_lms.py`` wrote, loaded with
    ``weights_only=True``, when the file is there; otherwise the recipe trains the model now. Returns (the model
    in eval mode, a sentence saying which of the two happened)."""
    if name not in CHAR_LM_CHECKPOINTS:
        raise ValueError(f"name must be one of {sorted(CHAR_LM_CHECKPOINTS)}, got {name!r}")
    path = CHAR_LM_CHECKPOINTS[name]
    if path.is_file():
        model = load_model(GPT if name == "gpt" else RecurrentLM, path, "")
        return model, f"loaded the shipped {name.upper()} ({path.name}, written by benchmarks/char_lms.py)"
    tok, train_ids, _, _ = char_lm_splits()
    model, _, seconds = train_char_lm(name, train_ids, tok.vocab_size)
    return model.eval(), f"no shipped {path.name}: trained the {name.upper()} with its recipe ({seconds:.0f} s)"


def _random_rows(x: torch.Tensor, y: torch.Tensor | None, batch: int):
    """batch_fn for ``fit``: ``batch`` random rows of x (and of y when given)."""
    return data.random_rows(x, batch_size=batch) if y is None else data.random_rows(x, y, batch_size=batch)


def _loss_fn(conditional: bool, **loss_kwargs):
    """loss_fn for ``fit`` on batches from ``_random_rows``: model.loss(x), or model.loss(x, y)."""
    if conditional:
        return lambda m, b: m.loss(b[0], b[1], **loss_kwargs)
    return lambda m, b: m.loss(b, **loss_kwargs)


class DigitScorer:
    """Chapter 06's yardstick for 8×8 digit samples in [0, 1]: a small MLP classifier trained on
    the training digits; its 64-D penultimate features φ(x) feed the Fréchet distance

        FD = ‖μ_real − μ_gen‖² + tr(Σ_real + Σ_gen − 2 (Σ_real^{1/2} Σ_gen Σ_real^{1/2})^{1/2})

    against the *test* digits (lower is better)."""

    def __init__(self, digits: data.Split | None = None, steps: int = 600, seed: int = 0, progress: bool = True,
                 train: tuple[torch.Tensor, torch.Tensor] | None = None):
        """``train`` = (images, labels) replaces the training digits (e.g. a few-shot or augmented set);
        the Fréchet distance and ``test_accuracy`` always use the test digits."""
        self.digits = digits if digits is not None else data.load_digits()
        x, y = train if train is not None else (self.digits.x_train, self.digits.y_train)
        if len(x) != len(y):
            raise ValueError(f"train images and labels differ in number: {len(x)} vs {len(y)}")
        seed_everything(seed)
        self.features = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 128), torch.nn.ReLU(),
                                            torch.nn.Linear(128, 64), torch.nn.ReLU())
        self.classifier = torch.nn.Sequential(self.features, torch.nn.Linear(64, 10))
        fit(self.classifier, torch.optim.Adam(self.classifier.parameters(), lr=2e-3),
            _random_rows(self._check(x), y, 128), steps=check_positive_int(steps, "steps"),
            loss_fn=lambda m, b: F.cross_entropy(m(b[0]), b[1]), desc="feature classifier", seed=seed,
            progress=progress)
        self.classifier.eval()
        self.test_accuracy = self.accuracy(self.digits.x_test, self.digits.y_test)

    @staticmethod
    def _check(images: torch.Tensor) -> torch.Tensor:
        if images.dim() < 2 or images[0].numel() != 64:
            raise ValueError(f"expected 8×8 digit images, shape (N, 1, 8, 8) or (N, 64); got {tuple(images.shape)}")
        return images.float().cpu()

    @torch.no_grad()
    def predict(self, images: torch.Tensor) -> torch.Tensor:
        """The classifier's labels for images in [0, 1]; (N,)."""
        return self.classifier(self._check(images)).argmax(1)

    def accuracy(self, images: torch.Tensor, labels: torch.Tensor) -> float:
        """Fraction of images the classifier assigns to ``labels``."""
        return (self.predict(images) == labels.cpu()).float().mean().item()

    @torch.no_grad()
    def probs(self, images: torch.Tensor) -> torch.Tensor:
        """The classifier's class probabilities p(y | x) for images in [0, 1]; (N, 10)."""
        return torch.softmax(self.classifier(self._check(images)), dim=1)

    @torch.no_grad()
    def embed(self, images: torch.Tensor) -> torch.Tensor:
        """The 64-D penultimate features φ(x) that the Fréchet distance compares; (N, 64)."""
        return self.features(self._check(images))

    @torch.no_grad()
    def fd(self, images: torch.Tensor) -> float:
        """Fréchet distance between the features of the test digits and of ``images``."""
        return frechet_distance(self.embed(self.digits.x_test), self.embed(images))


def digit_gan(z_dim: int = 32, width: int = 64) -> GAN:
    """Chapter 06's 8×8 DCGAN, untrained: ``ConvGenerator`` and ``ConvDiscriminator`` in one ``GAN``."""
    return GAN(ConvGenerator(z_dim, width), ConvDiscriminator(width))


def digit_vae_config(z_dim: int = 8, likelihood: str = "gaussian", conditional: bool = False) -> dict:
    """The ``VAE`` keyword arguments of ``train_digit_vae``: flattened 8×8 digits, hidden 256."""
    return {"x_dim": 64, "z_dim": z_dim, "hidden": 256, "likelihood": likelihood, "n_classes": 10 if conditional else 0}


def digit_diffusion_config(s: DiffusionSettings | None = None, channels: int = 1, conditional: bool = True) -> dict:
    """The keyword arguments of ``digit_diffusion`` for settings ``s`` (default ``DIFFUSION_SETTINGS``)."""
    s = s or DIFFUSION_SETTINGS
    return {"channels": channels, "width": s.width, "T": s.T, "schedule": s.schedule,
            "n_classes": 10 if conditional else 0, "p_uncond": s.p_uncond if conditional else 0.0}


def digit_diffusion(channels: int, width: int, T: int, schedule: str, n_classes: int, p_uncond: float) -> Diffusion:
    """Chapter 07's digit diffusion model, untrained: a U-Net ε_θ and a noise schedule of T steps."""
    return Diffusion(UNetDenoiser(channels, width, n_classes=n_classes), NoiseSchedule(T, schedule), p_uncond=p_uncond)


def train_dcgan(loss: str, x: torch.Tensor, *, steps: int = 1500, seed: int = 0, width: int = 64, z_dim: int = 32,
                progress: bool = True):
    """Chapter 06's DCGAN on (N, 1, 8, 8) images in [0, 1] (Adam 2e-4, β₁ = 0.5, batch 64);
    returns (gan, history)."""
    seed_everything(seed)
    gan = digit_gan(z_dim, width)
    opt = {"G": torch.optim.Adam(gan.G.parameters(), 2e-4, betas=(0.5, 0.999)),
           "D": torch.optim.Adam(gan.D.parameters(), 2e-4, betas=(0.5, 0.999))}
    hist = fit(gan, opt, _random_rows(x, None, 64), steps=steps, step_fn=make_gan_step(loss),
               desc=f"DCGAN ({loss})", seed=seed, progress=progress)
    return gan, hist


def train_digit_vae(x: torch.Tensor, *, y: torch.Tensor | None = None, z_dim: int = 8, likelihood: str = "gaussian",
                    beta: float = 1.0, loss_fn=None, steps: int = 2000, seed: int = 0, progress: bool = True,
                    desc: str | None = None):
    """Chapter 05's VAE (hidden 256, Adam 1e-3, batch 128) on flattened digits, minimising
    recon + β · KL (β = 1: the negative ELBO) unless ``loss_fn(model, batch)`` replaces it; conditional
    when labels ``y`` are given. ``likelihood="bernoulli"`` for binarised digits (chapter 05),
    ``"gaussian"`` for the continuous [0, 1] digits of chapters 06–07. Returns (model in eval mode, history)."""
    seed_everything(seed)
    model = VAE(**digit_vae_config(z_dim, likelihood, conditional=y is not None))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    hist = fit(model, opt, _random_rows(x.flatten(1), y, 128), steps=steps, desc=desc or f"VAE ({likelihood})",
               seed=seed, progress=progress, loss_fn=loss_fn or _loss_fn(y is not None, beta=beta))
    return model.eval(), hist


def train_digit_diffusion(x: torch.Tensor, y: torch.Tensor | None = None, *, seed: int = 0, progress: bool = True,
                          **overrides):
    """Chapter 07's digit diffusion model: a U-Net ε_θ on images in [−1, 1] (pass 2·x − 1), trained
    with the simple loss, Adam and a one-cycle learning rate; class-conditional with label dropout
    (classifier-free guidance) when labels ``y`` are given. ``overrides`` may change any key of
    ``DIFFUSION_SETTINGS``. Returns (model in eval mode, history)."""
    s = DIFFUSION_SETTINGS.replace(**overrides)
    seed_everything(seed)
    model = digit_diffusion(**digit_diffusion_config(s, channels=x.shape[1], conditional=y is not None))
    opt = torch.optim.Adam(model.parameters(), lr=s.lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, s.lr, total_steps=s.steps, pct_start=0.1)
    hist = fit(model, opt, _random_rows(x, y, s.batch), steps=s.steps, scheduler=sched, seed=seed,
               progress=progress, desc="diffusion U-Net", loss_fn=_loss_fn(y is not None))
    return model.eval(), hist


DIGIT_CHECKPOINTS = {name: results.ROOT / "data" / "checkpoints" / f"digits_{name}.pt"
                     for name in ("vae", "dcgan_nonsaturating", "dcgan_lsgan", "diffusion")}
_DIGIT_BUILDERS = {"vae": VAE, "dcgan_nonsaturating": digit_gan, "dcgan_lsgan": digit_gan, "diffusion": digit_diffusion}
DIGIT_MODEL_THREADS = {"vae": 1, "dcgan_nonsaturating": 1, "dcgan_lsgan": 1, "diffusion": 2}  # as the chapters ran


def train_digit_model(name: str, digits: data.Split | None = None, *, seed: int = 0, progress: bool = True):
    """One of chapters 06–07's 8×8 digit models by name ("vae", "dcgan_nonsaturating", "dcgan_lsgan",
    "diffusion"), trained by its recipe on the training digits; returns (model in eval mode, the keyword
    arguments that rebuild it, history, seconds)."""
    if name not in DIGIT_CHECKPOINTS:
        raise ValueError(f"name must be one of {sorted(DIGIT_CHECKPOINTS)}, got {name!r}")
    digits = digits if digits is not None else data.load_digits()
    start = time.perf_counter()
    if name == "vae":
        model, hist = train_digit_vae(digits.x_train, seed=seed, progress=progress)
        config = digit_vae_config()
    elif name == "diffusion":
        model, hist = train_digit_diffusion(2 * digits.x_train - 1, digits.y_train, seed=seed, progress=progress)
        config = digit_diffusion_config()
    else:
        model, hist = train_dcgan(name.removeprefix("dcgan_"), digits.x_train, seed=seed, progress=progress)
        config = {"z_dim": model.G.z_dim, "width": model.G.width}
    return model.eval(), config, hist, time.perf_counter() - start


@torch.no_grad()
def digit_samples(model: torch.nn.Module, n: int, seed: int = 0) -> torch.Tensor:
    """``n`` samples in [0, 1], (n, 1, 8, 8), from a digit model of ``train_digit_model`` with sampling seed
    ``seed``: a GAN's generator outputs, a VAE's decoder means (clamped), or the diffusion model's unconditional
    DDPM samples (all T steps, x̂₀ clipped to [−1, 1], mapped to [0, 1])."""
    g = torch.Generator().manual_seed(seed)
    if isinstance(model, GAN):
        return model.sample(n, g)
    if isinstance(model, VAE):
        return model.sample(n, generator=g).clamp(0, 1).view(-1, 1, 8, 8)
    if isinstance(model, Diffusion):
        return ((model.sample(n, (1, 8, 8), generator=g, clip_x0=1.0) + 1) / 2).clamp(0, 1)
    raise TypeError(f"expected a digit GAN, VAE or Diffusion model, got {type(model).__name__}")


def shipped_digit_model(name: str, digits: data.Split | None = None):
    """A digit model of chapters 06–07 (names as in ``train_digit_model``) exactly as its recipe trains it with
    seed 0: the weights ``benchmarks/digit_models.py`` wrote, loaded with ``weights_only=True``, when the file is
    there; otherwise the recipe trains it now. Returns (the model in eval mode, a sentence saying which happened)."""
    if name not in DIGIT_CHECKPOINTS:
        raise ValueError(f"name must be one of {sorted(DIGIT_CHECKPOINTS)}, got {name!r}")
    path = DIGIT_CHECKPOINTS[name]
    if path.is_file():
        model = load_model(_DIGIT_BUILDERS[name], path, "")
        return model, f"{name}: loaded the shipped weights ({path.name}, written by benchmarks/digit_models.py)"
    model, _, _, seconds = train_digit_model(name, digits)
    return model, f"{name}: no shipped {path.name}, so its recipe trained it now ({seconds:.0f} s)"


def train_mnist_diffusion(*, seed: int = 0, progress: bool = True, **overrides):
    """Chapter 07's class-conditional MNIST model: the U-Net of ``MNIST_DIFFUSION_SETTINGS`` (any key may be
    overridden) on the 50,000 training images scaled to [−1, 1], the simple loss with label dropout, Adam at a
    constant rate. Returns (the exponential moving average of the weights, decay ``ema``, in eval mode —
    the model to sample from —, history, seconds)."""
    from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

    s = MNIST_DIFFUSION_SETTINGS.replace(**overrides)
    seed_everything(seed)
    x, y = data.load_mnist("train")  # (50000, 1, 28, 28) in [0, 1], (50000,)
    model = Diffusion(UNetDenoiser(1, s.width, n_classes=10, mults=tuple(s.mults)), NoiseSchedule(s.T, s.schedule),
                      p_uncond=s.p_uncond)
    ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(s.ema))
    opt = torch.optim.Adam(model.parameters(), lr=s.lr)
    loss = _loss_fn(conditional=True)

    def loss_fn(m, b):
        ema.update_parameters(m)  # average in the weights of the last update (so one step behind)
        return loss(m, b)

    start = time.perf_counter()
    hist = fit(model, opt, _random_rows(2 * x - 1, y, s.batch), steps=s.steps, loss_fn=loss_fn, seed=seed,
               progress=progress, desc="MNIST diffusion")
    ema.update_parameters(model)
    return ema.module.eval(), hist, time.perf_counter() - start


def train_toy_diffusion(x: torch.Tensor, *, steps: int = 2000, T: int = 100, hidden: int = 128, lr: float = 2e-3,
                        batch: int = 256, seed: int = 0, progress: bool = True, **fit_kwargs):
    """Chapter 07's 2-D diffusion model: an MLP ε_θ, cosine schedule with T steps, Adam with a
    one-cycle learning rate; ``fit_kwargs`` (e.g. ``eval_fn``, ``eval_every``) go to ``fit``.
    Returns (model in eval mode, history)."""
    seed_everything(seed)
    model = Diffusion(MLPDenoiser(x.shape[1], hidden, 3), NoiseSchedule(T, "cosine"))
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, lr, total_steps=check_positive_int(steps, "steps"), pct_start=0.1)
    hist = fit(model, opt, _random_rows(x, None, batch), steps=steps, scheduler=sched, seed=seed, progress=progress,
               desc="diffusion MLP", loss_fn=_loss_fn(False), **fit_kwargs)
    return model.eval(), hist


def fd_seed_stats(results: dict) -> dict[str, dict]:
    """Per model of ``benchmarks/fd_seeds.py``'s results: the FDs over training seeds (``fds``, by seed),
    their mean, sample sd, min and max, and the sd of the sampling noise (one model, 5 sampling seeds)."""
    if not results.get("runs"):
        raise ValueError("results hold no runs (expected the JSON written by benchmarks/fd_seeds.py)")
    stats = {}
    for name in dict.fromkeys(r["model"] for r in results["runs"]):
        fds = torch.tensor([r["fd"] for r in results["runs"] if r["model"] == name], dtype=torch.float64)
        noise = results.get("sampling_noise", {}).get(name)
        stats[name] = {"fds": fds.tolist(), "mean": fds.mean().item(), "sd": fds.std().item() if len(fds) > 1 else 0.0,
                       "min": fds.min().item(), "max": fds.max().item(),
                       "sampling_sd": torch.tensor(noise, dtype=torch.float64).std().item() if noise else float("nan")}
    return stats


def fd_seed_report(results: dict) -> str:
    """A printable table of ``fd_seed_stats``: seed 0, mean ± sd over seeds, range, sampling-noise sd."""
    rows = [f"{'model':36s} {'seed 0':>7s} {'mean ± sd':>15s} {'min – max':>15s} {'sampling sd':>12s}"]
    for name, st in fd_seed_stats(results).items():
        noise = "—" if math.isnan(st["sampling_sd"]) else f"{st['sampling_sd']:.2f}"
        rows.append(f"{name:36s} {st['fds'][0]:7.2f} {st['mean']:7.2f} ± {st['sd']:5.2f} "
                    f"{st['min']:6.2f} – {st['max']:6.2f} "
                    f"{noise:>12s}")
    rows.append(f"(Fréchet distance to the test digits, 1,000 samples; {len(results['seeds'])} training seeds; "
                "sampling sd: one model scored with 5 sampling seeds)")
    return "\n".join(rows)


def to_gan_images(x: torch.Tensor, arch: str) -> torch.Tensor:
    """MNIST intensities in [0, 1], (N, 1, 28, 28), to a GAN's tanh range [−1, 1]; for the DCGAN padded with
    background (−1) to (N, 1, 32, 32)."""
    if arch not in MNIST_GAN_SETTINGS:
        raise ValueError(f"arch must be one of {sorted(MNIST_GAN_SETTINGS)}, got {arch!r}")
    checks.tensor(x, "x", dims=4, kind="float")
    x = 2 * x - 1  # (N, 1, 28, 28) in [−1, 1]
    return F.pad(x, (2, 2, 2, 2), value=-1.0) if arch == "dcgan" else x


def from_gan_images(x: torch.Tensor) -> torch.Tensor:
    """A GAN's images in [−1, 1] (28×28, or 32×32 padded) back to MNIST intensities in [0, 1], (N, 1, 28, 28)."""
    checks.tensor(x, "x", dims=4, kind="float")
    if tuple(x.shape[1:]) not in ((1, 28, 28), (1, 32, 32)):
        raise ValueError(f"x must be GAN images (N, 1, 28, 28) or (N, 1, 32, 32), got {tuple(x.shape)}")
    if x.shape[-1] == 32:
        x = x[..., 2:30, 2:30]  # the central 28×28
    return ((x + 1) / 2).clamp(0, 1)


@torch.no_grad()
def mnist_gan_samples(generator: torch.nn.Module, n: int, seed: int) -> torch.Tensor:
    """n samples of an MNIST GAN's ``generator`` as MNIST intensities in [0, 1], (n, 1, 28, 28): z ~ N(0, I) from
    a generator seeded with ``seed``, drawn in batches of 1,000, the generator in eval mode."""
    g = torch.Generator().manual_seed(seed)
    with eval_mode(generator):
        return torch.cat([from_gan_images(generator(torch.randn(min(1000, n - i), generator.z_dim, generator=g)))
                          for i in range(0, check_positive_int(n, "n"), 1000)])


def train_mnist_gan(arch: str, *, seed: int = 0, progress: bool = True, eval_fn=None, eval_every: int = 0,
                    **overrides):
    """Chapter 06's MNIST GANs, corrected where their articles were wrong: ``arch="mlp"`` is article A §5.2's MLP
    GAN, ``"dcgan"`` article B §5.2.1's DCGAN, trained on the 50,000 training images (scaled by
    ``to_gan_images``) with the non-saturating loss of ``make_gan_step``; settings from ``MNIST_GAN_SETTINGS``
    with any key overridden; ``eval_fn``/``eval_every`` go to ``fit`` (e.g. a ``KeepBest``). Returns (the GAN in
    eval mode, history, seconds)."""
    if arch not in MNIST_GAN_SETTINGS:
        raise ValueError(f"arch must be one of {sorted(MNIST_GAN_SETTINGS)}, got {arch!r}")
    s = MNIST_GAN_SETTINGS[arch].replace(**overrides)
    seed_everything(seed)
    if arch == "mlp":
        gan = GAN(ImageMLPGenerator(s.z_dim), ImageMLPDiscriminator())
    else:
        gan = GAN(DCGANGenerator(s.z_dim, s.width), DCGANDiscriminator(s.width))
    betas = (s.beta1, 0.999)
    opt = {"G": torch.optim.Adam(gan.G.parameters(), s.lr, betas=betas),
           "D": torch.optim.Adam(gan.D.parameters(), s.lr, betas=betas)}
    x = to_gan_images(data.load_mnist("train")[0], arch)  # (50000, 1, 28|32, 28|32)
    start = time.perf_counter()
    hist = fit(gan, opt, _random_rows(x, None, s.batch), steps=s.steps, step_fn=make_gan_step("nonsaturating"),
               desc="MNIST MLP GAN" if arch == "mlp" else "MNIST DCGAN", seed=seed, progress=progress,
               **({"eval_fn": eval_fn, "eval_every": eval_every} if eval_fn is not None else {}))
    return gan.eval(), hist, time.perf_counter() - start
