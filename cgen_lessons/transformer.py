"""Attention and Transformers: scaled dot-product attention, multi-head attention, a decoder-only
GPT with the course LM interface, and a small encoder–decoder.

Scaled dot-product attention (Vaswani et al. 2017):

    Attention(Q, K, V) = softmax(Q Kᵀ / √d_k + M) V,

softmax over the *key* axis (each query's weights sum to 1), with M = −∞ where a query may
not look (the causal mask: key position > query position). Multi-head attention projects
Q, K, V into h heads of size d_k = d_model / h, attends in each, concatenates, and projects
back with W_O. Parameter names follow ``torch.nn.MultiheadAttention`` (``in_proj_weight``,
``in_proj_bias``, ``out_proj``) so its weights load into ours for checking.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from . import checks
from .utils import check_positive_int, check_token_ids, eval_mode

__all__ = ["attention", "causal_mask", "MultiHeadAttention", "Block", "GPT", "gpt_param_count",
           "sinusoidal_positions", "Seq2SeqTransformer"]


def causal_mask(T: int, device=None) -> torch.Tensor:
    """Boolean (T, T) mask, True where query t may attend to key s, i.e. s ≤ t."""
    T = check_positive_int(T, "T")
    return torch.ones(T, T, dtype=torch.bool, device=device).tril()


def _check_attention(q, k, v, mask, causal, fast, return_weights, dropout_p) -> None:
    for name, x in (("q", q), ("k", k), ("v", v)):
        checks.tensor(x, name, kind="float")
    if q.dim() < 2 or k.dim() != q.dim() or v.dim() != q.dim():
        raise ValueError("q, k, v must have the same number of dimensions (..., T, d), got shapes "
                         f"{tuple(q.shape)}, {tuple(k.shape)}, {tuple(v.shape)}")
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(f"query and key sizes differ: {q.shape[-1]} vs {k.shape[-1]}")
    if k.shape[-2] != v.shape[-2]:
        raise ValueError(f"keys and values must have the same length: {k.shape[-2]} vs {v.shape[-2]}")
    if mask is not None and (not isinstance(mask, torch.Tensor) or mask.dtype != torch.bool):
        raise ValueError("mask must be a boolean tensor (True = may attend); a float 0/1 mask would be "
                         f"added to the scores instead of applied, got {getattr(mask, 'dtype', type(mask).__name__)}")
    try:
        torch.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    except RuntimeError:
        raise ValueError("the leading (batch, head) dimensions of q, k, v do not broadcast: "
                         f"{tuple(q.shape)}, {tuple(k.shape)}, {tuple(v.shape)}") from None
    if causal and q.shape[-2] != k.shape[-2]:
        raise ValueError(f"causal attention needs as many queries as keys, got {q.shape[-2]} and {k.shape[-2]}")
    checks.probability(dropout_p, "dropout_p", allow_one=False)
    if dropout_p and not fast:
        raise ValueError("attention dropout is only available on the fast path (fast=True)")


def attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None = None,
              causal: bool = False, fast: bool = False, return_weights: bool = False, dropout_p: float = 0.0):
    """softmax(q kᵀ / √d_k + M) v for q (..., T_q, d_k), k (..., T_k, d_k), v (..., T_k, d_v).

    ``mask`` is boolean, broadcastable to (..., T_q, T_k), True = may attend. ``causal=True``
    adds the causal mask. ``fast=True`` calls ``F.scaled_dot_product_attention`` (same maths,
    fused kernels, and attention dropout with probability ``dropout_p``); the explicit path can
    also return the attention weights. A query that may attend to no key is an error.
    """
    _check_attention(q, k, v, mask, causal, fast, return_weights, dropout_p)
    if causal:
        cm = causal_mask(q.shape[-2], q.device)  # (T, T) lower triangle
        mask = cm if mask is None else (mask & cm)
    if mask is not None and not mask.any(dim=-1).all():
        raise ValueError("mask leaves a query with no key to attend to (its softmax would be NaN)")
    if fast and not return_weights:
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout_p)
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])  # (..., T_q, T_k)
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = torch.softmax(scores, dim=-1)  # each query's weights over the keys sum to 1
    out = weights @ v  # (..., T_q, d_v)
    return (out, weights) if return_weights else out


class MultiHeadAttention(nn.Module):
    """MultiHead(Q, K, V) = Concat(head_1..head_h) W_Oᵀ, head_i = Attention(Q W_Qiᵀ, K W_Kiᵀ, V W_Viᵀ)."""

    def __init__(self, d_model: int, n_heads: int, dropout: float = 0.0):
        super().__init__()
        d_model, n_heads = check_positive_int(d_model, "d_model"), check_positive_int(n_heads, "n_heads")
        if d_model % n_heads:
            raise ValueError(f"d_model = {d_model} must be divisible by n_heads = {n_heads}")
        self.d_model, self.n_heads, self.d_k = d_model, n_heads, d_model // n_heads
        self.in_proj_weight = nn.Parameter(torch.empty(3 * d_model, d_model))  # [W_Q; W_K; W_V]
        self.in_proj_bias = nn.Parameter(torch.zeros(3 * d_model))
        self.out_proj = nn.Linear(d_model, d_model)
        self.dropout = checks.probability(dropout, "dropout")
        nn.init.xavier_uniform_(self.in_proj_weight)
        nn.init.zeros_(self.out_proj.bias)

    def _split(self, x: torch.Tensor) -> torch.Tensor:
        B, T, _ = x.shape
        return x.view(B, T, self.n_heads, self.d_k).transpose(1, 2)  # (B, h, T, d_k)

    def _project(self, query, key, value):
        """Q = query W_Qᵀ + b_Q (likewise K, V), split into heads: each (B, h, T, d_k)."""
        W_q, W_k, W_v = self.in_proj_weight.chunk(3)
        b_q, b_k, b_v = self.in_proj_bias.chunk(3)
        return (self._split(F.linear(query, W_q, b_q)), self._split(F.linear(key, W_k, b_k)),
                self._split(F.linear(value, W_v, b_v)))

    def _merge(self, out: torch.Tensor) -> torch.Tensor:
        """Concatenate the heads (B, h, T, d_k) → (B, T, d) and apply W_O."""
        B, _, T, _ = out.shape
        return self.out_proj(out.transpose(1, 2).reshape(B, T, self.d_model))

    def forward_cached(self, x: torch.Tensor, cache: dict | None):
        """Causal self-attention for new positions x (B, T_new, d), reusing the keys and values of
        earlier positions stored in ``cache`` {"k", "v"}: (B, h, T_past, d_k). Returns the output
        and the extended cache. The new queries attend to all past keys and causally to the new ones."""
        q, k, v = self._project(x, x, x)  # (B, h, T_new, d_k)
        if cache is not None:
            k = torch.cat([cache["k"], k], dim=2)  # (B, h, T_past + T_new, d_k)
            v = torch.cat([cache["v"], v], dim=2)
        T_new, T_all = q.shape[2], k.shape[2]
        # query i (absolute position T_all − T_new + i) may see keys 0 .. T_all − T_new + i
        mask = torch.ones(T_new, T_all, dtype=torch.bool, device=x.device).tril(diagonal=T_all - T_new)
        return self._merge(attention(q, k, v, mask=mask, fast=True)), {"k": k, "v": v}

    def forward(self, query, key=None, value=None, mask=None, causal=False, return_weights=False):
        """query (B, T_q, d), key/value (B, T_k, d) (default: self-attention on query)."""
        key = query if key is None else key
        value = key if value is None else value
        if query.dim() != 3 or query.shape[-1] != self.d_model:
            raise ValueError(f"query must have shape (B, T, {self.d_model}), got {tuple(query.shape)}")
        q, k, v = self._project(query, key, value)  # (B, h, T_q, d_k), (B, h, T_k, d_k) ×2
        if return_weights:
            out, weights = attention(q, k, v, mask=mask, causal=causal, return_weights=True)
        else:
            p = self.dropout if self.training else 0.0
            out, weights = attention(q, k, v, mask=mask, causal=causal, fast=True, dropout_p=p), None
        out = self._merge(out)  # (B, T_q, d)
        return (out, weights) if return_weights else out


class Block(nn.Module):
    """Pre-norm Transformer block: x + MHA(LN(x)) [+ cross-attention] then x + MLP(LN(x))."""

    def __init__(self, d_model: int, n_heads: int, dropout: float = 0.0, cross: bool = False):
        super().__init__()
        d_model = check_positive_int(d_model, "d_model")
        if not isinstance(cross, bool):
            raise TypeError(f"cross must be True or False, got {cross!r}")
        self.ln1 = nn.LayerNorm(d_model)
        self.attn = MultiHeadAttention(d_model, n_heads, dropout)
        self.cross = MultiHeadAttention(d_model, n_heads, dropout) if cross else None
        self.ln_cross = nn.LayerNorm(d_model) if cross else None
        self.ln2 = nn.LayerNorm(d_model)
        self.mlp = nn.Sequential(nn.Linear(d_model, 4 * d_model), nn.GELU(), nn.Linear(4 * d_model, d_model),
                                 nn.Dropout(dropout))

    def forward_cached(self, x, cache):
        """Decoder-only block step with a KV cache (see ``MultiHeadAttention.forward_cached``)."""
        a, cache = self.attn.forward_cached(self.ln1(x), cache)
        x = x + a
        return x + self.mlp(self.ln2(x)), cache

    def forward(self, x, causal=True, memory=None, self_mask=None, memory_mask=None, return_weights=False):
        """x + attention, (+ cross-attention to ``memory``), + MLP, each on a layer-normed input; with
        ``return_weights`` also the cross-attention weights (B, h, T, S)."""
        x = x + self.attn(self.ln1(x), mask=self_mask, causal=causal)  # (B, T, d)
        weights = None
        if self.cross is not None:
            h = self.ln_cross(x)
            if return_weights:
                c, weights = self.cross(h, memory, memory, mask=memory_mask, return_weights=True)
            else:
                c = self.cross(h, memory, memory, mask=memory_mask)
            x = x + c  # (B, T, d)
        x = x + self.mlp(self.ln2(x))
        return (x, weights) if return_weights else x


def sinusoidal_positions(T: int, d: int) -> torch.Tensor:
    """PE[t, 2i] = sin(t / 10000^{2i/d}), PE[t, 2i+1] = cos(t / 10000^{2i/d}); (T, d)."""
    T, d = check_positive_int(T, "T"), check_positive_int(d, "d")
    if d % 2:
        raise ValueError(f"d must be even (sin and cos pairs), got {d}")
    pos = torch.arange(T, dtype=torch.float32)[:, None]  # (T, 1)
    freq = torch.exp(-math.log(10000.0) * torch.arange(0, d, 2, dtype=torch.float32) / d)  # (⌈d/2⌉,)
    pe = torch.zeros(T, d)
    pe[:, 0::2] = torch.sin(pos * freq)
    pe[:, 1::2] = torch.cos(pos * freq[: d // 2])
    return pe


class GPT(nn.Module):
    """Decoder-only Transformer LM (Radford et al. 2018): token + position embeddings, L causal
    pre-norm blocks, a final LayerNorm and a read-out tied to the token embedding.

    p(x_{t+1} | x_≤t) = softmax(LN(h_t^L) Eᵀ)  with E the token embedding (weight tying).
    With ``positions="sinusoidal"`` the token embedding is scaled by √d before the fixed
    encodings are added (Vaswani et al. 2017, §3.4), so both have unit scale.
    Course interface: ``model(idx, targets=None) -> (logits, loss)``; ``context_size`` = block_size.
    """

    def __init__(self, vocab_size: int, block_size: int, d_model: int = 128, n_heads: int = 4,
                 n_layers: int = 4, dropout: float = 0.0, positions: str = "learned", tie_weights: bool = True):
        super().__init__()
        if positions not in ("learned", "sinusoidal"):
            raise ValueError(f"positions must be 'learned' or 'sinusoidal', got {positions!r}")
        self.vocab_size = check_positive_int(vocab_size, "vocab_size")
        self.block_size = self.context_size = check_positive_int(block_size, "block_size")
        n_layers, d_model = check_positive_int(n_layers, "n_layers"), check_positive_int(d_model, "d_model")
        checks.probability(dropout, "dropout", allow_one=False)
        self.tok_emb = nn.Embedding(vocab_size, d_model)
        self.emb_scale = 1.0 if positions == "learned" else math.sqrt(d_model)
        if positions == "learned":
            self.pos_emb = nn.Parameter(torch.zeros(block_size, d_model))
            nn.init.normal_(self.pos_emb, std=0.02)
        else:
            self.register_buffer("pos_emb", sinusoidal_positions(block_size, d_model), persistent=False)
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.ModuleList(Block(d_model, n_heads, dropout) for _ in range(n_layers))
        self.ln_f = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab_size, bias=False)
        nn.init.normal_(self.tok_emb.weight, std=0.02 if positions == "learned" else d_model**-0.5)
        self._init_residual_scaled(n_layers)
        if tie_weights:
            self.head.weight = self.tok_emb.weight

    def _init_residual_scaled(self, n_layers: int) -> None:
        """GPT-2 initialisation (Radford et al. 2019, §2.3): every linear map W ~ N(0, 0.02²) with
        zero bias, except the two maps that write into the residual stream in each block (attention
        output W_O and the MLP's second layer), W ~ N(0, (0.02 / √(2L))²). The stream is a sum of
        2L such writes, so its variance at initialisation stays O(1) whatever the depth L."""
        for block in self.blocks:
            for w in (block.attn.in_proj_weight, block.mlp[0].weight):
                nn.init.normal_(w, std=0.02)
            for w in (block.attn.out_proj.weight, block.mlp[2].weight):
                nn.init.normal_(w, std=0.02 / math.sqrt(2 * n_layers))
            for b in (block.attn.in_proj_bias, block.attn.out_proj.bias, block.mlp[0].bias, block.mlp[2].bias):
                nn.init.zeros_(b)

    def forward(self, idx: torch.Tensor, targets: torch.Tensor | None = None):
        check_token_ids(idx, self.vocab_size)
        B, T = idx.shape
        if T > self.block_size:
            raise ValueError(f"sequence length {T} exceeds block_size {self.block_size}")
        x = self.drop(self.tok_emb(idx) * self.emb_scale + self.pos_emb[:T])  # (B, T, d)
        for block in self.blocks:
            x = block(x, causal=True)
        logits = self.head(self.ln_f(x))  # (B, T, V)
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.flatten(0, 1), targets.flatten())
        return logits, loss

    def forward_cached(self, idx: torch.Tensor, cache: list | None = None):
        """Logits for new tokens idx (B, T_new) given the per-block KV ``cache`` of the earlier
        tokens; returns (logits (B, T_new, V), new cache). Equal to the uncached forward on the
        concatenated sequence (tests/test_decoding.py), at O(T) instead of O(T²) work per new token."""
        check_token_ids(idx, self.vocab_size)
        past = 0 if cache is None else cache[0]["k"].shape[2]
        T = idx.shape[1]
        if past + T > self.block_size:
            raise ValueError(f"cached length {past} + {T} new tokens exceeds block_size {self.block_size}")
        x = self.tok_emb(idx) * self.emb_scale + self.pos_emb[past: past + T]  # (B, T_new, d)
        new_cache = []
        for i, block in enumerate(self.blocks):
            x, c = block.forward_cached(x, None if cache is None else cache[i])
            new_cache.append(c)
        return self.head(self.ln_f(x)), new_cache


def gpt_param_count(vocab_size: int, block_size: int, d_model: int, n_layers: int,
                    positions: str = "learned", tie_weights: bool = True) -> int:
    """Parameters of ``GPT``: V·d (+ T·d learned positions) + L·(12d² + 13d) + 2d (+ V·d untied).

    Per block: attention 4d² + 4d, MLP 8d² + 5d, two LayerNorms 4d.
    """
    V, T = check_positive_int(vocab_size, "vocab_size"), check_positive_int(block_size, "block_size")
    d, L = check_positive_int(d_model, "d_model"), check_positive_int(n_layers, "n_layers")
    checks.one_of(positions, "positions", ("learned", "sinusoidal"))
    n = V * d + L * (12 * d * d + 13 * d) + 2 * d
    if positions == "learned":
        n += T * d
    if not tie_weights:
        n += V * d
    return n


class Seq2SeqTransformer(nn.Module):
    """Encoder–decoder Transformer (Vaswani et al. 2017), pre-norm, learned positions.

    The encoder reads the source with unmasked self-attention; each decoder block applies
    causal self-attention, then cross-attention to the encoder output, then an MLP.
    ``model(src, tgt_in, tgt_out=None) -> (logits, loss)``; PAD positions (id ``pad_id``) are
    masked out of attention and of the loss.
    """

    def __init__(self, src_vocab: int, tgt_vocab: int, max_len: int, d_model: int = 64, n_heads: int = 4,
                 n_layers: int = 2, pad_id: int = 0, dropout: float = 0.0):
        super().__init__()
        self.max_len, self.pad_id = check_positive_int(max_len, "max_len"), checks.nonneg_int(pad_id, "pad_id")
        src_vocab, tgt_vocab = check_positive_int(src_vocab, "src_vocab"), check_positive_int(tgt_vocab, "tgt_vocab")
        n_layers, d_model = check_positive_int(n_layers, "n_layers"), check_positive_int(d_model, "d_model")
        checks.probability(dropout, "dropout", allow_one=False)
        self.src_emb = nn.Embedding(src_vocab, d_model)
        self.tgt_emb = nn.Embedding(tgt_vocab, d_model)
        self.src_pos = nn.Parameter(torch.randn(max_len, d_model) * 0.02)
        self.tgt_pos = nn.Parameter(torch.randn(max_len, d_model) * 0.02)
        self.encoder = nn.ModuleList(Block(d_model, n_heads, dropout) for _ in range(n_layers))
        self.decoder = nn.ModuleList(Block(d_model, n_heads, dropout, cross=True) for _ in range(n_layers))
        self.ln_enc, self.ln_dec = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, tgt_vocab)

    def encode(self, src: torch.Tensor):
        if src.dim() != 2 or src.shape[1] > self.max_len:
            raise ValueError(f"src must have shape (B, S) with S <= {self.max_len}")
        key_ok = (src != self.pad_id)[:, None, None, :]  # (B, 1, 1, S): never attend to padding
        x = self.src_emb(src) + self.src_pos[: src.shape[1]]
        for block in self.encoder:
            x = block(x, causal=False, self_mask=key_ok)
        return self.ln_enc(x), key_ok

    def decode(self, tgt_in: torch.Tensor, memory: torch.Tensor, memory_mask: torch.Tensor):
        if tgt_in.dim() != 2 or tgt_in.shape[1] > self.max_len:
            raise ValueError(f"tgt_in must have shape (B, T) with T <= {self.max_len}")
        y = self.tgt_emb(tgt_in) + self.tgt_pos[: tgt_in.shape[1]]
        for block in self.decoder:
            y = block(y, causal=True, memory=memory, memory_mask=memory_mask)
        return self.head(self.ln_dec(y))  # (B, T, V_tgt)

    def forward(self, src, tgt_in, tgt_out=None):
        memory, key_ok = self.encode(src)
        logits = self.decode(tgt_in, memory, key_ok)
        loss = None
        if tgt_out is not None:
            loss = F.cross_entropy(logits.flatten(0, 1), tgt_out.flatten(), ignore_index=self.pad_id)
        return logits, loss

    @torch.no_grad()
    @torch.no_grad()
    def cross_attention(self, src: torch.Tensor, tgt_in: torch.Tensor) -> list[torch.Tensor]:
        """The cross-attention weights of every decoder block, each (B, h, T, S): row t shows which
        source positions the decoder reads when, given ``tgt_in[:, :t + 1]``, it predicts token t + 1
        (in eval mode: no dropout on the weights)."""
        with eval_mode(self):
            memory, key_ok = self.encode(src)
            y = self.tgt_emb(tgt_in) + self.tgt_pos[: tgt_in.shape[1]]  # (B, T, d)
            weights = []
            for block in self.decoder:
                y, w = block(y, causal=True, memory=memory, memory_mask=key_ok, return_weights=True)
                weights.append(w)
        return weights

    def conditioned(self, src: torch.Tensor) -> ConditionedDecoder:
        """The decoder given one source (1, S) as a language model ``lm(idx) -> (logits, None)``,
        so that chapter 04's decoders (``beam_search``, ``generate``) serve the encoder–decoder."""
        if src.dim() != 2 or src.shape[0] != 1:
            raise ValueError(f"conditioned takes one source of shape (1, S), got {tuple(src.shape)}")
        return ConditionedDecoder(self, src)

    @torch.no_grad()
    def greedy(self, src: torch.Tensor, bos_id: int, eos_id: int, max_new: int | None = None) -> torch.Tensor:
        """Greedy decoding: y_{t+1} = argmax p(y | y_≤t, src), until EOS or ``max_new`` tokens."""
        max_new = self.max_len - 1 if max_new is None else max_new
        memory, key_ok = self.encode(src)
        out = torch.full((src.shape[0], 1), bos_id, dtype=torch.long, device=src.device)
        done = torch.zeros(src.shape[0], dtype=torch.bool, device=src.device)
        for _ in range(max_new):
            nxt = self.decode(out, memory, key_ok)[:, -1].argmax(-1)  # (B,)
            nxt = torch.where(done, torch.full_like(nxt, self.pad_id), nxt)
            out = torch.cat([out, nxt[:, None]], dim=1)
            done |= nxt == eos_id
            if done.all():
                break
        return out[:, 1:]


class ConditionedDecoder(nn.Module):
    """p(y_t | y_<t, src) for a fixed source: the encoder runs once, every call decodes (see
    ``Seq2SeqTransformer.conditioned``); a batch of B prefixes shares the one source."""

    def __init__(self, model: Seq2SeqTransformer, src: torch.Tensor):
        super().__init__()
        self.model = model
        self.block_size = model.max_len
        self.vocab_size = model.tgt_emb.num_embeddings
        with torch.no_grad():
            self.memory, self.key_ok = model.encode(src)  # (1, S, d), (1, 1, 1, S)

    def forward(self, idx: torch.Tensor, targets=None):
        B = idx.shape[0]
        logits = self.model.decode(idx, self.memory.expand(B, -1, -1), self.key_ok.expand(B, -1, -1, -1))
        return logits, None  # (B, T, V)
