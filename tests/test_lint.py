"""The code passes ruff (configured in pyproject.toml), and the chapters' code lines fit in 120 columns.

The chapters' Markdown is kept as comment lines in their .py twins and reflows in the notebook, so
ruff's line-length rule is switched off for ``notebooks/*.py``; the code lines are measured here.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import jupytext
import pytest

ROOT = Path(__file__).resolve().parent.parent
LINTED = ["cgen_lessons", "tests", "tools", "benchmarks", "notebooks"]
LIMIT = 120


def _ruff() -> list[str]:
    exe = Path(sys.executable).parent / "ruff"
    if exe.exists():
        return [str(exe)]
    if shutil.which("ruff"):
        return ["ruff"]
    pytest.skip("ruff is not installed (it comes with the dev extra: pip install -e '.[dev]')")


def test_ruff_finds_nothing():
    result = subprocess.run([*_ruff(), "check", "--no-cache", *LINTED], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, f"ruff check {' '.join(LINTED)}:\n{result.stdout}{result.stderr}"


@pytest.mark.parametrize("source", sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py")), ids=lambda p: p.stem)
def test_chapter_code_lines_fit(source):
    long = []
    for i, cell in enumerate(jupytext.read(source).cells):
        if cell.cell_type == "code":
            long += [f"cell {i}: {line[:60]}… ({len(line)})" for line in cell.source.splitlines() if len(line) > LIMIT]
    assert not long, f"{source.name}: code lines over {LIMIT} characters:\n" + "\n".join(long)
