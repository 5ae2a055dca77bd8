"""benchmarks/mnist_gan.py and chapter 06's MNIST GANs: the networks have the shapes of articles A and B, a few
steps of the benchmark run end to end, the mode-coverage statistics agree with scipy, and each shipped generator
reproduces the class histogram its results file records."""

import pytest
import scipy.stats
import torch
from conftest import load_benchmark

from cgen_lessons import results
from cgen_lessons.classifier import class_histogram, kl_to_uniform, load_mnist_classifier
from cgen_lessons.gan import (
    MNIST_GAN_CHECKPOINTS,
    DCGANDiscriminator,
    DCGANGenerator,
    ImageMLPDiscriminator,
    ImageMLPGenerator,
    load_mnist_generator,
)
from cgen_lessons.recipes import from_gan_images, mnist_gan_samples, to_gan_images


def test_the_networks_have_the_articles_shapes():
    z = torch.randn(3, 100)
    assert ImageMLPGenerator()(z).shape == (3, 1, 28, 28)
    assert ImageMLPDiscriminator()(torch.rand(3, 1, 28, 28)).shape == (3,)
    x = DCGANGenerator()(z)
    assert x.shape == (3, 1, 32, 32) and x.abs().max() <= 1  # tanh output
    assert DCGANDiscriminator()(x).shape == (3,)
    assert sum(p.numel() for p in DCGANGenerator().parameters()) == 1_066_880  # B's widths 256/128/64, one channel
    with pytest.raises(ValueError, match="32, 32"):
        DCGANDiscriminator()(torch.rand(3, 1, 28, 28))  # MNIST must be padded first


def test_gan_image_scaling_round_trips():
    x = torch.rand(4, 1, 28, 28)
    for arch, side in (("mlp", 28), ("dcgan", 32)):
        y = to_gan_images(x, arch)
        assert y.shape[-1] == side and y.min() >= -1 and y.max() <= 1
        torch.testing.assert_close(from_gan_images(y), x)
    assert (to_gan_images(x, "dcgan")[..., :2, :] == -1).all()  # the padding is background


def test_kl_to_uniform_matches_scipy_and_rejects_non_distributions():
    p = torch.tensor([0.5, 0.2, 0.3, 0.0], dtype=torch.float64)
    assert kl_to_uniform(p) == pytest.approx(scipy.stats.entropy(p.numpy(), [0.25] * 4), rel=1e-12)
    assert kl_to_uniform(torch.full((10,), 0.1, dtype=torch.float64)) == pytest.approx(0, abs=1e-12)
    with pytest.raises(ValueError, match="probability vector"):
        kl_to_uniform(torch.tensor([0.5, 0.6]))


def test_class_histogram_counts_the_classifiers_labels():
    classifier = load_mnist_classifier()
    from cgen_lessons import data
    x, y = data.load_mnist("test", n=500)
    p = class_histogram(classifier, x)
    assert p.sum().item() == pytest.approx(1) and len(p) == 10
    torch.testing.assert_close(p, torch.bincount(y, minlength=10).double() / 500, atol=0.02, rtol=0)
    with pytest.raises(ValueError, match="empty"):
        class_histogram(classifier, x[:0])


def test_a_few_steps_of_the_benchmark_run():
    bench = load_benchmark("mnist_gan")
    for arch in ("mlp", "dcgan"):
        s = bench.MnistGANBenchmark(arch=arch, steps=2, eval_every=1, n_select=10, n_eval=20, n_reference=50,
                                    threads=1)
        out = bench.run(s, save=False)
        assert out["best_step"] in (1, 2) and len(out["test"]["histogram"]) == 10
        assert 0 <= out["test"]["kl_uniform"] <= 2.31 and out["real"]["covered"] >= 1


def test_a_missing_checkpoint_says_how_to_make_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="mnist_gan.py --set arch=dcgan"):
        load_mnist_generator("dcgan", path=tmp_path / "absent.pt")
    with pytest.raises(ValueError, match="arch"):
        load_mnist_generator("vae")


@pytest.mark.parametrize("arch", ["mlp", "dcgan"])
def test_the_shipped_generator_reproduces_its_recorded_histogram(arch):
    if not MNIST_GAN_CHECKPOINTS[arch].is_file():
        pytest.skip(f"no shipped mnist_gan_{arch}.pt: run benchmarks/mnist_gan.py --set arch={arch}")
    check = results.load("mnist_gan")["runs"][arch]["check"]
    x = mnist_gan_samples(load_mnist_generator(arch), check["n"], seed=0)
    assert kl_to_uniform(class_histogram(load_mnist_classifier(), x)) == pytest.approx(check["kl_uniform"], abs=0.02)
