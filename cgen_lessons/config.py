"""Settings, one way: a frozen dataclass per recipe or benchmark, read by chapters, recipes and
benchmarks alike.

    >>> from cgen_lessons.recipes import GPT_SETTINGS
    >>> GPT_SETTINGS.steps
    500
    >>> GPT_SETTINGS.replace(steps=50).steps              # a changed copy; unknown names are errors
    50
    >>> GPT_SETTINGS.override(["steps=50", "lr=1e-3"]).lr  # the benchmarks' --set name=value
    0.001

``replace`` checks each new value against the field's type (an int where an int is expected, a
float or int for a float, one of the allowed strings for a ``Literal``); ``override`` parses
``name=value`` strings by the same types. ``**settings`` unpacks a settings object into keyword
arguments (e.g. ``NGramLM(V, **NGRAM_SETTINGS)``).
"""

from __future__ import annotations

import dataclasses
import json
import numbers
import types
import typing
from typing import Literal

__all__ = ["Settings", "add_set_argument"]


@dataclasses.dataclass(frozen=True)
class Settings:
    """Base class of the course's settings dataclasses."""

    def __post_init__(self):
        hints = typing.get_type_hints(type(self))
        for f in dataclasses.fields(self):
            _check_type(f.name, getattr(self, f.name), hints[f.name])

    def replace(self, **changes) -> Settings:
        """A copy with ``changes``; each name must be a field, each value of the field's type."""
        unknown = set(changes) - set(self.keys())
        if unknown:
            raise ValueError(f"unknown settings {sorted(unknown)} for {type(self).__name__}; "
                             f"choose from {list(self.keys())}")
        return dataclasses.replace(self, **changes)

    def override(self, assignments: list[str]) -> Settings:
        """A copy with ``name=value`` assignments (from a command line) parsed by the fields' types."""
        hints = typing.get_type_hints(type(self))
        changes = {}
        for item in assignments:
            name, sep, text = item.partition("=")
            if not sep or name not in self.keys():
                raise ValueError(f"--set takes name=value with a name from {list(self.keys())}, got {item!r}")
            changes[name] = _parse(name, text, hints[name])
        return self.replace(**changes)

    def keys(self) -> list[str]:
        return [f.name for f in dataclasses.fields(self)]

    def __getitem__(self, name: str):  # with keys(), this lets **settings unpack into keyword arguments
        return getattr(self, name)

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_command_line(cls, doc: str, argv: list[str] | None = None) -> tuple[Settings, bool]:
        """A benchmark script's command line: ``--set name=value ...`` over the defaults of ``cls`` and
        ``--no-save`` (print only); returns (settings, save). ``doc`` (the script's docstring) is its help."""
        import argparse

        parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
        add_set_argument(parser)
        parser.add_argument("--no-save", action="store_true", help="print the result only (smoke runs, tests)")
        args = parser.parse_args(argv)
        return cls().override(args.set), not args.no_save


def _check_type(name: str, value, hint) -> None:
    origin = typing.get_origin(hint)
    if origin is Literal:
        if value not in typing.get_args(hint):
            raise ValueError(f"setting {name} must be one of {list(typing.get_args(hint))}, got {value!r}")
        return
    if origin in (typing.Union, types.UnionType):
        if not any(_fits(value, h) for h in typing.get_args(hint)):
            raise ValueError(f"setting {name} must be {hint}, got {value!r}")
        return
    if not _fits(value, hint):
        raise ValueError(f"setting {name} must be {getattr(hint, '__name__', hint)}, got {value!r}")


def _fits(value, hint) -> bool:
    if hint is type(None):
        return value is None
    origin = typing.get_origin(hint) or hint
    if origin is float:  # numbers.Real also admits numpy floats and ints
        return isinstance(value, numbers.Real) and not isinstance(value, bool)
    if origin is int:
        return isinstance(value, numbers.Integral) and not isinstance(value, bool)
    return isinstance(value, origin)


def _parse(name: str, text: str, hint):
    """A command-line string as a value of the field's type (JSON for dicts and tuples)."""
    union = typing.get_origin(hint) in (typing.Union, types.UnionType)
    for h in [a for a in typing.get_args(hint) if a is not type(None)] if union else [hint]:
        origin = typing.get_origin(h) or h
        try:
            if origin is Literal:
                return next(v for v in typing.get_args(h) if str(v) == text)
            if origin in (int, float, str):
                return origin(text)
            if origin is bool:
                return {"true": True, "false": False}[text.lower()]
            value = json.loads(text)
            return tuple(value) if origin is tuple else value
        except (ValueError, TypeError, KeyError, StopIteration, json.JSONDecodeError):
            continue
    raise ValueError(f"--set {name}={text}: cannot read {text!r} as {hint}")


def add_set_argument(parser) -> None:
    """The benchmarks' shared ``--set name=value ...`` option (apply it with ``settings.override(args.set)``)."""
    parser.add_argument("--set", nargs="*", default=[], metavar="NAME=VALUE",
                        help="override settings of the benchmark, e.g. --set steps=200 lr=1e-3")
