"""benchmarks/mnist_vae.py: a few steps of it run, and each shipped checkpoint reproduces the
log-likelihood its results file records on a fixed subset of the test images."""

from pathlib import Path

import pytest
import torch
from conftest import load_benchmark

from cgen_lessons import data, results
from cgen_lessons.vae import load_vae, nll_estimate

ROOT = Path(__file__).resolve().parent.parent


def _script():
    return load_benchmark("mnist_vae")


@pytest.mark.parametrize("objective", ["vae", "iwae"])
def test_a_few_steps_of_the_benchmark_run(objective):
    bench = _script()
    s = bench.MnistVAESettings(objective=objective, steps=4, eval_every=2, val_n=20, test_n=20, test_k=10,
                               z_dim=4, hidden=16, threads=1)
    out = bench.run(s, save=False)
    assert out["objective"] == objective and out["best_step"] in (2, 4)
    assert 0 < out["test_nll"] < 784 * 0.7  # an almost untrained model, but a finite, sensible number of nats
    assert out["check"]["n"] == 20 and out["check"]["k"] == bench.CHECK_K and 0 < out["check"]["nll"] < 784


def test_binarisation_is_fixed_and_prefix_stable():
    bench = _script()
    x = data.load_mnist("test", n=50)[0]
    full, prefix = bench.binarised(x, seed=2), bench.binarised(x[:10], seed=2)
    assert torch.equal(full[:10], prefix) and set(full.unique().tolist()) == {0.0, 1.0}


@pytest.mark.parametrize("objective", ["vae", "iwae"])
def test_the_shipped_weights_reproduce_their_recorded_likelihood(objective):
    path = ROOT / "data" / "checkpoints" / f"mnist_{objective}.pt"
    if not path.is_file():
        pytest.skip(f"no shipped {path.name}: run benchmarks/mnist_vae.py --set objective={objective}")
    bench = _script()
    recorded = results.load("mnist_vae")["runs"][objective]
    model = load_vae(path)
    check = recorded["check"]
    x = bench.binarised(data.load_mnist("test", n=check["n"])[0], seed=2)
    value = nll_estimate(model, x, check["k"], seed=4)
    assert value == pytest.approx(check["nll"], abs=0.05)  # the same draws: last-bit differences only
    assert recorded["test_nll"] <= recorded["test_neg_elbo"]  # the k-sample estimate is the tighter bound
