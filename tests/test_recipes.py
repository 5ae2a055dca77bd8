import math

import pytest
import torch

from cgen_lessons import data, recipes
from cgen_lessons.recipes import GPT_SETTINGS, RNN_SETTINGS, char_lm_splits, train_gpt, train_recurrent_lm
from cgen_lessons.rnn import RecurrentLM
from cgen_lessons.train import decay_groups, warmup_cosine_factor
from cgen_lessons.transformer import GPT


@pytest.fixture(scope="module")
def splits():
    return char_lm_splits()


def test_char_lm_splits_are_the_play_splits(splits):
    tok, train, val, test = splits
    texts = data.shakespeare_splits()
    assert tok.vocab_size == 75
    for ids, name in ((train, "train"), (val, "val"), (test, "test")):
        assert len(ids) == len(texts[name])
        assert tok.decode(ids[:500]) == texts[name][:500] and tok.decode(ids[-500:]) == texts[name][-500:]
    assert 0.035 < len(val) / (len(train) + len(val) + len(test)) < 0.045


def test_recipe_schedule_follows_warmup_then_cosine(splits):
    tok, train, _, _ = splits
    steps, lr = 20, GPT_SETTINGS.lr
    _, hist, _ = train_gpt(train, tok.vocab_size, steps=steps, progress=False, d_model=16, n_heads=2, block=8)
    W = round(GPT_SETTINGS.warmup * steps)
    assert W == 2
    used = [lr * warmup_cosine_factor(s, W, steps, GPT_SETTINGS.min_lr_ratio) for s in range(steps)]
    assert used[0] == pytest.approx(lr / 2) and used[1] == pytest.approx(lr)
    assert used[2] == pytest.approx(lr) and used[-1] > lr * GPT_SETTINGS.min_lr_ratio
    mid = W + (steps - W) // 2  # half-way through the decay: (1 + r) / 2 of the peak
    assert used[mid] == pytest.approx(lr * (1 + GPT_SETTINGS.min_lr_ratio) / 2)
    assert hist.train["lr"] == pytest.approx(used)  # what fit logged is what the formula says


def test_gpt_recipe_decays_matrices_only():
    model = GPT(20, 8, 16, 2, 3)
    decay, no_decay = decay_groups(model, 0.1)
    assert decay["weight_decay"] == 0.1 and no_decay["weight_decay"] == 0.0
    assert all(p.dim() == 2 for p in decay["params"]) and len(decay["params"]) == 3 * 4  # 4 matrices per block
    assert all(p.dim() == 1 for p in no_decay["params"] if p is not model.tok_emb.weight and p is not model.pos_emb)
    ids = {id(p) for p in no_decay["params"]}
    assert id(model.tok_emb.weight) in ids and id(model.pos_emb) in ids  # embeddings (tied read-out) not decayed
    assert len(decay["params"]) + len(no_decay["params"]) == len(list(model.parameters()))


def test_gpt_residual_projections_are_scaled_by_depth():
    for L in (2, 8):
        torch.manual_seed(0)
        model = GPT(50, 16, 256, 4, L)
        std_out = torch.cat([b.attn.out_proj.weight.flatten() for b in model.blocks]).std().item()
        std_in = torch.cat([b.mlp[0].weight.flatten() for b in model.blocks]).std().item()
        assert std_out == pytest.approx(0.02 / math.sqrt(2 * L), rel=0.05)
        assert std_in == pytest.approx(0.02, rel=0.05)


def test_recipes_build_the_chapter_models_and_are_repeatable(splits):
    tok, train, _, _ = splits
    a, hist, seconds = train_recurrent_lm("gru", train, tok.vocab_size, steps=3, progress=False)
    b, _, _ = train_recurrent_lm("gru", train, tok.vocab_size, steps=3, progress=False)
    assert isinstance(a, RecurrentLM) and a.cells[0].hidden_size == RNN_SETTINGS.d_hidden
    assert len(hist.train["loss"]) == 3 and seconds > 0
    for p, q in zip(a.parameters(), b.parameters()):
        torch.testing.assert_close(p, q)
    g, _, _ = train_gpt(train, tok.vocab_size, steps=2, progress=False, d_model=32)
    assert isinstance(g, GPT) and g.tok_emb.weight.shape[1] == 32 and g.block_size == GPT_SETTINGS.block


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
    assert isinstance(a, Diffusion) and a.n_classes == 10 and a.T == recipes.DIFFUSION_SETTINGS.T
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


def test_fd_seed_stats_and_report():
    results = {"seeds": [0, 1, 2],
               "runs": [{"model": "A", "seed": s, "fd": v} for s, v in zip([0, 1, 2], [3.0, 5.0, 4.0])]
               + [{"model": "B", "seed": 0, "fd": 1.0}], "sampling_noise": {"A": [1.0, 1.0, 2.0, 2.0, 1.5]}}
    st = recipes.fd_seed_stats(results)
    assert (st["A"]["fds"] == [3.0, 5.0, 4.0] and st["A"]["mean"] == pytest.approx(4.0)
            and st["A"]["sd"] == pytest.approx(1.0))
    assert (st["A"]["min"], st["A"]["max"]) == (3.0, 5.0) and st["B"]["sd"] == 0.0
    report = recipes.fd_seed_report(results)
    assert "4.00 ±  1.00" in report and "—" in report  # B has no sampling-noise measurement
    with pytest.raises(ValueError, match="no runs"):
        recipes.fd_seed_stats({"runs": []})
