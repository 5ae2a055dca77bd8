"""Build the course's static HTML book from the committed, executed notebooks (no re-execution).

    python3 tools/course.py book          # sets up .venv with the [book] extra, then runs this
    .venv/bin/python tools/book.py [OUT]  # the build itself (default OUT: build/book)

Sphinx + MyST-NB + the Sphinx Book Theme, all from PyPI; MathJax 3 comes from the
``django-static-mathjax`` wheel (MathJax's files only) and is copied into the site, so the book needs
no network to build or to read. The Sphinx source is generated under OUT/src (one page per chapter, a front page, the
glossary); the site is OUT/html, with OUT/html/index.html its front page.
"""

from __future__ import annotations

import csv
import html
import json
import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
LONG_OUTPUT_LINES = 40  # text outputs longer than this are collapsed (a "show output" toggle)
WIDGET = "application/vnd.jupyter.widget-view+json"
# a link from one notebook to another's anchor, as the errata tables write it: [label](06_gan.ipynb#errata-x)
NOTEBOOK_LINK = re.compile(r"\[([^\]]+)\]\((\d\d_[a-z0-9_]+)\.ipynb(#[A-Za-z0-9_-]+)?\)")

# The Sphinx configuration (copied as src/conf.py), the book's style sheet and its favicon
ASSETS = Path(__file__).resolve().parent / "book_assets"


def _chapters() -> list[Path]:
    return sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


def _title(nb: dict, fallback: str) -> str:
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            m = re.search(r"^#\s+(.+)$", "".join(cell["source"]), re.M)
            if m:
                return m.group(1).strip()
    return fallback


def _text_lines(output: dict) -> int:
    if output.get("output_type") == "stream":
        text = output.get("text", "")
    else:
        text = output.get("data", {}).get("text/plain", "")
    return len(("".join(text) if isinstance(text, list) else text).splitlines())


def _prepare_notebook(src: Path, dest_dir: Path) -> str:
    """Copy one chapter for the book: a 'run this chapter' note on top, long outputs collapsible,
    widget outputs replaced by a note (widgets need a live kernel), CI's ``# NBVAL_CHECK_OUTPUT``
    markers removed. Returns the chapter's title."""
    nb = json.loads(src.read_text(encoding="utf-8"))
    title = _title(nb, src.stem)
    py = src.with_suffix(".py")
    nb["nbformat_minor"] = max(nb.get("nbformat_minor", 0), 5)
    nb.get("metadata", {}).pop("widgets", None)  # widget state would make the page load widget JS from a CDN
    for i, cell in enumerate(nb["cells"]):
        cell.setdefault("id", f"cell-{i}")
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])  # CI's marker for a checked output: noise to a reader
        cell["source"] = source.replace("# NBVAL_CHECK_OUTPUT\n", "").replace("# NBVAL_CHECK_OUTPUT", "")
        outputs = []
        for out in cell.get("outputs", []):
            if WIDGET in out.get("data", {}):
                out = {"output_type": "stream", "name": "stdout",
                       "text": "[an interactive widget: run this chapter in JupyterLab to use it]\n"}
            elif "text/markdown" in out.get("data", {}):  # notebook links → the book's pages (raw HTML: MyST
                markdown = "".join(out["data"]["text/markdown"])  # would try to resolve them as documents)
                out["data"]["text/markdown"] = NOTEBOOK_LINK.sub(
                    lambda m: f'<a href="{m[2]}.html{m[3] or ""}">{m[1]}</a>', markdown)
            outputs.append(out)
        cell["outputs"] = outputs
        if sum(_text_lines(o) for o in outputs) > LONG_OUTPUT_LINES:
            tags = cell.setdefault("metadata", {}).setdefault("tags", [])
            if "hide-output" not in tags:
                tags.append("hide-output")
    shutil.copy(src, dest_dir / "sources" / src.name)
    shutil.copy(py, dest_dir / "sources" / py.name)
    hint = (f"```{{admonition}} Run this chapter\n:class: tip run-hint\n"
            f"This page shows the outputs that CI verified. To run it yourself: `python3 tools/course.py lab`, "
            f"then open `notebooks/{src.name}` (set-up in the [README](../index.md)). "
            f"Sources: {{download}}`{src.name} <sources/{src.name}>` (with outputs) · "
            f"{{download}}`{py.name} <sources/{py.name}>` (the same cells as plain text).\n```\n")
    first_md = next((i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "markdown"), None)
    note = {"cell_type": "markdown", "id": "run-this-chapter", "metadata": {}, "source": hint}
    # after the title cell, so the page title stays the chapter's own heading
    nb["cells"].insert(1 if first_md == 0 else 0, note)
    (dest_dir / src.name).write_text(json.dumps(nb, ensure_ascii=False, indent=1), encoding="utf-8")
    return title


def _readme_section(heading: str) -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    m = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    if not m:
        raise ValueError(f"README.md has no section '## {heading}'")
    return m.group(1).strip()


def _front_page(titles: dict[str, str]) -> str:
    chapters = _readme_section("Chapters")
    chapters = re.sub(r"\]\(notebooks/([0-9][0-9]_[a-z0-9_]+)\.ipynb\)", r"](chapters/\1.ipynb)", chapters)
    toc = "\n".join(f"chapters/{stem}" for stem in titles)
    intro = (ROOT / "README.md").read_text(encoding="utf-8").split("\n## ", 1)[0].split("\n", 1)[1].strip()
    return f"""# Content Generation: principles and code

{intro}

**Who it is for.** Self-learners working through the chapters in JupyterLab on a laptop CPU;
workshop teachers; and readers of this book, whose every printed result was produced by the code
on the page and checked by CI.

## Two commands

{_readme_section("Two commands")}

## The chapters

{chapters}

The [bilingual glossary](glossary.md) collects the course's terms in English and Chinese; the
[instructor guide](guide.md) is for teachers who run the course as a workshop.

```{{toctree}}
:hidden:
:maxdepth: 1
:caption: Chapters

{toc}
glossary
guide
```
"""


def _glossary_page() -> str:
    with open(ROOT / "data" / "glossary.csv", encoding="utf-8") as f:
        rows = sorted(csv.DictReader(f), key=lambda r: (r["chapter"], r["term_en"].lower()))
    # one cell per line: the search indexer strips the tags of raw HTML, and cells written side by side
    # would run together into one word ("perplexity困惑度01exp")
    body = "\n".join(
        f"<tr>\n<td>{html.escape(r['term_en'])}</td>\n<td lang=\"zh\">{html.escape(r['term_zh'])}</td>\n"
        f"<td>{r['chapter']}</td>\n<td>{html.escape(r['definition'])}</td>\n</tr>" for r in rows)
    return ("# Glossary · 术语表\n\nEvery term of the course, in English and Chinese, with the chapter that "
            f"introduces it ({len(rows)} terms, from `data/glossary.csv`).\n\n"
            "```{raw} html\n<table class=\"table glossary\"><thead><tr><th>term</th><th>术语</th><th>ch.</th>"
            f"<th>definition</th></tr></thead><tbody>\n{body}\n</tbody></table>\n```\n")


def _search_terms() -> str:
    """jieba's user dictionary for the search index: every Chinese term of the glossary is one word
    (so that 交叉熵 or 扩散模型 is indexed whole, not cut into 交叉 + 熵)."""
    with open(ROOT / "data" / "glossary.csv", encoding="utf-8") as f:
        terms = sorted({r["term_zh"].strip() for r in csv.DictReader(f)} - {""})
    return "".join(f"{t} 1000 n\n" for t in terms if " " not in t)


def build(out: Path) -> Path:
    """Generate the Sphinx source under out/src and build the site into out/html; returns its index page."""
    import mathjax  # the django-static-mathjax wheel: MathJax 3's files under mathjax/static/mathjax
    from sphinx.cmd.build import build_main

    src, html_dir = out / "src", out / "html"
    shutil.rmtree(src, ignore_errors=True)
    shutil.rmtree(html_dir, ignore_errors=True)
    (src / "chapters" / "sources").mkdir(parents=True)
    (src / "_static").mkdir()
    shutil.copyfile(ASSETS / "conf.py.in", src / "conf.py")
    shutil.copyfile(ASSETS / "book.css", src / "_static" / "book.css")
    shutil.copyfile(ASSETS / "favicon.svg", src / "_static" / "favicon.svg")
    mathjax_dir = Path(mathjax.__file__).parent / "static" / "mathjax"
    # tex-svg.js and the components it may load on demand (TeX extensions, menu, accessibility); not the
    # other combined builds or the CommonHTML fonts
    keep_top = {"tex-svg.js", "input", "ui", "a11y", "sre", "adaptors", "output", "node-main.js"}
    shutil.copytree(mathjax_dir / "es5", src / "_static" / "mathjax" / "es5",
                    ignore=lambda d, names: [n for n in names if (Path(d).name == "es5" and n not in keep_top)
                                             or (Path(d).name == "output" and n == "chtml")])
    titles = {p.stem: _prepare_notebook(p, src / "chapters") for p in _chapters()}
    (src / "index.md").write_text(_front_page(titles), encoding="utf-8")
    (src / "glossary.md").write_text(_glossary_page(), encoding="utf-8")
    (src / "search_terms.txt").write_text(_search_terms(), encoding="utf-8")
    guide = (NOTEBOOKS / "instructor_guide.md").read_text(encoding="utf-8")  # links to the chapters
    (src / "guide.md").write_text(re.sub(r"\]\(([0-9][0-9]_[a-z0-9_]+)\.ipynb\)", r"](chapters/\1.ipynb)", guide),
                                  encoding="utf-8")
    code = build_main(["-b", "html", "-q", "-j", "auto", str(src), str(html_dir)])
    if code != 0:
        raise SystemExit(f"sphinx-build failed with exit status {code}")
    return html_dir / "index.html"


# --------------------------------------------------------------------------- checking the site in a browser
RAW_TEX = re.compile(r"\$\$|\\\(|\\\[|\$[^$\n]{0,80}\\[A-Za-z]+[^$\n]{0,80}\$")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]


def serve(html_dir: Path):
    """Serve ``html_dir`` on a free localhost port in a background thread; returns (server, base URL)."""
    import functools
    import http.server
    import threading

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(html_dir)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def _fetch(url: str) -> tuple[int, str]:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as err:
        return err.code, ""


def check_page(browser, base_url: str, page: str, screenshot: Path | None = None, min_images: int = 0) -> list[str]:
    """Open ``page`` in a fresh Playwright browser context and return every problem found (empty: all good).

    Checked: the page and every request it makes answer below 400 and none fails; no console error
    or uncaught exception; every <img> loaded with a non-zero natural size (and at least
    ``min_images`` of them); every formula (class "math") typeset by MathJax and no raw TeX ($$, \\(,
    or $…\\command…$) left in the prose; no output block wider than the text column (it would be cut
    off, or scroll sideways without a visible scrollbar); every same-site link answers 200 and its
    #anchor exists.
    """
    import urllib.parse

    problems: list[str] = []
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = ctx.new_page()
    tab.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    tab.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    tab.on("requestfailed", lambda r: problems.append(f"request failed: {r.url} ({r.failure})"))
    tab.on("response", lambda r: problems.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)
    try:
        response = tab.goto(base_url + page, wait_until="networkidle")
        if response is None or response.status != 200:
            return problems + [f"the page answered HTTP {response and response.status}"]
        tab.evaluate("() => window.MathJax && MathJax.startup ? MathJax.startup.promise : null")
        images = tab.evaluate(
            "() => [...document.images].map(i => [i.getAttribute('src'), i.complete, i.naturalWidth])")
        problems += [f"image not loaded: {src}" for src, complete, width in images if not complete or width == 0]
        if len(images) < min_images:
            problems.append(f"{len(images)} images on the page, expected at least {min_images}")
        math = tab.evaluate(
            "() => [...document.querySelectorAll('.math')].map(e => !!e.querySelector('mjx-container'))")
        if not all(math):
            problems.append(f"{math.count(False)} of {len(math)} formulas not typeset")
        prose = tab.evaluate("""() => { const a = (document.querySelector('article') || document.body).cloneNode(true);
            a.querySelectorAll('pre, code, .cell_input, .cell_output, mjx-container, script').forEach(e => e.remove());
            return a.innerText; }""")
        problems += [f"raw TeX in the text: {raw!r}" for raw in RAW_TEX.findall(prose)[:5]]
        wide = tab.evaluate("""() => [...document.querySelectorAll('div.cell_output pre, div.cell_output table')]
            .filter(e => e.scrollWidth > e.clientWidth + 1)
            .map(e => [e.scrollWidth, e.clientWidth, e.innerText.split('\\n')[0].slice(0, 60)])""")
        problems += [f"output wider than the column ({w} > {c} px), cut off: {first!r}" for w, c, first in wide]
        pages: dict[str, tuple[int, str]] = {}
        for link in sorted(set(tab.evaluate("() => [...document.querySelectorAll('a[href]')].map(a => a.href)"))):
            if not link.startswith(base_url):
                continue  # external references are not fetched: the book works offline
            target, _, fragment = link.partition("#")
            if target not in pages:
                pages[target] = _fetch(target)
            status, text = pages[target]
            if status != 200:
                problems.append(f"broken link ({status}): {link}")
            elif fragment and target.endswith(".html") and f'id="{urllib.parse.unquote(fragment)}"' not in text:
                problems.append(f"missing anchor: {link}")
        if screenshot is not None:
            tab.screenshot(path=str(screenshot))
    finally:
        ctx.close()
    return problems


def search_hits(browser, base_url: str, term: str) -> list[str]:
    """Open the front page's search box (its "Search" button), type ``term``, press Enter, and return
    the links on the results page once the search has finished listing them."""
    tab = browser.new_page()
    try:
        tab.goto(base_url + "index.html", wait_until="networkidle")
        tab.locator("button.search-button__button:visible").first.click()
        box = tab.locator("#pst-search-dialog input[name='q']")
        box.fill(term)
        box.press("Enter")
        tab.wait_for_selector("ul.search li a", timeout=20_000)
        # results appear one by one; the heading changes from "Searching" to "Search Results" at the end
        tab.wait_for_function("() => (document.querySelector('#search-results h2') || {}).innerText === "
                              "'Search Results'", timeout=20_000)
        return tab.evaluate("() => [...document.querySelectorAll('ul.search li a')].map(a => a.getAttribute('href'))")
    finally:
        tab.close()


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "build" / "book"
    index = build(target.resolve())
    print(f"the book is at {index}")
