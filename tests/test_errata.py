"""The errata index (data/errata.csv) against the notebooks and the articles' headings.

Every row must point to an anchor that exists; rows that claim code evidence must be named
('# errata: <id>') by a checked cell of their evidence notebook, and every named row must claim it;
the appendix must render the index as it is now; and the headings file must match the articles themselves
where they are available (they live outside the repository)."""

import csv
import json
import re
from pathlib import Path

import jupytext
import pytest

from cgen_lessons import errata

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
SEEDS = ROOT.parent / "shared" / "seeds"
SEED_FILES = {"A": "000_19f4756cccc2f324.txt", "B": "001_6e806df7c282159b.txt", "C": "002_630ace07a4c0d3fd.txt",
              "D": "003_7d74739adb57c4de.txt", "E": "004_a6edaa202bfa1c4c.txt"}
ANCHOR = re.compile(r'<a id="(errata-[a-z0-9-]+)"></a>')
ROWS = errata.load_errata()
APPENDIX = next(NOTEBOOKS.glob("[0-9][0-9]_errata.py"))


def _cells(stem):
    return jupytext.read(NOTEBOOKS / f"{stem}.py").cells


def _anchors(stem):
    """{anchor: (cell index, is the last anchor of its cell)} of one notebook source."""
    found = {}
    for i, cell in enumerate(_cells(stem)):
        names = ANCHOR.findall(cell.source) if cell.cell_type == "markdown" else []
        for j, name in enumerate(names):
            assert name not in found, f"{stem}: anchor {name} defined twice"
            found[name] = (i, j == len(names) - 1)
    return found


ANCHORS = {stem: _anchors(stem) for stem in sorted({r["evidence"].split("#")[0] for r in ROWS} | {APPENDIX.stem})}


def test_the_index_covers_every_article_and_category():
    assert len(ROWS) >= 100
    assert {r["article"] for r in ROWS} == set(errata.ARTICLES)
    assert {r["category"] for r in ROWS} == set(errata.CATEGORIES)
    assert sum(r["code"] == "yes" for r in ROWS) >= 60
    assert f"({len(ROWS)} rows" in (ROOT / "README.md").read_text(encoding="utf-8"), (
        "update the row count in the README")


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r["id"])
def test_every_row_points_to_an_existing_anchor(row):
    stem, anchor = row["evidence"].split("#")
    assert (NOTEBOOKS / f"{stem}.py").exists(), f"{row['id']}: no notebook {stem}"
    assert anchor in ANCHORS[stem], f"{row['id']}: {stem} has no <a id=\"{anchor}\">"


NAMES = re.compile(r"^# errata: (.+)$", re.M)


def _named_by_checked_cells(stem):
    """The row ids that the checked cells of one notebook source name: a cell whose verdict nbval
    compares (# NBVAL_CHECK_OUTPUT first) names the rows it demonstrates in a line '# errata: id, id'."""
    return {rid.strip() for cell in _cells(stem)
            if cell.cell_type == "code" and cell.source.lstrip().startswith("# NBVAL_CHECK_OUTPUT")
            for line in NAMES.findall(cell.source) for rid in line.split(",")}


NAMED = {p.stem: _named_by_checked_cells(p.stem) for p in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.py"))}


@pytest.mark.parametrize("row", [r for r in ROWS if r["code"] == "yes"], ids=lambda r: r["id"])
def test_code_evidence_is_a_checked_cell_that_names_the_row(row):
    """'code' means: a checked cell of the evidence notebook names the row ('# errata: <id>')."""
    stem = row["evidence"].split("#")[0]
    assert row["id"] in NAMED[stem], (
        f"{row['id']}: no NBVAL_CHECK_OUTPUT cell of {stem} names it ('# errata: {row['id']}')")


def test_every_named_row_exists_and_claims_code_evidence():
    """The other direction: a cell that names a row demonstrates it, so the row's code flag is 'yes' and its
    evidence is that notebook; a typo in a name fails here."""
    by_id = {r["id"]: r for r in ROWS}
    for stem, named in NAMED.items():
        for rid in named:
            assert rid in by_id, f"{stem} names {rid!r}, which is not a row of data/errata.csv"
            assert by_id[rid]["code"] == "yes", f"{stem} demonstrates {rid} in a checked cell: set its code flag to yes"
            assert by_id[rid]["evidence"].startswith(stem + "#"), (
                f"{rid} is demonstrated in {stem} but points elsewhere")


def test_every_errata_anchor_is_in_the_index():
    used = {r["evidence"] for r in ROWS}
    orphans = [f"{stem}#{a}" for stem, found in ANCHORS.items() for a in found if f"{stem}#{a}" not in used]
    assert not orphans, f"anchors no row points to: {orphans}"


def test_the_appendix_renders_the_index_as_it_is_now():
    """The committed appendix shows exactly the tables the current CSV renders (re-execute it after an edit)."""
    nb = json.loads(APPENDIX.with_suffix(".ipynb").read_text(encoding="utf-8"))
    shown = ["".join(o["data"]["text/markdown"]) for c in nb["cells"] if c["cell_type"] == "code"
             for o in c.get("outputs", []) if "text/markdown" in o.get("data", {})
             and "".join(o["data"]["text/markdown"]).startswith("| ")]  # the tables, not show_source's listings
    expected = [errata.counts_markdown()] + [errata.errata_markdown(a) for a in errata.ARTICLES]
    assert shown == expected, "the appendix's tables are stale: re-execute it (python3 tools/course.py execute 12)"


def test_links_are_relative_notebook_links():
    assert errata.evidence_link("06_gan#errata-x") == "[ch. 06](06_gan.ipynb#errata-x)"
    assert errata.evidence_link(f"{APPENDIX.stem}#errata-x") == f"[below]({APPENDIX.stem}.ipynb#errata-x)"
    with pytest.raises(ValueError, match="NN_slug"):
        errata.evidence_link("06_gan.ipynb")


def test_uncertain_rows_say_why():
    for r in ROWS:
        if r["status"] == "uncertain":
            assert re.search(r"cannot|could not|not measured|have not|may|probably|unsupported",
                             r["correction"]), r["id"]


def _write_rows(path, rows):
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


@pytest.mark.parametrize("field, value, message", [
    ("category", "typo", "category 'typo'"),
    ("section", "4.9", "§4.9 is not a heading of article"),
    ("evidence", "06_gan.ipynb", "is not 'NN_slug#errata-"),
    ("code", "maybe", "code must be yes or no"),
    ("article", "F", "article 'F'"),
])
def test_a_malformed_row_is_refused_with_its_line(tmp_path, field, value, message):
    rows = [dict(r) for r in ROWS[:3]]
    rows[1][field] = value
    _write_rows(tmp_path / "errata.csv", rows)
    with pytest.raises(ValueError, match=re.escape(message)) as err:
        errata.load_errata(path=tmp_path / "errata.csv")
    assert "line 3" in str(err.value)
    with pytest.raises(ValueError, match="article must be one of"):
        errata.load_errata("Z")


def test_duplicate_ids_are_refused(tmp_path):
    _write_rows(tmp_path / "errata.csv", [ROWS[0], ROWS[0]])
    with pytest.raises(ValueError, match="duplicate id"):
        errata.load_errata(path=tmp_path / "errata.csv")


def test_outcome_names_the_failure():
    assert errata.outcome(lambda: 1) == "runs"
    assert errata.outcome(lambda: [][1]) == "IndexError"
    assert errata.outcome(lambda: int("x"), message=True).startswith("ValueError: invalid literal")


def _seed_headings(letter):
    """(article, number) of every numbered heading of a seed article, plus E's unnumbered references."""
    text = (SEEDS / SEED_FILES[letter]).read_text(encoding="utf-8")
    numbers = {m.group(1) for m in re.finditer(r"^(?:<\|im_sep\|>)?#+\s*(\d+(?:\.\d+)*)\.?(?!\d)", text, re.M)}
    if letter == "E" and re.search(r"^#+\s*参考文献", text, re.M):
        numbers.add("refs")
    return {(letter, n) for n in numbers}


@pytest.mark.skipif(not SEEDS.exists(), reason="the source articles live outside the repository (../shared/seeds)")
@pytest.mark.parametrize("letter", errata.ARTICLES)
def test_sections_file_lists_exactly_the_articles_headings(letter):
    listed = {key for key in errata.load_sections() if key[0] == letter}
    assert listed == _seed_headings(letter)
