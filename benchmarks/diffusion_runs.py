"""Chapter 07's diffusion models trained longer than the chapter can afford, plus the chapter
05/06 baselines on the same digits metric (chapter 07 reads benchmarks/results/diffusion.json).

- digits: the chapter's U-Net recipe (``recipes.train_digit_diffusion``) at several training
  lengths; for each, the Fréchet distance to the test digits (``recipes.DigitScorer``, 1,000
  samples) of DDPM and DDIM samplers with several step counts, their sampling time, and the
  class-conditional model with classifier-free guidance (FD and the classifier's accuracy on
  the requested class); the chapter 05 VAE (Gaussian likelihood) and chapter 06 GANs with their
  chapter recipes;
- 2-D: ``recipes.train_toy_diffusion`` on the swiss roll and the 8-Gaussians ring at several
  lengths: MMD to fresh data (bandwidth 0.2, 1,000 samples) and, on the ring, chapter 06's
  mode-coverage protocol (2,500 samples, 3σ).

    python benchmarks/diffusion_runs.py --digit-steps 1500,6000 --toy-steps 2000,20000
    python benchmarks/diffusion_runs.py --parts baselines --append     # redo one part only
"""

import argparse
from pathlib import Path

import torch

from cgen_lessons import data, recipes
from cgen_lessons.gan import mode_coverage
from cgen_lessons.metrics import mmd2
from cgen_lessons.results import load as load_result
from cgen_lessons.results import save as save_result
from cgen_lessons.utils import timer

SAMPLERS = [("DDPM", None, 1.0), ("DDPM", 50, 1.0), ("DDIM", 50, 0.0), ("DDIM", 20, 0.0), ("DDIM", 10, 0.0)]
BANDWIDTH = 0.2


def g():
    return torch.Generator().manual_seed(0)


def baseline_runs(scorer, out):
    """Chapters 05/06 models with their chapters' thread count (1): GAN training is chaotic enough
    that a different number of threads (different float summation order) changes its result."""
    torch.set_num_threads(1)
    d = scorer.digits
    with timer(verbose=False) as t:
        vae, _ = recipes.train_digit_vae(d.x_train, progress=False)
    out["baselines"]["VAE (chapter 05 recipe, Gaussian likelihood, decoder means)"] = {
        "fd": scorer.fd(vae.sample(1000, generator=g()).clamp(0, 1)), "train_seconds": t["seconds"], "threads": 1}
    for loss in ("nonsaturating", "lsgan"):
        with timer(verbose=False) as t:
            gan, _ = recipes.train_dcgan(loss, d.x_train, progress=False)
        out["baselines"][f"DCGAN {loss} (chapter 06 recipe)"] = {"fd": scorer.fd(gan.sample(1000, g())),
                                                                 "train_seconds": t["seconds"], "threads": 1}
    print(out["baselines"], flush=True)


def digits_runs(scorer, steps_list, threads, out):
    torch.set_num_threads(threads)
    d = scorer.digits
    x, y = 2 * d.x_train - 1, d.y_train
    for steps in steps_list:
        with timer(verbose=False) as t:
            model, hist = recipes.train_digit_diffusion(x, y, steps=steps, progress=False)
        row = {"train_steps": steps, "threads": threads, "train_seconds": t["seconds"],
               "final_loss": sum(hist.train["loss"][-100:]) / 100,
               "samplers": [], "guidance": []}
        for name, n_steps, eta in SAMPLERS:
            with timer(verbose=False) as t:
                s = model.sample(1000, (1, 8, 8), steps=n_steps, eta=eta, generator=g(), clip_x0=1.0)
            row["samplers"].append({"sampler": name, "steps": n_steps or model.T, "eta": eta,
                                    "fd": scorer.fd((s + 1) / 2), "seconds": t["seconds"]})
        labels = torch.arange(1000) % 10
        for w in (1.0, 2.0, 4.0):
            s = (model.sample(1000, (1, 8, 8), steps=50, eta=0.0, y=labels, guidance=w, generator=g(),
                              clip_x0=1.0) + 1) / 2
            row["guidance"].append({"w": w, "fd": scorer.fd(s), "accuracy": scorer.accuracy(s, labels)})
        out["digits"].append(row)
        print(row, flush=True)


def toy_runs(steps_list, out):
    for name in ("swissroll", "8gaussians"):
        x = data.toy_2d(name, 20000, torch.Generator().manual_seed(0))
        ref = data.toy_2d(name, 1000, torch.Generator().manual_seed(1))
        for steps in steps_list:
            with timer(verbose=False) as t:
                model, _ = recipes.train_toy_diffusion(x, steps=steps, progress=False)
            samples = model.sample(2500, (2,), generator=torch.Generator().manual_seed(0))
            row = {"dataset": name, "train_steps": steps, "threads": torch.get_num_threads(),
                   "train_seconds": t["seconds"], "mmd2": mmd2(ref, samples[:1000], BANDWIDTH)}
            if name == "8gaussians":
                row["modes"], row["high_quality"], row["per_mode"] = mode_coverage(samples, data.toy_modes(name), 0.02)
            out["toy"].append(row)
            print(row, flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--digit-steps", default="1500,6000")
    parser.add_argument("--toy-steps", default="2000,20000")
    parser.add_argument("--threads", type=int, default=2, help="threads for the diffusion models (chapter 07 uses 2)")
    parser.add_argument("--parts", default="toy,baselines,digits", help="any of toy, baselines, digits")
    parser.add_argument("--append", action="store_true", help="replace only the given parts of an existing --out file")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "diffusion.json"))
    args = parser.parse_args()
    parts = args.parts.split(",")
    if set(parts) - {"toy", "baselines", "digits"}:
        parser.error(f"unknown parts in {args.parts!r}")
    out = {"threads": args.threads, "device": "cpu", "mmd_bandwidth": BANDWIDTH, "baselines": {}, "digits": [],
           "toy": []}
    if args.append and Path(args.out).exists():
        out = load_result(args.out)
    scorer = recipes.DigitScorer(progress=False)
    if "toy" in parts:
        torch.set_num_threads(1)  # chapter 07 trains its 2-D model on one thread
        out["toy"] = []
        toy_runs([int(s) for s in args.toy_steps.split(",")], out)
        save_result(args.out, out, config=vars(args))
    if "baselines" in parts:
        out["baselines"] = {}
        baseline_runs(scorer, out)
        save_result(args.out, out, config=vars(args))
    if "digits" in parts:
        out["digits"] = []
        digits_runs(scorer, [int(s) for s in args.digit_steps.split(",")], args.threads, out)
        save_result(args.out, out, config=vars(args))


if __name__ == "__main__":
    main()
