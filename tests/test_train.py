import pytest
import torch

from cgen_lessons.train import History, fit, load_checkpoint


class TinyLM(torch.nn.Module):
    """A bigram model with dropout, so that resuming must restore the global RNG as well."""

    def __init__(self, vocab=11):
        super().__init__()
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


def test_resume_equals_uninterrupted(tmp_path):
    model_a, opt_a = make()
    fit(model_a, opt_a, batch_fn, steps=40, progress=False, seed=3)

    ckpt = tmp_path / "run.pt"
    model_b, opt_b = make()
    fit(model_b, opt_b, batch_fn, steps=17, progress=False, seed=3, checkpoint=ckpt, checkpoint_every=17)
    torch.manual_seed(999)  # a "new process": the global RNG is somewhere else entirely
    model_c, opt_c = make(seed=42)  # fresh weights that the checkpoint must overwrite
    hist = fit(model_c, opt_c, batch_fn, steps=40, progress=False, seed=3, checkpoint=ckpt, resume=True)

    for p, q in zip(model_a.parameters(), model_c.parameters()):
        torch.testing.assert_close(p, q)
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


def test_checkpoint_loads_with_weights_only(tmp_path):
    model, opt = make()
    fit(model, opt, batch_fn, steps=3, progress=False, checkpoint=tmp_path / "c.pt")
    state = torch.load(tmp_path / "c.pt", weights_only=True)
    assert set(state) >= {"model", "optimizers", "step", "history", "data_rng", "torch_rng"}


def test_grad_clip_logs_norm():
    model, opt = make()
    hist = fit(model, opt, batch_fn, steps=5, progress=False, grad_clip=0.1)
    assert len(hist.train["grad_norm"]) == 5


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
        fit(model, opt, batch_fn, steps=3, progress=False, loss_fn=lambda m, b: torch.tensor(float("nan"), requires_grad=True))


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
