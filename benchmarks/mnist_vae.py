"""VAE and IWAE on dynamically binarised MNIST, measured by test log-likelihood (chapter 05's yardstick).

Both models have the same architecture (``cgen_lessons.vae.VAE``: an MLP encoder and decoder with two
hidden layers of ``hidden`` ReLU units, a ``z_dim``-dimensional Gaussian latent, a Bernoulli decoder).
The VAE minimises the negative ELBO; the IWAE the negative importance-weighted bound with ``k_train``
samples (Burda et al. 2016). Batches of training images are drawn with replacement and binarised afresh
(x ~ Bern(intensity), "dynamic binarisation", as Burda et al.); the validation and test images once,
with a fixed seed.
Every ``eval_every`` steps the log-likelihood of ``val_n`` validation images is estimated with
``val_k`` importance samples; the best step on validation is kept, and its test negative
log-likelihood is estimated once with ``test_k`` importance samples on ``test_n`` test images.

Writes benchmarks/results/mnist_vae.json (one entry per objective) and the weights to
data/checkpoints/mnist_{vae,iwae}.pt (``weights_only``-loadable).

    python benchmarks/mnist_vae.py --set objective=vae      # ≈ 10 min on a 2-core CPU (8 training + 2 testing)
    python benchmarks/mnist_vae.py --set objective=iwae    # ≈ 15 min
    python benchmarks/mnist_vae.py --set steps=5 eval_every=5 val_n=50 test_n=20 test_k=10 --no-save   # smoke
"""

from __future__ import annotations

import dataclasses
import time
from typing import Literal

import torch

from cgen_lessons import data, results
from cgen_lessons.config import Settings
from cgen_lessons.results import save as save_result
from cgen_lessons.train import KeepBest, fit
from cgen_lessons.utils import save_model, seed_everything
from cgen_lessons.vae import VAE, iwae_loss, nll_estimate

CHECKPOINTS = results.ROOT / "data" / "checkpoints"
CHECK_SUBSET, CHECK_K = 500, 100  # the first 500 test images, 100 importance samples: a quick re-check


@dataclasses.dataclass(frozen=True)
class MnistVAESettings(Settings):
    objective: Literal["vae", "iwae"] = "vae"
    k_train: int = 5  # importance samples of the IWAE bound in training
    z_dim: int = 50
    hidden: int = 200
    lr: float = 1e-3
    batch: int = 100
    steps: int = 60_000
    eval_every: int = 5_000
    val_n: int = 2_000
    val_k: int = 100
    test_n: int = 10_000
    test_k: int = 1_000
    seed: int = 0
    threads: int = 2


def binarised(x: torch.Tensor, seed: int) -> torch.Tensor:
    """One fixed draw x ~ Bern(intensity) per pixel; (N, 784)."""
    return torch.bernoulli(x.flatten(1), generator=torch.Generator().manual_seed(seed))


def run(s: MnistVAESettings, save: bool = True) -> dict:
    seed_everything(s.seed)
    x_train = data.load_mnist("train")[0].flatten(1)  # (50000, 784) intensities in [0, 1]
    x_val = binarised(data.load_mnist("val", n=s.val_n)[0], seed=1)
    x_test = binarised(data.load_mnist("test", n=s.test_n)[0], seed=2)
    model = VAE(784, s.z_dim, s.hidden, likelihood="bernoulli")
    opt = torch.optim.Adam(model.parameters(), lr=s.lr)

    def batch(g):  # dynamic binarisation: a fresh draw for every batch
        rows = torch.randint(0, len(x_train), (s.batch,), generator=g)
        return torch.bernoulli(x_train[rows], generator=g)

    if s.objective == "vae":
        loss_fn = lambda m, x: m.loss(x)  # noqa: E731 - the negative ELBO
    else:
        loss_fn = lambda m, x: iwae_loss(m, x, s.k_train)  # noqa: E731 - the negative IWAE bound
    keep = KeepBest(lambda m: nll_estimate(m, x_val, s.val_k, seed=3), "val_nll", higher_is_better=False)
    start = time.perf_counter()
    hist = fit(model, opt, batch, steps=s.steps, loss_fn=loss_fn, eval_fn=keep,
               eval_every=min(s.eval_every, s.steps), seed=s.seed, desc=f"MNIST {s.objective.upper()}")
    train_seconds = time.perf_counter() - start
    keep.restore(model)
    start = time.perf_counter()
    test_nll = nll_estimate(model, x_test, s.test_k, seed=4)
    subset = min(CHECK_SUBSET, s.test_n)  # what tests/test_mnist_vae.py recomputes from the shipped weights
    subset_nll = nll_estimate(model, x_test[:subset], CHECK_K, seed=4)
    with torch.no_grad():
        test_elbo = model.elbo_terms(x_test, generator=torch.Generator().manual_seed(5))["elbo"].mean().item()
    out = {"objective": s.objective, "best_step": hist.eval["step"][hist.eval["val_nll"].index(keep.best)],
           "val_nll": keep.best, "test_nll": test_nll, "test_neg_elbo": -test_elbo,
           "test_n": s.test_n, "test_k": s.test_k,
           "check": {"n": subset, "k": CHECK_K, "nll": subset_nll}, "train_seconds": round(train_seconds, 1),
           "test_seconds": round(time.perf_counter() - start, 1),
           "params": sum(p.numel() for p in model.parameters()),
           "curve": {"step": hist.eval["step"], "val_nll": hist.eval["val_nll"]}, "settings": dataclasses.asdict(s)}
    if save:
        CHECKPOINTS.mkdir(parents=True, exist_ok=True)
        save_model(CHECKPOINTS / f"mnist_{s.objective}.pt", model,
                   {"x_dim": 784, "z_dim": s.z_dim, "hidden": s.hidden, "likelihood": "bernoulli"})
        try:
            saved = results.load("mnist_vae")
        except FileNotFoundError:
            saved = {}
        runs = {**saved.get("runs", {}), s.objective: out}
        save_result("mnist_vae", {"runs": runs}, config=dataclasses.asdict(s))
    return out


def main():
    s, save = MnistVAESettings.from_command_line(__doc__)
    torch.set_num_threads(s.threads)
    out = run(s, save=save)
    print(f"{out['objective'].upper()}: test −log p(x) ≈ {out['test_nll']:.2f} nats (k = {out['test_k']}, "
          f"{out['test_n']} test images), −ELBO {out['test_neg_elbo']:.2f}, validation {out['val_nll']:.2f} "
          f"at step {out['best_step']}; training {out['train_seconds'] / 60:.1f} min")


if __name__ == "__main__":
    main()
