"""The public API's input contract, as data: for each function, a valid call and the kind of each
argument. ``malformed`` turns a kind into the bad values a caller could pass (wrong rank, dtype or
length, empty batches, NaN/inf, bools and strings where numbers belong, ids and labels out of
range); every one must raise a ``ValueError``/``TypeError`` from the package itself, never return a
result or fail deep inside torch. ``tests/test_api_contract.py`` checks the contract with hypothesis;
``tools/probe_api.py`` counts the outcomes (also against an older checkout, for a before/after).

Kinds: ``floats:R`` a float tensor of rank R or ``*`` for any (``floats:R:finite`` also rejects
NaN/inf), ``reals:R`` the same but integer tensors are fine too, ``ids:V``
integer ids in [0, V), ``labels:K`` class labels in [0, K), ``posint``, ``nonnegint``, ``prob``
(in [0, 1]), ``posnum`` (> 0), ``nonnegnum`` (>= 0), ``choice`` (one of a set of names).
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

from cgen_lessons import (
    classic,
    classifier,
    data,
    decoding,
    diffusion,
    gan,
    metrics,
    recipes,
    rnn,
    seqvae,
    textgan,
    train,
    transformer,
    vae,
)

V = 11  # vocabulary of the small language models below
K = 3  # classes of the conditional models


@dataclass
class Api:
    name: str
    call: Callable[..., Any]
    valid: Callable[[int, torch.dtype], dict]  # valid keyword arguments for batch size n and float dtype
    kinds: dict[str, str]
    float64: bool = True  # accepts float64 tensors (modules with float32 weights do not)
    extra: list[tuple[str, Any]] = field(default_factory=list)  # further (argument, bad value) pairs


def _g(seed=0):
    return torch.Generator().manual_seed(seed)


def _randn(*shape, dtype=torch.float32, seed=0):
    return torch.randn(*shape, generator=_g(seed), dtype=dtype)


def _gpt():
    torch.manual_seed(0)
    return transformer.GPT(V, 8, 16, 2, 1)


def _gru():
    torch.manual_seed(0)
    return rnn.RecurrentLM(V, "gru", 8, 8)


SCHEDULE = diffusion.NoiseSchedule(20)


def _ARANGE_F(onehot):  # f(x) for the gradient estimators: the index of each one-hot row, as a number
    return onehot @ torch.arange(onehot.shape[-1], dtype=onehot.dtype)


def _diffusion(n_classes=K):
    torch.manual_seed(0)
    return diffusion.Diffusion(diffusion.MLPDenoiser(2, 16, 1, n_classes=n_classes), SCHEDULE, p_uncond=0.1)


def _vae(n_classes=0):
    torch.manual_seed(0)
    return vae.VAE(x_dim=4, z_dim=2, hidden=8, n_classes=n_classes)


def _critic():
    torch.manual_seed(0)
    return gan.MLPDiscriminator(2, 8, 2)


def _judge():
    torch.manual_seed(0)
    return classifier.MnistClassifier(width=2, feature_dim=4)


def _fit_call(model, steps, lr, accumulate=1, grad_clip=None, device="cpu"):
    x = torch.randint(0, V, (2, 5), generator=_g())
    return train.fit(model, torch.optim.SGD(model.parameters(), lr=lr), lambda g: (x, x), steps=steps,
                     accumulate=accumulate, grad_clip=grad_clip, device=device, progress=False)


APIS = [
    # ---------------------------------------------------------------- decoding (chapter 04)
    Api("decoding.apply_temperature", decoding.apply_temperature,
        lambda n, dt: dict(logits=_randn(n, V, dtype=dt), temperature=0.7),
        {"logits": "floats:2:finite", "temperature": "posnum"}),
    Api("decoding.top_k_filter", decoding.top_k_filter,
        lambda n, dt: dict(logits=_randn(n, V, dtype=dt), k=3), {"logits": "floats:2:finite", "k": "posint"}),
    Api("decoding.top_p_filter", decoding.top_p_filter,
        lambda n, dt: dict(logits=_randn(n, V, dtype=dt), p=0.9), {"logits": "floats:2:finite", "p": "prob"},
        extra=[("p", 0.0)]),
    Api("decoding.apply_repetition_penalty", decoding.apply_repetition_penalty,
        lambda n, dt: dict(logits=_randn(n, V, dtype=dt), previous_ids=torch.zeros(n, 2, dtype=torch.long),
                           penalty=1.3),
        {"logits": "floats:2:finite", "previous_ids": "ids:11", "penalty": "posnum"}),
    Api("decoding.generate", lambda model, **kw: decoding.generate(model, **kw),
        lambda n, dt: dict(model=_gpt(), idx=torch.zeros(n, 1, dtype=torch.long), max_new_tokens=2,
                           generator=_g()),
        {"idx": "ids:11", "max_new_tokens": "posint"},
        extra=[("temperature", 0.0), ("temperature", math.nan), ("top_k", 0), ("top_p", 1.5),
               ("repetition_penalty", -1.0), ("eos_id", V), ("model", "gpt"), ("processors", [None]),
               ("processors", "top_k")]),
    Api("decoding.beam_search", lambda model, **kw: decoding.beam_search(model, **kw),
        lambda n, dt: dict(model=_gpt(), prompt=torch.zeros(1, 1, dtype=torch.long), beam_width=2, max_new_tokens=2),
        {"beam_width": "posint", "max_new_tokens": "posint"},
        extra=[("length_penalty", -1.0), ("n_best", 3), ("processors", [print, 1])]),
    # ---------------------------------------------------------------- language models
    Api("GPT.forward", lambda model, **kw: model(**kw),
        lambda n, dt: dict(model=_gpt(), idx=torch.zeros(n, 3, dtype=torch.long)), {"idx": "ids:11"}),
    Api("RecurrentLM.forward", lambda model, **kw: model(**kw),
        lambda n, dt: dict(model=_gru(), idx=torch.zeros(n, 3, dtype=torch.long)), {"idx": "ids:11"}),
    Api("lm.token_logprobs", lambda model, **kw: importlib.import_module("cgen_lessons.lm").token_logprobs(model, **kw),
        lambda n, dt: dict(model=_gpt(), ids=torch.zeros(n, 3, dtype=torch.long)),
        {"ids": "ids:11", "temperature": "posnum"}),
    Api("textgan.sequence_nll", lambda lm, **kw: textgan.sequence_nll(lm, **kw),
        lambda n, dt: dict(lm=_gru(), seqs=torch.ones(n, 3, dtype=torch.long)),
        {"seqs": "ids:11", "temperature": "posnum"}),
    Api("textgan.sample_sequences", lambda lm, **kw: textgan.sample_sequences(lm, **kw),
        lambda n, dt: dict(lm=_gru(), n=n, length=2, generator=_g()),
        {"n": "posint", "length": "posint", "temperature": "posnum"}),
    Api("textgan.gumbel_softmax", textgan.gumbel_softmax,
        lambda n, dt: dict(logits=_randn(n, V, dtype=dt), tau=0.5, generator=_g()),
        {"logits": "floats:*:finite", "tau": "posnum"}),
    # ---------------------------------------------------------------- attention (chapter 03)
    Api("transformer.attention", transformer.attention,
        lambda n, dt: dict(q=_randn(n, 3, 4, dtype=dt), k=_randn(n, 5, 4, dtype=dt, seed=1),
                           v=_randn(n, 5, 2, dtype=dt, seed=2)),
        {"q": "floats:3", "k": "floats:3", "v": "floats:3", "dropout_p": "prob"},
        extra=[("mask", torch.zeros(3, 5, dtype=torch.bool)), ("mask", torch.ones(3, 5)), ("causal", True)]),
    Api("transformer.causal_mask", transformer.causal_mask, lambda n, dt: dict(T=n), {"T": "posint"}),
    Api("transformer.GPT", transformer.GPT,
        lambda n, dt: dict(vocab_size=V, block_size=8, d_model=16, n_heads=2, n_layers=1),
        {"vocab_size": "posint", "block_size": "posint", "d_model": "posint", "n_heads": "posint",
         "n_layers": "posint"}, float64=False),
    Api("transformer.Seq2SeqTransformer", transformer.Seq2SeqTransformer,
        lambda n, dt: dict(src_vocab=V, tgt_vocab=V, max_len=8, d_model=16, n_heads=2, n_layers=1),
        {"src_vocab": "posint", "tgt_vocab": "posint", "max_len": "posint", "d_model": "posint",
         "n_layers": "posint", "dropout": "prob"}, float64=False),
    # ---------------------------------------------------------------- VAE (chapter 05)
    Api("vae.gaussian_kl", vae.gaussian_kl,
        lambda n, dt: dict(mu=_randn(n, 2, dtype=dt), logvar=_randn(n, 2, dtype=dt, seed=1)),
        {"mu": "floats:2", "logvar": "floats:2"}),
    Api("vae.reparameterize", vae.reparameterize,
        lambda n, dt: dict(mu=_randn(n, 2, dtype=dt), logvar=_randn(n, 2, dtype=dt, seed=1), generator=_g()),
        {"mu": "floats:2", "logvar": "floats:2"}),
    Api("VAE.loss", lambda model, **kw: model.loss(**kw),
        lambda n, dt: dict(model=_vae(), x=torch.rand(n, 4, generator=_g()), beta=1.0),
        {"x": "floats:2:finite", "beta": "nonnegnum"}, float64=False),
    Api("VAE.sample (conditional)", lambda model, **kw: model.sample(**kw),
        lambda n, dt: dict(model=_vae(K), n=n, y=torch.zeros(n, dtype=torch.long), generator=_g()),
        {"n": "posint", "y": "labels:3"}, float64=False),
    Api("vae.iwae_loss", lambda model, **kw: vae.iwae_loss(model, **kw),
        lambda n, dt: dict(model=_vae(), x=torch.rand(n, 4, generator=_g()), k=3, generator=_g()),
        {"x": "floats:2:finite", "k": "posint"}, float64=False),
    Api("vae.importance_log_likelihood", lambda model, **kw: vae.importance_log_likelihood(model, **kw),
        lambda n, dt: dict(model=_vae(), x=torch.rand(n, 4, generator=_g()), k=4, generator=_g()),
        {"x": "floats:2:finite", "k": "posint"}, float64=False),
    # ---------------------------------------------------------------- GAN (chapter 06)
    Api("gan.d_loss_bce", gan.d_loss_bce,
        lambda n, dt: dict(real_logits=_randn(n, 1, dtype=dt), fake_logits=_randn(n, 1, dtype=dt, seed=1)),
        {"real_logits": "floats:*", "fake_logits": "floats:*"}),
    Api("gan.g_loss_nonsaturating", gan.g_loss_nonsaturating,
        lambda n, dt: dict(fake_logits=_randn(n, 1, dtype=dt)), {"fake_logits": "floats:*"}),
    Api("gan.gradient_penalty", lambda critic, **kw: gan.gradient_penalty(critic, **kw),
        lambda n, dt: dict(critic=_critic(), real=_randn(n, 2), fake=_randn(n, 2, seed=1), generator=_g()),
        {"real": "floats:2", "fake": "floats:2"}, float64=False),
    Api("gan.make_gan_step", gan.make_gan_step, lambda n, dt: dict(loss="wgan-gp", n_critic=1, gp_weight=10.0),
        {"n_critic": "posint", "gp_weight": "nonnegnum", "loss": "choice"}),
    Api("gan.mode_coverage", gan.mode_coverage,
        lambda n, dt: dict(samples=_randn(n, 2, dtype=dt), modes=_randn(3, 2, dtype=dt, seed=1), std=0.1,
                           min_count=1),
        {"samples": "floats:2:finite", "modes": "floats:2:finite", "std": "posnum", "min_count": "posint"}),
    Api("gan.load_mnist_generator", gan.load_mnist_generator, lambda n, dt: dict(arch="mlp"), {"arch": "choice"}),
    Api("recipes.to_gan_images", recipes.to_gan_images,
        lambda n, dt: dict(x=torch.rand(n, 1, 28, 28, dtype=dt), arch="dcgan"), {"x": "floats:4", "arch": "choice"}),
    Api("recipes.from_gan_images", recipes.from_gan_images,
        lambda n, dt: dict(x=torch.rand(n, 1, 32, 32, dtype=dt) * 2 - 1), {"x": "floats:4"}),
    Api("recipes.mnist_gan_samples", lambda **kw: recipes.mnist_gan_samples(gan.ImageMLPGenerator(4, (8,)), **kw),
        lambda n, dt: dict(n=n, seed=0), {"n": "posint"}),
    Api("classifier.kl_to_uniform", classifier.kl_to_uniform,
        lambda n, dt: dict(p=torch.full((n + 2,), 1 / (n + 2), dtype=dt)), {"p": "floats:1:finite"}),
    # ---------------------------------------------------------------- diffusion (chapter 07)
    Api("diffusion.make_betas", diffusion.make_betas, lambda n, dt: dict(kind="cosine", T=10 + n),
        {"kind": "choice", "T": "posint"}),
    Api("diffusion.q_sample", lambda **kw: diffusion.q_sample(SCHEDULE, **kw),
        lambda n, dt: dict(x0=_randn(n, 2, dtype=dt), t=torch.full((n,), 3), generator=_g()),
        {"x0": "floats:*:finite"},
        extra=[("t", SCHEDULE.T + 1), ("t", -1), ("t", 2.5), ("t", torch.full((7,), 3))]),
    Api("diffusion.ddpm_step", lambda **kw: diffusion.ddpm_step(SCHEDULE, **kw),
        lambda n, dt: dict(xt=_randn(n, 2, dtype=dt), t=5, eps_pred=_randn(n, 2, dtype=dt, seed=1),
                           z=_randn(n, 2, dtype=dt, seed=2)),
        {"xt": "floats:2", "eps_pred": "floats:2", "z": "floats:2"},
        extra=[("eps_pred", _randn(5, 2)), ("eps_pred", _randn(2, 1)), ("t", 0), ("t", SCHEDULE.T + 1)]),
    Api("diffusion.ddim_step", lambda **kw: diffusion.ddim_step(SCHEDULE, **kw),
        lambda n, dt: dict(xt=_randn(n, 2, dtype=dt), t=5, s=2, eps_pred=_randn(n, 2, dtype=dt, seed=1)),
        {"xt": "floats:2", "eps_pred": "floats:2", "eta": "nonnegnum", "clip_x0": "posnum"},
        extra=[("s", 5), ("s", -1), ("t", SCHEDULE.T + 1), ("eps_pred", _randn(5, 2))]),
    Api("Diffusion.loss", lambda model, **kw: model.loss(**kw),
        lambda n, dt: dict(model=_diffusion(), x0=_randn(n, 2), y=torch.zeros(n, dtype=torch.long), generator=_g()),
        {"x0": "floats:2:finite", "y": "labels:3"}, float64=False),
    Api("Diffusion.sample", lambda model, **kw: model.sample(**kw),
        lambda n, dt: dict(model=_diffusion(), n=n, shape=(2,), steps=3, y=torch.zeros(n, dtype=torch.long),
                           guidance=2.0, generator=_g()),
        {"n": "posint", "steps": "posint", "y": "labels:3", "eta": "nonnegnum", "guidance": "nonnegnum",
         "clip_x0": "posnum", "resample": "posint"}, float64=False, extra=[("shape", 2), ("steps", 21)]),
    # ---------------------------------------------------------------- metrics (chapter 09)
    Api("metrics.perplexity", metrics.perplexity, lambda n, dt: dict(cross_entropy_nats=0.5 * n),
        {"cross_entropy_nats": "nonnegnum"}),
    Api("MnistClassifier.forward", lambda model, **kw: model(**kw),
        lambda n, dt: dict(model=_judge(), x=torch.rand(n, 1, 28, 28, generator=_g())),
        {"x": "floats:4:finite"}, float64=False, extra=[("x", torch.zeros(2, 1, 8, 8))]),
    Api("data.load_mnist", data.load_mnist, lambda n, dt: dict(split="test", n=n),
        {"split": "choice", "n": "posint"}),
    Api("metrics.frechet_distance", metrics.frechet_distance,
        lambda n, dt: dict(feats_a=_randn(n + 2, 2, dtype=dt), feats_b=_randn(n + 2, 2, dtype=dt, seed=1)),
        {"feats_a": "reals:2:finite", "feats_b": "reals:2:finite"}),
    Api("metrics.mmd2", metrics.mmd2,
        lambda n, dt: dict(x=_randn(n + 1, 2, dtype=dt), y=_randn(n + 1, 2, dtype=dt, seed=1), bandwidth=1.0),
        {"x": "reals:2:finite", "y": "reals:2:finite", "bandwidth": "posnum"}),
    Api("metrics.precision_recall", metrics.precision_recall,
        lambda n, dt: dict(real=_randn(n + 3, 2, dtype=dt), fake=_randn(n + 3, 2, dtype=dt, seed=1), k=2),
        {"real": "reals:2:finite", "fake": "reals:2:finite", "k": "posint"}),
    Api("metrics.ks_2samp", metrics.ks_2samp,
        lambda n, dt: dict(a=_randn(n, dtype=dt), b=_randn(n + 1, dtype=dt, seed=1)),
        {"a": "reals:1:finite", "b": "reals:1:finite"}),
    Api("metrics.inception_score", metrics.inception_score,
        lambda n, dt: dict(probs=torch.softmax(_randn(n, K, dtype=dt), -1)), {"probs": "floats:2:finite"},
        extra=[("probs", torch.full((2, K), 0.5))]),
    Api("metrics.distinct_n", metrics.distinct_n, lambda n, dt: dict(sequences=[[1, 2, 3]] * n, n=2),
        {"n": "posint"}),
    Api("metrics.repetition_rate", metrics.repetition_rate, lambda n, dt: dict(sequence=[1, 2] * (n + 2), n=2),
        {"n": "posint"}),
    Api("metrics.corpus_bleu", metrics.corpus_bleu,
        lambda n, dt: dict(hypotheses=[[1, 2, 3]] * n, references=[[[1, 2, 3]]] * n, max_n=2),
        {"max_n": "posint"}, extra=[("references", [])]),
    # ---------------------------------------------------------------- classic models (chapter 01)
    Api("classic.NGramLM", classic.NGramLM, lambda n, dt: dict(vocab_size=V, n=n, beta=1.0),
        {"vocab_size": "posint", "n": "posint", "beta": "posnum"}),
    Api("NGramLM.fit", lambda model, **kw: model.fit(**kw),
        lambda n, dt: dict(model=classic.NGramLM(V, 2), ids=torch.arange(n + 3) % V), {"ids": "ids:11"}),
    Api("classic.GaussianMixture.fit", lambda **kw: classic.GaussianMixture(2).fit(**kw),
        lambda n, dt: dict(x=_randn(n + 4, 2, dtype=dt), n_iter=2, generator=_g()),
        {"x": "floats:2:finite", "n_iter": "posint"}, extra=[("x", torch.zeros(6, 2))]),
    Api("classic.HMM.forward_log", lambda **kw: classic.HMM.random(2, 3, _g()).forward_log(**kw),
        lambda n, dt: dict(obs=torch.zeros(n, dtype=torch.long)), {"obs": "ids:3"}),
    # ---------------------------------------------------------------- training and schedules
    Api("train.fit", _fit_call, lambda n, dt: dict(model=_gpt(), steps=n, lr=0.01),
        {"steps": "posint"}, float64=False,
        extra=[("accumulate", 0), ("grad_clip", -1.0), ("device", "cuda:7")]),
    Api("train.warmup_cosine_factor", train.warmup_cosine_factor,
        lambda n, dt: dict(step=n, warmup=2, total=10, min_ratio=0.1),
        {"step": "nonnegint", "warmup": "nonnegint", "total": "posint", "min_ratio": "prob"}),
    Api("seqvae.kl_weight", seqvae.kl_weight, lambda n, dt: dict(step=n, schedule="cyclical", total=10),
        {"step": "posint", "schedule": "choice", "total": "posint", "n_cycles": "posint", "ramp": "prob"}),
    # ---------------------------------------------------------------- constructors: sizes must be positive
    Api("diffusion.NoiseSchedule", diffusion.NoiseSchedule, lambda n, dt: dict(T=10 + n, kind="linear"),
        {"T": "posint", "kind": "choice"}, extra=[("betas", torch.full((4,), 1.5)), ("betas", torch.zeros(4))]),
    Api("diffusion.MLPDenoiser", diffusion.MLPDenoiser, lambda n, dt: dict(x_dim=2, hidden=8, n_blocks=n),
        {"x_dim": "posint", "hidden": "posint", "n_blocks": "posint", "n_classes": "nonnegint"}),
    Api("diffusion.UNetDenoiser", diffusion.UNetDenoiser, lambda n, dt: dict(channels=1, width=8, mults=(1, 2)),
        {"channels": "posint", "width": "posint", "n_classes": "nonnegint"}, extra=[("mults", ()), ("mults", (1, 0))]),
    Api("gan.MLPGenerator", gan.MLPGenerator, lambda n, dt: dict(z_dim=2, out_dim=2, hidden=8, n_layers=n),
        {"z_dim": "posint", "out_dim": "posint", "hidden": "posint", "n_layers": "posint"}),
    Api("gan.MLPDiscriminator", gan.MLPDiscriminator, lambda n, dt: dict(in_dim=2, hidden=8, n_layers=n),
        {"in_dim": "posint", "hidden": "posint", "n_layers": "posint", "pack": "posint", "maxout": "posint"}),
    Api("gan.DCGANGenerator", gan.DCGANGenerator, lambda n, dt: dict(z_dim=4, width=8, channels=1),
        {"z_dim": "posint", "width": "posint", "channels": "posint"}),
    Api("gan.DCGANDiscriminator", gan.DCGANDiscriminator, lambda n, dt: dict(width=8, channels=1),
        {"width": "posint", "channels": "posint"}),
    Api("gan.ImageMLPGenerator", gan.ImageMLPGenerator, lambda n, dt: dict(z_dim=4, hidden=(8,) * n),
        {"z_dim": "posint"}, extra=[("hidden", ()), ("hidden", (8, 0)), ("hidden", 8)]),
    Api("rnn.LSTMCell", rnn.LSTMCell, lambda n, dt: dict(input_size=n, hidden_size=4),
        {"input_size": "posint", "hidden_size": "posint"}),
    Api("rnn.GRUCell", rnn.GRUCell, lambda n, dt: dict(input_size=n, hidden_size=4),
        {"input_size": "posint", "hidden_size": "posint"}),
    Api("transformer.MultiHeadAttention", transformer.MultiHeadAttention, lambda n, dt: dict(d_model=8, n_heads=2),
        {"d_model": "posint", "n_heads": "posint", "dropout": "prob"}, extra=[("n_heads", 3)]),
    Api("seqvae.SeqVAE", seqvae.SeqVAE, lambda n, dt: dict(vocab_size=V, pad_id=0, d_embed=4, d_hidden=8, z_dim=n),
        {"vocab_size": "posint", "pad_id": "nonnegint", "cell": "choice", "d_embed": "posint", "d_hidden": "posint",
         "z_dim": "posint", "word_dropout": "prob"}, extra=[("pad_id", V)]),
    Api("textgan.SeqDiscriminator", textgan.SeqDiscriminator, lambda n, dt: dict(vocab_size=V, d_embed=4, n_filters=n),
        {"vocab_size": "posint", "d_embed": "posint", "n_filters": "posint", "dropout": "prob"},
        extra=[("widths", ()), ("widths", (2, 0))]),
    # ---------------------------------------------------------------- more tensor functions
    Api("transformer.sinusoidal_positions", transformer.sinusoidal_positions, lambda n, dt: dict(T=n, d=4),
        {"T": "posint", "d": "posint"}, extra=[("d", 3)]),
    Api("diffusion.timestep_embedding", diffusion.timestep_embedding,
        lambda n, dt: dict(t=torch.arange(n), dim=4), {"dim": "posint", "max_period": "posnum"},
        extra=[("dim", 3), ("t", torch.zeros(2, 2, dtype=torch.long)), ("t", "0")]),
    Api("diffusion.q_posterior", lambda **kw: diffusion.q_posterior(SCHEDULE, **kw),
        lambda n, dt: dict(x0=_randn(n, 2, dtype=dt), xt=_randn(n, 2, dtype=dt, seed=1), t=torch.full((n,), 3)),
        {"x0": "floats:2:finite", "xt": "floats:2:finite"},
        extra=[("t", torch.full((7,), 3)), ("t", torch.full((2,), SCHEDULE.T + 1)), ("xt", _randn(5, 2))]),
    Api("gan.g_loss_minimax", gan.g_loss_minimax, lambda n, dt: dict(fake_logits=_randn(n, 1, dtype=dt)),
        {"fake_logits": "floats:*"}),
    Api("gan.lsgan_losses", gan.lsgan_losses,
        lambda n, dt: dict(real_logits=_randn(n, 1, dtype=dt), fake_logits=_randn(n, 1, dtype=dt, seed=1),
                           for_generator=False),
        {"real_logits": "floats:*", "fake_logits": "floats:*"}, extra=[("for_generator", "yes")]),
    Api("textgan.gumbel_max_sample", textgan.gumbel_max_sample,
        lambda n, dt: dict(logits=_randn(n, V, dtype=dt), generator=_g()), {"logits": "floats:*:finite"}),
    Api("decoding.sample", lambda model, **kw: decoding.sample(model, **kw),
        lambda n, dt: dict(model=_gpt(), idx=torch.zeros(n, 1, dtype=torch.long), max_new_tokens=2, generator=_g()),
        {"idx": "ids:11", "max_new_tokens": "posint", "temperature": "posnum"}),
    Api("metrics.stream_nll", lambda model, **kw: metrics.stream_nll(model, **kw),
        lambda n, dt: dict(model=_gpt(), ids=torch.arange(10 + n) % V, rows=2),
        {"ids": "ids:11", "rows": "posint"}, extra=[("ids", torch.zeros(1, dtype=torch.long))]),
    Api("metrics.density_coverage", metrics.density_coverage,
        lambda n, dt: dict(real=_randn(n + 3, 2, dtype=dt), fake=_randn(n + 3, 2, dtype=dt, seed=1), k=2),
        {"real": "reals:2:finite", "fake": "reals:2:finite", "k": "posint"}, extra=[("k", 50)]),
    Api("metrics.kernel_inception_distance", metrics.kernel_inception_distance,
        lambda n, dt: dict(feats_a=_randn(n + 2, 2, dtype=dt), feats_b=_randn(n + 2, 2, dtype=dt, seed=1)),
        {"feats_a": "reals:2:finite", "feats_b": "reals:2:finite", "degree": "posint"},
        extra=[("feats_b", _randn(4, 3))]),
    Api("metrics.mmd_permutation_test", metrics.mmd_permutation_test,
        lambda n, dt: dict(x=_randn(n + 1, 2, dtype=dt), y=_randn(n + 1, 2, dtype=dt, seed=1), bandwidth=1.0,
                           n_permutations=5, generator=_g()),
        {"x": "reals:2:finite", "y": "reals:2:finite", "bandwidth": "posnum", "n_permutations": "posint"}),
    Api("metrics.classifier_two_sample_test", metrics.classifier_two_sample_test,
        lambda n, dt: dict(x=_randn(n + 4, 2, dtype=dt), y=_randn(n + 4, 2, dtype=dt, seed=1), k=1, generator=_g()),
        {"x": "reals:2:finite", "y": "reals:2:finite", "k": "posint"}),
    Api("metrics.sentence_bleu", metrics.sentence_bleu,
        lambda n, dt: dict(hypothesis=[1, 2, 3] * n, references=[[1, 2, 3]], max_n=2),
        {"max_n": "posint", "smooth": "choice"}, extra=[("references", []), ("hypothesis", "abc")]),
    Api("metrics.self_bleu", metrics.self_bleu, lambda n, dt: dict(samples=[[1, 2, 3]] * (n + 1), max_n=2),
        {"max_n": "posint"}, extra=[("samples", [[1, 2, 3]])]),
    Api("metrics.phoneme_error_rate", metrics.phoneme_error_rate,
        lambda n, dt: dict(hypotheses=[["a", "b"]] * n, references=[["a", "c"]] * n), {},
        extra=[("references", []), ("references", [["a"]] * 5), ("references", [[]] * 2)]),
    Api("metrics.word_error_rate", metrics.word_error_rate,
        lambda n, dt: dict(hypotheses=[["a", "b"]] * n, references=[["a", "c"]] * n), {},
        extra=[("references", []), ("references", [["a"]] * 5)]),
    Api("vae.nll_estimate", lambda model, **kw: vae.nll_estimate(model, **kw),
        lambda n, dt: dict(model=_vae(), x=torch.rand(n, 4, generator=_g()), k=3, batch=2),
        {"x": "floats:2:finite", "k": "posint", "batch": "posint"}, float64=False),
    Api("metrics.paired_bootstrap", metrics.paired_bootstrap,
        lambda n, dt: dict(a=_randn(n + 1, dtype=dt), b=_randn(n + 1, dtype=dt, seed=1), n_resamples=50),
        {"a": "reals:1:finite", "b": "reals:1:finite", "n_resamples": "posint", "level": "prob"},
        extra=[("level", 0.0), ("level", 1.0), ("b", _randn(7))]),
    # ---------------------------------------------------------------- text GANs and sequence VAEs (chapter 08)
    Api("textgan.exact_gradient", textgan.exact_gradient,
        lambda n, dt: dict(logits=_randn(V, dtype=dt), f=_ARANGE_F), {"logits": "floats:1:finite"},
        extra=[("f", "f")]),
    Api("textgan.reinforce_gradients", textgan.reinforce_gradients,
        lambda n, dt: dict(logits=_randn(V, dtype=dt), f=_ARANGE_F, n=n + 1, generator=_g()),
        {"logits": "floats:1:finite", "n": "posint"}, extra=[("f", "f"), ("baseline", "yes")]),
    Api("textgan.gumbel_gradients", textgan.gumbel_gradients,
        lambda n, dt: dict(logits=_randn(V, dtype=dt), f=_ARANGE_F, n=n + 1, tau=0.5, generator=_g()),
        {"logits": "floats:1:finite", "n": "posint", "tau": "posnum"}, extra=[("f", "f"), ("hard", "yes")]),
    Api("textgan.make_oracle", textgan.make_oracle, lambda n, dt: dict(vocab_size=V, d_hidden=4, d_embed=4, std=1.0),
        {"vocab_size": "posint", "d_hidden": "posint", "d_embed": "posint", "std": "posnum", "seed": "nonnegint"}),
    Api("textgan.mle_loss", lambda lm, **kw: textgan.mle_loss(lm, **kw),
        lambda n, dt: dict(lm=_gru(), seqs=torch.ones(n, 3, dtype=torch.long)),
        {"seqs": "ids:11", "start_id": "nonnegint"}, extra=[("start_id", V)]),
    Api("textgan.soft_sample", lambda G, **kw: textgan.soft_sample(G, **kw),
        lambda n, dt: dict(G=_gru(), n=n, length=2, tau=0.5), {"n": "posint", "length": "posint", "tau": "posnum"},
        extra=[("start_id", V), ("hard", "yes")]),
    Api("textgan.gumbel_noise", textgan.gumbel_noise, lambda n, dt: dict(shape=(n, V), generator=_g()), {},
        extra=[("shape", (2, -1)), ("shape", "2")]),
    Api("seqvae.make_seqvae_step", seqvae.make_seqvae_step,
        lambda n, dt: dict(schedule="cyclical", total=10, free_bits=0.5, grad_clip=5.0),
        {"schedule": "choice", "total": "posint", "free_bits": "nonnegnum", "grad_clip": "posnum",
         "n_cycles": "posint", "ramp": "prob"}),
    # ---------------------------------------------------------------- training and scaling helpers
    Api("train.warmup_cosine", lambda **kw: train.warmup_cosine(torch.optim.SGD(_gpt().parameters(), lr=0.1), **kw),
        lambda n, dt: dict(warmup=n, total=10, min_ratio=0.1),
        {"warmup": "nonnegint", "total": "posint", "min_ratio": "prob"}, extra=[("warmup", 11)]),
    Api("train.decay_groups", lambda model, **kw: train.decay_groups(model, **kw),
        lambda n, dt: dict(model=_gpt(), weight_decay=0.1), {"weight_decay": "nonnegnum"}, extra=[("model", "gpt")]),
    Api("transformer.gpt_param_count", transformer.gpt_param_count,
        lambda n, dt: dict(vocab_size=V, block_size=8, d_model=16, n_layers=n),
        {"vocab_size": "posint", "block_size": "posint", "d_model": "posint", "n_layers": "posint",
         "positions": "choice"}),
    Api("transformer.Block", transformer.Block, lambda n, dt: dict(d_model=8, n_heads=2, cross=n > 1),
        {"d_model": "posint", "n_heads": "posint", "dropout": "prob"}, extra=[("n_heads", 3), ("cross", "yes")]),
    Api("distributed.shard", importlib.import_module("cgen_lessons.distributed").shard,
        lambda n, dt: dict(batch=_randn(4 * n, 2, dtype=dt), rank=0, size=2),
        {"rank": "nonnegint", "size": "posint"}, extra=[("rank", 2), ("batch", _randn(3, 2)), ("batch", "x")]),
    Api("distributed.training_memory", importlib.import_module("cgen_lessons.distributed").training_memory,
        lambda n, dt: dict(n_params=1000 * n, world_size=2, strategy="fsdp", precision="fp32"),
        {"n_params": "posint", "world_size": "posint", "strategy": "choice", "precision": "choice"}),
    Api("classic.CategoricalNaiveBayes", classic.CategoricalNaiveBayes, lambda n, dt: dict(n_values=n + 1, alpha=1.0),
        {"n_values": "posint", "alpha": "posnum"}),
    Api("diffusion.Diffusion", lambda **kw: diffusion.Diffusion(diffusion.MLPDenoiser(2, 8, 1), **kw),
        lambda n, dt: dict(schedule=SCHEDULE, p_uncond=0.1), {"p_uncond": "prob"},
        extra=[("schedule", 20), ("p_uncond", 1.0)]),
    Api("gan.ConvGenerator", gan.ConvGenerator, lambda n, dt: dict(z_dim=4, width=8),
        {"z_dim": "posint", "width": "posint"}),
    Api("gan.ConvDiscriminator", gan.ConvDiscriminator, lambda n, dt: dict(width=8), {"width": "posint"}),
    Api("gan.ImageMLPDiscriminator", gan.ImageMLPDiscriminator, lambda n, dt: dict(hidden=(8,) * n), {},
        extra=[("hidden", ()), ("hidden", (8, 0)), ("hidden", 8)]),
    Api("rnn.RNNCell", rnn.RNNCell, lambda n, dt: dict(input_size=n, hidden_size=4),
        {"input_size": "posint", "hidden_size": "posint"}),
    Api("utils.max_error", importlib.import_module("cgen_lessons.utils").max_error,
        lambda n, dt: dict(actual=_randn(n, 2, dtype=dt), expected=_randn(n, 2, dtype=dt), tol=1e-3),
        {"tol": "posnum"}, extra=[("expected", _randn(5, 3))]),
    Api("utils.get_device", importlib.import_module("cgen_lessons.utils").get_device, lambda n, dt: dict(prefer="cpu"),
        {}, extra=[("prefer", "gpu"), ("prefer", "cuda:7"), ("prefer", 3)]),
    Api("glossary.load_glossary", importlib.import_module("cgen_lessons.glossary").load_glossary,
        lambda n, dt: dict(chapter="01"), {}, extra=[("chapter", "99"), ("chapter", 1)]),
    Api("data.load_corpus", data.load_corpus, lambda n, dt: dict(name="shakespeare"), {"name": "choice"}),
    # ---------------------------------------------------------------- data
    Api("data.toy_2d", data.toy_2d, lambda n, dt: dict(name="8gaussians", n=n, generator=_g()),
        {"name": "choice", "n": "posint", "std": "nonnegnum"}),
    Api("data.split_ids", data.split_ids, lambda n, dt: dict(ids=torch.arange(20 + n), val_fraction=0.1),
        {"val_fraction": "prob"}, extra=[("val_fraction", 0.0), ("val_fraction", 1.0), ("ids", torch.zeros(2, 5))]),
    Api("data.lm_batch", data.lm_batch,
        lambda n, dt: dict(ids=torch.arange(20) % V, block_size=4, batch_size=n, generator=_g()),
        {"block_size": "posint", "batch_size": "posint"},
        extra=[("block_size", 20), ("ids", torch.zeros(2, 10, dtype=torch.long)), ("ids", torch.rand(20))]),
    Api("data.date_pairs", data.date_pairs, lambda n, dt: dict(n=n, generator=_g()), {"n": "posint"},
        extra=[("years", (2049, 1950)), ("years", (0, 10))]),
    Api("data.split_items", data.split_items, lambda n, dt: dict(items=list(range(10 + n)), fractions=(0.8, 0.1, 0.1)),
        {}, extra=[("fractions", (0.5, 0.1, 0.1)), ("fractions", (1.2, -0.1, -0.1)), ("fractions", (0.5, 0.5)),
                   ("items", [])]),
    Api("data.CharTokenizer.encode", lambda **kw: data.CharTokenizer(list("abc")).encode(**kw),
        lambda n, dt: dict(text="ab" * n), {}, extra=[("text", "abz"), ("text", 3)]),
    Api("utils.use_threads", importlib.import_module("cgen_lessons.utils").use_threads, lambda n, dt: dict(n=1),
        {"n": "posint"}),
    Api("utils.seed_everything", importlib.import_module("cgen_lessons.utils").seed_everything,
        lambda n, dt: dict(seed=n), {"seed": "nonnegint"}),
    Api("viz.attention_map", importlib.import_module("cgen_lessons.viz").attention_map,
        lambda n, dt: dict(weights=torch.rand(n, n, dtype=dt), keys=list("abcdefgh")[:n]),
        {"weights": "floats:2:finite"}, extra=[("keys", ["a"] * 9)]),
    Api("viz.image_grid", importlib.import_module("cgen_lessons.viz").image_grid,
        lambda n, dt: dict(images=torch.rand(n, 1, 4, 4, dtype=dt), nrow=2), {"nrow": "posint"},
        extra=[("images", torch.rand(2, 3, 4, 4)), ("images", torch.rand(0, 1, 4, 4)), ("images", "x"),
               ("images", torch.rand(2, 4))]),  # binary images (bool or integer 0/1) are valid images
]

NOT_A_NUMBER = ["3", True, [1.0]]


def malformed(kind: str, value) -> list[tuple[str, Any]]:
    """(description, bad value) pairs for an argument of the given kind whose valid value is ``value``."""
    head, *rest = kind.split(":")
    if head in ("floats", "reals"):  # reals: integer tensors are fine too
        rank, finite = rest[0], rest[1:] == ["finite"]
        bad = [("bool dtype", value > 0), ("empty batch", value[:0]), ("a string", "x")]
        if head == "floats":
            bad.append(("integer dtype", value.round().long()))
        if rank != "*":
            # a trailing axis of size 2: a leading axis of size 1 (value[None]) leaves the elements as they are,
            # and functions that accept image batches (N, C, H, W) by flattening them may rightly accept it
            bad.append(("rank + 1", torch.stack([value, value], dim=-1)))
            if int(rank) > 1:
                bad.append(("rank - 1", value.flatten()))
        if finite:
            for desc, special in (("NaN", math.nan), ("inf", math.inf)):
                spoiled = value.clone()
                spoiled.view(-1)[0] = special
                bad.append((desc, spoiled))
        return bad
    if head in ("ids", "labels"):
        top = int(rest[0])
        too_big, negative = value.clone(), value.clone()
        too_big.view(-1)[0], negative.view(-1)[0] = top, -1
        bad = [("id = size", too_big), ("id = -1", negative), ("float dtype", value.float()), ("rank + 1", value[None])]
        if head == "labels":
            bad.append(("one label too many", torch.cat([value, value[:1]])))
        return bad
    numbers = {"posint": [0, -1, 2.5], "nonnegint": [-1, 2.5], "prob": [-0.1, 1.5, math.nan],
               "posnum": [0.0, -1.0, math.nan, math.inf], "nonnegnum": [-1.0, math.nan, math.inf],
               "choice": ["no-such-option", 3]}[head]
    extra = [] if head == "choice" else NOT_A_NUMBER
    return [(repr(v), v) for v in numbers + extra]


def cases(n: int = 2) -> list[tuple[Api, str, str, Any]]:
    """Every (api, argument, description, bad value) of the contract, for batch size n."""
    out = []
    for api in APIS:
        valid = api.valid(n, torch.float32)
        for arg, kind in api.kinds.items():
            value = valid.get(arg)
            if value is None and kind.split(":")[0] in ("floats", "reals", "ids", "labels"):
                continue
            out += [(api, arg, desc, bad) for desc, bad in malformed(kind, value)]
        out += [(api, arg, repr(bad)[:40], bad) for arg, bad in api.extra]
    return out


def outcome(api: Api, arg: str, bad) -> tuple[str, str]:
    """Call ``api`` with ``arg`` replaced by ``bad``: ("clear", message) if the package raised a
    ValueError/TypeError, ("silent", "") if it returned, ("obscure", error) otherwise."""
    import traceback

    kwargs = api.valid(2, torch.float32)
    kwargs[arg] = bad
    try:
        api.call(**kwargs)
    except (ValueError, TypeError) as err:
        frames = traceback.extract_tb(err.__traceback__)
        ours = "cgen_lessons" in frames[-1].filename
        return ("clear" if ours else "obscure"), f"{type(err).__name__}: {err}"
    except Exception as err:  # noqa: BLE001 - every other failure is what the contract forbids
        return "obscure", f"{type(err).__name__}: {str(err)[:120]}"
    return "silent", ""
