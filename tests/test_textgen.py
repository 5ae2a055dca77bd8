"""Chapter 08: Gumbel tricks, gradient estimators, the synthetic oracle, SeqGAN rollouts, the sequence VAE."""

import itertools
import math

import pytest
import torch
import torch.nn.functional as F
from scipy import stats

from cgen_lessons import data
from cgen_lessons.rnn import RecurrentLM
from cgen_lessons.seqvae import SeqVAE, active_units, importance_nll, interpolate, kl_weight, make_seqvae_step
from cgen_lessons.textgan import (
    SeqDiscriminator,
    TextGAN,
    exact_gradient,
    gumbel_gradients,
    gumbel_max_sample,
    gumbel_softmax,
    make_gumbel_gan_step,
    make_oracle,
    make_seqgan_step,
    reinforce_gradients,
    rollout_rewards,
    sample_sequences,
    sequence_nll,
    soft_sample,
)

LOGITS = torch.tensor([1.0, -0.5, 0.3, 2.0, -1.0], dtype=torch.float64)
C = torch.tensor([0.0, 1.0, 2.0, 3.0, 4.0], dtype=torch.float64)


def f_nonlinear(y):
    """f(x) = (c·e_x − 2.5)²: nonlinear in the one-hot, so relaxations are biased."""
    return (y @ C - 2.5) ** 2


def test_gumbel_max_samples_the_categorical_and_the_chi2_test_has_power():
    g = torch.Generator().manual_seed(0)
    n = 60_000
    probs = LOGITS.softmax(-1)
    draws = gumbel_max_sample(LOGITS.expand(n, -1), g)
    counts = torch.bincount(draws, minlength=5).double()
    assert stats.chisquare(counts.numpy(), (probs * n).numpy()).pvalue > 0.01
    # a plausible but wrong sampler (Gaussian instead of Gumbel noise) is rejected by the same test
    wrong = (LOGITS.expand(n, -1) + torch.randn(n, 5, generator=g, dtype=torch.float64)).argmax(-1)
    assert stats.chisquare(torch.bincount(wrong, minlength=5).double().numpy(), (probs * n).numpy()).pvalue < 1e-6


def test_gumbel_softmax_matches_torch_for_the_same_noise():
    for hard in (False, True):
        logits = torch.randn(4, 7, generator=torch.Generator().manual_seed(1))
        torch.manual_seed(3)
        ours = gumbel_softmax(logits, 0.5, hard=hard)
        torch.manual_seed(3)
        ref = F.gumbel_softmax(logits, tau=0.5, hard=hard)
        torch.testing.assert_close(ours, ref)


def test_exact_gradient_matches_the_closed_form():
    p = LOGITS.softmax(-1)
    fx = f_nonlinear(torch.eye(5, dtype=torch.float64))
    closed = (p * fx) @ (torch.eye(5, dtype=torch.float64) - p)  # Σ_x p_x f_x (e_x − p)
    torch.testing.assert_close(exact_gradient(LOGITS, f_nonlinear), closed)


@pytest.mark.parametrize("baseline", [False, True])
def test_reinforce_is_unbiased_within_its_standard_error(baseline):
    est = reinforce_gradients(LOGITS, f_nonlinear, 40_000, baseline=baseline,
                              generator=torch.Generator().manual_seed(0))
    exact = exact_gradient(LOGITS, f_nonlinear)
    se = est.std(0) / math.sqrt(len(est))
    assert ((est.mean(0) - exact).abs() < 4 * se + 1e-12).all()


def test_baseline_reduces_the_variance():
    g = torch.Generator().manual_seed(1)
    plain = reinforce_gradients(LOGITS, f_nonlinear, 20_000, generator=g).var(0).sum()
    based = reinforce_gradients(LOGITS, f_nonlinear, 20_000, baseline=True, generator=g).var(0).sum()
    assert based < 0.7 * plain


def test_relaxed_estimators_are_biased_and_the_bias_shrinks_with_the_temperature():
    exact = exact_gradient(LOGITS, f_nonlinear)
    g = torch.Generator().manual_seed(2)
    bias = {}
    for tau in (1.0, 0.1):
        est = gumbel_gradients(LOGITS, f_nonlinear, 40_000, tau, generator=g)
        se = est.std(0) / math.sqrt(len(est))
        bias[tau] = (est.mean(0) - exact).norm().item()
        if tau == 1.0:
            assert ((est.mean(0) - exact).abs() > 5 * se).any()  # a real bias, not noise
    assert bias[0.1] < 0.5 * bias[1.0]
    st = gumbel_gradients(LOGITS, f_nonlinear, 40_000, 1.0, hard=True, generator=g)
    assert ((st.mean(0) - exact).abs() > 5 * st.std(0) / math.sqrt(len(st))).any()


def test_oracle_nll_of_its_own_samples_is_its_entropy_rate():
    V, T = 3, 4
    oracle = make_oracle(V, d_hidden=4, d_embed=4, seed=0)
    seqs = torch.tensor(list(itertools.product(range(V), repeat=T)))  # all 81 sequences
    with torch.no_grad():
        log_p = -sequence_nll(oracle, seqs) * T  # log p(sequence)
    assert abs(log_p.exp().sum().item() - 1.0) < 1e-5
    entropy_rate = -(log_p.exp() * log_p).sum().item() / T
    with torch.no_grad():
        nll = sequence_nll(oracle, sample_sequences(oracle, 20_000, T, generator=torch.Generator().manual_seed(0)))
    assert abs(nll.mean().item() - entropy_rate) < 4 * nll.std().item() / math.sqrt(len(nll))


def test_rollouts_return_one_reward_per_prefix_from_the_generator_completions():
    V, T, B = 6, 5, 3
    G = RecurrentLM(V, "lstm", 8, 8)
    with torch.no_grad():  # a generator that always continues with token 2
        G.head.weight.zero_()
        G.head.bias.copy_(torch.tensor([0.0, 0.0, 50.0, 0.0, 0.0, 0.0]))
    D = SeqDiscriminator(V, widths=(2,)).eval()
    seqs = torch.randint(V, (B, T), generator=torch.Generator().manual_seed(0))
    Q = rollout_rewards(G, D, seqs, n_rollouts=4)
    assert Q.shape == (B, T) and ((Q > 0) & (Q < 1)).all()
    with torch.no_grad():
        for t in range(1, T):
            completed = torch.cat([seqs[:, :t], torch.full((B, T - t), 2)], 1)
            torch.testing.assert_close(Q[:, t - 1], torch.sigmoid(D(completed)))
        torch.testing.assert_close(Q[:, -1], torch.sigmoid(D(seqs)))


def test_sampling_is_not_differentiable_but_relaxed_sampling_is():
    G = RecurrentLM(5, "lstm", 8, 8)
    assert sample_sequences(G, 4, 6).grad_fn is None
    y = soft_sample(G, 4, 6, tau=0.7, hard=True)
    assert torch.allclose(y.sum(-1), torch.ones(4, 6)) and set(y.detach().unique().tolist()) <= {0.0, 1.0}
    SeqDiscriminator(5)(y).sum().backward()
    assert G.head.weight.grad.abs().sum() > 0


def test_gan_steps_run_and_update_both_networks():
    V, T = 6, 5
    real = torch.randint(V, (8, T), generator=torch.Generator().manual_seed(0))
    for step in (make_seqgan_step(T, n_rollouts=2), make_gumbel_gan_step(T, tau=1.0)):
        torch.manual_seed(0)
        model = TextGAN(RecurrentLM(V, "lstm", 8, 8), SeqDiscriminator(V))
        before = [p.detach().clone() for p in model.parameters()]
        opts = {"G": torch.optim.Adam(model.G.parameters(), 1e-2), "D": torch.optim.Adam(model.D.parameters(), 1e-2)}
        values = step(model, real, opts)
        assert all(math.isfinite(v) for v in values.values())
        changed = [not torch.equal(a, b) for a, b in zip(before, model.parameters())]
        n_g = len(list(model.G.parameters()))
        assert any(changed[:n_g]) and any(changed[n_g:])


def test_kl_schedules():
    assert kl_weight(7, "constant", 100) == 1.0
    assert kl_weight(25, "linear", 100, ramp=0.5) == pytest.approx(0.5) and kl_weight(60, "linear", 100) == 1.0
    cyc = [kl_weight(s, "cyclical", 100, n_cycles=4, ramp=0.5) for s in range(1, 101)]
    assert cyc[:25] == cyc[25:50] == cyc[75:]  # periodic
    assert cyc[0] == pytest.approx(1 / 12.5) and cyc[12] == 1.0 and cyc[24] == 1.0 and cyc[25] < 0.1


def _words_batch(words, max_len=8):
    tok = data.CharTokenizer([data.PAD, data.BOS, data.EOS] + list("abcdefghijklmnopqrstuvwxyz"))
    return tok, data.encode_pairs([(w, w) for w in words], tok, max_len)


def test_seqvae_encoder_reads_up_to_the_end_of_each_sequence_not_the_padding():
    tok, short = _words_batch(["cat", "horse"], max_len=6)
    _, long = _words_batch(["cat", "horse"], max_len=12)
    torch.manual_seed(0)
    model = SeqVAE(tok.vocab_size, tok.stoi[data.PAD]).eval()
    torch.testing.assert_close(model.encode(short[0])[0], model.encode(long[0])[0])


def test_importance_nll_tightens_the_elbo():
    tok, batch = _words_batch(["cat", "horse", "sword", "king", "queen", "night"])
    torch.manual_seed(0)
    model = SeqVAE(tok.vocab_size, tok.stoi[data.PAD], d_hidden=16, z_dim=4)
    with torch.no_grad():
        model.to_logvar.bias.fill_(1.0)  # a wide q, far from the posterior: a visible gap
        model.eval()
        neg_elbo = torch.stack([(lambda t: t["rec"] + t["kl"].sum(1))(model.terms(batch)) for _ in range(300)]).mean(0)
    nll_k = importance_nll(model, batch, k=300, generator=torch.Generator().manual_seed(0))
    assert (nll_k < neg_elbo - 0.01).all()


def test_seqvae_trains_with_the_shared_loop_and_free_bits_keep_units_active():
    from cgen_lessons.train import fit

    tok, batch = _words_batch(["cat", "horse", "sword", "king", "queen", "night", "blood", "love"])
    torch.manual_seed(0)
    model = SeqVAE(tok.vocab_size, tok.stoi[data.PAD], d_hidden=32, z_dim=4)
    h = fit(model, torch.optim.Adam(model.parameters(), 1e-2), lambda g: batch, steps=60,
            step_fn=make_seqvae_step("constant", 60, free_bits=0.5), progress=False)
    assert h.train["rec"][-1] < h.train["rec"][0]
    assert active_units(model.eval(), batch[0]) >= 1
    out = interpolate(model, batch[0][0], batch[0][1], 4, tok.stoi[data.BOS], tok.stoi[data.EOS], 8)
    assert len(out) == 4


def test_words_and_splits():
    words = data.load_words("shakespeare", 3, 10)
    assert words == sorted(set(words)) and all(3 <= len(w) <= 10 and w.isalpha() and w.islower() for w in words)
    a = data.split_items(words, seed=0)
    assert a == data.split_items(words, seed=0) and sum(map(len, a)) == len(words)
    assert not set(a[0]) & set(a[2])
    with pytest.raises(ValueError, match="sum to 1"):
        data.split_items(words, (0.5, 0.5, 0.5))
    with pytest.raises(ValueError, match="must not exceed"):
        data.load_words("shakespeare", 5, 3)


def test_random_rows_draws_the_same_rows_of_every_tensor():
    x, y = torch.arange(10), torch.arange(10) * 100
    batch_fn = data.random_rows(x, y, batch_size=6)
    bx, by = batch_fn(torch.Generator().manual_seed(0))
    assert bx.shape == (6,) and torch.equal(by, bx * 100)
    again = data.random_rows(x, batch_size=6)(torch.Generator().manual_seed(0))
    assert torch.equal(again, bx)  # one tensor in, one tensor out; same generator, same rows
    with pytest.raises(ValueError, match="same number of rows"):
        data.random_rows(x, y[:5], batch_size=2)
    with pytest.raises(ValueError, match="batch_size"):
        data.random_rows(x, batch_size=0)


def test_bad_arguments_raise_value_errors():
    G = RecurrentLM(5, "lstm", 8, 8)
    for bad in (0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="tau"):
            gumbel_softmax(torch.zeros(3), bad)
    with pytest.raises(ValueError, match="non-empty"):
        sequence_nll(G, torch.zeros(2, 0, dtype=torch.long))
    with pytest.raises(ValueError, match=r"\(B, T, 5\)"):
        SeqDiscriminator(5)(torch.zeros(2, 6, 4))
    with pytest.raises(ValueError, match="at least 4 tokens"):
        SeqDiscriminator(5)(torch.zeros(2, 3, dtype=torch.long))
    with pytest.raises(ValueError, match="logits must have 1 dimensions"):
        reinforce_gradients(torch.zeros(2, 3), f_nonlinear, 10)
    with pytest.raises(ValueError, match="schedule"):
        kl_weight(1, "sigmoid", 10)
    with pytest.raises(ValueError, match="free_bits"):
        make_seqvae_step(free_bits=-0.1)
    tok, batch = _words_batch(["cat"])
    model = SeqVAE(tok.vocab_size, tok.stoi[data.PAD])
    with pytest.raises(ValueError, match="empty sequence"):
        model.encode(torch.zeros(1, 5, dtype=torch.long))
    with pytest.raises(ValueError, match="z must have shape"):
        model.initial_state(torch.zeros(1, 3))
    with pytest.raises(ValueError, match="temperature"):
        model.decode(torch.zeros(1, 16), 1, 2, 5, greedy=False, temperature=0.0)
