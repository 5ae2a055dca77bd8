"""Turning a language model's next-token distributions into text.

Every LM of the course has the interface ``model(idx, targets=None) -> (logits, loss)`` with
logits (B, T, V), and may set ``context_size`` (trailing tokens it reads; ``None`` = all).
Models may also offer a cache: ``forward_cached(idx, cache)`` (GPT: keys and values) or
``forward_with_state(idx, state)`` (RNNs), which ``generate(..., use_cache=True)`` uses.

Filters work on a batch of logits (B, V) and return new logits with removed tokens at −∞:

- temperature:  z / τ, τ > 0
- top-k:        keep every token whose logit ≥ the k-th largest (ties at the threshold kept)
- top-p:        keep the smallest set of most probable tokens whose probability sum reaches p
                (the token that crosses p included; Holtzman et al. 2020)
- repetition penalty (Keskar et al. 2019): for tokens already generated, z ← z / θ if z > 0
                else z · θ

Sampling applies them in the order temperature → top-k → top-p.
"""

from __future__ import annotations

import math

import torch

from . import checks
from .lm import CachedLM, LanguageModel, StatefulLM
from .utils import check_positive_int, eval_mode

__all__ = ["apply_temperature", "top_k_filter", "top_p_filter", "apply_repetition_penalty", "generate",
           "sample", "beam_search"]


def _check_logits(logits: torch.Tensor) -> None:
    if not isinstance(logits, torch.Tensor) or logits.dim() != 2 or logits.numel() == 0:
        raise ValueError("logits must be a non-empty tensor of shape (B, V), got "
                         f"{tuple(logits.shape) if isinstance(logits, torch.Tensor) else type(logits).__name__}")
    if not logits.dtype.is_floating_point:
        raise ValueError(f"logits must be floating point, got dtype {logits.dtype} (convert with .float())")
    if torch.isnan(logits).any():
        raise ValueError("logits contain NaN: the model's output is broken (check its inputs and weights)")
    if torch.isposinf(logits).any():
        raise ValueError("logits contain +inf: softmax would be NaN (only −inf, a removed token, is allowed)")
    if torch.isneginf(logits).all(dim=-1).any():
        raise ValueError("a row of logits is all −inf: no token is left to choose")


def _check_temperature(temperature) -> None:
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or not temperature > 0 \
            or not math.isfinite(temperature):
        raise ValueError(f"temperature must be a finite number > 0, got {temperature!r}")


def apply_temperature(logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """z / τ. τ → 0 approaches greedy decoding, τ = 1 leaves the model's distribution, τ > 1 flattens it."""
    _check_logits(logits)
    _check_temperature(temperature)
    scaled = logits / temperature
    finite = torch.isfinite(logits)
    if not torch.isfinite(scaled[finite]).all():
        raise ValueError(f"temperature {temperature!r} is so small that z / τ overflows; "
                         "use greedy decoding (greedy=True) for the τ → 0 limit")
    return scaled


def top_k_filter(logits: torch.Tensor, k: int, min_tokens_to_keep: int = 1) -> torch.Tensor:
    """Keep tokens whose logit is ≥ the k-th largest in their row (so ties at the threshold stay)."""
    _check_logits(logits)
    k = check_positive_int(k, "k")
    min_tokens_to_keep = check_positive_int(min_tokens_to_keep, "min_tokens_to_keep")
    k = min(max(k, min_tokens_to_keep), logits.shape[-1])
    threshold = torch.topk(logits, k, dim=-1).values[:, -1:]  # (B, 1) the k-th largest logit
    return logits.masked_fill(logits < threshold, float("-inf"))


def _check_top_p(logits, p, min_tokens_to_keep) -> None:
    _check_logits(logits)
    checks.probability(p, "p", allow_zero=False)
    checks.positive_int(min_tokens_to_keep, "min_tokens_to_keep")


def top_p_filter(logits: torch.Tensor, p: float, min_tokens_to_keep: int = 1) -> torch.Tensor:
    """Nucleus filter: keep the most probable tokens until their total probability reaches p."""
    _check_top_p(logits, p, min_tokens_to_keep)
    if p == 1.0:  # keep everything: the cumulative sum can reach 1.0 by rounding before the last tokens
        return logits.clone()
    sorted_logits, order = torch.sort(logits, dim=-1, descending=True)  # (B, V)
    probs = torch.softmax(sorted_logits.double(), dim=-1)
    mass_before = torch.cumsum(probs, dim=-1) - probs  # probability of the tokens ranked above
    remove_sorted = mass_before >= p  # p already reached without this token
    remove_sorted[:, :min_tokens_to_keep] = False
    remove = torch.zeros_like(remove_sorted).scatter(1, order, remove_sorted)
    return logits.masked_fill(remove, float("-inf"))


def _check_repetition_penalty(logits, previous_ids, penalty) -> None:
    _check_logits(logits)
    checks.number(penalty, "penalty", low=0, low_open=True)
    checks.token_ids(previous_ids, logits.shape[1], "previous_ids")
    if previous_ids.shape[0] != logits.shape[0]:
        raise ValueError(f"previous_ids must have the batch size of logits ({logits.shape[0]}), "
                         f"got {previous_ids.shape[0]}")


def apply_repetition_penalty(logits: torch.Tensor, previous_ids: torch.Tensor, penalty: float) -> torch.Tensor:
    """For every token id that occurs in ``previous_ids`` (B, T): z ← z / θ if z > 0, else z · θ.

    θ > 1 discourages repetition, θ = 1 does nothing, 0 < θ < 1 encourages it.
    """
    _check_repetition_penalty(logits, previous_ids, penalty)
    seen = torch.zeros_like(logits, dtype=torch.bool).scatter(1, previous_ids.long(), True)  # (B, V)
    penalised = torch.where(logits > 0, logits / penalty, logits * penalty)
    return torch.where(seen, penalised, logits)


def _next_logits(model, idx, cache, use_cache):
    """Last-position logits (B, V) and the updated cache."""
    if use_cache:
        new = idx if cache is None else idx[:, -1:]
        step = model.forward_cached if isinstance(model, CachedLM) else model.forward_with_state
        logits, cache = step(new, cache)
        return logits[:, -1], cache
    context = getattr(model, "context_size", None)
    window = idx if context is None else idx[:, -max(1, context):]
    logits, _ = model(window)
    return logits[:, -1], None


def constrain(allowed):
    """A logit processor from a mask function ``allowed(idx, step) -> (B, V) bool`` (constrained
    decoding, e.g. ``apps.FormatConstraint.allowed``): tokens not allowed get logit −∞."""
    if not callable(allowed):
        raise TypeError(f"allowed must be a function (idx, step) -> (B, V) boolean mask, got {type(allowed).__name__}")

    def process(logits, idx, step):
        mask = allowed(idx, step)  # (B, V) bool
        if not isinstance(mask, torch.Tensor) or mask.shape != logits.shape or mask.dtype != torch.bool \
                or not mask.any(dim=-1).all():
            raise ValueError(f"allowed(idx, {step}) must return a ({logits.shape[0]}, {logits.shape[1]}) "
                             "boolean mask with at least one True per row")
        return logits.masked_fill(~mask, float("-inf"))
    return process


def _check_generate(model, idx, max_new_tokens, greedy, temperature, top_k, top_p, repetition_penalty, eos_id,
                    use_cache, state, processors) -> None:
    if not isinstance(model, LanguageModel):
        raise TypeError(f"model must follow the course LM interface (lm.LanguageModel), got {type(model).__name__}")
    checks.positive_int(max_new_tokens, "max_new_tokens")
    checks.token_ids(idx, model.vocab_size)
    if idx.shape[1] == 0:
        raise ValueError("idx must be a (B, T) tensor of token ids with T >= 1")
    cached, stateful = isinstance(model, CachedLM), isinstance(model, StatefulLM)
    if use_cache and not (cached or stateful):
        raise ValueError("use_cache=True needs a model with forward_cached or forward_with_state")
    limit = getattr(model, "block_size", None)
    # the cache holds every token the model reads: the prompt and all new tokens but the last one
    if use_cache and cached and limit is not None and idx.shape[1] + max_new_tokens - 1 > limit:
        raise ValueError(f"with a KV cache the prompt plus all new tokens but the last ({idx.shape[1]} + "
                         f"{max_new_tokens} − 1) must fit in block_size = {limit}")
    if state is not None and not (use_cache and stateful):
        raise ValueError("an initial state needs use_cache=True and a model with forward_with_state")
    if not greedy:  # fail before any model call
        _check_temperature(temperature)
        if top_k is not None:
            checks.positive_int(top_k, "top_k")
        if top_p is not None:
            checks.probability(top_p, "top_p", allow_zero=False)
    if repetition_penalty is not None:
        checks.number(repetition_penalty, "repetition_penalty", low=0, low_open=True)
    if eos_id is not None and not 0 <= checks.nonneg_int(eos_id, "eos_id") < model.vocab_size:
        raise ValueError(f"eos_id must be a token id in [0, {model.vocab_size}), got {eos_id}")
    _check_processors(processors)


def _check_processors(processors) -> None:
    if isinstance(processors, (str, bytes)) or not hasattr(processors, "__iter__") \
            or not all(callable(f) for f in processors):
        raise TypeError("processors must be a list of functions f(logits, idx, step) -> logits, "
                        f"got {processors!r:.80}")


@torch.no_grad()
def generate(model, idx: torch.Tensor, max_new_tokens: int, *, greedy: bool = False, temperature: float = 1.0,
             top_k: int | None = None, top_p: float | None = None, repetition_penalty: float | None = None,
             eos_id: int | None = None, generator: torch.Generator | None = None, use_cache: bool = False,
             state=None, processors=()) -> torch.Tensor:
    """Extend each row of ``idx`` (B, T) by up to ``max_new_tokens`` tokens.

    Greedy: x_{t+1} = argmax z_t. Sampling: x_{t+1} ~ softmax(top_p(top_k(z_t / τ))). Rows that
    produce ``eos_id`` stop and are padded with it; generation ends when every row has stopped.
    ``use_cache=True`` reuses the model's KV cache or recurrent state (identical tokens, less work).
    ``state``: a recurrent state that already summarises everything before the last token of
    ``idx`` (e.g. a sequence VAE's decoder state computed from z); only that last token is read.

    Each step runs the model, then a list of logit processors ``f(logits, idx, step) -> logits``:
    first the caller's ``processors`` (e.g. ``constrain(mask_fn)`` for constrained decoding; ``step``
    is the 0-based number of the new token), then repetition penalty, temperature, top-k and top-p.
    """
    _check_generate(model, idx, max_new_tokens, greedy, temperature, top_k, top_p, repetition_penalty, eos_id,
                    use_cache, state, processors)
    processors = list(processors)
    if repetition_penalty is not None:
        processors.append(lambda z, ids, step: apply_repetition_penalty(z, ids, repetition_penalty))
    if not greedy:
        processors.append(lambda z, ids, step: apply_temperature(z, temperature))
        if top_k is not None:
            processors.append(lambda z, ids, step: top_k_filter(z, top_k))
        if top_p is not None:
            processors.append(lambda z, ids, step: top_p_filter(z, top_p))
    cache, done = state, torch.zeros(idx.shape[0], dtype=torch.bool, device=idx.device)  # (B,)
    with eval_mode(model):
        for step in range(max_new_tokens):
            logits, cache = _next_logits(model, idx, cache, use_cache)  # (B, V)
            logits = logits.float()
            _check_logits(logits)  # NaN logits would otherwise become token 0 (greedy) or a crash (sampling)
            for process in processors:
                logits = process(logits, idx, step)
            if greedy:
                nxt = logits.argmax(dim=-1, keepdim=True)  # (B, 1)
            else:
                probs = torch.softmax(logits.double(), dim=-1)  # (B, V)
                nxt = torch.multinomial(probs.cpu(), 1, generator=generator).to(idx.device)  # (B, 1)
            if eos_id is not None:
                nxt = torch.where(done[:, None], torch.full_like(nxt, eos_id), nxt)  # finished rows keep eos
                done |= nxt[:, 0] == eos_id
            idx = torch.cat([idx, nxt], dim=1)  # (B, T + step + 1)
            if eos_id is not None and done.all():
                break
    return idx


def sample(model, idx: torch.Tensor, max_new_tokens: int, generator: torch.Generator | None = None,
           temperature: float = 1.0) -> torch.Tensor:
    """Ancestral sampling, x_{t+1} ~ softmax(z_t / τ): ``generate`` with no filters."""
    return generate(model, idx, max_new_tokens, temperature=temperature, generator=generator)


@torch.no_grad()
def beam_search(model, prompt: torch.Tensor, beam_width: int, max_new_tokens: int, *, eos_id: int | None = None,
                length_penalty: float = 1.0, n_best: int = 1, processors=()) -> list[tuple[torch.Tensor, float]]:
    """Beam search for one prompt (T,) or (1, T); returns the ``n_best`` (new tokens, score) pairs.

    Each step extends every live beam by every token and ranks the candidates by cumulative
    log-probability. A candidate that ends in ``eos_id`` and ranks among the top ``beam_width``
    is finished; the ``beam_width`` best candidates that do not end in ``eos_id`` (taken from the
    top 2 · ``beam_width``, so that finished beams are replaced) stay live. The search stops
    after ``max_new_tokens`` steps or once ``beam_width`` hypotheses have finished. Finished and
    final beams are ranked by score = Σ log p / new_length ** length_penalty (Wu et al. 2016
    use a smoothed variant; length_penalty = 0 ranks by the raw sum, which favours short outputs).
    ``processors``: as in ``generate``, functions ``f(logits, beams, step) -> logits`` applied to the
    (n_live, V) logits of new token number ``step`` before the log-softmax (e.g. ``constrain``).
    """
    beam_width = check_positive_int(beam_width, "beam_width")
    max_new_tokens = check_positive_int(max_new_tokens, "max_new_tokens")
    n_best = check_positive_int(n_best, "n_best")
    if n_best > beam_width:
        raise ValueError(f"n_best = {n_best} cannot exceed beam_width = {beam_width}")
    _check_processors(processors)
    if isinstance(length_penalty, bool) or not isinstance(length_penalty, (int, float)) or length_penalty < 0:
        raise ValueError(f"length_penalty must be a number >= 0, got {length_penalty!r}")
    prompt = prompt.view(1, -1) if prompt.dim() == 1 else prompt
    if prompt.dim() != 2 or prompt.shape[0] != 1 or prompt.shape[1] == 0:
        raise ValueError("prompt must be one sequence of token ids, shape (T,) or (1, T)")
    with eval_mode(model):
        context = getattr(model, "context_size", None)
        beams = prompt  # (n_live, T) live sequences
        sums = torch.zeros(1, dtype=torch.float64)  # (n_live,) cumulative log-probabilities
        finished: list[tuple[torch.Tensor, float]] = []

        def score(total: float, length: int) -> float:
            return total / (length ** length_penalty)

        for step in range(1, max_new_tokens + 1):
            window = beams if context is None else beams[:, -max(1, context):]
            logits = model(window)[0][:, -1].double()  # (n_live, V)
            for process in processors:
                logits = process(logits, beams, step - 1)
            logp = torch.log_softmax(logits, dim=-1)  # (n_live, V)
            cand = (sums[:, None] + logp).flatten()  # (n_live · V,)
            top = torch.topk(cand, min(2 * beam_width, cand.numel()))  # at most B of them can end in EOS
            V = logp.shape[1]
            rows, toks = top.indices // V, top.indices % V
            new_beams, new_sums = [], []
            for rank, (r, t, s) in enumerate(zip(rows.tolist(), toks.tolist(), top.values.tolist())):
                seq = torch.cat([beams[r], torch.tensor([t], device=beams.device)])
                if eos_id is not None and t == eos_id:
                    if rank < beam_width:  # it would have made the beam: a finished hypothesis
                        finished.append((seq[prompt.shape[1]:], score(s, step)))
                elif len(new_beams) < beam_width:
                    new_beams.append(seq)
                    new_sums.append(s)
            if not new_beams or (eos_id is not None and len(finished) >= beam_width):
                break  # nothing left to extend, or beam_width hypotheses are finished (early stopping)
            beams, sums = torch.stack(new_beams), torch.tensor(new_sums, dtype=torch.float64)
        else:
            for seq, s in zip(beams, sums.tolist()):
                finished.append((seq[prompt.shape[1]:], score(s, max_new_tokens)))
    finished.sort(key=lambda pair: pair[1], reverse=True)
    return finished[:n_best]
