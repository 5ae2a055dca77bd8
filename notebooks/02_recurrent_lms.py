# %% [markdown]
# # 02 · Recurrent language models: RNN, LSTM, GRU
#
# *Mirrors article A §2.2, §3 and §4 (its language-model formulas).*
#
# Chapter 01's $n$-gram model forgets everything more than $n - 1$ characters back and must count
# every context separately. A recurrent network instead carries a fixed-size state $h_t$ through
# the sequence and shares its parameters across time and across similar contexts. This chapter
# writes the three classic recurrent cells from their equations, checks each against PyTorch,
# trains character-level language models on English and Chinese, and measures why the gated
# cells (LSTM, GRU) were needed: gradients through time.

# %%
import math
import time

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F

from cgen_lessons import data, results, viz
from cgen_lessons.utils import max_error, seed_everything, show_source, use_threads

chapter_start = time.perf_counter()
use_threads(1)  # small recurrent matmuls run faster on one thread than on two
viz.use_cjk_font()
seed_everything(0);

# %% [markdown]
# ## 1 · Background: language modelling as next-token prediction
#
# By the chain rule of probability, any distribution over sequences factorises as
#
# $$p(x_1, \dots, x_T) = \prod_{t=1}^{T} p(x_t \mid x_1, \dots, x_{t-1}),$$
#
# so a language model only has to predict the next token given the ones before it. Training
# maximises the log-likelihood of real text, i.e. minimises the mean per-token cross-entropy
#
# $$\mathcal{L} = -\frac{1}{T} \sum_{t=1}^{T} \log p_\theta(x_t \mid x_{<t}),$$
#
# and the held-out value of this loss, exponentiated, is the perplexity of chapter 01. During
# training the model is fed the *true* previous tokens (**teacher forcing**), so all T
# predictions come from one pass over the sequence. At generation time it is fed its own
# samples instead.
#
# An n-gram model conditions on a fixed window. A **recurrent neural network** (Elman 1990)
# summarises the whole prefix in a state vector updated once per token,
# $h_t = f(x_t, h_{t-1})$, and predicts $p(x_{t+1} \mid x_{\le t}) = \operatorname{softmax}(W_{\text{out}} h_t + b_{\text{out}})$. Its
# weakness, analysed by Hochreiter (1991) and Bengio, Simard & Frasconi (1994), is that
# gradients through many steps vanish or explode. The LSTM (Hochreiter & Schmidhuber 1997,
# with the forget gate of Gers, Schmidhuber & Cummins 2000) and the GRU (Cho et al. 2014) add
# gates that let information and gradients pass through time nearly unchanged.

# %% [markdown]
# ## 2 · The three cells, from their equations
#
# Following PyTorch's conventions (so that weights can be copied across for checking), each
# cell has input weights $W_{ih}$, recurrent weights $W_{hh}$ and two bias vectors, with the gates'
# blocks stacked in one matrix.
#
# **Vanilla RNN**: $h_t = \tanh(W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh})$.
#
# **LSTM**: four gate pre-activations from $x_t$ and $h_{t-1}$, then an *additive* memory update:
#
# $$\begin{aligned}
# i_t &= \sigma(W_{ii} x_t + b_{ii} + W_{hi} h_{t-1} + b_{hi}), &
# f_t &= \sigma(W_{if} x_t + b_{if} + W_{hf} h_{t-1} + b_{hf}),\\
# g_t &= \tanh(W_{ig} x_t + b_{ig} + W_{hg} h_{t-1} + b_{hg}), &
# o_t &= \sigma(W_{io} x_t + b_{io} + W_{ho} h_{t-1} + b_{ho}),\\
# c_t &= f_t \odot c_{t-1} + i_t \odot g_t, &
# h_t &= o_t \odot \tanh(c_t).
# \end{aligned}$$
#
# **GRU**: a reset gate $r_t$ decides how much of $h_{t-1}$ enters the candidate $n_t$; an update
# gate $z_t$ interpolates between the old state and the candidate:
#
# $$\begin{aligned}
# r_t &= \sigma(W_{ir} x_t + b_{ir} + W_{hr} h_{t-1} + b_{hr}), &
# z_t &= \sigma(W_{iz} x_t + b_{iz} + W_{hz} h_{t-1} + b_{hz}),\\
# n_t &= \tanh(W_{in} x_t + b_{in} + r_t \odot (W_{hn} h_{t-1} + b_{hn})), &
# h_t &= (1 - z_t) \odot n_t + z_t \odot h_{t-1}.
# \end{aligned}$$
#
# (Cho et al. write $h_t = z_t \odot h_{t-1} + (1 - z_t) \odot \tilde h_t$ with the reset gate applied to $h_{t-1}$
# *before* the matrix product; PyTorch and cuDNN apply it after, as above. Both are GRUs; we
# follow PyTorch so the check below is exact.)
#
# First the RNN step inline, in three lines, checked against `torch.nn.RNNCell`:

# %%
# NBVAL_CHECK_OUTPUT
torch.manual_seed(0)
ref_rnn = torch.nn.RNNCell(5, 7).double()
W_ih, W_hh, b_ih, b_hh = ref_rnn.weight_ih, ref_rnn.weight_hh, ref_rnn.bias_ih, ref_rnn.bias_hh
x_t, h_prev = torch.randn(3, 5, dtype=torch.float64), torch.randn(3, 7, dtype=torch.float64)

h_t = torch.tanh(x_t @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh)  # (B, H)

print("inline RNN step vs torch.nn.RNNCell (float64):", max_error(h_t, ref_rnn(x_t, h_prev), 1e-12))

# %% [markdown]
# The package's cells implement the equations above; the LM precomputes the input half
# $W_{ih} x_t + b_{ih}$ for all time steps at once (one large matrix product instead of $T$ small ones),
# and each step adds only the recurrent half.

# %%
from cgen_lessons.rnn import GRUCell, LSTMCell, RNNCell

show_source(LSTMCell.recur)

# %%
show_source(GRUCell.recur)

# %% [markdown]
# Each of our cells against PyTorch's, with PyTorch's weights loaded into ours, in float32 and
# float64 (the unit tests repeat this for more shapes):

# %%
# NBVAL_CHECK_OUTPUT
for ours, ref in [(RNNCell, torch.nn.RNNCell), (LSTMCell, torch.nn.LSTMCell), (GRUCell, torch.nn.GRUCell)]:
    verdicts = []
    for dtype, tol in [(torch.float32, 1e-5), (torch.float64, 1e-12)]:
        torch.manual_seed(1)
        r = ref(6, 8).to(dtype)
        o = ours(6, 8).to(dtype)
        o.load_state_dict(r.state_dict())
        x, h, c = (torch.randn(4, n, dtype=dtype) for n in (6, 8, 8))
        got, want = (o(x, (h, c)), r(x, (h, c))) if ours is LSTMCell else ((o(x, h),), (r(x, h),))
        verdicts.append(max_error(torch.cat(got), torch.cat(want), tol))  # h (and c) stacked
    print(f"{ours.__name__:8} vs torch.nn.{ref.__name__:8}  float32: {verdicts[0]}   float64: {verdicts[1]}")

# %% [markdown]
# ## 3 · One language model for all three cells
#
# `RecurrentLM` embeds each character, runs the chosen cell over the sequence and reads out
# next-character logits. It has the course-wide interface `model(idx, targets) -> (logits, loss)`,
# so the shared training loop `fit` and the shared sampler work unchanged.

# %%
from cgen_lessons.rnn import RecurrentLM

show_source(RecurrentLM.forward_with_state)

# %% [markdown]
# The chapter's training settings live in `cgen_lessons.recipes`, so that chapter 04 and the
# benchmark scripts rebuild exactly these models:

# %%
from cgen_lessons.recipes import train_recurrent_lm

show_source(train_recurrent_lm)

# %% [markdown]
# ### 3.1 Training on Shakespeare
#
# Same tokenizer and play split as chapter 01 (34 training plays; two validation and two test
# plays). Each model has a 64-dimensional embedding and 128 hidden units, and trains for 400
# steps of Adam on batches of 32 random windows of 64 characters, with gradient clipping at norm
# 1 and the course's learning-rate schedule: a linear warmup over the first 10 % of the steps,
# then a cosine decay to a tenth of the peak (derived and ablated in chapter 03 §4.1). The peak
# rate of each cell was chosen on the validation plays (`benchmarks/lm_lr_sweep.py`); test
# perplexity is measured on the same test plays as chapter 01's n-gram.

# %%
from cgen_lessons.classic import NGramLM
from cgen_lessons.decoding import sample
from cgen_lessons.metrics import stream_nll
from cgen_lessons.recipes import NGRAM_SETTINGS, RNN_SETTINGS, char_lm_splits, train_recurrent_lm

tok, train_ids, val_ids, test_ids = char_lm_splits()
n_train_plays = len(data.load_plays()) - sum(len(s) for s in data.SHAKESPEARE_HELD_OUT.values())
print(f"training text: {n_train_plays} plays, {len(train_ids) / 1e6:.1f} M characters")
print("chapter 02 settings:", RNN_SETTINGS)
models, histories, seconds = {}, {}, {}
for cell in ["rnn", "lstm", "gru"]:
    models[cell], histories[cell], seconds[cell] = train_recurrent_lm(cell, train_ids, tok.vocab_size)

# %%
ngram = NGramLM(tok.vocab_size, **NGRAM_SETTINGS).fit(train_ids)  # chapter 01's choice on validation
test_nll = {f"{NGRAM_SETTINGS.n}-gram (chapter 01)": (ngram.nll(test_ids), None, 0)}
for cell, model in models.items():
    n_params = sum(p.numel() for p in model.parameters())
    test_nll[cell.upper()] = (stream_nll(model, test_ids), seconds[cell], n_params)
print(f"{'model':<20}{'test NLL (nats/char)':>22}{'bits/char':>11}"
      f"{'perplexity':>12}{'train time':>12}{'parameters':>12}")
for name, (nll, sec, n_params) in test_nll.items():
    sec_text = f"{sec:.0f} s" if sec is not None else "counting"
    print(f"{name:<20}{nll:>22.3f}{nll / math.log(2):>11.3f}{math.exp(nll):>12.2f}{sec_text:>12}{n_params:>12,}")
viz.loss_curves({c.upper(): h for c, h in histories.items()}, smooth=20, ylabel="train cross-entropy (nats/char)")
plt.show()

# %% [markdown]
# After 400 steps — $32 \times 64 \times 400 = 819{,}200$ characters read, less than a fifth of
# one pass over the 4.4 M characters of the training plays — all three networks have learned
# speaker names, line breaks and many English words (samples below); the GRU is best (1.795
# nats/char on the test plays), the vanilla RNN worst (1.839). None comes near the 9-gram
# (1.548), which has *counted* every context of up to eight characters in all 4.4 million.
#
# The benchmark script `benchmarks/lm_long_run.py` gives each of these models (and chapter 03's
# GPT) the same training time — minutes instead of seconds — with the same recipe, scores the
# validation plays along the way, and reports the test plays once, for the checkpoint that was
# best on validation. Its saved results:

# %%
viz.lm_benchmark(results.load("lm_long_run"), ["ngram", "rnn", "lstm", "gru"])
plt.show()

# %% [markdown]
# With six minutes each instead of seconds, the gated cells improve a lot — the LSTM to 1.670
# nats/char on the test plays, the GRU to 1.720 — but on one CPU thread none of the recurrent
# models reaches the 9-gram. The curves also teach something about learning rates. The RNN's
# best checkpoint is its *first* evaluation: the peak rate chosen on 400-step runs
# ($2.4\cdot10^{-2}$) is too high to sustain for 28,729 steps, its validation NLL jumps after the
# warmup and only recovers as the cosine decays; the GRU shows the same bump, milder. A rate
# tuned for a short run does not transfer to a run tens of times longer (10,482 to 28,729 steps
# instead of 400) — tune it at the length
# you will train. On large corpora and with much more compute, neural LMs beat n-grams by wide
# margins (Mikolov et al. 2010; Jozefowicz et al. 2016); chapter 03's GPT gets closest here.
#
# Samples from each model, all from the same prompt and the same random seed, through the
# course's one sampler:

# %%
prompt = tok.encode("ROMEO:\n")[None]
for cell, model in models.items():
    out = sample(model, prompt, 200, generator=torch.Generator().manual_seed(0), temperature=0.8)
    print(f"--- {cell.upper()}\n{tok.decode(out[0])}\n")

# %% [markdown]
# ### 3.2 Training on Tang poems
#
# The same three models on Chinese: 313 Tang poems (Debian `fortunes-zh`), ~2,500 distinct
# characters, ~25,000 characters in all (printed below), with the last 10 % held out, trained with the original
# chapter settings (constant learning rate $3\cdot10^{-3}$; the English sweep does not apply to
# this corpus). With this little text and this large a vocabulary, the models pick up only a
# little of the *form* — a full stop and a line break after a short line, frequent characters
# and pairs — but not the strict five- or seven-character line of the poems (the samples' lines
# have irregular lengths), and nothing of meaning.

# %%
if data.available_corpora()["tang"]:
    tang = data.load_corpus("tang")
    tok_zh = data.CharTokenizer.from_text(tang)
    train_zh, test_zh = data.split_ids(tok_zh.encode(tang), val_fraction=0.1)
    print(f"{len(data.load_poems('tang'))} Tang poems, {len(tang):,} characters, {tok_zh.vocab_size:,} distinct")
    ngram_zh = NGramLM(tok_zh.vocab_size, 2, beta=100.0).fit(train_zh)
    print(f"{'model':<8}{'test perplexity':>16}")
    print(f"{'bigram':<8}{math.exp(stream_nll(ngram_zh, test_zh)):>16.0f}")
    models_zh = {}
    for cell in ["rnn", "lstm", "gru"]:
        models_zh[cell], _, _ = train_recurrent_lm(
            cell, train_zh, tok_zh.vocab_size, steps=250, d_hidden=96, block=32,
            lr=3e-3, schedule="constant")  # not tuned for Chinese: kept as before
        print(f"{cell.upper():<8}{math.exp(stream_nll(models_zh[cell], test_zh)):>16.0f}")
    for cell, model in models_zh.items():
        out = sample(model, tok_zh.encode("春")[None], 47, generator=torch.Generator().manual_seed(0), temperature=0.8)
        print(f"--- {cell.upper()}\n{tok_zh.decode(out[0])}")
else:
    print("fortunes-zh is not installed: the Tang-poem models are skipped (sudo apt-get install fortunes-zh).")

# %% [markdown]
# ### 3.3 Overfitting and dropout
#
# On 4.4 million characters our small models are far from memorising anything: their training
# and validation losses fall together. On little data the picture changes. Trained on the first
# 20,000 characters of *Hamlet* (400 steps of $32 \times 32$ characters are more than twenty passes over it),
# a GRU with 256 hidden units memorises its training text: the training NLL keeps falling while
# the NLL on the validation plays turns upward — **overfitting**. The classic remedy for
# recurrent LMs is **dropout** (Srivastava et al. 2014; applied between layers, not on the
# recurrent connection, as in Zaremba, Sutskever & Vinyals 2014): during training each input
# embedding and each output of the recurrent layer is zeroed with probability $p$ and the
# survivors are scaled by $1/(1-p)$, so the network cannot rely on any single unit; at
# evaluation nothing is dropped. `RecurrentLM(dropout=p)` does this. Same data, same seed,
# $p = 0$ and $p = 0.4$, evaluated every 50 steps on 5,000 characters of the training text and
# of the validation plays (windows of 32 characters instead of §3.1's 64 halve the cost of a step):

# %%
hamlet_ids = tok.encode(data.load_plays()["hamlet"])[:20_000]


def overfit_eval(model):
    return {"train_nll": stream_nll(model, hamlet_ids[:5000]), "val_nll": stream_nll(model, val_ids[:5000])}


dropout_runs = {}
for p_drop in (0.0, 0.4):
    _, dropout_runs[p_drop], _ = train_recurrent_lm("gru", hamlet_ids, tok.vocab_size, d_hidden=256, block=32,
                                                    dropout=p_drop, eval_fn=overfit_eval, eval_every=50)
fig, ax = plt.subplots(figsize=(6, 3.2))
for (p_drop, hist), colour in zip(dropout_runs.items(), ("C3", "C0")):
    ax.plot(hist.eval["step"], hist.eval["train_nll"], "--", color=colour, label=f"p = {p_drop}: training text")
    ax.plot(hist.eval["step"], hist.eval["val_nll"], "-", color=colour, label=f"p = {p_drop}: validation plays")
ax.set_xlabel("step")
ax.set_ylabel("NLL (nats/char)")
ax.set_title("GRU on 20,000 characters of Hamlet")
ax.legend(fontsize=8)
plt.show()
for p_drop, hist in dropout_runs.items():
    val = hist.eval["val_nll"]
    print(f"p = {p_drop}: final train {hist.eval['train_nll'][-1]:.3f}, best validation {min(val):.3f} "
          f"(step {hist.eval['step'][val.index(min(val))]}), final validation {val[-1]:.3f} nats/char")

# %%
# NBVAL_CHECK_OUTPUT
plain, dropped = dropout_runs[0.0].eval, dropout_runs[0.4].eval
print("without dropout the model overfits: final validation NLL more than 0.2 above its best, while the training NLL",
      "keeps falling:",
      plain["val_nll"][-1] > min(plain["val_nll"]) + 0.2 and plain["train_nll"][-1] == min(plain["train_nll"]))
print("dropout narrows the final train–validation gap by more than a third:",
      dropped["val_nll"][-1] - dropped["train_nll"][-1] < 2 / 3 * (plain["val_nll"][-1] - plain["train_nll"][-1]))
print("and its best validation NLL is below the best without dropout (early stopping included):",
      min(dropped["val_nll"]) < min(plain["val_nll"]))

# %% [markdown]
# Without dropout the best validation NLL comes after a quarter of the run, and from then on
# every step makes the model better at *Hamlet*'s first scenes and worse at other plays.
# Dropout slows the fit to the training text and keeps the validation NLL falling to the end;
# its final model beats even the best checkpoint of the unregularised run, so early stopping
# alone would not have matched it. With 4.4 million characters, as in §3.1, the same small
# models are data-rich, and dropout would only slow them down in a short run.

# %% [markdown]
# ## 4 · Gradients through time
#
# ### 4.1 Why they vanish or explode
#
# For the vanilla RNN, $h_t = \tanh(a_t)$ with $a_t = W_{ih} x_t + W_{hh} h_{t-1} + b$, so the Jacobian of
# one step is $\partial h_t / \partial h_{t-1} = \operatorname{diag}(1 - h_t^2)\, W_{hh}$, and by the chain rule
#
# $$\frac{\partial \mathcal L_T}{\partial h_t} = \frac{\partial \mathcal L_T}{\partial h_T}\prod_{s=t+1}^{T} \operatorname{diag}(1 - h_s^2)\, W_{hh}.$$
#
# A product of $T - t$ matrices shrinks geometrically when their norms are below 1 (the tanh
# derivative is at most 1, so a $W_{hh}$ with spectral norm $< 1$ guarantees it) and can grow
# geometrically when they are above 1. The LSTM's cell state is updated additively,
# $c_t = f_t \odot c_{t-1} + \dots$, so along the cell path $\partial c_t / \partial c_{t-1}$ contains $\operatorname{diag}(f_t)$ — which the
# network can hold near 1 — instead of a repeated matrix product. First, a check that the
# product formula is what autograd computes:

# %%
# NBVAL_CHECK_OUTPUT
torch.manual_seed(0)
cell = RNNCell(4, 6).double()
xs = torch.randn(12, 1, 4, dtype=torch.float64)
hs = [torch.zeros(1, 6, dtype=torch.float64, requires_grad=True)]
for t in range(12):
    hs.append(cell(xs[t], hs[-1]))

def final_state(h0):
    h = h0
    for t in range(12):
        h = cell(xs[t], h)
    return h


jac_autograd = torch.autograd.functional.jacobian(final_state, hs[0].detach())[0, :, 0, :]  # (H, H) ∂h_12/∂h_0
jac_product = torch.eye(6, dtype=torch.float64)
for t in range(1, 13):
    jac_product = torch.diag(1 - hs[t][0].detach() ** 2) @ cell.weight_hh.detach() @ jac_product
print("∂h_T/∂h_0 from autograd vs the product of diag(1 − h_t²) W_hh over 12 steps:",
      max_error(jac_autograd, jac_product, 1e-12))

# %% [markdown]
# ### 4.2 Measured on the trained models
#
# We feed each trained English model a 300-character window of test text, take the loss at
# the **last** position only, and measure $\lVert \partial L_T / \partial h_t \rVert$ for every earlier step $t$: how much the
# final prediction's gradient reaches back to the state $T - t$ steps before.

# %%
def grad_norms_through_time(model, idx):
    """‖∂L_T/∂h_t‖ for t = 0..T−1, with L_T the loss at the last position (one layer)."""
    cell = model.cells[0]
    x = model.embed(idx)  # (1, T, E)
    gi = cell.input_proj(x)
    state = cell.init_state(1)
    hs = []
    for t in range(idx.shape[1]):
        state = cell.recur(gi[:, t], state)
        h = state[0] if isinstance(state, tuple) else state
        h.retain_grad()
        hs.append(h)
    loss = F.cross_entropy(model.head(hs[-1]), val_ids[300:301])
    loss.backward()
    return torch.tensor([h.grad.norm().item() for h in hs])


window = val_ids[:300][None]
norms = {cell.upper(): grad_norms_through_time(models[cell], window) for cell in models}
fig, ax = plt.subplots(figsize=(6, 3.2))
for name, g_norm in norms.items():
    ax.semilogy(range(299, -1, -1), g_norm.numpy(), label=name)
ax.set_xlabel("steps back from the prediction (T − t)")
ax.set_ylabel("‖∂L_T / ∂h_t‖")
ax.set_title("how far back the gradient of one prediction reaches")
ax.legend()
plt.show()
for name, g_norm in norms.items():
    print(f"{name:5} gradient norm 1 step back {g_norm[-2]:.2e}, 50 steps back {g_norm[-51]:.2e}, "
          f"100 steps back {g_norm[-101]:.2e}")

# %% [markdown]
# For the vanilla RNN the gradient shrinks by orders of magnitude within a few dozen steps:
# the loss at step T is practically insensitive to what happened 100 characters earlier, so
# gradient descent cannot learn dependencies that long. The gated cells keep a much larger
# share of the gradient over the same distance.

# %%
# NBVAL_CHECK_OUTPUT
ratio = {name: (g[-101] / g[-2]).item() for name, g in norms.items()}
print("RNN gradient 100 steps back is below 1e-3 of its value 1 step back:", ratio["RNN"] < 1e-3)
print("LSTM keeps a larger share of the gradient 100 steps back than the RNN:", ratio["LSTM"] > 10 * ratio["RNN"])
print("GRU keeps a larger share of the gradient 100 steps back than the RNN:", ratio["GRU"] > 10 * ratio["RNN"])

# %% [markdown]
# ### 4.3 Exploding gradients and clipping
#
# The opposite failure: scale an RNN's recurrent weights up and the same product grows
# geometrically. The standard remedy (Pascanu, Mikolov & Bengio 2013) is to rescale the whole
# gradient when its global norm exceeds a threshold c:
#
# $$g \leftarrow g \cdot \min\!\left(1, \frac{c}{\lVert g \rVert_2}\right),$$
#
# which keeps its direction and bounds the step. `fit(..., grad_clip=1.0)` does this through
# `torch.nn.utils.clip_grad_norm_`; we check that function against the formula.

# %%
# NBVAL_CHECK_OUTPUT
def rnn_with_grads(scale):
    """A fresh RNN LM whose recurrent weights are multiplied by `scale`, after one backward pass."""
    torch.manual_seed(0)
    model = RecurrentLM(tok.vocab_size, "rnn", 16, 64)
    with torch.no_grad():
        model.cells[0].weight_hh.mul_(scale)  # spectral norm ≈ 1.09 × scale
    _, loss = model(val_ids[:201][None, :-1], val_ids[1:201][None])
    loss.backward()
    return model


def grad_norm(model):
    return torch.sqrt(sum((p.grad.double() ** 2).sum() for p in model.parameters())).item()


norm_plain = grad_norm(rnn_with_grads(1.0))
big = rnn_with_grads(3.0)
grads = [p.grad.clone() for p in big.parameters()]
norm_before = grad_norm(big)
expected = [g * min(1.0, 1.0 / (norm_before + 1e-6)) for g in grads]  # the formula, c = 1
returned = torch.nn.utils.clip_grad_norm_(big.parameters(), max_norm=1.0)
print("recurrent weights ×3: gradient norm more than 100× the unscaled model's:", norm_before > 100 * norm_plain)
print("clip_grad_norm_ returns the norm before clipping (relative):", max_error(returned / norm_before, 1.0, 1e-5))
print("clip_grad_norm_ vs g · min(1, c/‖g‖):", max_error(torch.cat([p.grad.flatten() for p in big.parameters()]),
                                                      torch.cat([e.flatten() for e in expected]), 1e-6))
print("norm after clipping within 1e-4 of c = 1:", abs(grad_norm(big) - 1.0) < 1e-4)

# %%
print(f"gradient norm: unscaled {norm_plain:.3g}, recurrent weights ×3 {norm_before:.3g}")

# %% [markdown]
# ### 4.4 Truncated backpropagation through time
#
# Backpropagating through an entire book is impossible, so long streams are cut into chunks of
# K steps. The state is carried from one chunk to the next (the model still *sees* the whole
# past), but the graph is cut at the boundary with `detach`, so gradients flow back at most K
# steps. `RecurrentLM.forward_with_state` and `detach_state` support exactly this; the check
# below shows the cut is real: the loss of chunk 2 depends on the inputs of chunk 1 (through
# the carried state) but sends them no gradient.

# %%
# NBVAL_CHECK_OUTPUT
from cgen_lessons.rnn import detach_state

lm = models["gru"]
stream = val_ids[:129][None]
emb_inputs = lm.embed(stream[:, :128]).detach().requires_grad_(True)  # (1, 128, E) so we can ask for its gradient


def chunk_loss(cut):
    gi = lm.cells[0].input_proj(emb_inputs)
    h = lm.cells[0].init_state(1)
    outputs = []
    for t in range(128):
        if cut and t == 64:
            h = detach_state([h])[0]
        h = lm.cells[0].recur(gi[:, t], h)
        outputs.append(h)
    logits = lm.head(torch.stack(outputs[64:], 1))  # chunk 2 only
    return F.cross_entropy(logits.flatten(0, 1), stream[0, 65:129])


for cut in (False, True):
    emb_inputs.grad = None
    chunk_loss(cut).backward()
    reach = emb_inputs.grad[0, :64].abs().sum().item()
    print(f"{'with' if cut else 'without'} the cut, chunk 2's loss sends gradient to chunk 1's inputs:", reach > 0)

# %% [markdown]
# ## 5 · Applications
#
# Recurrent LMs powered the first wave of neural text generation: speech-recognition
# rescoring (Mikolov et al. 2010), character-level generation of text, code and markup
# (Sutskever, Martens & Hinton 2011; Graves 2013; Karpathy 2015), handwriting synthesis
# (Graves 2013), and, as encoder–decoder pairs, neural machine translation (Sutskever, Vinyals
# & Le 2014; Bahdanau, Cho & Bengio 2015 added attention). Since 2018 Transformers (chapter 03)
# have replaced them wherever training data and hardware allow parallel training. RNNs remain
# in use where a constant-size state and constant cost per step matter — streaming speech on
# devices, small keyboard models, time series — and the idea has returned in modern
# linear-time sequence models (state-space models such as Mamba, Gu & Dao 2023; RWKV,
# Peng et al. 2023), which keep a recurrent state but train in parallel.

# %% [markdown]
# ## 6 · Corrections to the source articles
#
# <a id="errata-a-4-1-lstm"></a>**Article A §4.1 and §4.3 — the "LSTM" formula.** A gives the LSTM as
# $h_t = \tanh(W_h h_{t-1} + W_x x_t + b_h)$. *Why it is wrong:* this is the vanilla (Elman) RNN —
# no input, forget or output gate and no memory cell $c_t$, i.e. none of what makes an LSTM an
# LSTM. *Demonstration:* with the same weights the article's formula reproduces
# `torch.nn.RNNCell` (that identifies what it is). The claim to test is that it is *not* an
# LSTM: a function of $(x_t, h_{t-1})$ alone cannot carry a separate memory cell. We train its
# weights to imitate a fixed LSTM whose forget gate is held mostly open, on random 40-step
# sequences, and train a real `LSTMCell` from a fresh initialisation the same way (400 Adam
# steps each); then both are scored on new sequences. If the article's cell were an LSTM in
# disguise, it would imitate the teacher as well as the LSTM does.

# %%
# NBVAL_CHECK_OUTPUT
# errata: a-lstm
def article_lstm(x, h, W_x, W_h, b_h):
    """Article A's 'LSTM': h_t = tanh(W_h h_{t−1} + W_x x_t + b_h) — no gates, no cell."""
    return torch.tanh(h @ W_h.T + x @ W_x.T + b_h)


torch.manual_seed(0)
rnn_ref = torch.nn.RNNCell(5, 7).double()
x, h = torch.randn(3, 5, dtype=torch.float64), torch.randn(3, 7, dtype=torch.float64)
h_article = article_lstm(x, h, rnn_ref.weight_ih, rnn_ref.weight_hh, rnn_ref.bias_ih + rnn_ref.bias_hh)
print("article's 'LSTM' vs torch.nn.RNNCell with the same weights:", max_error(h_article, rnn_ref(x, h), 1e-12))


def unroll(cell, xs):
    """Hidden states (T, B, H) of a torch RNNCell (article's formula) or LSTMCell run over xs (T, B, D)."""
    h = torch.zeros(xs.shape[1], cell.hidden_size)
    c = torch.zeros_like(h)
    states = []
    for x_t in xs:
        if isinstance(cell, torch.nn.LSTMCell):
            h, c = cell(x_t, (h, c))
        else:
            h = cell(x_t, h)
        states.append(h)
    return torch.stack(states)


teacher = torch.nn.LSTMCell(5, 7)
with torch.no_grad():
    teacher.bias_hh[7:14] += 5.0  # forget-gate block (i, f, g, o order): memory kept for many steps
xs_fit, xs_new = torch.randn(40, 64, 5), torch.randn(40, 64, 5)
with torch.no_grad():
    target_fit, target_new = unroll(teacher, xs_fit), unroll(teacher, xs_new)
imitation_mse = {}
for name, student in [("article's cell", torch.nn.RNNCell(5, 7)), ("LSTMCell", torch.nn.LSTMCell(5, 7))]:
    opt = torch.optim.Adam(student.parameters(), lr=1e-2)
    for _ in range(400):
        loss = F.mse_loss(unroll(student, xs_fit), target_fit)
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        imitation_mse[name] = F.mse_loss(unroll(student, xs_new), target_new).item()
print("the article's cell imitates an LSTM at least 5× worse than an LSTMCell trained the same way:",
      imitation_mse["article's cell"] > 5 * imitation_mse["LSTMCell"])

# %%
print({name: round(mse, 5) for name, mse in imitation_mse.items()})

# %% [markdown]
# <a id="errata-a-4-1-gru"></a>**Article A §4.1 and §4.3 — the "GRU" formulas.** A writes $r_t = \sigma(W_r [h_{t-1}, x_t] + b_r)$,
# then $z_t = r_t \odot \tanh(W_z h_{t-1} + W_x x_t + b_z)$ and $h_t = (1 - r_t)\, h_{t-1} + z_t$. *Why it
# is wrong:* there is only one gate. The update interpolates with the "reset" gate $r_t$, the
# candidate always sees the full $h_{t-1}$ (so nothing can be *reset*), and $z_t$ — the GRU's
# update gate — has become the gated candidate. It is a single-gate recurrent cell, not a GRU.
# *Demonstration:* give the article's cell the GRU's own weights in the most faithful mapping
# (its $r$ gets the GRU's update-gate weights, its candidate the GRU's candidate weights). When
# the GRU's reset gate is open ($r \approx 1$) the two agree; when the GRU resets ($r \approx 0$), they do not.

# %%
# NBVAL_CHECK_OUTPUT
# errata: a-gru
def article_gru(x, h, W_r, b_r, W_z, W_x, b_z):
    """Article A's 'GRU', transcribed: one gate r, candidate z, h_t = (1 − r) h + z."""
    r = torch.sigmoid(torch.cat([h, x], dim=1) @ W_r.T + b_r)
    z = r * torch.tanh(h @ W_z.T + x @ W_x.T + b_z)
    return (1 - r) * h + z


def compare_with_gru(reset_bias):
    torch.manual_seed(0)
    gru = torch.nn.GRUCell(5, 7).double()
    with torch.no_grad():
        gru.bias_ih[:7] = reset_bias  # push the GRU's reset gate open (+) or shut (−)
    H = 7
    W_ir, W_iz, W_in = gru.weight_ih.split(H)
    W_hr, W_hz, W_hn = gru.weight_hh.split(H)
    b_r, b_z, b_n = (gru.bias_ih + gru.bias_hh).split(H)
    # the article's r plays the role of (1 − update gate): h_t = (1 − r) h + r ⊙ candidate
    W_r = -torch.cat([W_hz, W_iz], dim=1)
    out_article = article_gru(x, h, W_r, -b_z, W_hn, W_in, b_n)
    return (out_article - gru(x, h)).abs().max().item()


print("reset gate open (GRU bias +20): article's cell matches the GRU to 1e-6:", compare_with_gru(20.0) < 1e-6)
print("reset gate shut (GRU bias −20): article's cell differs from the GRU by more than 0.1:",
      compare_with_gru(-20.0) > 0.1)

# %% [markdown]
# *Correct version:* the GRU equations of §2, checked against `torch.nn.GRUCell` above.
#
# <a id="errata-a-4-3-loss"></a>**Article A §4.3 — the loss.** A calls the language model's loss a cross-entropy and writes
# it as $-\frac1N\sum_{i=1}^N\sum_{t=1}^T \log P(x_t \mid x_{t-1},\dots,x_1)$ (without the
# sequence index $i$ on $x$). That is a valid objective — the mean *per-sequence* negative
# log-likelihood — but it is not the cross-entropy that `F.cross_entropy` and every LM paper
# report, which averages over all $N\,T$ *tokens*. *Why it matters:* the per-sequence sum is $T$
# times larger, so its gradient, and with it the right learning rate, changes with the window
# length; and only the per-token mean can be compared across models or turned into a perplexity
# (A itself never mentions perplexity; this is where mixing the two goes wrong in practice).
# *Check,* with this chapter's GRU on the same 4,096 validation characters cut into 128 windows
# of $T = 32$ or 32 windows of $T = 128$: the gradient of the per-sequence loss grows with $T$,
# that of the per-token mean does not.

# %%
# NBVAL_CHECK_OUTPUT
# errata: a-lm-loss
def loss_gradient_norms(T, n_chars=4096):
    """Gradient norms of the article's per-sequence loss and of torch's per-token cross-entropy,
    for the chapter's GRU on the first n_chars validation characters cut into windows of length T."""
    N = n_chars // T
    x_chunk, y_chunk = val_ids[:-1].unfold(0, T, T)[:N], val_ids[1:].unfold(0, T, T)[:N]  # (N, T)
    norms = {}
    for name in ("per-sequence", "per-token"):
        models["gru"].zero_grad()
        logp = torch.log_softmax(models["gru"](x_chunk)[0], -1).gather(-1, y_chunk[..., None])[..., 0]  # (N, T)
        loss = -logp.sum(1).mean() if name == "per-sequence" else -logp.mean()  # article's loss / cross-entropy
        loss.backward()
        norms[name] = grad_norm(models["gru"])  # §4.3's helper
    models["gru"].zero_grad()
    return norms, loss.item()


(g32, _), (g128, per_token) = loss_gradient_norms(32), loss_gradient_norms(128)
print("article's loss: gradient norm at T = 128 more than 3× that at T = 32:",
      g128["per-sequence"] > 3 * g32["per-sequence"])
print("per-token cross-entropy: the two gradient norms within a factor 1.5:",
      max(g128["per-token"], g32["per-token"]) < 1.5 * min(g128["per-token"], g32["per-token"]))
print("exp(per-sequence loss) at T = 128 exceeds 1e30, exp(per-token loss) is a sensible perplexity < 10:",
      math.exp(128 * per_token) > 1e30 and math.exp(per_token) < 10)

# %%
print({T: {k: round(v, 3) for k, v in g.items()} for T, g in [(32, g32), (128, g128)]})

# %% [markdown]
# **Article A §2.2 — "the GRU is a more efficient variant of the LSTM".** This is a fair
# summary if read as "fewer parameters per step": with the same sizes a GRU has three weight
# blocks to the LSTM's four. It is not a variant in the sense of being derived from it (Cho et
# al. introduced it independently for machine translation), and neither cell is uniformly
# better: Chung et al. (2014) and Jozefowicz et al. (2015) found the ranking task-dependent.

# %%
# NBVAL_CHECK_OUTPUT
n_lstm = sum(p.numel() for p in LSTMCell(64, 128).parameters())
n_gru = sum(p.numel() for p in GRUCell(64, 128).parameters())
print(f"recurrent parameters at D = 64, H = 128: LSTM {n_lstm:,}, GRU {n_gru:,}; GRU/LSTM = {n_gru / n_lstm:.2f}")

# %% [markdown]
# ## 7 · Exercises
#
# Each checked exercise has a solution cell (folded away in the HTML book) and a check cell. In a
# student copy (`python3 tools/course.py student`) the solution is replaced by `raise
# NotImplementedError()`: write your own, run it, then run the check, which names the first case
# that fails and, when your answer is a typical mistake, which one.

# %% [markdown]
# **Exercise 1 — one RNN step (easy, ≈ 5 min).** Given `x` (B, D), `h` (B, H), `W_ih` (H, D), `W_hh`
# (H, H) and a bias `b` (H,), return $h_t = \tanh(x_t W_{ih}^\top + h_{t-1} W_{hh}^\top + b)$.

# %% nbgrader={"grade": false, "grade_id": "rnn_step_solution", "locked": false, "schema_version": 3, "solution": true, "task": false} tags=["hide-input"]
from cgen_lessons.exercises import check


def my_rnn_step(x, h, W_ih, W_hh, b):
    ### BEGIN SOLUTION
    return torch.tanh(x @ W_ih.T + h @ W_hh.T + b)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "rnn_step_check", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# NBVAL_CHECK_OUTPUT
check("rnn_step", my_rnn_step)

# %% [markdown]
# **Exercise 2 — one LSTM step (medium, ≈ 15 min).** Given `x` (B, D), `h` and `c` (B, H), stacked
# weights `W_ih` (4H, D), `W_hh` (4H, H) and a combined bias `b` (4H,), return `(h_t, c_t)` with the
# gates in `torch.nn.LSTM`'s order (i, f, g, o).

# %% nbgrader={"grade": false, "grade_id": "lstm_step_solution", "locked": false, "schema_version": 3, "solution": true, "task": false} tags=["hide-input"]
def my_lstm_step(x, h, c, W_ih, W_hh, b):
    ### BEGIN SOLUTION
    i, f, g, o = (x @ W_ih.T + h @ W_hh.T + b).chunk(4, dim=-1)
    c_new = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    h_new = torch.sigmoid(o) * torch.tanh(c_new)  # the NEW cell state
    return h_new, c_new
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "lstm_step_check", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# NBVAL_CHECK_OUTPUT
check("lstm_step", my_lstm_step)

# %% [markdown]
# **Exercise 3 — gradient clipping (medium, ≈ 10 min).** Given a list of gradient tensors and
# `max_norm`, return the list clipped by their global norm, as `torch.nn.utils.clip_grad_norm_`
# does.

# %% nbgrader={"grade": false, "grade_id": "clip_grad_norm_solution", "locked": false, "schema_version": 3, "solution": true, "task": false} tags=["hide-input"]
def my_clip(grads, max_norm):
    ### BEGIN SOLUTION
    total = torch.sqrt(sum((g.double() ** 2).sum() for g in grads)).item()  # ONE norm for all tensors
    scale = min(1.0, max_norm / (total + 1e-6))  # never scale up
    return [g * scale for g in grads]
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "clip_grad_norm_check", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# NBVAL_CHECK_OUTPUT
check("clip_grad_norm", my_clip)

# %% [markdown]
# **Exercise 4 (open).** Train the LSTM with truncated BPTT on contiguous chunks (carry the
# state between batches with `forward_with_state` and `detach_state`, inside a `step_fn` for
# `fit`) and compare its test perplexity with the random-window training above at the same
# number of steps.

# %% [markdown]
# ## 8 · Summary
#
# - A language model predicts the next token; training minimises the per-token cross-entropy
#   with teacher forcing; perplexity = exp of its held-out value.
# - RNN, LSTM and GRU, written from their equations, equal PyTorch's cells to float precision.
# - In 400 CPU steps the three recurrent LMs learn a lot of English spelling but stay behind the
#   9-gram; six minutes of training each (benchmark) bring the LSTM to 1.670 and the GRU to
#   1.720 nats/char on the test plays, still behind the 9-gram's 1.548.
# - On a small training text a GRU overfits within a few hundred steps; dropout narrows the
#   train–validation gap by more than a third and gives a better model than early stopping alone.
# - The RNN's gradient through time vanishes within tens of steps; the gated cells keep it
#   much longer. Clipping bounds exploding gradients; truncated BPTT bounds the backward reach.

# %%
print(f"chapter run time: {time.perf_counter() - chapter_start:.0f} s")

# %% [markdown]
# **References**
#
# - Bahdanau, D., Cho, K., Bengio, Y. (2015). Neural machine translation by jointly learning to align and translate. *ICLR*.
# - Bengio, Y., Simard, P., Frasconi, P. (1994). Learning long-term dependencies with gradient descent is difficult. *IEEE Trans. Neural Networks* 5(2).
# - Cho, K. et al. (2014). Learning phrase representations using RNN encoder–decoder for statistical machine translation. *EMNLP*.
# - Chung, J., Gulcehre, C., Cho, K., Bengio, Y. (2014). Empirical evaluation of gated recurrent neural networks on sequence modeling. *NeurIPS Deep Learning Workshop*.
# - Elman, J. L. (1990). Finding structure in time. *Cognitive Science* 14(2).
# - Gers, F. A., Schmidhuber, J., Cummins, F. (2000). Learning to forget: continual prediction with LSTM. *Neural Computation* 12(10).
# - Graves, A. (2013). Generating sequences with recurrent neural networks. arXiv:1308.0850.
# - Gu, A., Dao, T. (2023). Mamba: linear-time sequence modeling with selective state spaces. arXiv:2312.00752.
# - Hochreiter, S. (1991). Untersuchungen zu dynamischen neuronalen Netzen. Diploma thesis, TU München.
# - Hochreiter, S., Schmidhuber, J. (1997). Long short-term memory. *Neural Computation* 9(8).
# - Jozefowicz, R., Vinyals, O., Schuster, M., Shazeer, N., Wu, Y. (2016). Exploring the limits of language modeling. arXiv:1602.02410.
# - Jozefowicz, R., Zaremba, W., Sutskever, I. (2015). An empirical exploration of recurrent network architectures. *ICML*.
# - Karpathy, A. (2015). The unreasonable effectiveness of recurrent neural networks. Blog post.
# - Mikolov, T., Karafiát, M., Burget, L., Černocký, J., Khudanpur, S. (2010). Recurrent neural network based language model. *Interspeech*.
# - Pascanu, R., Mikolov, T., Bengio, Y. (2013). On the difficulty of training recurrent neural networks. *ICML*.
# - Peng, B. et al. (2023). RWKV: reinventing RNNs for the Transformer era. *Findings of EMNLP*.
# - Srivastava, N., Hinton, G., Krizhevsky, A., Sutskever, I., Salakhutdinov, R. (2014). Dropout: a simple way to prevent neural networks from overfitting. *JMLR* 15.
# - Sutskever, I., Martens, J., Hinton, G. (2011). Generating text with recurrent neural networks. *ICML*.
# - Sutskever, I., Vinyals, O., Le, Q. V. (2014). Sequence to sequence learning with neural networks. *NeurIPS*.
# - Zaremba, W., Sutskever, I., Vinyals, O. (2014). Recurrent neural network regularization. arXiv:1409.2329.
