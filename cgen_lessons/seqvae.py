"""A sequence VAE for text (Bowman et al. 2016) and the remedies for posterior collapse.

Model: z ~ N(0, I); a recurrent decoder LM reads z through its initial state,
    p_θ(x | z) = Π_t p_θ(x_t | x_<t, z),   h_0 = tanh(W_z z + b_z);
encoder: a recurrent cell reads x; its last hidden state h gives q_φ(z | x) = N(μ(h), diag σ²(h)).
Objective per sequence (nats), with a weight β on the KL and optional free bits λ per dimension:

    L(x) = − E_q[log p_θ(x | z)] + β · Σ_j max(λ, KL_j),
    KL_j = ½ (μ_j² + σ_j² − log σ_j² − 1)   (batch-averaged before the max, Kingma et al. 2016).

With β = 1 and λ = 0 this is the negative ELBO. Remedies for collapse (KL → 0, z ignored):
KL annealing (β from 0 to 1: linear, or cyclical — Fu et al. 2019), word (here: character)
dropout on the decoder's inputs (Bowman et al. 2016), and free bits (Kingma et al. 2016).
Diagnostics: active units A_u = Cov_x(E_q[z_u]) > 0.01 (Burda et al. 2016) and the
importance-sampled log-likelihood log p(x) ≈ log 1/K Σ_k p(x|z_k) p(z_k) / q(z_k|x).
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from . import checks
from .decoding import generate
from .rnn import CELLS, RecurrentLM
from .utils import check_positive_int, check_token_ids, eval_mode

__all__ = ["SeqVAE", "kl_weight", "make_seqvae_step", "active_units", "importance_nll", "interpolate"]


def kl_weight(step: int, schedule: str = "constant", total: int = 1, n_cycles: int = 4, ramp: float = 0.5) -> float:
    """β at optimiser step ``step`` (1-based) of ``total``.

    - ``constant``: β = 1 (the plain ELBO);
    - ``linear``: β = min(1, step / (ramp · total)) — one warm-up over the first ``ramp`` of training;
    - ``cyclical`` (Fu et al. 2019): training is cut into ``n_cycles`` equal cycles; within each,
      β rises linearly from 0 to 1 over the first ``ramp`` of the cycle and stays at 1 after.
    """
    if schedule not in ("constant", "linear", "cyclical"):
        raise ValueError(f"schedule must be 'constant', 'linear' or 'cyclical', got {schedule!r}")
    step, total = check_positive_int(step, "step"), check_positive_int(total, "total")
    n_cycles = check_positive_int(n_cycles, "n_cycles")
    checks.probability(ramp, "ramp", allow_zero=False)
    if schedule == "constant":
        return 1.0
    if schedule == "linear":
        return min(1.0, step / (ramp * total))
    period = total / n_cycles
    position = ((step - 1) % period + 1) / period  # (0, 1] within the current cycle
    return min(1.0, position / ramp)


class SeqVAE(nn.Module):
    """Sequence VAE: recurrent encoder → (μ, log σ²); decoder = the chapter 02 ``RecurrentLM`` started from z.

    Data convention (``data.encode_pairs`` with the word as source and target): ``src`` (B, S) the
    sequence right-padded with ``pad_id``; ``tgt_in`` = BOS + x and ``tgt_out`` = x + EOS (B, T).
    """

    def __init__(self, vocab_size: int, pad_id: int, cell: str = "gru", d_embed: int = 32, d_hidden: int = 128,
                 z_dim: int = 16, word_dropout: float = 0.0):
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"unknown cell {cell!r}; choose one of {', '.join(CELLS)}")
        word_dropout = checks.probability(word_dropout, "word_dropout", allow_one=False)
        self.vocab_size = check_positive_int(vocab_size, "vocab_size")
        d_embed, d_hidden = check_positive_int(d_embed, "d_embed"), check_positive_int(d_hidden, "d_hidden")
        if isinstance(pad_id, bool) or not isinstance(pad_id, int) or not 0 <= pad_id < vocab_size:
            raise ValueError(f"pad_id must be a token id in [0, {vocab_size}), got {pad_id!r}")
        self.pad_id, self.z_dim, self.word_dropout = pad_id, check_positive_int(z_dim, "z_dim"), word_dropout
        self.embed = nn.Embedding(vocab_size, d_embed)
        self.encoder = CELLS[cell](d_embed, d_hidden)
        self.to_mu = nn.Linear(d_hidden, z_dim)
        self.to_logvar = nn.Linear(d_hidden, z_dim)
        self.decoder = RecurrentLM(vocab_size, cell, d_embed, d_hidden)
        self.z_to_h = nn.Linear(z_dim, d_hidden)

    # ------------------------------------------------------------------ encoder q(z | x)
    def encode(self, src: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """μ, log σ² (B, z) from the encoder's hidden state after the last non-pad token of src (B, S)."""
        check_token_ids(src, self.vocab_size, "src")
        lengths = (src != self.pad_id).sum(1)  # (B,)
        if (lengths == 0).any():
            raise ValueError("every sequence needs at least one non-pad token (empty sequence in src)")
        gi = self.encoder.input_proj(self.embed(src))  # (B, S, G·H)
        s = self.encoder.init_state(src.shape[0], device=src.device)
        hs = []
        for t in range(src.shape[1]):
            s = self.encoder.recur(gi[:, t], s)
            hs.append(s[0] if isinstance(s, tuple) else s)
        h = torch.stack(hs, 1)[torch.arange(src.shape[0]), lengths - 1]  # (B, H) at each sequence's end
        return self.to_mu(h), self.to_logvar(h)

    # ------------------------------------------------------------------ decoder p(x | z)
    def initial_state(self, z: torch.Tensor):
        """h_0 = tanh(W_z z + b_z) (and c_0 = 0 for an LSTM) as the decoder's state list."""
        if z.dim() != 2 or z.shape[1] != self.z_dim:
            raise ValueError(f"z must have shape (B, {self.z_dim}), got {tuple(z.shape)}")
        h0 = torch.tanh(self.z_to_h(z))  # (B, H)
        cell = self.decoder.cells[0]
        return [(h0, torch.zeros_like(h0)) if cell.gates == 4 else h0]

    def log_px_given_z(self, tgt_in: torch.Tensor, tgt_out: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """log p(x | z) per sequence (B,): Σ_t log p(x_t | x_<t, z) over non-pad targets."""
        check_token_ids(tgt_out, self.vocab_size, "tgt_out")
        if tgt_in.shape != tgt_out.shape or tgt_in.shape[0] != z.shape[0]:
            raise ValueError(f"tgt_in {tuple(tgt_in.shape)}, tgt_out {tuple(tgt_out.shape)} and z "
                             f"{tuple(z.shape)} must agree in batch size and length")
        logits, _ = self.decoder.forward_with_state(tgt_in, self.initial_state(z))  # (B, T, V)
        nll = F.cross_entropy(logits.transpose(1, 2), tgt_out, reduction="none")  # (B, T)
        return -(nll * (tgt_out != self.pad_id)).sum(1)

    def drop_inputs(self, tgt_in: torch.Tensor) -> torch.Tensor:
        """Word (character) dropout: each decoder input after BOS becomes pad with prob. ``word_dropout``."""
        if not (self.training and self.word_dropout > 0):
            return tgt_in
        drop = torch.rand(tgt_in.shape, device=tgt_in.device) < self.word_dropout  # (B, T)
        drop[:, 0] = False  # keep BOS
        return tgt_in.masked_fill(drop, self.pad_id)

    def terms(self, batch) -> dict[str, torch.Tensor]:
        """Per-sequence reconstruction −log p(x|z) (B,), KL per dimension (B, z), for one z ~ q(z|x)."""
        src, tgt_in, tgt_out = batch
        mu, logvar = self.encode(src)  # (B, z) each
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)  # reparameterisation
        rec = -self.log_px_given_z(self.drop_inputs(tgt_in), tgt_out, z)  # (B,)
        kl = 0.5 * (mu.pow(2) + logvar.exp() - logvar - 1.0)  # (B, z)
        return {"rec": rec, "kl": kl, "mu": mu}

    # ------------------------------------------------------------------ generation
    @torch.no_grad()
    def decode(self, z: torch.Tensor, bos_id: int, eos_id: int, max_len: int, greedy: bool = True,
               temperature: float = 1.0, generator: torch.Generator | None = None) -> list[list[int]]:
        """Token ids decoded from each z (B, z_dim), greedily or by sampling (``decoding.generate``
        started from the decoder state of z), up to EOS or ``max_len``."""
        bos = torch.full((z.shape[0], 1), bos_id, dtype=torch.long, device=z.device)  # (B, 1)
        ids = generate(self.decoder, bos, check_positive_int(max_len, "max_len"), greedy=greedy,
                       temperature=temperature, eos_id=eos_id, generator=generator, use_cache=True,
                       state=self.initial_state(z))[:, 1:].tolist()
        return [row[: row.index(eos_id)] if eos_id in row else row for row in ids]


def make_seqvae_step(schedule: str = "constant", total: int = 1, free_bits: float = 0.0, grad_clip: float = 5.0,
                     n_cycles: int = 4, ramp: float = 0.5):
    """A ``train.fit`` step function for ``SeqVAE``: β from ``kl_weight`` (it counts its own calls), free bits λ.

    Logs the per-sequence reconstruction, the KL (nats), β and the loss.
    """
    free_bits = checks.number(free_bits, "free_bits", low=0.0)
    grad_clip = checks.number(grad_clip, "grad_clip", low=0.0, low_open=True)
    kl_weight(1, schedule, total, n_cycles, ramp)  # validates the schedule arguments now
    calls = {"step": 0}

    def step_fn(model: SeqVAE, batch, optimizer) -> dict[str, float]:
        calls["step"] += 1
        beta = kl_weight(min(calls["step"], total), schedule, total, n_cycles, ramp)
        t = model.terms(batch)
        kl_dims = t["kl"].mean(0)  # (z,) batch-averaged KL per dimension
        kl_term = torch.clamp(kl_dims, min=free_bits).sum() if free_bits > 0 else kl_dims.sum()
        loss = t["rec"].mean() + beta * kl_term
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
        optimizer.step()
        return {"loss": loss.item(), "rec": t["rec"].mean().item(), "kl": kl_dims.sum().item(), "beta": beta}

    return step_fn


@torch.no_grad()
def active_units(model: SeqVAE, src: torch.Tensor, threshold: float = 0.01) -> int:
    """Number of latent dimensions u with Cov_x(E_q[z_u | x]) > threshold (Burda et al. 2016)."""
    mu, _ = model.encode(src)  # (N, z)
    return int((mu.var(0) > threshold).sum())


@torch.no_grad()
def importance_nll(model: SeqVAE, batch, k: int = 100, generator: torch.Generator | None = None,
                   chunk: int = 64) -> torch.Tensor:
    """−log p(x) ≈ −log (1/K) Σ_k p(x | z_k) p(z_k) / q(z_k | x), z_k ~ q(z | x); per sequence (N,), nats.

    An upper bound on −log p(x) for every K (in expectation) that tightens as K grows (Burda et al. 2016).
    """
    k = check_positive_int(k, "k")
    with eval_mode(model):
        src, tgt_in, tgt_out = batch
        out = []
        for start in range(0, src.shape[0], chunk):
            s, ti, to = src[start:start + chunk], tgt_in[start:start + chunk], tgt_out[start:start + chunk]
            mu, logvar = model.encode(s)  # (n, z)
            std = torch.exp(0.5 * logvar)
            eps = torch.randn((k,) + mu.shape, generator=generator).to(mu.device)  # (K, n, z)
            z = mu + std * eps
            log_q = torch.distributions.Normal(mu, std).log_prob(z).sum(-1)  # (K, n)
            log_prior = torch.distributions.Normal(0.0, 1.0).log_prob(z).sum(-1)  # (K, n)
            log_lik = model.log_px_given_z(ti.repeat(k, 1), to.repeat(k, 1), z.flatten(0, 1)).view(k, -1)
            out.append(-(torch.logsumexp(log_lik + log_prior - log_q, 0) - math.log(k)))
    return torch.cat(out)


@torch.no_grad()
def interpolate(model: SeqVAE, src_a: torch.Tensor, src_b: torch.Tensor, steps: int, bos_id: int, eos_id: int,
                max_len: int) -> list[list[int]]:
    """Greedy decodings of z(α) = (1 − α) μ(a) + α μ(b) for ``steps`` values of α from 0 to 1 (a homotopy)."""
    steps = check_positive_int(steps, "steps")
    if steps < 2:
        raise ValueError("an interpolation needs steps >= 2")
    mu = model.encode(torch.stack([src_a, src_b]))[0]  # (2, z)
    alpha = torch.linspace(0, 1, steps, device=mu.device)[:, None]  # (steps, 1)
    z = (1 - alpha) * mu[0] + alpha * mu[1]  # (steps, z)
    return model.decode(z, bos_id, eos_id, max_len)
