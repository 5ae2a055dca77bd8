"""The 8×8 digit models of chapters 06–07, trained by their recipes and shipped as weights.

Chapter 06 compares two DCGANs (non-saturating and least-squares loss) and chapter 05's VAE on the 8×8 digits;
chapter 07 adds its U-Net diffusion model and the same VAE. Training them in the chapters costs about two of their
six minutes, so this script trains each once with its recipe (``recipes.train_digit_model``, seed 0, with the
thread count the chapters used: one for the VAE and the GANs, two for the U-Net) and writes
data/checkpoints/digits_{vae,dcgan_nonsaturating,dcgan_lsgan,diffusion}.pt (``weights_only``-loadable), which
``recipes.shipped_digit_model`` loads. Seed 0 is also the first seed of ``benchmarks/fd_seeds.py``. It records
each model's Fréchet distance to the test digits (``recipes.DigitScorer``, 1,000 samples, sampling seed 0;
the U-Net's unconditional DDPM samples with all 200 steps), which tests/test_digit_models.py recomputes from
the shipped weights.

    python benchmarks/digit_models.py              # ≈ 2 min on a 2-core CPU
    python benchmarks/digit_models.py --no-save    # train and print only
"""

from __future__ import annotations

import dataclasses
import platform
from pathlib import Path

import torch

from cgen_lessons import data
from cgen_lessons.config import Settings
from cgen_lessons.recipes import (
    DIFFUSION_SETTINGS,
    DIGIT_CHECKPOINTS,
    DIGIT_MODEL_THREADS,
    DigitScorer,
    digit_samples,
    train_digit_model,
)
from cgen_lessons.results import save as save_result
from cgen_lessons.utils import save_model


@dataclasses.dataclass(frozen=True)
class DigitModelsBenchmark(Settings):
    n_samples: int = 1000
    seed: int = 0


def cpu_name() -> str:
    """The processor's model name (Linux: /proc/cpuinfo), which decides the kernels torch runs."""
    info = Path("/proc/cpuinfo")
    if info.is_file():
        for line in info.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def run(s: DigitModelsBenchmark, save: bool = True) -> dict:
    digits = data.load_digits()
    torch.set_num_threads(1)
    scorer = DigitScorer(digits, progress=False)
    out = {}
    for name in DIGIT_CHECKPOINTS:
        torch.set_num_threads(DIGIT_MODEL_THREADS[name])
        model, config, hist, seconds = train_digit_model(name, digits, seed=s.seed, progress=False)
        out[name] = {"fd": scorer.fd(digit_samples(model, s.n_samples, seed=0)), "n_samples": s.n_samples,
                     "threads": DIGIT_MODEL_THREADS[name], "train_seconds": round(seconds, 1)}
        if "loss" in hist.train:  # the VAE's negative ELBO, the diffusion model's simple loss (GANs log d_loss, g_loss)
            out[name]["final_loss"] = sum(hist.train["loss"][-100:]) / 100  # mean of the last 100 steps
        if save:
            DIGIT_CHECKPOINTS[name].parent.mkdir(parents=True, exist_ok=True)
            save_model(DIGIT_CHECKPOINTS[name], model, config)
    if save:
        out["cpu"] = cpu_name()
        save_result("digit_models", out, config={**dataclasses.asdict(s), "diffusion": DIFFUSION_SETTINGS.as_dict()})
    return out


def main():
    s, save = DigitModelsBenchmark.from_command_line(__doc__)
    for name, r in run(s, save=save).items():
        if name == "cpu":
            continue
        print(f"{name}: Fréchet distance {r['fd']:.2f} ({r['n_samples']:,} samples); trained in "
              f"{r['train_seconds']:.0f} s on {r['threads']} thread(s)")


if __name__ == "__main__":
    main()
