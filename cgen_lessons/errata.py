"""The errata of the five source articles, kept as data: ``data/errata.csv`` (one row per error) and
``data/article_sections.csv`` (the articles' numbered headings, titles in our English).

Each erratum row has the columns

    id, article, section, category, status, evidence, code, claim, correction

``category`` is one of :data:`CATEGORIES`, ``status`` ``error`` or ``uncertain`` (we could not settle it, and
the correction says why), ``evidence`` a notebook anchor ``NN_slug#errata-...`` where the course shows the
error and its correction, and ``code`` says whether a runnable, checked cell sits at that anchor.
The appendix notebook renders the tables with :func:`errata_markdown`; ``tests/test_errata.py`` checks that
every anchor exists and every section is one of the article's headings.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

from .utils import read_csv_table

__all__ = ["ERRATA_PATH", "SECTIONS_PATH", "ARTICLES", "CATEGORIES", "load_errata", "load_sections",
           "evidence_link", "errata_markdown", "counts_markdown", "outcome"]

DATA = Path(__file__).resolve().parent.parent / "data"
ERRATA_PATH = DATA / "errata.csv"
SECTIONS_PATH = DATA / "article_sections.csv"
ARTICLES = ("A", "B", "C", "D", "E")
CATEGORIES = ("equation", "code", "claim", "results", "reference")
STATUSES = ("error", "uncertain")
COLUMNS = ["id", "article", "section", "category", "status", "evidence", "code", "claim", "correction"]
EVIDENCE = re.compile(r"^(?P<stem>\d\d_[a-z0-9_]+)#(?P<anchor>errata-[a-z0-9-]+)$")


def load_sections(path: Path = SECTIONS_PATH) -> dict[tuple[str, str], str]:
    """``{(article, section): title}`` for every numbered heading of the five articles."""
    rows = read_csv_table(path, ["article", "section", "title"], "article headings")
    return {(r["article"], r["section"]): r["title"] for r in rows}


def load_errata(article: str | None = None, path: Path = ERRATA_PATH,
                sections_path: Path = SECTIONS_PATH) -> list[dict[str, str]]:
    """The errata rows (all, or one article's), validated: a malformed row raises ``ValueError`` naming it."""
    if article is not None and article not in ARTICLES:
        raise ValueError(f"article must be one of {ARTICLES}, got {article!r}")
    rows = read_csv_table(path, COLUMNS, "errata")
    sections = load_sections(sections_path)
    seen = set()
    for i, r in enumerate(rows, start=2):  # line 1 is the header
        where = f"{Path(path).name} line {i} ({r['id']!r})"
        problems = ["duplicate id" if r["id"] in seen else "",
                    f"article {r['article']!r} not in {ARTICLES}" if r["article"] not in ARTICLES else "",
                    f"category {r['category']!r} not in {CATEGORIES}" if r["category"] not in CATEGORIES else "",
                    f"status {r['status']!r} not in {STATUSES}" if r["status"] not in STATUSES else "",
                    f"code must be yes or no, got {r['code']!r}" if r["code"] not in ("yes", "no") else "",
                    (f"evidence {r['evidence']!r} is not 'NN_slug#errata-…'"
                     if not EVIDENCE.match(r["evidence"]) else ""),
                    f"§{r['section']} is not a heading of article {r['article']}"
                    if (r["article"], r["section"]) not in sections else "",
                    "empty claim or correction" if not (r["claim"].strip() and r["correction"].strip()) else ""]
        problems = [p for p in problems if p]
        if problems:
            raise ValueError(f"{where}: " + "; ".join(problems))
        seen.add(r["id"])
    return [r for r in rows if article is None or r["article"] == article]


def evidence_link(evidence: str) -> str:
    """A Markdown link to an evidence anchor: ``06_gan#errata-x`` → ``[ch. 06](06_gan.ipynb#errata-x)``."""
    m = EVIDENCE.match(evidence)
    if not m:
        raise ValueError(f"evidence {evidence!r} is not 'NN_slug#errata-…'")
    label = "below" if m["stem"].endswith("_errata") else f"ch. {m['stem'][:2]}"
    return f"[{label}]({m['stem']}.ipynb#{m['anchor']})"


def _section_key(section: str) -> tuple:
    """Sort key of a section number: "4.1" < "4.1.1" < "4.2" < "10"; the unnumbered references last."""
    return (1,) if section == "refs" else (0, *map(int, section.split(".")))


def _cell(text: str) -> str:
    return text.replace("|", "\\|")  # a bare | would start a new table cell (math uses \mid and \Vert)


def errata_markdown(article: str) -> str:
    """One article's errata as a Markdown table (render with ``IPython.display.Markdown``)."""
    sections = load_sections()
    lines = ["| § | kind | the article says | what is right | evidence |", "|---|---|---|---|---|"]
    rows = load_errata(article)
    for r in sorted(rows, key=lambda r: _section_key(r["section"])):  # stable: CSV order within a §
        kind = r["category"] + (" (uncertain)" if r["status"] == "uncertain" else "")
        title = sections[(r["article"], r["section"])]
        evidence = evidence_link(r["evidence"]) + (" · code" if r["code"] == "yes" else "")
        lines.append(f"| <span title=\"{title}\">{r['section']}</span> | {kind} | {_cell(r['claim'])} | "
                     f"{_cell(r['correction'])} | {evidence} |")
    return "\n".join(lines)


def counts_markdown() -> str:
    """Errors per article and category, with how many a code cell demonstrates, as a Markdown table."""
    rows = load_errata()
    lines = ["| article | " + " | ".join(CATEGORIES) + " | all | shown by code | uncertain |",
             "|---" * (len(CATEGORIES) + 4) + "|"]
    for a in ARTICLES + ("all",):
        mine = [r for r in rows if a == "all" or r["article"] == a]
        cells = [str(sum(r["category"] == c for r in mine)) for c in CATEGORIES]
        lines.append(f"| {a} | " + " | ".join(cells) + f" | {len(mine)} | {sum(r['code'] == 'yes' for r in mine)} | "
                     f"{sum(r['status'] == 'uncertain' for r in mine)} |")
    return "\n".join(lines)


def outcome(fn, message: bool = False) -> str:
    """Run ``fn()`` and say how it ended: ``"runs"``, or the type of the exception it raised (with the first
    line of its message if ``message``) — how the appendix shows that an article's code crashes, and where.
    Messages can change between library versions, so checked cells print the type only."""
    try:
        fn()
    except Exception as err:  # the point is to report any failure, whatever its type
        first = textwrap.shorten((str(err).splitlines() or [""])[0], 160, placeholder=" …")  # some carry none
        return type(err).__name__ + (f": {first}" if message and first else "")
    return "runs"
