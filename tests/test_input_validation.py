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
    with pytest.raises(ValueError, match="NaN or infinite"):
        frechet_distance(a, torch.full((20, 3), float("nan")))
