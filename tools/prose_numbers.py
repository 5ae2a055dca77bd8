#!/usr/bin/env python3
"""Trace every number in the chapters' prose to where it comes from.

A chapter's Markdown may quote a number only if one of these holds it:

- ``output``    an output of the same section (a ``##``–``####`` heading starts one), after rounding
                to the digits the prose shows, or an output anywhere in the chapter printed with
                exactly those digits; a percentage also matches a fraction 100 times smaller, and a
                prose "a ± b" needs a printed "a ± b";
- ``results``   a saved benchmark result, ``benchmarks/results/*.json``, that the section's code reads;
- ``code``      a numeric literal of the chapter's code (a setting: a learning rate, a step count);
- ``published`` a row of ``data/published.csv`` (a paper's figure) whose authors the same
                Markdown cell cites;
- ``structure`` the short allow-list below: section and chapter references, years of citations,
                table/figure/exercise numbers, list markers, bibliography entries.

"about 25,000" (after about, around, roughly, nearly, some, ~ or ≈) is rounded at its last
non-zero digit. Integers inside LaTeX math are part of formulas (exponents, fractions) and are not checked;
decimals in math are, and so is a number written as ``a \\cdot 10^{-b}``. Inline code spans and
link targets are code, not prose. Run ``python3 tools/prose_numbers.py [chapter ...]`` to list the
numbers that trace nowhere; ``tests/test_prose_numbers.py`` fails on any.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
import re
import sys
import tokenize
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
RESULTS = ROOT / "benchmarks" / "results"
PUBLISHED = ROOT / "data" / "published.csv"

# The structural allow-list: spans of prose whose numbers are names, not quantities.
STRUCTURE = [
    r"§+\s*\d+(?:\.\d+)*(?:\s*[–-]\s*§?\s*\d+(?:\.\d+)*)*",              # article sections: A §4.1, §3–§5
    r"^#{1,6}\s*\d+(?:\.\d+)*",                                            # heading numbers: ## 4 · …
    r"^\s*\d+\.\s",                                                        # numbered-list markers
    r"\b(?:[Cc]hapters?|ch\.?|[Tt]ables?|[Ff]igures?|[Ff]ig\.|[Ee]q\.|[Ee]quations?|[Ee]xercises?|"
    r"[Aa]lgorithm|[Ss]ections?|[Pp]arts?|[Cc]ells?|[Ss]tep|[Ll]istings?|[Aa]ppendix)"
    r"\s*\(?\d+(?:\.\d+)*\)?(?:\s*(?:[–,-]|and|or)\s*\d+(?:\.\d+)*)*",    # chapter 05, Table 1, Exercise 3
    r"\b[A-E]\s?\[\d+\]|\[\d+\]",                                          # reference markers: E [2]
    r"\b(?:et al\.?|[A-Z][a-zà-ÿ]+(?: (?:&|and) [A-Z][a-zà-ÿ]+)?),? \(?(?:19|20)\d\d[a-z]?\)?",  # Lin et al. 2018
    r"\((?:19|20)\d\d[a-z]?\)",                                            # (2016)
    r"\b\d\d_[a-z_]+",                                                     # notebook names: 05_vae
    r"[A-Za-z]+-\d+\b",                                                    # names: GPT-2, CIFAR-10, distinct-2
    r"\b[A-Za-z]+\d+\b",                                                   # names: fp32, bf16, β1-free ids
    r"\b\d+(?:-|‑)?D\b",                                                   # 2-D, 3D
    r"(?<![\d,.])(?:19[5-9]\d|20[0-2]\d)s?(?![\d,.]|\s*(?:steps|samples|images|tokens|characters|words|"
    r"epochs|iterations|parameters|points|seeds|pairs|examples|entries|lines|plays|units))",  # years
    r"\bpp\.\s*\d+\s*[–-]\s*\d+|arXiv:\s*\d{4}\.\d{4,5}",                    # pages, arXiv ids
    r"\b(?:NIPS|NeurIPS|ICML|ICLR|EMNLP|ACL|AAAI|JMLR|CVPR|WMT|NAACL|Interspeech)\s+\d+",  # venue volumes
    r"\((?:easy|medium|hard)[^)]*≈\s*\d+\s*min\)",                          # exercise time estimates
]
STRUCTURE_RE = re.compile("|".join(f"(?:{p})" for p in STRUCTURE), re.M)
REFERENCES_HEAD = re.compile(r"^\s*(?:#+\s*|\*\*)(?:\d+\s*·\s*)?(?:Summary and )?references", re.I | re.M)

NUMBER = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
PROSE_NUMBER = re.compile(rf"(?<![\w.,])(?:{NUMBER})(?:[eE][-+−]?\d+)?(?![\w]*\.\d)(\s?%)?")
SOURCE_PAIR = re.compile(r"(\d+(?:\.\d+)?)\s*%?\s*±\s*(\d+(?:\.\d+)?)")
SOURCE_NUMBER = re.compile(r"(?<![\w.])\d+(?:,\d{3})*(?:\.\d+)?(?:[eE][-+−]?\d+)?")
MATH_SCI = re.compile(r"(\d+(?:\.\d+)?)\s*\\(?:cdot|times)\s*10\^\{?([-−]?\d+)\}?")
APPROX = re.compile(r"(?:about|around|roughly|nearly|some|~|≈)\s*$")
MATH_DECIMAL = re.compile(r"(?<![\w.])\d+\.\d+")


@dataclass(frozen=True)
class ProseNumber:
    chapter: str
    cell: int            # index of the Markdown cell in the .ipynb
    text: str            # as written, e.g. "0.45", "94 %", "20,000"
    value: float
    decimals: int
    percent: bool
    context: str
    spread: ProseNumber | None = None  # the b of "a ± b": both must come from one printed "a ± b"
    offset: int = 0      # where in the cell's source it stands
    approx: bool = False  # "about 25,000": an integer rounded to its last non-zero digit


def _value(text: str) -> float:
    return float(text.replace(",", "").replace("−", "-"))


def _decimals(text: str) -> int:
    mantissa = re.split(r"[eE]", text)[0]
    return len(mantissa.split(".")[1]) if "." in mantissa else 0


def _blank(match: re.Match) -> str:
    return " " * len(match.group(0))


def prose_numbers(chapter: str, cells: list[dict]) -> list[ProseNumber]:
    """Every number of every Markdown cell that is not structure."""
    found = []
    for index, cell in enumerate(cells):
        if cell["cell_type"] != "markdown":
            continue
        text = "".join(cell["source"])
        refs = REFERENCES_HEAD.search(text)
        if refs:  # a bibliography: volumes, pages and years are not quantities
            text = text[: refs.start()]
        text = re.sub(r"<!--.*?-->|<[^>]+>", _blank, text, flags=re.S)   # comments, anchors, HTML tags
        text = re.sub(r"\]\([^)]*\)", _blank, text)                       # link targets
        text = re.sub(r"`[^`]*`", _blank, text)                           # inline code
        math_spans = []

        def keep_math(match: re.Match) -> str:
            math_spans.append((match.start(), match.group(0)))  # noqa: B023 - called within this iteration
            return " " * len(match.group(0))

        text = re.sub(r"\$\$.*?\$\$|\$[^$]*\$", keep_math, text, flags=re.S)
        text = STRUCTURE_RE.sub(_blank, text)

        def add(number: str, value: float, percent: bool, where: int, source: str, start: int = 0, **fields) -> None:
            """Record a number found at ``where`` in ``source`` (a math span starts at ``start`` of the cell)."""
            context = source[max(0, where - 40): where + len(number) + 30].replace("\n", " ")
            found.append(ProseNumber(chapter, index, number + ("%" if percent else ""),  # noqa: B023 - same iteration
                                     value, _decimals(number),
                                     percent, context.strip(), offset=start + where, **fields))

        matches = list(PROSE_NUMBER.finditer(text))
        skip = set()
        for k, m in enumerate(matches):
            if k in skip:
                continue
            number = m.group(0).rstrip("% ").strip()
            approx = bool(APPROX.search(text[max(0, m.start() - 12): m.start()])) and "." not in number
            add(number, _value(number), bool(m.group(1)), m.start(), text, approx=approx)
            after = matches[k + 1] if k + 1 < len(matches) else None
            if after and re.fullmatch(r"\s*±\s*", text[m.end():after.start()]):
                spread = after.group(0).rstrip("% ").strip()
                percent = bool(m.group(1) or after.group(1))
                b = ProseNumber(chapter, index, spread, _value(spread), _decimals(spread), percent, "")
                found[-1] = dataclasses.replace(found[-1], percent=percent, text=f"{number} ± {spread}", spread=b)
                skip.add(k + 1)
        for start, span in math_spans:
            scientific = [(m.start(), m.end()) for m in MATH_SCI.finditer(span)]
            for m in MATH_SCI.finditer(span):
                exponent = int(m.group(2).replace("−", "-"))
                add(m.group(0), float(m.group(1)) * 10.0 ** exponent, False, m.start(), span, start)
                found[-1] = dataclasses.replace(found[-1], decimals=_decimals(m.group(1)))  # the mantissa's digits
            for m in MATH_DECIMAL.finditer(span):
                if not any(a <= m.start() < b for a, b in scientific):
                    add(m.group(0), _value(m.group(0)), False, m.start(), span, start)
    return found


@dataclass(frozen=True)
class Source:
    value: float
    decimals: int  # as printed (an exact-format match needs the same)
    spread: Source | None = None  # the b of a printed "a ± b"


def _numbers_in(text: str) -> list[Source]:
    text = text.replace("−", "-")
    pairs = [Source(_value(a), _decimals(a), Source(_value(b), _decimals(b))) for a, b in SOURCE_PAIR.findall(text)]
    return pairs + [Source(_value(t), _decimals(t)) for t in SOURCE_NUMBER.findall(text)]


def output_numbers(cell: dict) -> list[Source]:
    values = []
    for out in cell.get("outputs", []):
        texts = [out.get("text", "")] + [out.get("data", {}).get(mime, "") for mime in
                                         ("text/plain", "text/markdown", "text/html", "text/latex")]
        for t in texts:
            values += _numbers_in("".join(t) if isinstance(t, list) else t)
    return values


def code_numbers(cell: dict) -> list[Source]:
    """Numeric literals of a code cell (not comments, not strings)."""
    if cell["cell_type"] != "code":
        return []
    source = "\n".join(line for line in "".join(cell["source"]).splitlines()
                       if not line.lstrip().startswith(("%", "!")))
    values = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type == tokenize.NUMBER and not tok.string.lower().startswith(("0x", "0o", "0b")):
                text = tok.string.replace("_", "").rstrip("jJ")
                values.append(Source(float(text), _decimals(text)))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass
    return values


def _json_numbers(obj) -> list[Source]:
    if isinstance(obj, bool):
        return []
    if isinstance(obj, (int, float)):
        return [Source(float(obj), 99)] if math.isfinite(obj) else []
    if isinstance(obj, dict):  # "_meta" (commit, versions, date) is provenance, not a result
        return [v for key, item in obj.items() if key != "_meta" for v in _json_numbers(item)]
    if isinstance(obj, list):
        return [v for item in obj for v in _json_numbers(item)]
    if isinstance(obj, str):
        return _numbers_in(obj)
    return []


def results_read_by(cells: list[dict]) -> list[Path]:
    """The saved results whose file name (or an f-string pattern of it) the chapter's code names."""
    code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    patterns = [re.escape(f.name) for f in RESULTS.glob("*.json") if f.name in code]
    patterns += [re.escape(f"{stem}.json") for stem in re.findall(r"[\"']([\w-]+)[\"']", code)]
    for literal in re.findall(r"f[\"']([^\"']*)[\"']", code):  # f"gan_modes_{name}{suffix}" (.json optional)
        stem = literal.split("/")[-1].removesuffix(".json")
        if "{" in stem and re.sub(r"\{[^}]*\}", "", stem):
            patterns.append(".*".join(re.escape(part) for part in re.split(r"\{[^}]*\}", stem)) + r"\.json")
    return [f for f in sorted(RESULTS.glob("*.json")) if any(re.fullmatch(p, f.name) for p in patterns)]


def published_rows() -> list[dict]:
    with PUBLISHED.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _matches(number: ProseNumber, source: Source, exact_format: bool = False) -> bool:
    """``source`` rounded to the prose's digits is the prose number (a percentage may be a fraction);
    a prose "a ± b" needs a printed "a ± b" whose both parts match."""
    if number.spread is not None:
        return source.spread is not None and _matches(dataclasses.replace(number, spread=None), source, exact_format) \
            and _matches(number.spread, source.spread, exact_format)
    target = abs(number.value)
    candidates = [(abs(source.value), source.decimals)]
    if number.percent:
        candidates.append((abs(source.value) * 100, source.decimals - 2))
    scientific = "e" in number.text.lower() or "10^" in number.text
    for value, decimals in candidates:
        if exact_format and decimals != number.decimals and not scientific:
            continue
        if scientific:  # compare mantissas: 4.4e-30 is 4.4 units of 1e-30
            unit = 10.0 ** math.floor(math.log10(target)) if target > 0 else 1.0
            if abs(value - target) / unit <= 0.5 * 10.0 ** -number.decimals * (1 + 1e-9):
                return True
        else:
            digits = number.text.replace(",", "").rstrip("%").strip()
            if number.approx and target:  # "about 25,000": rounded at its last non-zero digit
                unit = 10.0 ** (len(digits) - len(digits.rstrip("0")))
            else:
                unit = 10.0 ** -number.decimals
            if abs(value - target) <= 0.5 * unit * (1 + 1e-9) + 1e-12:
                return True
    return False


def load_cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


HEADING = re.compile(r"^#{2,4}\s", re.M)


def section_of(cells: list[dict]) -> list[int]:
    """The section (a ##, ### or #### heading starts one) each cell ends in."""
    section, out = 0, []
    for cell in cells:
        if cell["cell_type"] == "markdown":
            section += len(HEADING.findall("".join(cell["source"])))
        out.append(section)
    return out


@dataclass
class Chapter:
    """A chapter notebook's numbers, by where they come from."""
    path: Path
    cells: list[dict]
    section: list[int]
    outputs: list[list[Source]]
    code: list[Source]
    results: dict[int, list[Source]]  # section -> numbers of the saved results its code reads

    @classmethod
    def load(cls, path: Path) -> Chapter:
        cells = load_cells(path)
        section = section_of(cells)
        files = {f: _json_numbers(json.loads(f.read_text())) for f in results_read_by(cells)}
        results = {}
        for s in set(section):
            in_section = [c for c, cs in zip(cells, section) if cs == s]
            results[s] = [v for f in results_read_by(in_section) for v in files.get(f, [])]
        return cls(path, cells, section, [output_numbers(c) for c in cells],
                   [v for c in cells for v in code_numbers(c)], results)

    def trace(self, number: ProseNumber, rows: list[dict]) -> str | None:
        """Where ``number`` comes from: an output of its own section (rounded to the prose's digits),
        an output anywhere in the chapter printed with the prose's digits, saved results that its
        section reads or the chapter's code (rounded), or a published figure its cell cites; None
        if nowhere."""
        cell_text = "".join(self.cells[number.cell]["source"])
        here = self.section[number.cell] - len(HEADING.findall(cell_text[number.offset:]))
        local = [v for i, vs in enumerate(self.outputs) if self.section[i] == here for v in vs]
        if any(_matches(number, v) for v in local):
            return "output"
        if any(_matches(number, v, exact_format=True) for vs in self.outputs for v in vs):
            return "output"
        if any(_matches(number, v) for v in self.results.get(here, [])):
            return "results"
        if any(_matches(number, v) for v in self.code):
            return "code"
        if any(r["authors"] in cell_text and _matches(number, Source(float(r["value"]), 99)) for r in rows):
            return "published"
        return None


def check_chapter(path: Path, rows: list[dict] | None = None) -> tuple[list[ProseNumber], dict[str, int]]:
    """(untraced numbers, count per kind of source) for one chapter notebook."""
    chapter = Chapter.load(path)
    rows = published_rows() if rows is None else rows
    untraced, counts = [], {"output": 0, "results": 0, "code": 0, "published": 0}
    for number in prose_numbers(path.stem, chapter.cells):
        kind = chapter.trace(number, rows)
        if kind is None:
            untraced.append(number)
        else:
            counts[kind] += 1
    return untraced, counts


def chapters(selectors: list[str] | None = None) -> list[Path]:
    paths = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    if selectors:
        paths = [p for p in paths if any(p.name.startswith(s.zfill(2) + "_") for s in selectors)]
    return paths


def main(argv: list[str]) -> int:
    total_untraced = 0
    rows = published_rows()
    for path in chapters(argv):
        untraced, counts = check_chapter(path, rows)
        total_untraced += len(untraced)
        print(f"{path.stem}: {sum(counts.values())} traced {counts}, {len(untraced)} untraced")
        for n in untraced:
            print(f"    cell {n.cell}: {n.text!r} in …{n.context}…")
    return 1 if total_untraced else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
