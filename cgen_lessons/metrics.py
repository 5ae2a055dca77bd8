"""Evaluation metrics shared by the chapters."""

from __future__ import annotations

import math

import torch

from .utils import check_positive_int

__all__ = ["perplexity", "stream_nll", "distinct_n", "repetition_rate", "frechet_distance", "mmd2"]


def perplexity(cross_entropy_nats) -> float:
    """PPL = exp(CE) for a mean per-token cross-entropy CE in nats (a float or a 0-d tensor).
    Returns ``math.inf`` when exp(CE) exceeds the float range (CE above about 709 nats)."""
    ce = float(cross_entropy_nats.item() if isinstance(cross_entropy_nats, torch.Tensor) else cross_entropy_nats)
    if not math.isfinite(ce) or ce < 0:
        raise ValueError(f"cross-entropy must be a finite non-negative number of nats, got {ce!r}")
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
    was_training = model.training
    model.eval()
    L = (len(ids) - 1) // rows
    x = ids[: rows * L].view(rows, L)  # (rows, L)
    y = ids[1: rows * L + 1].view(rows, L)
    device = next(iter(model.parameters()), torch.empty(0)).device
    x, y = x.to(device), y.to(device)
    block_size = getattr(model, "block_size", None)
    if hasattr(model, "forward_with_state"):
        logits, _ = model.forward_with_state(x)
        nll = torch.nn.functional.cross_entropy(logits.flatten(0, 1).float(), y.flatten()).item()
    elif block_size is not None and L > block_size:
        nll = _sliding_nll(model, ids.to(device), block_size)
    else:
        _, loss = model(x, y)
        nll = loss.item()
    model.train(was_training)
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
        logits, _ = model(win[:, :-1])  # (n, context, V)
        logp = torch.log_softmax(logits.float(), -1).gather(-1, win[:, 1:, None])[..., 0]  # (n, context)
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


def frechet_distance(feats_a: torch.Tensor, feats_b: torch.Tensor) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets (the FID formula,
    Heusel et al. 2017): ‖μ_a − μ_b‖² + tr(Σ_a + Σ_b − 2 (Σ_a^{1/2} Σ_b Σ_a^{1/2})^{1/2})."""
    if feats_a.dim() != 2 or feats_b.dim() != 2 or feats_a.shape[1] != feats_b.shape[1]:
        raise ValueError("feature sets must be (N, d) and (M, d) with the same d")
    if min(len(feats_a), len(feats_b)) < 2:
        raise ValueError("each feature set needs at least 2 samples")
    if not (torch.isfinite(feats_a).all() and torch.isfinite(feats_b).all()):
        raise ValueError("feature sets contain NaN or infinite values (e.g. from a diverged generator)")
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
    if x.dim() != 2 or y.dim() != 2 or x.shape[1] != y.shape[1]:
        raise ValueError("samples must be (N, d) and (M, d) with the same d")
    if min(len(x), len(y)) < 2:
        raise ValueError("each sample needs at least 2 points")
    if not isinstance(bandwidth, (int, float)) or not bandwidth > 0:
        raise ValueError(f"bandwidth must be a positive number, got {bandwidth!r}")
    x, y = x.double().cpu(), y.double().cpu()
    n, m = len(x), len(y)

    def kernel(a, b):
        return torch.exp(-torch.cdist(a, b).pow(2) / (2 * bandwidth ** 2))

    k_xx, k_yy = kernel(x, x), kernel(y, y)
    term_xx = (k_xx.sum() - k_xx.diagonal().sum()) / (n * (n - 1))
    term_yy = (k_yy.sum() - k_yy.diagonal().sum()) / (m * (m - 1))
    return (term_xx + term_yy - 2 * kernel(x, y).mean()).item()
