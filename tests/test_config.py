"""Settings are typed, frozen dataclasses (cgen_lessons.config), changed one way in chapters, recipes
and benchmarks."""

import re
from dataclasses import FrozenInstanceError
from pathlib import Path

import pytest

from cgen_lessons import recipes
from cgen_lessons.recipes import GPT_SETTINGS, NGRAM_SETTINGS, RNN_SETTINGS

ROOT = Path(__file__).resolve().parent.parent


def test_settings_are_frozen_and_replace_checks_names_and_types():
    with pytest.raises(FrozenInstanceError):
        GPT_SETTINGS.steps = 3
    assert GPT_SETTINGS.replace(steps=7).steps == 7 and GPT_SETTINGS.steps == 500
    with pytest.raises(ValueError, match="unknown settings"):
        GPT_SETTINGS.replace(stepz=7)
    with pytest.raises(ValueError, match="steps must be int"):
        GPT_SETTINGS.replace(steps=7.5)
    with pytest.raises(ValueError, match="schedule must be one of"):
        GPT_SETTINGS.replace(schedule="wavy")
    assert GPT_SETTINGS.replace(lr=1).lr == 1  # an int where a float is expected is fine


def test_override_parses_command_line_assignments_by_the_field_types():
    s = RNN_SETTINGS.override(["steps=20", "lr=0.5", "schedule=constant"])
    assert (s.steps, s.lr, s.schedule) == (20, 0.5, "constant")
    assert RNN_SETTINGS.override(['lr={"gru": 0.1}']).lr == {"gru": 0.1}
    for bad in (["steps"], ["steps=x"], ["nope=1"], ["schedule=wavy"]):
        with pytest.raises(ValueError, match="--set"):
            GPT_SETTINGS.override(bad)


def test_settings_unpack_as_keyword_arguments():
    assert dict(**NGRAM_SETTINGS) == {"n": 9, "beta": 100.0} == NGRAM_SETTINGS.as_dict()


def test_recipes_reject_unknown_settings():
    with pytest.raises(ValueError, match="unknown settings"):
        recipes.train_digit_diffusion(None, steps_=3)


def test_benchmarks_read_settings_one_way():
    for script in sorted((ROOT / "benchmarks").glob("*.py")):
        text = script.read_text()
        assert not re.search(r"SETUP = dict\(|item\.split\(\"=\"\)|add_argument\(\"--set\"", text), script.name


def test_replace_accepts_numpy_numbers_but_not_bools():
    import numpy as np

    assert GPT_SETTINGS.replace(steps=np.int64(9)).steps == 9
    assert GPT_SETTINGS.replace(lr=np.float32(0.5)).lr == 0.5
    with pytest.raises(ValueError):
        GPT_SETTINGS.replace(steps=True)
