"""Bad inputs at the public boundary raise a ValueError that names the problem, instead of a
silent wrong result or an obscure error from deep inside torch (issue 13's probe classes)."""

import math

import pytest
import torch

from cgen_lessons.classic import NGramLM
from cgen_lessons.decoding import apply_temperature, generate, top_k_filter, top_p_filter
from cgen_lessons.metrics import frechet_distance
from cgen_lessons.rnn import RecurrentLM
from cgen_lessons.transformer import GPT
from cgen_lessons.vae import VAE

V = 7


def _models():
    torch.manual_seed(0)
    return [GPT(V, 16, 16, 2, 1), RecurrentLM(V, "gru", 8, 8), NGramLM(V, 3).fit(torch.randint(0, V, (200,)))]


@pytest.mark.parametrize("model", _models(), ids=["gpt", "gru", "ngram"])
def test_language_models_reject_bad_token_ids(model):
    good = torch.randint(0, V, (2, 5))
    assert model(good)[0].shape == (2, 5, V)
    with pytest.raises(ValueError, match="outside the vocabulary"):
        model(torch.tensor([[0, V]]))  # torch would raise IndexError (or the n-gram read garbage)
    with pytest.raises(ValueError, match="outside the vocabulary"):
        model(torch.tensor([[-1, 0]]))
    with pytest.raises(ValueError, match="integer token ids"):
        model(good.float())
    with pytest.raises(ValueError, match="outside the vocabulary"):
        generate(model, torch.tensor([[V + 3]]), 2)
    with pytest.raises(ValueError, match="integer token ids"):
        generate(model, good.float(), 2)


def test_ngram_fit_and_nll_reject_bad_streams():
    with pytest.raises(ValueError, match="outside the vocabulary"):
        NGramLM(V, 2).fit(torch.tensor([0, 1, 9, 2]))
    with pytest.raises(ValueError, match="integer token ids"):
        NGramLM(V, 2).fit(torch.tensor([0.0, 1.0, 2.0, 3.0]))
    lm = NGramLM(V, 2).fit(torch.randint(0, V, (50,)))
    with pytest.raises(ValueError, match="outside the vocabulary"):
        lm.nll(torch.tensor([0, 1, 99]))


def test_filters_reject_nan_and_integer_logits():
    nan_logits = torch.tensor([[1.0, float("nan"), 0.0]])
    for f in (lambda z: top_k_filter(z, 2), lambda z: top_p_filter(z, 0.9), lambda z: apply_temperature(z, 1.0)):
        with pytest.raises(ValueError, match="NaN"):
            f(nan_logits)
        with pytest.raises(ValueError, match="floating point"):
            f(torch.tensor([[3, 1, 2]]))
    assert torch.isinf(top_k_filter(torch.tensor([[3.0, 1.0, 2.0]]), 2)).tolist() == [[False, True, False]]


def test_greedy_decoding_on_nan_logits_is_an_error_not_token_0():
    model = GPT(V, 16, 16, 2, 1)
    with torch.no_grad():
        model.head.weight.fill_(float("nan"))  # tied to the embedding: every logit is NaN
    with pytest.raises(ValueError, match="NaN"):
        generate(model, torch.zeros(1, 1, dtype=torch.long), 3, greedy=True)


def test_bernoulli_vae_needs_pixels_in_unit_interval():
    vae = VAE(x_dim=4, z_dim=2, hidden=8, likelihood="bernoulli")
    assert math.isfinite(vae.loss(torch.rand(3, 4)).item())
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        vae.loss(torch.rand(3, 4) * 16)  # raw 0–16 digit values
    with pytest.raises(ValueError, match="NaN"):
        vae.loss(torch.full((3, 4), float("nan")))
    with pytest.raises(ValueError, match="beta"):
        vae.loss(torch.rand(3, 4), beta=float("nan"))
    gaussian = VAE(x_dim=4, z_dim=2, hidden=8, likelihood="gaussian")
    assert math.isfinite(gaussian.loss(torch.randn(3, 4) * 5).item())  # any real values are fine here


def test_frechet_distance_rejects_nan_features():
    a = torch.randn(20, 3)
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    with pytest.raises(ValueError, match="NaN"):
        frechet_distance(a, torch.full((20, 3), float("nan")))


# ---- issue 23's probe classes: silent wrong results and obscure errors ----

def test_diversity_metrics_on_tensors_compare_token_ids():
    from cgen_lessons.metrics import distinct_n, repetition_rate

    assert distinct_n([torch.tensor([1, 1, 1, 1])], 1) == 0.25  # tensor elements hash by identity: was 1.0
    assert distinct_n(torch.tensor([[1, 1, 1, 1], [1, 2, 1, 2]]), 1) == 2 / 8  # a (B, T) batch from generate
    assert repetition_rate(torch.tensor([1, 2, 1, 2, 1, 2]), 2) == repetition_rate([1, 2, 1, 2, 1, 2], 2) == 0.6
    with pytest.raises(ValueError, match="single sequence"):
        distinct_n("abcabc", 1)


def test_attention_rejects_a_float_mask():
    from cgen_lessons.transformer import attention

    q = torch.randn(1, 4, 8)
    with pytest.raises(ValueError, match="boolean"):
        attention(q, q, q, mask=torch.ones(4, 4).tril(), fast=True)  # would be *added* to the scores


def test_hmm_baum_welch_needs_two_observations():
    from cgen_lessons.classic import HMM

    hmm = HMM.random(2, 3, generator=torch.Generator().manual_seed(0))
    with pytest.raises(ValueError, match="at least 2"):
        hmm.baum_welch([1], n_iter=1)  # A would become 0/0 = NaN


def test_small_helpers_handle_edge_cases():
    import collections

    from cgen_lessons.metrics import perplexity, stream_nll
    from cgen_lessons.train import move_to
    from cgen_lessons.utils import get_device
    from cgen_lessons.viz import image_grid

    Batch = collections.namedtuple("Batch", "x y")
    moved = move_to(Batch(torch.zeros(1), torch.ones(1)), torch.device("cpu"))
    assert isinstance(moved, Batch) and moved.y.item() == 1.0
    assert perplexity(1000.0) == math.inf  # was OverflowError
    assert get_device(torch.device("cpu")) == torch.device("cpu")
    with pytest.raises(ValueError, match="empty"):
        image_grid(torch.zeros(0, 1, 8, 8))
    with pytest.raises(ValueError, match="rows"):
        stream_nll(_models()[0], torch.randint(0, V, (100,)), rows=0)


def test_decoding_edge_cases():
    extreme = torch.tensor([[100.0, 0.0, -100.0]])
    assert torch.isfinite(top_p_filter(extreme, 1.0)).all()  # p = 1 keeps every token (rounding dropped two)
    with pytest.raises(ValueError, match="overflows"):
        apply_temperature(torch.randn(2, 5), 1e-300)  # passed validation, then crashed in multinomial
    with pytest.raises(ValueError, match="overflows"):
        generate(_models()[0], torch.tensor([[1, 2]]), 3, temperature=1e-300)


@pytest.mark.parametrize("kwargs", [dict(eta=float("nan")), dict(eta=-0.5), dict(guidance=float("nan")),
                                    dict(clip_x0=-1.0), dict(clip_x0=float("inf"))],
                         ids=["eta-nan", "eta-negative", "guidance-nan", "clip-negative", "clip-inf"])
def test_diffusion_sampler_rejects_bad_settings(kwargs):
    from cgen_lessons import diffusion as D

    model = D.Diffusion(D.MLPDenoiser(2, 16, 1, n_classes=3), D.NoiseSchedule(10), p_uncond=0.5)
    assert torch.isfinite(model.sample(4, (2,), y=torch.tensor([0, 1, 2, 0]))).all()
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        model.sample(4, (2,), y=torch.tensor([0, 1, 2, 0]), **kwargs)  # returned NaN or constant samples


def test_naive_bayes_rejects_float_and_out_of_range_features():
    from cgen_lessons.classic import CategoricalNaiveBayes

    x, y = torch.randint(0, 3, (20, 4)), torch.randint(0, 2, (20,))
    nb = CategoricalNaiveBayes(3).fit(x, y)
    with pytest.raises(ValueError, match="integer feature values"):
        CategoricalNaiveBayes(3).fit(torch.rand(20, 4), y)  # was cast to all-zero features silently
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        nb.predict(torch.full((2, 4), 7))  # was an IndexError deep inside
