import pytest
import torch

from cgen_lessons.recipes import GPT_SETTINGS, RNN_SETTINGS, english_splits, train_gpt, train_recurrent_lm
from cgen_lessons.rnn import RecurrentLM
from cgen_lessons.transformer import GPT


@pytest.fixture(scope="module")
def splits():
    return english_splits()


def test_english_splits_are_80_10_10_in_order(splits):
    tok, train, val, test = splits
    n = len(train) + len(val) + len(test)
    assert abs(len(train) / n - 0.8) < 1e-3 and abs(len(val) / n - 0.1) < 1e-3
    assert tok.decode(train[:3]) + "" == tok.decode(train[:3])


def test_recipes_build_the_chapter_models_and_are_repeatable(splits):
    tok, train, _, _ = splits
    a, hist, seconds = train_recurrent_lm("gru", train, tok.vocab_size, steps=3, progress=False)
    b, _, _ = train_recurrent_lm("gru", train, tok.vocab_size, steps=3, progress=False)
    assert isinstance(a, RecurrentLM) and a.cells[0].hidden_size == RNN_SETTINGS["d_hidden"]
    assert len(hist.train["loss"]) == 3 and seconds > 0
    for p, q in zip(a.parameters(), b.parameters()):
        torch.testing.assert_close(p, q)
    g, _, _ = train_gpt(train, tok.vocab_size, steps=2, progress=False, d_model=32)
    assert isinstance(g, GPT) and g.tok_emb.weight.shape[1] == 32 and g.block_size == GPT_SETTINGS["block"]


def test_digit_recipes_are_repeatable_and_check_their_inputs():
    from cgen_lessons import data, recipes
    from cgen_lessons.diffusion import Diffusion

    digits = data.load_digits()
    scorer = recipes.DigitScorer(digits, steps=30, progress=False)
    assert 0.5 < scorer.test_accuracy <= 1.0  # 30 steps already separate most digits
    assert scorer.fd(digits.x_train) < scorer.fd(torch.rand(500, 1, 8, 8, generator=torch.Generator().manual_seed(0)))
    assert scorer.predict(digits.x_test[:5].flatten(1)).shape == (5,)
    with pytest.raises(ValueError, match="8×8"):
        scorer.fd(torch.rand(10, 1, 7, 7))
    x, y = 2 * digits.x_train[:64] - 1, digits.y_train[:64]
    a, hist = recipes.train_digit_diffusion(x, y, steps=3, width=8, progress=False)
    b, _ = recipes.train_digit_diffusion(x, y, steps=3, width=8, progress=False)
    assert isinstance(a, Diffusion) and a.n_classes == 10 and a.T == recipes.DIFFUSION_SETTINGS["T"]
    assert len(hist.train["loss"]) == 3
    for p, q in zip(a.parameters(), b.parameters()):
        torch.testing.assert_close(p, q)
    with pytest.raises(ValueError, match="unknown settings"):
        recipes.train_digit_diffusion(x, y, steps=3, widht=8)
    vae, _ = recipes.train_digit_vae(digits.x_train[:64], steps=2, progress=False)
    assert vae.likelihood == "gaussian" and not vae.training
    gan, _ = recipes.train_dcgan("lsgan", digits.x_train[:64], steps=2, progress=False)
    assert gan.sample(3, torch.Generator().manual_seed(0)).shape == (3, 1, 8, 8)
    toy, _ = recipes.train_toy_diffusion(torch.randn(100, 2), steps=2, T=10, progress=False)
    assert toy.sample(4, (2,), generator=torch.Generator().manual_seed(0)).shape == (4, 2)
