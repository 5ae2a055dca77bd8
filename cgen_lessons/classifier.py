"""The MNIST judge: a classifier that scores generated 28×28 digits and is separate from every model
it judges (trained once by ``benchmarks/mnist_classifier.py``, shipped as a small checkpoint).

    p(y | x) = softmax(W φ(x) + b),   φ(x) ∈ R^128 the output of a small CNN.

Its predictions give the class histogram of generated samples (mode coverage on real data) and the
accuracy of class-conditional samples; φ is the feature space of the Fréchet distance
(``metrics.frechet_distance``) on MNIST.
"""

from __future__ import annotations

import torch
import torch.nn as nn

from . import checks, results
from .utils import eval_mode, load_model

__all__ = ["MnistClassifier", "CHECKPOINT", "load_mnist_classifier", "class_histogram", "kl_to_uniform"]

CHECKPOINT = results.ROOT / "data" / "checkpoints" / "mnist_classifier.pt"


class MnistClassifier(nn.Module):
    """Two blocks of two 3×3 convolutions (``width``, then 2·``width`` channels, each block ending in a
    2×2 max-pool: 28 → 14 → 7), a ``feature_dim``-unit ReLU layer φ(x) after dropout, and a linear
    read-out to 10 logits."""

    def __init__(self, width: int = 32, feature_dim: int = 128, dropout: float = 0.25):
        super().__init__()
        checks.positive_int(width, "width")
        checks.positive_int(feature_dim, "feature_dim")
        checks.probability(dropout, "dropout", allow_one=False)
        self.config = {"width": width, "feature_dim": feature_dim, "dropout": dropout}
        w = width
        self.phi = nn.Sequential(
            nn.Conv2d(1, w, 3, padding=1), nn.ReLU(), nn.Conv2d(w, w, 3, padding=1), nn.ReLU(),
            nn.MaxPool2d(2),  # (N, w, 14, 14)
            nn.Conv2d(w, 2 * w, 3, padding=1), nn.ReLU(), nn.Conv2d(2 * w, 2 * w, 3, padding=1), nn.ReLU(),
            nn.MaxPool2d(2),  # (N, 2w, 7, 7)
            nn.Flatten(), nn.Dropout(dropout), nn.Linear(2 * w * 49, feature_dim), nn.ReLU())
        self.head = nn.Linear(feature_dim, 10)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """φ(x) for images (N, 1, 28, 28) in [0, 1]; (N, feature_dim)."""
        checks.tensor(x, "x", kind="float", finite=True)
        if x.dim() != 4 or tuple(x.shape[1:]) != (1, 28, 28):
            raise ValueError(f"x must be MNIST images of shape (N, 1, 28, 28), got {tuple(x.shape)}")
        return self.phi(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The logits W φ(x) + b; (N, 10)."""
        return self.head(self.features(x))

    @torch.no_grad()
    def predict(self, x: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
        """The most probable digit for each image; (N,)."""
        with eval_mode(self):
            return torch.cat([self(x[i:i + batch_size]).argmax(1) for i in range(0, len(x), batch_size)])

    @torch.no_grad()
    def embed(self, x: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
        """φ(x) in eval mode, in batches; (N, feature_dim) float64 for the Fréchet distance."""
        with eval_mode(self):
            return torch.cat([self.features(x[i:i + batch_size]) for i in range(0, len(x), batch_size)]).double()


def load_mnist_classifier(path=None) -> MnistClassifier:
    """The shipped classifier (``data/checkpoints/mnist_classifier.pt``, loaded with ``weights_only=True``)
    in eval mode; a missing file names the script that writes it."""
    return load_model(MnistClassifier, CHECKPOINT if path is None else path,
                      "run `python benchmarks/mnist_classifier.py` to train the MNIST classifier and write it")


def class_histogram(classifier: MnistClassifier, images: torch.Tensor) -> torch.Tensor:
    """The share of ``images`` (N, 1, 28, 28) in [0, 1] that ``classifier`` assigns to each digit: p̂(k) =
    #{i : argmax p(y | x_i) = k} / N; (10,) float64, summing to 1. A generator that covers all ten
    digits equally has p̂ ≈ 1/10 everywhere; a collapsed one piles its mass on a few."""
    checks.tensor(images, "images", dims=4, kind="float")
    if len(images) == 0:
        raise ValueError("images is empty: the histogram of no samples is undefined")
    return torch.bincount(classifier.predict(images), minlength=10).double() / len(images)  # (10,)


def kl_to_uniform(p: torch.Tensor) -> float:
    """KL(p̂ ‖ uniform) = Σ_k p̂(k) log(K p̂(k)) in nats, with 0 log 0 = 0: 0 for a perfectly even histogram,
    log K (2.30 for ten digits) when every sample falls in one class."""
    checks.tensor(p, "p", dims=1, kind="float", finite=True)
    if (p < 0).any() or abs(p.sum().item() - 1) > 1e-6:
        raise ValueError(f"p must be a probability vector (non-negative, summing to 1), got sum {p.sum().item():.6f}")
    return torch.xlogy(p, p * len(p)).sum().item()
