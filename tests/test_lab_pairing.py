"""Saving one file of a chapter pair in JupyterLab updates the other, as the README promises.

A Jupyter server from the course's environment serves a temporary copy of the layout `course.py lab` serves
(its root: the repository, with pyproject.toml and its [tool.jupytext]; a chapter pair under notebooks/;
a student copy under student/), and the test saves through the contents API, as the Lab does: the .ipynb
(the paired .py must change), then the .py opened as a notebook (the .ipynb must change and keep its
outputs). A student copy stays a single notebook. Skips, saying why, when the server cannot start.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import urllib.request
import uuid
from pathlib import Path

import pytest
from conftest import free_port, serve_jupyter

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import course  # noqa: E402

sys.path.pop(0)
STEM = "00_preface"  # the smallest chapter
TOKEN = uuid.uuid4().hex
CONFIG_FILES = ["pyproject.toml", "jupytext.toml", ".jupytext.toml", "jupytext.yml", ".jupytext", "jupytext.json"]


def _api(base: str, path: str, method: str = "GET", body: dict | None = None) -> dict:
    request = urllib.request.Request(base + path, method=method, headers={"Authorization": f"token {TOKEN}"},
                                     data=None if body is None else json.dumps(body).encode())
    with urllib.request.urlopen(request, timeout=30) as r:
        return json.loads(r.read() or b"{}")


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """(base URL, the served root): the lab's layout, with copies of one pair and one student copy."""
    root = tmp_path_factory.mktemp("lab-root")
    notebooks = root / course.NOTEBOOKS.relative_to(course.LAB_ROOT)
    notebooks.mkdir(parents=True, exist_ok=True)
    for folder in [course.LAB_ROOT, course.NOTEBOOKS]:  # every config file between the root and the chapters
        for name in CONFIG_FILES:
            if (folder / name).is_file():
                shutil.copy2(folder / name, root / folder.relative_to(course.LAB_ROOT) / name)
    for suffix in (".py", ".ipynb"):
        shutil.copy2(course.NOTEBOOKS / f"{STEM}{suffix}", notebooks / f"{STEM}{suffix}")
    course.student([STEM[:2]], root / course.STUDENT_DIR.relative_to(course.LAB_ROOT))

    py = course.venv_python() if course.venv_python().exists() else Path(sys.executable)
    cmd = [str(py), "-m", "jupyter_server", f"--ServerApp.root_dir={root}", "--ServerApp.ip=127.0.0.1",
           f"--ServerApp.port={free_port()}", "--ServerApp.port_retries=0", "--ServerApp.open_browser=False",
           f"--IdentityProvider.token={TOKEN}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    scratch = tmp_path_factory.mktemp("jupyter")
    with serve_jupyter(cmd, root, scratch, TOKEN, course.course_env()) as base:
        extensions = (scratch / "server.log").read_text()
        assert "jupytext" in extensions.lower(), f"the server runs without Jupytext: {extensions[-800:]}"
        yield base, root


def _url(folder: Path) -> str:
    """The contents-API path of a folder of the lab's root."""
    rel = folder.relative_to(course.LAB_ROOT).as_posix()
    return "" if rel == "." else rel + "/"


def _mark(nb: dict, marker: str) -> dict:
    """The notebook with ``marker`` appended to its first Markdown cell."""
    cell = next(c for c in nb["cells"] if c["cell_type"] == "markdown")
    source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
    cell["source"] = source + f"\n\n{marker}"
    return nb


def _outputs(path: Path) -> int:
    return sum(len(c.get("outputs", [])) for c in json.loads(path.read_text(encoding="utf-8"))["cells"])


def test_saving_the_ipynb_updates_the_py(served):
    base, root = served
    model = _api(base, f"api/contents/{_url(course.NOTEBOOKS)}{STEM}.ipynb?content=1")
    marker = f"saved-as-ipynb-{uuid.uuid4().hex[:8]}"
    _api(base, f"api/contents/{_url(course.NOTEBOOKS)}{STEM}.ipynb", "PUT",
         {"type": "notebook", "format": "json", "content": _mark(model["content"], marker)})
    assert marker in (root / _url(course.NOTEBOOKS) / f"{STEM}.ipynb").read_text(encoding="utf-8")
    assert marker in (root / _url(course.NOTEBOOKS) / f"{STEM}.py").read_text(encoding="utf-8"), \
        "the .py twin was not updated: Jupytext found no pairing configuration above notebooks/"


def test_saving_the_py_updates_the_ipynb_and_keeps_its_outputs(served):
    base, root = served
    ipynb = root / _url(course.NOTEBOOKS) / f"{STEM}.ipynb"
    outputs = _outputs(ipynb)
    assert outputs > 0
    model = _api(base, f"api/contents/{_url(course.NOTEBOOKS)}{STEM}.py?type=notebook&content=1")
    marker = f"saved-as-py-{uuid.uuid4().hex[:8]}"
    _api(base, f"api/contents/{_url(course.NOTEBOOKS)}{STEM}.py", "PUT",
         {"type": "notebook", "format": "json", "content": _mark(model["content"], marker)})
    assert marker in (root / _url(course.NOTEBOOKS) / f"{STEM}.py").read_text(encoding="utf-8")
    assert marker in ipynb.read_text(encoding="utf-8"), "the .ipynb twin was not updated"
    assert _outputs(ipynb) == outputs


def test_a_student_copy_stays_a_single_notebook(served):
    base, root = served
    model = _api(base, f"api/contents/{_url(course.STUDENT_DIR)}{STEM}.ipynb?content=1")
    marker = f"student-{uuid.uuid4().hex[:8]}"
    _api(base, f"api/contents/{_url(course.STUDENT_DIR)}{STEM}.ipynb", "PUT",
         {"type": "notebook", "format": "json", "content": _mark(model["content"], marker)})
    assert marker in (root / _url(course.STUDENT_DIR) / f"{STEM}.ipynb").read_text(encoding="utf-8")
    assert sorted(p.name for p in (root / _url(course.STUDENT_DIR)).iterdir() if not p.name.startswith(".")) == \
        [f"{STEM}.ipynb", "jupytext.toml"]
