"""Figures used across the course: image grids, 2-D scatter plots, loss curves, attention maps, and a CJK font."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import matplotlib.pyplot as plt
import torch

__all__ = ["image_grid", "scatter_2d", "loss_curves", "lm_benchmark", "attention_map", "use_cjk_font", "controls"]


def image_grid(images: torch.Tensor, nrow: int = 10, ax=None, title: str | None = None, cmap: str = "gray_r"):
    """Tile images of shape (N, 1, H, W) or (N, H, W), values in [0, 1], into one picture."""
    if not isinstance(images, torch.Tensor) or images.dim() not in (3, 4):
        raise ValueError("images must be a tensor of shape (N, 1, H, W) or (N, H, W)")
    if isinstance(nrow, bool) or not isinstance(nrow, int) or nrow <= 0:
        raise ValueError(f"nrow must be a positive integer, got {nrow!r}")
    x = images.detach().float().cpu()
    if x.dim() == 4:
        if x.shape[1] != 1:
            raise ValueError(f"only single-channel images are supported, got {x.shape[1]} channels")
        x = x[:, 0]  # (N, H, W)
    n, h, w = x.shape
    if n == 0:
        raise ValueError("images is empty: there is nothing to show")
    ncol = min(nrow, n)
    rows = -(-n // ncol)
    canvas = torch.ones(rows * (h + 1) - 1, ncol * (w + 1) - 1) * float("nan")
    for i in range(n):
        r, c = divmod(i, ncol)
        canvas[r * (h + 1): r * (h + 1) + h, c * (w + 1): c * (w + 1) + w] = x[i]
    if ax is None:
        _, ax = plt.subplots(figsize=(0.5 * ncol + 0.5, 0.5 * rows + 0.5))
    cm = plt.get_cmap(cmap).with_extremes(bad="white")
    ax.imshow(canvas.numpy(), cmap=cm, vmin=0.0, vmax=1.0, interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return ax


def scatter_2d(points: torch.Tensor, reference: torch.Tensor | None = None, ax=None, title: str | None = None,
               s: float = 2.0, lim: float | None = None):
    """Scatter (N, 2) points, optionally over reference points (e.g. the data) in grey."""
    if not isinstance(points, torch.Tensor) or points.dim() != 2 or points.shape[1] != 2:
        raise ValueError("points must be a tensor of shape (N, 2)")
    if ax is None:
        _, ax = plt.subplots(figsize=(3.2, 3.2))
    if reference is not None:
        ref = reference.detach().cpu()
        ax.scatter(ref[:, 0], ref[:, 1], s=s, c="0.75", label="data")
    p = points.detach().cpu()
    ax.scatter(p[:, 0], p[:, 1], s=s, c="C0", label="samples")
    ax.set_aspect("equal")
    if lim is not None:
        ax.set_xlim(-lim, lim)
        ax.set_ylim(-lim, lim)
    if title:
        ax.set_title(title)
    return ax


def loss_curves(histories: dict, key: str = "loss", kind: str = "train", ax=None, smooth: int = 1,
                ylabel: str | None = None, logy: bool = False):
    """Plot ``history.<kind>[key]`` against steps for each named ``History`` in ``histories``.

    ``smooth`` > 1 applies a trailing moving average of that many points.
    """
    if not isinstance(histories, dict) or not histories:
        raise ValueError("histories must be a non-empty dict of name -> History")
    if isinstance(smooth, bool) or not isinstance(smooth, int) or smooth < 1:
        raise ValueError(f"smooth must be a positive integer, got {smooth!r}")
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3))
    for name, hist in histories.items():
        record = hist.train if kind == "train" else hist.eval
        if key not in record:
            raise ValueError(f"history {name!r} has no {kind} values named {key!r}")
        y = torch.tensor(record[key], dtype=torch.float64)
        if smooth > 1 and len(y) >= smooth:
            kernel = torch.ones(smooth, dtype=torch.float64) / smooth
            y = torch.nn.functional.conv1d(y[None, None], kernel[None, None])[0, 0]
            steps = record["step"][smooth - 1:]
        else:
            steps = record["step"]
        ax.plot(steps, y.numpy(), label=name)
    ax.set_xlabel("step")
    ax.set_ylabel(ylabel or key)
    if logy:
        ax.set_yscale("log")
    ax.legend()
    return ax


def lm_benchmark(results: dict, names: list[str] | None = None, ax=None):
    """Plot and tabulate ``benchmarks/results/lm_long_run.json``: validation perplexity against
    training minutes for each neural model (the n-gram as a dashed line), then one printed row
    per model with its best validation NLL and the test NLL of that checkpoint (bits/char too)."""
    import math

    runs = results["runs"]
    names = [n for n in (names or list(runs)) if n in runs]
    if not names:
        raise ValueError(f"none of the requested models is in the results; they have {', '.join(runs)}")
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.4))
    for name in names:
        run = runs[name]
        if "step" in run:
            minutes = [s / run["steps"] * run["train_seconds"] / 60 for s in run["step"]]
            ax.plot(minutes, [math.exp(v) for v in run["val_nll"]], "o-", ms=3, label=name.upper())
        else:
            ax.axhline(math.exp(run["best_val_nll"]), color="k", ls="--", label=f"{run['n']}-gram")
    ax.set_xlabel(f"training time (minutes, {results['settings']['threads']} CPU thread)")
    ax.set_ylabel("validation perplexity")
    ax.legend()
    print(f"{'model':<8}{'steps':>7}{'minutes':>9}{'best val NLL':>14}{'at step':>9}{'test NLL':>10}"
          f"{'test bits/char':>16}{'test PPL':>10}")
    for name in names:
        run = runs[name]
        steps = f"{run['steps']:,}" if "steps" in run else "counts"
        at = f"{run['best_step']:,}" if "best_step" in run else f"n={run['n']}"
        print(f"{name.upper():<8}{steps:>7}{run['train_seconds'] / 60:>9.1f}{run['best_val_nll']:>14.3f}{at:>9}"
              f"{run['test_nll']:>10.3f}{run['test_bpc']:>16.3f}{math.exp(run['test_nll']):>10.2f}")
    return ax


# how a character is shown as a tick label: whitespace made visible
VISIBLE = {" ": "\u2423", "\n": "\u21b5", "\t": "\u21e5"}


def attention_map(weights: torch.Tensor, keys, queries=None, ax=None, title: str | None = None,
                  max_fontsize: float = 9.0):
    """Draw attention weights $A \\in [0, 1]^{T_q \\times T_k}$ (row $i$: how query $i$ spreads over the keys) as a
    heat map, labelled with the key and query tokens (strings; whitespace shown as ␣ ↵ ⇥). The label size
    shrinks with the number of tokens so that neighbouring labels never overlap."""
    from cgen_lessons import checks

    weights = checks.tensor(weights, "weights", dims=2, kind="float", finite=True)
    keys = [VISIBLE.get(k, k) for k in keys]
    queries = keys if queries is None else [VISIBLE.get(q, q) for q in queries]
    if (len(queries), len(keys)) != tuple(weights.shape):
        raise ValueError(f"weights has shape {tuple(weights.shape)}, but queries has {len(queries)} labels and keys "
                         f"{len(keys)}")
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 5))
    ax.imshow(weights.detach().float().cpu().numpy(), cmap="viridis", aspect="auto", vmin=0.0)
    box = ax.get_window_extent().transformed(ax.figure.dpi_scale_trans.inverted())  # axes size in inches
    per_label = min(box.width / len(keys), box.height / len(queries)) * 72  # points available per label
    size = min(max_fontsize, 0.8 * per_label)
    ax.set_xticks(range(len(keys)), keys, fontsize=size)
    ax.set_yticks(range(len(queries)), queries, fontsize=size)
    ax.tick_params(length=0, pad=1)
    if title:
        ax.set_title(title)
    return ax


def use_cjk_font() -> bool:
    """Register a Chinese-capable font with matplotlib if one is installed; return whether one was.

    Looks for WenQuanYi Micro Hei from Debian's fonts-wqy-microhei, or a wheel that ships it.
    Without one, Chinese labels render as boxes but nothing fails.
    """
    from matplotlib import font_manager

    candidates = [Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")]
    spec = importlib.util.find_spec("paperang_p2_fonts_cjk")
    if spec is not None and spec.origin:
        candidates += sorted(Path(spec.origin).parent.rglob("*.tt[cf]"))
    for path in candidates:
        if path.exists():
            font_manager.fontManager.addfont(str(path))
            name = font_manager.FontProperties(fname=str(path)).get_name()
            plt.rcParams["font.sans-serif"] = [name] + list(plt.rcParams["font.sans-serif"])
            return True
    return False


def controls(fn, **sliders):
    """``ipywidgets.interactive(fn, **sliders)`` for the chapters' explorers, made readable.

    A saved notebook opened before its kernel runs shows a widget's plain-text form; for
    ``interactive`` that is ``interactive(children=(FloatSlider(…`` cut at 110 characters. The
    box returned here says instead which controls it has and that running the cell brings them
    to life. Every label gets as much width as it needs ("top-k (0 = off)" is not cut).
    """
    import ipywidgets as widgets

    if not callable(fn):
        raise ValueError(f"fn must be a function, got {type(fn).__name__}")
    names = []
    for name, control in sliders.items():
        if isinstance(control, widgets.Widget):
            if hasattr(control, "style") and hasattr(control.style, "description_width"):
                control.style.description_width = "initial"
            names.append(getattr(control, "description", "") or name)
        else:
            names.append(name)

    class Controls(widgets.interactive):
        def __repr__(self) -> str:
            return f"[controls: {', '.join(names)} — run this cell to use them]"

    return Controls(fn, **sliders)
