import math
import warnings

import pytest
import torch

from cgen_lessons.classic import HMM, CategoricalNaiveBayes, GaussianMixture, NGramLM


# --------------------------------------------------------------------------- n-gram
@pytest.mark.parametrize("n", [1, 2, 3, 4])
@pytest.mark.parametrize("beta", [0.1, 2.0])
def test_ngram_distributions_sum_to_one(n, beta):
    g = torch.Generator().manual_seed(n)
    lm = NGramLM(6, n, beta).fit(torch.randint(0, 6, (300,), generator=g))
    for L in range(0, n + 2):  # histories shorter and longer than n − 1, seen and unseen
        p = lm.probs(torch.randint(0, 6, (9, L), generator=g))
        torch.testing.assert_close(p.sum(1), torch.ones(9, dtype=torch.float64))
        assert (p > 0).all()


def test_ngram_matches_hand_counts():
    """Bigram on 'ababa': unigram counts a: 3, b: 2; as a context 'a' is followed by b twice."""
    ids = torch.tensor([0, 1, 0, 1, 0])
    lm = NGramLM(2, 2, beta=1.0).fit(ids)
    p_uni = torch.tensor([(3 + 0.5) / (5 + 1), (2 + 0.5) / (5 + 1)], dtype=torch.float64)
    torch.testing.assert_close(lm.probs(torch.zeros(1, 0, dtype=torch.long))[0], p_uni)
    expected = (torch.tensor([0.0, 2.0], dtype=torch.float64) + 1.0 * p_uni) / (2 + 1.0)
    torch.testing.assert_close(lm.probs(torch.tensor([[0]]))[0], expected)


def test_ngram_lm_interface_and_loss():
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(0, 5, (400,), generator=g)
    lm = NGramLM(5, 3).fit(ids)
    x, y = ids[None, :50], ids[None, 1:51]
    logits, loss = lm(x, y)
    assert logits.shape == (1, 50, 5) and loss.dim() == 0
    # loss is the mean of −log p(target) read off the logits
    manual = -logits[0, torch.arange(50), y[0]].mean()
    torch.testing.assert_close(loss, manual)
    # position t uses idx[:, t−1..t]: recompute one position directly
    torch.testing.assert_close(logits[0, 10].exp(), lm.probs(x[:, 9:11])[0])


def test_ngram_beats_unigram_on_structured_text():
    ids = torch.tensor([0, 1, 2, 3] * 100)
    _, l1 = NGramLM(4, 1).fit(ids)(ids[None, :-1], ids[None, 1:])
    _, l2 = NGramLM(4, 2).fit(ids)(ids[None, :-1], ids[None, 1:])
    assert l2 < 0.1 < l1


def test_ngram_bad_arguments():
    with pytest.raises(ValueError, match="beta"):
        NGramLM(5, 2, beta=0)
    with pytest.raises(ValueError, match="n must be"):
        NGramLM(5, 0)
    with pytest.raises(ValueError, match="overflows"):
        NGramLM(5000, 6)
    with pytest.raises(ValueError, match="call fit"):
        NGramLM(5, 2).probs(torch.zeros(1, 1, dtype=torch.long))
    with pytest.raises(ValueError, match=r"\[0, 5\)"):
        NGramLM(5, 2).fit(torch.tensor([0, 1, 7, 2]))
    with pytest.raises(ValueError, match="shape"):
        NGramLM(5, 2).fit(torch.tensor([0, 1, 2, 3]))(torch.zeros(3, dtype=torch.long))


# --------------------------------------------------------------------------- naive Bayes
def test_naive_bayes_matches_sklearn_and_samples():
    sk_nb = pytest.importorskip("sklearn.naive_bayes")
    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, 4, (200, 6), generator=g)
    y = (x[:, 0] + x[:, 1] > 3).long()
    nb = CategoricalNaiveBayes(4).fit(x, y)
    ref = sk_nb.CategoricalNB(alpha=1.0, min_categories=4).fit(x.numpy(), y.numpy())
    torch.testing.assert_close(nb.predict_log_proba(x), torch.tensor(ref.predict_log_proba(x.numpy())))
    samples = nb.sample(torch.ones(50, dtype=torch.long), generator=g)
    assert samples.shape == (50, 6) and samples.min() >= 0 and samples.max() < 4
    with pytest.raises(ValueError, match="feature values"):
        nb.fit(x + 4, y)
    with pytest.raises(ValueError, match="alpha"):
        CategoricalNaiveBayes(4, alpha=-1)


# --------------------------------------------------------------------------- Gaussian mixture
def _blobs(g, n=300):
    centres = torch.tensor([[0.0, 0.0], [4.0, 0.0], [0.0, 4.0]], dtype=torch.float64)
    k = torch.randint(0, 3, (n,), generator=g)
    return centres[k] + (torch.randn(n, 2, generator=g, dtype=torch.float64)
                         * torch.tensor([0.5, 1.0], dtype=torch.float64))


def test_em_never_decreases_log_likelihood():
    g = torch.Generator().manual_seed(0)
    x = _blobs(g)
    gm = GaussianMixture(3)
    history = gm.fit(x, n_iter=50, generator=g)
    assert all(b >= a - 1e-9 for a, b in zip(history, history[1:]))
    assert history[-1] > history[0]


def test_em_matches_sklearn_from_the_same_start():
    mixture = pytest.importorskip("sklearn.mixture")
    g = torch.Generator().manual_seed(1)
    x = _blobs(g)
    gm = GaussianMixture(3, reg_covar=1e-6)
    gm.init_params(x, g)
    m0, c0, w0 = gm.means.clone(), gm.covariances.clone(), gm.weights.clone()
    gm.fit(x, n_iter=30, init=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sklearn warns that tol=0 never "converges"
        ref = mixture.GaussianMixture(3, max_iter=30, tol=0, reg_covar=1e-6, means_init=m0.numpy(),
                                      weights_init=w0.numpy(),
                                      precisions_init=torch.linalg.inv(c0).numpy()).fit(x.numpy())
    torch.testing.assert_close(gm.means, torch.tensor(ref.means_), atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(gm.weights, torch.tensor(ref.weights_), atol=1e-6, rtol=1e-5)
    assert abs(gm.log_prob(x).mean().item() - ref.score(x.numpy())) < 1e-6


def test_gmm_log_prob_matches_torch_distributions():
    g = torch.Generator().manual_seed(2)
    x = _blobs(g, 50)
    gm = GaussianMixture(3)
    gm.fit(x, n_iter=5, generator=g)
    mix = torch.distributions.MixtureSameFamily(
        torch.distributions.Categorical(probs=gm.weights),
        torch.distributions.MultivariateNormal(gm.means, covariance_matrix=gm.covariances))
    torch.testing.assert_close(gm.log_prob(x), mix.log_prob(x))


def test_gmm_sampling_moments():
    gm = GaussianMixture(1)
    gm.means = torch.tensor([[1.0, -2.0]], dtype=torch.float64)
    gm.covariances = torch.tensor([[[2.0, 0.5], [0.5, 1.0]]], dtype=torch.float64)
    gm.weights = torch.ones(1, dtype=torch.float64)
    s = gm.sample(40000, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(s.mean(0), gm.means[0], atol=0.03, rtol=0)
    torch.testing.assert_close(torch.cov(s.T), gm.covariances[0], atol=0.05, rtol=0)


def test_gmm_bad_arguments():
    with pytest.raises(ValueError, match="n_components"):
        GaussianMixture(0)
    with pytest.raises(ValueError, match="no parameters"):
        GaussianMixture(2).log_prob(torch.zeros(3, 2))
    with pytest.raises(ValueError, match="at least"):
        GaussianMixture(5).fit(torch.zeros(3, 2))
    with pytest.raises(ValueError, match="shape"):
        GaussianMixture(2).fit(torch.zeros(3))


# --------------------------------------------------------------------------- HMM
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_forward_equals_brute_force(seed):
    g = torch.Generator().manual_seed(seed)
    hmm = HMM.random(3, 4, g)
    obs = torch.randint(0, 4, (6,), generator=g)
    assert abs(hmm.log_likelihood(obs) - hmm.brute_force_log_likelihood(obs)) < 1e-10


def test_forward_backward_agree_and_probabilities_sum_to_one():
    import itertools
    g = torch.Generator().manual_seed(3)
    hmm = HMM.random(2, 3, g)
    obs = torch.tensor([0, 2, 1, 1])
    la, lb = hmm.forward_log(obs), hmm.backward_log(obs)
    ll = hmm.log_likelihood(obs)
    for t in range(4):  # Σ_i α_t(i) β_t(i) = p(o) at every t
        assert abs(torch.logsumexp(la[t] + lb[t], 0).item() - ll) < 1e-10
    total = sum(math.exp(hmm.log_likelihood(torch.tensor(o))) for o in itertools.product(range(3), repeat=3))
    assert abs(total - 1.0) < 1e-10


def test_baum_welch_monotone_and_sampling():
    g = torch.Generator().manual_seed(4)
    truth = HMM(torch.tensor([0.5, 0.5]), torch.tensor([[0.9, 0.1], [0.2, 0.8]]),
                torch.tensor([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]]))
    states, obs = truth.sample(400, generator=g)
    assert states.shape == obs.shape == (400,)
    model = HMM.random(2, 3, g)
    history = model.baum_welch(obs, n_iter=80)
    assert all(b >= a - 1e-8 for a, b in zip(history, history[1:]))
    assert model.log_likelihood(obs) >= truth.log_likelihood(obs) - 5.0


def test_hmm_bad_arguments():
    with pytest.raises(ValueError, match="rows summing to 1"):
        HMM(torch.tensor([0.5, 0.6]), torch.eye(2), torch.eye(2))
    with pytest.raises(ValueError, match="shapes"):
        HMM(torch.tensor([1.0]), torch.eye(2), torch.eye(2))
    hmm = HMM.random(2, 2)
    with pytest.raises(ValueError, match="symbol ids"):
        hmm.log_likelihood(torch.tensor([0, 5]))
    with pytest.raises(ValueError, match="too many"):
        HMM.random(4, 2).brute_force_log_likelihood(torch.zeros(20, dtype=torch.long))


def test_sampler_with_ngram_is_seeded_and_validates():
    from cgen_lessons.decoding import sample

    lm = NGramLM(4, 2).fit(torch.tensor([0, 1, 2, 3] * 20))
    a = sample(lm, torch.tensor([[0]]), 12, generator=torch.Generator().manual_seed(0))
    b = sample(lm, torch.tensor([[0]]), 12, generator=torch.Generator().manual_seed(0))
    assert a.shape == (1, 13) and torch.equal(a, b)
    cold = sample(lm, torch.tensor([[0]]), 8, generator=torch.Generator().manual_seed(1), temperature=0.05)
    assert cold[0].tolist() == [0, 1, 2, 3, 0, 1, 2, 3, 0]  # near-greedy follows the cycle
    with pytest.raises(ValueError, match="temperature"):
        sample(lm, torch.tensor([[0]]), 3, temperature=0)
    with pytest.raises(ValueError, match="max_new_tokens"):
        sample(lm, torch.tensor([[0]]), 0)
    with pytest.raises(ValueError, match="idx"):
        sample(lm, torch.tensor([0]), 3)


def test_ngram_target_only_nll_equals_the_full_distribution_path():
    """NGramLM.nll (targets only) = stream_nll over the full (B, T, V) logits, for every order
    and β, including scoring a fitted 5-gram as a lower order."""
    from cgen_lessons.metrics import stream_nll

    g = torch.Generator().manual_seed(0)
    ids = torch.randint(0, 6, (3000,), generator=g)
    big = NGramLM(6, 5).fit(ids[:2000])
    for n in (1, 2, 3, 5):
        for beta in (0.5, 7.0):
            full = stream_nll(NGramLM(6, n, beta).fit(ids[:2000]), ids[2000:], rows=1)
            assert big.nll(ids[2000:], beta=beta, n=n) == pytest.approx(full, rel=1e-12)
    with pytest.raises(ValueError, match="fitted order"):
        big.nll(ids, n=6)
    with pytest.raises(ValueError, match="beta"):
        big.nll(ids, beta=0.0)
