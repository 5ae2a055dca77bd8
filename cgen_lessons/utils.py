"""Small helpers used by every chapter: seeding, device choice, showing source code, timing."""

from __future__ import annotations

import csv
import inspect
import math
import os
import random
import re
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch

from . import checks

__all__ = ["read_csv_table", "seed_everything", "get_device", "show_source", "timer", "check_positive_int",
           "count_torch_ops", "check_token_ids", "max_error", "eval_mode", "use_threads", "save_model", "load_model"]


def read_csv_table(path, columns: list[str], what: str = "table") -> list[dict[str, str]]:
    """The rows of one of the course's CSV files (``data/``), checking that it exists and has exactly ``columns``."""
    if not Path(path).exists():
        raise ValueError(f"{what} file not found at {path}; run the course from its repository checkout")
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames != columns:
            raise ValueError(f"{path} must have the columns {columns}, found {reader.fieldnames}")
        return list(reader)


def check_positive_int(value, name: str) -> int:
    """Return ``value`` as an int, or raise ``ValueError`` if it is not a positive integer."""
    return checks.positive_int(value, name)


@contextmanager
def eval_mode(model):
    """Put ``model`` in evaluation mode (dropout off) for a ``with`` block and restore its previous
    mode afterwards, even if the block raises.

    >>> import torch
    >>> net = torch.nn.Dropout(0.5)
    >>> with eval_mode(net):
    ...     net.training
    False
    >>> net.training
    True
    """
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)


def use_threads(n: int) -> int:
    """Run torch on ``n`` CPU threads — the count a chapter's saved outputs were made with (results
    can change in their last bits with the thread count) — unless the environment variable
    ``CGEN_THREADS`` says otherwise. On a laptop where something else keeps a core busy, set
    ``CGEN_THREADS=1``: two threads competing with another process can make small models 5–10×
    slower (``python3 tools/course.py doctor`` warns when the machine is busy). Returns the count used."""
    override = os.environ.get("CGEN_THREADS")
    if override is not None:
        if not override.isdigit() or int(override) < 1:
            raise ValueError(f"CGEN_THREADS must be a positive integer, got {override!r}")
        n = int(override)
    n = checks.positive_int(n, "n")
    torch.set_num_threads(n)
    return n


def seed_everything(seed: int = 0, deterministic: bool = False) -> torch.Generator:
    """Seed Python's ``random``, NumPy and PyTorch (CPU and CUDA) with one integer.

    Returns a fresh ``torch.Generator`` seeded with ``seed`` for code that prefers an explicit
    generator over the global one. With ``deterministic=True`` PyTorch is also asked to use
    deterministic kernels (slower on GPU, no effect on most CPU code).
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)  # also seeds every CUDA device
    os.environ["PYTHONHASHSEED"] = str(seed)  # only affects sub-processes started later
    if deterministic:
        torch.use_deterministic_algorithms(True, warn_only=True)
    return torch.Generator().manual_seed(seed)


def get_device(prefer: str | None = None) -> torch.device:
    """Pick the device to compute on: ``prefer`` if given, else CUDA when present, else CPU.

    The environment variable ``CGEN_DEVICE`` (e.g. ``cpu``) overrides the automatic choice,
    which is how CI pins every notebook to the CPU.
    """
    if isinstance(prefer, torch.device):
        prefer = str(prefer)
    if prefer is not None and not isinstance(prefer, str):
        raise ValueError(f"device must be a string such as 'cpu' or a torch.device, got {prefer!r}")
    choice = prefer or os.environ.get("CGEN_DEVICE")
    if choice is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if choice not in {"cpu", "cuda", "mps"} and not choice.startswith("cuda:"):
        raise ValueError(f"device must be 'cpu', 'cuda', 'cuda:N' or 'mps', got {choice!r}")
    if choice.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device {choice!r} was requested but CUDA is not available here")
    if choice == "mps" and not torch.backends.mps.is_available():
        raise ValueError("device 'mps' (Apple GPU) was requested but it is not available here")
    return torch.device(choice)


def save_model(path, model: torch.nn.Module, config: dict) -> None:
    """Write ``{"config": the constructor's keyword arguments, "state_dict": ...}``: the course's shipped-weights
    format, loadable with ``weights_only=True`` (``load_model``)."""
    torch.save({"config": dict(config), "state_dict": model.state_dict()}, path)


def load_model(cls, path, missing: str) -> torch.nn.Module:
    """``cls(**config)`` with the weights of a ``save_model`` file (loaded with ``weights_only=True``), in eval
    mode; a missing file raises FileNotFoundError ending with ``missing`` (how to make the file)."""
    try:
        saved = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise FileNotFoundError(f"{path} is missing: {missing}") from None
    model = cls(**saved["config"])
    model.load_state_dict(saved["state_dict"])
    return model.eval()


def show_source(obj) -> object:
    """Display the source code of a function, class or module of the package.

    In a notebook it renders as a highlighted Markdown code block; elsewhere the returned
    object prints as plain text. Notebooks call this instead of copying package code.
    """
    try:
        source = inspect.getsource(obj)
    except (TypeError, OSError) as err:
        raise ValueError(f"cannot show the source of {obj!r}: {err}") from None
    module = inspect.getmodule(obj)
    where = module.__name__ if module is not None else "?"
    title = f"`{where}.{getattr(obj, '__qualname__', getattr(obj, '__name__', ''))}`".replace("..", ".")
    try:
        from IPython.display import Markdown
    except ImportError:  # pragma: no cover - IPython is installed with the course
        return _PlainSource(source)
    return Markdown(f"{title}\n\n```python\n{source}```")


def table(header: list[str], rows: list[list]) -> object:
    """A table of already formatted cells: in a notebook or the book it renders as a Markdown table
    (numeric columns right-aligned; long cells wrap to the page instead of running off it), and
    as plain text it prints with aligned columns."""
    if not isinstance(header, (list, tuple)) or not header:
        raise ValueError("header must be a non-empty list of column names")
    cells = [[str(c) for c in row] for row in rows]
    bad = [i for i, row in enumerate(cells) if len(row) != len(header)]
    if bad:
        raise ValueError(f"every row needs {len(header)} cells, one per column; row {bad[0]} has {len(cells[bad[0]])}")
    numeric = [bool(cells) and all(_NUMERIC.match(row[j]) for row in cells) for j in range(len(header))]
    widths = [max(len(str(h)), *(len(row[j]) for row in cells)) for j, h in enumerate(header)]

    def line(values):
        return "  ".join(v.rjust(w) if n else v.ljust(w) for v, w, n in zip(values, widths, numeric)).rstrip()

    text = "\n".join([line([str(h) for h in header])] + [line(row) for row in cells])
    markdown = "\n".join(["| " + " | ".join(str(h) for h in header) + " |",
                          "|" + "|".join("---:" if n else "---" for n in numeric) + "|"]
                         + ["| " + " | ".join(v.replace("|", "\\|") for v in row) + " |" for row in cells])
    try:
        from IPython.display import Markdown
    except ImportError:  # pragma: no cover - IPython is installed with the course
        return _PlainSource(text)

    class Table(Markdown):
        def __repr__(self) -> str:
            return text

    return Table(markdown)


_NUMERIC = re.compile(r"^(?:—|[−+\-]?\d[^A-Za-z]*)$")  # "10.1", "6.7 ± 1.5 / 8", "0–122", "—"; not "8gaussians"


class _PlainSource(str):
    def __repr__(self) -> str:  # pragma: no cover - trivial
        return str(self)


@contextmanager
def timer(label: str = "elapsed", verbose: bool = True):
    """Context manager that measures wall-clock time; ``t['seconds']`` holds the result.

    >>> with timer("training", verbose=False) as t:
    ...     pass
    >>> t["seconds"] >= 0
    True
    """
    record: dict[str, float] = {}
    start = time.perf_counter()
    try:
        yield record
    finally:
        record["seconds"] = time.perf_counter() - start
        if verbose:
            print(f"{label}: {record['seconds']:.1f} s")


class _OpCounter(torch.overrides.TorchFunctionMode):
    def __init__(self):
        super().__init__()
        self.count = 0

    def __torch_function__(self, func, types, args=(), kwargs=None):
        self.count += 1
        return func(*args, **(kwargs or {}))


def count_torch_ops(fn, *args, **kwargs) -> int:
    """How many torch functions and tensor methods ``fn(*args, **kwargs)`` calls — a hardware-
    independent measure of how many *sequential* steps a computation takes: a loop over time
    steps calls a fixed set of operations once per step, while a computation that handles all
    positions at once calls the same operations once whatever the length."""
    counter = _OpCounter()
    with counter:
        fn(*args, **kwargs)
    return counter.count


def check_token_ids(idx, vocab_size: int, name: str = "idx", dims: int = 2) -> torch.Tensor:
    """Return ``idx`` if it is an integer tensor of ``dims`` dimensions with every id in
    [0, vocab_size); otherwise raise a ``ValueError`` that says what is wrong (instead of
    torch's IndexError deep inside an embedding, or a silent float-to-index cast)."""
    return checks.token_ids(idx, vocab_size, name, dims)


def max_error(actual, expected, tol: float) -> str:
    """Check that max |actual − expected| ≤ tol and return the verdict as text, ``"max |Δ| ≤ 1e-12"``.

    Check cells print this instead of a bare ``True`` after ``assert_close``, so the committed
    output states the bound that was tested. Both arguments are converted to float64 tensors
    of the same shape; a larger error (or a NaN) raises ``AssertionError`` with the measured value.
    """
    if isinstance(tol, bool) or not (isinstance(tol, (int, float)) and tol > 0 and math.isfinite(tol)):
        raise ValueError(f"tol must be a positive finite number, got {tol!r}")
    def as_float64(x):  # Python floats go straight to float64 (as_tensor would round them to float32)
        if isinstance(x, torch.Tensor):
            return x.detach().to("cpu", torch.float64)
        return torch.as_tensor(x, dtype=torch.float64)

    a, b = as_float64(actual), as_float64(expected)
    if a.shape != b.shape:
        raise ValueError(f"actual and expected have different shapes: {tuple(a.shape)} vs {tuple(b.shape)}")
    err = (a - b).abs().max().item() if a.numel() else 0.0
    if not err <= tol:  # also catches NaN
        raise AssertionError(f"max |Δ| = {err:.3g} exceeds the tolerance {tol:g}")
    return f"max |Δ| ≤ {tol:.0e}"
