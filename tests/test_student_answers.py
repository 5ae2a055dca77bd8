"""Student copies do not show the reference answers of their exercises (issue 34, item 6)."""

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("course", ROOT / "tools" / "course.py")
course = importlib.util.module_from_spec(spec)
spec.loader.exec_module(course)


def _outputs_text(cell) -> str:
    return json.dumps(cell.get("outputs", []))


def test_marked_reference_answers_are_hidden_in_student_copies():
    for chapter, answer in (("04_decoding", "def top_p_filter"), ("11_scaling", "def shard"),
                            ("11_scaling", "def training_memory")):
        nb = json.loads((ROOT / "notebooks" / f"{chapter}.ipynb").read_text())
        assert any(answer in _outputs_text(c) for c in nb["cells"]), f"{chapter}: the chapter shows {answer}"
        student = course.student_notebook(nb)
        assert not any(answer in _outputs_text(c) for c in student["cells"]), f"{chapter}: {answer} leaks"
        assert any("Hidden in the student copy" in _outputs_text(c) for c in student["cells"])


def test_every_answer_mark_names_an_exercise_of_its_chapter():
    from cgen_lessons import exercises

    for source in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py")):
        names = {ex.name for ex in exercises.exercises_of(source.stem[:2])}
        for name in course.ANSWER_MARK.findall(source.read_text()):
            assert name in names, f"{source.name}: '# answer to exercise {name}' names no exercise of the chapter"
