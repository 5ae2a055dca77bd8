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
