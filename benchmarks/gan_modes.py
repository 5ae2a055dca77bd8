"""Mode coverage of GAN variants on the 8-Gaussians ring and the 25-Gaussians grid (chapter 06).

Protocol of the mode-collapse literature (Srivastava et al. 2017; Lin et al. 2018): 2,500
samples; a sample is high quality if within 3σ of its nearest mode; a mode is captured if at
least 20 high-quality samples are nearest to it (gan.mode_coverage); per-mode counts are saved.
Several seeds per method; results go to the --out JSON file
(chapter 06 reads benchmarks/results/gan_modes_<dataset>.json).

    python benchmarks/gan_modes.py --steps 5000 --seeds 0,1,2 --datasets 8gaussians \
        --out benchmarks/results/gan_modes_8gaussians.json
    python benchmarks/gan_modes.py --steps 5000 --seeds 0,1,2 --datasets 25gaussians \
        --out benchmarks/results/gan_modes_25gaussians.json
    python benchmarks/gan_modes.py --methods "spectral norm (SN-GAN D)" --datasets 8gaussians --append --out ...
    python benchmarks/gan_modes.py --steps 20000 --seeds 0,1,2,3,4 --datasets 8gaussians \
        --methods "vanilla (non-saturating),PacGAN (pack 4),spectral norm (SN-GAN D)" \
        --out benchmarks/results/gan_modes_8gaussians_20k.json     # (and 25gaussians): ≈ 30 min on one core
    python benchmarks/gan_modes.py --steps 20000 --seeds 0,1,2,3,4 --datasets 8gaussians \
        --sep ";" --methods "PacGAN2, ours;PacGAN2, ours + Lin optimiser" --out ...   # the ablation (see --help)

The reproduction of Lin et al. (2018) (chapter 06 §4): their networks and optimiser ("..., Lin et al.
setup"; ≈ 17 ms a step on one core, so far fewer steps than their 400,000), our small networks
with one of their settings at a time ("PacGAN2, ours + ..."), and the maxout discriminator with and
without packing (results/gan_modes_<dataset>_maxout.json; ring 20,000 steps, grid 40,000; ≈ 2–10 min a run):

    python benchmarks/gan_modes.py --steps 40000 --seeds 0,1,2,3,4 --datasets 25gaussians --sep ";" \
        --methods "GAN, ours + maxout D;PacGAN2, ours + maxout D;PacGAN4, ours + maxout D" \
        --out benchmarks/results/gan_modes_25gaussians_maxout.json
    python benchmarks/gan_modes.py --steps 80000 --seeds 0,1,2,3,4 --datasets 25gaussians --eval-every 5000 \
        --methods "PacGAN2, ours + maxout D" --sep ";" --out benchmarks/results/gan_modes_25gaussians_long.json
        # twice as long, with learning curves (≈ 11 min a seed); also "PacGAN4, ours + maxout D" for seed 0 (--append)
"""

import argparse
import time
from pathlib import Path

import torch

from cgen_lessons import data
from cgen_lessons.gan import GAN, MLPDiscriminator, MLPGenerator, make_gan_step, mode_coverage
from cgen_lessons.results import load as load_result
from cgen_lessons.results import save as save_result
from cgen_lessons.train import fit

# name: (loss, n_critic, pack, lr, betas, spectral_norm[, setup]); setup overrides the networks and the batch
METHODS = {
    "vanilla (non-saturating)": ("nonsaturating", 1, 1, 2e-4, (0.5, 0.999), False),
    "PacGAN (pack 4)": ("nonsaturating", 1, 4, 2e-4, (0.5, 0.999), False),
    "WGAN-GP": ("wgan-gp", 5, 1, 1e-4, (0.5, 0.9), False),
    "spectral norm (SN-GAN D)": ("nonsaturating", 1, 1, 2e-4, (0.5, 0.999), True),
    # Lin et al. (2018)'s 2-D setup (their code, synthetic_data_experiments/*/config.py): G 4 × 400 with batch
    # norm, D 3 × 200 maxout units of 5 pieces, Adam lr 1e-4, β1 = 0.8, 100 packed groups per batch
    "GAN, Lin et al. setup": ("nonsaturating", 1, 1, 1e-4, (0.8, 0.999), False, "lin2018"),
    "PacGAN2, Lin et al. setup": ("nonsaturating", 1, 2, 1e-4, (0.8, 0.999), False, "lin2018"),
    "PacGAN4, Lin et al. setup": ("nonsaturating", 1, 4, 1e-4, (0.8, 0.999), False, "lin2018"),
    # one difference at a time, on our small networks with pack 2
    "PacGAN2, ours": ("nonsaturating", 1, 2, 2e-4, (0.5, 0.999), False),
    "PacGAN2, ours + Lin optimiser": ("nonsaturating", 1, 2, 1e-4, (0.8, 0.999), False),
    "PacGAN2, ours + 100 groups": ("nonsaturating", 1, 2, 2e-4, (0.5, 0.999), False, "groups100"),
    "PacGAN2, ours + maxout D": ("nonsaturating", 1, 2, 2e-4, (0.5, 0.999), False, "maxout"),
    "PacGAN2, ours + batch-norm G": ("nonsaturating", 1, 2, 2e-4, (0.5, 0.999), False, "bn_g"),
    "GAN, ours + 100 groups": ("nonsaturating", 1, 1, 2e-4, (0.5, 0.999), False, "groups100"),
    # packing's share of the maxout gain: the same maxout discriminator without packing and with pack 4
    "GAN, ours + maxout D": ("nonsaturating", 1, 1, 2e-4, (0.5, 0.999), False, "maxout"),
    "PacGAN4, ours + maxout D": ("nonsaturating", 1, 4, 2e-4, (0.5, 0.999), False, "maxout"),
}
STD = {"8gaussians": 0.02, "25gaussians": 0.05}


def networks(setup, pack, sn):
    """Generator, discriminator and samples per batch of a setup (our default: 3 × 128 MLPs, 256 samples)."""
    if setup == "lin2018":
        return MLPGenerator(2, 2, 400, 4, batch_norm=True), MLPDiscriminator(2, 200, 3, pack=pack, maxout=5), 100 * pack
    G = MLPGenerator(2, 2, 128, 3, batch_norm=setup == "bn_g")
    D = MLPDiscriminator(2, 128, 3, pack=pack, spectral_norm=sn, maxout=5 if setup == "maxout" else 1)
    return G, D, 100 * pack if setup == "groups100" else 256


def evaluate(gan, name, seed):
    """(modes captured, high-quality share, per-mode counts) of 2,500 samples drawn with ``seed``."""
    return mode_coverage(gan.sample(2500, torch.Generator().manual_seed(seed)), data.toy_modes(name), STD[name])


def train_one(name, method, seed, steps, eval_every=0):
    """Train one GAN; with ``eval_every`` > 0 also return its coverage every that many steps (a learning curve)."""
    loss, n_critic, pack, lr, betas, sn, *setup = METHODS[method]
    torch.manual_seed(seed)
    G, D, batch = networks(setup[0] if setup else "ours", pack, sn)
    gan = GAN(G, D)
    opts = {"G": torch.optim.Adam(gan.G.parameters(), lr, betas=betas),
            "D": torch.optim.Adam(gan.D.parameters(), lr, betas=betas)}

    def curve_point(model):
        captured, hq, _ = evaluate(model, name, seed)
        return {"modes": captured, "high_quality": hq}

    history = fit(gan, opts, lambda g: data.toy_2d(name, batch, g), steps=steps,
                  step_fn=make_gan_step(loss, n_critic), progress=False, seed=seed,
                  eval_fn=curve_point if eval_every else None, eval_every=eval_every)
    return gan, history.eval if eval_every else None


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=5000)
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--datasets", default="8gaussians,25gaussians")
    parser.add_argument("--methods", default=None,
                        help="subset of: " + "; ".join(METHODS) + " (default: the first four)")
    parser.add_argument("--sep", default=",", help="separator of --methods (use ';' for names that contain commas)")
    parser.add_argument("--append", action="store_true", help="add the runs to an existing --out file")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--eval-every", type=int, default=0, help="also save a learning curve: coverage every N steps")
    parser.add_argument("--out", help="JSON file for the results (default: results/gan_modes_<dataset>.json, "
                                      "for a single --datasets value)")
    args = parser.parse_args()
    if args.out is None:
        if "," in args.datasets:
            parser.error("several --datasets need an explicit --out (chapter 06 reads one file per data set)")
        args.out = str(Path(__file__).parent / "results" / f"gan_modes_{args.datasets}.json")
    torch.set_num_threads(args.threads)
    methods = args.methods.split(args.sep) if args.methods else list(METHODS)[:4]
    unknown = set(methods) - set(METHODS)
    if unknown:
        parser.error(f"unknown methods {sorted(unknown)}")
    protocol = ("2500 samples, high quality = within 3 std of nearest mode, "
                "captured = at least 20 high-quality samples")
    results = {"steps": args.steps, "protocol": protocol, "runs": []}
    if args.append and Path(args.out).exists():
        results = load_result(args.out)
        if results["steps"] != args.steps:
            parser.error(f"{args.out} holds {results['steps']}-step runs; --steps must match to append")
    for name in args.datasets.split(","):
        for method in methods:
            for seed in map(int, args.seeds.split(",")):
                start = time.perf_counter()
                gan, curve = train_one(name, method, seed, args.steps, args.eval_every)
                captured, hq, per_mode = evaluate(gan, name, seed)
                row = {"dataset": name, "method": method, "seed": seed, "modes": captured, "n_modes": len(per_mode),
                       "modes_any": sum(c > 0 for c in per_mode),  # Lin et al.'s count: one good sample suffices
                       "high_quality": hq, "per_mode": per_mode, "seconds": time.perf_counter() - start}
                if curve is not None:
                    row["curve"] = curve  # {"step": [...], "modes": [...], "high_quality": [...]}
                results["runs"].append(row)
                print(row, flush=True)
                save_result(args.out, results, config=vars(args))


if __name__ == "__main__":
    main()
