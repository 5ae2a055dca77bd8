"""benchmarks/char_lms.py: the shipped character GPT and GRU are the models chapters 02-03's recipes train, and
chapter 04 gets the same interface whether it loads them or trains them."""

import pytest
import torch

from cgen_lessons import results
from cgen_lessons.metrics import stream_nll
from cgen_lessons.recipes import CHAR_LM_CHECKPOINTS, char_lm_splits, shipped_char_lm


@pytest.mark.parametrize("name", ["gpt", "gru"])
def test_the_shipped_weights_reproduce_their_recorded_validation_nll(name):
    if not CHAR_LM_CHECKPOINTS[name].is_file():
        pytest.skip(f"no shipped char_{name}.pt: run benchmarks/char_lms.py")
    recorded = results.load("char_lms")[name]
    model, how = shipped_char_lm(name)
    assert how.startswith("loaded") and not model.training
    _, _, val_ids, _ = char_lm_splits()
    assert stream_nll(model, val_ids[:recorded["check_chars"]]) == pytest.approx(recorded["val_nll"], abs=1e-3)


def test_shipped_char_lm_names_the_models_it_knows():
    with pytest.raises(ValueError, match="gpt"):
        shipped_char_lm("lstm")


def test_the_checkpoints_load_with_weights_only():
    for path in CHAR_LM_CHECKPOINTS.values():
        if path.is_file():
            saved = torch.load(path, map_location="cpu", weights_only=True)
            assert set(saved) == {"config", "state_dict"}
