"""The checker core: a reader passes their function and learns whether it is right, and if not,
on which input it went wrong, by how much, and — when the answer is a typical mistake — which one.

Each exercise is registered with a reference solution, test cases (edge cases included), a general
hint, and a list of typical mistakes, each a wrong implementation with its own hint: when the
reader's answer fails a case and equals what a known mistake computes there, the checker names
that mistake instead of giving the general hint.
"""

from __future__ import annotations

import math
import os
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

__all__ = ["Mistake", "Exercise", "CheckResult", "register", "check", "list_exercises", "exercises_of",
           "DIFFICULTIES", "table_markdown"]

DIFFICULTIES = ("easy", "medium", "hard")


@dataclass
class Mistake:
    """A typical wrong answer: ``attempt`` computes it; ``hint`` says what went wrong and how to fix it."""

    attempt: Callable
    hint: str


@dataclass
class Exercise:
    """One checked exercise. ``chapter`` ("00"–"12"), ``difficulty`` and ``minutes`` (expected time) feed
    the instructor guide's exercise list; ``mistakes`` the checker's diagnoses."""

    name: str
    reference: Callable
    cases: Callable[[], list[tuple[str, tuple]]]  # builds (description, args) pairs on demand
    hint: str = ""
    atol: float = 1e-5
    rtol: float = 1e-4
    chapter: str = ""
    difficulty: str = "medium"
    minutes: int = 10
    title: str = ""
    mistakes: list[Mistake] = field(default_factory=list)


@dataclass
class CheckResult:
    name: str
    passed: bool
    message: str

    def __bool__(self) -> bool:
        return self.passed

    def __repr__(self) -> str:
        return ("✓ " if self.passed else "✗ ") + f"{self.name}: {self.message}"


_REGISTRY: dict[str, Exercise] = {}


def register(exercise: Exercise) -> Exercise:
    if exercise.name in _REGISTRY:
        raise ValueError(f"an exercise named {exercise.name!r} is already registered")
    if exercise.difficulty not in DIFFICULTIES:
        raise ValueError(f"difficulty must be one of {DIFFICULTIES}, got {exercise.difficulty!r}")
    _REGISTRY[exercise.name] = exercise
    return exercise


def list_exercises() -> list[str]:
    return sorted(_REGISTRY)


def exercises_of(chapter: str) -> list[Exercise]:
    """The exercises of one chapter ("04"), from easy to hard, in registration order within a level."""
    return sorted((e for e in _REGISTRY.values() if e.chapter == chapter),
                  key=lambda e: DIFFICULTIES.index(e.difficulty))


def _copy(args: tuple) -> list:
    return [a.clone() if hasattr(a, "clone") else (list(a) if isinstance(a, list) else a) for a in args]


def _diagnose(ex: Exercise, args: tuple, got) -> str | None:
    """The hint of the first known mistake that computes ``got`` on this case, if any."""
    for mistake in ex.mistakes:
        try:
            theirs = mistake.attempt(*_copy(args))
            if _compare(theirs, got, ex.atol, ex.rtol) is None:
                return mistake.hint
        except Exception:  # a mistake that cannot run on this case does not explain it
            continue
    return None


def _compare(expected, got, atol: float, rtol: float) -> str | None:
    """None when ``got`` matches ``expected``; otherwise a sentence saying how it differs."""
    if isinstance(expected, torch.Tensor):
        if not isinstance(got, torch.Tensor):
            return f"expected a tensor, got {type(got).__name__}"
        if got.shape != expected.shape:
            return f"expected shape {tuple(expected.shape)}, got {tuple(got.shape)}"
        if (expected.dtype == torch.bool) != (got.dtype == torch.bool):
            return f"expected a tensor of dtype {expected.dtype}, got {got.dtype}"  # e.g. a 0.5/0 float "mask"
        try:
            torch.testing.assert_close(got.to(expected.dtype), expected, atol=atol, rtol=rtol, equal_nan=True)
        except AssertionError as err:
            return str(err).splitlines()[0] + " " + " ".join(str(err).splitlines()[1:4])
        return None
    if isinstance(expected, (tuple, list)):
        if not isinstance(got, (tuple, list)) or len(got) != len(expected):
            return f"expected a sequence of {len(expected)} items, got {got!r:.80}"
        for i, (e, g) in enumerate(zip(expected, got)):
            problem = _compare(e, g, atol, rtol)
            if problem:
                return f"item {i}: {problem}"
        return None
    if isinstance(expected, float):
        if isinstance(got, torch.Tensor) and got.numel() != 1:
            return f"expected one number, got a tensor of shape {tuple(got.shape)}"
        if isinstance(got, (str, bytes, bool)) or not isinstance(got, (int, float, torch.Tensor)):
            return f"expected a number, got {type(got).__name__} {got!r:.60}"
        g = float(got.item() if isinstance(got, torch.Tensor) else got)
        if not math.isclose(g, expected, abs_tol=atol, rel_tol=rtol):
            return f"expected {expected:.6g}, got {g:.6g}"
        return None
    return None if got == expected else f"expected {expected!r:.80}, got {got!r:.80}"


def check(name: str, fn: Callable) -> CheckResult:
    """Run ``fn`` on every case of exercise ``name`` and compare with the reference.

    In Jupyter the verdict is displayed and never raises, so a student notebook runs top to bottom.
    Under nbgrader (``nbgrader autograde`` and ``validate`` set ``NBGRADER_EXECUTION``) a failed check
    raises ``AssertionError``, so that the grading cell that calls it scores 0."""
    result = _check(name, fn)
    if not result.passed and os.environ.get("NBGRADER_EXECUTION", "").lower() in {"autograde", "validate"}:
        raise AssertionError(repr(result))
    return result


def _check(name: str, fn: Callable) -> CheckResult:
    if name not in _REGISTRY:
        raise ValueError(f"unknown exercise {name!r}; known: {', '.join(list_exercises())}")
    if not callable(fn):
        raise ValueError(f"pass the function itself, got {type(fn).__name__}")
    ex = _REGISTRY[name]
    module = getattr(fn, "__module__", None) or ""
    if fn is ex.reference or (module.startswith("cgen_lessons.") and not module.startswith("cgen_lessons.exercises")):
        return CheckResult(name, False, f"{getattr(fn, '__qualname__', fn)!s} is the course's own implementation; "
                                        "the exercise asks for yours (write it in the solution cell)")
    cases = ex.cases()
    for description, args in cases:
        expected = ex.reference(*_copy(args))
        try:
            got = fn(*_copy(args))
        except NotImplementedError:
            return CheckResult(name, False, "not attempted yet: replace the line `raise NotImplementedError()` "
                                            f"with your code, then run this cell again. Hint: {ex.hint}")
        except Exception as err:  # the reader's code raised: say where
            where = traceback.format_exception_only(type(err), err)[-1].strip()
            return CheckResult(name, False, f"raised on case {description!r}: {where}")
        try:
            problem = _compare(expected, got, ex.atol, ex.rtol)
        except Exception as err:  # an answer of a type the comparison cannot handle is simply wrong
            problem = f"could not compare the answer ({type(err).__name__}: {err}); got {type(got).__name__}"
        if problem:
            diagnosis = _diagnose(ex, args, got)
            hint = f" Diagnosis: {diagnosis}" if diagnosis else (f" Hint: {ex.hint}" if ex.hint else "")
            return CheckResult(name, False, f"wrong on case {description!r}: {problem}.{hint}")
    return CheckResult(name, True, f"all {len(cases)} cases pass")



def table_markdown() -> str:
    """The instructor guide's list of checked exercises: chapter, name, what it asks, difficulty, minutes."""
    rows = ["| ch. | exercise | what it asks | difficulty | minutes |", "|---|---|---|---|---|"]
    for chapter in sorted({e.chapter for e in _REGISTRY.values()}):
        rows += [f"| {e.chapter} | `{e.name}` | {e.title} | {e.difficulty} | {e.minutes} |"
                 for e in exercises_of(chapter)]
    return "\n".join(rows)
