"""The course's JupyterLab, driven in headless Chromium as a reader drives it.

`course.py lab` is started (its own command line, from ``course.lab_command``) in a temporary copy of the layout it
serves: the repository's root with pyproject.toml (whose [tool.jupytext] pairs the chapters), one chapter pair under
notebooks/ and its student copy under student/. In the browser:
- the Lab opens at notebooks/, with no pop-up asking about Jupyter's news;
- the .ipynb opens unmodified; a cell added in the Lab and saved with Ctrl+S reaches the paired .py on disk;
- a double-click opens the .py twin as a notebook (not in the text editor), unmodified until edited; a cell added
  and saved reaches the .ipynb, which keeps its outputs;
- `lab --student` opens at student/, where the student copy opens (no "Path Not Found").
The contents-API version of the pairing checks is tests/test_lab_pairing.py. Needs Playwright and Debian's Chromium
(as tests/test_book.py); skips and says so without them.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import sys
import time
import uuid
from pathlib import Path

import pytest
from conftest import free_port, serve_jupyter

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import course  # noqa: E402

sys.path.pop(0)
CHROMIUM = os.environ.get("CGEN_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [
    pytest.mark.skipif(importlib.util.find_spec("playwright") is None,
                       reason="Playwright is missing: `pip install -e .[book]` (the test command installs it)"),
    pytest.mark.skipif(CHROMIUM is None, reason="no Chromium found: `apt-get install chromium` (Debian/Ubuntu), "
                       "or set CGEN_CHROMIUM to a Chromium/Chrome executable"),
]
STEM = "00_preface"  # the smallest chapter
TOKEN = uuid.uuid4().hex
LISTING = ".jp-DirListing-itemText"
DIRTY = ".lm-TabBar-tab.jp-mod-dirty"


@pytest.fixture(scope="module")
def layout(tmp_path_factory):
    """The served root: pyproject.toml, notebooks/<STEM>.{ipynb,py} and the student copy student/<STEM>.ipynb."""
    root = tmp_path_factory.mktemp("lab-root")
    notebooks = root / course.NOTEBOOKS.relative_to(course.LAB_ROOT)
    notebooks.mkdir(parents=True)
    shutil.copy2(course.LAB_ROOT / "pyproject.toml", root / "pyproject.toml")
    for suffix in (".py", ".ipynb"):
        shutil.copy2(course.NOTEBOOKS / f"{STEM}{suffix}", notebooks / f"{STEM}{suffix}")
    course.student([STEM[:2]], root / course.STUDENT_DIR.relative_to(course.LAB_ROOT))
    return root


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


def _lab(layout: Path, scratch: Path, student: bool = False):
    """`course.py lab` (``--student``) serving ``layout`` on a free port, as a context manager yielding its URL."""
    py = course.venv_python() if course.venv_python().exists() else Path(sys.executable)
    extra = ["--ServerApp.ip=127.0.0.1", f"--ServerApp.port={free_port()}", "--ServerApp.port_retries=0",
             "--ServerApp.open_browser=False", f"--IdentityProvider.token={TOKEN}"]
    return serve_jupyter(course.lab_command(py, extra, student=student), layout, scratch, TOKEN, course.course_env())


def _open_lab(browser, base: str):
    """A page at the server's start URL (what `lab` opens in the reader's browser), once the file list shows."""
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{base}?token={TOKEN}")
    page.wait_for_selector(f"{LISTING}", timeout=60_000)
    page.wait_for_timeout(1_000)  # the start page's own files replace the root's listing
    page.errors = errors
    return page


def _listing(page) -> list[str]:
    return page.eval_on_selector_all(LISTING, "items => items.map(e => e.textContent)")


def _add_cell_and_save(page, name: str, marker: str) -> None:
    """In the open notebook ``name``: a code cell holding the comment ``marker`` below the first cell; Ctrl+S."""
    panel = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
    panel.locator(".jp-Cell").first.click()
    page.keyboard.press("Escape")  # command mode
    page.keyboard.press("b")  # a new code cell below, in edit mode
    page.keyboard.press("Enter")
    page.keyboard.type(f"# {marker}")
    page.keyboard.press("Escape")
    page.keyboard.press("Control+s")


def _wait_for(path: Path, marker: str, seconds: float = 30) -> bool:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if marker in path.read_text(encoding="utf-8"):
            return True
        time.sleep(0.25)
    return False


def _open(page, name: str) -> None:
    """Double-click ``name`` in the file browser and wait for its notebook, then for the Lab to settle."""
    page.dblclick(f".jp-DirListing-item[title*='{name}']")
    page.wait_for_selector(f".lm-TabBar-tab:has-text('{name}')", timeout=30_000)
    page.wait_for_selector(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell", timeout=60_000)
    page.wait_for_timeout(2_000)


def _outputs(path: Path) -> int:
    return sum(len(c.get("outputs", [])) for c in json.loads(path.read_text(encoding="utf-8"))["cells"])


def test_saving_either_twin_in_the_lab_updates_the_other(layout, browser, tmp_path):
    ipynb, py = (layout / "notebooks" / f"{STEM}{s}" for s in (".ipynb", ".py"))
    outputs = _outputs(ipynb)
    with _lab(layout, tmp_path) as base:
        page = _open_lab(browser, base)
        assert page.url.split("?")[0].endswith("/lab/tree/notebooks"), page.url
        assert _listing(page) == [f"{STEM}.ipynb", f"{STEM}.py"]
        assert page.locator("text=Jupyter news").count() == 0, "the Lab asks about Jupyter's news"

        _open(page, f"{STEM}.ipynb")
        assert page.locator(DIRTY).count() == 0, "the .ipynb is marked modified before any edit"
        marker = f"saved-in-lab-ipynb-{uuid.uuid4().hex[:8]}"
        _add_cell_and_save(page, f"{STEM}.ipynb", marker)
        assert _wait_for(ipynb, marker), "saving in the Lab did not write the .ipynb"
        assert _wait_for(py, marker), "the .py twin was not updated when the .ipynb was saved in the Lab"
        page.locator(f".lm-TabBar-tab:has-text('{STEM}.ipynb') .lm-TabBar-tabCloseIcon").click()  # close it

        _open(page, f"{STEM}.py")
        kind = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)").count()
        assert kind == 1, "the .py twin did not open as a notebook"
        assert page.locator(DIRTY).count() == 0, "opening the .py twin marks it modified before any edit"
        marker = f"saved-in-lab-py-{uuid.uuid4().hex[:8]}"
        _add_cell_and_save(page, f"{STEM}.py", marker)
        assert _wait_for(py, marker), "saving in the Lab did not write the .py"
        assert _wait_for(ipynb, marker), "the .ipynb twin was not updated when the .py was saved in the Lab"
        assert _outputs(ipynb) == outputs, "saving the .py dropped the .ipynb's outputs"
        assert page.errors == [], page.errors
        page.close()


def test_lab_student_opens_at_the_student_copies(layout, browser, tmp_path):
    with _lab(layout, tmp_path, student=True) as base:
        page = _open_lab(browser, base)
        assert page.url.split("?")[0].endswith("/lab/tree/student"), page.url
        assert f"{STEM}.ipynb" in _listing(page)
        _open(page, f"{STEM}.ipynb")
        assert page.locator(".jp-Dialog").count() == 0, page.locator(".jp-Dialog").all_inner_texts()
        assert page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell").count() > 5
        assert page.errors == [], page.errors
        page.close()
