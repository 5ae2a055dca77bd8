import pytest
import torch

from cgen_lessons.train import History, fit, load_checkpoint


class TinyLM(torch.nn.Module):
    """A bigram model with dropout, so that resuming must restore the global RNG as well."""

    def __init__(self, vocab=11):
        super().__init__()
        self.vocab_size = vocab
        self.emb = torch.nn.Embedding(vocab, 16)
        self.drop = torch.nn.Dropout(0.3)
        self.out = torch.nn.Linear(16, vocab)

    def forward(self, idx, targets=None):
        logits = self.out(self.drop(self.emb(idx)))  # (B, T, V)
        loss = None
        if targets is not None:
            loss = torch.nn.functional.cross_entropy(logits.flatten(0, 1), targets.flatten())
        return logits, loss


def batch_fn(g):
    x = torch.randint(0, 10, (8, 5), generator=g)
    return x, (x + 1) % 11


def make(seed=0):
    torch.manual_seed(seed)
    model = TinyLM()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    return model, opt


def test_fit_reduces_loss_and_records_history():
    model, opt = make()
    hist = fit(model, opt, batch_fn, steps=150, progress=False,
               eval_fn=lambda m: {"acc": 1.0}, eval_every=50)
    assert hist.train["step"] == list(range(1, 151))
    assert hist.eval["step"] == [50, 100, 150]
    assert sum(hist.train["loss"][-10:]) / 10 < 0.5 * sum(hist.train["loss"][:10]) / 10


class Interrupt(Exception):
    """Stands in for a kill in the middle of a run."""


def test_resume_after_a_mid_run_kill_is_bitwise_exact(tmp_path):
    model_a, opt_a = make()
    fit(model_a, opt_a, batch_fn, steps=40, progress=False, seed=3)

    ckpt = tmp_path / "run.pt"
    model_b, opt_b = make()
    calls = {"n": 0}

    def dying_batch_fn(g):
        calls["n"] += 1
        if calls["n"] == 27:  # killed during step 27; the last checkpoint is from step 20
            raise Interrupt
        return batch_fn(g)

    with pytest.raises(Interrupt):
        fit(model_b, opt_b, dying_batch_fn, steps=40, progress=False, seed=3, checkpoint=ckpt, checkpoint_every=10)
    assert load_checkpoint(ckpt)["step"] == 20
    torch.manual_seed(999)  # a "new process": the global RNG is somewhere else entirely
    model_c, opt_c = make(seed=42)  # fresh weights that the checkpoint must overwrite
    hist = fit(model_c, opt_c, batch_fn, steps=40, progress=False, seed=3, checkpoint=ckpt, resume=True)

    assert all(torch.equal(p, q) for p, q in zip(model_a.parameters(), model_c.parameters()))
    assert hist.train["step"] == list(range(1, 41))
    assert load_checkpoint(ckpt)["step"] == 40


def test_without_resume_restoring_differs(tmp_path):
    """The resume test above could not pass by accident: skipping the restore changes the weights."""
    model_a, opt_a = make()
    fit(model_a, opt_a, batch_fn, steps=40, progress=False, seed=3)
    model_b, opt_b = make()
    fit(model_b, opt_b, batch_fn, steps=17, progress=False, seed=3)
    fit(model_b, opt_b, batch_fn, steps=23, progress=False, seed=3)  # restarts the data stream
    assert not all(torch.allclose(p, q) for p, q in zip(model_a.parameters(), model_b.parameters()))


class NotATensor:
    """An arbitrary Python object: a weights_only load must refuse to unpickle it."""


def test_load_checkpoint_is_weights_only(tmp_path):
    model, opt = make()
    fit(model, opt, batch_fn, steps=3, progress=False, checkpoint=tmp_path / "c.pt")
    assert load_checkpoint(tmp_path / "c.pt")["step"] == 3
    state = torch.load(tmp_path / "c.pt", weights_only=True)
    state["history"] = NotATensor()  # a checkpoint that would run/construct arbitrary code when unpickled
    torch.save(state, tmp_path / "evil.pt")
    with pytest.raises(ValueError, match="cannot read the checkpoint"):
        load_checkpoint(tmp_path / "evil.pt")


def test_damaged_checkpoints_give_clear_errors(tmp_path):
    model, opt = make()
    good = tmp_path / "good.pt"
    fit(model, opt, batch_fn, steps=3, progress=False, checkpoint=good)
    data = good.read_bytes()
    (tmp_path / "empty.pt").write_bytes(b"")
    (tmp_path / "truncated.pt").write_bytes(data[: len(data) // 2])
    (tmp_path / "garbage.pt").write_bytes(b"not a checkpoint at all" * 10)
    torch.save({"weights": torch.zeros(2)}, tmp_path / "foreign.pt")
    with pytest.raises(ValueError, match="empty"):
        load_checkpoint(tmp_path / "empty.pt")
    for name in ("truncated.pt", "garbage.pt"):
        with pytest.raises(ValueError, match="truncated, corrupted"):
            load_checkpoint(tmp_path / name)
    with pytest.raises(ValueError, match="not a checkpoint written by save_checkpoint"):
        load_checkpoint(tmp_path / "foreign.pt")
    with pytest.raises(ValueError, match="truncated, corrupted"):  # resuming from it fails the same way
        fit(model, opt, batch_fn, steps=5, progress=False, checkpoint=tmp_path / "truncated.pt", resume=True)


def test_resume_from_a_mistyped_path_fails(tmp_path):
    model, opt = make()
    fit(model, opt, batch_fn, steps=3, progress=False, checkpoint=tmp_path / "run.pt")
    with pytest.raises(ValueError, match="no checkpoint at"):
        fit(model, opt, batch_fn, steps=5, progress=False, checkpoint=tmp_path / "rnu.pt", resume=True)


def test_unwritable_checkpoint_fails_before_training(tmp_path):
    (tmp_path / "a_file").write_text("x")
    calls = {"n": 0}

    def counting_batch_fn(g):
        calls["n"] += 1
        return batch_fn(g)

    model, opt = make()
    with pytest.raises(ValueError, match="cannot write checkpoints"):  # its parent is a file, even for root
        fit(model, opt, counting_batch_fn, steps=5, progress=False, checkpoint=tmp_path / "a_file" / "run.pt",
            checkpoint_every=2)
    assert calls["n"] == 0


def test_a_crash_while_saving_keeps_the_last_good_checkpoint(tmp_path, monkeypatch):
    ckpt = tmp_path / "run.pt"
    model, opt = make()
    fit(model, opt, batch_fn, steps=4, progress=False, checkpoint=ckpt)

    def failing_save(obj, f, *args, **kwargs):
        with open(f, "wb") as handle:
            handle.write(b"half a checkpoint")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", failing_save)
    with pytest.raises(OSError, match="disk full"):
        fit(model, opt, batch_fn, steps=8, progress=False, checkpoint=ckpt, resume=True)
    monkeypatch.undo()
    assert load_checkpoint(ckpt)["step"] == 4  # the old checkpoint is intact
    assert not (tmp_path / "run.pt.tmp").exists()  # and no half-written file is left behind


def test_grad_clip_bounds_the_update():
    """With SGD at lr = 1 the update is the (clipped) gradient, so its norm must be at most the
    clip; without clipping the same step is far larger (the test would fail with a no-op clip)."""
    sizes = {}
    for clip in (None, 0.1):
        torch.manual_seed(0)
        model = TinyLM()
        opt = torch.optim.SGD(model.parameters(), lr=1.0)
        before = [p.detach().clone() for p in model.parameters()]
        model.drop.p = 0.0
        hist = fit(model, opt, batch_fn, steps=1, progress=False, grad_clip=clip)
        sizes[clip] = torch.sqrt(sum(((p - b) ** 2).sum() for p, b in zip(model.parameters(), before))).item()
    assert sizes[0.1] == pytest.approx(0.1, rel=1e-4)
    assert sizes[None] > 10 * sizes[0.1]
    assert hist.train["grad_norm"][0] == pytest.approx(sizes[None], rel=1e-4)  # the logged norm is the unclipped one


def test_step_fn_with_two_optimizers():
    model = TinyLM()
    opts = {"a": torch.optim.SGD(model.emb.parameters(), lr=0.1),
            "b": torch.optim.SGD(model.out.parameters(), lr=0.1)}

    def step_fn(m, batch, optimizers):
        for o in optimizers.values():
            o.zero_grad()
        _, loss = m(*batch)
        loss.backward()
        for o in optimizers.values():
            o.step()
        return {"loss": loss.item()}

    hist = fit(model, opts, batch_fn, steps=5, step_fn=step_fn, progress=False)
    assert len(hist.train["loss"]) == 5


def test_bad_arguments_raise_value_error(tmp_path):
    model, opt = make()
    with pytest.raises(ValueError, match="steps"):
        fit(model, opt, batch_fn, steps=0)
    with pytest.raises(ValueError, match="checkpoint path"):
        fit(model, opt, batch_fn, steps=2, resume=True)
    with pytest.raises(ValueError, match="optimizer"):
        fit(model, "adam", batch_fn, steps=2)
    with pytest.raises(ValueError, match="grad_clip"):
        fit(model, opt, batch_fn, steps=2, grad_clip=0)
    with pytest.raises(ValueError, match="did not return a loss"):
        fit(torch.nn.Linear(5, 1), torch.optim.SGD(torch.nn.Linear(5, 1).parameters(), lr=0.1),
            lambda g: torch.randn(2, 5, generator=g), steps=1, progress=False)
    with pytest.raises(ValueError, match="no checkpoint"):
        load_checkpoint(tmp_path / "missing.pt")


def test_nan_loss_is_reported():
    model, opt = make()
    with pytest.raises(FloatingPointError, match="step 1"):
        fit(model, opt, batch_fn, steps=3, progress=False,
            loss_fn=lambda m, b: torch.tensor(float("nan"), requires_grad=True))


def test_history_last():
    h = History()
    h.log("train", 1, {"loss": 2.0})
    assert h.last("loss") == 2.0
    with pytest.raises(ValueError, match="no train value"):
        h.last("acc")


def test_text_progress_writes_one_final_line(monkeypatch, capsys):
    """Committed notebooks are executed with CGEN_PROGRESS=text: one line per run, not a log."""
    monkeypatch.setenv("CGEN_PROGRESS", "text")
    model = torch.nn.Linear(2, 1)
    fit(model, torch.optim.SGD(model.parameters(), lr=0.01), lambda g: torch.randn(4, 2, generator=g), steps=300,
        loss_fn=lambda m, b: (m(b) ** 2).mean(), desc="quiet run")
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("quiet run: 100%") and "300/300" in err


def test_keep_best_restores_the_weights_of_the_best_evaluation():
    from cgen_lessons.train import KeepBest

    model = torch.nn.Linear(1, 1, bias=False)
    scores = iter([0.3, 0.9, 0.5])
    keep = KeepBest(lambda m: next(scores), "val_acc", higher_is_better=True)
    for w in (1.0, 2.0, 3.0):
        with torch.no_grad():
            model.weight.fill_(w)
        assert set(keep(model)) == {"val_acc"}
    assert keep.best == 0.9 and keep.restore(model).weight.item() == 2.0 and not model.training
    lower = KeepBest(lambda m: m.weight.item(), "loss", higher_is_better=False)
    for w in (2.0, 1.0, 3.0):
        with torch.no_grad():
            model.weight.fill_(w)
        lower(model)
    assert lower.best == 1.0
    with pytest.raises(ValueError, match="nothing was evaluated"):
        KeepBest(lambda m: 0.0, "x", True).restore(model)
