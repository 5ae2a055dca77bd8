"""Exercise checkers: a reader passes their function and learns whether it is right, and if not,
on which input it went wrong, by how much, and which typical mistake it looks like::

    >>> from cgen_lessons.exercises import check
    >>> check("softmax", my_softmax)      # doctest: +SKIP
    ✗ softmax: wrong on case 'large logits (overflow test)' ... Diagnosis: exp(1000) overflows ...

``core`` holds the checker; ``ch00`` … ``ch12`` hold each chapter's exercises (reference solution,
cases, hint, typical mistakes, difficulty and expected minutes), so an instructor finds a chapter's
exercises in one file.
"""

from . import ch00, ch01, ch02, ch03, ch04, ch05, ch06, ch07, ch08, ch09, ch10, ch11, ch12  # noqa: F401  (they register)
from .core import (
                   DIFFICULTIES,
                   CheckResult,
                   Exercise,
                   Mistake,
                   check,
                   exercises_of,
                   list_exercises,
                   register,
                   table_markdown,
)

__all__ = ["Mistake", "Exercise", "CheckResult", "register", "check", "list_exercises", "exercises_of", "DIFFICULTIES",
           "table_markdown"]
