"""Train the MNIST judge (``cgen_lessons.classifier.MnistClassifier``) and ship it.

AdamW with linear warmup and cosine decay, batches of random training images (50,000), each image
shifted by up to 2 pixels (random translation: the judge must not depend on exact centring, which
generated digits do not have); the checkpoint with the best validation accuracy (10,000 images) is
kept and reported on the test set (10,000) once. Writes data/checkpoints/mnist_classifier.pt
(``weights_only``-loadable: state dict and config) and benchmarks/results/mnist_classifier.json
(accuracies, the accuracy on the first 2,000 test images that a test re-checks, timing).

    python benchmarks/mnist_classifier.py               # ≈ 10 min on a 2-core CPU
    python benchmarks/mnist_classifier.py --set steps=3 val_n=200 test_n=200 --out /tmp/c.pt --results /tmp/c.json
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import time

import torch
import torch.nn.functional as F

from cgen_lessons import data, results
from cgen_lessons.classifier import CHECKPOINT, MnistClassifier
from cgen_lessons.config import Settings, add_set_argument
from cgen_lessons.results import save as save_result
from cgen_lessons.train import KeepBest, fit, warmup_cosine
from cgen_lessons.utils import save_model, seed_everything

SUBSET = 2_000  # the test images whose accuracy tests/test_classifier.py recomputes from the shipped weights


@dataclasses.dataclass(frozen=True)
class ClassifierSettings(Settings):
    width: int = 32
    feature_dim: int = 128
    dropout: float = 0.25
    lr: float = 2e-3
    weight_decay: float = 0.01
    batch: int = 128
    steps: int = 2_400
    warmup: int = 100
    shift: int = 2
    eval_every: int = 400
    val_n: int = 10_000
    test_n: int = 10_000
    seed: int = 0
    threads: int = 2


def shifted(x: torch.Tensor, shift: int, g: torch.Generator) -> torch.Tensor:
    """Each image translated by (dy, dx) ~ U{−shift..shift}², zeros shifted in; (N, 1, 28, 28)."""
    if shift == 0:
        return x
    padded = F.pad(x[:, 0], (shift, shift, shift, shift))  # (N, 28 + 2s, 28 + 2s)
    dy, dx = torch.randint(0, 2 * shift + 1, (2, len(x)), generator=g)  # (N,) each
    rows = (dy[:, None] + torch.arange(28))[:, :, None]  # (N, 28, 1)
    cols = (dx[:, None] + torch.arange(28))[:, None, :]  # (N, 1, 28)
    return padded[torch.arange(len(x))[:, None, None], rows, cols].unsqueeze(1)  # (N, 1, 28, 28)


def accuracy(model: MnistClassifier, x: torch.Tensor, y: torch.Tensor) -> float:
    return (model.predict(x) == y).double().mean().item()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_set_argument(parser)
    parser.add_argument("--out", default=str(CHECKPOINT))
    parser.add_argument("--results", default="mnist_classifier")
    args = parser.parse_args()
    s = ClassifierSettings().override(args.set)
    torch.set_num_threads(s.threads)
    seed_everything(s.seed)
    x_train, y_train = data.load_mnist("train")
    x_val, y_val = data.load_mnist("val", n=s.val_n)
    model = MnistClassifier(width=s.width, feature_dim=s.feature_dim, dropout=s.dropout)
    opt = torch.optim.AdamW(model.parameters(), lr=s.lr, weight_decay=s.weight_decay)
    rows = data.random_rows(x_train, y_train, batch_size=s.batch)

    def batch(g):
        x, y = rows(g)
        return shifted(x, s.shift, g), y

    keep = KeepBest(lambda m: accuracy(m, x_val, y_val), "val_accuracy", higher_is_better=True)
    start = time.perf_counter()
    hist = fit(model, opt, batch, steps=s.steps, loss_fn=lambda m, b: F.cross_entropy(m(b[0]), b[1]),
               scheduler=warmup_cosine(opt, min(s.warmup, s.steps - 1), s.steps), eval_fn=keep,
               eval_every=min(s.eval_every, s.steps), seed=s.seed, desc="MNIST classifier")
    seconds = time.perf_counter() - start
    keep.restore(model)
    x_test, y_test = data.load_mnist("test", n=s.test_n)
    save_model(args.out, model, model.config)
    out = {"val_accuracy": keep.best, "test_accuracy": accuracy(model, x_test, y_test),
           "test_subset": min(SUBSET, s.test_n),
           "test_subset_accuracy": accuracy(model, x_test[:SUBSET], y_test[:SUBSET]),
           "params": sum(p.numel() for p in model.parameters()), "train_seconds": round(seconds, 1),
           "curve": {"step": hist.eval["step"], "val_accuracy": hist.eval["val_accuracy"]},
           "checkpoint": os.path.relpath(args.out, results.ROOT)}
    save_result(args.results, out, config=dataclasses.asdict(s))
    print(f"validation accuracy {out['val_accuracy']:.4f}, test accuracy {out['test_accuracy']:.4f} "
          f"({out['params']:,} parameters, {seconds / 60:.1f} min)")


if __name__ == "__main__":
    main()
