"""The Chinese edition (tools/i18n.py): every English text translated, none stale, nothing that must not change
changed; the generated notebooks carry the English code and outputs byte for byte; the checker fails when it
should."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import course  # noqa: E402
import i18n  # noqa: E402

sys.path.pop(0)


@pytest.mark.parametrize("name", i18n.names())
def test_every_text_is_translated_current_and_keeps_formulas_numbers_code_and_links(name):
    problems = i18n.check(name)
    assert not problems, "\n".join(problems[:20])


def test_translations_are_chinese_and_follow_the_english_order():
    for name in i18n.names():
        blocks = i18n.load(name)
        assert [b.number for b in blocks] == list(range(1, len(i18n.english_texts(name)) + 1)), name
        for b in blocks:
            if i18n.prose_words(i18n.english_texts(name)[b.number - 1]) >= 3:  # (a reference list: its heading)
                assert sum("\u4e00" <= ch <= "\u9fff" for ch in b.text) >= 2, (name, b.number)


def test_no_line_break_between_two_chinese_characters():
    """A browser shows a line break inside a paragraph as a space, which between Chinese characters is a stray gap."""
    cjk = "[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]"
    for name in i18n.names():
        for b in i18n.load(name):
            prose = i18n.FENCE.sub("", b.text)
            gap = re.search(f".{{0,20}}{cjk}\n{cjk}.{{0,20}}", prose)
            assert not gap, (name, b.number, gap and gap.group())


@pytest.mark.parametrize("name", i18n.chapter_names())
def test_chinese_notebook_has_the_english_code_and_outputs_byte_for_byte(name):
    english = json.loads((ROOT / "notebooks" / f"{name}.ipynb").read_text(encoding="utf-8"))
    chinese = i18n.translated_notebook(name)
    assert len(chinese["cells"]) == len(english["cells"])
    for en, zh in zip(english["cells"], chinese["cells"]):
        assert en["cell_type"] == zh["cell_type"]
        if en["cell_type"] == "code":
            assert json.dumps(zh, sort_keys=True) == json.dumps(en, sort_keys=True)
        else:
            assert "".join(zh["source"]) != "".join(en["source"]) or i18n.prose_words("".join(en["source"])) < 3
    assert chinese["metadata"]["language"] == "zh"


def test_invariants_of_a_text():
    text = ("## 2 · The bound\n\nWith `x ~ $5` in code, $\\log p(x)$ and $$\\mathcal L = 1$$ we saw 1,437 images, "
            "0.5 nats; see [A §3](https://example.org/a) and <a id=\"errata-a\"></a>.")
    inv = i18n.invariants(text)
    assert inv["code"] == {"x ~ $5"}
    assert inv["math"] == {"\\log p(x)", "\\mathcal L = 1"}
    assert inv["link"] == {"https://example.org/a"} and inv["anchor"] == {"errata-a"}
    assert inv["number"] == {"2", "1,437", "0.5", "3"}


ENGLISH = "## 1 · Loss\n\nThe loss $\\mathcal L$ fell by 0.45 nats in `fit` ([ref](x.html)) over 1,000 steps."
GOOD = "## 1 · 损失\n\n在 1,000 步中，`fit` 的损失 $\\mathcal L$ 下降了 0.45 奈特（[参考](x.html)）。"


@pytest.mark.parametrize("bad, expected", [
    (GOOD.replace("0.45", "0.46"), "number missing or changed: '0.45'"),
    (GOOD.replace("$\\mathcal L$", "$L$"), "math missing or changed"),
    (GOOD.replace("`fit`", "fit"), "code missing or changed: 'fit'"),
    (GOOD.replace("(x.html)", "(y.html)"), "link missing or changed: 'x.html'"),
    (GOOD.replace("## 1", "### 1"), "heading levels"),
    (ENGLISH, "the same as the English"),
    (i18n.UNTRANSLATED + "\n" + ENGLISH, "not translated yet"),
])
def test_compare_catches_what_a_translation_must_not_change(bad, expected):
    assert i18n.compare(ENGLISH, GOOD) == []
    assert any(expected in p for p in i18n.compare(ENGLISH, bad)), i18n.compare(ENGLISH, bad)


def test_a_changed_english_text_makes_its_translation_stale_and_sync_marks_it(tmp_path, monkeypatch):
    monkeypatch.setattr(i18n, "TRANSLATIONS", tmp_path)
    texts = [ENGLISH, "Second text, 2 words."]
    monkeypatch.setattr(i18n, "english_texts", lambda name: list(texts))
    blocks = [i18n.Block(1, i18n.content_hash(texts[0]), GOOD), i18n.Block(2, i18n.content_hash(texts[1]), "第 2 段。")]
    path = i18n.translation_path("05_vae")
    path.parent.mkdir(parents=True)
    path.write_text(i18n.render("05_vae", "zh", blocks), encoding="utf-8")
    assert i18n.check("05_vae") == []
    texts[0] = ENGLISH.replace("0.45", "0.5")  # the English changes after its translation
    problems = i18n.check("05_vae")
    assert any("no translation of the current English" in p for p in problems)
    assert any("is stale" in p for p in problems)
    kept, todo = i18n.sync("05_vae")
    assert (kept, todo) == (1, 1)
    marked = path.read_text(encoding="utf-8")
    assert i18n.UNTRANSLATED in marked and "before its English changed" in marked and GOOD in marked
    assert any("not translated yet" in p for p in i18n.check("05_vae"))
    texts[0] = ENGLISH.replace("0.45", "0.6")  # the English changes again before anyone translated it
    assert i18n.sync("05_vae") == (1, 1)
    remarked = path.read_text(encoding="utf-8")
    assert "0.6" in remarked and remarked.count("before its English changed") == 1 and GOOD in remarked
    texts[0] = ENGLISH.replace("0.45", "0.5")
    path.write_text(i18n.render("05_vae", "zh", blocks), encoding="utf-8")  # the translator updates text 1 ...
    i18n.accept("05_vae", [1])  # ... and ties it to the new English: now the 0.5 is missing from it
    assert i18n.check("05_vae") == ["05_vae text 1: number missing or changed: '0.5'"]
    with pytest.raises(ValueError, match="no translated text 3"):
        i18n.accept("05_vae", [3])


def test_unknown_names_and_languages_are_rejected():
    with pytest.raises(ValueError, match="nothing to translate is called 'nope'"):
        i18n.english_texts("nope")
    with pytest.raises(ValueError, match="lang must be one of"):
        i18n.translation_path("05_vae", "fr")


def test_student_copies_in_chinese_keep_the_english_exercise_code(tmp_path):
    en = course.student(["05"], out=tmp_path / "en")
    zh = course.student(["05"], out=tmp_path / "zh", lang="zh")
    nb_en, nb_zh = (json.loads(p[0].read_text(encoding="utf-8")) for p in (en, zh))
    code = [[c for c in nb["cells"] if c["cell_type"] == "code"] for nb in (nb_en, nb_zh)]
    assert code[0] == code[1] and any("raise NotImplementedError()" in "".join(c["source"]) for c in code[1])
    markdown = "".join("".join(c["source"]) for c in nb_zh["cells"] if c["cell_type"] == "markdown")
    assert "变分" in markdown and "练习" in markdown


def test_lab_opens_the_chinese_notebooks_in_their_own_folder():
    cmd = course.lab_command(Path(sys.executable), [], lang="zh")
    assert "--LabApp.default_url=/lab/tree/notebooks/zh" in cmd
    assert "--LabApp.default_url=/lab/tree/student/zh" in course.lab_command(Path(sys.executable), [], True, "zh")
    with pytest.raises(SystemExit):  # argparse rejects a language the course does not have
        course.parser().parse_args(["lab", "--lang", "fr"])
