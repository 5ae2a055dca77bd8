"""Data-parallel training (chapter 11): real 2-process gloo runs under torchrun, and the pieces of fit
that every run uses (sharding, accumulation, mixed precision, memory arithmetic)."""

import pytest
import torch

from cgen_lessons import distributed, recipes, train
from cgen_lessons.distributed import World, shard, training_memory
from cgen_lessons.train import fit


@pytest.fixture(scope="module")
def char_data():
    tok, train_ids, _, _ = recipes.char_lm_splits()
    return tok.vocab_size, train_ids


def _load(path):
    return torch.load(path, weights_only=True)


def test_ddp_step_equals_the_single_process_step_on_the_whole_batch(tmp_path, char_data):
    vocab, train_ids = char_data
    distributed.launch(["train", "--steps", "1", "--save", str(tmp_path / "ddp.pt")], nproc=2, timeout_s=120)
    ddp = _load(tmp_path / "ddp.pt")
    model, _, _ = recipes.train_gpt(train_ids, vocab, steps=1, progress=False)  # one process, same call
    for name, p in model.named_parameters():
        torch.testing.assert_close(ddp["grads"][name], p.grad, rtol=1e-4, atol=1e-7)
    for name, w in model.state_dict().items():  # Adam's first step is lr·sign(g): tiny g magnify rounding
        torch.testing.assert_close(ddp["weights"][name], w, rtol=0, atol=1e-4)


def test_two_process_resume_after_a_crash_equals_the_uninterrupted_run(tmp_path):
    common = ["train", "--steps", "12", "--batch", "8"]
    distributed.launch(common + ["--save", str(tmp_path / "a.pt")], nproc=2, timeout_s=120)
    ckpt = str(tmp_path / "run.pt")
    with pytest.raises(RuntimeError, match="torchrun failed"):  # rank 1 dies during step 10
        distributed.launch(common + ["--checkpoint", ckpt, "--checkpoint-every", "4", "--crash-at", "10"],
                           nproc=2, timeout_s=120)
    state = train.load_checkpoint(ckpt)
    assert state["step"] == 8 and len(state["rank_rng"]) == 2
    resumed = distributed.launch(common + ["--checkpoint", ckpt, "--resume", "--save", str(tmp_path / "c.pt")],
                                 nproc=2, timeout_s=120)
    assert resumed["first_step"] == 1 and len(resumed["loss"]) == 12  # the history came back with the weights
    a, c = _load(tmp_path / "a.pt")["weights"], _load(tmp_path / "c.pt")["weights"]
    assert all(torch.equal(a[k], c[k]) for k in a)


def test_all_reduce_sums_over_ranks():
    result = distributed.launch(["allreduce-sum"], nproc=2, timeout_s=60)
    assert result["result"] == [[3.0] * 3, [3.0] * 3]


def test_launch_failure_says_what_failed():
    with pytest.raises(RuntimeError, match="invalid choice"):
        distributed.launch(["no-such-program"], nproc=1, timeout_s=60)
    with pytest.raises(ValueError, match="nproc"):
        distributed.launch(["train"], nproc=0)


def test_shards_are_equal_disjoint_and_cover_the_batch():
    x = torch.arange(12).reshape(6, 2)
    y = torch.arange(6)
    parts = [shard((x, y), r, 3) for r in range(3)]
    assert torch.equal(torch.cat([p[0] for p in parts]), x) and torch.equal(torch.cat([p[1] for p in parts]), y)
    assert all(len(p[0]) == 2 for p in parts)
    assert torch.equal(shard({"x": x}, 1, 2)["x"], x[3:])
    assert shard(x, 0, 1) is x
    with pytest.raises(ValueError, match="equal shards"):
        shard(x, 0, 4)
    with pytest.raises(ValueError, match="rank"):
        shard(x, 2, 2)
    with pytest.raises(ValueError, match="cannot shard"):
        shard("text", 0, 2)


def _linear(seed=0):
    torch.manual_seed(seed)
    model = torch.nn.Linear(5, 1)
    return model, torch.optim.SGD(model.parameters(), lr=0.1)


def _rows(n):
    def batch_fn(g):
        x = torch.randn(n, 5, generator=g)  # (n, 5)
        return x, x.sum(1, keepdim=True)

    return batch_fn


def _mse(model, batch):
    x, y = batch
    return ((model(x) - y) ** 2).mean()


def test_accumulating_two_half_batches_is_one_step_on_the_whole_batch():
    whole, opt_w = _linear()
    fit(whole, opt_w, _rows(32), steps=1, loss_fn=_mse, progress=False, seed=5)
    halves, opt_h = _linear()
    hist = fit(halves, opt_h, _rows(16), steps=1, loss_fn=_mse, progress=False, seed=5, accumulate=2)
    torch.testing.assert_close(halves.weight, whole.weight)
    single, opt_s = _linear()  # and it is not the same as one step on one of the halves
    fit(single, opt_s, _rows(16), steps=1, loss_fn=_mse, progress=False, seed=5)
    assert not torch.allclose(single.weight, whole.weight)
    assert len(hist.train["loss"]) == 1


def test_bf16_autocast_trains_close_to_fp32_and_fp16_needs_cuda():
    losses = {}
    for precision in ("fp32", "bf16"):
        model, opt = _linear()
        hist = fit(model, opt, _rows(64), steps=30, loss_fn=_mse, progress=False, precision=precision)
        losses[precision] = hist.train["loss"]
    assert losses["fp32"][-1] < 0.2 * losses["fp32"][0]
    assert losses["bf16"][-1] < 0.2 * losses["bf16"][0]
    assert losses["bf16"] != losses["fp32"]  # autocast really ran in bf16
    model, opt = _linear()
    with pytest.raises(ValueError, match="fp16"):
        fit(model, opt, _rows(4), steps=1, loss_fn=_mse, precision="fp16", device="cpu")
    with pytest.raises(ValueError, match="precision"):
        fit(model, opt, _rows(4), steps=1, loss_fn=_mse, precision="int8")
    with pytest.raises(ValueError, match="accumulate"):
        fit(model, opt, _rows(4), steps=1, loss_fn=_mse, accumulate=0)


def test_a_step_fn_is_refused_data_parallel(monkeypatch):
    monkeypatch.setattr(distributed, "setup", lambda: World(0, 2, 0))
    model, opt = _linear()
    with pytest.raises(ValueError, match="data-parallel"):
        fit(model, opt, _rows(4), steps=1, step_fn=lambda m, b, o: {}, progress=False)


def test_training_memory_matches_the_zero_paper():
    # Rajbhandari et al. (2020), Figure 1: a 7.5 B-parameter model, mixed-precision Adam, 64 GPUs:
    # 120 GB per GPU replicated, 31.4 GB with ZeRO-1, 16.6 GB with ZeRO-2, 1.9 GB with ZeRO-3.
    gb = {s: training_memory(7_500_000_000, 64, s, "bf16")["total"] / 1e9 for s in ("ddp", "zero1", "zero2", "fsdp")}
    assert gb["ddp"] == 120.0
    assert round(gb["zero1"], 1) == 31.4 and round(gb["zero2"], 1) == 16.6 and round(gb["fsdp"], 1) == 1.9
    assert training_memory(10, 2, "fsdp")["optimizer"] == 40.0  # fp32: 8 bytes per parameter, halved
    with pytest.raises(ValueError, match="strategy"):
        training_memory(10, 2, "zero3")
    with pytest.raises(ValueError, match="positive"):
        training_memory(0, 2)


def test_fsdp_step_shards_the_weights_and_equals_the_single_process_step(tmp_path, char_data):
    from cgen_lessons import data
    from cgen_lessons.train import decay_groups
    from cgen_lessons.transformer import GPT
    from cgen_lessons.utils import seed_everything

    vocab, train_ids = char_data
    result = distributed.launch(["fsdp", "--steps", "1", "--save", str(tmp_path / "f.pt")], nproc=2, timeout_s=120)
    assert sum(result["params_per_rank"]) == result["params_total"]
    assert max(result["params_per_rank"]) < 0.51 * result["params_total"]  # each rank holds about half
    fsdp = _load(tmp_path / "f.pt")
    s = recipes.GPT_SETTINGS
    seed_everything(0)
    model = GPT(vocab, s.block, s.d_model, s.n_heads, s.n_layers)
    opt = torch.optim.AdamW(decay_groups(model, s.weight_decay), lr=s.lr)
    x, y = data.lm_batch(train_ids, s.block, s.batch, torch.Generator().manual_seed(0))
    model(x, y)[1].backward()
    opt.step()
    for name, p in model.named_parameters():
        torch.testing.assert_close(fsdp["grads"][name], p.grad, rtol=1e-4, atol=1e-7)
        torch.testing.assert_close(fsdp["weights"][name], p.detach(), rtol=0, atol=1e-4)
