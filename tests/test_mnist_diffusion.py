"""benchmarks/mnist_diffusion.py: a few steps of it run end to end, and the shipped checkpoint reproduces the
guided accuracy its results file records on a fixed set of samples."""

import pytest
from conftest import load_benchmark

from cgen_lessons import results
from cgen_lessons.classifier import load_mnist_classifier
from cgen_lessons.diffusion import MNIST_CHECKPOINT, load_mnist_diffusion


def test_a_few_steps_of_the_benchmark_run():
    bench = load_benchmark("mnist_diffusion")
    s = bench.MnistDiffusionBenchmark(steps=3, width=8, n_eval=20, ddim_steps=2, guidance=(1.0, 3.0),
                                     sampling_seeds=(0, 1), n_reference=50, threads=1)
    out = bench.run(s, save=False)
    assert set(out["sweep_val"]) == {"1.0", "3.0"} and out["chosen_guidance"] in (1.0, 3.0)
    assert [r["seed"] for r in out["test"]] == [0, 1]
    assert all(0 <= r["accuracy"] <= 1 and r["fd"] > 0 for r in out["test"])
    assert out["check"]["n"] == bench.CHECK_N and out["real_floor_fd"] > 0


def test_the_shipped_weights_reproduce_their_recorded_guided_accuracy():
    if not MNIST_CHECKPOINT.is_file():
        pytest.skip("no shipped mnist_diffusion.pt: run benchmarks/mnist_diffusion.py")
    bench = load_benchmark("mnist_diffusion")
    check = results.load("mnist_diffusion")["check"]
    model = load_mnist_diffusion()
    x, y = bench.guided_samples(model, check["n"], check["guidance"], check["ddim_steps"], seed=0)
    accuracy = (load_mnist_classifier().predict(x) == y).double().mean().item()
    assert accuracy == pytest.approx(check["accuracy"], abs=0.03)  # the same draws: a digit or so may flip
