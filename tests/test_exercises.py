"""Every exercise: its reference solution passes, and each of its typical mistakes fails with that
mistake's own diagnosis (not the general hint); at least three exercises per chapter, easy to hard."""

import pytest
import torch

from cgen_lessons import exercises
from cgen_lessons.exercises import core

NAMES = exercises.list_exercises()
CHAPTERS = sorted({core._REGISTRY[n].chapter for n in NAMES})


@pytest.mark.parametrize("name", NAMES)
def test_reference_passes_and_every_typical_mistake_gets_its_diagnosis(name):
    ex = core._REGISTRY[name]
    assert exercises.check(name, lambda *args: ex.reference(*args)).passed
    assert len(ex.mistakes) >= 2, f"{name} needs at least two typical mistakes"
    for mistake in ex.mistakes:
        result = exercises.check(name, mistake.attempt)
        assert not result.passed, f"{name}: the mistake passes: {mistake.hint}"
        assert "Diagnosis: " + mistake.hint in result.message, result.message


def test_every_chapter_has_three_graded_exercises():
    assert CHAPTERS == [f"{i:02d}" for i in range(13)]
    for ch in CHAPTERS:
        found = exercises.exercises_of(ch)
        assert len(found) >= 3, ch
        levels = [exercises.DIFFICULTIES.index(e.difficulty) for e in found]
        assert levels == sorted(levels)
        assert all(e.title and 0 < e.minutes <= 60 for e in found)


def test_an_unattempted_exercise_fails_softly_with_instructions():
    def stub(logits):
        # YOUR CODE HERE
        raise NotImplementedError()

    result = exercises.check("softmax", stub)
    assert not result.passed and "not attempted yet" in result.message and "NotImplementedError" in result.message


def test_an_unknown_wrong_answer_gets_the_general_hint():
    result = exercises.check("softmax", lambda z: torch.zeros_like(z))
    assert (not result.passed and "Hint: subtract the row maximum" in result.message
            and "Diagnosis" not in result.message)


def test_register_refuses_an_unknown_difficulty():
    with pytest.raises(ValueError, match="difficulty"):
        exercises.register(exercises.Exercise("x_new", abs, lambda: [], difficulty="trivial"))


def test_under_nbgrader_a_failed_check_raises(monkeypatch):
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    with pytest.raises(AssertionError, match="softmax"):
        exercises.check("softmax", lambda z: z)
    assert exercises.check("softmax", lambda z: torch.softmax(z, -1)).passed


def test_the_course_s_own_function_is_not_an_answer():
    from cgen_lessons.decoding import top_k_filter

    for fn in (top_k_filter, core._REGISTRY["top_k"].reference):
        result = exercises.check("top_k", fn)
        assert not result.passed and "course's own implementation" in result.message, result.message


def test_readme_states_the_number_of_checked_exercises():
    import re
    from pathlib import Path

    from cgen_lessons.exercises import list_exercises

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    stated = int(re.search(r"the (\d+) checked exercises", readme).group(1))
    actual = len(list_exercises())
    assert stated == actual, f"README says {stated} checked exercises, the course has {actual}"
