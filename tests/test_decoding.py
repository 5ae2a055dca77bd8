import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from cgen_lessons.decoding import (
    apply_repetition_penalty,
    apply_temperature,
    beam_search,
    generate,
    sample,
    top_k_filter,
    top_p_filter,
)
from cgen_lessons.rnn import RecurrentLM
from cgen_lessons.transformer import GPT


def logits_strategy(with_ties: bool):
    values = st.integers(-4, 4).map(float) if with_ties else st.floats(-8, 8, allow_nan=False, width=32)
    return st.integers(1, 4).flatmap(lambda B: st.integers(1, 12).flatmap(
        lambda V: st.lists(st.lists(values, min_size=V, max_size=V), min_size=B, max_size=B))).map(torch.tensor)


@settings(max_examples=150, deadline=None)
@given(logits=logits_strategy(with_ties=True), k=st.integers(1, 14))
def test_top_k_keeps_at_least_k_and_all_ties(logits, k):
    out = top_k_filter(logits, k)
    kept = torch.isfinite(out)
    V = logits.shape[1]
    assert (kept.sum(1) >= min(k, V)).all()
    kth = torch.sort(logits, descending=True, dim=1).values[:, min(k, V) - 1: min(k, V)]
    assert torch.equal(kept, logits >= kth)  # exactly the tokens at or above the k-th largest
    torch.testing.assert_close(out[kept], logits[kept])


@settings(max_examples=150, deadline=None)
@given(logits=logits_strategy(with_ties=False), k=st.integers(1, 14))
def test_top_k_keeps_exactly_k_without_ties(logits, k):
    if any(len(set(row.tolist())) < len(row) for row in logits):
        return  # ties present
    assert (torch.isfinite(top_k_filter(logits, k)).sum(1) == min(k, logits.shape[1])).all()


@settings(max_examples=200, deadline=None)
@given(logits=logits_strategy(with_ties=False), p=st.floats(0.01, 1.0))
def test_top_p_is_the_smallest_set_reaching_p(logits, p):
    out = top_p_filter(logits, p)
    kept = torch.isfinite(out)
    assert (kept.sum(1) >= 1).all()  # never empty
    probs = torch.softmax(logits.double(), dim=1)
    for row in range(logits.shape[0]):
        mass = probs[row][kept[row]].sum().item()
        assert mass >= p - 1e-9
        kept_probs = probs[row][kept[row]]
        if kept_probs.numel() > 1:
            assert mass - kept_probs.min().item() < p + 1e-12  # dropping the least probable goes below p
        # the kept tokens are the most probable ones
        if (~kept[row]).any():
            assert kept_probs.min() >= probs[row][~kept[row]].max()


@settings(max_examples=100, deadline=None)
@given(logits=logits_strategy(with_ties=True), p=st.floats(0.01, 1.0), m=st.integers(1, 5))
def test_min_tokens_to_keep(logits, p, m):
    V = logits.shape[1]
    assert (torch.isfinite(top_p_filter(logits, p, min_tokens_to_keep=m)).sum(1) >= min(m, V)).all()
    assert (torch.isfinite(top_k_filter(logits, 1, min_tokens_to_keep=m)).sum(1) >= min(m, V)).all()


def test_temperature_and_penalty():
    z = torch.tensor([[2.0, -1.0, 0.5]])
    torch.testing.assert_close(apply_temperature(z, 2.0), z / 2)
    out = apply_repetition_penalty(z, torch.tensor([[0, 1]]), 2.0)
    torch.testing.assert_close(out, torch.tensor([[1.0, -2.0, 0.5]]))


@pytest.mark.parametrize("call,match", [
    (lambda z: apply_temperature(z, 0), "temperature"),
    (lambda z: apply_temperature(z, -1.0), "temperature"),
    (lambda z: top_k_filter(z, 0), "k must be"),
    (lambda z: top_p_filter(z, 0.0), r"p must be in \(0, 1\]"),
    (lambda z: top_p_filter(z, 1.5), r"p must be in \(0, 1\]"),
    (lambda z: top_p_filter(z, 0.5, min_tokens_to_keep=0), "min_tokens_to_keep"),
    (lambda z: apply_repetition_penalty(z, torch.tensor([[0]]), 0), "penalty"),
    (lambda z: apply_repetition_penalty(z, torch.tensor([0]), 1.2), "previous_ids"),
    (lambda z: top_k_filter(z[0], 2), r"\(B, V\)"),
])
def test_filters_reject_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call(torch.randn(2, 5))


def tiny_gpt(block=40):
    torch.manual_seed(0)
    return GPT(13, block, d_model=16, n_heads=2, n_layers=2)


def test_greedy_equals_beam_search_with_width_one():
    gpt = tiny_gpt()
    prompt = torch.tensor([[3, 5, 7]])
    greedy = generate(gpt, prompt, 12, greedy=True)[0, 3:]
    (beam_tokens, _), = beam_search(gpt, prompt, beam_width=1, max_new_tokens=12)
    assert torch.equal(greedy, beam_tokens)
    eos = int(greedy[4])  # make the 5th greedy token the end token: both must stop there
    greedy_eos = generate(gpt, prompt, 12, greedy=True, eos_id=eos)[0, 3:]
    (beam_eos, _), = beam_search(gpt, prompt, beam_width=1, max_new_tokens=12, eos_id=eos)
    assert torch.equal(greedy_eos[: len(beam_eos)], beam_eos) and int(beam_eos[-1]) == eos


def test_beam_search_scores_and_order():
    gpt = tiny_gpt()
    results = beam_search(gpt, torch.tensor([1, 2]), beam_width=4, max_new_tokens=6, n_best=3, length_penalty=1.0)
    assert len(results) == 3 and [s for _, s in results] == sorted((s for _, s in results), reverse=True)
    tokens, s = results[0]
    full = torch.cat([torch.tensor([1, 2]), tokens])[None]
    logp = torch.log_softmax(gpt(full[:, :-1])[0].double(), -1)[0, 1:].gather(-1, full[0, 2:, None]).sum().item()
    assert abs(s - logp / len(tokens)) < 1e-6  # score = Σ log p / length ** 1
    width1 = beam_search(gpt, torch.tensor([1, 2]), 1, 6)[0][1]
    assert s >= width1 - 1e-9  # a wider beam never finds a worse best sequence here


@pytest.mark.parametrize("model_fn", [tiny_gpt, lambda: RecurrentLM(13, "lstm", 8, 16)], ids=["gpt", "lstm"])
def test_cached_generation_equals_uncached(model_fn):
    torch.manual_seed(0)
    model = model_fn()
    prompt = torch.randint(0, 13, (3, 5))
    a = generate(model, prompt, 20, greedy=True, use_cache=False)
    b = generate(model, prompt, 20, greedy=True, use_cache=True)
    assert torch.equal(a, b)
    a = generate(model, prompt, 20, top_k=5, top_p=0.9, temperature=0.8, generator=torch.Generator().manual_seed(1))
    b = generate(model, prompt, 20, top_k=5, top_p=0.9, temperature=0.8, generator=torch.Generator().manual_seed(1),
                 use_cache=True)
    assert torch.equal(a, b)


def test_generate_eos_padding_and_errors():
    gpt = tiny_gpt()
    prompt = torch.tensor([[1], [2]])
    out = generate(gpt, prompt, 15, generator=torch.Generator().manual_seed(0), eos_id=4)
    for row in out[:, 1:]:
        hits = (row == 4).nonzero()
        if len(hits):
            assert (row[hits[0, 0]:] == 4).all()  # after EOS, only EOS
    with pytest.raises(ValueError, match="block_size"):
        generate(gpt, prompt, 60, use_cache=True)
    with pytest.raises(ValueError, match="temperature"):
        generate(gpt, prompt, 3, temperature=0)
    with pytest.raises(ValueError, match="idx"):
        generate(gpt, torch.tensor([1, 2]), 3)
    with pytest.raises(ValueError, match="n_best"):
        beam_search(gpt, torch.tensor([1]), 2, 3, n_best=3)
    with pytest.raises(ValueError, match="length_penalty"):
        beam_search(gpt, torch.tensor([1]), 2, 3, length_penalty=-1)
    assert sample(gpt, prompt, 4, generator=torch.Generator().manual_seed(0)).shape == (2, 5)


def test_distinct_n_and_repetition_rate():
    from cgen_lessons.metrics import distinct_n, repetition_rate

    assert distinct_n([[1, 2, 3, 4]], 2) == 1.0
    assert distinct_n([[1, 1, 1, 1]], 2) == 1 / 3
    assert distinct_n([[1, 2], [1, 2]], 2) == 0.5
    assert repetition_rate([1, 2, 3, 4, 5], 2) == 0.0
    assert repetition_rate([7, 7, 7, 7, 7], 2) == 3 / 4
    with pytest.raises(ValueError, match="no 3-grams"):
        distinct_n([[1, 2]], 3)


def test_top_p_checker():
    from cgen_lessons.exercises import check

    assert check("top_p", lambda logits, p: top_p_filter(logits, p)).passed

    def excludes_crossing_token(z, p):
        probs, order = torch.softmax(z, -1).sort(descending=True)
        remove = probs.cumsum(-1) > p
        return z.masked_fill(torch.zeros_like(remove).scatter(1, order, remove), float("-inf"))

    assert not check("top_p", excludes_crossing_token).passed


class _BranchingLM(torch.nn.Module):
    """A fixed LM over 12 tokens for beam-search tests: from the start token 0 it says EOS (1)
    with p = 0.5, token a (2) with 0.3 and b (3) with 0.2; after a every token is equally
    likely, after b token x (4) has p = 0.99."""

    context_size = None
    vocab_size = 12

    def __init__(self):
        super().__init__()
        table = torch.full((12, 12), 1e-6)
        table[0, 1], table[0, 2], table[0, 3] = 0.5, 0.3, 0.2
        table[2] = 1 / 12
        table[3] = 0.01 / 11
        table[3, 4] = 0.99
        table[4:] = 1 / 12
        table[1] = 1 / 12
        self.register_buffer("log_table", (table / table.sum(1, keepdim=True)).log())

    def forward(self, idx, targets=None):
        return self.log_table[idx], None  # (B, T, V)


def test_beam_search_replaces_finished_beams():
    """Width 2: at step 1 the best candidate ends in EOS. It must not cost a live beam, so the
    search still follows both a and b and finds b → x (p = 0.198), not only a → · (p = 0.025)."""
    results = beam_search(_BranchingLM(), torch.tensor([0]), beam_width=2, max_new_tokens=2, eos_id=1,
                          length_penalty=0.0, n_best=2)
    assert [r[0].tolist() for r in results] == [[1], [3, 4]]
    assert results[1][1] == pytest.approx(math.log(0.2 * 0.99), abs=1e-4)


def test_kv_cache_limit_is_exact():
    """With a KV cache the last new token is never fed back, so prompt + new − 1 tokens must fit."""
    torch.manual_seed(0)
    model = GPT(10, 8, 16, 2, 1)
    out = generate(model, torch.tensor([[1, 2, 3]]), 6, greedy=True, use_cache=True)  # 3 + 6 − 1 = 8 tokens read
    assert out.shape == (1, 9) and torch.equal(out, generate(model, torch.tensor([[1, 2, 3]]), 6, greedy=True))
    with pytest.raises(ValueError, match="block_size"):
        generate(model, torch.tensor([[1, 2, 3]]), 7, greedy=True, use_cache=True)


def test_generate_from_an_initial_state_continues_exactly_like_the_full_prompt():
    torch.manual_seed(0)
    lm = RecurrentLM(11, "gru", 8, 16)
    prompt = torch.randint(11, (3, 5), generator=torch.Generator().manual_seed(1))
    full = generate(lm, prompt, 6, greedy=True, use_cache=True)
    _, state = lm.forward_with_state(prompt[:, :-1])  # the state after all but the last prompt token
    cont = generate(lm, prompt[:, -1:], 6, greedy=True, use_cache=True, state=state)
    assert torch.equal(full[:, 5:], cont[:, 1:])
    with pytest.raises(ValueError, match="use_cache"):
        generate(lm, prompt[:, -1:], 2, state=state)
