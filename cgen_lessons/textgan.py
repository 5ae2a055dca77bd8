"""Adversarial training for discrete sequences: gradient estimators, the synthetic oracle, SeqGAN, Gumbel GAN.

Gradient of E_{x~p_θ}[f(x)] for a categorical p_θ = softmax(θ) over K classes:
- exact (enumeration):  ∇_θ Σ_x p_θ(x) f(x) = Σ_x p_θ(x) f(x) (e_x − p_θ);
- score function / REINFORCE (Williams 1992): g = (f(x) − b) ∇_θ log p_θ(x) = (f(x) − b)(e_x − p_θ),
  unbiased for any b that does not depend on x (here: the leave-one-out mean of the other samples);
- Gumbel-softmax (Jang et al. 2017; Maddison et al. 2017): y = softmax((θ + g)/τ), g_k ~ Gumbel(0, 1),
  g = ∇_θ f(y) — low variance, biased for τ > 0 (it differentiates a relaxed objective);
- straight-through Gumbel: forward e_{argmax(θ+g)}, backward through the soft y.
Gumbel-max: argmax_k (θ_k + g_k) ~ Categorical(softmax(θ)) exactly.

SeqGAN (Yu et al. 2017): the generator G_θ is an LM (the course's ``RecurrentLM``), the reward of a
finished sequence Y is D(Y), and the action value of a prefix Y_{1:t} is estimated by N Monte-Carlo
rollouts, Q(Y_{1:t}) = (1/N) Σ_n D(Y_{1:t} · Y^n_{t+1:T}) for t < T and Q(Y_{1:T}) = D(Y_{1:T});
the policy gradient is ∇_θ J ≈ Σ_t Q(Y_{1:t}) ∇_θ log G_θ(y_t | Y_{1:t−1}).
Synthetic oracle: a randomly initialised LSTM LM generates the "real" data; NLL_oracle of generated
sequences, −(1/T) Σ_t log p_oracle(y_t | y_<t), measures their quality exactly.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from . import checks
from .decoding import generate
from .gan import GAN, d_loss_bce, g_loss_nonsaturating
from .lm import token_logprobs
from .rnn import RecurrentLM
from .utils import check_positive_int, check_token_ids, eval_mode

__all__ = ["gumbel_noise", "gumbel_max_sample", "gumbel_softmax", "exact_gradient", "reinforce_gradients",
           "gumbel_gradients", "make_oracle", "sample_sequences", "sequence_nll", "mle_loss", "SeqDiscriminator",
           "rollout_rewards", "pretrain_discriminator", "make_seqgan_step", "soft_sample", "make_gumbel_gan_step",
           "TextGAN"]


def _check_logits(logits) -> None:
    """Logits (..., K): floating point, no NaN or +inf (−inf marks an impossible category)."""
    checks.tensor(logits, "logits", kind="float")
    if torch.isnan(logits).any() or torch.isposinf(logits).any():
        raise ValueError("logits contain NaN or +inf; only −inf (an impossible category) is allowed")


def _check_tau(tau) -> float:
    if not isinstance(tau, (int, float)) or isinstance(tau, bool) or not tau > 0 or not math.isfinite(tau):
        raise ValueError(f"temperature tau must be a positive number, got {tau!r}")
    return float(tau)


# --------------------------------------------------------------------------- Gumbel tricks
def gumbel_noise(shape, generator: torch.Generator | None = None, device=None) -> torch.Tensor:
    """g = −log E with E ~ Exp(1), i.e. Gumbel(0, 1) noise (the same draw as ``F.gumbel_softmax``)."""
    if isinstance(shape, torch.Size):
        shape = tuple(shape)
    if not isinstance(shape, tuple) or any(isinstance(s, bool) or not isinstance(s, int) or s < 0 for s in shape):
        raise ValueError(f"shape must be a tuple of sizes >= 0, got {shape!r}")
    return -torch.empty(shape).exponential_(generator=generator).log().to(device)


def gumbel_max_sample(logits: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """argmax_k (θ_k + g_k): an exact sample of Categorical(softmax(θ)) for each row of logits (..., K)."""
    checks.tensor(logits, "logits", kind="float", finite=True)
    return (logits + gumbel_noise(logits.shape, generator, logits.device)).argmax(-1)


def gumbel_softmax(logits: torch.Tensor, tau: float, hard: bool = False,
                   generator: torch.Generator | None = None) -> torch.Tensor:
    """y = softmax((θ + g)/τ) (..., K); with ``hard`` the straight-through version e_argmax − sg(y) + y."""
    tau = _check_tau(tau)
    _check_logits(logits)
    y = ((logits + gumbel_noise(logits.shape, generator, logits.device)) / tau).softmax(-1)  # (..., K)
    if not hard:
        return y
    y_hard = F.one_hot(y.argmax(-1), y.shape[-1]).to(y.dtype)
    return y_hard - y.detach() + y  # value: one-hot; gradient: that of y


# --------------------------------------------------------------------------- estimators on a categorical
def _check_problem(logits: torch.Tensor, n: int | None, f=None):
    checks.tensor(logits, "logits", dims=1, kind="float", finite=True)
    if logits.numel() < 2:
        raise ValueError(f"logits must hold at least 2 classes, got {logits.numel()}")
    if f is not None and not callable(f):
        raise TypeError(f"f must be a function of one-hot rows, got {type(f).__name__}")
    return None if n is None else check_positive_int(n, "n")


def exact_gradient(logits: torch.Tensor, f) -> torch.Tensor:
    """∇_θ Σ_x softmax(θ)_x f(e_x) by enumerating the K classes; f maps one-hot rows (N, K) to (N,)."""
    _check_problem(logits, None, f)
    theta = logits.detach().clone().requires_grad_(True)
    K = theta.numel()
    objective = (theta.softmax(-1) * f(torch.eye(K, dtype=theta.dtype))).sum()
    (grad,) = torch.autograd.grad(objective, theta)
    return grad  # (K,)


def reinforce_gradients(logits: torch.Tensor, f, n: int, baseline: bool = False,
                        generator: torch.Generator | None = None) -> torch.Tensor:
    """n per-sample score-function estimates (n, K): (f(x_i) − b_i)(e_{x_i} − p), x_i ~ p = softmax(θ).

    With ``baseline`` b_i is the mean of f over the other n − 1 samples (independent of x_i: unbiased).
    """
    n = _check_problem(logits, n, f)
    if not isinstance(baseline, bool):
        raise TypeError(f"baseline must be True or False, got {baseline!r}")
    if baseline and n < 2:
        raise ValueError("a leave-one-out baseline needs n >= 2 samples")
    p = logits.detach().softmax(-1)  # (K,)
    x = torch.multinomial(p, n, replacement=True, generator=generator)  # (n,)
    onehot = F.one_hot(x, p.numel()).to(p.dtype)  # (n, K)
    fx = f(onehot)  # (n,)
    b = (fx.sum() - fx) / (n - 1) if baseline else torch.zeros_like(fx)
    return (fx - b)[:, None] * (onehot - p)  # (n, K)


def gumbel_gradients(logits: torch.Tensor, f, n: int, tau: float, hard: bool = False,
                     generator: torch.Generator | None = None) -> torch.Tensor:
    """n per-sample Gumbel-softmax (or straight-through, ``hard``) estimates (n, K): ∇_θ f(y_i)."""
    n = _check_problem(logits, n, f)
    if not isinstance(hard, bool):
        raise TypeError(f"hard must be True or False, got {hard!r}")
    theta = logits.detach().expand(n, -1).clone().requires_grad_(True)  # one copy of θ per sample
    y = gumbel_softmax(theta, tau, hard=hard, generator=generator)  # (n, K)
    (grad,) = torch.autograd.grad(f(y).sum(), theta)
    return grad  # (n, K)


# --------------------------------------------------------------------------- the synthetic oracle
def _check_start_id(start_id, vocab_size: int) -> None:
    if isinstance(start_id, bool) or not isinstance(start_id, int) or not 0 <= start_id < vocab_size:
        raise ValueError(f"start_id must be a token id in [0, {vocab_size}), got {start_id!r}")


def make_oracle(vocab_size: int, d_hidden: int = 32, d_embed: int = 32, std: float = 1.0, seed: int = 0) -> RecurrentLM:
    """A RecurrentLM (LSTM) with every parameter drawn from N(0, std²), as in SeqGAN's oracle; frozen."""
    d_hidden, d_embed = check_positive_int(d_hidden, "d_hidden"), check_positive_int(d_embed, "d_embed")
    std, seed = checks.number(std, "std", low=0.0, low_open=True), checks.nonneg_int(seed, "seed")
    oracle = RecurrentLM(vocab_size, "lstm", d_embed, d_hidden)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in oracle.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * std)
    return oracle.requires_grad_(False).eval()


def sample_sequences(lm, n: int, length: int, start_id: int = 0, temperature: float = 1.0,
                     generator: torch.Generator | None = None) -> torch.Tensor:
    """n sequences (n, length) sampled from ``lm`` after a start token (fed as input, not returned)."""
    n, length = check_positive_int(n, "n"), check_positive_int(length, "length")
    device = next(lm.parameters()).device
    start = torch.full((n, 1), start_id, dtype=torch.long, device=device)  # (n, 1)
    return generate(lm, start, length, temperature=temperature, generator=generator, use_cache=True)[:, 1:]


def _inputs(seqs: torch.Tensor, start_id: int) -> torch.Tensor:
    """[start, y_1, …, y_{T−1}]: the teacher-forced inputs that predict y_1 … y_T."""
    return torch.cat([torch.full_like(seqs[:, :1], start_id), seqs[:, :-1]], 1)  # (B, T)


def mle_loss(lm, seqs: torch.Tensor, start_id: int = 0) -> torch.Tensor:
    """The maximum-likelihood (teacher-forcing) loss of a batch of sequences (B, T): the mean per-token NLL."""
    checks.token_ids(checks.tensor(seqs, "seqs", dims=2, kind="int"), lm.vocab_size, "seqs")
    _check_start_id(start_id, lm.vocab_size)
    logits, _ = lm(_inputs(seqs, start_id))  # (B, T, V)
    return F.cross_entropy(logits.transpose(1, 2), seqs)


def sequence_nll(lm, seqs: torch.Tensor, start_id: int = 0, temperature: float = 1.0) -> torch.Tensor:
    """Per-token NLL of each sequence under ``lm`` at a temperature τ (B,): −(1/T) Σ_t log softmax(z_t/τ)[y_t], nats."""
    checks.token_ids(checks.tensor(seqs, "seqs", dims=2, kind="int"), lm.vocab_size, "seqs")
    ids = torch.cat([torch.full_like(seqs[:, :1], start_id), seqs], dim=1)  # (B, 1 + T): the start token first
    return -token_logprobs(lm, ids, temperature).mean(dim=1).float()  # (B,)


# --------------------------------------------------------------------------- discriminator
class SeqDiscriminator(nn.Module):
    """CNN over a sequence (Kim 2014, as in SeqGAN): D(Y) = w · [max_t ReLU(conv_k(E Y))]_k + b (a logit).

    Takes token ids (B, T) or rows of probabilities / one-hots (B, T, V) (embedded as Y E) so that a
    Gumbel-softmax generator's relaxed samples can be scored.
    """

    def __init__(self, vocab_size: int, d_embed: int = 32, n_filters: int = 32, widths=(2, 3, 4),
                 dropout: float = 0.25):
        super().__init__()
        self.vocab_size = check_positive_int(vocab_size, "vocab_size")
        d_embed, n_filters = check_positive_int(d_embed, "d_embed"), check_positive_int(n_filters, "n_filters")
        dropout = checks.probability(dropout, "dropout")
        if isinstance(widths, (str, bytes)) or not widths or any(
                isinstance(w, bool) or not isinstance(w, int) or w < 1 for w in widths):
            raise ValueError(f"widths must be positive kernel widths, got {widths!r}")
        self.embed = nn.Embedding(vocab_size, d_embed)
        self.convs = nn.ModuleList(nn.Conv1d(d_embed, n_filters, int(w)) for w in widths)
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(n_filters * len(widths), 1)
        self.min_len = max(int(w) for w in widths)

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        if y.dim() == 2:
            check_token_ids(y, self.vocab_size, "y")
            e = self.embed(y)  # (B, T, E)
        elif y.dim() == 3 and y.shape[-1] == self.vocab_size:
            e = y @ self.embed.weight  # (B, T, E): expected embedding under the soft one-hot rows
        else:
            raise ValueError(f"y must be ids (B, T) or distributions (B, T, {self.vocab_size}), got {tuple(y.shape)}")
        if e.shape[1] < self.min_len:
            raise ValueError(f"sequences must have at least {self.min_len} tokens (the widest filter)")
        e = e.transpose(1, 2)  # (B, E, T)
        feats = torch.cat([F.relu(conv(e)).amax(-1) for conv in self.convs], 1)  # (B, F·k)
        return self.out(self.drop(feats)).squeeze(-1)  # (B,)


class TextGAN(GAN):
    """Generator LM ``G`` + sequence discriminator ``D`` in one module (for the shared loop)."""


# --------------------------------------------------------------------------- SeqGAN
@torch.no_grad()
def rollout_rewards(G: RecurrentLM, D: SeqDiscriminator, seqs: torch.Tensor, n_rollouts: int = 8,
                    start_id: int = 0, generator: torch.Generator | None = None) -> torch.Tensor:
    """Q(Y_{1:t}) for every prefix, shape (B, T): the mean of D's probability over ``n_rollouts``
    completions sampled from G for t < T, and D(Y) itself for t = T (one reward per prefix)."""
    n_rollouts = check_positive_int(n_rollouts, "n_rollouts")
    if seqs.dim() != 2 or seqs.shape[1] == 0:
        raise ValueError("seqs must be a (B, T) tensor with T >= 1")
    B, T = seqs.shape
    with eval_mode(D):
        rewards = torch.empty(B, T, device=seqs.device)
        prefix_inputs = torch.cat([torch.full_like(seqs[:, :1], start_id), seqs], 1)  # (B, T + 1)
        for t in range(1, T):
            prefix = prefix_inputs[:, : t + 1].repeat(n_rollouts, 1)  # (N·B, t + 1): start + y_1..y_t
            full = generate(G, prefix, T - t, generator=generator, use_cache=True)[:, 1:]  # (N·B, T)
            rewards[:, t - 1] = torch.sigmoid(D(full)).view(n_rollouts, B).mean(0)
        rewards[:, T - 1] = torch.sigmoid(D(seqs))
    return rewards


def _d_update(model: TextGAN, real: torch.Tensor, fake: torch.Tensor, opt) -> float:
    """One discriminator step on the BCE loss: softplus(−D(real)) + softplus(D(fake))."""
    opt.zero_grad(set_to_none=True)
    loss = d_loss_bce(model.D(real), model.D(fake))
    loss.backward()
    opt.step()
    return loss.item()


def pretrain_discriminator(model: TextGAN, optimizer, real_batch_fn, steps: int, length: int, start_id: int = 0,
                           generator: torch.Generator | None = None, one_hot: bool = False) -> list[float]:
    """Train D alone with ``optimizer`` on real sequences (``real_batch_fn(generator)``) vs G's samples, as
    SeqGAN does before the adversarial phase; ``one_hot`` feeds both as one-hot rows (for a Gumbel GAN's D).
    Returns the losses."""
    steps, length = check_positive_int(steps, "steps"), check_positive_int(length, "length")
    losses = []
    for _ in range(steps):
        real = real_batch_fn(generator)  # (B, T)
        fake = sample_sequences(model.G, real.shape[0], length, start_id, generator=generator)  # (B, T)
        if one_hot:
            real, fake = F.one_hot(real, model.G.vocab_size).float(), F.one_hot(fake, model.G.vocab_size).float()
        losses.append(_d_update(model, real, fake, optimizer))
    return losses


def make_seqgan_step(length: int, n_rollouts: int = 8, d_steps: int = 1, start_id: int = 0):
    """A ``train.fit`` step for SeqGAN: one policy-gradient step of G (rewards from rollouts) on a batch
    of its own samples, then ``d_steps`` discriminator steps on real (the batch) vs fresh fake samples.
    ``fit`` gets optimizers {"G": …, "D": …} and batches of real sequences (B, T)."""
    length, n_rollouts, d_steps = (check_positive_int(length, "length"), check_positive_int(n_rollouts, "n_rollouts"),
                                   check_positive_int(d_steps, "d_steps"))

    def step_fn(model: TextGAN, real: torch.Tensor, opts) -> dict[str, float]:
        B = real.shape[0]
        fake = sample_sequences(model.G, B, length, start_id)  # (B, T)
        Q = rollout_rewards(model.G, model.D, fake, n_rollouts, start_id)  # (B, T)
        logits, _ = model.G(_inputs(fake, start_id))  # (B, T, V)
        log_pi = -F.cross_entropy(logits.transpose(1, 2), fake, reduction="none")  # (B, T)
        g_loss = -(log_pi * Q).sum(1).mean()  # −Σ_t Q(Y_{1:t}) log G(y_t | Y_{1:t−1})
        opts["G"].zero_grad(set_to_none=True)
        g_loss.backward()
        opts["G"].step()
        d_loss = [_d_update(model, real, sample_sequences(model.G, B, length, start_id), opts["D"])
                  for _ in range(d_steps)]
        return {"g_loss": g_loss.item(), "d_loss": sum(d_loss) / d_steps, "reward": Q[:, -1].mean().item()}

    return step_fn


# --------------------------------------------------------------------------- Gumbel-softmax GAN
def soft_sample(G: RecurrentLM, n: int, length: int, tau: float, start_id: int = 0, hard: bool = False) -> torch.Tensor:
    """Relaxed sequences (n, T, V): y_t = gumbel_softmax(logits_t, τ), fed back as the soft input y_t E."""
    n, length, tau = check_positive_int(n, "n"), check_positive_int(length, "length"), _check_tau(tau)
    _check_start_id(start_id, G.vocab_size)
    if not isinstance(hard, bool):
        raise TypeError(f"hard must be True or False, got {hard!r}")
    device = next(G.parameters()).device
    start = F.one_hot(torch.full((n,), start_id, device=device), G.vocab_size).float()  # (n, V)
    state, x, ys = G.init_state(n, device), start, []
    for _ in range(length):
        h = x @ G.embed.weight  # (n, E): the embedding of a soft token
        for layer, cell in enumerate(G.cells):
            state[layer] = cell.recur(cell.input_proj(h), state[layer])
            h = state[layer][0] if isinstance(state[layer], tuple) else state[layer]  # (n, H)
        x = gumbel_softmax(G.head(h), tau, hard=hard)  # (n, V)
        ys.append(x)
    return torch.stack(ys, 1)  # (n, T, V)


def make_gumbel_gan_step(length: int, tau: float = 1.0, hard: bool = False, d_steps: int = 1, start_id: int = 0):
    """A ``train.fit`` step for a Gumbel-softmax text GAN: G gets the non-saturating loss
    −log σ(D(y)) through the relaxed samples y; D sees one-hot real data vs relaxed fakes."""
    length, d_steps, tau = check_positive_int(length, "length"), check_positive_int(d_steps, "d_steps"), _check_tau(tau)

    def step_fn(model: TextGAN, real: torch.Tensor, opts) -> dict[str, float]:
        B, V = real.shape[0], model.G.vocab_size
        real_onehot = F.one_hot(real, V).float()  # (B, T, V)
        d_loss = [_d_update(model, real_onehot, soft_sample(model.G, B, length, tau, start_id, hard).detach(),
                            opts["D"])
                  for _ in range(d_steps)]
        g_loss = g_loss_nonsaturating(model.D(soft_sample(model.G, B, length, tau, start_id, hard)))
        opts["G"].zero_grad(set_to_none=True)
        g_loss.backward()
        opts["G"].step()
        return {"g_loss": g_loss.item(), "d_loss": sum(d_loss) / d_steps}

    return step_fn
