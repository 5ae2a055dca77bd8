"""Every chapter is a jupytext pair: notebooks/NN_slug.py (the source) and NN_slug.ipynb
(committed with outputs). The two must hold the same cells; the .ipynb must carry outputs."""

from pathlib import Path

import jupytext
import pytest

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
SOURCES = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.py"))
IPYNBS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


def cells(nb):
    return [(c.cell_type, c.source.strip()) for c in nb.cells]


def test_every_notebook_has_a_pair():
    assert SOURCES, "no chapter sources found"
    assert [p.stem for p in SOURCES] == [p.stem for p in IPYNBS]


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_pair_in_sync(source):
    py_cells = cells(jupytext.read(source))
    nb_cells = cells(jupytext.read(source.with_suffix(".ipynb")))
    assert len(py_cells) == len(nb_cells), (
        f"{source.name}: cell count differs; run `python3 tools/course.py execute {source.stem[:2]}`")
    for i, (a, b) in enumerate(zip(py_cells, nb_cells)):
        assert a == b, f"{source.name}: cell {i} differs between .py and .ipynb; re-execute the chapter"


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_committed_notebook_has_outputs(source):
    nb = jupytext.read(source.with_suffix(".ipynb"))
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(c.get("execution_count") for c in code), f"{source.name}: commit it executed"
    checked = [c for c in code if c.source.lstrip().startswith("# NBVAL_CHECK_OUTPUT")]
    assert checked, f"{source.name} has no NBVAL_CHECK_OUTPUT cell: nbval would check none of its claims"
    assert all(c.outputs for c in checked), "a NBVAL_CHECK_OUTPUT cell has no committed output"


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_pair_keeps_the_exercise_metadata(source):
    """The exercise cells' nbgrader ids and tags live in both files: a bare `jupytext --sync` under the
    pyproject's `-all` filters drops them from the .py (and the next sync from the .ipynb), which would break
    the student copies and the workshop's grading."""
    def marked(nb):
        return [(c.metadata.get("nbgrader", {}).get("grade_id"), tuple(c.metadata.get("tags", ())))
                for c in nb.cells if "nbgrader" in c.metadata or c.metadata.get("tags")]

    py, nb = marked(jupytext.read(source)), marked(jupytext.read(source.with_suffix(".ipynb")))
    assert py == nb, f"{source.name}: exercise metadata differs between .py ({len(py)}) and .ipynb ({len(nb)})"
    assert len(nb) >= 6, f"{source.name}: expected the exercise cells' metadata, found {len(nb)} marked cells"
