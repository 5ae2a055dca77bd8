"""The course's bilingual glossary, kept as data in ``data/glossary.csv`` (columns
``term_en, term_zh, chapter, definition``); later chapters append their rows to that file."""

from __future__ import annotations

from pathlib import Path

from .utils import read_csv_table

__all__ = ["GLOSSARY_PATH", "load_glossary", "glossary_markdown"]

GLOSSARY_PATH = Path(__file__).resolve().parent.parent / "data" / "glossary.csv"
COLUMNS = ["term_en", "term_zh", "chapter", "definition"]


def load_glossary(chapter: str | None = None, path: Path = GLOSSARY_PATH) -> list[dict[str, str]]:
    """All glossary rows, or only those introduced in ``chapter`` (e.g. ``"01"``)."""
    rows = read_csv_table(path, COLUMNS, "glossary")
    if chapter is not None:
        chapters = sorted({r["chapter"] for r in rows})
        if chapter not in chapters:
            raise ValueError(f"chapter must be one of {', '.join(chapters)} (a string), got {chapter!r}")
        rows = [r for r in rows if r["chapter"] == chapter]
    return rows


def glossary_markdown(chapter: str | None = None) -> str:
    """The glossary as a Markdown table (render with ``IPython.display.Markdown``)."""
    lines = ["| English | 中文 | ch. | meaning |", "|---|---|---|---|"]
    for r in load_glossary(chapter):
        cells = [r[c].replace("|", "\\|") for c in COLUMNS]  # a bare | would start a new cell
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
