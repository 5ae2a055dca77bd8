"""The course in a second language: translations kept as data beside the English cells, checked, made notebooks.

    python3 tools/i18n.py check [NAME ...]   # every text translated, none stale, formulas/numbers/code/links kept
    python3 tools/i18n.py sync NAME ...      # (re)write a translation file in the English order, marking what to do
    python3 tools/i18n.py accept NAME N ...  # after updating the translations of texts N to their new English
    python3 tools/i18n.py build [OUT]        # the Chinese notebooks (default OUT: notebooks/zh), outputs included

One source of truth per text. The English notebooks are the executed originals; a translation file,
``notebooks/translations/zh/NAME.md``, holds one block per English Markdown cell, headed by a marker
that names the English cell's content hash::

    <!-- cell 7 · en 3f2a9c01b7de -->
    ## 5.2 变分下界 …

The hash (not the notebook's cell id, which jupytext renews whenever a chapter is re-executed) ties the
translation to the exact English text it translates: when the English cell changes, its hash changes and the
block is *stale*. ``check`` fails on a missing, stale or untranslated block, and on a translation that drops
or alters any formula (``$…$``, ``$$…$$``), inline code span, link target, HTML anchor id or number of its
English cell, or changes its heading levels. ``build`` writes each Chinese notebook as a copy of the English
``.ipynb`` with only the Markdown sources replaced: code cells and outputs are the same executed ones, byte
for byte (a test checks it), so the Chinese notebooks need no run of their own.

Besides the thirteen chapters, three documents are translated the same way (their "cells" are sections):
``README`` (the introduction, "Two commands" and "Chapters", which the book's front page shows) and
``instructor_guide`` (one block per ``##`` section).

Nothing here imports torch or the course package: this is plain text processing, fast enough for every test run.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
TRANSLATIONS = NOTEBOOKS / "translations"
LANGUAGES = {"zh": "简体中文"}
DOCUMENTS = ("README", "instructor_guide")
UNTRANSLATED = "<!-- untranslated -->"
OLD_TRANSLATION = "<!-- the translation of this text before its English changed:"
MARKER = re.compile(r"^<!-- cell (\d+) · en ([0-9a-f]{12}) -->$", re.M)
JUPYTEXT_STANDALONE = ("# Written by `python3 tools/i18n.py build`: generated from the English notebooks and\n"
                       "# notebooks/translations/; not paired with .py files. Edit the translations, not these.\n"
                       "formats = \"ipynb\"\n")


def content_hash(text: str) -> str:
    """The key of an English text: the first 12 hex digits of the SHA-256 of its stripped source."""
    return hashlib.sha256(text.strip().encode("utf-8")).hexdigest()[:12]


# --------------------------------------------------------------------------- the English texts
def chapter_names() -> list[str]:
    return [p.stem for p in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))]


def names() -> list[str]:
    """Everything that is translated: the chapters, then the documents."""
    return [*chapter_names(), *DOCUMENTS]


def _source(cell: dict) -> str:
    src = cell["source"]
    return "".join(src) if isinstance(src, list) else src


def readme_parts(text: str) -> list[str]:
    """The parts of the README that readers of the book see: the introduction (after the title, before the
    first section), and the bodies of "## Two commands" and "## Chapters"."""
    intro = text.split("\n## ", 1)[0].split("\n", 1)[1].strip()
    parts = [intro]
    for heading in ("Two commands", "Chapters"):
        m = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", text, re.S | re.M)
        if not m:
            raise ValueError(f"README.md has no section '## {heading}'")
        parts.append(m.group(1).strip())
    return parts


def guide_sections(text: str) -> list[str]:
    """The instructor guide cut before each ``## `` heading (the title and its introduction are the first)."""
    return [s.strip() for s in re.split(r"(?m)^(?=## )", text) if s.strip()]


def english_texts(name: str) -> list[str]:
    """The English texts of NAME, in order: a chapter's Markdown cells, or a document's sections."""
    if name == "README":
        return readme_parts((ROOT / "README.md").read_text(encoding="utf-8"))
    if name == "instructor_guide":
        return guide_sections((NOTEBOOKS / "instructor_guide.md").read_text(encoding="utf-8"))
    path = NOTEBOOKS / f"{name}.ipynb"
    if not path.exists():
        raise ValueError(f"nothing to translate is called {name!r}; choose from: {', '.join(names())}")
    nb = json.loads(path.read_text(encoding="utf-8"))
    return [_source(c) for c in nb["cells"] if c["cell_type"] == "markdown"]


# --------------------------------------------------------------------------- translation files
@dataclass
class Block:
    number: int  # the English text's position (1-based), for the reader of the file; the key is `key`
    key: str  # content_hash of the English text this block translates
    text: str


def translation_path(name: str, lang: str = "zh") -> Path:
    if lang not in LANGUAGES:
        raise ValueError(f"lang must be one of {sorted(LANGUAGES)}, got {lang!r}")
    return TRANSLATIONS / lang / f"{name}.md"


def parse(text: str) -> list[Block]:
    """The blocks of a translation file (whatever precedes the first marker is a comment for translators)."""
    marks = list(MARKER.finditer(text))
    return [Block(int(m[1]), m[2], text[m.end(): marks[i + 1].start() if i + 1 < len(marks) else len(text)].strip())
            for i, m in enumerate(marks)]


def header(name: str, lang: str) -> str:
    return (f"<!-- {LANGUAGES[lang]} translation of {name}: one block per English text, in order. Keep each marker "
            "line as it is; tools/i18n.py check says what is missing, stale or changed. -->\n")


def render(name: str, lang: str, blocks: list[Block]) -> str:
    return header(name, lang) + "".join(f"\n<!-- cell {b.number} · en {b.key} -->\n{b.text.strip()}\n"
                                        for b in blocks)


def load(name: str, lang: str = "zh") -> list[Block]:
    path = translation_path(name, lang)
    return parse(path.read_text(encoding="utf-8")) if path.exists() else []


def sync(name: str, lang: str = "zh") -> tuple[int, int]:
    """Rewrite NAME's translation file in the order of the English texts: translations whose English text is
    unchanged are kept; every other English text gets a block with the English source under an
    ``<!-- untranslated -->`` line (and the old translation at that position, if any, in a comment) for the
    translator to replace. Returns (kept, to translate)."""
    english = english_texts(name)
    old = load(name, lang)
    by_key = {b.key: b for b in old}
    by_number = {b.number: b for b in old}
    blocks, todo = [], 0
    for number, text in enumerate(english, 1):
        key = content_hash(text)
        if key in by_key and UNTRANSLATED not in by_key[key].text:
            blocks.append(Block(number, key, by_key[key].text))
            continue
        todo += 1
        previous = by_number.get(number)
        body = f"{UNTRANSLATED}\n{text.strip()}"
        if previous and UNTRANSLATED not in previous.text and previous.key not in {content_hash(t) for t in english}:
            body += f"\n\n{OLD_TRANSLATION}\n{previous.text}\n-->"
        elif previous and UNTRANSLATED in previous.text and OLD_TRANSLATION in previous.text:
            body += "\n\n" + previous.text[previous.text.index(OLD_TRANSLATION):]  # a second sync keeps it
        blocks.append(Block(number, key, body))
    path = translation_path(name, lang)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(name, lang, blocks), encoding="utf-8")
    return len(english) - todo, todo


def accept(name: str, numbers: list[int], lang: str = "zh") -> None:
    """Tie the blocks at positions ``numbers`` to the current English texts there: for a translator who has
    updated those translations after their English changed (``check`` then compares them with the new English)."""
    english = english_texts(name)
    blocks = load(name, lang)
    at = {b.number: b for b in blocks}
    for n in numbers:
        if not 1 <= n <= len(english) or n not in at:
            raise ValueError(f"{name} has no translated text {n} (texts 1-{len(english)})")
        at[n].key = content_hash(english[n - 1])
    translation_path(name, lang).write_text(render(name, lang, blocks), encoding="utf-8")


# --------------------------------------------------------------------------- what a translation must keep
FENCE = re.compile(r"^```.*?^```", re.S | re.M)
CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.S)
DISPLAY_MATH = re.compile(r"\$\$(.+?)\$\$", re.S)
INLINE_MATH = re.compile(r"(?<![\\$])\$(?=\S)([^$\n]+?)(?<=\S)\$(?!\d)")
LINK_TARGET = re.compile(r"\]\(([^)\s]+)\)")
ANCHOR = re.compile(r"""\bid=["']([^"']+)["']""")
NUMBER = re.compile(r"\d+(?:[.,:]\d+)*")
HEADING = re.compile(r"^(#{1,6})\s", re.M)
LATIN_WORD = re.compile(r"\b[A-Za-z]{3,}\b")


def invariants(text: str) -> dict[str, set[str]]:
    """What a translation must keep of a text, by kind: code (fenced blocks and inline spans), math (display,
    inline), link targets, HTML anchor ids, and the numbers of the remaining prose."""
    found: dict[str, set[str]] = {"code": set(), "math": set(), "link": set(), "anchor": set(), "number": set()}

    def take(pattern: re.Pattern, kind: str, group: int = 0):
        def cut(m: re.Match) -> str:
            found[kind].add(m.group(group).strip())
            return " "
        return cut

    rest = FENCE.sub(take(FENCE, "code"), text)
    rest = CODE_SPAN.sub(take(CODE_SPAN, "code", 2), rest)
    rest = DISPLAY_MATH.sub(take(DISPLAY_MATH, "math", 1), rest)
    rest = INLINE_MATH.sub(take(INLINE_MATH, "math", 1), rest)
    found["link"] = set(LINK_TARGET.findall(rest))
    found["anchor"] = set(ANCHOR.findall(rest))
    rest = LINK_TARGET.sub(" ", ANCHOR.sub(" ", rest))
    found["number"] = set(NUMBER.findall(rest))
    return found


def prose_words(text: str) -> int:
    """Latin words of three or more letters outside code, math, links and anchors (0 for a translated text)."""
    rest = FENCE.sub(" ", text)
    for pattern in (CODE_SPAN, DISPLAY_MATH, INLINE_MATH, LINK_TARGET, ANCHOR):
        rest = pattern.sub(" ", rest)
    rest = re.sub(r"<[^>]+>", " ", rest)
    return len(LATIN_WORD.findall(rest))


def compare(english: str, translated: str) -> list[str]:
    """What the translation of one English text gets wrong (empty: nothing)."""
    if UNTRANSLATED in translated:
        return ["not translated yet"]
    problems = []
    en, tr = invariants(english), invariants(translated)
    for kind, items in en.items():
        lost = sorted(items - tr[kind])
        if lost:
            shown = ", ".join(repr(x if len(x) <= 60 else x[:57] + "...") for x in lost[:4])
            more = f" (+{len(lost) - 4} more)" if len(lost) > 4 else ""
            problems.append(f"{kind} missing or changed: {shown}{more}")
    if HEADING.findall(english) != HEADING.findall(translated):
        problems.append(f"heading levels {HEADING.findall(english)} became {HEADING.findall(translated)}")
    if translated.strip() == english.strip() and prose_words(english) >= 3:
        problems.append("the same as the English")
    return problems


def check(name: str, lang: str = "zh") -> list[str]:
    """Every problem of NAME's translation, one line each: missing, stale or wrong blocks."""
    path = translation_path(name, lang)
    if not path.exists():
        return [f"{name}: no translation file {path.relative_to(ROOT)} (write one with `python3 tools/i18n.py sync "
                f"{name}`)"]
    english = english_texts(name)
    keys = [content_hash(t) for t in english]
    blocks = {b.key: b for b in load(name, lang)}
    problems = []
    for number, (text, key) in enumerate(zip(english, keys), 1):
        if key not in blocks:
            problems.append(f"{name} text {number}: no translation of the current English (en {key}); "
                            "run `python3 tools/i18n.py sync` to mark it")
            continue
        problems += [f"{name} text {number}: {p}" for p in compare(text, blocks[key].text)]
    for b in blocks.values():
        if b.key not in keys:
            problems.append(f"{name}: block 'cell {b.number} · en {b.key}' is stale: its English text changed or is "
                            "gone (`python3 tools/i18n.py sync` marks what to update)")
    return problems


# --------------------------------------------------------------------------- the translated notebooks
def translated_notebook(name: str, lang: str = "zh") -> dict:
    """The English notebook NAME with its Markdown cells replaced by their translations (all must pass check)."""
    problems = check(name, lang)
    if problems:
        raise ValueError(f"the {lang} translation of {name} is not ready:\n  " + "\n  ".join(problems[:10]))
    blocks = {b.key: b.text for b in load(name, lang)}
    nb = json.loads((NOTEBOOKS / f"{name}.ipynb").read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            cell["source"] = blocks[content_hash(_source(cell))].strip() + "\n"
            cell["source"] = cell["source"].splitlines(keepends=True)
            cell["source"][-1] = cell["source"][-1].rstrip("\n")
    nb["metadata"]["language"] = lang
    return nb


def build(out: Path | None = None, lang: str = "zh", chapters: list[str] | None = None) -> list[Path]:
    """Write the translated chapters (default: all) as notebooks to OUT (default: notebooks/<lang>)."""
    out = Path(out) if out else NOTEBOOKS / lang
    out.mkdir(parents=True, exist_ok=True)
    (out / "jupytext.toml").write_text(JUPYTEXT_STANDALONE, encoding="utf-8")
    written = []
    for name in chapters or chapter_names():
        target = out / f"{name}.ipynb"
        target.write_text(json.dumps(translated_notebook(name, lang), indent=1, ensure_ascii=False) + "\n",
                          encoding="utf-8")
        written.append(target)
    return written


def translated_text(name: str, lang: str = "zh") -> list[str]:
    """The translations of a document's parts (README, instructor_guide), in the English order."""
    problems = check(name, lang)
    if problems:
        raise ValueError(f"the {lang} translation of {name} is not ready:\n  " + "\n  ".join(problems[:10]))
    blocks = {b.key: b.text for b in load(name, lang)}
    return [blocks[content_hash(t)] for t in english_texts(name)]


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"check", "sync", "accept", "build"}:
        print(__doc__)
        return 2
    command, args = argv[0], argv[1:]
    if command == "build":
        for path in build(Path(args[0]) if args else None):
            print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
        return 0
    if command == "accept":
        if len(args) < 2 or not all(a.isdigit() for a in args[1:]):
            print("usage: python3 tools/i18n.py accept NAME N [N ...]", file=sys.stderr)
            return 2
        accept(args[0], [int(a) for a in args[1:]])
        return 0
    chosen = args or names()
    for name in chosen:
        if name not in names():
            print(f"nothing to translate is called {name!r}; choose from: {', '.join(names())}", file=sys.stderr)
            return 2
    if command == "sync":
        for name in chosen:
            kept, todo = sync(name)
            print(f"{translation_path(name).relative_to(ROOT)}: {kept} kept, {todo} to translate")
        return 0
    problems = [p for name in chosen for p in check(name)]
    print("\n".join(problems) if problems else f"all {len(chosen)} translation(s) complete and consistent")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
