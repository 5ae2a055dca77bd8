"""A class-conditional diffusion model on MNIST 28×28 with classifier-free guidance (chapter 07's yardstick).

The denoiser is ``cgen_lessons.diffusion.UNetDenoiser`` with three resolutions (28×28 → 14×14 → 7×7 and
back, widths ``width`` × ``mults``), trained with the simplified DDPM loss on images scaled to [−1, 1];
its label is dropped (replaced by the null label) with probability ``p_uncond``, so the same network also
learns the unconditional ε_θ(x_t, t, ∅) that guidance needs. The shipped weights are an exponential moving
average of the training weights (decay ``ema``), as in Ho et al. (2020).

Evaluation, with the independent classifier of ``benchmarks/mnist_classifier.py`` (never trained on
generated images): ``n_eval`` samples (the same number of each digit) by DDIM with ``ddim_steps`` steps
(η = 0) for each guidance weight w in ``guidance``; for each, the share the classifier assigns to the
requested digit (guided accuracy) and the Fréchet distance between the classifier's features of the samples
and of the validation images. The w with the lowest validation FD is then scored with the test images as the
FD's reference, for each of ``sampling_seeds`` (the first seed draws the same samples as the sweep; the
training seed is one: ``seed``).

Writes benchmarks/results/mnist_diffusion.json and data/checkpoints/mnist_diffusion.pt.

    python benchmarks/mnist_diffusion.py                  # ≈ 45 min on a 2-core CPU (30 training + 13 evaluating)
    python benchmarks/mnist_diffusion.py --set steps=5 n_eval=20 ddim_steps=2 --no-save   # smoke
"""

from __future__ import annotations

import dataclasses
import time

import torch

from cgen_lessons import data
from cgen_lessons.classifier import load_mnist_classifier
from cgen_lessons.diffusion import MNIST_CHECKPOINT, Diffusion
from cgen_lessons.metrics import frechet_distance
from cgen_lessons.recipes import MNIST_DIFFUSION_SETTINGS, MnistDiffusionSettings, train_mnist_diffusion
from cgen_lessons.results import save as save_result
from cgen_lessons.utils import save_model

CHECKPOINT = MNIST_CHECKPOINT  # data/checkpoints/mnist_diffusion.pt, read by diffusion.load_mnist_diffusion
CHECK_N, CHECK_STEPS, CHECK_W = 100, 20, 2.0  # a quick re-check of the shipped weights (tests/test_mnist_diffusion)


@dataclasses.dataclass(frozen=True)
class MnistDiffusionBenchmark(MnistDiffusionSettings):
    """The training recipe (``recipes.MnistDiffusionSettings``: width, mults, T, schedule, p_uncond, lr, batch,
    steps, ema) plus the evaluation."""
    n_eval: int = 1_000
    ddim_steps: int = 50
    guidance: tuple = (1.0, 2.0, 4.0)
    sampling_seeds: tuple = (0, 1, 2)
    n_reference: int = 10_000  # validation and test images the Fréchet distances compare with (all of them)
    seed: int = 0
    threads: int = 2


@torch.no_grad()
def guided_samples(model: Diffusion, n: int, guidance: float, steps: int, seed: int):
    """n samples in [0, 1], digit i % 10 for the i-th, by DDIM (η = 0) with guidance weight w: images
    (n, 1, 28, 28) and the requested digits (n,)."""
    y = torch.arange(n) % 10  # (n,)
    x = model.sample(n, (1, 28, 28), steps=steps, eta=0.0, y=y, guidance=guidance,
                     generator=torch.Generator().manual_seed(seed), progress=True)
    return ((x.clamp(-1, 1) + 1) / 2), y  # back to intensities in [0, 1]


def judge(classifier, x: torch.Tensor, y: torch.Tensor, reference_feats: torch.Tensor) -> dict:
    """Guided accuracy under the independent classifier, and the Fréchet distance to the reference features."""
    return {"accuracy": (classifier.predict(x) == y).double().mean().item(),
            "fd": frechet_distance(classifier.embed(x), reference_feats)}


def run(s: MnistDiffusionBenchmark, save: bool = True) -> dict:
    recipe = {k: getattr(s, k) for k in MNIST_DIFFUSION_SETTINGS.keys()}
    model, hist, train_seconds = train_mnist_diffusion(seed=s.seed, **recipe)

    start = time.perf_counter()
    classifier = load_mnist_classifier()
    feats = {split: classifier.embed(data.load_mnist(split, n=s.n_reference)[0]) for split in ("val", "test")}
    sweep = {}
    for w in s.guidance:
        x, y = guided_samples(model, s.n_eval, w, s.ddim_steps, seed=s.sampling_seeds[0])
        sweep[str(w)] = judge(classifier, x, y, feats["val"])
    best_w = float(min(sweep, key=lambda w: sweep[w]["fd"]))
    test = []
    for seed in s.sampling_seeds:
        x, y = guided_samples(model, s.n_eval, best_w, s.ddim_steps, seed=seed)
        test.append({"seed": seed, **judge(classifier, x, y, feats["test"])})
    floor = frechet_distance(classifier.embed(data.load_mnist("val", n=s.n_eval)[0]), feats["test"])
    x, y = guided_samples(model, CHECK_N, CHECK_W, CHECK_STEPS, seed=0)
    check = {"n": CHECK_N, "ddim_steps": CHECK_STEPS, "guidance": CHECK_W,
             "accuracy": (classifier.predict(x) == y).double().mean().item()}
    losses, every = hist.train["loss"], max(1, len(hist.train["loss"]) // 200)
    out = {"train_seconds": round(train_seconds, 1), "eval_seconds": round(time.perf_counter() - start, 1),
           "params": sum(p.numel() for p in model.parameters()),
           "final_loss": sum(losses[-200:]) / len(losses[-200:]),
           "loss_curve": {"step": hist.train["step"][::every], "loss": losses[::every]},
           "sweep_val": sweep, "chosen_guidance": best_w, "test": test,
           "real_floor_fd": floor, "check": check, "n_eval": s.n_eval, "ddim_steps": s.ddim_steps,
           "settings": dataclasses.asdict(s)}
    if save:
        CHECKPOINT.parent.mkdir(parents=True, exist_ok=True)
        save_model(CHECKPOINT, model.denoiser, {"channels": 1, "width": s.width, "n_classes": 10,
                                                "mults": tuple(s.mults)})
        save_result("mnist_diffusion", out, config=dataclasses.asdict(s))
    return out


def main():
    s, save = MnistDiffusionBenchmark.from_command_line(__doc__)
    torch.set_num_threads(s.threads)
    out = run(s, save=save)
    for w, r in out["sweep_val"].items():
        print(f"w = {w}: guided accuracy {r['accuracy']:.3f}, validation FD {r['fd']:.2f}")
    for r in out["test"]:
        print(f"w = {out['chosen_guidance']}, sampling seed {r['seed']}: test accuracy {r['accuracy']:.3f}, "
              f"test FD {r['fd']:.2f}")
    print(f"real validation images vs test: FD {out['real_floor_fd']:.2f}; "
          f"training {out['train_seconds'] / 60:.1f} min")


if __name__ == "__main__":
    main()
