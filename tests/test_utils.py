import random

import numpy as np
import pytest
import torch

from cgen_lessons.utils import get_device, seed_everything, show_source, timer


def test_seed_everything_repeats_all_generators():
    seed_everything(123)
    a = (random.random(), np.random.rand(), torch.rand(3))
    seed_everything(123)
    b = (random.random(), np.random.rand(), torch.rand(3))
    assert a[0] == b[0] and a[1] == b[1]
    torch.testing.assert_close(a[2], b[2])
    seed_everything(124)
    assert not torch.equal(torch.rand(3), a[2])


def test_seed_everything_returns_seeded_generator():
    g1, g2 = seed_everything(5), seed_everything(5)
    torch.testing.assert_close(torch.rand(4, generator=g1), torch.rand(4, generator=g2))


@pytest.mark.parametrize("bad", [-1, 1.5, "3", True])
def test_seed_everything_rejects_bad_seeds(bad):
    with pytest.raises(ValueError, match="seed"):
        seed_everything(bad)


def test_get_device(monkeypatch):
    assert get_device("cpu").type == "cpu"
    monkeypatch.setenv("CGEN_DEVICE", "cpu")
    assert get_device().type == "cpu"
    with pytest.raises(ValueError, match="device must be"):
        get_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            get_device("cuda")
    if not torch.backends.mps.is_available():
        monkeypatch.setenv("CGEN_DEVICE", "mps")
        with pytest.raises(ValueError, match="'mps'.*not available"):
            get_device()


def test_show_source_contains_the_code():
    md = show_source(seed_everything)
    assert "def seed_everything" in md.data and "```python" in md.data
    with pytest.raises(ValueError, match="cannot show the source"):
        show_source(3)


def test_timer_records_seconds():
    with timer(verbose=False) as t:
        sum(range(1000))
    assert t["seconds"] >= 0


def test_count_torch_ops_counts_per_step_work():
    from cgen_lessons.utils import count_torch_ops

    def loop(x):  # two torch calls per step
        for t in range(x.shape[1]):
            x[:, t].sin().cos()

    # three calls per step (index, sin, cos): 5 more steps, 15 more operations
    assert count_torch_ops(loop, torch.randn(3, 10)) - count_torch_ops(loop, torch.randn(3, 5)) == 15
    assert count_torch_ops(lambda a: (a @ a.T).relu(), torch.randn(5, 5)) == count_torch_ops(
        lambda a: (a @ a.T).relu(), torch.randn(50, 50))


def test_use_threads_takes_the_chapter_count_unless_cgen_threads_overrides_it(monkeypatch):
    from cgen_lessons.utils import use_threads

    before = torch.get_num_threads()
    try:
        monkeypatch.delenv("CGEN_THREADS", raising=False)
        assert use_threads(1) == 1 == torch.get_num_threads()
        monkeypatch.setenv("CGEN_THREADS", "2")
        assert use_threads(1) == 2 == torch.get_num_threads()
        monkeypatch.setenv("CGEN_THREADS", "two")
        with pytest.raises(ValueError, match="CGEN_THREADS"):
            use_threads(1)
    finally:
        torch.set_num_threads(before)


def test_table_renders_markdown_and_prints_aligned_text():
    from cgen_lessons.utils import table

    t = table(["name", "FD", "modes"], [["8gaussians", "10.1", "6.7 ± 1.5 / 8"], ["a|b", "−2.5", "—"]])
    assert t.data.splitlines()[1] == "|---|---:|---:|"  # numeric columns right-aligned
    assert "a\\|b" in t.data  # a pipe in a cell does not split it
    assert repr(t).splitlines() == ["name          FD          modes",
                                    "8gaussians  10.1  6.7 ± 1.5 / 8",
                                    "a|b         −2.5              —"]
    with pytest.raises(ValueError, match="row 1 has 2"):
        table(["a", "b", "c"], [[1, 2, 3], [1, 2]])
