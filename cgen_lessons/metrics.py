"""Evaluation metrics shared by the chapters."""

from __future__ import annotations

import collections
import math

import torch

from . import checks
from .lm import StatefulLM, token_logprobs
from .utils import check_positive_int, eval_mode

__all__ = ["perplexity", "stream_nll", "distinct_n", "repetition_rate", "frechet_distance", "mmd2", "corpus_bleu",
           "sentence_bleu", "self_bleu", "inception_score", "precision_recall", "density_coverage", "ks_2samp",
           "mmd_permutation_test", "classifier_two_sample_test", "edit_table", "edit_distance", "phoneme_error_rate",
           "word_error_rate", "kernel_inception_distance", "paired_bootstrap"]


def perplexity(cross_entropy_nats) -> float:
    """PPL = exp(CE) for a mean per-token cross-entropy CE in nats (a float or a 0-d tensor).
    Returns ``math.inf`` when exp(CE) exceeds the float range (CE above about 709 nats)."""
    if isinstance(cross_entropy_nats, torch.Tensor) and cross_entropy_nats.numel() == 1:
        cross_entropy_nats = cross_entropy_nats.item()
    ce = checks.number(cross_entropy_nats, "cross_entropy_nats", low=0)
    return math.exp(ce) if ce < 709.0 else math.inf


@torch.no_grad()
def stream_nll(model, ids: torch.Tensor, rows: int = 16) -> float:
    """Mean per-token NLL (nats) of a held-out id stream under an LM.

    The stream is cut into ``rows`` contiguous pieces scored in one batch, so each piece's
    first token is predicted from an empty history (≤ rows − 1 tokens of the stream are scored
    with less context than a single pass would give). Models with ``forward_with_state``
    (RNNs) and models that accept any length (n-grams) read each piece in full; models with a
    hard input limit ``block_size`` (GPT) are scored with sliding windows of that size.
    """
    rows = check_positive_int(rows, "rows")
    if not isinstance(ids, torch.Tensor) or ids.dim() != 1 or len(ids) < 2 * rows:
        raise ValueError(f"ids must be a 1-D stream of at least {2 * rows} tokens")
    L = (len(ids) - 1) // rows
    x = ids[: rows * L].view(rows, L)  # (rows, L)
    y = ids[1: rows * L + 1].view(rows, L)
    device = next(iter(model.parameters()), torch.empty(0)).device
    x, y = x.to(device), y.to(device)
    block_size = getattr(model, "block_size", None)
    with eval_mode(model):
        if isinstance(model, StatefulLM):
            logits, _ = model.forward_with_state(x)  # (rows, L, V)
            nll = torch.nn.functional.cross_entropy(logits.flatten(0, 1).float(), y.flatten()).item()
        elif block_size is not None and L > block_size:
            nll = _sliding_nll(model, ids.to(device), block_size)
        else:
            _, loss = model(x, y)
            nll = loss.item()
    return nll


def _sliding_nll(model, ids: torch.Tensor, context: int, batch: int = 256) -> float:
    """Score every token of a stream with a context-limited model: windows of ``context`` tokens
    at stride context/2 (the last one flush with the end); each target is scored once, in the
    first window where it is new, so every token after the first window is predicted from at
    least context/2 tokens of history."""
    stride = max(1, context // 2)
    last = len(ids) - 1 - context  # start of the window that ends at the last target
    starts = list(range(0, last + 1, stride))
    if starts[-1] != last:
        starts.append(last)
    prev_end = [-1] + [s + context for s in starts[:-1]]  # last target position of the previous window
    total, count = 0.0, 0
    offsets = torch.arange(context + 1, device=ids.device)
    for b in range(0, len(starts), batch):
        s = torch.tensor(starts[b: b + batch], device=ids.device)
        pe = torch.tensor(prev_end[b: b + batch], device=ids.device)
        win = ids[s[:, None] + offsets]  # (n, context + 1)
        logp = token_logprobs(model, win)  # (n, context): log p of each window's targets
        target_pos = s[:, None] + 1 + offsets[:-1]  # (n, context) absolute position of each target
        keep = target_pos > pe[:, None]
        total -= logp[keep].sum().item()
        count += int(keep.sum())
    if count != len(ids) - 1:  # pragma: no cover - guarded by tests
        raise RuntimeError(f"sliding evaluation scored {count} tokens instead of {len(ids) - 1}")
    return total / count


def _ngrams(seq, n: int) -> list[tuple]:
    if isinstance(seq, torch.Tensor):  # e.g. a row of `generate`'s output: compare ids, not tensor objects
        if seq.dim() != 1:
            raise ValueError(f"each sequence must be 1-D, got shape {tuple(seq.shape)}")
        seq = seq.tolist()
    seq = list(seq)
    return [tuple(seq[i: i + n]) for i in range(len(seq) - n + 1)]


def distinct_n(sequences: list, n: int) -> float:
    """Distinct-n (Li et al. 2016): number of distinct n-grams / total n-grams, pooled over sequences.
    ``sequences`` is a list of sequences (strings, lists of ids, or 1-D tensors) or a (B, T) tensor."""
    n = check_positive_int(n, "n")
    if isinstance(sequences, (str, bytes)) or (isinstance(sequences, torch.Tensor) and sequences.dim() != 2):
        raise ValueError("sequences must be a list of sequences or a (B, T) tensor, not a single sequence")
    grams = [g for seq in sequences for g in _ngrams(seq, n)]
    if not grams:
        raise ValueError(f"the sequences contain no {n}-grams")
    return len(set(grams)) / len(grams)


def repetition_rate(sequence, n: int = 4) -> float:
    """Share of the n-grams of one sequence that already occurred earlier in it (0 = no repeats)."""
    n = check_positive_int(n, "n")
    grams = _ngrams(sequence, n)
    if not grams:
        raise ValueError(f"the sequence has no {n}-grams")
    seen, repeats = set(), 0
    for g in grams:
        repeats += g in seen
        seen.add(g)
    return repeats / len(grams)


def edit_table(a, b) -> list[list[int]]:
    """The Levenshtein dynamic-programming table: D[i][j] is the distance between a[:i] and b[:j],

    D[i][0] = i, D[0][j] = j, D[i][j] = min(D[i−1][j] + 1, D[i][j−1] + 1, D[i−1][j−1] + [a_i ≠ b_j]).
    """
    a, b = list(a), list(b)
    D = [[i + j if i == 0 or j == 0 else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            D[i][j] = min(D[i - 1][j] + 1, D[i][j - 1] + 1, D[i - 1][j - 1] + (a[i - 1] != b[j - 1]))
    return D


def edit_distance(a, b) -> int:
    """Levenshtein distance: the fewest insertions, deletions and substitutions turning ``a`` into
    ``b`` — the last cell of ``edit_table(a, b)``."""
    return edit_table(a, b)[-1][-1]


def _check_references(hypotheses, references) -> None:
    if len(hypotheses) != len(references) or not hypotheses:
        raise ValueError("hypotheses and references must be non-empty lists of the same length")
    if any(isinstance(r, (str, bytes)) or not r or any(len(x) == 0 for x in r) for r in references):
        raise ValueError("references: each entry must be a non-empty list of non-empty sequences "
                         "(wrap a single reference in a list)")


def phoneme_error_rate(hypotheses: list, references: list) -> float:
    """PER = Σ_w min_r edit(h_w, r) / Σ_w |r*_w|, where r*_w is the reference of word w closest to
    h_w (ties: the longer one); each ``references[w]`` lists every accepted pronunciation."""
    _check_references(hypotheses, references)
    errors = length = 0
    for h, refs in zip(hypotheses, references):
        d, n = min((edit_distance(h, r), -len(r)) for r in refs)
        errors, length = errors + d, length - n
    return errors / length


def word_error_rate(hypotheses: list, references: list) -> float:
    """WER = share of words whose hypothesis equals none of their references."""
    _check_references(hypotheses, references)
    return sum(list(h) not in [list(r) for r in refs] for h, refs in zip(hypotheses, references)) / len(hypotheses)


def frechet_distance(feats_a: torch.Tensor, feats_b: torch.Tensor) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets (the FID formula,
    Heusel et al. 2017): ‖μ_a − μ_b‖² + tr(Σ_a + Σ_b − 2 (Σ_a^{1/2} Σ_b Σ_a^{1/2})^{1/2})."""
    _check_two_samples(feats_a, feats_b, ("feats_a", "feats_b"))
    a, b = feats_a.double(), feats_b.double()
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = torch.cov(a.T).reshape(a.shape[1], -1), torch.cov(b.T).reshape(b.shape[1], -1)
    evals, evecs = torch.linalg.eigh(cov_a)
    sqrt_a = evecs @ torch.diag(evals.clamp_min(0).sqrt()) @ evecs.T  # Σ_a^{1/2}
    middle = sqrt_a @ cov_b @ sqrt_a  # symmetric PSD
    tr_sqrt = torch.linalg.eigvalsh((middle + middle.T) / 2).clamp_min(0).sqrt().sum()
    return ((mu_a - mu_b) ** 2).sum().item() + (torch.trace(cov_a) + torch.trace(cov_b) - 2 * tr_sqrt).item()


def mmd2(x: torch.Tensor, y: torch.Tensor, bandwidth: float) -> float:
    """Unbiased squared maximum mean discrepancy (Gretton et al. 2012) with the Gaussian kernel
    k(a, b) = exp(−‖a − b‖² / (2 h²)), h = ``bandwidth``, between samples x (N, d) and y (M, d):

        MMD² = Σ_{i≠j} k(x_i, x_j) / (N(N−1)) + Σ_{i≠j} k(y_i, y_j) / (M(M−1)) − 2 Σ_{i,j} k(x_i, y_j) / (NM).

    Zero in expectation when both samples come from the same distribution (so it can be slightly
    negative), positive otherwise."""
    _check_two_samples(x, y)
    checks.number(bandwidth, "bandwidth", low=0, low_open=True)
    x, y = x.double().cpu(), y.double().cpu()

    def kernel(a, b):
        return torch.exp(-torch.cdist(a, b).pow(2) / (2 * bandwidth ** 2))

    return _unbiased_mmd2(kernel(x, x), kernel(y, y), kernel(x, y))


def _check_two_samples(x: torch.Tensor, y: torch.Tensor, names=("x", "y")) -> None:
    """Two samples (N, d) and (M, d) of real, finite numbers with the same d and N, M >= 2."""
    for name, t in zip(names, (x, y)):
        checks.tensor(t, name, dims=2, kind="real", finite=True)
        if len(t) < 2:
            raise ValueError(f"{name} needs at least 2 points, got {len(t)}")
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"{names[0]} (N, d) and {names[1]} (M, d) must have the same d, "
                         f"got {x.shape[1]} and {y.shape[1]}")


def _unbiased_mmd2(k_xx: torch.Tensor, k_yy: torch.Tensor, k_xy: torch.Tensor) -> float:
    """MMD² from the three kernel matrices, leaving out the diagonals of k_xx and k_yy."""
    n, m = len(k_xx), len(k_yy)
    term_xx = (k_xx.sum() - k_xx.diagonal().sum()) / (n * (n - 1))
    term_yy = (k_yy.sum() - k_yy.diagonal().sum()) / (m * (m - 1))
    return (term_xx + term_yy - 2 * k_xy.mean()).item()


def kernel_inception_distance(feats_a: torch.Tensor, feats_b: torch.Tensor, degree: int = 3) -> float:
    """KID (Bińkowski et al. 2018): the unbiased MMD² between feature sets (N, d) and (M, d) with
    the polynomial kernel k(a, b) = (a·b / d + 1)^degree. Unlike the Fréchet distance, its
    estimate has expectation equal to the population value at every sample size."""
    _check_two_samples(feats_a, feats_b, ("feats_a", "feats_b"))
    degree = check_positive_int(degree, "degree")
    a, b = feats_a.double().cpu(), feats_b.double().cpu()

    def kernel(u, v):
        return (u @ v.T / u.shape[1] + 1) ** degree

    return _unbiased_mmd2(kernel(a, a), kernel(b, b), kernel(a, b))


# --------------------------------------------------------------------------- chapter 09: text metrics
def _tokens(text) -> list:
    """A sentence as a list of tokens: strings are split on whitespace, sequences are kept."""
    if isinstance(text, str):
        return text.split()
    if isinstance(text, torch.Tensor):
        return text.tolist()
    return list(text)


def _bleu_stats(hyp: list, refs: list[list], max_n: int):
    """Clipped n-gram matches and totals for n = 1..max_n, hypothesis length and closest reference length."""
    matches, totals = [0] * max_n, [0] * max_n
    for n in range(1, max_n + 1):
        hyp_counts = collections.Counter(_ngrams(hyp, n))
        max_ref = collections.Counter()
        for ref in refs:
            for gram, c in collections.Counter(_ngrams(ref, n)).items():
                max_ref[gram] = max(max_ref[gram], c)
        matches[n - 1] = sum(min(c, max_ref[g]) for g, c in hyp_counts.items())  # clipped counts
        totals[n - 1] = max(len(hyp) - n + 1, 0)
    closest = min((abs(len(r) - len(hyp)), len(r)) for r in refs)[1]  # ties: the shorter reference
    return matches, totals, len(hyp), closest


def _check_bleu_inputs(hypotheses, references, max_n):
    max_n = check_positive_int(max_n, "max_n")
    if isinstance(hypotheses, str) or not len(hypotheses):
        raise ValueError("hypotheses must be a non-empty list of sentences")
    refs = [[_tokens(r)] if isinstance(r, str) else [_tokens(x) for x in r] for r in references]
    if len(refs) != len(hypotheses):
        raise ValueError(f"references must hold one entry per hypothesis: {len(hypotheses)} hypotheses, "
                         f"{len(refs)} reference entries")
    if any(not r or any(len(x) == 0 for x in r) for r in refs):
        raise ValueError("references: every hypothesis needs at least one non-empty reference")
    hyps = [_tokens(h) for h in hypotheses]
    for i, (h, r) in enumerate(zip(hyps, refs)):  # words against ids would silently match nothing
        kinds = {type(tok) for tok in h} | {type(tok) for x in r for tok in x}
        if str in kinds and len(kinds) > 1:
            raise ValueError(f"hypothesis {i} and its references mix words (strings) with token ids; "
                             "give both as text or both as ids")
    return hyps, refs, max_n


def _bleu_from_stats(matches, totals, hyp_len, ref_len, max_n, smooth: str, effective_order: bool) -> float:
    orders = [n for n in range(max_n) if totals[n] > 0] if effective_order else list(range(max_n))
    if hyp_len == 0 or not orders or not any(matches):
        return 0.0  # no n-gram of any order matches: 0 even with smoothing (as sacrebleu)
    log_p, k = 0.0, 1.0
    for n in orders:
        if matches[n] > 0:
            log_p += math.log(matches[n] / totals[n])
        elif smooth == "exp":  # Chen & Cherry's method 3 (NIST): 1 / (2^k · total) for the k-th zero count
            k *= 2.0
            log_p += math.log(1.0 / (k * totals[n]))
        else:
            return 0.0  # an order with no match makes the geometric mean 0
    brevity = 1.0 if hyp_len > ref_len else math.exp(1.0 - ref_len / hyp_len)
    return brevity * math.exp(log_p / len(orders))


def corpus_bleu(hypotheses, references, max_n: int = 4) -> float:
    """Corpus BLEU (Papineni et al. 2002) in [0, 1]:

        BLEU = BP · exp( (1/N) Σ_{n=1}^{N} log p_n ),  p_n = Σ clipped n-gram matches / Σ hypothesis n-grams,
        BP = min(1, exp(1 − r/c)),  c = total hypothesis length, r = total closest-reference length.

    Counts are pooled over the corpus before the ratio is taken (not an average of sentence
    scores). ``references[i]`` is one reference (a string or token list) or a list of them.
    Strings are split on whitespace: tokenise first if you need punctuation split off.
    """
    hyps, refs, max_n = _check_bleu_inputs(hypotheses, references, max_n)
    matches, totals, c, r = [0] * max_n, [0] * max_n, 0, 0
    for h, rs in zip(hyps, refs):
        m, t, hl, rl = _bleu_stats(h, rs, max_n)
        matches = [a + b for a, b in zip(matches, m)]
        totals = [a + b for a, b in zip(totals, t)]
        c, r = c + hl, r + rl
    return _bleu_from_stats(matches, totals, c, r, max_n, smooth="none", effective_order=False)


def sentence_bleu(hypothesis, references, max_n: int = 4, smooth: str = "exp") -> float:
    """BLEU of one sentence in [0, 1]. With ``smooth="exp"`` (sacrebleu's default for sentences) an
    n-gram order with no match contributes 1/(2^k · total) instead of zeroing the score; orders
    longer than the hypothesis are left out (the "effective order"). ``smooth="none"``: plain BLEU."""
    if smooth not in ("exp", "none"):
        raise ValueError(f"smooth must be 'exp' or 'none', got {smooth!r}")
    refs = [references] if isinstance(references, str) else references
    if refs and not isinstance(refs[0], (str, list, tuple, torch.Tensor)):
        refs = [refs]  # a single token list
    hyps, refs, max_n = _check_bleu_inputs([hypothesis], [refs], max_n)
    m, t, hl, rl = _bleu_stats(hyps[0], refs[0], max_n)
    return _bleu_from_stats(m, t, hl, rl, max_n, smooth=smooth, effective_order=True)


def self_bleu(samples, max_n: int = 4) -> float:
    """Self-BLEU (Zhu et al. 2018): the mean sentence BLEU of each sample against all the others as
    references. High = the samples repeat each other (low diversity)."""
    samples = [_tokens(s) for s in samples]
    if len(samples) < 2:
        raise ValueError("self-BLEU needs at least 2 samples")
    scores = [sentence_bleu(s, samples[:i] + samples[i + 1:], max_n) for i, s in enumerate(samples)]
    return sum(scores) / len(scores)


# --------------------------------------------------------------------------- chapter 09: sample-based metrics
def _check_probs(probs: torch.Tensor) -> torch.Tensor:
    checks.tensor(probs, "probs", dims=2, kind="float", finite=True)
    p = probs.double()
    if (p < 0).any() or not torch.allclose(p.sum(1), torch.ones(len(p), dtype=p.dtype), atol=1e-4):
        raise ValueError("each row of probs must be a probability distribution (non-negative, sums to 1)")
    return p


def inception_score(probs: torch.Tensor) -> float:
    """IS = exp( E_x KL(p(y|x) ‖ p(y)) ), p(y) = E_x p(y|x) (Salimans et al. 2016), from a classifier's
    predicted probabilities (N, C) on N samples. It lies in [1, C]: 1 when every sample gets the
    same prediction, C when predictions are one-hot and the classes are used equally often."""
    p = _check_probs(probs)
    marginal = p.mean(0, keepdim=True)  # (1, C)
    kl = torch.where(p > 0, p * (p / marginal).log(), torch.zeros_like(p)).sum(1)  # (N,)
    return math.exp(kl.mean().item())


def _kth_neighbour_radii(x: torch.Tensor, k: int) -> torch.Tensor:
    """Distance from each row of x to its k-th nearest other row; (N,)."""
    d = torch.cdist(x, x)  # (N, N)
    return d.kthvalue(k + 1, dim=1).values  # +1: the point itself is at distance 0


def _check_feature_sets(real, fake, k):
    k = check_positive_int(k, "k")
    for name, t in (("real", real), ("fake", fake)):
        checks.tensor(t, name, dims=2, kind="real", finite=True)
    if real.shape[1] != fake.shape[1]:
        raise ValueError(f"feature dimensions differ: {real.shape[1]} vs {fake.shape[1]}")
    if min(len(real), len(fake)) <= k:
        raise ValueError(f"k = {k} nearest neighbours need more than {k} samples in each set")
    return real.double(), fake.double(), k


def precision_recall(real: torch.Tensor, fake: torch.Tensor, k: int = 3) -> tuple[float, float]:
    """Improved precision and recall (Kynkäänniemi et al. 2019). Each set's manifold is the union of
    balls around its points with radius = distance to the k-th nearest neighbour in the same set.
    Precision: share of fake samples inside the real manifold (are the samples realistic?).
    Recall: share of real samples inside the fake manifold (is the data covered?)."""
    real, fake, k = _check_feature_sets(real, fake, k)
    r_real, r_fake = _kth_neighbour_radii(real, k), _kth_neighbour_radii(fake, k)
    precision = (torch.cdist(fake, real) <= r_real[None, :]).any(1).double().mean().item()
    recall = (torch.cdist(real, fake) <= r_fake[None, :]).any(1).double().mean().item()
    return precision, recall


def density_coverage(real: torch.Tensor, fake: torch.Tensor, k: int = 5) -> tuple[float, float]:
    """Density and coverage (Naeem et al. 2020), with balls around the *real* points only
    (radius = distance to the k-th nearest real neighbour), which makes them robust to outliers:
    density = (1 / kM) Σ_j #{real balls containing fake_j}  (can exceed 1),
    coverage = share of real points whose ball contains at least one fake sample."""
    real, fake, k = _check_feature_sets(real, fake, k)
    inside = torch.cdist(fake, real) <= _kth_neighbour_radii(real, k)[None, :]  # (M, N)
    return inside.sum().item() / (k * len(fake)), inside.any(0).double().mean().item()


# --------------------------------------------------------------------------- chapter 09: two-sample tests
def _sample_1d(t, name: str) -> torch.Tensor:
    if isinstance(t, (str, bytes)):
        raise TypeError(f"{name} must be a 1-D sample of numbers, got a string")
    t = checks.tensor(torch.as_tensor(t), name, kind="real", finite=True)
    if t.dim() != 1:
        raise ValueError(f"the KS test compares two 1-D samples, got {name} of shape {tuple(t.shape)} (for images, "
                         "test each coordinate or use a multivariate test such as MMD)")
    return t.double()


def paired_bootstrap(a, b, n_resamples: int = 10_000, level: float = 0.95, seed: int = 0) -> tuple[float, float, float]:
    """The difference of two means measured on the same items, $\\bar a - \\bar b$, with a percentile bootstrap
    interval (Efron & Tibshirani 1993): resample the *items* $n$ at a time with replacement, keeping each item's
    pair $(a_i, b_i)$ together, so that what both methods get right or wrong on the same item cancels. Returns
    (difference, lower, upper) for the central ``level`` interval."""
    a = checks.tensor(torch.as_tensor(a, dtype=torch.float64) if isinstance(a, (list, tuple)) else a, "a", dims=1,
                      kind="real", finite=True)
    b = checks.tensor(torch.as_tensor(b, dtype=torch.float64) if isinstance(b, (list, tuple)) else b, "b", dims=1,
                      kind="real", finite=True)
    if len(a) != len(b):
        raise ValueError(f"a and b must hold one value per item each, got {len(a)} and {len(b)}")
    n_resamples = check_positive_int(n_resamples, "n_resamples")
    level = checks.probability(level, "level", allow_zero=False, allow_one=False)
    d = (a.double() - b.double())  # (n,) per-item differences
    rows = torch.randint(len(d), (n_resamples, len(d)), generator=torch.Generator().manual_seed(seed))  # (R, n)
    means = d[rows].mean(1)  # (R,)
    low, high = torch.quantile(means, torch.tensor([(1 - level) / 2, (1 + level) / 2], dtype=torch.float64)).tolist()
    return d.mean().item(), low, high


def ks_2samp(a: torch.Tensor, b: torch.Tensor) -> tuple[float, float]:
    """Two-sample Kolmogorov–Smirnov test for *one-dimensional* samples: D = sup_x |F_a(x) − F_b(x)|
    and its asymptotic p-value Q_KS(λ) = 2 Σ_{j≥1} (−1)^{j−1} exp(−2 j² λ²), λ = (√n_e + 0.12 +
    0.11/√n_e) D, n_e = n m / (n + m) (Stephens' correction). Returns (D, p)."""
    a, b = _sample_1d(a, "a"), _sample_1d(b, "b")
    values = torch.cat([a, b]).sort().values
    cdf_a = torch.searchsorted(a.sort().values, values, right=True).double() / len(a)
    cdf_b = torch.searchsorted(b.sort().values, values, right=True).double() / len(b)
    d = (cdf_a - cdf_b).abs().max().item()
    n_e = len(a) * len(b) / (len(a) + len(b))
    return d, _kolmogorov_sf((math.sqrt(n_e) + 0.12 + 0.11 / math.sqrt(n_e)) * d)


def _kolmogorov_sf(lam: float) -> float:
    """P(K > λ) for the Kolmogorov distribution. The alternating series 2 Σ (−1)^{j−1} e^{−2j²λ²}
    converges fast for large λ but not at all as λ → 0 (it would give 0 instead of 1 for D = 0),
    so small λ use the equivalent series 1 − (√(2π)/λ) Σ_{j≥1} exp(−(2j−1)² π² / (8λ²))."""
    if lam <= 0:
        return 1.0
    if lam < 1.18:
        y = math.exp(-math.pi ** 2 / (8 * lam * lam))
        return min(1.0, max(0.0, 1.0 - math.sqrt(2 * math.pi) / lam * sum(y ** ((2 * j - 1) ** 2) for j in range(1,
                                                                                                                 6))))
    x = math.exp(-2 * lam * lam)
    return min(1.0, max(0.0, 2 * sum((-1) ** (j - 1) * x ** (j * j) for j in range(1, 6))))


def mmd_permutation_test(x: torch.Tensor, y: torch.Tensor, bandwidth: float, n_permutations: int = 200,
                         generator: torch.Generator | None = None) -> tuple[float, float]:
    """Kernel two-sample test (Gretton et al. 2012): the statistic is ``mmd2(x, y)``; its null
    distribution is simulated by shuffling the pooled samples between the two groups.
    Returns (MMD², p) with p = (1 + #{permuted ≥ observed}) / (1 + n_permutations)."""
    n_permutations = check_positive_int(n_permutations, "n_permutations")
    x = checks.tensor(x, "x", dims=2, kind="real", finite=True)
    y = checks.tensor(y, "y", dims=2, kind="real", finite=True)
    if x.dim() != 2 or y.dim() != 2 or x.shape[1] != y.shape[1] or min(len(x), len(y)) < 2:
        raise ValueError("x and y must be (N, D) and (M, D) with at least 2 samples each")
    observed = mmd2(x, y, bandwidth)
    pooled = torch.cat([x, y])
    exceed = 0
    for _ in range(n_permutations):
        perm = torch.randperm(len(pooled), generator=generator)
        exceed += mmd2(pooled[perm[: len(x)]], pooled[perm[len(x):]], bandwidth) >= observed
    return observed, (1 + exceed) / (1 + n_permutations)


def classifier_two_sample_test(x: torch.Tensor, y: torch.Tensor, k: int | None = None,
                               generator: torch.Generator | None = None) -> tuple[float, float]:
    """Classifier two-sample test (Lopez-Paz & Oquab 2017) with a k-nearest-neighbour classifier:
    label x 0 and y 1, train on a random half, measure accuracy on the other half. Under
    H0 (same distribution) the accuracy is Binomial(n_test, 1/2) / n_test; the one-sided p-value
    is the exact binomial tail P(A ≥ observed). Returns (accuracy, p)."""
    x = checks.tensor(x, "x", dims=2, kind="real", finite=True)
    y = checks.tensor(y, "y", dims=2, kind="real", finite=True)
    if x.dim() != 2 or y.dim() != 2 or x.shape[1] != y.shape[1] or min(len(x), len(y)) < 4:
        raise ValueError("x and y must be (N, D) and (M, D) with at least 4 samples each")
    data = torch.cat([x, y]).double()
    labels = torch.cat([torch.zeros(len(x)), torch.ones(len(y))])
    perm = torch.randperm(len(data), generator=generator)
    train, test = perm[: len(data) // 2], perm[len(data) // 2:]
    k = k if k is not None else max(1, int(round(math.sqrt(len(train)))))
    k = check_positive_int(k, "k")
    nearest = torch.cdist(data[test], data[train]).topk(min(k, len(train)), largest=False).indices  # (n_test, k)
    votes = labels[train][nearest].mean(1)  # (n_test,)
    predictions = (votes > 0.5).double() + (votes == 0.5).double() * 0.5  # ties count half
    accuracy = (1 - (predictions - labels[test]).abs()).mean().item()
    n = len(test)
    correct = int(round(accuracy * n))
    p = sum(math.comb(n, i) for i in range(correct, n + 1)) / 2 ** n
    return accuracy, p
