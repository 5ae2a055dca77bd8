"""No silent wrong result: the public API's input contract (tests/api_cases.py), checked three ways.

1. Every malformed argument of every listed function (wrong rank, dtype or length, empty batches,
   NaN/inf, bools and strings where numbers belong, ids and labels out of range) raises a
   ValueError/TypeError from the package itself, whose message names the argument.
2. Hypothesis draws the batch size (1 to 4) and the dtype (float32 or float64): the valid call works
   at every size, batch-of-one and length-one cases included.
3. Hypothesis draws a function, a batch size and one malformation of one argument: still rejected.
"""

import warnings

import pytest
import torch
from api_cases import APIS, cases, outcome
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

# the few messages that name the problem by another word than the argument's name
NAMED_OTHERWISE = {("Diffusion.loss", "x0"): "y must hold one label per sample",
                   ("utils.get_device", "prefer"): "device"}


def _ids(case):
    api, arg, desc, _ = case
    return f"{api.name}({arg}={desc})"


@pytest.mark.parametrize("case", cases(), ids=_ids)
def test_malformed_argument_is_rejected_clearly(case):
    api, arg, _, bad = case
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kind, message = outcome(api, arg, bad)
    assert kind == "clear", f"{kind}: {message}"
    assert arg in message or NAMED_OTHERWISE.get((api.name, arg), "\0") in message, message


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(api=st.sampled_from(APIS), n=st.integers(1, 4), float64=st.booleans())
def test_valid_calls_work_for_any_batch_size_and_float_dtype(api, n, float64):
    dtype = torch.float64 if float64 and api.float64 else torch.float32
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        api.call(**api.valid(n, dtype))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), n=st.integers(1, 4))
def test_random_malformations_are_rejected_at_any_batch_size(data, n):
    api, arg, desc, bad = data.draw(st.sampled_from(cases(n)), label="case")
    kwargs = api.valid(n, torch.float32)
    kwargs[arg] = bad
    with warnings.catch_warnings(), pytest.raises((ValueError, TypeError)):
        warnings.simplefilter("ignore")
        api.call(**kwargs)


def test_the_contract_covers_every_model_family():
    families = {api.name.split(".")[0].lower() for api in APIS}
    assert {"decoding", "transformer", "vae", "gan", "diffusion", "metrics", "classic", "train", "textgan"} <= families
