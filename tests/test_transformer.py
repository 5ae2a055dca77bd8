import math

import pytest
import torch

from cgen_lessons import data, exercises
from cgen_lessons.transformer import (
    GPT,
    MultiHeadAttention,
    Seq2SeqTransformer,
    attention,
    causal_mask,
    gpt_param_count,
    sinusoidal_positions,
)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_explicit_and_fast_attention_agree(dtype):
    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(2, 3, 7, 8, generator=g, dtype=dtype) for _ in range(3))
    tol = dict(atol=1e-5, rtol=1e-5) if dtype == torch.float32 else dict(atol=1e-12, rtol=1e-10)
    ref = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
    torch.testing.assert_close(attention(q, k, v, causal=True), ref, **tol)
    torch.testing.assert_close(attention(q, k, v, causal=True, fast=True), ref, **tol)
    out, w = attention(q, k, v, return_weights=True)
    torch.testing.assert_close(w.sum(-1), torch.ones(2, 3, 7, dtype=dtype))
    torch.testing.assert_close(out, torch.nn.functional.scaled_dot_product_attention(q, k, v), **tol)


def test_causal_mask_and_weights():
    assert causal_mask(3).tolist() == [[True, False, False], [True, True, False], [True, True, True]]
    _, w = attention(*torch.randn(3, 1, 5, 4).unbind(0), causal=True, return_weights=True)
    assert (w[0].triu(1) == 0).all()


def test_multihead_equals_torch_with_copied_weights():
    torch.manual_seed(0)
    ref = torch.nn.MultiheadAttention(16, 4, batch_first=True)
    ours = MultiHeadAttention(16, 4)
    ours.load_state_dict(ref.state_dict())
    x, mem = torch.randn(2, 7, 16), torch.randn(2, 5, 16)
    want, want_w = ref(x, x, x, attn_mask=~causal_mask(7), need_weights=True)
    got, got_w = ours(x, causal=True, return_weights=True)
    torch.testing.assert_close(got, want)
    torch.testing.assert_close(got_w.mean(1), want_w)  # torch averages the heads' weights
    torch.testing.assert_close(ours(x), ref(x, x, x, need_weights=False)[0])
    torch.testing.assert_close(ours(x, mem, mem), ref(x, mem, mem, need_weights=False)[0])  # cross-attention


def test_gpt_is_causal_and_has_interface():
    torch.manual_seed(0)
    gpt = GPT(11, block_size=12, d_model=16, n_heads=2, n_layers=2)
    a = torch.randint(0, 11, (2, 12))
    b = a.clone()
    b[:, 7:] = (b[:, 7:] + 3) % 11
    la, loss = gpt(a, a)
    lb, _ = gpt(b)
    assert la.shape == (2, 12, 11) and loss.dim() == 0
    torch.testing.assert_close(la[:, :7], lb[:, :7])
    assert not torch.allclose(la[:, 7:], lb[:, 7:])


@pytest.mark.parametrize("positions,tie", [("learned", True), ("sinusoidal", True), ("learned", False)])
def test_param_count_formula(positions, tie):
    gpt = GPT(37, 20, d_model=24, n_heads=4, n_layers=3, positions=positions, tie_weights=tie)
    assert sum(p.numel() for p in gpt.parameters()) == gpt_param_count(37, 20, 24, 3, positions, tie)


def test_sinusoidal_positions():
    pe = sinusoidal_positions(50, 16)
    assert pe.shape == (50, 16)
    torch.testing.assert_close(pe[:, 0], torch.sin(torch.arange(50.0)))
    torch.testing.assert_close(pe[:, 1], torch.cos(torch.arange(50.0)))
    torch.testing.assert_close(pe[7, 6], torch.tensor(math.sin(7 / 10000 ** (6 / 16))))


def test_seq2seq_padding_and_causality():
    torch.manual_seed(0)
    m = Seq2SeqTransformer(10, 10, max_len=8, d_model=16, n_heads=2, n_layers=1, pad_id=0)
    src = torch.tensor([[3, 4, 5, 0, 0]])
    src_more_pad = torch.tensor([[3, 4, 5, 0, 0, 0, 0]])
    tgt = torch.tensor([[1, 6, 7]])
    torch.testing.assert_close(m(src, tgt)[0], m(src_more_pad, tgt)[0])  # padding is invisible
    tgt2 = torch.tensor([[1, 6, 9]])
    torch.testing.assert_close(m(src, tgt)[0][:, :2], m(src, tgt2)[0][:, :2])  # decoder is causal
    out = m.greedy(src, bos_id=1, eos_id=2, max_new=5)
    assert out.shape[0] == 1 and out.shape[1] <= 5


def test_date_pairs_are_correct_dates():
    import datetime
    pairs = data.date_pairs(200, torch.Generator().manual_seed(0))
    for written, iso in pairs:
        d = datetime.date.fromisoformat(iso)
        assert str(d.year) in written and (str(d.day) in written)
        if "," in written and written.split(",")[0].endswith("day"):
            assert written.startswith(d.strftime("%A"))
    tok = data.CharTokenizer([data.PAD, data.BOS, data.EOS] + sorted(set("".join(a + b for a, b in pairs))))
    src, tin, tout = data.encode_pairs(pairs[:3], tok, 30)
    assert tok.decode(tin[0][: 11]) == data.BOS + pairs[0][1] and tok.decode(tout[0][: 11]) == pairs[0][1] + data.EOS
    with pytest.raises(ValueError, match="longer than max_len"):
        data.encode_pairs(pairs[:3], tok, 5)


def test_bad_arguments():
    with pytest.raises(ValueError, match="divisible"):
        MultiHeadAttention(10, 3)
    with pytest.raises(ValueError, match="exceeds block_size"):
        GPT(5, 4, 8, 2, 1)(torch.zeros(1, 6, dtype=torch.long))
    with pytest.raises(ValueError, match="query and key sizes"):
        attention(torch.randn(2, 4), torch.randn(2, 5), torch.randn(2, 5))
    with pytest.raises(ValueError, match="causal attention"):
        attention(torch.randn(3, 4), torch.randn(5, 4), torch.randn(5, 4), causal=True)
    with pytest.raises(ValueError, match="positions"):
        GPT(5, 4, positions="rotary")
    with pytest.raises(ValueError, match=r"\(B, T, 8\)"):
        MultiHeadAttention(8, 2)(torch.randn(2, 3, 6))


def test_chapter03_checkers():
    assert exercises.check("causal_mask", lambda T: torch.ones(T, T, dtype=torch.bool).tril()).passed
    assert not exercises.check("causal_mask", lambda T: torch.ones(T, T, dtype=torch.bool).triu()).passed

    def head(x, Wq, Wk, Wv, scale=True):
        q, k, v = x @ Wq.T, x @ Wk.T, x @ Wv.T
        return attention(q, k, v, causal=True) if scale else torch.softmax((q @ k.transpose(-2, -1)).masked_fill(
            ~causal_mask(x.shape[1]), float("-inf")), -1) @ v

    assert exercises.check("attention_head", head).passed
    assert not exercises.check("attention_head", lambda *a: head(*a, scale=False)).passed


def test_sliding_stream_nll_scores_every_token_once():
    from cgen_lessons.classic import NGramLM
    from cgen_lessons.metrics import stream_nll

    class Windowed(torch.nn.Module):
        """A bigram model that claims a 6-token context, so stream_nll must use sliding windows."""

        def __init__(self, lm):
            super().__init__()
            self.lm, self.context_size, self.block_size = lm, 6, 6
            self.vocab_size = lm.vocab_size

        def forward(self, idx, targets=None):
            assert idx.shape[1] <= 6
            return self.lm(idx, targets)

    ids = torch.randint(0, 5, (101,), generator=torch.Generator().manual_seed(0))
    bigram = NGramLM(5, 2).fit(ids)
    full = bigram(ids[None, :-1], ids[None, 1:])[1].item()  # a bigram needs no more context
    for n in (101, 37, 14):
        expected = bigram(ids[None, : n - 1], ids[None, 1:n])[1].item()
        assert abs(stream_nll(Windowed(bigram), ids[:n], rows=1) - expected) < 1e-6
    assert abs(stream_nll(Windowed(bigram), ids, rows=1) - full) < 1e-6


def test_gpt_stream_nll_uses_windows_no_longer_than_context():
    from cgen_lessons.metrics import stream_nll

    torch.manual_seed(0)
    gpt = GPT(7, block_size=8, d_model=16, n_heads=2, n_layers=1)
    ids = torch.randint(0, 7, (200,))
    nll = stream_nll(gpt, ids)  # would raise "exceeds block_size" if a window were too long
    assert 0 < nll < 5


def test_attention_dropout_is_active_only_in_training():
    torch.manual_seed(0)
    mha = MultiHeadAttention(8, 2, dropout=0.5)
    x = torch.randn(2, 5, 8)
    mha.eval()
    torch.testing.assert_close(mha(x, causal=True), mha(x, causal=True))
    mha.train()
    assert not torch.allclose(mha(x, causal=True), mha(x, causal=True))
    with pytest.raises(ValueError, match="fast path"):
        attention(x, x, x, dropout_p=0.1)


def test_seq2seq_cross_attention_weights_match_the_decoder_by_hand():
    from cgen_lessons.transformer import Seq2SeqTransformer

    torch.manual_seed(0)
    model = Seq2SeqTransformer(9, 9, 8, d_model=16, n_heads=2, n_layers=2).eval()
    src, tgt = torch.randint(1, 9, (2, 5)), torch.randint(1, 9, (2, 4))
    weights = model.cross_attention(src, tgt)
    assert len(weights) == 2 and weights[-1].shape == (2, 2, 4, 5)
    torch.testing.assert_close(weights[-1].sum(-1), torch.ones(2, 2, 4))
    with torch.no_grad():  # the last block's weights, recomputed from the block's parts
        memory, key_ok = model.encode(src)
        y = model.tgt_emb(tgt) + model.tgt_pos[:4]
        y = model.decoder[0](y, causal=True, memory=memory, memory_mask=key_ok)
        last = model.decoder[1]
        y = y + last.attn(last.ln1(y), causal=True)
        _, expected = last.cross(last.ln_cross(y), memory, memory, mask=key_ok, return_weights=True)
    torch.testing.assert_close(weights[-1], expected, atol=1e-5, rtol=1e-4)
