"""Recurrent cells written from their equations, and one character-level LM that takes any of them.

Parameter names and layouts follow ``torch.nn.RNNCell`` / ``LSTMCell`` / ``GRUCell``
(``weight_ih`` (G·H, D), ``weight_hh`` (G·H, H), ``bias_ih``, ``bias_hh``, gates stacked in
PyTorch's order), so a torch cell's ``state_dict`` loads into ours and the outputs can be
compared directly (``tests/test_rnn.py``).

Vanilla RNN (Elman 1990):  h_t = tanh(W_ih x_t + b_ih + W_hh h_{t−1} + b_hh)

LSTM (Hochreiter & Schmidhuber 1997; forget gate: Gers et al. 2000):
    i_t = σ(W_ii x_t + b_ii + W_hi h_{t−1} + b_hi)        input gate
    f_t = σ(W_if x_t + b_if + W_hf h_{t−1} + b_hf)        forget gate
    g_t = tanh(W_ig x_t + b_ig + W_hg h_{t−1} + b_hg)     candidate
    o_t = σ(W_io x_t + b_io + W_ho h_{t−1} + b_ho)        output gate
    c_t = f_t ⊙ c_{t−1} + i_t ⊙ g_t,   h_t = o_t ⊙ tanh(c_t)

GRU (Cho et al. 2014, in PyTorch's convention):
    r_t = σ(W_ir x_t + b_ir + W_hr h_{t−1} + b_hr)        reset gate
    z_t = σ(W_iz x_t + b_iz + W_hz h_{t−1} + b_hz)        update gate
    n_t = tanh(W_in x_t + b_in + r_t ⊙ (W_hn h_{t−1} + b_hn))
    h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t−1}
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from .utils import check_positive_int, check_token_ids

__all__ = ["RNNCell", "LSTMCell", "GRUCell", "CELLS", "RecurrentLM", "detach_state"]


class _Cell(nn.Module):
    gates = 1

    def __init__(self, input_size: int, hidden_size: int):
        super().__init__()
        self.input_size = check_positive_int(input_size, "input_size")
        self.hidden_size = check_positive_int(hidden_size, "hidden_size")
        G, H = self.gates, hidden_size
        self.weight_ih = nn.Parameter(torch.empty(G * H, input_size))
        self.weight_hh = nn.Parameter(torch.empty(G * H, H))
        self.bias_ih = nn.Parameter(torch.empty(G * H))
        self.bias_hh = nn.Parameter(torch.empty(G * H))
        bound = 1.0 / math.sqrt(H)  # PyTorch's default: U(−1/√H, 1/√H) for every parameter
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)

    def input_proj(self, x: torch.Tensor) -> torch.Tensor:
        """W_ih x + b_ih for inputs (..., D): computed for all time steps at once by the LM."""
        if x.shape[-1] != self.input_size:
            raise ValueError(f"x must have last dimension {self.input_size}, got shape {tuple(x.shape)}")
        return x @ self.weight_ih.T + self.bias_ih  # (..., G·H)

    def forward(self, x: torch.Tensor, state):
        """One step from input x (B, D) and the previous state."""
        if x.dim() != 2:
            raise ValueError(f"x must have shape (B, {self.input_size}), got {tuple(x.shape)}")
        return self.recur(self.input_proj(x), state)

    def init_state(self, batch_size: int, device=None, dtype=None):
        return torch.zeros(batch_size, self.hidden_size, device=device, dtype=dtype)


class RNNCell(_Cell):
    """h_t = tanh(W_ih x_t + b_ih + W_hh h_{t−1} + b_hh)."""

    gates = 1

    def recur(self, gi: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """gi = W_ih x_t + b_ih (B, H) → h_t (B, H)."""
        return torch.tanh(gi + h @ self.weight_hh.T + self.bias_hh)


class LSTMCell(_Cell):
    """c_t = f ⊙ c_{t−1} + i ⊙ g,  h_t = o ⊙ tanh(c_t); gates (i, f, g, o) as in the module doc."""

    gates = 4

    def init_state(self, batch_size: int, device=None, dtype=None):
        z = torch.zeros(batch_size, self.hidden_size, device=device, dtype=dtype)
        return (z, z.clone())

    def recur(self, gi: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor]):
        """gi = W_ih x_t + b_ih (B, 4H), state (h, c) → (h_t, c_t)."""
        h, c = state  # (B, H), (B, H)
        pre = gi + h @ self.weight_hh.T + self.bias_hh  # (B, 4H)
        i, f, g, o = pre.chunk(4, dim=1)
        i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
        c = f * c + i * g  # additive memory update
        h = o * torch.tanh(c)
        return h, c


class GRUCell(_Cell):
    """h_t = (1 − z) ⊙ n + z ⊙ h_{t−1},  n = tanh(W_in x + b_in + r ⊙ (W_hn h_{t−1} + b_hn))."""

    gates = 3

    def recur(self, gi: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """gi = W_ih x_t + b_ih (B, 3H), h_{t−1} (B, H) → h_t (B, H)."""
        gh = h @ self.weight_hh.T + self.bias_hh  # (B, 3H)
        i_r, i_z, i_n = gi.chunk(3, dim=1)
        h_r, h_z, h_n = gh.chunk(3, dim=1)
        r = torch.sigmoid(i_r + h_r)
        z = torch.sigmoid(i_z + h_z)
        n = torch.tanh(i_n + r * h_n)
        return (1 - z) * n + z * h


CELLS = {"rnn": RNNCell, "lstm": LSTMCell, "gru": GRUCell}


class RecurrentLM(nn.Module):
    """Character-level LM: embedding → recurrent cell(s) → linear read-out.

    p(x_{t+1} | x_≤t) = softmax(W_out h_t + b_out), h_t = cell(e(x_t), h_{t−1}).
    Course interface: ``model(idx, targets=None) -> (logits, loss)`` with idx (B, T),
    logits (B, T, V) and loss the mean per-token cross-entropy in nats. ``forward_with_state``
    also takes and returns the recurrent state (for truncated BPTT and fast sampling).
    """

    def __init__(self, vocab_size: int, cell: str = "lstm", d_embed: int = 64, d_hidden: int = 256,
                 n_layers: int = 1, dropout: float = 0.0):
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"unknown cell {cell!r}; choose one of {', '.join(CELLS)}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
        self.vocab_size = check_positive_int(vocab_size, "vocab_size")
        n_layers = check_positive_int(n_layers, "n_layers")
        self.cell_type = cell
        self.context_size = None  # reads the whole history
        self.embed = nn.Embedding(vocab_size, d_embed)
        sizes = [d_embed] + [d_hidden] * n_layers
        self.cells = nn.ModuleList(CELLS[cell](sizes[i], d_hidden) for i in range(n_layers))
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(d_hidden, vocab_size)

    def init_state(self, batch_size: int, device=None):
        return [c.init_state(batch_size, device=device) for c in self.cells]

    def forward_with_state(self, idx: torch.Tensor, state=None):
        """Run the cells over idx (B, T) from ``state``; returns logits (B, T, V) and the final state."""
        check_token_ids(idx, self.vocab_size)
        B, T = idx.shape
        state = self.init_state(B, idx.device) if state is None else list(state)
        x = self.drop(self.embed(idx))  # (B, T, E)
        for layer, cell in enumerate(self.cells):
            s = state[layer]
            gi = cell.input_proj(x)  # (B, T, G·H): the input half of every step at once
            outputs = []
            for t in range(T):
                s = cell.recur(gi[:, t], s)
                outputs.append(s[0] if isinstance(s, tuple) else s)  # h_t (B, H)
            state[layer] = s
            x = self.drop(torch.stack(outputs, dim=1))  # (B, T, H)
        return self.head(x), state  # (B, T, V)

    def forward(self, idx: torch.Tensor, targets: torch.Tensor | None = None):
        logits, _ = self.forward_with_state(idx)
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.flatten(0, 1), targets.flatten())
        return logits, loss


def detach_state(state):
    """Cut the graph at a chunk boundary (truncated BPTT) but keep the values."""
    return [tuple(t.detach() for t in s) if isinstance(s, tuple) else s.detach() for s in state]
