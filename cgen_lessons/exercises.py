"""Exercise checkers: a reader passes their function and learns whether it is right, and if not,
on which input it went wrong and by how much.

Each exercise is registered with a reference implementation and a list of test cases::

    >>> from cgen_lessons.exercises import check
    >>> result = check("softmax", my_softmax)      # doctest: +SKIP
    ✗ softmax: wrong on case 'large logits (overflow test)' ...

A chapter adds its exercises by calling ``register`` in ``cgen_lessons.exercises``.
"""

from __future__ import annotations

import collections
import math
import traceback
from dataclasses import dataclass
from typing import Callable

import torch

__all__ = ["Exercise", "CheckResult", "register", "check", "list_exercises"]


@dataclass
class Exercise:
    name: str
    reference: Callable
    cases: Callable[[], list[tuple[str, tuple]]]  # builds (description, args) pairs on demand
    hint: str = ""
    atol: float = 1e-5
    rtol: float = 1e-4


@dataclass
class CheckResult:
    name: str
    passed: bool
    message: str

    def __bool__(self) -> bool:
        return self.passed

    def __repr__(self) -> str:
        return ("✓ " if self.passed else "✗ ") + f"{self.name}: {self.message}"


_REGISTRY: dict[str, Exercise] = {}


def register(exercise: Exercise) -> Exercise:
    if exercise.name in _REGISTRY:
        raise ValueError(f"an exercise named {exercise.name!r} is already registered")
    _REGISTRY[exercise.name] = exercise
    return exercise


def list_exercises() -> list[str]:
    return sorted(_REGISTRY)


def _compare(expected, got, atol: float, rtol: float) -> str | None:
    """None when ``got`` matches ``expected``; otherwise a sentence saying how it differs."""
    if isinstance(expected, torch.Tensor):
        if not isinstance(got, torch.Tensor):
            return f"expected a tensor, got {type(got).__name__}"
        if got.shape != expected.shape:
            return f"expected shape {tuple(expected.shape)}, got {tuple(got.shape)}"
        if (expected.dtype == torch.bool) != (got.dtype == torch.bool):
            return f"expected a tensor of dtype {expected.dtype}, got {got.dtype}"  # e.g. a 0.5/0 float "mask"
        try:
            torch.testing.assert_close(got.to(expected.dtype), expected, atol=atol, rtol=rtol, equal_nan=True)
        except AssertionError as err:
            return str(err).splitlines()[0] + " " + " ".join(str(err).splitlines()[1:4])
        return None
    if isinstance(expected, (tuple, list)):
        if not isinstance(got, (tuple, list)) or len(got) != len(expected):
            return f"expected a sequence of {len(expected)} items, got {got!r:.80}"
        for i, (e, g) in enumerate(zip(expected, got)):
            problem = _compare(e, g, atol, rtol)
            if problem:
                return f"item {i}: {problem}"
        return None
    if isinstance(expected, float):
        if isinstance(got, torch.Tensor) and got.numel() != 1:
            return f"expected one number, got a tensor of shape {tuple(got.shape)}"
        if isinstance(got, (str, bytes, bool)) or not isinstance(got, (int, float, torch.Tensor)):
            return f"expected a number, got {type(got).__name__} {got!r:.60}"
        g = float(got.item() if isinstance(got, torch.Tensor) else got)
        if not math.isclose(g, expected, abs_tol=atol, rel_tol=rtol):
            return f"expected {expected:.6g}, got {g:.6g}"
        return None
    return None if got == expected else f"expected {expected!r:.80}, got {got!r:.80}"


def check(name: str, fn: Callable) -> CheckResult:
    """Run ``fn`` on every case of exercise ``name`` and compare with the reference."""
    if name not in _REGISTRY:
        raise ValueError(f"unknown exercise {name!r}; known: {', '.join(list_exercises())}")
    if not callable(fn):
        raise ValueError(f"pass the function itself, got {type(fn).__name__}")
    ex = _REGISTRY[name]
    cases = ex.cases()
    for description, args in cases:
        expected = ex.reference(*args)
        try:
            got = fn(*[a.clone() if isinstance(a, torch.Tensor) else a for a in args])
        except Exception as err:  # the reader's code raised: say where
            where = traceback.format_exception_only(type(err), err)[-1].strip()
            return CheckResult(name, False, f"raised on case {description!r}: {where}")
        try:
            problem = _compare(expected, got, ex.atol, ex.rtol)
        except Exception as err:  # an answer of a type the comparison cannot handle is simply wrong
            problem = f"could not compare the answer ({type(err).__name__}: {err}); got {type(got).__name__}"
        if problem:
            hint = f" Hint: {ex.hint}" if ex.hint else ""
            return CheckResult(name, False, f"wrong on case {description!r}: {problem}.{hint}")
    return CheckResult(name, True, f"all {len(cases)} cases pass")


# --------------------------------------------------------------------------- chapter 00
def _softmax_reference(logits: torch.Tensor) -> torch.Tensor:
    """softmax(z)_i = exp(z_i − max z) / Σ_j exp(z_j − max z), over the last dimension."""
    return torch.softmax(logits, dim=-1)


def _softmax_cases():
    g = torch.Generator().manual_seed(0)
    return [
        ("one row", (torch.tensor([[1.0, 2.0, 3.0]]),)),
        ("a batch of random rows", (torch.randn(4, 7, generator=g),)),
        ("large logits (overflow test)", (torch.tensor([[1000.0, 1001.0, 1002.0]]),)),
        ("a 3-D tensor, softmax over the last axis", (torch.randn(2, 3, 5, generator=g),)),
    ]


register(Exercise(
    name="softmax",
    reference=_softmax_reference,
    cases=_softmax_cases,
    hint="subtract the row maximum before exponentiating, and normalise over dim=-1.",
))


# --------------------------------------------------------------------------- chapter 01
def _perplexity_reference(logits: torch.Tensor, targets: torch.Tensor) -> float:
    """PPL = exp( −(1/N) Σ_n log softmax(logits_n)[y_n] ), natural logs throughout."""
    return math.exp(torch.nn.functional.cross_entropy(logits.double(), targets).item())


def _perplexity_cases():
    g = torch.Generator().manual_seed(1)
    return [
        ("uniform logits over 8 tokens (perplexity 8)", (torch.zeros(5, 8), torch.arange(5))),
        ("random logits, 50 tokens, V = 30", (torch.randn(50, 30, generator=g), torch.randint(0, 30, (50,), generator=g))),
        ("confident and right", (torch.eye(4) * 20, torch.arange(4))),
    ]


register(Exercise(
    name="perplexity",
    reference=_perplexity_reference,
    cases=_perplexity_cases,
    hint="perplexity = exp(mean cross-entropy), with the log and the exp in the same base.",
))


def _kl_reference(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """KL(p ‖ q) = Σ_x p(x) log(p(x) / q(x)) over the last axis, with 0 log 0 = 0."""
    return torch.where(p > 0, p * (p.log() - q.log()), torch.zeros_like(p)).sum(-1)


def _kl_cases():
    g = torch.Generator().manual_seed(2)
    p, q = torch.softmax(torch.randn(2, 6, generator=g), -1), torch.softmax(torch.randn(2, 6, generator=g), -1)
    return [
        ("identical distributions (KL = 0)", (p, p.clone())),
        ("two random distributions: KL(p ‖ q), not KL(q ‖ p)", (p, q)),
        ("p with a zero entry (0 log 0 = 0)", (torch.tensor([[0.5, 0.5, 0.0]]), torch.tensor([[0.2, 0.3, 0.5]]))),
    ]


register(Exercise(
    name="kl_divergence",
    reference=_kl_reference,
    cases=_kl_cases,
    hint="the expectation is under p (the first argument), and terms with p(x) = 0 contribute 0.",
))


def _e_step_reference(x, weights, means, variances):
    """r_nk = π_k N(x_n; μ_k, σ_k²) / Σ_j π_j N(x_n; μ_j, σ_j²) for 1-D data x (N,) and K components."""
    log_n = torch.distributions.Normal(means, variances.sqrt()).log_prob(x[:, None])  # (N, K)
    return torch.softmax(weights.log() + log_n, dim=1)


def _e_step_cases():
    g = torch.Generator().manual_seed(3)
    x = torch.randn(20, generator=g, dtype=torch.float64) * 2
    return [
        ("two equal components", (x, torch.tensor([0.5, 0.5], dtype=torch.float64), torch.tensor([-1.0, 1.0], dtype=torch.float64),
                                  torch.tensor([1.0, 1.0], dtype=torch.float64))),
        ("unequal weights and variances", (x, torch.tensor([0.2, 0.3, 0.5], dtype=torch.float64),
                                           torch.tensor([-2.0, 0.0, 3.0], dtype=torch.float64), torch.tensor([0.5, 1.0, 4.0], dtype=torch.float64))),
    ]


register(Exercise(
    name="gmm_e_step",
    reference=_e_step_reference,
    cases=_e_step_cases,
    hint="multiply each component's density by its weight π_k before normalising; variances are σ², not σ.",
    atol=1e-8, rtol=1e-6,
))


# --------------------------------------------------------------------------- chapter 02
def _lstm_step_reference(x, h, c, W_ih, W_hh, b):
    """(h_t, c_t) of an LSTM with stacked gate weights in the order (i, f, g, o); b = b_ih + b_hh."""
    i, f, g, o = (x @ W_ih.T + h @ W_hh.T + b).chunk(4, dim=-1)
    c_new = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return (torch.sigmoid(o) * torch.tanh(c_new), c_new)


def _lstm_step_cases():
    g = torch.Generator().manual_seed(4)
    def case(B, D, H):
        return (torch.randn(B, D, generator=g), torch.randn(B, H, generator=g), torch.randn(B, H, generator=g),
                torch.randn(4 * H, D, generator=g) * 0.5, torch.randn(4 * H, H, generator=g) * 0.5, torch.randn(4 * H, generator=g))
    return [("batch 1, D = 3, H = 2", case(1, 3, 2)), ("batch 5, D = 4, H = 6", case(5, 4, 6))]


register(Exercise(
    name="lstm_step",
    reference=_lstm_step_reference,
    cases=_lstm_step_cases,
    hint="gates are ordered (i, f, g, o); c_t = f ⊙ c_{t−1} + i ⊙ g with g = tanh(·); h_t = o ⊙ tanh(c_t), "
         "using the new c_t.",
))


def _clip_reference(grads: list, max_norm: float) -> list:
    """g ← g · min(1, max_norm / ‖g‖₂) with ‖g‖₂ the norm of all gradients concatenated."""
    total = torch.sqrt(sum((gr.double() ** 2).sum() for gr in grads))
    scale = min(1.0, max_norm / (total.item() + 1e-6))
    return [gr * scale for gr in grads]


def _clip_cases():
    g = torch.Generator().manual_seed(5)
    big = [torch.randn(3, 4, generator=g) * 10, torch.randn(5, generator=g) * 10]
    small = [torch.randn(2, 2, generator=g) * 0.01]
    return [("large gradients in two tensors (global norm, not per tensor)", (big, 1.0)),
            ("small gradients are left unchanged", (small, 1.0))]


register(Exercise(
    name="clip_grad_norm",
    reference=_clip_reference,
    cases=_clip_cases,
    hint="compute ONE norm over all tensors together, and never scale up (min(1, ·)).",
))


# --------------------------------------------------------------------------- chapter 03
def _causal_mask_reference(T: int) -> torch.Tensor:
    """Boolean (T, T): True where query t may attend to key s, i.e. s ≤ t."""
    return torch.ones(T, T, dtype=torch.bool).tril()


register(Exercise(
    name="causal_mask",
    reference=_causal_mask_reference,
    cases=lambda: [("T = 1", (1,)), ("T = 4", (4,)), ("T = 9", (9,))],
    hint="row = query position, column = key position; a query may see itself and the past (torch.tril).",
))


def _attention_head_reference(x, W_q, W_k, W_v):
    """One causal head: softmax((x W_qᵀ)(x W_kᵀ)ᵀ / √d_k + M) (x W_vᵀ), x (B, T, d), W_* (d_k, d)."""
    q, k, v = x @ W_q.T, x @ W_k.T, x @ W_v.T  # (B, T, d_k)
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    T = x.shape[1]
    scores = scores.masked_fill(~torch.ones(T, T, dtype=torch.bool).tril(), float("-inf"))
    return torch.softmax(scores, dim=-1) @ v


def _attention_head_cases():
    g = torch.Generator().manual_seed(6)
    def case(B, T, d, dk):
        return (torch.randn(B, T, d, generator=g), *(torch.randn(dk, d, generator=g) / math.sqrt(d) for _ in range(3)))
    return [("B = 1, T = 3, d = 4, d_k = 4", case(1, 3, 4, 4)), ("B = 2, T = 6, d = 8, d_k = 16 (scaling matters)", case(2, 6, 8, 16))]


register(Exercise(
    name="attention_head",
    reference=_attention_head_reference,
    cases=_attention_head_cases,
    hint="scale the scores by 1/√d_k, mask the future with −inf before the softmax, and normalise over the keys (dim=-1).",
))


# --------------------------------------------------------------------------- chapter 04
def _top_p_reference(logits: torch.Tensor, p: float) -> torch.Tensor:
    """Keep the smallest set of most probable tokens whose probability sum reaches p; others −∞."""
    from .decoding import top_p_filter

    return top_p_filter(logits, p)


def _top_p_cases():
    g = torch.Generator().manual_seed(7)
    return [
        ("p = 0.5 on [0.5, 0.3, 0.2]: the first token alone reaches p", (torch.tensor([[0.5, 0.3, 0.2]]).log(), 0.5)),
        ("p = 0.75 on [0.2, 0.5, 0.3]: the crossing token is kept", (torch.tensor([[0.2, 0.5, 0.3]]).log(), 0.75)),
        ("p = 1.0 keeps every token", (torch.randn(2, 6, generator=g), 1.0)),
        ("a batch of random rows, p = 0.9", (torch.randn(4, 10, generator=g) * 2, 0.9)),
    ]


register(Exercise(
    name="top_p",
    reference=_top_p_reference,
    cases=_top_p_cases,
    hint="sort by probability, keep tokens while the probability mass BEFORE them is < p (so the "
         "crossing token stays), and put −inf everywhere else in the original order.",
))


# --------------------------------------------------------------------------- chapter 05
def _kl_term_reference(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(μ, e^logvar) ‖ N(0, I)) per sample = ½ Σ (μ² + e^logvar − logvar − 1); shape (N,)."""
    return 0.5 * (mu.pow(2) + logvar.exp() - logvar - 1.0).sum(-1)


def _kl_term_cases():
    g = torch.Generator().manual_seed(8)
    return [("μ = 0, logvar = 0 (KL = 0)", (torch.zeros(2, 3), torch.zeros(2, 3))),
            ("random μ and logvar", (torch.randn(4, 5, generator=g), torch.randn(4, 5, generator=g)))]


register(Exercise(
    name="vae_kl",
    reference=_kl_term_reference,
    cases=_kl_term_cases,
    hint="KL = ½ Σ (μ² + σ² − log σ² − 1) with σ² = exp(logvar): the log-variance appears once, "
         "the variance once, summed over latent dimensions.",
))


def _reparam_reference(mu: torch.Tensor, logvar: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    """z = μ + exp(½ logvar) ⊙ ε."""
    return mu + torch.exp(0.5 * logvar) * eps


def _reparam_cases():
    g = torch.Generator().manual_seed(9)
    return [("logvar = log 4 (σ = 2)", (torch.zeros(1, 2), torch.full((1, 2), math.log(4.0)), torch.ones(1, 2))),
            ("random", (torch.randn(3, 4, generator=g), torch.randn(3, 4, generator=g), torch.randn(3, 4, generator=g)))]


register(Exercise(
    name="reparameterize",
    reference=_reparam_reference,
    cases=_reparam_cases,
    hint="the noise is scaled by the standard deviation σ = exp(½ logvar), not by the variance or by logvar.",
))


# --------------------------------------------------------------------------- chapter 06
def _ns_loss_reference(fake_logits: torch.Tensor) -> torch.Tensor:
    """Non-saturating generator loss −E log D(G(z)) = E softplus(−l) for discriminator logits l."""
    return torch.nn.functional.softplus(-fake_logits).mean()


register(Exercise(
    name="nonsaturating_loss",
    reference=_ns_loss_reference,
    cases=lambda: [("logits [0, 0]", (torch.zeros(2),)), ("confident discriminator, logits −30", (torch.full((3,), -30.0),)),
                   ("mixed logits", (torch.tensor([2.0, -1.0, 0.5, -8.0]),))],
    hint="minimise −log D(G(z)), not log(1 − D(G(z))); compute it from logits with softplus so that "
         "very negative logits do not give log(0).",
))


def _gp_reference(critic_weight: torch.Tensor, real: torch.Tensor, fake: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    """Gradient penalty for the critic f(x) = tanh(x) · w summed, on x̂ = ε real + (1 − ε) fake, w.r.t. x̂."""
    x_hat = (eps[:, None] * real + (1 - eps[:, None]) * fake).requires_grad_(True)
    scores = (torch.tanh(x_hat) * critic_weight).sum(1)
    (grad,) = torch.autograd.grad(scores.sum(), x_hat)
    return ((grad.norm(dim=1) - 1) ** 2).mean()


def _gp_cases():
    g = torch.Generator().manual_seed(10)
    return [("3 samples in 2-D", (torch.tensor([1.0, -2.0]), torch.randn(3, 2, generator=g), torch.randn(3, 2, generator=g),
                                  torch.rand(3, generator=g))),
            ("8 samples in 5-D", (torch.randn(5, generator=g), torch.randn(8, 5, generator=g), torch.randn(8, 5, generator=g),
                                  torch.rand(8, generator=g)))]


register(Exercise(
    name="gradient_penalty",
    reference=_gp_reference,
    cases=_gp_cases,
    hint="interpolate between real and fake with ε per sample, take the gradient of the critic w.r.t. the "
         "interpolate (not w.r.t. z), and penalise (‖grad‖₂ − 1)² per sample.",
))


# --------------------------------------------------------------------------- chapter 07
def _q_sample_reference(x0: torch.Tensor, alpha_bar_t: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    """x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε, with one ᾱ_t per sample (shape (N,)) broadcast over the rest."""
    ab = alpha_bar_t.view(-1, *([1] * (x0.dim() - 1)))
    return ab.sqrt() * x0 + (1 - ab).sqrt() * eps


def _q_sample_cases():
    g = torch.Generator().manual_seed(11)
    return [("4 points in 2-D", (torch.randn(4, 2, generator=g), torch.tensor([0.99, 0.5, 0.1, 1e-4]), torch.randn(4, 2, generator=g))),
            ("images (3, 1, 8, 8)", (torch.rand(3, 1, 8, 8, generator=g), torch.tensor([0.9, 0.3, 0.01]),
                                     torch.randn(3, 1, 8, 8, generator=g)))]


register(Exercise(
    name="q_sample",
    reference=_q_sample_reference,
    cases=_q_sample_cases,
    hint="scale x_0 by √ᾱ_t and the noise by √(1 − ᾱ_t) — square roots, and ᾱ_t (the product), not β_t; "
         "reshape ᾱ_t to (N, 1, ...) so it broadcasts over each sample.",
))


def _ddpm_step_reference(xt: torch.Tensor, eps_pred: torch.Tensor, z: torch.Tensor, beta_t: float, alpha_bar_t: float,
                         alpha_bar_prev: float) -> torch.Tensor:
    """x_{t−1} = (x_t − β_t/√(1 − ᾱ_t) ε_θ)/√α_t + σ_t z with σ_t² = β̃_t = (1 − ᾱ_{t−1})/(1 − ᾱ_t) β_t."""
    alpha_t = 1 - beta_t
    mean = (xt - beta_t / math.sqrt(1 - alpha_bar_t) * eps_pred) / math.sqrt(alpha_t)
    return mean + math.sqrt((1 - alpha_bar_prev) / (1 - alpha_bar_t) * beta_t) * z


def _ddpm_step_cases():
    g = torch.Generator().manual_seed(12)
    cases = []
    for desc, beta, ab_prev in (("early step (t small)", 0.001, 0.998), ("middle step", 0.02, 0.4), ("last steps (t ≈ T)", 0.3, 0.01)):
        ab = ab_prev * (1 - beta)
        cases.append((desc, (torch.randn(5, 2, generator=g), torch.randn(5, 2, generator=g), torch.randn(5, 2, generator=g),
                             beta, ab, ab_prev)))
    return cases


register(Exercise(
    name="ddpm_step",
    reference=_ddpm_step_reference,
    cases=_ddpm_step_cases,
    hint="the mean removes β_t/√(1 − ᾱ_t) times the predicted noise and divides by √α_t (α_t = 1 − β_t); "
         "the noise scale is the posterior standard deviation √β̃_t, not β_t.",
))
# --------------------------------------------------------------------------- chapter 08
def _gumbel_softmax_reference(logits: torch.Tensor, g: torch.Tensor, tau: float) -> torch.Tensor:
    """y = softmax((θ + g)/τ) along the last dimension."""
    return ((logits + g) / tau).softmax(-1)


def _gumbel_softmax_cases():
    gen = torch.Generator().manual_seed(12)
    logits, g = torch.randn(3, 5, generator=gen), -torch.log(torch.empty(3, 5).exponential_(generator=gen))
    return [("τ = 1", (logits, g, 1.0)), ("τ = 0.1 (nearly one-hot)", (logits, g, 0.1)),
            ("τ = 5 (nearly uniform)", (logits, g, 5.0))]


register(Exercise(
    name="gumbel_softmax_sample",
    reference=_gumbel_softmax_reference,
    cases=_gumbel_softmax_cases,
    hint="add the Gumbel noise to the logits first, then divide the sum by τ, then softmax over the last "
         "dimension (the noise is not divided separately, and τ divides, it does not multiply).",
))


def _reinforce_baseline_reference(fx: torch.Tensor, onehot: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
    """(f(x_i) − b_i)(e_{x_i} − p) with b_i = mean of f over the other samples; shape (n, K)."""
    n = fx.shape[0]
    b = (fx.sum() - fx) / (n - 1)
    return (fx - b)[:, None] * (onehot - p)


def _reinforce_cases():
    gen = torch.Generator().manual_seed(13)
    p = torch.softmax(torch.randn(4, generator=gen), 0)
    x = torch.multinomial(p, 6, replacement=True, generator=gen)
    onehot = torch.nn.functional.one_hot(x, 4).float()
    return [("six samples", (torch.randn(6, generator=gen), onehot, p)),
            ("two samples", (torch.tensor([1.0, 3.0]), onehot[:2], p)),
            ("a constant reward (the estimate must be exactly zero)", (torch.full((6,), 2.5), onehot, p))]


register(Exercise(
    name="reinforce_baseline",
    reference=_reinforce_baseline_reference,
    cases=_reinforce_cases,
    hint="the score of a softmax is ∇_θ log p(x) = e_x − p; the baseline of sample i is the mean reward of "
         "the OTHER n − 1 samples (including sample i itself makes the estimate biased).",
))


def _cyclical_beta_reference(step: int, total: int, n_cycles: int, ramp: float) -> float:
    """β rises linearly from 0 to 1 over the first ``ramp`` of each of ``n_cycles`` cycles, then stays at 1."""
    period = total / n_cycles
    return min(1.0, (((step - 1) % period + 1) / period) / ramp)


register(Exercise(
    name="cyclical_beta",
    reference=_cyclical_beta_reference,
    cases=lambda: [(f"step {s} of 100, 4 cycles, ramp 0.5", (s, 100, 4, 0.5)) for s in (1, 12, 13, 25, 26, 60, 100)]
    + [("step 30 of 90, 3 cycles, ramp 1.0", (30, 90, 3, 1.0)), ("step 31 of 90, 3 cycles, ramp 1.0", (31, 90, 3, 1.0))],
    hint="steps are 1-based: the position inside the current cycle is ((step − 1) mod period + 1) / period; "
         "β = min(1, position / ramp), so it restarts near 0 at the first step of every cycle.",
))


# --------------------------------------------------------------------------- chapter 09
def _modified_precision_reference(hypothesis: list, reference: list, n: int) -> float:
    """BLEU's modified n-gram precision: Σ_g min(count_hyp(g), count_ref(g)) / Σ_g count_hyp(g)."""
    grams = lambda seq: collections.Counter(tuple(seq[i: i + n]) for i in range(len(seq) - n + 1))  # noqa: E731
    hyp, ref = grams(hypothesis), grams(reference)
    total = sum(hyp.values())
    return sum(min(c, ref[g]) for g, c in hyp.items()) / total if total else 0.0


register(Exercise(
    name="modified_precision",
    reference=_modified_precision_reference,
    cases=lambda: [("no repeats", ("the cat sat on the mat".split(), "the cat is on the mat".split(), 1)),
                   ("a repeated word (Papineni et al.'s example)", (["the"] * 7, "the cat is on the mat".split(), 1)),
                   ("bigrams", ("the cat the cat on the mat".split(), "the cat is on the mat".split(), 2))],
    hint="clip each n-gram's count in the hypothesis by its count in the reference before summing; "
         "divide by the number of n-grams in the hypothesis.",
))


def _inception_score_reference(probs: torch.Tensor) -> float:
    """IS = exp( mean over samples of KL(p(y|x) ‖ p(y)) ), with p(y) the mean of the rows."""
    p = probs.double()
    marginal = p.mean(0, keepdim=True)
    return math.exp(torch.where(p > 0, p * (p / marginal).log(), torch.zeros_like(p)).sum(1).mean().item())


def _is_cases():
    g = torch.Generator().manual_seed(11)
    return [("balanced one-hot predictions", (torch.eye(4).repeat(3, 1),)),
            ("one class only", (torch.eye(4)[[2, 2, 2]],)),
            ("random soft predictions", (torch.softmax(3 * torch.randn(50, 10, generator=g), 1),))]


register(Exercise(
    name="inception_score",
    reference=_inception_score_reference,
    cases=_is_cases,
    hint="average the rows to get p(y); KL(p(y|x) ‖ p(y)) per sample; exponentiate the *mean* of the KLs.",
))


def _permutation_p_reference(observed: float, permuted: torch.Tensor) -> float:
    """p = (1 + #{permuted ≥ observed}) / (1 + number of permutations)."""
    return (1 + int((permuted >= observed).sum())) / (1 + len(permuted))


register(Exercise(
    name="permutation_p_value",
    reference=_permutation_p_reference,
    cases=lambda: [("observed beats every permutation", (5.0, torch.arange(9.0) / 10)),
                   ("observed in the middle", (0.45, torch.arange(9.0) / 10)),
                   ("ties count as at least as extreme", (0.5, torch.tensor([0.5, 0.5, 0.1])))],
    hint="count the permuted statistics at least as large as the observed one, and add 1 to both the "
         "count and the number of permutations (the observed split is one of the permutations).",
))


# --------------------------------------------------------------------------- chapter 10
def _edit_distance_reference(a: str, b: str) -> int:
    """Levenshtein distance by dynamic programming: D[i][j] = min(D[i−1][j] + 1, D[i][j−1] + 1,
    D[i−1][j−1] + [a_i ≠ b_j])."""
    from .metrics import edit_distance

    return edit_distance(a, b)


register(Exercise(
    name="edit_distance",
    reference=_edit_distance_reference,
    cases=lambda: [("identical", ("KAET", "KAET")), ("one substitution", ("KAET", "KEET")),
                   ("one deletion", ("KAET", "KAT")), ("one insertion", ("KAT", "KAET")),
                   ("empty hypothesis", ("", "ABC")), ("empty reference", ("ABC", "")),
                   ("kitten → sitting", ("kitten", "sitting")), ("a transposition costs 2", ("AB", "BA")),
                   ("different lengths, nothing shared", ("ABCD", "XY"))],
    hint="fill a (len(a)+1) × (len(b)+1) table with D[i][0] = i and D[0][j] = j (turning a prefix into the "
         "empty string costs one deletion per symbol), then take the cheapest of delete, insert and "
         "substitute (cost 0 when the symbols match) in every cell; the answer is D[len(a)][len(b)].",
))


def _format_mask_reference(template: str, vocab: list, slot: str, step: int) -> torch.Tensor:
    """Boolean (V,) mask for position ``step`` of a verse template: the template's character at a
    literal position; any vocabulary item that is not a template literal at a slot."""
    if template[step] != slot:
        return torch.tensor([v == template[step] for v in vocab])
    literals = set(template) - {slot}
    return torch.tensor([v not in literals for v in vocab])


register(Exercise(
    name="format_mask",
    reference=_format_mask_reference,
    cases=lambda: [(f"quatrain template, step {s}", ("__，__。", ["春", "风", "，", "。", "花"], "_", s)) for s in range(6)]
    + [("a literal that is not punctuation", ("_a_", ["a", "b", "c"], "_", 1)),
       ("a slot next to that literal", ("_a_", ["a", "b", "c"], "_", 2))],
    hint="at a literal position only that one character is allowed; at a slot every token is allowed "
         "EXCEPT the template's literal characters (a comma in a content slot would break the line length "
         "as surely as a missing one). Return a torch.bool tensor of shape (V,).",
))


# --------------------------------------------------------------------------- chapter 11
def _shard_rows_reference(batch: torch.Tensor, rank: int, world_size: int) -> torch.Tensor:
    """Rows [r·n/W, (r+1)·n/W) of a batch of n rows: equal, disjoint shards that cover the batch."""
    from .distributed import shard

    return shard(batch, rank, world_size)


def _shard_cases():
    x = torch.arange(24.0).reshape(12, 2)
    return [(f"12 rows, {w} ranks, rank {r}", (x, r, w)) for w, r in ((2, 0), (2, 1), (3, 1), (4, 3), (1, 0))]


register(Exercise(
    name="shard_rows",
    reference=_shard_rows_reference,
    cases=_shard_cases,
    hint="rank r keeps the contiguous rows r·n/W up to (r+1)·n/W (not every W-th row, and not the first "
         "n/W rows on every rank: the ranks must see different examples); with W = 1 the shard is the batch.",
))


def _memory_reference(n_params: int, world_size: int, strategy: str) -> float:
    """Bytes per rank of mixed-precision Adam: 2Ψ weights + 2Ψ gradients + 12Ψ optimiser states, with
    ZeRO-1 sharding the states, ZeRO-2 also the gradients, FSDP (ZeRO-3) also the weights."""
    from .distributed import training_memory

    return float(training_memory(n_params, world_size, strategy, "bf16")["total"])


register(Exercise(
    name="memory_per_rank",
    reference=_memory_reference,
    cases=lambda: [(f"{n:,} parameters, {w} ranks, {s}", (n, w, s))
                   for n, w in ((7_500_000_000, 64), (124_000_000, 8), (1_000_000, 1))
                   for s in ("ddp", "zero1", "zero2", "fsdp")],
    hint="count 16 bytes per parameter in all: 2 (bf16 weights) + 2 (bf16 gradients) + 12 (fp32 master "
         "weights and Adam's two fp32 moments); each ZeRO stage divides one more of the three parts by the "
         "number of ranks: zero1 the 12, zero2 also the gradients' 2, fsdp also the weights' 2.",
    rtol=1e-9,
))


def _ring_allreduce_reference(tensors: list) -> tuple[list, list]:
    """Ring all-reduce of W equal-length vectors, each cut into W chunks. Reduce-scatter: in step
    s = 0..W−2, rank r sends chunk (r − s) mod W to rank r+1, which adds it to its own; after W−1 steps
    rank r holds the full sum of chunk (r + 1) mod W. All-gather: W−1 more steps pass the summed chunks
    around the ring. Each rank sends 2(W−1) chunks of N/W elements: 2(W−1)N/W in all, whatever W."""
    W = len(tensors)
    chunks = [list(t.clone().chunk(W)) for t in tensors]  # chunks[r][c]: rank r's copy of chunk c
    sent = [0] * W
    for s in range(W - 1):  # reduce-scatter
        messages = [(r, (r - s) % W, chunks[r][(r - s) % W].clone()) for r in range(W)]
        for r, c, payload in messages:
            chunks[(r + 1) % W][c] += payload
            sent[r] += payload.numel()
    for s in range(W - 1):  # all-gather
        messages = [(r, (r + 1 - s) % W, chunks[r][(r + 1 - s) % W].clone()) for r in range(W)]
        for r, c, payload in messages:
            chunks[(r + 1) % W][c] = payload
            sent[r] += payload.numel()
    return [torch.cat(c) for c in chunks], sent


def _ring_cases():
    g = torch.Generator().manual_seed(0)
    return [(f"{w} ranks, {n} elements", ([torch.randn(n, generator=g) for _ in range(w)],))
            for w, n in ((2, 4), (3, 6), (4, 8), (4, 400))]


register(Exercise(
    name="ring_allreduce",
    reference=_ring_allreduce_reference,
    cases=_ring_cases,
    hint="return (results, sent): results[r] is rank r's final vector (the sum of all inputs), sent[r] the "
         "number of elements rank r sent. Sending your whole vector to every other rank gives the right sums "
         "but sends (W−1)·N; the ring sends each chunk of N/W elements one hop per step: W−1 steps of "
         "reduce-scatter (add what you receive), then W−1 steps of all-gather (overwrite with it).",
))
