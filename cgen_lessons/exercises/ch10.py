"""Chapter 10 (applications): edit distance, a verse-format mask, the phoneme error rate."""

import torch

from .core import Exercise, Mistake, register

CHAPTER = "10"


def _edit_distance_reference(a: str, b: str) -> int:
    """Levenshtein distance by dynamic programming: D[i][j] = min(D[i−1][j] + 1, D[i][j−1] + 1,
    D[i−1][j−1] + [a_i ≠ b_j])."""
    from ..metrics import edit_distance

    return edit_distance(a, b)


register(Exercise(
    name="edit_distance", chapter=CHAPTER, difficulty="medium", minutes=15, title="the Levenshtein edit distance",
    mistakes=[
        Mistake(lambda a, b: sum(x != y for x, y in zip(a, b)) + abs(len(a) - len(b)),
                "comparing position by position (Hamming) ignores insertions and deletions: one deleted symbol "
                "shifts everything after it. Use the dynamic-programming table."),
        Mistake(lambda a, b: len(a) + len(b) - 2 * _lcs(a, b),
                "a substitution costs 1, not a deletion plus an insertion (2): include D[i−1][j−1] + [a_i ≠ b_j]."),
    ],
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
    name="format_mask", chapter=CHAPTER, difficulty="medium", minutes=15, title="a verse-format logit mask",
    mistakes=[
        Mistake(lambda t, vocab, slot, step: torch.ones(len(vocab), dtype=torch.bool) if t[step] == slot
                else torch.tensor([v == t[step] for v in vocab]),
                "at a slot you allowed every token, punctuation included: exclude the template's literal characters."),
        Mistake(lambda t, vocab, slot, step: _format_mask_reference(t, vocab, slot, step).float(),
                "return a torch.bool tensor (True = allowed), not 0/1 floats."),
    ],
    reference=_format_mask_reference,
    cases=lambda: [(f"quatrain template, step {s}", ("__，__。", ["春", "风", "，", "。", "花"], "_", s))
                   for s in range(6)]
    + [("a literal that is not punctuation", ("_a_", ["a", "b", "c"], "_", 1)),
       ("a slot next to that literal", ("_a_", ["a", "b", "c"], "_", 2))],
    hint="at a literal position only that one character is allowed; at a slot every token is allowed "
         "EXCEPT the template's literal characters (a comma in a content slot would break the line length "
         "as surely as a missing one). Return a torch.bool tensor of shape (V,).",
))



def _lcs(a, b) -> int:
    """Length of the longest common subsequence (used by a typical mistake above)."""
    row = [0] * (len(b) + 1)
    for x in a:
        prev, row = row, [0]
        for j, y in enumerate(b, 1):
            row.append(prev[j - 1] + 1 if x == y else max(prev[j], row[j - 1]))
    return row[-1]


def _per_reference(hypotheses: list, references: list) -> float:
    """Corpus PER = Σ_w edit(h_w, r_w) / Σ_w |r_w| (one reference per word)."""
    return sum(_edit_distance_reference(h, r) for h, r in zip(hypotheses, references)) / sum(len(r) for r in references)


register(Exercise(
    name="phoneme_error_rate", chapter=CHAPTER, difficulty="easy", minutes=10, title="the corpus phoneme error rate",
    reference=_per_reference,
    cases=lambda: [("all right", ([["K", "AE", "T"]], [["K", "AE", "T"]])),
                   ("a short word wrong, a long word right",
                    ([["AH"], list("ABCDEFGHI")], [["EY"], list("ABCDEFGHI")])),
                   ("an insertion", ([["K", "AE", "AE", "T"]], [["K", "AE", "T"]])),
                   ("three words", ([["K", "AE"], ["D", "AO", "G"], ["B", "ER", "D"]],
                                    [["K", "AE", "T"], ["D", "AO", "G"], ["B", "ER", "D", "Z"]]))],
    hint="add up the edit distances of all words and divide by the total number of reference phonemes: a "
         "corpus rate, in which long words weigh more than short ones.",
    mistakes=[
        Mistake(lambda hs, rs: sum(_edit_distance_reference(h, r) / len(r) for h, r in zip(hs, rs)) / len(rs),
                "you averaged the per-word rates, which gives a one-phoneme word as much weight as a ten-phoneme "
                "word: divide the TOTAL number of errors by the TOTAL reference length."),
        Mistake(lambda hs, rs: sum(_edit_distance_reference(h, r) for h, r in zip(hs, rs)) / sum(len(h) for h in hs),
                "the denominator is the REFERENCE length (the hypothesis can be longer or shorter than the truth)."),
    ],
))

