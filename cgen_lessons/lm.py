"""The one interface every language model of the course shares, and the one scorer built on it.

Interface (n-gram, RNN, GPT, the sequence VAE's decoder, SeqGAN's generator):

    model(idx, targets=None) -> (logits, loss)     idx (B, T) ids, logits (B, T, V)
    model.vocab_size                               V
    model.context_size                             trailing tokens it reads (None = all), optional
    model.block_size                               hard input limit (GPT), optional

A model may also offer a cache, which ``decoding.generate(..., use_cache=True)`` uses:
``forward_cached(idx, cache)`` (GPT: keys and values) or ``forward_with_state(idx, state)`` (RNNs).
The protocols below name these abilities, so code asks ``isinstance(model, CachedLM)`` instead
of probing attributes by hand.

Scoring: the log-probability of a sequence factorises by the chain rule,

    log p(x_1 … x_T) = Σ_t log p(x_t | x_<t),

and ``token_logprobs`` returns its terms. Every score of the course — a reply's likelihood
(ch10), a continuation's (ch04, ch10), a sequence's NLL under the oracle (ch08), a stream's
perplexity (``metrics.stream_nll``) — is a masked sum of these terms.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import torch

from . import checks

__all__ = ["LanguageModel", "CachedLM", "StatefulLM", "token_logprobs"]


@runtime_checkable
class LanguageModel(Protocol):
    """``model(idx, targets=None) -> (logits (B, T, V), loss or None)``."""

    vocab_size: int

    def __call__(self, idx: torch.Tensor, targets: torch.Tensor | None = None): ...


@runtime_checkable
class CachedLM(Protocol):
    """A language model with a key/value cache: ``forward_cached(new_ids, cache) -> (logits, cache)``."""

    def forward_cached(self, idx: torch.Tensor, cache=None): ...


@runtime_checkable
class StatefulLM(Protocol):
    """A language model with a recurrent state: ``forward_with_state(ids, state) -> (logits, state)``."""

    def forward_with_state(self, idx: torch.Tensor, state=None): ...


def _check_token_logprobs(model, ids, temperature) -> None:
    if not isinstance(model, LanguageModel):
        raise TypeError("model must follow the course LM interface (callable, with vocab_size), "
                        f"got {type(model).__name__}")
    checks.token_ids(ids, model.vocab_size, "ids")
    if ids.shape[1] < 2:
        raise ValueError("ids must hold at least 2 tokens per row (one to condition on, one to score), "
                         f"got {tuple(ids.shape)}")
    checks.number(temperature, "temperature", low=0, low_open=True)


def token_logprobs(model, ids: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
    """log p(x_t | x_<t) of every token after the first, (B, T − 1), in float64.

    With a temperature τ the distribution is softmax(z_t / τ) (τ = 1: the model's own).
    """
    _check_token_logprobs(model, ids, temperature)
    logits, _ = model(ids[:, :-1])  # (B, T − 1, V)
    logp = torch.log_softmax(logits.double() / temperature, dim=-1)  # (B, T − 1, V)
    return logp.gather(2, ids[:, 1:, None])[..., 0]  # (B, T − 1)
