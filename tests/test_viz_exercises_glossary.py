import math

import matplotlib.pyplot as plt
import pytest
import torch

from cgen_lessons import exercises, glossary, viz
from cgen_lessons.train import History


def test_image_grid_tiles_images():
    ax = viz.image_grid(torch.rand(12, 1, 8, 8), nrow=5)
    canvas = ax.images[0].get_array()
    assert canvas.shape == (3 * 9 - 1, 5 * 9 - 1)
    plt.close("all")
    with pytest.raises(ValueError, match="shape"):
        viz.image_grid(torch.rand(8, 8))
    with pytest.raises(ValueError, match="nrow"):
        viz.image_grid(torch.rand(2, 8, 8), nrow=0)


def test_scatter_and_loss_curves():
    ax = viz.scatter_2d(torch.randn(10, 2), reference=torch.randn(20, 2))
    assert len(ax.collections) == 2
    h = History()
    for s in range(1, 11):
        h.log("train", s, {"loss": 1.0 / s})
    ax = viz.loss_curves({"run": h}, smooth=3)
    assert len(ax.lines[0].get_xdata()) == 8
    plt.close("all")
    with pytest.raises(ValueError, match="no train values named 'acc'"):
        viz.loss_curves({"run": h}, key="acc")
    with pytest.raises(ValueError, match="points"):
        viz.scatter_2d(torch.randn(10, 3))


def test_checker_accepts_a_correct_softmax():
    result = exercises.check("softmax", lambda z: torch.softmax(z, dim=-1))
    assert result.passed and "all 4 cases pass" in repr(result)


def test_checker_catches_a_naive_softmax_and_says_where():
    def naive(z):
        e = torch.exp(z)
        return e / e.sum(dim=-1, keepdim=True)

    result = exercises.check("softmax", naive)
    assert not result.passed
    assert "large logits" in result.message and "Diagnosis: exp(1000) overflows" in result.message


def test_checker_catches_wrong_axis_and_exceptions():
    wrong_axis = exercises.check("softmax", lambda z: torch.softmax(z, dim=0))
    assert not wrong_axis.passed and "wrong on case 'one row'" in wrong_axis.message

    def broken(z):
        raise RuntimeError("oops")

    crashed = exercises.check("softmax", broken)
    assert not crashed.passed and "RuntimeError: oops" in crashed.message


def test_checker_rejects_unknown_names_and_non_functions():
    with pytest.raises(ValueError, match="unknown exercise"):
        exercises.check("nope", lambda z: z)
    with pytest.raises(ValueError, match="pass the function"):
        exercises.check("softmax", 3)
    with pytest.raises(ValueError, match="already registered"):
        exercises.register(exercises.Exercise("softmax", torch.softmax, lambda: []))


def test_glossary_is_bilingual_and_complete():
    rows = glossary.load_glossary()
    assert len(rows) >= 30
    for r in rows:
        assert r["term_en"] and r["term_zh"] and r["definition"]
        assert any("\u4e00" <= ch <= "\u9fff" for ch in r["term_zh"]) or r["term_zh"] == r["term_en"]
        assert r["chapter"].isdigit() and len(r["chapter"]) == 2
    assert len({r["term_en"] for r in rows}) == len(rows)
    assert glossary.load_glossary("01") and all(r["chapter"] == "01" for r in glossary.load_glossary("01"))
    assert glossary.glossary_markdown().startswith("| English | 中文")


def test_glossary_table_renders_four_cells_in_every_row():
    """Rendered as Markdown with $…$ math (as Jupyter and MyST do), every row keeps its four cells and their text."""
    import html as htmllib
    import re

    from markdown_it import MarkdownIt
    dollarmath_plugin = pytest.importorskip("mdit_py_plugins.dollarmath",
                                            reason="needs the [book] extra (MyST's Markdown plugins)").dollarmath_plugin

    html = MarkdownIt("commonmark").enable("table").use(dollarmath_plugin).render(glossary.glossary_markdown())
    rows = re.findall(r"<tr>(.*?)</tr>", html, flags=re.S)
    assert len(rows) == len(glossary.load_glossary()) + 1
    assert all(len(re.findall(r"<t[dh]>", row)) == 4 for row in rows)
    for row, entry in zip(rows[1:], glossary.load_glossary()):  # and no cell lost its text to a split
        cells = [htmllib.unescape(re.sub(r"<[^>]+>", "", c)) for c in re.findall(r"<td>(.*?)</td>", row, flags=re.S)]
        assert cells == [entry[c].replace("$", "") for c in glossary.COLUMNS]  # math spans keep their TeX whole
    assert any("\\," in r["definition"] for r in glossary.load_glossary())  # a Markdown escape, inside math


def test_glossary_missing_file(tmp_path):
    with pytest.raises(ValueError, match="glossary file not found"):
        glossary.load_glossary(path=tmp_path / "nope.csv")


def test_chapter01_checkers_accept_right_and_reject_wrong():
    import math

    import torch.nn.functional as F

    assert exercises.check("perplexity", lambda z, y: math.exp(F.cross_entropy(z, y).item())).passed
    assert not exercises.check("perplexity", lambda z, y: 2 ** F.cross_entropy(z, y).item()).passed
    good_kl = lambda p, q: torch.where(p > 0, p * (p / q).log(), torch.zeros_like(p)).sum(-1)
    assert exercises.check("kl_divergence", good_kl).passed
    assert not exercises.check("kl_divergence", lambda p, q: good_kl(q, p)).passed
    assert not exercises.check("kl_divergence", lambda p, q: (p * (p / q).log()).sum(-1)).passed  # 0 log 0

    def e_step(x, w, m, v):
        return torch.softmax(w.log() + torch.distributions.Normal(m, v.sqrt()).log_prob(x[:, None]), 1)

    assert exercises.check("gmm_e_step", e_step).passed
    assert not exercises.check("gmm_e_step", lambda x, w, m, v: e_step(x, torch.ones_like(w) / len(w), m, v)).passed


def test_perplexity_metric():
    from cgen_lessons.metrics import perplexity

    assert abs(perplexity(torch.tensor(math.log(7.0))) - 7.0) < 1e-5
    assert abs(perplexity(math.log(7.0)) - 7.0) < 1e-12
    with pytest.raises(ValueError, match=">= 0"):
        perplexity(-1.0)
    with pytest.raises(ValueError, match="finite"):
        perplexity(float("nan"))


@pytest.mark.parametrize("answer", [None, "abc", 1.5, (1, 2), torch.zeros(3, 3, 3)],
                         ids=["None", "str", "float", "tuple", "wrong-shape"])
def test_every_checker_reports_a_wrong_type_instead_of_crashing(answer):
    from cgen_lessons.exercises import list_exercises

    for name in list_exercises():
        result = exercises.check(name, lambda *args, **kwargs: answer)
        assert not result.passed and ("wrong on case" in result.message or "raised" in result.message), name


def test_causal_mask_checker_wants_a_boolean_mask():
    assert not exercises.check("causal_mask", lambda T: 0.5 * torch.ones(T, T).tril())  # a float "mask" is not a mask
    assert exercises.check("causal_mask", lambda T: torch.ones(T, T, dtype=torch.bool).tril())


def test_controls_have_a_readable_placeholder_and_uncut_labels():
    import ipywidgets as widgets

    slider = widgets.IntSlider(description="top-k (0 = off)")
    box = viz.controls(lambda k: k, k=slider)
    text = box._repr_mimebundle_()["text/plain"]
    assert text == "[controls: top-k (0 = off) — run this cell to use them]"  # not "interactive(children=…"
    assert slider.style.description_width == "initial"
    with pytest.raises(ValueError, match="function"):
        viz.controls("not callable")


def test_chapter09_checkers_accept_right_and_reject_wrong():
    import collections

    def clipped(h, r, n):
        hc = collections.Counter(tuple(h[i:i + n]) for i in range(len(h) - n + 1))
        rc = collections.Counter(tuple(r[i:i + n]) for i in range(len(r) - n + 1))
        return sum(min(c, rc[g]) for g, c in hc.items()) / max(1, sum(hc.values()))

    def unclipped(h, r, n):
        rc = {tuple(r[i:i + n]) for i in range(len(r) - n + 1)}
        return sum(tuple(h[i:i + n]) in rc for i in range(len(h) - n + 1)) / max(1, len(h) - n + 1)

    assert exercises.check("modified_precision", clipped)
    assert not exercises.check("modified_precision", unclipped)
    good_is = lambda p: math.exp(torch.where(p > 0, p * (p / p.mean(0)).log(), torch.zeros_like(p))
                                 .sum(1).mean().item())
    assert exercises.check("inception_score", good_is)
    assert not exercises.check("inception_score", lambda p: math.exp((p * (p / p.mean(0)).log()).sum(1).mean().item()))
    assert exercises.check("permutation_p_value", lambda o, p: (1 + int((p >= o).sum())) / (1 + len(p)))
    assert not exercises.check("permutation_p_value", lambda o, p: float((p > o).float().mean()))


def test_chapter08_checkers_accept_the_reference_and_reject_typical_mistakes():
    from cgen_lessons.seqvae import kl_weight

    assert exercises.check("cyclical_beta", lambda s, t, n, r: kl_weight(s, "cyclical", t, n, r)).passed
    off_by_one = exercises.check("cyclical_beta", lambda s, t, n, r: min(1.0, (s % (t / n)) / (t / n) / r))
    assert not off_by_one.passed and "1-based" in off_by_one.message
    assert not exercises.check("cyclical_beta", lambda s, t, n, r: min(1.0, s / (r * t))).passed  # linear, not cyclical
    assert exercises.check("gumbel_softmax_sample", lambda l, g, t: ((l + g) / t).softmax(-1)).passed
    assert not exercises.check("gumbel_softmax_sample", lambda l, g, t: (l / t + g).softmax(-1)).passed
    assert not exercises.check("gumbel_softmax_sample", lambda l, g, t: ((l + g) * t).softmax(-1)).passed
    good = lambda fx, oh, p: (fx - (fx.sum() - fx) / (len(fx) - 1))[:, None] * (oh - p)
    assert exercises.check("reinforce_baseline", good).passed
    assert not exercises.check("reinforce_baseline", lambda fx, oh, p: (fx - fx.mean())[:, None] * (oh - p)).passed
    assert not exercises.check("reinforce_baseline", lambda fx, oh, p: fx[:, None] * (oh - p)).passed


def _overlaps(labels, axis: int) -> int:
    """How many neighbouring tick labels overlap along ``axis`` (0: x, 1: y) once drawn."""
    boxes = sorted((b.x0, b.x1) if axis == 0 else (b.y0, b.y1) for b in (t.get_window_extent() for t in labels))
    return sum(a[1] > b[0] + 0.5 for a, b in zip(boxes, boxes[1:]))


@pytest.mark.parametrize("n", [8, 40, 80])
def test_attention_map_labels_never_overlap(n):
    import matplotlib.pyplot as plt

    text = ("First Citizen:\nBefore we proceed any further, hear me speak. " * 2)[:n]
    fig, axes = plt.subplots(1, 4, figsize=(13, 3.4))  # the cramped layout the chapter once used
    viz.attention_map(torch.softmax(torch.randn(n, n), -1), list(text), ax=axes[0])
    fig.canvas.draw()
    ax = axes[0]
    assert _overlaps(ax.get_xticklabels(), 0) == 0 and _overlaps(ax.get_yticklabels(), 1) == 0
    assert "\u21b5" in [t.get_text() for t in ax.get_xticklabels()] or "\n" not in text
    # the same labels at a fixed 6 pt (the chapter's old figure) do overlap at 40 or more tokens
    ax.set_xticks(range(n), list(text), fontsize=6)
    fig.canvas.draw()
    assert (_overlaps(ax.get_xticklabels(), 0) > 0) == (n >= 40)
    plt.close(fig)


def test_attention_map_rejects_labels_of_the_wrong_length():
    with pytest.raises(ValueError, match=r"shape \(3, 3\), but queries has 2 labels and keys 3"):
        viz.attention_map(torch.rand(3, 3), list("abc"), queries=list("xy"))


def test_glossary_formulas_are_typeset_math():
    """Formulas are LaTeX between $…$ (MathJax typesets them in the Lab and the book), never plain text."""
    import re

    unicode_math = re.compile(r"[θαβγδεσμτλπΣ∑Π∏‖√∞≤≥≈⊙∇∫∅ᾱᵀ−²₁₂]|\b[a-zA-Z]_\w|\b[pq]\([a-z]")
    rows = glossary.load_glossary()
    for r in rows:
        d = r["definition"]
        assert d.count("$") % 2 == 0 and "$$" not in d and "|" not in d, r["term_en"]
        outside = re.sub(r"\$[^$]*\$", " ", d)
        assert not unicode_math.search(outside), f"{r['term_en']}: plain-text math in {outside!r}"
        assert not re.search(r"[θαβγδεσμτλπΣ∑Π∏‖√∞≤≥≈⊙∇∫∅ᾱᵀ−]", "".join(re.findall(r"\$([^$]*)\$", d))), \
            f"{r['term_en']}: write LaTeX commands, not Unicode symbols, inside $…$"
    assert sum("$" in r["definition"] for r in rows) >= 80
