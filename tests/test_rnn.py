import pytest
import torch

from cgen_lessons.metrics import stream_nll
from cgen_lessons.rnn import CELLS, GRUCell, LSTMCell, RecurrentLM, RNNCell, detach_state

PAIRS = [(RNNCell, torch.nn.RNNCell), (LSTMCell, torch.nn.LSTMCell), (GRUCell, torch.nn.GRUCell)]


@pytest.mark.parametrize("ours,ref", PAIRS, ids=["rnn", "lstm", "gru"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_cells_equal_torch_with_copied_weights(ours, ref, dtype):
    torch.manual_seed(0)
    r = ref(5, 7).to(dtype)
    o = ours(5, 7).to(dtype)
    o.load_state_dict(r.state_dict())  # same names, same layout
    x, h, c = (torch.randn(4, n, dtype=dtype) for n in (5, 7, 7))
    tol = dict(atol=1e-6, rtol=1e-5) if dtype == torch.float32 else dict(atol=1e-12, rtol=1e-10)
    if ours is LSTMCell:
        for a, b in zip(o(x, (h, c)), r(x, (h, c))):
            torch.testing.assert_close(a, b, **tol)
    else:
        torch.testing.assert_close(o(x, h), r(x, h), **tol)


def test_cells_over_a_sequence_equal_torch_lstm_module():
    torch.manual_seed(1)
    ref = torch.nn.LSTM(3, 6, batch_first=True)
    cell = LSTMCell(3, 6)
    cell.load_state_dict({k[:-3]: v for k, v in ref.state_dict().items()})  # weight_ih_l0 -> weight_ih
    x = torch.randn(2, 9, 3)
    out_ref, _ = ref(x)
    state = cell.init_state(2)
    outs = []
    for t in range(9):
        state = cell(x[:, t], state)
        outs.append(state[0])
    torch.testing.assert_close(torch.stack(outs, 1), out_ref)


@pytest.mark.parametrize("cell", list(CELLS))
def test_lm_interface_and_loss(cell):
    torch.manual_seed(0)
    lm = RecurrentLM(11, cell, d_embed=8, d_hidden=16, n_layers=2)
    idx = torch.randint(0, 11, (3, 5))
    logits, loss = lm(idx, idx)
    assert logits.shape == (3, 5, 11) and loss is not None
    manual = -torch.log_softmax(logits, -1).gather(-1, idx[..., None]).mean()
    torch.testing.assert_close(loss, manual)
    assert lm(idx)[1] is None


def test_lm_is_causal_and_state_carries():
    torch.manual_seed(0)
    lm = RecurrentLM(7, "gru", 4, 8)
    a = torch.randint(0, 7, (1, 10))
    b = a.clone()
    b[0, 6:] = (b[0, 6:] + 1) % 7  # change the future only
    torch.testing.assert_close(lm(a)[0][:, :6], lm(b)[0][:, :6])
    # running in two chunks with the carried state equals one pass
    full, _ = lm.forward_with_state(a)
    first, state = lm.forward_with_state(a[:, :4])
    second, _ = lm.forward_with_state(a[:, 4:], detach_state(state))
    torch.testing.assert_close(torch.cat([first, second], 1), full)


def test_hand_checked_tiny_case():
    """One step of an RNN LM with hand-set weights: logits = W_out tanh(W_ih e(x)) ."""
    lm = RecurrentLM(2, "rnn", d_embed=1, d_hidden=1)
    with torch.no_grad():
        lm.embed.weight.copy_(torch.tensor([[0.0], [1.0]]))
        for p in lm.cells[0].parameters():
            p.zero_()
        lm.cells[0].weight_ih.fill_(2.0)
        lm.head.weight.copy_(torch.tensor([[1.0], [-1.0]]))
        lm.head.bias.zero_()
    logits, loss = lm(torch.tensor([[1]]), torch.tensor([[0]]))
    h = torch.tanh(torch.tensor(2.0))
    torch.testing.assert_close(logits[0, 0], torch.stack([h, -h]))
    torch.testing.assert_close(loss, -torch.log_softmax(torch.stack([h, -h]), 0)[0])


def test_stream_nll_uses_state_and_matches_loss():
    torch.manual_seed(0)
    lm = RecurrentLM(5, "lstm", 4, 8)
    ids = torch.randint(0, 5, (65,))
    nll = stream_nll(lm, ids, rows=1)
    torch.testing.assert_close(torch.tensor(nll), lm(ids[None, :-1], ids[None, 1:])[1].detach())
    with pytest.raises(ValueError, match="at least"):
        stream_nll(lm, ids[:5], rows=4)


def test_bad_arguments():
    with pytest.raises(ValueError, match="unknown cell"):
        RecurrentLM(5, "transformer")
    with pytest.raises(ValueError, match="dropout"):
        RecurrentLM(5, "gru", dropout=1.0)
    with pytest.raises(ValueError, match="hidden_size"):
        LSTMCell(3, 0)
    with pytest.raises(ValueError, match="last dimension"):
        GRUCell(3, 4)(torch.randn(2, 5), torch.zeros(2, 4))
    with pytest.raises(ValueError, match=r"\(B, T\)"):
        RecurrentLM(5, "rnn")(torch.zeros(4, dtype=torch.long))
