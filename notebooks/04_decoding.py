# %% [markdown]
# # 04 · Decoding: from a distribution to text
#
# *Mirrors article D §3.3, which names greedy search, beam search and top-k/top-p sampling but does not explain them.*
#
# A language model gives a distribution over the next token. Turning that into text is a
# separate decision, and it matters as much as the model: the same network writes dull loops,
# fluent prose or gibberish depending on how we pick tokens. This chapter implements the
# standard strategies in `cgen_lessons.decoding`, tests their defining properties, measures the
# quality–diversity trade-off on the trained models of chapters 02 and 03, and makes generation
# faster with a KV cache.

# %%
import time

import matplotlib.pyplot as plt
import torch

from cgen_lessons import results, viz
from cgen_lessons.utils import max_error, seed_everything, show_source, use_threads

use_threads(2)
chapter_start = time.perf_counter()
seed_everything(0);

# %% [markdown]
# ## 1 · Background: search or sample?
#
# Two goals pull in different directions. **Search** looks for the most probable continuation,
# $\arg\max_x p(x \mid \text{prompt})$: greedy decoding takes the most probable token at each step, beam
# search keeps the B best partial sequences. It suits tasks with one right answer (translation,
# the date normaliser of chapter 03). For open-ended text, the most probable sequences are
# notoriously repetitive and bland — Holtzman et al. (2020) call this *neural text
# degeneration*. **Sampling** draws $x_{t+1} \sim p(\cdot \mid x_{\le t})$ and so reproduces the variety of the
# training text, but the long tail of unlikely tokens, each individually rare, together gets
# chosen often and derails the text. Temperature, top-k and top-p reshape the distribution
# between these extremes.

# %% [markdown]
# ## 2 · The strategies, precisely
#
# Let $z \in \mathbb{R}^V$ be the next-token logits and $p = \operatorname{softmax}(z)$.
#
# - **Temperature** $\tau > 0$: $p_\tau = \operatorname{softmax}(z / \tau)$. $\tau \to 0$ concentrates all mass on $\arg\max z$
#   (greedy); $\tau = 1$ is the model; $\tau > 1$ flattens towards uniform. The entropy of $p_\tau$ increases
#   monotonically with $\tau$.
# - **Top-k** (Fan et al. 2018): keep the $k$ largest logits (all tokens tied with the $k$-th are
#   kept), renormalise.
# - **Top-p / nucleus** (Holtzman et al. 2020): sort by probability and keep the smallest prefix
#   whose mass reaches $p$ — the token that crosses $p$ included. Unlike top-k it adapts: few tokens
#   when the model is sure, many when it is not.
# - **Repetition penalty** $\theta$ (Keskar et al. 2019): for every token already generated,
#   $z \leftarrow z / \theta$ if $z > 0$, else $z \theta$, making repeats less likely for $\theta > 1$.
# - **Beam search** with width $B$: keep the $B$ sequences with the highest $\sum \log p$; rank finished
#   hypotheses by $\sum \log p \,/\, \text{length}^\alpha$ ($\alpha = 0$: raw sum, which favours short outputs).
#
# Numerical checks of the temperature claims:

# %%
# NBVAL_CHECK_OUTPUT
from cgen_lessons.decoding import apply_temperature

g = torch.Generator().manual_seed(0)
z = torch.randn(100, 50, generator=g) * 3
taus = [0.05, 0.25, 0.5, 1.0, 2.0, 5.0]
entropy = [torch.distributions.Categorical(logits=apply_temperature(z, t)).entropy() for t in taus]
print("entropy increases with τ for every one of 100 random rows:",
      all(bool((a < b).all()) for a, b in zip(entropy, entropy[1:])))
argmax_mass = [torch.softmax(apply_temperature(z, t), -1).max(1).values.mean().item() for t in taus]
print("the mass on the argmax grows as τ falls:", all(a > b for a, b in zip(argmax_mass, argmax_mass[1:])))
print("at τ = 0.05 the argmax holds over 95 % of the mass on average:", argmax_mass[0] > 0.95)

# %% [markdown]
# Top-p, inline in five lines, against the package (which also handles `min_tokens_to_keep`):

# %%
# NBVAL_CHECK_OUTPUT
from cgen_lessons.decoding import top_k_filter, top_p_filter

logits = torch.randn(8, 30, generator=g) * 2
p = 0.9
probs, order = torch.softmax(logits, -1).sort(dim=-1, descending=True)
mass_before = probs.cumsum(-1) - probs  # mass of the tokens ranked above each token
remove = torch.zeros_like(mass_before, dtype=torch.bool).scatter(1, order, mass_before >= p)
inline = logits.masked_fill(remove, float("-inf"))
package = top_p_filter(logits, p)
kept_mass = (torch.softmax(logits, -1) * torch.isfinite(inline)).sum(-1)
print("inline top-p keeps the same tokens as cgen_lessons.decoding.top_p_filter:",
      torch.equal(torch.isfinite(inline), torch.isfinite(package)),
      "| with the same logits:", max_error(inline[torch.isfinite(inline)], package[torch.isfinite(package)], 1e-12))
print("kept mass >= p in every row:", bool((kept_mass >= p).all()))

# %%
show_source(top_p_filter)  # answer to exercise top_p (student copies hide this output)

# %% [markdown]
# The unit tests check the defining properties with `hypothesis` on thousands of random logit
# rows, ties included: top-k keeps at least $k$ tokens and exactly $k$ without ties; top-p keeps mass
# $\ge p$, and dropping its least probable kept token falls below p; no filter ever empties a row.
#
# What the filters do to one real distribution — the trained GPT's next-character distribution
# after a prompt (the models are trained in §3):

# %% [markdown]
# ## 3 · The models
#
# We decode from chapter 03's GPT and chapter 02's GRU, trained by their recipes
# (`cgen_lessons.recipes`) with the same settings and seeds. `benchmarks/char_lms.py` ran those
# recipes once and ships the weights, so `shipped_char_lm` loads them (with `weights_only=True`)
# instead of spending this chapter's time on training them again; without the files it trains them
# with the recipes, and the cell says which it did.

# %%
from cgen_lessons.classic import NGramLM
from cgen_lessons.recipes import NGRAM_SETTINGS, char_lm_splits, shipped_char_lm

tok, train_ids, val_ids, test_ids = char_lm_splits()
gpt, how_gpt = shipped_char_lm("gpt")
gru, how_gru = shipped_char_lm("gru")
judge = NGramLM(tok.vocab_size, **NGRAM_SETTINGS).fit(train_ids)  # chapter 01's n-gram, an independent judge
print(how_gpt)
print(how_gru)

# %%
from cgen_lessons.decoding import generate

prompt_text = "ROMEO:\nO, she doth teach the "
prompt = tok.encode(prompt_text)[None]
with torch.no_grad():
    next_logits = gpt(prompt)[0][:, -1]  # (1, V)
settings = {"model (τ = 1)": next_logits, "τ = 0.5": apply_temperature(next_logits, 0.5),
            "top-k, k = 5": top_k_filter(next_logits, 5), "top-p, p = 0.8": top_p_filter(next_logits, 0.8)}
fig, axes = plt.subplots(1, 4, figsize=(14, 2.8), sharey=True)
top = torch.softmax(next_logits, -1)[0].topk(15).indices
labels = [repr(tok.itos[i])[1:-1] or "·" for i in top.tolist()]
for ax, (name, z_) in zip(axes, settings.items()):
    pr = torch.softmax(z_, -1)[0]
    ax.bar(range(15), pr[top].numpy())
    ax.set_xticks(range(15), labels, fontsize=8)
    ax.set_title(f"{name}: {int(torch.isfinite(z_).sum())} tokens kept")
axes[0].set_ylabel(f"p(next | {prompt_text!r})")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## 4 · The same model, eleven ways
#
# Eight prompts from the validation text, 150 new characters each, for every strategy. Three
# measurements per strategy:
#
# - **quality**: the mean per-character NLL of the generated text under an *independent judge*,
#   chapter 01's n-gram, counted on the same training plays (lower = more like the corpus);
# - **diversity**: distinct-3, the share of distinct character trigrams among all trigrams of
#   the eight continuations (Li et al. 2016);
# - **repetition**: the share of 4-grams in a continuation that already occurred earlier in it.

# %%
from cgen_lessons.decoding import beam_search
from cgen_lessons.lm import token_logprobs
from cgen_lessons.metrics import distinct_n, repetition_rate

N_NEW, N_PROMPTS = 150, 8
starts = torch.randint(0, len(val_ids) - 40, (N_PROMPTS,), generator=torch.Generator().manual_seed(0))
prompts = torch.stack([val_ids[s: s + 24] for s in starts.tolist()])  # (8, 24)
strategies = {
    "greedy": dict(greedy=True),
    "beam, B = 4": "beam",
    "τ = 0.5": dict(temperature=0.5),
    "τ = 0.8": dict(temperature=0.8),
    "τ = 1.0 (pure sampling)": dict(temperature=1.0),
    "τ = 1.3": dict(temperature=1.3),
    "top-k, k = 5": dict(top_k=5),
    "top-k, k = 20": dict(top_k=20),
    "top-p, p = 0.8": dict(top_p=0.8),
    "top-p, p = 0.95": dict(top_p=0.95),
    "greedy + penalty θ = 1.3": dict(greedy=True, repetition_penalty=1.3),
}


def continuations(model, how, use_cache):
    if how == "beam":
        return [beam_search(model, prompts[i], beam_width=4, max_new_tokens=N_NEW)[0][0] for i in range(N_PROMPTS)]
    out = generate(model, prompts, N_NEW, generator=torch.Generator().manual_seed(0), use_cache=use_cache, **how)
    return list(out[:, prompts.shape[1]:])


def judge_nll(prompt_ids, new_ids):
    full = torch.cat([prompt_ids, new_ids])[None]  # (1, P + N)
    return -token_logprobs(judge, full)[0, len(prompt_ids) - 1:].mean().item()  # mean over the new part


def measure(model, use_cache):
    table = {}
    for name, how in strategies.items():
        conts = continuations(model, how, use_cache)
        seqs = [c.tolist() for c in conts]
        table[name] = {
            "judge_nll": sum(judge_nll(prompts[i], conts[i]) for i in range(N_PROMPTS)) / N_PROMPTS,
            "distinct3": distinct_n(seqs, 3),
            "repetition": sum(repetition_rate(s, 4) for s in seqs) / N_PROMPTS,
            "example": tok.decode(conts[0]),
        }
    return table


t0 = time.perf_counter()
tables = {"GRU (chapter 02)": measure(gru, use_cache=True)}  # the recurrent state is the GRU's cache
print(f"GRU measured in {time.perf_counter() - t0:.0f} s")

# %% [markdown]
# The GPT reads at most 64 characters and 24 + 150 exceeds that, so its generation slides a
# 64-character window over the text (`use_cache=False`: the cache of §6 works within one window).

# %%
t0 = time.perf_counter()
tables["GPT (chapter 03)"] = measure(gpt, use_cache=False)
print(f"GPT measured in {time.perf_counter() - t0:.0f} s")
reference_text = [val_ids[s + 24: s + 24 + N_NEW] for s in starts.tolist()]
human = {"judge_nll": sum(judge_nll(prompts[i], reference_text[i]) for i in range(N_PROMPTS)) / N_PROMPTS,
         "distinct3": distinct_n([r.tolist() for r in reference_text], 3),
         "repetition": sum(repetition_rate(r.tolist(), 4) for r in reference_text) / N_PROMPTS}

# %%
for model_name, table in tables.items():
    print(f"\n{model_name}: {'strategy':<26}{'judge NLL':>10}{'distinct-3':>12}{'repeated 4-grams':>18}")
    for name, row in table.items():
        print(f"{'':<{len(model_name) + 2}}{name:<26}"
              f"{row['judge_nll']:>10.2f}{row['distinct3']:>12.2f}{row['repetition']:>18.2f}")
print(f"\nthe real continuations:{'':>20}"
      f"{human['judge_nll']:>10.2f}{human['distinct3']:>12.2f}{human['repetition']:>18.2f}")

# %%
fig, axes = plt.subplots(1, 2, figsize=(12, 4), sharey=True)
for ax, (model_name, table) in zip(axes, tables.items()):
    for name, row in table.items():
        ax.scatter(row["distinct3"], row["judge_nll"], s=25)
        ax.annotate(name, (row["distinct3"], row["judge_nll"]), fontsize=7, xytext=(3, 3), textcoords="offset points")
    ax.scatter(human["distinct3"], human["judge_nll"], marker="*", s=150, c="k")
    ax.annotate("real text", (human["distinct3"], human["judge_nll"]), fontsize=8, xytext=(4, -10),
                textcoords="offset points")
    ax.set_xlabel("diversity: distinct-3")
    ax.set_title(model_name)
axes[0].set_ylabel("judge NLL (nats/char), lower = more corpus-like")
plt.tight_layout()
plt.show()

# %% [markdown]
# Search strategies (greedy, beam) produce text the judge finds likely — for the GRU likelier
# than the real continuations (1.12–1.15 against 1.41 nats/char), for the GPT close to them
# (1.50–1.56) — but it is text no human wrote: distinct-3 collapses to 0.04–0.05, and about four
# fifths of each continuation's 4-grams repeat earlier ones. Pure sampling ($\tau = 1$) matches
# the diversity of real text (0.60–0.66 against 0.61) but wanders into sequences the judge finds
# unlikely (2.31–2.42), and $\tau = 1.3$ more so. Truncation (top-k, top-p) and moderate
# temperature sit in between, closest to the star that marks the real continuations. Examples
# make the numbers concrete:

# %%
for name in ["greedy", "beam, B = 4", "τ = 1.3", "top-p, p = 0.8", "greedy + penalty θ = 1.3"]:
    print(f"--- GPT, {name}:\n{tok.decode(prompts[0])}|{tables['GPT (chapter 03)'][name]['example']}\n")

# %%
# NBVAL_CHECK_OUTPUT
for model_name, table in tables.items():
    print(f"{model_name}: greedy repeats more than pure sampling:",
          table["greedy"]["repetition"] > table["τ = 1.0 (pure sampling)"]["repetition"])
    print(f"{model_name}: greedy is less diverse than pure sampling:",
          table["greedy"]["distinct3"] < table["τ = 1.0 (pure sampling)"]["distinct3"])
    print(f"{model_name}: the repetition penalty reduces greedy's repetition:",
          table["greedy + penalty θ = 1.3"]["repetition"] < table["greedy"]["repetition"])

# %% [markdown]
# ## 5 · An explorer
#
# Move the sliders to see how temperature, top-k and top-p reshape the GPT's next-character
# distribution after a prompt, and what a sampled continuation looks like. (In a static copy of
# this notebook the widget does not run; the figure of §3 shows the same four views.)

# %%
import ipywidgets as widgets
from IPython.display import display


def explore(prompt_text="ROMEO:\nO, she doth teach the ", temperature=1.0, top_k=0, top_p=1.0, seed=0):
    ids = tok.encode(prompt_text)[None][:, -gpt.block_size:] if prompt_text else tok.encode(" ")[None]
    with torch.no_grad():
        z_ = apply_temperature(gpt(ids)[0][:, -1], temperature)
    if top_k:
        z_ = top_k_filter(z_, top_k)
    if top_p < 1.0:
        z_ = top_p_filter(z_, top_p)
    pr = torch.softmax(z_, -1)[0]
    shown = pr.topk(20).indices
    fig, ax = plt.subplots(figsize=(8, 2.5))
    ax.bar(range(20), pr[shown].numpy())
    ax.set_xticks(range(20), [repr(tok.itos[i])[1:-1] or "·" for i in shown.tolist()])
    ax.set_title(f"{int(torch.isfinite(z_).sum())} of {tok.vocab_size} characters kept")
    plt.show()
    out = generate(gpt, ids, 120, temperature=temperature, top_k=top_k or None, top_p=top_p if top_p < 1 else None,
                   generator=torch.Generator().manual_seed(seed))
    print(tok.decode(out[0]))


explorer = viz.controls(
    explore,
    prompt_text=widgets.Text(value="ROMEO:\nO, she doth teach the ", description="prompt"),
    temperature=widgets.FloatSlider(value=1.0, min=0.1, max=2.0, step=0.05, description="τ"),
    top_k=widgets.IntSlider(value=0, min=0, max=50, description="top-k (0 = off)"),
    top_p=widgets.FloatSlider(value=1.0, min=0.05, max=1.0, step=0.05, description="top-p"),
    seed=widgets.IntSlider(value=0, min=0, max=20, description="seed"),
)
display(explorer)

# %% [markdown]
# ## 6 · The KV cache
#
# Generating token t + 1 with the plain forward pass recomputes the keys and values of all t
# earlier tokens in every layer: O(t) work per layer for attention inputs that have not changed.
# A **KV cache** keeps each layer's keys and values; each step then embeds only the new token,
# computes its query, key and value, appends the key and value to the cache and attends over it
# (`GPT.forward_cached`). For a recurrent model the hidden state plays the same role
# (`forward_with_state`). The tokens must be identical with and without the cache:

# %%
# NBVAL_CHECK_OUTPUT
p_short = prompts[:, :16]
same_greedy = torch.equal(generate(gpt, p_short, 40, greedy=True),
                          generate(gpt, p_short, 40, greedy=True, use_cache=True))
same_sampled = torch.equal(
    generate(gpt, p_short, 40, top_p=0.9, generator=torch.Generator().manual_seed(3)),
    generate(gpt, p_short, 40, top_p=0.9, generator=torch.Generator().manual_seed(3), use_cache=True))
print("GPT: cached and uncached generation give identical tokens (greedy, top-p):", same_greedy and same_sampled)
print("GRU: state-cached and recomputed generation give identical tokens:",
      torch.equal(generate(gru, p_short, 40, greedy=True), generate(gru, p_short, 40, greedy=True, use_cache=True)))

# %%
show_source(type(gpt).forward_cached)

# %% [markdown]
# How much faster? `benchmarks/kv_cache.py` times greedy generation of 64 and 256 new tokens at
# batch 1 and 8 with the chapter's GPT width and depth (and a longer context, so that 256 new
# tokens fit). Its saved results:

# %%
kv = results.load("kv_cache")
print(f"context {kv['block_size']} tokens, {kv['threads']} threads")
print(f"{'batch':>5}{'new tokens':>12}{'uncached tok/s':>16}{'cached tok/s':>14}{'speed-up':>10}{'identical':>11}")
for r in kv["rows"]:
    print(f"{r['batch']:>5}{r['new_tokens']:>12}"
          f"{r['uncached_tokens_per_s']:>16,.0f}{r['cached_tokens_per_s']:>14,.0f}"
          f"{r['speedup']:>9.1f}×{str(r['identical_tokens']):>11}")
print(f"({kv['threads']} CPU threads, torch {kv['torch']})")

# %% [markdown]
# The gain grows with the length generated, as the analysis predicts: the uncached cost per
# token grows with t, the cached one much more slowly. With batch 8 both paths use the CPU more
# efficiently, and the cache's advantage is larger still.

# %% [markdown]
# ## 7 · Applications
#
# Every deployed text generator exposes these knobs. Machine translation and speech recognition
# use beam search (widths 4–10 with a length penalty; Wu et al. 2016), because there the most
# probable output is the goal. Chat assistants and story generation sample, typically with a
# temperature below 1 and top-p around 0.9–0.95, plus repetition or frequency penalties. Code
# completion uses low temperatures or greedy decoding for single suggestions and higher
# temperatures when many candidates are drawn and filtered by tests (Chen et al. 2021). The KV
# cache is universal in Transformer inference; its memory, not the compute, is what limits
# long contexts and large batches.

# %% [markdown]
# ## 8 · Corrections to the source articles
#
# <a id="errata-d-3-3-beam"></a>**Article D §3.3 — "beam search, top-k and top-p improve quality and diversity".** D lists
# them together as ways to raise both. *Why it is wrong:* beam search is a *search* method: it
# finds sequences of higher probability than greedy decoding, and for open-ended text that
# means *less* diversity and *more* repetition, not more (Holtzman et al. 2020; Stahlberg &
# Byrne 2019). Top-k and top-p are *sampling* methods that trade some diversity of pure
# sampling for quality. The measurements of §4 show it:

# %%
# NBVAL_CHECK_OUTPUT
# errata: d-beam-diversity
for model_name, table in tables.items():
    beam, nucleus = table["beam, B = 4"], table["top-p, p = 0.8"]
    print(f"{model_name}: beam search less diverse than top-p sampling:", beam["distinct3"] < nucleus["distinct3"])
    print(f"{model_name}: beam search repeats more than top-p sampling:", beam["repetition"] > nucleus["repetition"])

# %% [markdown]
# *Correct version:* choose search for tasks with one right output and sampling with truncation
# for open-ended generation; the two are not interchangeable knobs for "quality and diversity".
#
# <a id="errata-d-3-3-sequential"></a>**Article D §3.3 — an autoregressive Transformer's "training and generation are sequential,
# hence slow".** *Why it is half wrong:* training is not sequential for a Transformer. With the
# causal mask, teacher-forced training computes the next-token distribution at every position
# in one forward pass (chapter 01 §5 counts the operations: the same number at 4× the length;
# chapter 03 §4 checks that one pass equals $T$ prefix calls). Generation is inherently
# sequential, but most of its cost is avoidable recomputation: the KV cache of §6 removes it
# without changing a single token.

# %% [markdown]
# ## 9 · Exercises
#
# Each checked exercise has a solution cell (folded away in the HTML book) and a check cell. In a
# student copy (`python3 tools/course.py student`) the solution is replaced by `raise
# NotImplementedError()`: write your own, run it, then run the check, which names the first case
# that fails and, when your answer is a typical mistake, which one.

# %% [markdown]
# **Exercise 1 — top-k (easy, ≈ 5 min).** Given logits (B, V) and k, return the logits with every
# token below the k-th largest of its row set to −∞.

# %% nbgrader={"grade": false, "grade_id": "top_k_solution", "locked": false, "schema_version": 3, "solution": true, "task": false} tags=["hide-input"]
from cgen_lessons.exercises import check


def my_top_k(logits, k):
    ### BEGIN SOLUTION
    kth = torch.topk(logits, k, dim=-1).values[:, -1:]  # (B, 1)
    return logits.masked_fill(logits < kth, float("-inf"))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "top_k_check", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# NBVAL_CHECK_OUTPUT
check("top_k", my_top_k)

# %% [markdown]
# **Exercise 2 — top-p (medium, ≈ 15 min).** Given logits (B, V) and p, return the logits with every
# token outside the nucleus set to −∞ (§3).

# %% nbgrader={"grade": false, "grade_id": "top_p_solution", "locked": false, "schema_version": 3, "solution": true, "task": false} tags=["hide-input"]
def my_top_p(logits, p):
    ### BEGIN SOLUTION
    probs, order = torch.softmax(logits.double(), -1).sort(dim=-1, descending=True)  # (B, V)
    mass_before = probs.cumsum(-1) - probs  # probability of the tokens ranked above
    remove_sorted = mass_before >= p  # p was reached without this token
    remove_sorted[:, 0] = False  # the most probable token always stays
    remove = torch.zeros_like(remove_sorted).scatter(1, order, remove_sorted)  # back to token order
    return logits.masked_fill(remove, float("-inf"))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "top_p_check", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# NBVAL_CHECK_OUTPUT
check("top_p", my_top_p)

# %% [markdown]
# **Exercise 3 — the repetition penalty (medium, ≈ 15 min).** Given logits (B, V), the ids generated
# so far (B, T) and θ, lower the logits of every token that occurs in them: divide by θ if positive,
# multiply by θ if negative (Keskar et al. 2019).

# %% nbgrader={"grade": false, "grade_id": "repetition_penalty_solution", "locked": false, "schema_version": 3, "solution": true, "task": false} tags=["hide-input"]
def my_repetition_penalty(logits, previous_ids, theta):
    ### BEGIN SOLUTION
    seen = torch.zeros_like(logits, dtype=torch.bool).scatter(1, previous_ids, True)  # (B, V)
    penalised = torch.where(logits > 0, logits / theta, logits * theta)
    return torch.where(seen, penalised, logits)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "repetition_penalty_check", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# NBVAL_CHECK_OUTPUT
check("repetition_penalty", my_repetition_penalty)

# %% [markdown]
# **Exercise 4 (open).** Typical sampling (Meister et al. 2023) keeps the tokens whose surprisal
# −log p is closest to the distribution's entropy. Implement it as a filter with the same
# signature as `top_p_filter`, add it to the table of §4, and check with `hypothesis` that it
# never empties a row.

# %% [markdown]
# ## 10 · Summary
#
# - Decoding is a choice separate from the model: search (greedy, beam) for one right answer,
#   sampling with temperature / top-k / top-p for open-ended text.
# - The filters' defining properties are tested (with `hypothesis`); greedy = beam search of
#   width 1; cached = uncached generation, token for token.
# - Measured on two trained LMs: search is repetitive and low-diversity, pure sampling diverse
#   but less corpus-like, truncated sampling in between; a repetition penalty reduces loops.

# %%
print(f"chapter run time: {time.perf_counter() - chapter_start:.0f} s")

# %% [markdown]
# **References**
#
# - Chen, M. et al. (2021). Evaluating large language models trained on code. arXiv:2107.03374.
# - Fan, A., Lewis, M., Dauphin, Y. (2018). Hierarchical neural story generation. *ACL*.
# - Holtzman, A., Buys, J., Du, L., Forbes, M., Choi, Y. (2020). The curious case of neural text degeneration. *ICLR*.
# - Keskar, N. S., McCann, B., Varshney, L. R., Xiong, C., Socher, R. (2019). CTRL: a conditional Transformer language model for controllable generation. arXiv:1909.05858.
# - Li, J., Galley, M., Brockett, C., Gao, J., Dolan, B. (2016). A diversity-promoting objective function for neural conversation models. *NAACL*.
# - Meister, C., Pimentel, T., Wiher, G., Cotterell, R. (2023). Locally typical sampling. *TACL* 11.
# - Stahlberg, F., Byrne, B. (2019). On NMT search errors and model errors: cat got your tongue? *EMNLP*.
# - Wu, Y. et al. (2016). Google's neural machine translation system: bridging the gap between human and machine translation. arXiv:1609.08144.
