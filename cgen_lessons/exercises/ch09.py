"""Chapter 09 (evaluation): BLEU's modified precision, the Inception Score, a permutation p-value."""

import collections
import math

import torch

from .core import Exercise, Mistake, register

CHAPTER = "09"


def _modified_precision_reference(hypothesis: list, reference: list, n: int) -> float:
    """BLEU's modified n-gram precision: Σ_g min(count_hyp(g), count_ref(g)) / Σ_g count_hyp(g)."""
    grams = lambda seq: collections.Counter(tuple(seq[i: i + n]) for i in range(len(seq) - n + 1))  # noqa: E731
    hyp, ref = grams(hypothesis), grams(reference)
    total = sum(hyp.values())
    return sum(min(c, ref[g]) for g, c in hyp.items()) / total if total else 0.0


register(Exercise(
    name="modified_precision", chapter=CHAPTER, difficulty="easy", minutes=10, title="BLEU's modified n-gram precision",
    mistakes=[
        Mistake(lambda h, r, n: sum(c for g, c in collections.Counter(tuple(h[i:i + n])
                                                                      for i in range(len(h) - n + 1)).items()
                                    if g in {tuple(r[i:i + n]) for i in range(len(r) - n + 1)})
                / max(1, len(h) - n + 1),
                "a repeated n-gram was counted every time it occurs: clip its count by its count in the reference."),
        Mistake(lambda h, r, n: sum(min(c, collections.Counter(tuple(r[i:i + n]) for i in range(len(r) - n + 1))[g])
                                    for g, c in collections.Counter(tuple(h[i:i + n])
                                                                    for i in range(len(h) - n + 1)).items())
                / max(1, len(r) - n + 1),
                "precision divides by the number of n-grams in the HYPOTHESIS "
                "(dividing by the reference's is a recall)."),
    ],
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
    name="inception_score", chapter=CHAPTER, difficulty="medium", minutes=15,
    title="the Inception Score from class probabilities",
    mistakes=[
        Mistake(lambda q: (lambda p, m: torch.where(p > 0, p * (p / m).log(), torch.zeros_like(p))
                           .sum(1).exp().mean().item())(
                    q.double(), q.double().mean(0, keepdim=True)),
                "you averaged exp(KL) over the samples; the Inception Score is exp of the MEAN KL."),
        Mistake(lambda q: (lambda p, m: math.exp((m * (m / p.clamp_min(1e-300)).log()).sum(1).mean().item()))(
                    q.double(), q.double().mean(0, keepdim=True)),
                "the KL is reversed: IS uses KL(p(y|x) ‖ p(y)), weighting by each sample's own prediction."),
    ],
    reference=_inception_score_reference,
    cases=_is_cases,
    hint="average the rows to get p(y); KL(p(y|x) ‖ p(y)) per sample; exponentiate the *mean* of the KLs.",
))


def _permutation_p_reference(observed: float, permuted: torch.Tensor) -> float:
    """p = (1 + #{permuted ≥ observed}) / (1 + number of permutations)."""
    return (1 + int((permuted >= observed).sum())) / (1 + len(permuted))


register(Exercise(
    name="permutation_p_value", chapter=CHAPTER, difficulty="easy", minutes=10, title="a permutation test's p-value",
    mistakes=[
        Mistake(lambda obs, perm: int((perm >= obs).sum()) / len(perm),
                "add 1 to the count and to the number of permutations: the observed split is one of the possible "
                "splits, and a p-value of exactly 0 is impossible for a test with finitely many permutations."),
        Mistake(lambda obs, perm: (1 + int((perm > obs).sum())) / (1 + len(perm)),
                "ties count as at least as extreme: use ≥, not >."),
    ],
    reference=_permutation_p_reference,
    cases=lambda: [("observed beats every permutation", (5.0, torch.arange(9.0) / 10)),
                   ("observed in the middle", (0.45, torch.arange(9.0) / 10)),
                   ("ties count as at least as extreme", (0.5, torch.tensor([0.5, 0.5, 0.1])))],
    hint="count the permuted statistics at least as large as the observed one, and add 1 to both the "
         "count and the number of permutations (the observed split is one of the permutations).",
))

