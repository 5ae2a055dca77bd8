"""Input checks shared by the whole package.

A public function checks its arguments in one call at its top — usually a private
``_check_<name>`` helper placed just above it, built from the functions below — so that
``show_source`` shows the algorithm, not a page of ``if ... raise``. Every check raises a
``ValueError`` (or ``TypeError`` for a value of the wrong kind) whose message names the argument,
what was expected and what came, instead of a silent wrong result or an error from deep inside
torch.

    >>> number(0.5, "p", low=0, high=1, low_open=True)
    0.5
    >>> positive_int(-1, "n_layers")
    Traceback (most recent call last):
    ...
    ValueError: n_layers must be a positive integer, got -1
"""

from __future__ import annotations

import math
import numbers

import numpy as np
import torch

__all__ = ["positive_int", "nonneg_int", "number", "probability", "one_of", "tensor", "token_ids", "class_ids",
           "same_shape", "device_available"]


def _describe(value) -> str:
    if isinstance(value, torch.Tensor):
        return f"a {value.dtype} tensor of shape {tuple(value.shape)}"
    text = repr(value)
    return text if len(text) <= 60 else f"a {type(value).__name__}"


def positive_int(value, name: str) -> int:
    """``value`` as an int, if it is an integer ≥ 1 (``True`` is not an integer here)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {_describe(value)}")
    return int(value)


def nonneg_int(value, name: str) -> int:
    """``value`` as an int, if it is an integer ≥ 0."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{name} must be an integer >= 0, got {_describe(value)}")
    return int(value)


def number(value, name: str, *, low: float | None = None, high: float | None = None, low_open: bool = False,
           high_open: bool = False, finite: bool = True) -> float:
    """``value`` as a float, if it is a real number (not a bool, string or tensor) in the given range."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a number, got {_describe(value)}")
    value = float(value)
    bad = math.isnan(value) or (finite and math.isinf(value))
    bad |= low is not None and (value <= low if low_open else value < low)
    bad |= high is not None and (value >= high if high_open else value > high)
    if bad:
        if low is not None and high is not None:
            where = f"in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
        elif low is not None:
            where = f"a {'finite ' if finite else ''}number {'>' if low_open else '>='} {low:g}"
        elif high is not None:
            where = f"a {'finite ' if finite else ''}number {'<' if high_open else '<='} {high:g}"
        else:
            where = f"a {'finite ' if finite else ''}number"
        raise ValueError(f"{name} must be {where}, got {value!r}")
    return value


def probability(value, name: str, *, allow_zero: bool = True, allow_one: bool = True) -> float:
    """``value`` as a float in [0, 1] (ends excluded on request)."""
    return number(value, name, low=0.0, high=1.0, low_open=not allow_zero, high_open=not allow_one)


def one_of(value, name: str, options) -> object:
    """``value`` if it is one of ``options``."""
    if isinstance(value, (list, dict, set, torch.Tensor)) or value not in options:
        raise ValueError(f"{name} must be one of {sorted(options, key=str)}, got {_describe(value)}")
    return value


_KINDS = {
    "float": (lambda d: d.is_floating_point, "floating point"),
    "int": (lambda d: not (d.is_floating_point or d.is_complex or d == torch.bool), "integer"),
    "bool": (lambda d: d == torch.bool, "boolean"),
    "real": (lambda d: not (d.is_complex or d == torch.bool), "real (integer or floating point)"),
}


def tensor(x, name: str, *, dims: int | tuple[int, ...] | None = None, kind: str | None = None,
           nonempty: bool = True, finite: bool = False, shape: tuple | None = None) -> torch.Tensor:
    """``x`` if it is a tensor of the expected rank, dtype kind, (partial) shape and content.

    ``dims``: an int or a tuple of allowed ranks. ``kind``: "float", "int", "bool" or "real".
    ``shape``: the expected sizes, ``None`` for any (e.g. ``(None, 3)``). ``nonempty``: at least
    one element (empty batches would give NaN means). ``finite``: no NaN or ±inf.
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {_describe(x)}")
    allowed = (dims,) if isinstance(dims, int) else dims
    if allowed is not None and x.dim() not in allowed:
        ranks = " or ".join(str(d) for d in allowed)
        raise ValueError(f"{name} must have {ranks} dimensions, got shape {tuple(x.shape)}")
    if shape is not None and (x.dim() != len(shape) or any(s is not None and s != n for s, n in zip(shape, x.shape))):
        want = "(" + ", ".join("*" if s is None else str(s) for s in shape) + ")"
        raise ValueError(f"{name} must have shape {want}, got {tuple(x.shape)}")
    if kind is not None:
        test, words = _KINDS[kind]
        if not test(x.dtype):
            raise ValueError(f"{name} must be a {words} tensor, got dtype {x.dtype}")
    if nonempty and x.numel() == 0:
        raise ValueError(f"{name} must be non-empty, got shape {tuple(x.shape)}")
    if finite and x.is_floating_point() and not torch.isfinite(x).all():
        what = "NaN" if torch.isnan(x).any() else "±inf"
        raise ValueError(f"{name} contains {what}; it must hold finite numbers")
    return x


def token_ids(idx, vocab_size: int, name: str = "idx", dims: int = 2) -> torch.Tensor:
    """``idx`` if it is an integer tensor of ``dims`` dimensions with every id in [0, vocab_size)."""
    if not isinstance(idx, torch.Tensor):
        raise ValueError(f"{name} must be a tensor of token ids, got {type(idx).__name__}")
    if idx.dtype.is_floating_point or idx.dtype.is_complex or idx.dtype == torch.bool:
        raise ValueError(f"{name} must hold integer token ids, got dtype {idx.dtype}")
    if idx.dim() != dims:
        shape = "(B, T)" if dims == 2 else f"{dims} dimensions"
        raise ValueError(f"{name} must have shape {shape}, got {tuple(idx.shape)}")
    if idx.numel() and (int(idx.min()) < 0 or int(idx.max()) >= vocab_size):
        raise ValueError(f"{name} has token ids outside the vocabulary [0, {vocab_size}): "
                         f"min {int(idx.min())}, max {int(idx.max())}")
    return idx


def class_ids(y, n_classes: int, name: str = "y", n: int | None = None) -> torch.Tensor:
    """``y`` if it is a (N,) integer tensor of class labels in [0, n_classes) (and N = ``n`` if given)."""
    y = tensor(y, name, dims=1, kind="int")
    if n is not None and y.shape[0] != n:
        raise ValueError(f"{name} must hold one label per sample ({n}), got {y.shape[0]}")
    if int(y.min()) < 0 or int(y.max()) >= n_classes:
        raise ValueError(f"{name} must hold class labels in [0, {n_classes}), "
                         f"got min {int(y.min())}, max {int(y.max())}")
    return y


def same_shape(a: torch.Tensor, b: torch.Tensor, names: str) -> None:
    """Raise unless the two tensors have the same shape (``names`` like "eps and x")."""
    if a.shape != b.shape:
        raise ValueError(f"{names} must have the same shape, got {tuple(a.shape)} and {tuple(b.shape)}")


def device_available(device) -> torch.device:
    """``device`` as a ``torch.device``, if this machine has it (a clear error instead of a CUDA init crash)."""
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as err:
        raise ValueError(f"device must be 'cpu', 'cuda', 'cuda:N' or 'mps', got {device!r}") from err
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} was requested but CUDA is not available here; use 'cpu'")
    if dev.type == "cuda" and dev.index is not None and dev.index >= torch.cuda.device_count():
        raise ValueError(f"device {device!r} does not exist: this machine has {torch.cuda.device_count()} GPU(s)")
    if dev.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError("device 'mps' (Apple GPU) was requested but it is not available here")
    return dev
