"""Every number in the chapters' prose traces to an output, a saved result, the code or a paper.

The tracing rules are in tools/prose_numbers.py; this module runs them over the committed
notebooks (what the reader reads) and shows that a deliberately wrong number is caught."""

import csv
import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import prose_numbers  # noqa: E402

sys.path.pop(0)

CHAPTERS = prose_numbers.chapters()
ROWS = prose_numbers.published_rows()


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_every_prose_number_is_traced(path):
    untraced, counts = prose_numbers.check_chapter(path, ROWS)
    listing = "\n".join(f"  {path.stem} cell {n.cell}: {n.text!r} in …{n.context}…" for n in untraced)
    assert not untraced, f"{len(untraced)} numbers in the prose trace to no output, result, code or paper:\n{listing}"
    assert sum(counts.values()) > 0


def _first_traced_decimal(chapter: prose_numbers.Chapter):
    for number in prose_numbers.prose_numbers(chapter.path.stem, chapter.cells):
        if number.decimals >= 2 and number.spread is None and chapter.trace(number, ROWS) == "output":
            return number
    raise AssertionError("no traced decimal to edit")


@pytest.mark.parametrize("stem", ["03_transformer", "09_evaluation"])
def test_a_wrong_number_is_caught(tmp_path, stem):
    """Edit one traced decimal in a copy of a chapter (an off-by-a-lot 'stale' value): the check fails
    and names the chapter, the cell and the number."""
    path = next(p for p in CHAPTERS if p.stem == stem)
    chapter = prose_numbers.Chapter.load(path)
    number = _first_traced_decimal(chapter)
    nb = json.loads(path.read_text(encoding="utf-8"))
    cell = nb["cells"][number.cell]
    source = "".join(cell["source"])
    wrong = f"{number.value * 1.37 + 0.11:.{number.decimals}f}"
    cell["source"] = re.sub(rf"(?<![\d.]){re.escape(number.text)}(?![\d])", wrong, source, count=1)
    assert cell["source"] != source
    edited = tmp_path / path.name
    edited.write_text(json.dumps(nb), encoding="utf-8")
    untraced, _ = prose_numbers.check_chapter(edited, ROWS)
    assert [(n.cell, n.text) for n in untraced] == [(number.cell, wrong)]


def _demo(tmp_path, prose, printed):
    cells = [{"cell_type": "markdown", "source": [prose]},
             {"cell_type": "code", "source": ["print(x)"], "outputs": [{"output_type": "stream", "text": [printed]}]}]
    path = tmp_path / "98_demo.ipynb"
    path.write_text(json.dumps({"cells": cells}), encoding="utf-8")
    return [n.text for n in prose_numbers.check_chapter(path, ROWS)[0]]


def test_an_uncited_published_figure_is_not_enough(tmp_path):
    """A published value traces only where its cell cites the paper."""
    row = next(r for r in ROWS if r["key"].startswith("lin2018"))
    assert _demo(tmp_path, f"They report {row['value']} in their table.", "x") == [row["value"]]
    assert _demo(tmp_path, f"{row['authors']} ({row['year']}) report {row['value']} in their table.", "x") == []


def test_structure_allow_list_is_small_and_numbers_inside_names_only():
    assert len(prose_numbers.STRUCTURE) <= 16
    text = "In A §4.1 (Lin et al. 2018) and chapter 05, GPT-2 scores 24.8 modes."
    cells = [{"cell_type": "markdown", "source": [text]}]
    assert [n.text for n in prose_numbers.prose_numbers("demo", cells)] == ["24.8"]


def test_published_table_is_well_formed_and_cited():
    with prose_numbers.PUBLISHED.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert rows, "data/published.csv is empty"
    assert list(rows[0]) == ["key", "authors", "year", "title", "venue", "where", "metric", "value"]
    keys = [r["key"] for r in rows]
    assert len(keys) == len(set(keys))
    prose = "".join("".join(c["source"]) for p in CHAPTERS for c in prose_numbers.load_cells(p)
                    if c["cell_type"] == "markdown")
    for r in rows:
        float(r["value"])
        assert r["where"] and r["venue"] and re.fullmatch(r"(19|20)\d\d", r["year"]), r
        assert r["authors"] in prose, f"{r['key']}: no chapter cites {r['authors']}"


def test_rounding_rules(tmp_path):
    """Digits shown are digits checked: 0.45 traces to 0.4512 but not to 0.4561; "about 25,000" traces to
    24,991 but a bare 25,000 does not; a percentage traces to a fraction; "a ± b" needs a printed pair."""
    assert _demo(tmp_path, "It is 0.45 here.", "value 0.4512") == []
    assert _demo(tmp_path, "It is 0.45 here.", "value 0.4561") == ["0.45"]
    assert _demo(tmp_path, "It has about 25,000 characters.", "24,991 characters") == []
    assert _demo(tmp_path, "It has 25,000 characters.", "24,991 characters") == ["25,000"]
    assert _demo(tmp_path, "It reaches 94 % of them.", "share 0.9412") == []
    assert _demo(tmp_path, "It gets 24.6 ± 0.9 modes.", "24.6 ± 0.9 / 25") == []
    assert _demo(tmp_path, "It gets 24.6 ± 0.9 modes.", "24.6 and 0.9") == ["24.6 ± 0.9"]
    assert _demo(tmp_path, "p = $4.4 \\cdot 10^{-30}$ here.", "p = 4.4e-30") == []
    assert _demo(tmp_path, "p = $4.4 \\cdot 10^{-30}$ here.", "p = 4.9e-30") == ["4.4 \\cdot 10^{-30}"]
