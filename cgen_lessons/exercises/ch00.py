"""Chapter 00 (preface): softmax, language-model windows, cross-entropy."""

import torch

from .core import Exercise, Mistake, register

CHAPTER = "00"


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
    name="softmax", chapter=CHAPTER, difficulty="easy", minutes=5, title="a numerically stable softmax",
    reference=_softmax_reference,
    cases=_softmax_cases,
    hint="subtract the row maximum before exponentiating, and normalise over dim=-1.",
    mistakes=[
        Mistake(lambda z: z.exp() / z.exp().sum(-1, keepdim=True),
                "exp(1000) overflows to inf and inf / inf is nan: subtract each row's maximum first "
                "(softmax does not change when a constant is added to a row)."),
        Mistake(lambda z: (z - z.max(0, keepdim=True).values).exp()
                / (z - z.max(0, keepdim=True).values).exp().sum(0, keepdim=True),
                "you normalised over the first dimension (the batch); each ROW must sum to 1: use dim=-1."),
    ],
))


def _windows_reference(ids: torch.Tensor, starts: torch.Tensor, T: int):
    """x[b] = ids[s_b : s_b + T], y[b] = ids[s_b + 1 : s_b + T + 1]: each target is the next token."""
    offsets = torch.arange(T + 1)  # (T + 1,)
    w = ids[starts[:, None] + offsets[None, :]]  # (B, T + 1)
    return w[:, :-1], w[:, 1:]


register(Exercise(
    name="lm_windows", chapter=CHAPTER, difficulty="easy", minutes=10, title="language-model training windows",
    reference=_windows_reference,
    cases=lambda: [("one window at the start", (torch.arange(10), torch.tensor([0]), 4)),
                   ("three windows, one ending at the last token",
                    (torch.arange(100, 120), torch.tensor([0, 7, 15]), 4)),
                   ("T = 1", (torch.arange(5) * 3, torch.tensor([2, 3]), 1))],
    hint="read T + 1 tokens from each start; x is the first T of them and y the last T, so y[:, t] is the "
         "token that follows x[:, t].",
    mistakes=[
        Mistake(lambda ids, s, T: (ids[s[:, None] + torch.arange(T)],) * 2,
                "y equals x: the targets must be the NEXT tokens, shifted by one position."),
        Mistake(lambda ids, s, T: (ids[s[:, None] + torch.arange(T)], ids[s[:, None] + torch.arange(T) - 1]),
                "y is shifted the wrong way (the previous token): y[:, t] must be ids[start + t + 1]."),
    ],
))


def _cross_entropy_reference(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """L = −(1/N) Σ_n log softmax(z_n)[y_n] = (1/N) Σ_n (logsumexp(z_n) − z_n[y_n])."""
    return torch.nn.functional.cross_entropy(logits, targets)


def _cross_entropy_cases():
    g = torch.Generator().manual_seed(1)
    return [("uniform logits over 4 tokens (log 4)", (torch.zeros(3, 4), torch.tensor([0, 1, 3]))),
            ("random logits, 20 examples", (torch.randn(20, 9, generator=g), torch.randint(0, 9, (20,), generator=g))),
            ("huge logits, a confident wrong answer",
             (torch.tensor([[0.0, 500.0], [300.0, 0.0]]), torch.tensor([0, 0])))]


register(Exercise(
    name="cross_entropy", chapter=CHAPTER, difficulty="medium", minutes=10, title="cross-entropy from logits",
    reference=_cross_entropy_reference,
    cases=_cross_entropy_cases,
    hint="use log softmax(z)[y] = z[y] − logsumexp(z) (torch.logsumexp is stable), pick each row's target "
         "with gather or indexing, and average over the rows.",
    mistakes=[
        Mistake(lambda z, y: -(z.softmax(-1)[torch.arange(len(y)), y]).log().mean(),
                "log(softmax(z)) underflows: a probability of exp(−500) is 0 in float32 and log 0 = −inf. "
                "Compute log-probabilities directly: z[y] − logsumexp(z)."),
        Mistake(lambda z, y: (torch.logsumexp(z, -1) - z[torch.arange(len(y)), y]).sum(),
                "you summed over the examples; the loss of a batch is their MEAN "
                "(so it does not grow with the batch size)."),
    ],
))
