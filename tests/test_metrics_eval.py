"""Chapter 09's metrics against trusted implementations (sacrebleu, scipy) and their defining properties."""

import math
import random

import pytest
import sacrebleu
import scipy.stats
import torch

from cgen_lessons import data
from cgen_lessons.metrics import (
    classifier_two_sample_test,
    corpus_bleu,
    density_coverage,
    inception_score,
    ks_2samp,
    mmd_permutation_test,
    precision_recall,
    self_bleu,
    sentence_bleu,
)


def _noisy_copies(lines, seed=0):
    """Hypotheses made from real lines by dropping ~15 % of the words and swapping a neighbour pair."""
    rng = random.Random(seed)
    hyps = []
    for line in lines:
        words = [w for w in line.split() if rng.random() > 0.15] or ["the"]
        if rng.random() < 0.5 and len(words) > 3:
            i = rng.randrange(len(words) - 1)
            words[i], words[i + 1] = words[i + 1], words[i]
        hyps.append(" ".join(words))
    return hyps


@pytest.fixture(scope="module")
def verse():
    return [line for line in data.shakespeare_splits()["test"].split("\n") if len(line.split()) >= 6][:300]


def test_corpus_bleu_equals_sacrebleu(verse):
    hyps = _noisy_copies(verse)
    ours = 100 * corpus_bleu(hyps, verse)
    theirs = sacrebleu.corpus_bleu(hyps, [verse], tokenize="none").score
    assert ours == pytest.approx(theirs, abs=1e-6)
    assert 20 < ours < 80  # a corpus where every order matters


def test_sentence_bleu_with_smoothing_equals_sacrebleu(verse):
    hyps = _noisy_copies(verse[:60], seed=1) + ["Macbeth", "to be or not"]
    refs = verse[:60] + verse[60:62]
    for h, r in zip(hyps, refs):
        assert 100 * sentence_bleu(h, r) == pytest.approx(sacrebleu.sentence_bleu(h, [r], tokenize="none").score,
                                                         abs=1e-6), (h, r)


def test_bleu_failure_modes_and_self_bleu(verse):
    ref = "the king is dead and the queen is gone"
    assert sentence_bleu("our monarch has died and his wife departed", ref, smooth="none") == 0.0  # a paraphrase
    assert corpus_bleu([ref], [ref]) == pytest.approx(1.0)
    assert self_bleu([verse[0]] * 4) == pytest.approx(1.0)
    assert self_bleu(verse[:20]) < 0.2
    with pytest.raises(ValueError, match="hypotheses"):
        corpus_bleu([], [])
    with pytest.raises(ValueError, match="reference entries"):
        corpus_bleu(["a b"], ["a b", "c d"])
    with pytest.raises(ValueError, match="non-empty reference"):
        corpus_bleu(["a b"], [""])


def test_ks_equals_scipy():
    g = torch.Generator().manual_seed(0)
    for n, m in [(50, 80), (500, 300), (2000, 2000)]:
        a = torch.randn(n, generator=g, dtype=torch.float64)
        b = 1.2 * torch.randn(m, generator=g, dtype=torch.float64) + 0.2
        d, p = ks_2samp(a, b)
        ref = scipy.stats.ks_2samp(a.numpy(), b.numpy(), method="asymp")
        assert d == pytest.approx(ref.statistic, abs=1e-12)
        assert p == pytest.approx(ref.pvalue, abs=5e-3)
    zeros = torch.zeros(40, dtype=torch.float64)
    assert ks_2samp(zeros, zeros[:30]) == (0.0, 1.0)  # identical samples (a dead ReLU feature): p = 1, not 0
    for shift in (0.0, 0.05, 0.1, 0.3, 0.6):  # small and large λ, both branches of the Kolmogorov tail
        a = torch.randn(300, generator=g, dtype=torch.float64)
        b = torch.randn(300, generator=g, dtype=torch.float64) + shift
        assert ks_2samp(a, b)[1] == pytest.approx(scipy.stats.ks_2samp(a.numpy(), b.numpy(), method="asymp").pvalue,
                                                  abs=0.01)  # two asymptotic formulas
    with pytest.raises(ValueError, match="1-D"):
        ks_2samp(torch.randn(10, 2), torch.randn(10, 2))


def test_inception_score_extremes():
    C = 10
    assert inception_score(torch.full((100, C), 1 / C)) == pytest.approx(1.0)  # nothing recognised
    assert inception_score(torch.eye(C).repeat(10, 1)) == pytest.approx(C)  # sure and balanced
    assert inception_score(torch.eye(C)[[3] * 100]) == pytest.approx(1.0)  # sure but collapsed
    with pytest.raises(ValueError, match="probability"):
        inception_score(torch.rand(5, C))


def _modes(n, centres, g):
    idx = torch.randint(0, len(centres), (n,), generator=g)
    return centres[idx] + 0.05 * torch.randn(n, 2, generator=g)


def test_precision_recall_and_density_coverage_separate_failure_kinds():
    g = torch.Generator().manual_seed(0)
    centres = torch.tensor([[0.0, 0.0], [3.0, 0.0], [0.0, 3.0], [3.0, 3.0]])
    real = _modes(400, centres, g)
    assert precision_recall(real, real) == (1.0, 1.0)
    assert density_coverage(real, real)[1] == 1.0
    collapsed = _modes(400, centres[:1], g)  # realistic samples from one mode only
    p, r = precision_recall(real, collapsed)
    d, c = density_coverage(real, collapsed)
    assert p > 0.9 and r < 0.4 and c < 0.4
    blurred = _modes(400, centres, g) + 0.5 * torch.randn(400, 2, generator=g)  # every mode, poor samples
    p, r = precision_recall(real, blurred)
    d, c = density_coverage(real, blurred)
    assert p < 0.5 and d < 0.5
    with pytest.raises(ValueError, match="dimensions differ"):
        precision_recall(real, torch.randn(10, 3))
    with pytest.raises(ValueError, match="nearest neighbours"):
        density_coverage(real, real[:3], k=5)


def test_permutation_test_p_values_are_uniform_under_the_null():
    g = torch.Generator().manual_seed(0)
    ps = [mmd_permutation_test(torch.randn(30, 2, generator=g), torch.randn(30, 2, generator=g), 1.0,
                               n_permutations=49, generator=g)[1] for _ in range(60)]
    assert 0.4 < sum(ps) / len(ps) < 0.6
    assert sum(p <= 0.1 for p in ps) <= 12  # about 6 expected
    shifted = mmd_permutation_test(torch.randn(30, 2, generator=g), torch.randn(30, 2, generator=g) + 1.0, 1.0,
                                   n_permutations=49, generator=g)[1]
    assert shifted == pytest.approx(1 / 50)


def test_classifier_two_sample_test():
    g = torch.Generator().manual_seed(0)
    acc, p = classifier_two_sample_test(torch.randn(200, 2, generator=g), torch.randn(200, 2, generator=g), generator=g)
    assert 0.4 < acc < 0.6 and p > 0.05
    angle = torch.rand(200, generator=g) * 2 * math.pi
    ring = torch.stack([angle.cos(), angle.sin()], 1) * 2  # same mean as the Gaussian, different shape
    acc, p = classifier_two_sample_test(torch.randn(200, 2, generator=g), ring, generator=g)
    assert acc > 0.8 and p < 1e-6
    with pytest.raises(ValueError, match="at least 4"):
        classifier_two_sample_test(torch.randn(3, 2), torch.randn(3, 2))


def test_kernel_inception_distance_equals_sklearn_kernel_and_is_unbiased():
    """KID = unbiased MMD² with sklearn's polynomial kernel (γ = 1/d, coef0 = 1, degree 3); its mean
    over draws from one distribution is 0 at every sample size, while FD's bias falls like 1/N."""
    from sklearn.metrics.pairwise import polynomial_kernel

    from cgen_lessons.metrics import frechet_distance, kernel_inception_distance

    g = torch.Generator().manual_seed(0)
    a, b = (torch.randn(40, 5, generator=g, dtype=torch.float64),
            torch.randn(30, 5, generator=g, dtype=torch.float64) + 0.3)
    k = lambda u, v: torch.from_numpy(polynomial_kernel(u.numpy(), v.numpy(), degree=3, gamma=1 / 5, coef0=1))  # noqa: E731
    kxx, kyy = k(a, a), k(b, b)
    expected = ((kxx.sum() - kxx.trace()) / (40 * 39) + (kyy.sum() - kyy.trace()) / (30 * 29)
                - 2 * k(a, b).mean()).item()
    torch.testing.assert_close(kernel_inception_distance(a, b), expected, rtol=1e-10, atol=1e-12)
    assert kernel_inception_distance(a, b) > 0.05  # a real shift is seen
    for n in (20, 200):
        kids = [kernel_inception_distance(torch.randn(n, 5, generator=g), torch.randn(n, 5, generator=g))
                for _ in range(200)]
        fds = [frechet_distance(torch.randn(n, 5, generator=g), torch.randn(n, 5, generator=g)) for _ in range(50)]
        se = torch.tensor(kids).std().item() / math.sqrt(len(kids))
        assert abs(sum(kids) / len(kids)) < 4 * se  # unbiased: mean 0 within 4 standard errors
        assert sum(fds) / len(fds) > 0.02  # FD of two samples of one distribution is biased upwards
    with pytest.raises(ValueError, match="same d"):
        kernel_inception_distance(a, b[:, :3])
    with pytest.raises(ValueError, match="degree"):
        kernel_inception_distance(a, b, degree=0)


def test_paired_bootstrap_matches_scipy():
    """The percentile interval of the mean paired difference, against scipy.stats.bootstrap(paired=True)."""
    from cgen_lessons.metrics import paired_bootstrap

    g = torch.Generator().manual_seed(0)
    a = (torch.rand(200, generator=g) < 0.4).double()
    b = (torch.rand(200, generator=g) < 0.3).double()
    mean, low, high = paired_bootstrap(a, b, n_resamples=20_000)
    ref = scipy.stats.bootstrap((a.numpy(), b.numpy()), lambda x, y: x.mean() - y.mean(), paired=True,
                                vectorized=False, n_resamples=20_000, method="percentile", random_state=0)
    assert mean == pytest.approx((a - b).mean().item())
    assert low == pytest.approx(ref.confidence_interval.low, abs=0.01)
    assert high == pytest.approx(ref.confidence_interval.high, abs=0.01)
    # identical scores: zero difference and an interval of width zero
    assert paired_bootstrap(a, a) == (0.0, 0.0, 0.0)
    # lists of booleans (retrieval hits) are accepted; mismatched lengths are not
    assert paired_bootstrap([True, False, True], [False, False, True])[0] == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match="one value per item"):
        paired_bootstrap([1.0, 0.0], [1.0])
