"""Build the course's static HTML book from the committed, executed notebooks (no re-execution).

    python3 tools/course.py book          # sets up .venv with the [book] extra, then runs this
    .venv/bin/python tools/book.py [OUT]  # the build itself (default OUT: build/book)

Sphinx + MyST-NB + the Sphinx Book Theme, all from PyPI; MathJax 3 comes from the
``django-static-mathjax`` wheel (MathJax's files only) and is copied into the site, so the book needs
no network to build or to read. The Sphinx source is generated under OUT/src (one page per chapter, a front page, the
glossary); the site is OUT/html, with OUT/html/index.html its front page.

The Chinese edition is the same site under OUT/html/zh (source OUT/src-zh): its chapters are the English notebooks with
their Markdown replaced by the translations (tools/i18n.py), so code and outputs are the ones CI verified. Every page
has a language switch (中文版 / English) that leads to the same page in the other language, at the same section.
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
sys.path.insert(0, str(Path(__file__).resolve().parent))
import i18n  # noqa: E402 - tools/i18n.py: the translations

sys.path.pop(0)
NOTEBOOKS = ROOT / "notebooks"
LONG_OUTPUT_LINES = 40  # text outputs longer than this are collapsed (a "show output" toggle)
WIDGET = "application/vnd.jupyter.widget-view+json"
# a link from one notebook to another's anchor, as the errata tables write it: [label](06_gan.ipynb#errata-x)
NOTEBOOK_LINK = re.compile(r"\[([^\]]+)\]\((\d\d_[a-z0-9_]+)\.ipynb(#[A-Za-z0-9_-]+)?\)")

# The Sphinx configuration (copied as src/conf.py), the book's style sheet and its favicon
ASSETS = Path(__file__).resolve().parent / "book_assets"


def _chapters() -> list[Path]:
    return sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


# What the book itself says, per language (the chapters, README parts and guide come from notebooks/ and i18n)
TEXT = {
    "en": {
        "title": "Content Generation: principles and code",
        "run_title": "Run this chapter",
        "run": "This page shows the outputs that CI verified. To run it yourself: `python3 tools/course.py lab`, "
               "then open `notebooks/{name}` (set-up in the [README](../index.md)). ",
        "sources": "Sources: {ipynb} (with outputs) · {py} (the same cells as plain text).",
        "who": "**Who it is for.** Self-learners working through the chapters in JupyterLab on a laptop CPU; "
               "workshop teachers; and readers of this book, whose every printed result was produced by the code "
               "on the page and checked by CI.",
        "two": "Two commands", "chapters": "The chapters", "caption": "Chapters",
        "more": "The [bilingual glossary](glossary.md) collects the course's terms in English and Chinese; the "
                "[instructor guide](guide.md) is for teachers who run the course as a workshop.",
        "glossary": "Every term of the course, in English and Chinese, with the chapter that introduces it "
                    "({n} terms, from `data/glossary.csv`).",
        "switch": "中文版", "switch_lang": "zh",
    },
    "zh": {
        "title": "内容生成：原理与代码",
        "run_title": "运行本章",
        "run": "本页显示的是 CI 验证过的输出。想自己运行：`python3 tools/course.py lab --lang zh`，然后打开 "
               "`notebooks/zh/{name}`（环境的安装见[首页](../index.md)）。",
        "sources": "源文件：{ipynb}（含输出）· {py}（代码单元相同的纯文本，说明文字为英文）。",
        "who": "**适合谁读。** 在笔记本电脑的 CPU 上用 JupyterLab 逐章学习的自学者；开办工作坊的教师；以及本书的读者——"
               "书中印出的每一个结果，都由页面上的代码产生，并经过 CI 检验。",
        "two": "两条命令", "chapters": "各章", "caption": "各章",
        "more": "[双语术语表](glossary.md)收录了本课程的全部术语（英文与中文）；"
                "[教师指南](guide.md)写给以工作坊形式开课的教师。",
        "glossary": "本课程的全部术语，中英对照，并注明首次出现的章节（共 {n} 条，取自 `data/glossary.csv`）。",
        "switch": "English", "switch_lang": "en",
    },
}


def _switch(lang: str, page: str, depth: int) -> str:
    """The language switch: a link to ``page`` (e.g. "chapters/05_vae.html") in the other language's site, from a
    page ``depth`` folders below its site's root (the Chinese site is the folder zh/ of the English one)."""
    up = "../" * depth
    href = f"{up}zh/{page}" if lang == "en" else f"{up}../{page}"
    other = TEXT[lang]["switch_lang"]
    return f'<a class="lang-switch" href="{href}" lang="{other}" hreflang="{other}">{TEXT[lang]["switch"]}</a>'


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


def _prepare_notebook(src: Path, dest_dir: Path, lang: str = "en", switch: bool = False) -> str:
    """Copy one chapter for the book: a 'run this chapter' note on top (with the language switch when
    ``switch``), long outputs collapsible, widget outputs replaced by a note (widgets need a live kernel),
    CI's ``# NBVAL_CHECK_OUTPUT`` markers removed. Returns the chapter's title."""
    nb = json.loads(src.read_text(encoding="utf-8"))
    title = _title(nb, src.stem)
    py = NOTEBOOKS / f"{src.stem}.py"  # the code of every language's chapter is the English chapter's
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
    text = TEXT[lang]
    sources = text["sources"].format(ipynb=f"{{download}}`{src.name} <sources/{src.name}>`",
                                     py=f"{{download}}`{py.name} <sources/{py.name}>`")
    switch_link = f" {_switch(lang, f'chapters/{src.stem}.html', 1)}" if switch else ""
    hint = (f"```{{admonition}} {text['run_title']}\n:class: tip run-hint\n"
            f"{text['run'].format(name=src.name)}{sources}{switch_link}\n```\n")
    first_md = next((i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "markdown"), None)
    note = {"cell_type": "markdown", "id": "run-this-chapter", "metadata": {}, "source": hint}
    # after the title cell, so the page title stays the chapter's own heading
    nb["cells"].insert(1 if first_md == 0 else 0, note)
    (dest_dir / src.name).write_text(json.dumps(nb, ensure_ascii=False, indent=1), encoding="utf-8")
    return title


def _readme_section(heading: str) -> str:
    """A part of the README the front page shows: "Introduction" (before the first section), "Two commands" or
    "Chapters" (the same parts tools/i18n.py translates)."""
    parts = dict(zip(("Introduction", "Two commands", "Chapters"),
                     i18n.readme_parts((ROOT / "README.md").read_text(encoding="utf-8"))))
    return parts[heading]


def _front_page(titles: dict[str, str], lang: str = "en", switch: bool = False) -> str:
    if lang == "en":
        intro, two, chapters = (_readme_section("Introduction"), _readme_section("Two commands"),
                                _readme_section("Chapters"))
    else:
        intro, two, chapters = i18n.translated_text("README", lang)
    chapters = re.sub(r"\]\(notebooks/([0-9][0-9]_[a-z0-9_]+)\.ipynb\)", r"](chapters/\1.ipynb)", chapters)
    toc = "\n".join(f"chapters/{stem}" for stem in titles)
    text = TEXT[lang]
    switch_line = f"\n{_switch(lang, 'index.html', 0)}\n" if switch else ""
    return f"""# {text["title"]}
{switch_line}
{intro}

{text["who"]}

## {text["two"]}

{two}

## {text["chapters"]}

{chapters}

{text["more"]}

```{{toctree}}
:hidden:
:maxdepth: 1
:caption: {text["caption"]}

{toc}
glossary
guide
```
"""


def _inline_math(text: str) -> str:
    """$…$ spans written as Sphinx writes inline math, which MathJax then typesets: MyST turns $…$ into math only in
    Markdown, and the glossary's table is raw HTML."""
    span = '<span class="math notranslate nohighlight">\\({}\\)</span>'
    return re.sub(r"\$([^$]+)\$", lambda m: span.format(m.group(1)), text)


def _glossary_page(lang: str = "en", switch: bool = False) -> str:
    with open(ROOT / "data" / "glossary.csv", encoding="utf-8") as f:
        rows = sorted(csv.DictReader(f), key=lambda r: (r["chapter"], r["term_en"].lower()))
    # one cell per line: the search indexer strips the tags of raw HTML, and cells written side by side
    # would run together into one word ("perplexity困惑度01exp")
    body = "\n".join(
        f"<tr>\n<td>{html.escape(r['term_en'])}</td>\n<td lang=\"zh\">{html.escape(r['term_zh'])}</td>\n"
        f"<td>{r['chapter']}</td>\n<td>{_inline_math(html.escape(r['definition']))}</td>\n</tr>" for r in rows)
    heading = "Glossary · 术语表" if lang == "en" else "术语表 · Glossary"
    switch_line = f"{_switch(lang, 'glossary.html', 0)}\n\n" if switch else ""
    return (f"# {heading}\n\n{switch_line}{TEXT[lang]['glossary'].format(n=len(rows))}\n\n"
            "```{raw} html\n<table class=\"table glossary\"><thead><tr><th>term</th><th>术语</th><th>ch.</th>"
            f"<th>definition</th></tr></thead><tbody>\n{body}\n</tbody></table>\n```\n")


def _search_terms() -> str:
    """jieba's user dictionary for the search index: every Chinese term of the glossary is one word
    (so that 交叉熵 or 扩散模型 is indexed whole, not cut into 交叉 + 熵)."""
    with open(ROOT / "data" / "glossary.csv", encoding="utf-8") as f:
        terms = sorted({r["term_zh"].strip() for r in csv.DictReader(f)} - {""})
    return "".join(f"{t} 1000 n\n" for t in terms if " " not in t)


def build(out: Path, languages: tuple[str, ...] | None = None) -> Path:
    """Build the site into out/html (English) and out/html/<lang> (each translation: by default every language
    whose translation is complete, see ``tools/i18n.py check``); returns the English index page."""
    if languages is None:
        languages = ("en", *(lang for lang in i18n.LANGUAGES if not _incomplete(lang)))
    switch = len(languages) > 1
    index = _build_one(out, "en", _chapters(), switch)
    for lang in languages[1:]:
        problems = _incomplete(lang)
        if problems:
            raise ValueError(f"the {lang} translation is not complete:\n  " + "\n  ".join(problems[:10]))
        chapters = i18n.build(out / f"notebooks-{lang}", lang)
        _build_one(out, lang, chapters, switch)
    return index


def _incomplete(lang: str) -> list[str]:
    return [p for name in i18n.names() for p in i18n.check(name, lang)]


def _build_one(out: Path, lang: str, chapters: list[Path], switch: bool) -> Path:
    """Generate one language's Sphinx source (out/src, out/src-<lang>) and build it into out/html
    (out/html/<lang>); returns its index page."""
    import mathjax  # the django-static-mathjax wheel: MathJax 3's files under mathjax/static/mathjax
    from sphinx.cmd.build import build_main

    src = out / ("src" if lang == "en" else f"src-{lang}")
    html_dir = out / "html" if lang == "en" else out / "html" / lang
    shutil.rmtree(src, ignore_errors=True)
    shutil.rmtree(html_dir, ignore_errors=True)
    (src / "chapters" / "sources").mkdir(parents=True)
    (src / "_static").mkdir()
    conf = (ASSETS / "conf.py.in").read_text(encoding="utf-8")
    if lang != "en":
        conf += f'\nlanguage = "zh_CN"\nproject = html_title = "{TEXT[lang]["title"]}"\n'
    (src / "conf.py").write_text(conf, encoding="utf-8")
    shutil.copyfile(ASSETS / "book.css", src / "_static" / "book.css")
    shutil.copyfile(ASSETS / "lang-switch.js", src / "_static" / "lang-switch.js")
    shutil.copyfile(ASSETS / "favicon.svg", src / "_static" / "favicon.svg")
    mathjax_dir = Path(mathjax.__file__).parent / "static" / "mathjax"
    # tex-svg.js and the components it may load on demand (TeX extensions, menu, accessibility); not the
    # other combined builds or the CommonHTML fonts
    keep_top = {"tex-svg.js", "input", "ui", "a11y", "sre", "adaptors", "output", "node-main.js"}
    shutil.copytree(mathjax_dir / "es5", src / "_static" / "mathjax" / "es5",
                    ignore=lambda d, names: [n for n in names if (Path(d).name == "es5" and n not in keep_top)
                                             or (Path(d).name == "output" and n == "chtml")])
    titles = {p.stem: _prepare_notebook(p, src / "chapters", lang, switch) for p in chapters}
    (src / "index.md").write_text(_front_page(titles, lang, switch), encoding="utf-8")
    (src / "glossary.md").write_text(_glossary_page(lang, switch), encoding="utf-8")
    (src / "search_terms.txt").write_text(_search_terms(), encoding="utf-8")
    if lang == "en":
        guide = (NOTEBOOKS / "instructor_guide.md").read_text(encoding="utf-8")  # links to the chapters
    else:
        guide = "\n\n".join(i18n.translated_text("instructor_guide", lang)) + "\n"
    if switch:  # after the guide's title
        title, rest = guide.split("\n", 1)
        guide = f"{title}\n\n{_switch(lang, 'guide.html', 0)}\n{rest}"
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


def search_hits(browser, base_url: str, term: str, start: str = "index.html") -> list[str]:
    """Open the search box of the page ``start`` (its "Search" button), type ``term``, press Enter, and return
    the links on the results page once the search has finished listing them."""
    tab = browser.new_page()
    try:
        tab.goto(base_url + start, wait_until="networkidle")
        tab.locator("button.search-button__button:visible").first.click()
        box = tab.locator("#pst-search-dialog input[name='q']")
        box.fill(term)
        box.press("Enter")
        tab.wait_for_selector("ul.search li a", timeout=20_000)
        # results appear one by one; the heading changes from "Searching" to "Search Results" at the end
        tab.wait_for_function("() => ['Search Results', '搜索结果'].includes("
                              "(document.querySelector('#search-results h2') || {}).innerText)", timeout=20_000)
        return tab.evaluate("() => [...document.querySelectorAll('ul.search li a')].map(a => a.getAttribute('href'))")
    finally:
        tab.close()


if __name__ == "__main__":
    import argparse

    cli = argparse.ArgumentParser(description="Build the HTML book (English at OUT/html, Chinese at OUT/html/zh).")
    cli.add_argument("out", nargs="?", default=str(ROOT / "build" / "book"))
    cli.add_argument("--lang", choices=("en", *i18n.LANGUAGES), default="en",
                     help="whose front page to print at the end")
    args = cli.parse_args()
    index = build(Path(args.out).resolve())
    if args.lang != "en":
        index = index.parent / args.lang / "index.html"
        if not index.exists():
            raise SystemExit(f"the {args.lang} edition was not built: its translation is incomplete "
                             "(python3 tools/i18n.py check)")
    print(f"the book is at {index}")
