"""How much do the digit models' Fréchet distances vary with the training seed (chapters 06 and 07)?

Each model is trained with its chapter's recipe and thread count for several seeds and scored by
``recipes.DigitScorer.fd`` (1,000 samples, sampling generator seeded 0, so only training varies):
the chapter 05 VAE (Gaussian likelihood) and chapter 06's DCGANs (non-saturating and
least-squares) on one thread, the non-saturating DCGAN also on two threads (same code, only the
float summation order changes), and chapter 07's diffusion U-Net (DDPM 200 steps and DDIM 20
steps) on two threads. For scale, the sampling noise of the metric: one model per family scored
with 5 different sampling seeds.

    python benchmarks/fd_seeds.py --seeds 0,1,2,3,4 --out benchmarks/results/fd_seeds.json   # ≈ 10 min
"""

import argparse
import time
from pathlib import Path

import torch

from cgen_lessons import data, recipes
from cgen_lessons.results import save as save_result


def g(seed=0):
    return torch.Generator().manual_seed(seed)


_DIFFUSION = {}
_RECIPE = {"VAE": "vae", "DCGAN least-squares": "dcgan_lsgan"}  # else by prefix: DCGAN → non-saturating, diffusion


def train(model_name, d, seed):
    """Train one model with its chapter recipe (``recipes.train_digit_model``, on the chapter's thread count unless
    the name says "(2 threads)"); returns a sampler: n, sampling seed -> images (N, 1, 8, 8) in [0, 1]."""
    recipe = _RECIPE.get(model_name, "diffusion" if model_name.startswith("diffusion") else "dcgan_nonsaturating")
    torch.set_num_threads(2 if "(2 threads)" in model_name else recipes.DIGIT_MODEL_THREADS[recipe])
    if recipe != "diffusion":
        model = recipes.train_digit_model(recipe, d, seed=seed, progress=False)[0]
        return lambda n, s: recipes.digit_samples(model, n, seed=s)
    if seed not in _DIFFUSION:  # one model per seed serves both samplers
        _DIFFUSION[seed] = recipes.train_digit_model(recipe, d, seed=seed, progress=False)[0]
    model = _DIFFUSION[seed]
    if "DDPM" in model_name:
        return lambda n, s: recipes.digit_samples(model, n, seed=s)
    return lambda n, s: (model.sample(n, (1, 8, 8), steps=20, eta=0.0, generator=g(s), clip_x0=1.0) + 1) / 2


MODELS = ["VAE", "DCGAN non-saturating", "DCGAN least-squares", "DCGAN non-saturating (2 threads)",
          "diffusion DDPM 200", "diffusion DDIM 20"]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", default="0,1,2,3,4")
    parser.add_argument("--models", default=";".join(MODELS),
                        help="semicolon-separated subset of: " + "; ".join(MODELS))
    parser.add_argument("--out", default="benchmarks/results/fd_seeds.json")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    d = data.load_digits()
    torch.set_num_threads(1)
    scorer = recipes.DigitScorer(d, progress=False)
    out = {"seeds": seeds, "n_samples": 1000, "torch": torch.__version__, "runs": [], "sampling_noise": {}}
    for name in args.models.split(";"):
        for seed in seeds:
            t0 = time.perf_counter()
            sampler = train(name, d, seed)
            row = {"model": name, "seed": seed, "fd": scorer.fd(sampler(1000, 0)),
                   "seconds": round(time.perf_counter() - t0, 1)}
            if seed == seeds[0] and "(2 threads)" not in name:
                out["sampling_noise"][name] = [scorer.fd(sampler(1000, 100 + k)) for k in range(5)]
            out["runs"].append(row)
            print(row, flush=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    save_result(args.out, out, config=vars(args))
    print("wrote", args.out)


if __name__ == "__main__":
    main()
