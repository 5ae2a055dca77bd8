# %% [markdown]
# # 03 · Attention and the Transformer language model
#
# *Mirrors article A §4 (its attention formulas) and article D §3.3 (autoregressive Transformers).*
#
# A recurrent network squeezes the whole past into one state vector and must process tokens one
# after another. **Attention** lets every position look directly at every earlier position, with
# weights computed from the content, and all positions are computed in parallel. This chapter
# derives scaled dot-product attention, builds multi-head attention, a decoder-only GPT and an
# encoder–decoder, checks each piece against PyTorch, trains the GPT on the same English split as
# chapters 01–02, and trains the encoder–decoder on a real sequence-to-sequence task.

# %%
import math
import time

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F

from cgen_lessons import data, results, viz
from cgen_lessons.utils import max_error, seed_everything, show_source, use_threads

use_threads(2)
chapter_start = time.perf_counter()
seed_everything(0);

# %% [markdown]
# ## 1 · Background: from recurrence to attention
#
# Encoder–decoder RNNs (Sutskever et al. 2014; Cho et al. 2014) translated a sentence by
# encoding it into one vector and decoding from it — a bottleneck for long inputs. Bahdanau, Cho
# & Bengio (2015) let the decoder look back at *all* encoder states with learned weights:
# attention. Vaswani et al. (2017) then removed recurrence altogether: the **Transformer** uses
# attention between the positions of one sequence (self-attention) plus position information,
# so training on a sequence of length T is a handful of large matrix products instead of T
# sequential steps. Radford et al. (2018, 2019) showed that a stack of causal Transformer blocks
# trained as a plain language model — the **decoder-only GPT** — is a strong generator and
# transfer learner, and that design underlies today's large language models.

# %% [markdown]
# ## 2 · Scaled dot-product attention
#
# ### 2.1 Attention in three steps
#
# Before the formula, the idea, built up in three steps on a sequence of vectors
# $x_1, \dots, x_T$ (the rows of $X$):
#
# 1. **Averaging.** The simplest way for position $t$ to use its past is the mean
#    $y_t = \frac1t \sum_{s \le t} x_s$. For all positions at once this is one matrix
#    product, $Y = W X$, with $W$ lower-triangular and each row averaging: $W_{ts} = 1/t$ for
#    $s \le t$, else 0.
# 2. **A mask and a softmax.** The same $W$ is the row-wise softmax of a score matrix that is 0
#    where $s \le t$ and $-\infty$ where $s > t$: $e^{-\infty} = 0$ removes the future and the
#    softmax spreads the weight evenly over the rest. Nothing has been learned yet.
# 3. **Data-dependent scores.** Replace the zeros by a similarity between what position $t$
#    looks for and what position $s$ offers, $q_t \cdot k_s$, with queries, keys and values
#    computed from the inputs ($q_t = W_Q x_t$, $k_s = W_K x_s$, $v_s = W_V x_s$). Now each
#    position chooses whom to average — that is attention.
#
# All three in code, on a short sequence:

# %%
# NBVAL_CHECK_OUTPUT
g_toy = torch.Generator().manual_seed(0)
T_toy, d_toy = 5, 8
X = torch.randn(T_toy, d_toy, generator=g_toy, dtype=torch.float64)  # (T, d)
running_mean = torch.stack([X[: t + 1].mean(0) for t in range(T_toy)])  # (T, d), a loop over t

W_avg = torch.ones(T_toy, T_toy, dtype=torch.float64).tril()
W_avg = W_avg / W_avg.sum(1, keepdim=True)  # step 1: rows 1/t on and below the diagonal
future = ~torch.ones(T_toy, T_toy, dtype=torch.bool).tril()
W_soft = torch.zeros(T_toy, T_toy, dtype=torch.float64).masked_fill(future, float("-inf"))
W_soft = torch.softmax(W_soft, dim=-1)  # step 2

W_Q, W_K = (torch.randn(d_toy, d_toy, generator=g_toy, dtype=torch.float64) for _ in range(2))
scores = (X @ W_Q.T) @ (X @ W_K.T).T / math.sqrt(d_toy)  # (T, T): q_t · k_s / √d
W_att = torch.softmax(scores.masked_fill(future, float("-inf")), dim=-1)  # step 3

print("step 1, W X vs the running mean computed by a loop:", max_error(W_avg @ X, running_mean, 1e-12))
print("step 2, softmax of the masked zero scores vs W:   ", max_error(W_soft, W_avg, 1e-12))
print("step 3, data-dependent weights differ from uniform averaging:", not torch.allclose(W_att, W_avg))
print("        and still give the future no weight:", bool((W_att[future] == 0).all()))

# %%
print("uniform causal weights W:\n", W_avg.numpy().round(2))
print("data-dependent weights:\n", W_att.numpy().round(2))

# %% [markdown]
# ### 2.2 The formula
#
# Each position emits a **query** q, a **key** k and a **value** v (linear maps of its vector).
# Position t's output is an average of the values, weighted by how well its query matches each key:
#
# $$\operatorname{Attention}(Q, K, V) = \operatorname{softmax}\!\left(\frac{Q K^\top}{\sqrt{d_k}} + M\right) V .$$
#
# The softmax runs along each **row** (over the keys), so every query's weights are non-negative
# and sum to 1. M is 0 where attending is allowed and −∞ where it is not — for a language model,
# the **causal mask** forbids looking at later positions.
#
# **Why divide by $\sqrt{d_k}$.** If the entries of $q$ and $k$ are independent with mean 0 and variance 1,
# $q \cdot k = \sum_{i=1}^{d_k} q_i k_i$ is a sum of $d_k$ terms of variance 1, so $\operatorname{Var}(q \cdot k) = d_k$. Unscaled,
# the logits of a softmax grow like $\sqrt{d_k}$, the softmax saturates towards one-hot, and its gradient
# vanishes. Dividing by $\sqrt{d_k}$ restores unit variance. Checked numerically:

# %%
# NBVAL_CHECK_OUTPUT
g = torch.Generator().manual_seed(0)
for d_k in (16, 64, 256):
    q, k = torch.randn(20000, d_k, generator=g), torch.randn(20000, d_k, generator=g)
    dots = (q * k).sum(1)
    print(f"d_k = {d_k:3d}: Var(q·k)/d_k within 5 % of 1: {abs(dots.var().item() / d_k - 1) < 0.05};  "
          f"Var(q·k/√d_k) within 5 % of 1: {abs((dots / math.sqrt(d_k)).var().item() - 1) < 0.05}")

# %%
T_demo = 32
for d_k in (16, 256):
    q, k = torch.randn(500, 1, d_k, generator=g), torch.randn(500, T_demo, d_k, generator=g)
    raw = (q @ k.transpose(1, 2))[:, 0]  # (500, T)
    for name, logits in (("unscaled", raw), ("scaled", raw / math.sqrt(d_k))):
        w = torch.softmax(logits, -1)
        jacobian = torch.diag_embed(w) - w[..., None] * w[:, None]  # ∂softmax/∂logits, one (T, T) matrix per query
        print(f"d_k = {d_k:3d}, {name:8}: mean largest weight {w.max(-1).values.mean():.2f}, "
              f"mean softmax-Jacobian norm {torch.linalg.matrix_norm(jacobian).mean():.3f}")

# %% [markdown]
# Unscaled, at $d_k = 256$ most queries put nearly all their weight on a single key, and the
# softmax's Jacobian (which multiplies every gradient that flows through it) has about half the
# norm it has with scaling (0.109 vs 0.242) — gradients to the scores shrink, and they shrink
# further as $d_k$ grows. At $d_k = 16$ the unscaled scores are still moderate and the two norms
# are close (0.279 vs 0.241); scaling matters most for the wide heads of real models.
#
# The course implementation has an explicit path, readable and able to return the weights, and
# a fast path through PyTorch's fused `scaled_dot_product_attention`. Inline version first:

# %%
# NBVAL_CHECK_OUTPUT
q, k, v = (torch.randn(2, 4, 10, 16, generator=g, dtype=torch.float64) for _ in range(3))  # (B, heads, T, d_k)
T = q.shape[-2]
scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])  # (B, h, T, T)
scores = scores.masked_fill(~torch.ones(T, T, dtype=torch.bool).tril(), float("-inf"))  # causal
inline = torch.softmax(scores, dim=-1) @ v  # (B, h, T, d_k)

from cgen_lessons.transformer import attention, causal_mask  # noqa: E402

reference = F.scaled_dot_product_attention(q, k, v, is_causal=True)
print("vs F.scaled_dot_product_attention (float64): inline", max_error(inline, reference, 1e-12),
      "| package, explicit path", max_error(attention(q, k, v, causal=True), reference, 1e-12),
      "| package, fast path", max_error(attention(q, k, v, causal=True, fast=True), reference, 1e-12))

# %%
show_source(attention)

# %% [markdown]
# **The cost: quadratic in the length.** The score matrix $QK^\top$ has one entry per (query,
# key) pair, $T^2$ of them, and computing it and multiplying by $V$ takes about $4T^2 d$
# floating-point operations per head-batch; the position-wise MLP of a block (two matrices of
# size $d \times 4d$) takes about $16\,T d^2$. Doubling $T$ therefore quadruples the attention's
# cost and only doubles the MLP's, and attention dominates once $T > 4d$. PyTorch's
# `FlopCounterMode` counts the operations exactly, independent of the hardware:

# %%
# NBVAL_CHECK_OUTPUT
from torch.utils.flop_counter import FlopCounterMode

from cgen_lessons.transformer import Block


def count_flops(fn, *args):
    with FlopCounterMode(display=False) as counter:
        fn(*args)
    return counter.get_total_flops()


d_cost = 64
mlp = Block(d_cost, 4).mlp
flops = {T_len: (count_flops(attention, *(torch.randn(1, 1, T_len, d_cost),) * 3),  # (B, h, T, d)
                 count_flops(mlp, torch.randn(1, T_len, d_cost)))
         for T_len in (128, 256, 512)}
print("attention FLOPs ×4 per doubling of T:", all(flops[2 * t][0] == 4 * flops[t][0] for t in (128, 256)))
print("MLP FLOPs ×2 per doubling of T:", all(flops[2 * t][1] == 2 * flops[t][1] for t in (128, 256)))
print(f"attention and MLP cost the same at T = 4d = {4 * d_cost}:", flops[256][0] == flops[256][1])
print("attention costs twice the MLP at T = 512:", flops[512][0] == 2 * flops[512][1])

# %% [markdown]
# This is why long contexts are expensive (at $T = 2048$ the weights of one head of one
# sequence already take $2048^2 \times 4$ bytes $= 16$ MiB in float32) and why fused kernels
# such as FlashAttention (Dao et al. 2022), which never store the full $T \times T$ matrix, and
# sub-quadratic alternatives are an active field. Our GPT uses $T = 64$ and $d = 128$, well
# inside the MLP-dominated regime.

# %% [markdown]
# ## 3 · Multi-head attention, positions, blocks
#
# **Multi-head attention** runs $h$ attentions in parallel on $d_k = d_{\text{model}} / h$-dimensional
# projections and mixes the results:
#
# $$\operatorname{MultiHead}(X) = \operatorname{Concat}(\text{head}_1, \dots, \text{head}_h)\, W_O, \qquad \text{head}_i = \operatorname{Attention}(X W_Q^{(i)}, X W_K^{(i)}, X W_V^{(i)}).$$
#
# Each head can specialise (one tracks the previous character, another the start of the word…).
# Our module uses `torch.nn.MultiheadAttention`'s parameter layout, so its weights load into ours:

# %%
# NBVAL_CHECK_OUTPUT
from cgen_lessons.transformer import MultiHeadAttention

torch.manual_seed(0)
torch_mha = torch.nn.MultiheadAttention(32, 4, batch_first=True)
our_mha = MultiHeadAttention(32, 4)
our_mha.load_state_dict(torch_mha.state_dict())
x = torch.randn(3, 9, 32)
want, want_w = torch_mha(x, x, x, attn_mask=~causal_mask(9), need_weights=True)
got, got_w = our_mha(x, causal=True, return_weights=True)
print("our multi-head attention vs torch.nn.MultiheadAttention (float32): outputs", max_error(got, want, 1e-5),
      "| weights", max_error(got_w.mean(dim=1), want_w, 1e-5))

# %% [markdown]
# **Positions.** Attention is permutation-equivariant: shuffle the inputs and the outputs shuffle
# the same way. Order must therefore be injected. The original Transformer adds fixed
# sinusoids $\text{PE}_{t, 2i} = \sin(t / 10000^{2i/d})$, $\text{PE}_{t, 2i+1} = \cos(t / 10000^{2i/d})$; GPT learns a
# vector per position. Both are available in `GPT(positions=...)`.

# %%
from cgen_lessons.transformer import sinusoidal_positions

fig, ax = plt.subplots(figsize=(7, 2.6))
im = ax.imshow(sinusoidal_positions(64, 64).T, aspect="auto", cmap="RdBu")
ax.set_xlabel("position t")
ax.set_ylabel("dimension")
ax.set_title("sinusoidal position encodings")
fig.colorbar(im)
plt.show()

# %% [markdown]
# **Blocks.** A GPT block is pre-norm residual (the form GPT-2 adopted; Xiong et al. 2020 show
# why it trains more stably than the original post-norm):
#
# $$x \leftarrow x + \operatorname{MHA}(\operatorname{LN}(x)), \qquad x \leftarrow x + \operatorname{MLP}(\operatorname{LN}(x)).$$
#
# Each part has a distinct job:
#
# - **The residual stream.** The vector $x_t$ that enters the first block is carried to the
#   read-out unchanged except for what the blocks *add* to it. Each sub-layer reads the stream,
#   computes an update and writes it back by addition, so the gradient of the loss reaches
#   every layer through the identity path as well (He et al. 2016) — a deep stack starts close
#   to a shallow one and can learn small corrections. §4.1 scales the initial writes so that
#   the stream does not grow with depth.
# - **LayerNorm** (Ba, Kiros & Hinton 2016) rescales each position's vector to mean 0 and
#   variance 1 over its $d$ features, $\operatorname{LN}(x) = \gamma \odot (x - \bar x)/\sqrt{\operatorname{Var}(x) + \epsilon} + \beta$, before a sub-layer reads it,
#   so every sub-layer sees inputs of a fixed scale however large the stream has become; a
#   last LayerNorm precedes the read-out.
# - **Attention moves information between positions; the MLP processes it at each position.**
#   Attention is the only place where position $t$ reads other positions, and its output is a
#   weighted average of (linear maps of) values — linear in them. The MLP,
#   $\operatorname{MLP}(x) = W_2\, \operatorname{GELU}(W_1 x + b_1) + b_2$ with a hidden layer $4d$ wide, acts on each position
#   separately and supplies the non-linear computation and most of the parameters
#   ($8d^2$ of the block's $12d^2$).
#
# Our `Block.forward`, written out from its sub-modules, and the LayerNorm formula against
# `torch.nn.functional.layer_norm` (a post-norm block, the original ordering, computes a different
# function with the same weights):

# %%
# NBVAL_CHECK_OUTPUT
torch.manual_seed(0)
blk = Block(32, 4)
with torch.no_grad():
    for p_ in blk.parameters():
        p_.add_(0.1 * torch.randn_like(p_))  # move LayerNorm gains and biases off 1 and 0
x_blk = torch.randn(2, 9, 32)
stream = x_blk + blk.attn(blk.ln1(x_blk), causal=True)  # write 1: attention
pre_norm = stream + blk.mlp(blk.ln2(stream))  # write 2: MLP
post_1 = blk.ln1(x_blk + blk.attn(x_blk, causal=True))
post_norm = blk.ln2(post_1 + blk.mlp(post_1))
ln = blk.ln1
by_formula = (ln.weight * (x_blk - x_blk.mean(-1, keepdim=True))
              / torch.sqrt(x_blk.var(-1, unbiased=False, keepdim=True) + ln.eps) + ln.bias)
print("Block.forward vs x + MHA(LN(x)), then + MLP(LN(·)):", max_error(blk(x_blk), pre_norm, 1e-6))
print("LayerNorm formula vs F.layer_norm:",
      max_error(by_formula, F.layer_norm(x_blk, (32,), ln.weight, ln.bias, ln.eps), 1e-5))
print("the post-norm ordering gives a different function:", not torch.allclose(blk(x_blk), post_norm, atol=1e-3))

# %% [markdown]
# With a $4\times$-wide GELU MLP as above,
# The read-out shares its weights with the token embedding (**weight tying**, Press & Wolf 2017).
# Counting parameters per block — attention $4d^2 + 4d$, MLP $8d^2 + 5d$, two LayerNorms $4d$ — gives
# $N = Vd + Td + L(12d^2 + 13d) + 2d$, which the code must reproduce:

# %%
# NBVAL_CHECK_OUTPUT
from cgen_lessons.recipes import GPT_SETTINGS, char_lm_splits, train_gpt
from cgen_lessons.transformer import GPT, Block, gpt_param_count

tok, train_ids, val_ids, test_ids = char_lm_splits()
V, BLOCK = tok.vocab_size, GPT_SETTINGS.block
D_MODEL, N_HEADS, N_LAYERS = GPT_SETTINGS.d_model, GPT_SETTINGS.n_heads, GPT_SETTINGS.n_layers
probe = GPT(V, BLOCK, D_MODEL, N_HEADS, N_LAYERS)
n_params = sum(p.numel() for p in probe.parameters())
formula_count = gpt_param_count(V, BLOCK, D_MODEL, N_LAYERS)
print(f"GPT(V={V}, T={BLOCK}, d={D_MODEL}, L={N_LAYERS}): {n_params:,} parameters; formula gives "
      f"{formula_count:,}; equal: {n_params == formula_count}")
untied = GPT(V, BLOCK, D_MODEL, N_HEADS, N_LAYERS, tie_weights=False)
print("weight tying saves V·d =", sum(p.numel() for p in untied.parameters()) - n_params, "parameters")

# %%
show_source(Block.forward)

# %% [markdown]
# ## 4 · The decoder-only GPT
#
# **Causality.** With the mask in place, position t's output cannot depend on any later token.
# Change tokens at positions $\ge 40$ and every logit before position 40 must stay the same:

# %%
# NBVAL_CHECK_OUTPUT
torch.manual_seed(0)
a = train_ids[:BLOCK][None]
b = a.clone()
b[0, 40:] = torch.randint(0, V, (BLOCK - 40,))
with torch.no_grad():
    la, lb = probe(a)[0], probe(b)[0]
print("logits before position 40 unchanged by edits at ≥ 40:", torch.allclose(la[:, :40], lb[:, :40], atol=1e-6))
print("logits from position 40 on do change:", not torch.allclose(la[:, 40:], lb[:, 40:]))

# %% [markdown]
# **Training in parallel.** One forward pass gives the next-token distribution at all T
# positions — exactly what T separate calls on the growing prefixes would give:

# %%
# NBVAL_CHECK_OUTPUT
with torch.no_grad():
    all_at_once = probe(a[:, :16])[0]
    one_by_one = torch.cat([probe(a[:, : t + 1])[0][:, -1:] for t in range(16)], dim=1)
print("one pass over 16 tokens vs 16 prefix calls, position by position (float32):",
      max_error(all_at_once, one_by_one, 1e-5))

# %% [markdown]
# ### 4.1 The training recipe
#
# Every minimal GPT implementation (GPT-2, nanoGPT, minGPT) trains with three ingredients that
# a plain optimiser loop lacks. The course's recipe (`cgen_lessons.recipes.train_gpt`) uses all
# three; each is checked here, and the first is measured by an ablation below.
#
# **1. Linear warmup, then cosine decay of the learning rate.** With peak rate $\eta$, $W$
# warmup steps and $S$ steps in all, optimiser step $s$ (counted from 0) uses
#
# $$\eta_s = \eta \cdot \begin{cases} \dfrac{s+1}{W}, & s < W,\\[6pt]
#   r + (1-r)\,\tfrac12\left(1 + \cos\dfrac{\pi (s-W)}{S-W}\right), & W \le s < S, \end{cases}$$
#
# with a floor $r\,\eta$ at the end (here $W = 0.1\,S$ and $r = 0.1$). Warmup keeps the first
# updates small while Adam's second-moment estimates are still based on a handful of gradients
# and would otherwise give erratic step sizes (Liu et al. 2020); the cosine decay (Loshchilov &
# Hutter 2017) lowers the gradient noise in the last steps, so the weights settle instead of
# bouncing around a minimum.
#
# **2. AdamW with weight decay on the weight matrices only.** AdamW (Loshchilov & Hutter 2019)
# shrinks the weights directly, $\theta \leftarrow \theta - \eta\lambda\theta$, outside the
# adaptive Adam step. Decay is a prior that prefers small linear maps; it means nothing for
# biases, LayerNorm gains (whose natural value is 1, not 0) or embedding tables (rows of rare
# characters would be pulled to 0 between their rare updates), so those are left alone
# (`train.decay_groups`).
#
# **3. Residual projections initialised smaller with depth.** In a pre-norm Transformer the
# residual stream is the embedding plus $2L$ writes, one from each attention and MLP sub-layer.
# If each write has variance $v$ at initialisation, the stream's variance grows like $2Lv$.
# GPT-2 (Radford et al. 2019, §2.3) draws every linear map from $\mathcal N(0, 0.02^2)$ but the
# two maps that write into the stream from $\mathcal N(0, (0.02/\sqrt{2L})^2)$, so the sum of the
# writes keeps the same variance whatever the depth.

# %%
# NBVAL_CHECK_OUTPUT
from cgen_lessons.train import decay_groups, warmup_cosine

S, W, r, eta = 200, 20, 0.1, 1e-3
opt = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))], lr=eta)
schedule = warmup_cosine(opt, W, S, r)
used = []
for _ in range(S):
    used.append(opt.param_groups[0]["lr"])
    opt.step()
    schedule.step()
s_ = torch.arange(S, dtype=torch.float64)
formula = eta * torch.where(s_ < W, (s_ + 1) / W, r + (1 - r) * 0.5 * (1 + torch.cos(math.pi * (s_ - W) / (S - W))))
print(f"scheduler vs the formula over {S} steps: max |difference| < 1e-15: "
      f"{(torch.tensor(used, dtype=torch.float64) - formula).abs().max().item() < 1e-15}")
print(f"peak {max(used) / eta:.2f} η at step {used.index(max(used))}; last step {used[-1] / eta:.3f} η (floor r = {r})")

decay, no_decay = decay_groups(probe, GPT_SETTINGS.weight_decay)
print(f"decayed: {len(decay['params'])} tensors, all 2-D: {all(p.dim() == 2 for p in decay['params'])}, "
      f"{sum(p.numel() for p in decay['params']):,} weights")
print(f"not decayed: {len(no_decay['params'])} tensors — biases and LayerNorm gains (1-D): "
      f"{sum(p.dim() == 1 for p in no_decay['params'])}, "
      f"embedding tables: {sum(p.dim() == 2 for p in no_decay['params'])}")

# %% [markdown]
# The depth scaling, measured: the standard deviation of the residual stream after the last
# block, relative to the embedding's, at initialisation, for GPTs of 2 to 32 blocks — with the
# GPT-2 scaling (the course's `GPT`) and with all maps drawn from $\mathcal N(0, 0.02^2)$:

# %%
# NBVAL_CHECK_OUTPUT
def stream_growth(n_layers, scaled):
    torch.manual_seed(0)
    model = GPT(V, BLOCK, D_MODEL, N_HEADS, n_layers)
    if not scaled:  # undo the 1/√(2L) factor of the residual projections
        for block in model.blocks:
            torch.nn.init.normal_(block.attn.out_proj.weight, std=0.02)
            torch.nn.init.normal_(block.mlp[2].weight, std=0.02)
    x0 = model.tok_emb(train_ids[: 32 * BLOCK].view(32, BLOCK)) + model.pos_emb  # (32, T, d)
    x = x0
    with torch.no_grad():
        for block in model.blocks:
            x = block(x, causal=True)
    return ((x - x0).std() / x0.std()).item()  # size of the sum of all writes, relative to the input


depths = [2, 8, 32]
growth = {scaled: [stream_growth(n, scaled) for n in depths] for scaled in (True, False)}
for scaled, values in growth.items():
    print(f"{'scaled 0.02/√(2L)' if scaled else 'plain 0.02':<18}" +
          "  ".join(f"L = {n}: {g:.3f}" for n, g in zip(depths, values)))
print("without scaling the writes grow with depth (L = 32 vs 2: more than 3×):",
      growth[False][-1] > 3 * growth[False][0])
print("with it they stay within a factor 1.5 of each other:", max(growth[True]) < 1.5 * min(growth[True]))

# %% [markdown]
# ### 4.2 Training on Shakespeare
#
# Same tokenizer and play split as chapters 01–02, the same batches (32 windows of 64
# characters), 500 steps. The model: $d = 128$, 4 heads, 2 blocks, learned positions, gradient
# clipping at norm 1 and the recipe above. The peak learning rate was chosen on the validation
# plays by `benchmarks/lm_lr_sweep.py` (the test plays are not used to choose anything).

# %%
from cgen_lessons.decoding import sample
from cgen_lessons.metrics import stream_nll

STEPS = GPT_SETTINGS.steps
print("chapter 03 settings (cgen_lessons.recipes.GPT_SETTINGS):", GPT_SETTINGS)
gpt, gpt_hist, gpt_seconds = train_gpt(train_ids, tok.vocab_size)
gpt_val_nll = stream_nll(gpt, val_ids)
print(f"GPT: {STEPS} steps in {gpt_seconds:.0f} s ({STEPS * 32 * BLOCK / gpt_seconds:,.0f} training tokens/s); "
      f"validation {gpt_val_nll:.3f} nats/char")

# %% [markdown]
# **Ablation: is the schedule worth it?** The same model, data and seed with a constant learning
# rate equal to the recipe's peak, for the same 500 steps:

# %%
constant, constant_hist, _ = train_gpt(train_ids, tok.vocab_size, schedule="constant")
constant_val_nll = stream_nll(constant, val_ids)
print(f"validation NLL after {STEPS} steps: warmup + cosine {gpt_val_nll:.3f}, "
      f"constant {constant_val_nll:.3f} nats/char")
viz.loss_curves({"warmup + cosine": gpt_hist, "constant": constant_hist}, smooth=20,
                ylabel="train cross-entropy (nats/char)")
plt.show()
sweep = results.load("lm_lr_sweep")["runs"]
print("validation NLL (nats/char) after the notebooks' step counts, by schedule and peak learning rate "
      "(benchmarks/lm_lr_sweep.py):")
for name, runs in sweep.items():
    for schedule_name in ("constant", "cosine"):
        cells = [f"{r['lr']:.4g}: {r['val_nll']:.3f}" for r in runs if r["schedule"] == schedule_name]
        print(f"  {name.upper():5}{schedule_name:>9}   " + "   ".join(cells))
print("each schedule at its own best peak rate:")
for name, runs in sweep.items():
    best = {s: min(r["val_nll"] for r in runs if r["schedule"] == s) for s in ("constant", "cosine")}
    print(f"  {name.upper():5} constant {best['constant']:.3f}, warmup + cosine {best['cosine']:.3f}: "
          f"the schedule gains {best['constant'] - best['cosine']:.2f} nats/char")

# %% [markdown]
# At the recipe's peak rate, $8\cdot10^{-3}$, the constant schedule fails (2.544 against 1.836
# nats/char): so high a rate is only usable when the first steps are small and the last ones
# small again. The fair comparison takes each schedule at its *own* best peak rate on
# validation (the sweep above): the best constant rate for the GPT is $2\cdot10^{-3}$ (1.983),
# while warmup + cosine at $8\cdot10^{-3}$ reaches 1.831 — 0.15 nats/char better in the same 500
# steps, because the schedule tolerates a four times higher rate. For the recurrent cells of
# chapter 02 the gain is small, 0.01–0.03 nats/char (RNN 1.835 → 1.801, LSTM 1.770 → 1.757,
# GRU 1.767 → 1.754); each number is a single seed, and differences of 0.01 may be within
# seed-to-seed variation, which this sweep does not measure.
#
# The chapter's one test evaluation of its GPT:

# %%
gpt_test_nll = stream_nll(gpt, test_ids)  # the chapter's one test evaluation of its GPT
print(f"GPT test NLL {gpt_test_nll:.3f} nats/char = {gpt_test_nll / math.log(2):.3f} bits/char, "
      f"perplexity {math.exp(gpt_test_nll):.2f}")
print(f"scored with windows of {BLOCK} at stride {BLOCK // 2}: every character after the first window "
      f"sees {BLOCK // 2} to {BLOCK - 1} characters of history")

# %% [markdown]
# The GPT reads at most 64 characters, so `stream_nll` scores the test stream with windows of 64
# at stride 32: every character after the first window is predicted from 32 to 63 characters of
# history (the RNNs read the whole stream). Chapter 01's n-gram, scored on the same test plays:

# %%
from cgen_lessons.classic import NGramLM
from cgen_lessons.recipes import NGRAM_SETTINGS

ngram = NGramLM(V, **NGRAM_SETTINGS).fit(train_ids)  # chapter 01's choice on validation
ngram_test_nll = ngram.nll(test_ids)
for name, nll in ((f"{NGRAM_SETTINGS.n}-gram, β = {NGRAM_SETTINGS.beta} (chapter 01)", ngram_test_nll),
                  (f"GPT after {STEPS} steps (this chapter)", gpt_test_nll)):
    print(f"{name:<40} test {nll:.3f} nats/char = {nll / math.log(2):.3f} bits/char, perplexity {math.exp(nll):.2f}")

# %% [markdown]
# After 500 steps (under 20 seconds) the GPT is far behind the 9-gram (1.861 against 1.548 nats/char)
# and, step for step, behind chapter 02's LSTM and GRU after 400 steps (chapter 02, §3.1): it has
# read about a million characters, a quarter of one pass over the training plays.
#
# What more training buys each model, at **equal wall-clock**: `benchmarks/lm_long_run.py`
# gives every neural model of chapters 02–03 the same number of minutes on one CPU thread (with
# its recipe and schedule stretched over the steps that fit), scores the validation plays along
# the way, keeps the best checkpoint on validation, and scores only that one on the test plays.
# The saved curves are plotted; nothing is re-trained here.

# %%
viz.lm_benchmark(results.load("lm_long_run"))
plt.show()

# %% [markdown]
# Given equal time the ranking changes: the GPT is the best neural model (1.565 nats/char =
# 2.258 bits/char on the test plays) and nearly reaches the 9-gram (1.548), ahead of the LSTM
# (1.670), the GRU (1.720) and the vanilla RNN (1.878). Its validation curve is still falling at
# the end of its six minutes, so more time would help it further. The recurrent cells' curves
# are discussed in chapter 02.
#
# Training speed on this CPU, from `benchmarks/gpt_throughput.py` (FLOPs per trained token
# ≈ 6N + 6·L·T·d with N the non-embedding parameters; the peak is a measured large matrix product):

# %%
tp = results.load("gpt_throughput")
print(f"{tp['tokens_per_s']:,.0f} training tokens/s on {tp['threads']} threads "
      f"= {tp['achieved_gflops']:.0f} GFLOP/s, "
      f"{tp['fraction_of_peak']:.0%} of the measured fp32 matmul peak ({tp['matmul_peak_gflops']:.0f} GFLOP/s)")

# %%
# NBVAL_CHECK_OUTPUT
print("the saved throughput was measured on this chapter's GPT (same parameter count):",
      tp["params_total"] == sum(p.numel() for p in gpt.parameters()))

# %%
out = sample(gpt, tok.encode("ROMEO:\n")[None], 250, generator=torch.Generator().manual_seed(0), temperature=0.8)
print(tok.decode(out[0]))

# %% [markdown]
# What the heads look at: the attention weights of the first block's four heads on one window
# of validation text (rows: queries, columns: keys; the upper triangle is masked; ␣ is a space, ↵ a new line).

# %%
window = val_ids[200:224][None]
with torch.no_grad():
    h = gpt.tok_emb(window) + gpt.pos_emb[: window.shape[1]]
    _, weights = gpt.blocks[0].attn(gpt.blocks[0].ln1(h), causal=True, return_weights=True)  # (1, heads, T, T)
fig, axes = plt.subplots(2, 2, figsize=(12, 11.5))
for i, ax in enumerate(axes.flat):
    viz.attention_map(weights[0, i], list(tok.decode(window[0])), ax=ax, title=f"block 1, head {i + 1}")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## 5 · The encoder–decoder on a real sequence-to-sequence task
#
# Date normalisation: read a date written in one of eight styles (`Sunday, 22 November 2026`,
# `Nov 22, 2026`, `22/11/2026`, …) and write it in ISO form (`2026-11-22`). The pairs are
# generated by Python's `datetime`, so labels are correct by construction (weekdays included).
# The encoder reads the written date with full self-attention; the decoder writes the ISO form
# one character at a time with causal self-attention plus **cross-attention** to the encoder.

# %%
from cgen_lessons.train import fit
from cgen_lessons.transformer import Seq2SeqTransformer

train_pairs = data.date_pairs(20000, torch.Generator().manual_seed(0))
test_pairs = data.date_pairs(1000, torch.Generator().manual_seed(1))
specials = [data.PAD, data.BOS, data.EOS]
date_tok = data.CharTokenizer(specials + sorted(set("".join(s + t for s, t in train_pairs + test_pairs))))
MAX_LEN = 30
src, tgt_in, tgt_out = data.encode_pairs(train_pairs, date_tok, MAX_LEN)
test_src, _, _ = data.encode_pairs(test_pairs, date_tok, MAX_LEN)
for s, t in train_pairs[:4]:
    print(f"{s!r:>32} → {t!r}")

# %%
seed_everything(0)
s2s = Seq2SeqTransformer(date_tok.vocab_size, date_tok.vocab_size, MAX_LEN, d_model=64, n_heads=4, n_layers=2,
                         pad_id=date_tok.stoi[data.PAD])
s2s_opt = torch.optim.Adam(s2s.parameters(), lr=2e-3)


def date_batch(gen):
    i = torch.randint(0, len(src), (64,), generator=gen)
    return src[i], tgt_in[i], tgt_out[i]


def exact_match(model):
    pred = model.greedy(test_src, date_tok.stoi[data.BOS], date_tok.stoi[data.EOS], max_new=11)
    texts = [date_tok.decode([i for i in row.tolist() if i >= len(specials)]) for row in pred]
    return {"exact_match": sum(p == t for p, (_, t) in zip(texts, test_pairs)) / len(test_pairs)}, texts


s2s_hist = fit(s2s, s2s_opt, date_batch, steps=700, desc="date encoder-decoder",
               eval_fn=lambda m: exact_match(m)[0], eval_every=175)
s2s.eval()
scores, predictions = exact_match(s2s)
print(f"exact-match accuracy on 1,000 unseen dates: {scores['exact_match']:.1%}")
print("accuracy during training:", [f"{a:.0%}" for a in s2s_hist.eval["exact_match"]])
wrong = [(s, t, p) for (s, t), p in zip(test_pairs, predictions) if p != t][:5]
for s, t, p in wrong:
    print(f"  {s!r:>32}: predicted {p!r}, correct {t!r}")

# %% [markdown]
# Cross-attention maps show which source characters each output character reads. For a good
# model, the year digits attend to the year, the month digits to the month name or number, and
# the day digits to the day:

# %%
examples = [test_pairs[i] for i in (0, 2, 5)]
fig, axes = plt.subplots(1, 3, figsize=(14, 3.6))
for ax, (s, t) in zip(axes, examples):
    s_ids, t_in, _ = data.encode_pairs([(s, t)], date_tok, MAX_LEN)
    s_ids, t_in = s_ids[:, : len(s)], t_in[:, : len(t) + 1]
    cross_w = s2s.cross_attention(s_ids, t_in)[-1]  # (1, h, T, S): the last decoder block's weights
    viz.attention_map(cross_w[0].mean(0), list(s), queries=["^"] + list(t), ax=ax)
    ax.set_xlabel("source character")
    ax.set_ylabel("output position (input token)")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## 6 · Applications
#
# Decoder-only Transformers trained as language models are the generators behind today's chat
# assistants, code completion and text-to-speech front ends; encoder–decoder Transformers
# (T5, BART, Whisper) handle translation, summarisation and speech recognition. Our models are
# tiny — 0.41 M parameters (§3), under a minute of CPU — so they show the mechanics, not the
# capabilities: prompted with "ROMEO:", the GPT writes lines of verse length in which common
# words (*lords*, *sweet*, *thee*) mix with invented ones, without meaning; the date model
# solves a narrow, well-defined transduction. What scales these up is more parameters, data and
# compute, not a different architecture (Kaplan et al. 2020; Hoffmann et al. 2022).
# `benchmarks/gpt_throughput.py` measures how fast this CPU trains the chapter's GPT.

# %% [markdown]
# ## 7 · Corrections to the source articles
#
# <a id="errata-a-4-1-attention"></a>**Article A §4.1 / §4.3 — the attention formulas.** A writes $A = QK^\top + b$ and
# $\mathrm{Attn} = \exp(A) / \sum_{i=1}^n \exp(A)$, then $W_O(\mathrm{Attn} \cdot V)$. Three things are wrong. (1) There is no
# $1/\sqrt{d_k}$ scaling — see §2 for why it matters. (2) The normaliser Σ exp(A) is not tied to a row;
# read literally it sums over the whole matrix, so a query's weights no longer sum to 1 and the
# output shrinks with the sequence length. (3) There is no mask, so a language model built on it
# sees the future. *Demonstrations:*

# %%
# NBVAL_CHECK_OUTPUT
# errata: a-attention
q, k, v = (torch.randn(1, 50, 64, generator=g) for _ in range(3))
A = q @ k.transpose(-2, -1)  # the article's A = QKᵀ (bias omitted)
article_weights = A.exp() / A.exp().sum(dim=(-2, -1), keepdim=True)  # Σ over the whole matrix
row_sums = article_weights.sum(-1)
print("article's weights: every query's weights sum to 1:", torch.allclose(row_sums, torch.ones_like(row_sums)))
print("without the mask, a model's earlier outputs depend on later inputs:",
      not torch.allclose(attention(q, k, v)[:, :25], attention(torch.cat([q[:, :25], q[:, 25:] + 1], 1),
                                                               torch.cat([k[:, :25], k[:, 25:] + 1], 1), v)[:, :25]))
print("with the causal mask they do not:",
      torch.allclose(attention(q, k, v, causal=True)[:, :25],
                     attention(torch.cat([q[:, :25], q[:, 25:] + 1], 1),
                               torch.cat([k[:, :25], k[:, 25:] + 1], 1), v, causal=True)[:, :25],
                     atol=1e-6))

# %% [markdown]
# *Correct version:* $\mathrm{softmax}(QK^\top/\sqrt{d_k} + M)\,V$ with the softmax over each row, §2, checked against
# `F.scaled_dot_product_attention`.
#
# <a id="errata-d-3-3-encoder-decoder"></a>**Article D §3.3 — "autoregressive Transformers such as GPT use the encoder–decoder
# structure".** *Why it is wrong:* GPT is decoder-only: one stack of causal self-attention
# blocks over a single sequence, with no encoder and no cross-attention (Radford et al. 2018).
# The encoder–decoder is the original translation Transformer (and T5, BART). The two are
# built side by side in this chapter. The difference is observable, not only a matter of
# names: an encoder reads its source *bidirectionally*, so its representation of the first
# source token changes when the last one is edited; a decoder-only GPT that reads the same
# tokens as a prompt is causal throughout, so its output at the first position cannot change.
# (If GPT had an encoder, the first check below would print True.)

# %%
# NBVAL_CHECK_OUTPUT
# errata: a-transformer-autoregressive, d-encoder-decoder
torch.manual_seed(0)
gpt_probe, s2s_probe = GPT(10, 8, 16, 2, 1).eval(), Seq2SeqTransformer(10, 10, 8, 16, 2, 1).eval()
src = torch.tensor([[1, 2, 3, 4, 5, 6]])
src_edited = src.clone()
src_edited[0, -1] = 7  # edit only the last source token
with torch.no_grad():
    gpt_first = [gpt_probe(s)[0][0, 0] for s in (src, src_edited)]  # GPT's output at position 0
    enc_first = [s2s_probe.encode(s)[0][0, 0] for s in (src, src_edited)]  # encoder's state at position 0
print("GPT: output at the first position changes when the last token is edited:",
      not torch.allclose(*gpt_first, atol=1e-6))
print("encoder–decoder: encoder state at the first position changes:", not torch.allclose(*enc_first, atol=1e-6))

# %% [markdown]
# **Article D §3.3 — "training and generation are sequential, hence slow".** Generation is
# sequential; training is not — §4 showed that one forward pass yields every position's
# prediction, identical to T prefix calls. This parallelism is the reason Transformers displaced
# RNNs. Chapter 04 makes generation cheaper with a KV cache.

# %% [markdown]
# ## 8 · Exercises
#
# Each checked exercise has a solution cell (folded away in the HTML book) and a check cell. In a
# student copy (`python3 tools/course.py student`) the solution is replaced by `raise
# NotImplementedError()`: write your own, run it, then run the check, which names the first case
# that fails and, when your answer is a typical mistake, which one.

# %% [markdown]
# **Exercise 1 — the causal mask (easy, ≈ 5 min).** Return a boolean (T, T) tensor, True where query
# t may attend to key s.

# %% nbgrader={"grade": false, "grade_id": "causal_mask_solution", "locked": false, "schema_version": 3, "solution": true, "task": false} tags=["hide-input"]
from cgen_lessons.exercises import check


def my_causal_mask(T):
    ### BEGIN SOLUTION
    return torch.ones(T, T, dtype=torch.bool).tril()
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "causal_mask_check", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# NBVAL_CHECK_OUTPUT
check("causal_mask", my_causal_mask)

# %% [markdown]
# **Exercise 2 — one causal attention head (medium, ≈ 15 min).** Given $x$ $(B, T, d)$ and $W_q, W_k, W_v$
# $(d_k, d)$, return the head's output $(B, T, d_k)$ (§2).

# %% nbgrader={"grade": false, "grade_id": "attention_head_solution", "locked": false, "schema_version": 3, "solution": true, "task": false} tags=["hide-input"]
import math


def my_attention_head(x, W_q, W_k, W_v):
    ### BEGIN SOLUTION
    q, k, v = x @ W_q.T, x @ W_k.T, x @ W_v.T  # (B, T, d_k)
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])  # (B, T, T)
    T = x.shape[1]
    scores = scores.masked_fill(~torch.ones(T, T, dtype=torch.bool).tril(), float("-inf"))
    return torch.softmax(scores, dim=-1) @ v
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "attention_head_check", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# NBVAL_CHECK_OUTPUT
check("attention_head", my_attention_head)

# %% [markdown]
# **Exercise 3 — splitting heads (medium, ≈ 10 min).** Given x (B, T, d) and a number of heads h
# that divides d, return (B, h, T, d/h), head j holding features $j\,d/h, \dots, (j+1)\,d/h - 1$ of
# every position — the reshape inside multi-head attention (§3).

# %% nbgrader={"grade": false, "grade_id": "split_heads_solution", "locked": false, "schema_version": 3, "solution": true, "task": false} tags=["hide-input"]
def my_split_heads(x, h):
    ### BEGIN SOLUTION
    B, T, d = x.shape
    return x.view(B, T, h, d // h).transpose(1, 2)  # split the features, then move heads before time
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "split_heads_check", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# NBVAL_CHECK_OUTPUT
check("split_heads", my_split_heads)

# %% [markdown]
# **Exercise 4 (open).** Train the GPT with `positions="sinusoidal"` and with no position
# information at all (set `gpt.pos_emb` to zeros and freeze it). How much does perplexity
# suffer without positions, and why is it not catastrophic for a causal model? (Hint: a causal
# mask itself leaks position information — Haviv et al. 2022.)

# %% [markdown]
# ## 9 · Summary
#
# - Attention = $\mathrm{softmax}(QK^\top/\sqrt{d_k} + M)\,V$, row-wise; the scaling keeps the logits' variance at 1;
#   the causal mask makes a model autoregressive. Our explicit and fast paths equal PyTorch's.
# - Multi-head attention equals `nn.MultiheadAttention`; the GPT's parameter count matches the
#   formula; causality and train-in-parallel are verified.
# - The GPT, the RNNs and the n-gram are compared on the same English test split; an
#   encoder–decoder learns date normalisation from scratch in about a minute.

# %%
print(f"chapter run time: {time.perf_counter() - chapter_start:.0f} s")

# %% [markdown]
# **References**
#
# - Ba, J. L., Kiros, J. R., Hinton, G. E. (2016). Layer normalization. arXiv:1607.06450.
# - Bahdanau, D., Cho, K., Bengio, Y. (2015). Neural machine translation by jointly learning to align and translate. *ICLR*.
# - Cho, K. et al. (2014). Learning phrase representations using RNN encoder–decoder for statistical machine translation. *EMNLP*.
# - Dao, T., Fu, D. Y., Ermon, S., Rudra, A., Ré, C. (2022). FlashAttention: fast and memory-efficient exact attention with IO-awareness. *NeurIPS*.
# - Haviv, A., Ram, O., Press, O., Izsak, P., Levy, O. (2022). Transformer language models without positional encodings still learn positional information. *Findings of EMNLP*.
# - He, K., Zhang, X., Ren, S., Sun, J. (2016). Deep residual learning for image recognition. *CVPR*.
# - Hoffmann, J. et al. (2022). Training compute-optimal large language models. *NeurIPS*.
# - Kaplan, J. et al. (2020). Scaling laws for neural language models. arXiv:2001.08361.
# - Liu, L., Jiang, H., He, P., Chen, W., Liu, X., Gao, J., Han, J. (2020). On the variance of the adaptive learning rate and beyond. *ICLR*.
# - Loshchilov, I., Hutter, F. (2017). SGDR: stochastic gradient descent with warm restarts. *ICLR*.
# - Loshchilov, I., Hutter, F. (2019). Decoupled weight decay regularization. *ICLR*.
# - Press, O., Wolf, L. (2017). Using the output embedding to improve language models. *EACL*.
# - Radford, A., Narasimhan, K., Salimans, T., Sutskever, I. (2018). Improving language understanding by generative pre-training. OpenAI report.
# - Radford, A., Wu, J., Child, R., Luan, D., Amodei, D., Sutskever, I. (2019). Language models are unsupervised multitask learners. OpenAI report.
# - Sutskever, I., Vinyals, O., Le, Q. V. (2014). Sequence to sequence learning with neural networks. *NeurIPS*.
# - Vaswani, A. et al. (2017). Attention is all you need. *NeurIPS*.
# - Xiong, R. et al. (2020). On layer normalization in the Transformer architecture. *ICML*.
