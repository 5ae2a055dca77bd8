"""Saved benchmark results, ``benchmarks/results/<name>.json``: one way to read and write them.

The chapters read what the benchmarks (longer runs than a notebook can afford) measured:

    bench = results.load("g2p")                 # from any working directory inside the repository
    results.save("g2p", out, config=vars(args)) # in a benchmark script

``save`` records, next to the result, the configuration that produced it, the git commit, and the
torch and Python versions (under the key ``"_meta"``). ``load`` finds the repository root from this
file (or ``CGEN_ROOT``), checks that the file holds a JSON object, and if it is missing says which
benchmark regenerates it.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import re
import subprocess
from pathlib import Path

import torch

__all__ = ["ROOT", "RESULTS", "PRODUCERS", "path", "load", "save", "producer"]

ROOT = Path(os.environ.get("CGEN_ROOT", Path(__file__).resolve().parent.parent))
RESULTS = ROOT / "benchmarks" / "results"

# result name (a regular expression over file stems) -> the script that writes it
PRODUCERS = {
    r"augmentation": "augmentation.py",
    r"char_lms": "char_lms.py",
    r"dialogue": "dialogue.py",
    r"diffusion": "diffusion_runs.py",
    r"digit_models": "digit_models.py",
    r"eval_table": "eval_table.py",
    r"fd_seeds": "fd_seeds.py",
    r"g2p": "g2p.py",
    r"g2p_chapter": "g2p_chapter.py",
    r"dialogue_scorer": "dialogue_scorer.py",
    r"gan_modes_\w+": "gan_modes.py",
    r"gpt_throughput": "gpt_throughput.py",
    r"kv_cache": "kv_cache.py",
    r"lm_long_run": "lm_long_run.py",
    r"lm_lr_sweep": "lm_lr_sweep.py",
    r"mnist_classifier": "mnist_classifier.py",
    r"mnist_vae": "mnist_vae.py",
    r"mnist_diffusion": "mnist_diffusion.py",
    r"mnist_gan": "mnist_gan.py",
    r"scaling": "scaling.py",
    r"seq_vae": "seq_vae.py",
    r"seqgan_oracle": "seqgan_oracle.py",
    r"verse_form": "verse_form.py",
}


def _stem(name) -> str:
    stem = Path(name).name
    stem = stem[:-5] if stem.endswith(".json") else stem
    if not re.fullmatch(r"[\w-]+", stem):
        raise ValueError(f"a result name is a file stem such as 'g2p' or 'gan_modes_8gaussians', got {name!r}")
    return stem


def producer(name) -> str:
    """The benchmark script that writes result ``name`` (e.g. ``benchmarks/g2p.py``)."""
    stem = _stem(name)
    for pattern, script in PRODUCERS.items():
        if re.fullmatch(pattern, stem):
            return f"benchmarks/{script}"
    raise ValueError(f"no benchmark is known to write {stem}.json; add it to results.PRODUCERS")


def path(name) -> Path:
    """``benchmarks/results/<name>.json`` as an absolute path, or ``name`` itself if it is a path with folders."""
    if isinstance(name, Path) or "/" in str(name) or os.sep in str(name):
        return Path(name)
    return RESULTS / f"{_stem(name)}.json"


def load(name) -> dict:
    """The saved result ``name`` (a JSON object), with a helpful error if it is missing or malformed."""
    file = path(name)
    if not file.is_file():
        raise FileNotFoundError(f"{file} is missing; regenerate it with `python {producer(file)} --out {file}` "
                                "(see the script's docstring for the settings and its running time)")
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ValueError(f"{file} is not valid JSON ({err}); regenerate it with `python {producer(file)}`") from None
    if not isinstance(data, dict):
        raise ValueError(f"{file} must hold a JSON object, got {type(data).__name__}")
    return data


def _commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def _plain(obj):
    """JSON for the few non-JSON values results hold: paths as text, numpy/torch scalars as numbers."""
    if isinstance(obj, Path):
        return str(obj)
    if getattr(obj, "ndim", None) == 0 and hasattr(obj, "item"):  # numpy scalar or 0-d tensor
        return obj.item()
    raise TypeError(f"results.save cannot store {type(obj).__name__} {obj!r:.80}; convert it to a number, "
                    "string, list or dict")


def save(name, result: dict, config: dict | None = None) -> Path:
    """Write ``result`` (a JSON-serialisable dict) to ``path(name)``, with ``"_meta"``: the ``config``
    that produced it, the git commit, torch and Python versions and the date. Written atomically."""
    if not isinstance(result, dict):
        raise ValueError(f"result must be a dict, got {type(result).__name__}")
    meta = {"config": config, "commit": _commit(), "torch": torch.__version__,
            "python": platform.python_version(), "date": datetime.date.today().isoformat()}
    file = path(name)
    file.parent.mkdir(parents=True, exist_ok=True)
    tmp = file.with_suffix(".json.tmp")
    tmp.write_text(json.dumps({**result, "_meta": meta}, indent=1, default=_plain) + "\n", encoding="utf-8")
    tmp.replace(file)
    return file
