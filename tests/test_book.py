"""The HTML book: built from the committed notebooks, then read in headless Chromium.

For every page (``book.check_page``): every request answers (no 4xx/5xx, none failed), no console
errors, every image loaded with a non-zero size (at least as many as the chapter has figures),
every formula typeset by MathJax and no raw TeX left in the text, internal links and their
#anchors resolve, no output block is wider than the text column; one screenshot per page is saved
under build/book-test/screenshots. The search box finds each chapter by a word of its title, and
the glossary by English and Chinese terms. The checker itself is shown failing on a
deliberately broken copy of a page (a deleted figure, a script error, a dead link, raw TeX).
The Chinese edition (zh/) passes the same page checks; its Chinese text is drawn with a CJK font's glyphs
(no tofu boxes: the font Chromium used for the text, by the DevTools protocol), its search finds Chinese words,
and the language switch leads to the same section of the same page in the other language.

Needs the [book] extra (``python3 tools/course.py test`` installs it) and Debian's Chromium
(``apt-get install chromium``; ``.ci/run`` installs it). Without them the tests skip and say so.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CGEN_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
MISSING = [m for m in ("sphinx", "myst_nb", "sphinx_book_theme", "mathjax", "playwright")
           if importlib.util.find_spec(m) is None]
pytestmark = [
    pytest.mark.skipif(bool(MISSING), reason=f"the book's packages are missing ({', '.join(MISSING)}): "
                       "run `python3 tools/course.py test` (it installs the [book] extra) or `pip install -e .[book]`"),
    pytest.mark.skipif(CHROMIUM is None, reason="no Chromium found: `apt-get install chromium` (Debian/Ubuntu), "
                       "or set CGEN_CHROMIUM to a Chromium/Chrome executable"),
]
CHAPTERS = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
PAGES = ["index.html", "glossary.html", "guide.html", "search.html"] + [f"chapters/{stem}.html" for stem in CHAPTERS]
PAGES += [f"zh/{page}" for page in PAGES]  # the Chinese edition
CJK_FONT = re.compile(r"WenQuanYi|CJK|Hei|Song|Ming|Kai|Fallback|Sarasa|Source Han", re.I)


def _book_module():
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import book
    finally:
        sys.path.pop(0)
    return book


@pytest.fixture(scope="module")
def site():
    book = _book_module()
    out = ROOT / "build" / "book-test"
    html_dir = book.build(out).parent
    server, url = book.serve(html_dir)
    shots = out / "screenshots"
    shots.mkdir(exist_ok=True)
    yield {"book": book, "url": url, "html": html_dir, "shots": shots}
    server.shutdown()


@pytest.fixture(scope="module")
def browser(site):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=site["book"].CHROMIUM_ARGS)
        yield b
        b.close()


def _figures(stem: str) -> int:
    nb = json.loads((ROOT / "notebooks" / f"{stem}.ipynb").read_text(encoding="utf-8"))
    return sum("image/png" in o.get("data", {}) for c in nb["cells"] for o in c.get("outputs", []))


@pytest.mark.parametrize("page", PAGES)
def test_page_is_clean(site, browser, page):
    figures = _figures(Path(page).stem) if "chapters/" in page else 0
    shot = site["shots"] / page.replace("/", "_").replace(".html", ".png")
    problems = site["book"].check_page(browser, site["url"], page, screenshot=shot, min_images=figures)
    assert not problems, f"{page}: " + "; ".join(problems[:8])
    assert shot.stat().st_size > 10_000


@pytest.mark.parametrize("stem", CHAPTERS)
def test_search_box_finds_each_chapter(site, browser, stem):
    nb = json.loads((ROOT / "notebooks" / f"{stem}.ipynb").read_text(encoding="utf-8"))
    title = next(m.group(1) for c in nb["cells"] if c["cell_type"] == "markdown"
                 for m in [re.search(r"^#\s+(.+)$", "".join(c["source"]), re.M)] if m)
    term = max(re.findall(r"[A-Za-z]{5,}", title), key=len)
    hits = site["book"].search_hits(browser, site["url"], term)
    assert any(f"{stem}.html" in h for h in hits), f"searching {term!r} did not find {stem}: {hits[:8]}"


def _cjk_fonts(browser, url: str) -> tuple[int, list[dict]]:
    """The number of CJK characters in the first paragraph of the page's article with 20 or more, and the fonts
    Chromium drew that paragraph with (DevTools: CSS.getPlatformFontsForNode; each with its glyph count)."""
    ctx = browser.new_context()
    tab = ctx.new_page()
    try:
        tab.goto(url, wait_until="networkidle")
        n = tab.evaluate("""() => { const cjk = e => [...e.innerText].filter(c => /[\\u4e00-\\u9fff]/.test(c)).length;
            const p = [...document.querySelectorAll('article p')].find(e => cjk(e) >= 20);
            if (!p) return 0;
            p.id = 'cjk-probe';
            return cjk(p); }""")
        if not n:
            return 0, []
        cdp = ctx.new_cdp_session(tab)
        cdp.send("DOM.enable")
        cdp.send("CSS.enable")
        root = cdp.send("DOM.getDocument", {"depth": -1})["root"]["nodeId"]
        node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": "#cjk-probe"})["nodeId"]
        return n, cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    finally:
        ctx.close()


@pytest.mark.parametrize("page", ["zh/index.html", "zh/chapters/05_vae.html", "zh/chapters/12_errata.html"])
def test_chinese_text_is_drawn_with_a_cjk_font_not_tofu(site, browser, page):
    n, fonts = _cjk_fonts(browser, site["url"] + page)
    assert n >= 20, f"{page}: no paragraph with Chinese text found"
    cjk = [f for f in fonts if CJK_FONT.search(f["familyName"])]
    if not cjk:
        names = ", ".join(f"{f['familyName']} ({f['glyphCount']})" for f in fonts)
        pytest.fail(f"{page}: the Chinese text was drawn with {names}: no CJK font, so boxes (tofu); "
                    "install one: apt-get install fonts-wqy-microhei")
    assert sum(f["glyphCount"] for f in cjk) >= n, (page, fonts)


@pytest.mark.parametrize("term, stem", [("变分自编码器", "05_vae"), ("扩散模型", "07_diffusion"),
                                        ("勘误", "12_errata")])
def test_chinese_search_finds_a_chapter_by_a_chinese_word(site, browser, term, stem):
    hits = site["book"].search_hits(browser, site["url"], term, start="zh/index.html")
    assert any(f"{stem}.html" in h for h in hits), f"searching {term!r} did not find {stem}: {hits[:8]}"


@pytest.mark.parametrize("start, other", [("chapters/05_vae.html", "zh/chapters/05_vae.html"),
                                          ("zh/chapters/06_gan.html", "chapters/06_gan.html")])
def test_language_switch_leads_to_the_same_section_of_the_other_edition(site, browser, start, other):
    tab = browser.new_page()
    try:
        tab.goto(site["url"] + start, wait_until="networkidle")
        tab.evaluate("() => document.querySelectorAll('article section[id]')[4].scrollIntoView()")
        tab.locator("a.lang-switch").first.click()
        tab.wait_for_url(f"**/{other}#section-4")
        tab.wait_for_load_state("networkidle")
        at_top = tab.evaluate("""() => { let i = -1; document.querySelectorAll('article section[id]')
            .forEach((s, k) => { if (s.getBoundingClientRect().top <= 100) i = k; }); return i; }""")
        heading = tab.evaluate("() => document.querySelectorAll('article section[id]')[4].querySelector('h1,h2,h3')"
                               ".innerText")
    finally:
        tab.close()
    assert at_top == 4, (start, at_top)
    assert bool(re.search(r"[\u4e00-\u9fff]", heading)) == other.startswith("zh/"), heading


def test_ci_markers_are_not_shown_to_readers(site):
    pages = [*(site["html"] / "chapters").glob("*.html"), *(site["html"] / "zh" / "chapters").glob("*.html")]
    marker = 'class="c1"># NBVAL_CHECK_OUTPUT'  # the comment in a code cell (the prose may still name it)
    assert pages and not [p.name for p in pages if marker in p.read_text(encoding="utf-8")]


@pytest.mark.parametrize("term", ["perplexity", "交叉熵", "生成模型", "扩散模型", "困惑度"])
def test_search_finds_the_glossary_by_an_english_or_chinese_term(site, browser, term):
    """The glossary's table cells are separate words in the index, and Chinese text is cut into
    words by jieba with the glossary's terms kept whole."""
    hits = site["book"].search_hits(browser, site["url"], term)
    assert any("glossary.html" in h for h in hits), f"searching {term!r} did not find the glossary: {hits[:8]}"


@pytest.mark.parametrize("width", [1280, 420])
def test_one_search_box_per_page(site, browser, width):
    """The theme's sidebar search field, not a second one in a top bar (on a phone, the sidebar is folded away and
    the article's header keeps a search button)."""
    tab = browser.new_page(viewport={"width": width, "height": 900})
    try:
        tab.goto(site["url"] + "chapters/01_foundations.html", wait_until="networkidle")
        visible = tab.evaluate("() => [...document.querySelectorAll('.search-button-field, .search-button')]"
                               ".filter(e => e.offsetParent !== null && e.getBoundingClientRect().width > 0).length")
    finally:
        tab.close()
    assert visible == 1, f"{visible} search boxes visible at {width} px"


def test_the_glossary_formulas_are_math_on_the_page(site):
    """Each $…$ of data/glossary.csv reaches the glossary page as a formula (check_page then requires every formula
    on it to be typeset), in both editions."""
    import csv

    with open(ROOT / "data" / "glossary.csv", encoding="utf-8") as f:
        n = sum(r["definition"].count("$") // 2 for r in csv.DictReader(f))
    for page in ("glossary.html", "zh/glossary.html"):
        text = (site["html"] / page).read_text(encoding="utf-8")
        assert text.count('<span class="math notranslate nohighlight">') >= n >= 100, (page, n)


def test_checker_catches_a_deliberately_broken_copy(site, browser, tmp_path):
    """A copy of the site in which one chapter page lost a figure, gained a script error, a dead
    link and an untypeset formula: the checker must report each; the intact page stays clean."""
    book = site["book"]
    copy = tmp_path / "html"
    shutil.copytree(site["html"], copy)
    page = "chapters/05_vae.html"
    html = (copy / page).read_text(encoding="utf-8")
    image = re.search(r'<img[^>]+src="([^"]+)"', html).group(1)
    (copy / "chapters" / image).unlink()  # a figure file goes missing
    html = html.replace("</article>", '<p>raw $\\alpha + \\beta$ here</p><a href="nowhere.html">dead</a>'
                                      '<script>console.error("deliberate error")</script>'
                                      '<div class="cell_output"><pre style="white-space: pre">' + "wide " * 400
                                      + '</pre></div></article>', 1)
    (copy / page).write_text(html, encoding="utf-8")
    server, url = book.serve(copy)
    try:
        problems = book.check_page(browser, url, page)
        clean = book.check_page(browser, url, "chapters/06_gan.html")
    finally:
        server.shutdown()
    report = "\n".join(problems)
    assert "image not loaded" in report and "HTTP 404" in report, report
    assert "deliberate error" in report, report
    assert "broken link (404)" in report and "nowhere.html" in report, report
    assert "raw TeX" in report, report
    assert "output wider than the column" in report, report
    assert clean == [], clean
