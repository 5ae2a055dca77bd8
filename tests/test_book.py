"""The HTML book: built from the committed notebooks, then read in headless Chromium.

For every page: every request answers (no 4xx/5xx, none failed), no console errors, every image
loaded with a non-zero size, every formula typeset by MathJax and no raw TeX left in the text,
internal links (and their #anchors) resolve; the search page finds each chapter by a word of its
title; one screenshot per page is saved under the build folder (build/book-test/screenshots).

Needs the [book] extra (``python3 tools/course.py test`` installs it) and Debian's Chromium
(``apt-get install chromium``; ``.ci/run`` installs it). Without them the tests skip and say so.
"""

from __future__ import annotations

import functools
import http.server
import importlib.util
import json
import os
import re
import shutil
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CGEN_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
MISSING = [m for m in ("sphinx", "myst_nb", "sphinx_book_theme", "mathjax", "playwright") if importlib.util.find_spec(m) is None]
pytestmark = [
    pytest.mark.skipif(bool(MISSING), reason=f"the book's packages are missing ({', '.join(MISSING)}): "
                       "run `python3 tools/course.py test` (it installs the [book] extra) or `pip install -e .[book]`"),
    pytest.mark.skipif(CHROMIUM is None, reason="no Chromium found: `apt-get install chromium` (Debian/Ubuntu), "
                       "or set CGEN_CHROMIUM to a Chromium/Chrome executable"),
]
CHAPTERS = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
PAGES = ["index.html", "glossary.html"] + [f"chapters/{stem}.html" for stem in CHAPTERS]
RAW_TEX = re.compile(r"\$\$|\\\(|\\\[|\$[^$\n]{0,80}\\[A-Za-z]+[^$\n]{0,80}\$")
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--no-first-run", "--disable-quic"]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def site():
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import book
    finally:
        sys.path.pop(0)
    out = ROOT / "build" / "book-test"
    index = book.build(out)
    html_dir = index.parent
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(html_dir)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    shots = out / "screenshots"
    shots.mkdir(exist_ok=True)
    yield {"url": f"http://127.0.0.1:{server.server_address[1]}/", "html": html_dir, "shots": shots}
    server.shutdown()


@pytest.fixture(scope="module")
def browser(site):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield b
        b.close()


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as err:
        return err.code


def _has_anchor(url: str, fragment: str, cache: dict) -> bool:
    if url not in cache:
        with urllib.request.urlopen(url, timeout=10) as r:
            cache[url] = r.read().decode("utf-8", "replace")
    return f'id="{fragment}"' in cache[url]


@pytest.mark.parametrize("page", PAGES)
def test_page_loads_cleanly_with_images_math_and_links(site, browser, page):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = ctx.new_page()
    problems: list[str] = []
    tab.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    tab.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    tab.on("requestfailed", lambda r: problems.append(f"request failed: {r.url} ({r.failure})"))
    tab.on("response", lambda r: problems.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)
    response = tab.goto(site["url"] + page, wait_until="networkidle")
    assert response is not None and response.status == 200, f"{page}: HTTP {response and response.status}"
    tab.wait_for_function("() => !window.MathJax || !MathJax.startup || MathJax.startup.promise", timeout=20_000)
    tab.evaluate("() => window.MathJax && MathJax.startup ? MathJax.startup.promise : null")

    images = tab.evaluate("() => [...document.images].map(i => [i.currentSrc || i.src, i.complete, i.naturalWidth])")
    broken = [src for src, complete, width in images if not complete or width == 0]
    assert not broken, f"{page}: images that did not load: {broken[:5]}"
    if page.startswith("chapters/"):
        committed = json.loads((ROOT / "notebooks" / (Path(page).stem + ".ipynb")).read_text(encoding="utf-8"))
        n_figures = sum("image/png" in o.get("data", {}) for c in committed["cells"] for o in c.get("outputs", []))
        assert len(images) >= n_figures, f"{page}: {len(images)} images on the page, {n_figures} figures in the notebook"

    math = tab.evaluate("() => [...document.querySelectorAll('.math')].map(e => !!e.querySelector('mjx-container'))")
    assert all(math), f"{page}: {math.count(False)} of {len(math)} formulas were not typeset"
    prose = tab.evaluate("""() => { const a = document.querySelector('article').cloneNode(true);
        a.querySelectorAll('pre, code, .cell_input, .cell_output, mjx-container, script').forEach(e => e.remove());
        return a.innerText; }""")
    raw = RAW_TEX.findall(prose)
    assert not raw, f"{page}: raw TeX left in the text: {raw[:5]}"

    links = tab.evaluate("() => [...document.querySelectorAll('a[href]')].map(a => a.href)")
    cache: dict[str, str] = {}
    for link in sorted(set(links)):
        if not link.startswith(site["url"]):
            continue  # external references (none are fetched: the book works offline)
        target, _, fragment = link.partition("#")
        assert _status(target) == 200, f"{page}: broken link {link}"
        if fragment and target.endswith(".html"):
            assert _has_anchor(target, urllib.parse.unquote(fragment), cache), f"{page}: missing anchor {link}"

    tab.screenshot(path=str(site["shots"] / (page.replace("/", "_").replace(".html", ".png"))))
    ctx.close()
    assert not problems, f"{page}: " + "; ".join(problems[:5])


@pytest.mark.parametrize("stem", CHAPTERS)
def test_search_finds_each_chapter(site, browser, stem):
    nb = json.loads((ROOT / "notebooks" / f"{stem}.ipynb").read_text(encoding="utf-8"))
    title = next(re.search(r"^#\s+(.+)$", "".join(c["source"]), re.M).group(1) for c in nb["cells"]
                 if c["cell_type"] == "markdown" and re.search(r"^#\s+", "".join(c["source"]), re.M))
    term = max(re.findall(r"[A-Za-z]{5,}", title), key=len)
    tab = browser.new_page()
    tab.goto(site["url"] + "search.html?q=" + urllib.parse.quote(term), wait_until="networkidle")
    tab.wait_for_selector("ul.search li a", timeout=20_000)
    hits = tab.evaluate("() => [...document.querySelectorAll('ul.search li a')].map(a => a.getAttribute('href'))")
    tab.close()
    assert any(f"{stem}.html" in h for h in hits), f"searching {term!r} did not find {stem}: {hits[:8]}"
