"""Article A's MLP GAN and article B's DCGAN, corrected, on MNIST 28×28 (chapter 06's yardstick).

``arch=mlp``: article A §5.2's networks (z ∈ R^100 → 256 → 512 → 784, tanh; 784 → 512 → 256 → 1), its Adam
(lr 2·10⁻⁴) and batch of 32, with what was wrong put right: real MNIST images in [−1, 1] instead of noise, the
missing ReLU defined, the non-saturating loss on *non-detached* fakes for G, and Adam's β₁ = 0.5 as in
B and Radford et al. (A keeps the default 0.9).
``arch=dcgan``: article B §5.2.1's DCGAN (``cgen_lessons.gan.DCGANGenerator``/``DCGANDiscriminator``, w = 64)
on the digits padded to 32×32 (the size B's networks produce and accept), batch 64, Adam (2·10⁻⁴, β₁ = 0.5),
Radford et al.'s initialisation, D trained on detached fakes before G's step.

Every ``eval_every`` steps the Fréchet distance between the independent classifier's features
(``benchmarks/mnist_classifier.py``) of ``n_select`` samples and of the validation images is logged, and the
weights with the lowest are kept (select on validation). Those weights are then judged once on the test
images with ``n_eval`` samples: the class histogram under the classifier (KL to uniform, digits holding at
least ``min_share`` of the samples), the classifier's mean confidence, and the Fréchet distance to the test
images with all ``n_eval`` samples and with the first 1,000 (the sample size of chapter 07's table).

Writes benchmarks/results/mnist_gan.json (one entry per arch) and data/checkpoints/mnist_gan_{arch}.pt (the
generator only).

    python benchmarks/mnist_gan.py --set arch=mlp      # ≈ 5 min on a 2-core CPU
    python benchmarks/mnist_gan.py --set arch=dcgan    # ≈ 32 min
    python benchmarks/mnist_gan.py --set arch=mlp steps=4 eval_every=2 n_select=20 n_eval=30 --no-save   # smoke
"""

from __future__ import annotations

import dataclasses
import time
from typing import Literal

import torch

from cgen_lessons import data, results
from cgen_lessons.classifier import class_histogram, kl_to_uniform, load_mnist_classifier
from cgen_lessons.config import Settings
from cgen_lessons.gan import MNIST_GAN_CHECKPOINTS
from cgen_lessons.metrics import frechet_distance
from cgen_lessons.recipes import MNIST_GAN_SETTINGS, mnist_gan_samples, train_mnist_gan
from cgen_lessons.results import save as save_result
from cgen_lessons.train import KeepBest
from cgen_lessons.utils import save_model

CHECK_N = 1000  # a quick re-check of the shipped generator (tests/test_mnist_gan.py): its first 1,000 samples


@dataclasses.dataclass(frozen=True)
class MnistGANBenchmark(Settings):
    arch: Literal["mlp", "dcgan"] = "dcgan"
    steps: int = 0  # 0: the recipe's (recipes.MNIST_GAN_SETTINGS)
    eval_every: int = 500
    n_select: int = 1_000
    n_eval: int = 10_000
    min_share: float = 0.02  # a digit counts as covered if it holds ≥ 2 % of the samples (a fifth of 1/10)
    n_reference: int = 10_000  # validation and test images the Fréchet distances compare with (all of them)
    seed: int = 0
    threads: int = 2


def judge(classifier, x: torch.Tensor, reference_feats: torch.Tensor, min_share: float) -> dict:
    """Mode coverage and quality of samples x under the independent classifier."""
    p = class_histogram(classifier, x)
    feats = classifier.embed(x)
    confidence = torch.cat([torch.softmax(classifier(x[i:i + 1000]), 1).amax(1) for i in range(0, len(x), 1000)])
    return {"histogram": p.tolist(), "kl_uniform": kl_to_uniform(p), "covered": int((p >= min_share).sum()),
            "confidence": confidence.mean().item(), "fd": frechet_distance(feats, reference_feats),
            "fd_1000": frechet_distance(feats[:1000], reference_feats)}


def run(s: MnistGANBenchmark, save: bool = True) -> dict:
    classifier = load_mnist_classifier().eval()
    val_feats = classifier.embed(data.load_mnist("val", n=s.n_reference)[0])

    def val_fd(gan) -> float:  # n_select samples (always the same z) against the validation images
        return frechet_distance(classifier.embed(mnist_gan_samples(gan.G, s.n_select, seed=1)), val_feats)

    keep = KeepBest(val_fd, "val_fd", higher_is_better=False)
    recipe = MNIST_GAN_SETTINGS[s.arch]
    steps = s.steps or recipe.steps
    gan, hist, train_seconds = train_mnist_gan(s.arch, seed=s.seed, steps=steps,
                                               eval_fn=keep, eval_every=min(s.eval_every, steps))
    keep.restore(gan)
    start = time.perf_counter()
    test_feats = classifier.embed(data.load_mnist("test", n=s.n_reference)[0])
    x = mnist_gan_samples(gan.G, s.n_eval, seed=0)
    out = {"arch": s.arch, "best_step": hist.eval["step"][hist.eval["val_fd"].index(keep.best)], "val_fd": keep.best,
           "test": judge(classifier, x, test_feats, s.min_share),
           "real": judge(classifier, data.load_mnist("val", n=s.n_eval)[0], test_feats, s.min_share),
           "check": {"n": CHECK_N, "kl_uniform": kl_to_uniform(class_histogram(classifier, x[:CHECK_N]))},
           "curve": {"step": hist.eval["step"], "val_fd": hist.eval["val_fd"]},
           "train_seconds": round(train_seconds, 1), "eval_seconds": round(time.perf_counter() - start, 1),
           "params_G": sum(p.numel() for p in gan.G.parameters()), "n_eval": s.n_eval,
           "settings": {**dataclasses.asdict(s), **dataclasses.asdict(recipe.replace(steps=steps))}}
    if save:
        path = MNIST_GAN_CHECKPOINTS[s.arch]
        path.parent.mkdir(parents=True, exist_ok=True)
        config = {"z_dim": recipe.z_dim} if s.arch == "mlp" else {"z_dim": recipe.z_dim, "width": recipe.width}
        save_model(path, gan.G, config)
        try:
            saved = results.load("mnist_gan")
        except FileNotFoundError:
            saved = {}
        save_result("mnist_gan", {"runs": {**saved.get("runs", {}), s.arch: out}}, config=out["settings"])
    return out


def main():
    s, save = MnistGANBenchmark.from_command_line(__doc__)
    torch.set_num_threads(s.threads)
    out = run(s, save=save)
    t = out["test"]
    print(f"{s.arch}: best validation FD {out['val_fd']:.2f} at step {out['best_step']}; test: FD {t['fd']:.2f} "
          f"({s.n_eval} samples), {t['fd_1000']:.2f} (1,000), KL to uniform {t['kl_uniform']:.3f}, "
          f"{t['covered']} digits covered, confidence {t['confidence']:.3f}; "
          f"training {out['train_seconds'] / 60:.1f} min")
    print("histogram:", " ".join(f"{p:.3f}" for p in t["histogram"]))


if __name__ == "__main__":
    main()
