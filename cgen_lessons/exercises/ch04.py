"""Chapter 04 (decoding): top-k, top-p, the repetition penalty."""

import torch

from .core import Exercise, Mistake, register

CHAPTER = "04"


def _top_k_reference(logits: torch.Tensor, k: int) -> torch.Tensor:
    """Keep the logits ≥ the k-th largest of their row; set the others to −∞."""
    from ..decoding import top_k_filter

    return top_k_filter(logits, k)


def _top_k_cases():
    g = torch.Generator().manual_seed(15)
    return [("k = 1 (greedy)", (torch.tensor([[0.1, 2.0, -1.0, 0.5]]), 1)),
            ("k = 2", (torch.tensor([[0.1, 2.0, -1.0, 0.5]]), 2)),
            ("a batch, k = 3", (torch.randn(3, 8, generator=g), 3))]


register(Exercise(
    name="top_k", chapter=CHAPTER, difficulty="easy", minutes=5, title="the top-k filter",
    reference=_top_k_reference,
    cases=_top_k_cases,
    hint="find each row's k-th largest logit (torch.topk(...).values[:, -1:]) and set every logit below it to −inf.",
    mistakes=[
        Mistake(lambda z, k: z.masked_fill(z > torch.topk(z, k, largest=False).values[:, -1:], float("-inf")),
                "you kept the k SMALLEST logits: use the k largest (torch.topk's default, largest=True)."),
        Mistake(lambda z, k: z.masked_fill(z <= torch.topk(z, k).values[:, -1:], float("-inf")),
                "the k-th token itself was dropped (≤ instead of <): keep every logit ≥ the k-th largest."),
    ],
))


def _top_p_reference(logits: torch.Tensor, p: float) -> torch.Tensor:
    """Keep the smallest set of most probable tokens whose probability sum reaches p; others −∞."""
    from ..decoding import top_p_filter

    return top_p_filter(logits, p)


def _top_p_cases():
    g = torch.Generator().manual_seed(7)
    return [
        ("p = 0.5 on [0.5, 0.3, 0.2]: the first token alone reaches p", (torch.tensor([[0.5, 0.3, 0.2]]).log(), 0.5)),
        ("p = 0.75 on [0.2, 0.5, 0.3]: the crossing token is kept", (torch.tensor([[0.2, 0.5, 0.3]]).log(), 0.75)),
        ("p = 1.0 keeps every token", (torch.randn(2, 6, generator=g), 1.0)),
        ("a batch of random rows, p = 0.9", (torch.randn(4, 10, generator=g) * 2, 0.9)),
    ]


def _top_p_dropping_crossing(logits, p):
    probs, order = torch.softmax(logits, -1).sort(dim=-1, descending=True)
    remove_sorted = probs.cumsum(-1) > p
    return logits.masked_fill(torch.zeros_like(remove_sorted).scatter(1, order, remove_sorted), float("-inf"))


def _top_p_sorted_order(logits, p):
    probs, order = torch.softmax(logits, -1).sort(dim=-1, descending=True)
    remove = (probs.cumsum(-1) - probs) >= p
    return logits.gather(1, order).masked_fill(remove, float("-inf"))


register(Exercise(
    name="top_p", chapter=CHAPTER, difficulty="medium", minutes=15, title="the nucleus (top-p) filter",
    reference=_top_p_reference,
    cases=_top_p_cases,
    hint="sort by probability, keep tokens while the probability mass BEFORE them is < p (so the "
         "crossing token stays), and put −inf everywhere else in the original order.",
    mistakes=[
        Mistake(_top_p_dropping_crossing,
                "the token that crosses p was dropped; keep it: remove a token only when the mass BEFORE it "
                "already reaches p (cumsum − prob ≥ p)."),
        Mistake(_top_p_sorted_order,
                "the right tokens are kept but returned in SORTED order: scatter the mask back to the "
                "original token positions."),
    ],
))


def _repetition_reference(logits: torch.Tensor, previous: torch.Tensor, theta: float) -> torch.Tensor:
    """For tokens in ``previous``: z ← z / θ if z > 0 else z · θ (Keskar et al. 2019)."""
    from ..decoding import apply_repetition_penalty

    return apply_repetition_penalty(logits, previous, theta)


def _repetition_cases():
    z = torch.tensor([[2.0, -1.0, 0.5, -3.0, 1.0]])
    return [("positive and negative seen logits, θ = 2", (z, torch.tensor([[0, 1]]), 2.0)),
            ("a token seen twice is penalised once", (z, torch.tensor([[3, 3, 4]]), 1.5)),
            ("θ = 1 changes nothing", (z, torch.tensor([[0, 1, 2]]), 1.0)),
            ("a batch of two rows", (torch.cat([z, -z]), torch.tensor([[0, 2], [1, 3]]), 1.3))]


def _penalty_all_divided(z, prev, theta):
    seen = torch.zeros_like(z, dtype=torch.bool).scatter(1, prev, True)
    return torch.where(seen, z / theta, z)


def _penalty_everywhere(z, prev, theta):
    return torch.where(z > 0, z / theta, z * theta)


register(Exercise(
    name="repetition_penalty", chapter=CHAPTER, difficulty="medium", minutes=15, title="the repetition penalty",
    reference=_repetition_reference,
    cases=_repetition_cases,
    hint="mark the tokens that occur in previous (scatter into a boolean (B, V) tensor); for those, divide "
         "positive logits by θ and MULTIPLY negative ones by θ — both lower the token's probability.",
    mistakes=[
        Mistake(_penalty_all_divided,
                "dividing a NEGATIVE logit by θ > 1 moves it towards 0, which makes the repeated token MORE "
                "likely: multiply negative logits by θ."),
        Mistake(_penalty_everywhere,
                "you penalised every token; only those that occur in previous_ids are penalised."),
    ],
))
