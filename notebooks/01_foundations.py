# %% [markdown]
# # 01 · Foundations and classic generative models
#
# *Mirrors article A §1–2, article B §2.3 and article D §2.*
#
# This chapter builds the probability toolkit every later chapter uses — likelihood, entropy,
# cross-entropy, KL divergence, perplexity — and checks each identity numerically. It then sorts
# generative models into families (the articles garble this taxonomy) and implements the
# classic generative models that came before deep learning: an n-gram language model, a
# Gaussian mixture fitted by EM, a hidden Markov model and naive Bayes. Each is trained on real
# data, sampled, and compared against a trusted reference.

# %%
import math
import time

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F

from cgen_lessons import data, viz
from cgen_lessons.utils import max_error, seed_everything, show_source, timer, use_threads

use_threads(2)
chapter_start = time.perf_counter()
viz.use_cjk_font()
seed_everything(0);

# %% [markdown]
# ## 1 · Background: from templates to learned distributions
#
# Machines generated text long before deep learning. **Rules and templates** came first:
# Weizenbaum's ELIZA (1966) answered by pattern-matching the user's sentence into canned
# replies, and report generators filled slots in fixed sentences. Such systems are precise but
# brittle: every behaviour must be written by hand.
#
# **Statistical models** replaced hand-written rules with probabilities estimated from data.
# Shannon (1948) already generated English-looking text from letter and word n-gram statistics;
# hidden Markov models carried speech recognition from the 1970s (Baker 1975; Jelinek 1976)
# through the 2000s; Gaussian mixtures modelled acoustic features and images. These models
# are *generative*: they define a probability distribution $p(x)$ one can evaluate and sample.
#
# **Deep generative models** keep the probabilistic view but let neural networks parameterise
# the distribution: restricted Boltzmann machines and deep belief nets (Hinton et al. 2006),
# variational autoencoders (Kingma & Welling 2014), generative adversarial networks
# (Goodfellow et al. 2014), neural sequence-to-sequence models (Sutskever et al. 2014), the
# Transformer (Vaswani et al. 2017) and GPT-style language models (Radford et al. 2018, 2019),
# and diffusion models (Sohl-Dickstein et al. 2015; Ho et al. 2020). Chapters 02–07 take them
# in turn. What stays the same across all of them is the subject of this chapter: a model is a
# probability distribution, and learning means making the data probable.

# %% [markdown]
# ## 2 · The probability toolkit
#
# ### 2.1 Maximum likelihood
#
# A model $p_\theta$ assigns a probability (or density) to every possible data point. Given
# independent samples $x_1, \dots, x_N$, the **likelihood** is $\prod_n p_\theta(x_n)$ and **maximum likelihood
# estimation** (MLE) picks
#
# $$\hat\theta = \arg\max_\theta \sum_{n=1}^N \log p_\theta(x_n) = \arg\min_\theta \; -\frac1N \sum_{n=1}^N \log p_\theta(x_n).$$
#
# The right-hand side, the mean **negative log-likelihood** (NLL), is the training loss of
# every explicit-likelihood model in this course. For a coin with $p(\text{heads}) = \theta$ and $h$ heads in
# $N$ tosses, setting the derivative of $h \log\theta + (N - h) \log(1 - \theta)$ to zero gives $\hat\theta = h / N$.
# Gradient descent on the NLL must find the same value:

# %%
# NBVAL_CHECK_OUTPUT
tosses = torch.tensor([1, 0, 1, 1, 0, 1, 1, 1, 0, 1], dtype=torch.float64)  # 7 heads in 10
logit = torch.zeros((), dtype=torch.float64, requires_grad=True)  # θ = sigmoid(logit)
opt = torch.optim.SGD([logit], lr=0.5)
for _ in range(2000):
    opt.zero_grad()
    nll = F.binary_cross_entropy_with_logits(logit.expand(10), tosses)  # mean −log p(x_n)
    nll.backward()
    opt.step()
theta = torch.sigmoid(logit).item()
print(f"gradient descent on the NLL: θ = {theta:.4f}; closed form h/N = {tosses.mean().item():.4f}")
print("MLE by optimisation equals the counting estimate:", abs(theta - 0.7) < 1e-6)

# %% [markdown]
# ### 2.2 The mean squared error is a Gaussian negative log-likelihood
#
# Article B §2.3 introduces the mean squared error and the cross-entropy as two unrelated
# "measures of difference". They are both negative log-likelihoods. If the model says
# $y \sim \mathcal{N}(\hat y, \sigma^2)$ with a fixed $\sigma$, then
#
# $$-\log p(y \mid \hat y) = \frac{(y - \hat y)^2}{2\sigma^2} + \tfrac12 \log(2\pi\sigma^2),$$
#
# so the mean NLL is $\text{MSE} / (2\sigma^2)$ plus a constant: minimising one minimises the other, and the
# choice of MSE *is* the choice of a Gaussian likelihood with fixed variance.
# We check the formula against `torch.distributions.Normal` and `torch.nn.GaussianNLLLoss`:

# %%
# NBVAL_CHECK_OUTPUT
g = torch.Generator().manual_seed(0)
y, y_hat = torch.randn(1000, generator=g, dtype=torch.float64), torch.randn(1000, generator=g, dtype=torch.float64)
sigma = 0.7
nll_formula = ((y - y_hat) ** 2 / (2 * sigma**2) + 0.5 * math.log(2 * math.pi * sigma**2)).mean()
nll_torch = -torch.distributions.Normal(y_hat, sigma).log_prob(y).mean()
nll_module = torch.nn.GaussianNLLLoss(full=True)(y_hat, y, torch.full_like(y, sigma**2))
mse = F.mse_loss(y_hat, y)
print("formula vs torch.distributions.Normal:  ", max_error(nll_formula, nll_torch, 1e-12))
print("formula vs torch.nn.GaussianNLLLoss:     ", max_error(nll_formula, nll_module, 1e-12))
print("formula vs MSE / (2σ²) + ½ log(2πσ²):    ",
      max_error(nll_formula, mse / (2 * sigma**2) + 0.5 * math.log(2 * math.pi * sigma**2), 1e-12))

# %% [markdown]
# ### 2.3 The cross-entropy loss is a categorical negative log-likelihood
#
# For a classifier or a language model the output is a distribution over $V$ classes,
# $p(y = v \mid x) = \operatorname{softmax}(z)_v$. The NLL of the observed class $y$ is $-\log \operatorname{softmax}(z)_y$. Written
# with a one-hot vector this is $-\sum_v \mathbb{1}[v = y] \log \operatorname{softmax}(z)_v$ — the cross-entropy between the
# one-hot "true distribution" and the prediction. Note the indices: the sum runs over the
# **classes** of one example, and the loss of a data set is then the **mean over examples**.
# Article B §2.3 writes a single sum over $i = 1, \dots, n$ next to an MSE formula in which $n$ counts the
# samples, which blurs exactly this distinction.

# %%
# NBVAL_CHECK_OUTPUT
z = torch.randn(64, 10, generator=g, dtype=torch.float64)  # logits of 64 examples, 10 classes
labels = torch.randint(0, 10, (64,), generator=g)
by_hand = -(F.one_hot(labels, 10) * torch.log_softmax(z, dim=1)).sum(dim=1).mean()  # Σ over classes, mean over examples
print("by hand vs F.cross_entropy:         ", max_error(by_hand, F.cross_entropy(z, labels), 1e-12))
print("by hand vs Categorical.log_prob:    ",
      max_error(by_hand, -torch.distributions.Categorical(logits=z).log_prob(labels).mean(), 1e-12))
print("by hand vs F.nll_loss(log_softmax): ", max_error(by_hand, F.nll_loss(torch.log_softmax(z, 1), labels), 1e-12))
wrong_axis = -(F.one_hot(labels, 10) * torch.log_softmax(z, dim=0)).sum(dim=1).mean()  # softmax over examples: a bug
print("softmax over the wrong axis differs by more than 0.1 nats:", bool((wrong_axis - by_hand).abs() > 0.1))

# %% [markdown]
# ### 2.4 Entropy, cross-entropy and KL divergence
#
# For distributions $p$ and $q$ over the same finite set:
#
# - **entropy** $H(p) = -\sum_x p(x) \log p(x)$, the average surprise of samples from $p$;
# - **cross-entropy** $H(p, q) = -\sum_x p(x) \log q(x)$, the average surprise when samples from $p$
#   are coded with $q$;
# - **KL divergence** $\mathrm{KL}(p \,\|\, q) = \sum_x p(x) \log \frac{p(x)}{q(x)} = H(p, q) - H(p)$.
#
# $\mathrm{KL}(p \,\|\, q) \ge 0$ with equality only when $p = q$ (Gibbs' inequality, from Jensen:
# $-\mathrm{KL} = \sum_x p \log(q/p) \le \log \sum_x p \cdot q/p = \log 1 = 0$). Hence $H(p, q) \ge H(p)$, and MLE — minimising
# the cross-entropy from the data distribution to the model — is the same as minimising
# $\mathrm{KL}(p_{\text{data}} \,\|\, p_\theta)$, since $H(p_{\text{data}})$ does not depend on $\theta$. KL is **not symmetric**, which
# matters in chapters 05 and 06: the two directions punish different mistakes.

# %%
# NBVAL_CHECK_OUTPUT
from torch.distributions import Categorical, kl_divergence

P = torch.softmax(3 * torch.randn(2000, 6, generator=g, dtype=torch.float64), dim=1)
Q = torch.softmax(3 * torch.randn(2000, 6, generator=g, dtype=torch.float64), dim=1)
H = lambda p: -(p * p.log()).sum(1)
H_cross = lambda p, q: -(p * q.log()).sum(1)
KL = lambda p, q: (p * (p / q).log()).sum(1)
print("KL vs torch.distributions.kl_divergence on 2,000 random pairs:",
      max_error(KL(P, Q), kl_divergence(Categorical(probs=P), Categorical(probs=Q)), 1e-12))
print("H(p, q) vs H(p) + KL(p ‖ q) on every pair:                     ",
      max_error(H_cross(P, Q), H(P) + KL(P, Q), 1e-12))
print("KL(p ‖ q) >= 0 on every pair:", bool((KL(P, Q) >= 0).all()))
print("KL is asymmetric: KL(p ‖ q) != KL(q ‖ p) on", int(((KL(P, Q) - KL(Q, P)).abs() > 1e-6).sum()), "of 2000 pairs")

# %% [markdown]
# A picture of the asymmetry: fit a single Gaussian $q$ to a two-peaked $p$ by minimising each
# direction of KL over a grid of means and standard deviations. $\mathrm{KL}(p \,\|\, q)$ — the direction
# maximum likelihood minimises — makes $q$ cover both peaks ("mass-covering"); $\mathrm{KL}(q \,\|\, p)$ lets $q$
# sit on one peak ("mode-seeking").

# %%
xs = torch.linspace(-6, 6, 1201, dtype=torch.float64)
dx = xs[1] - xs[0]
normal_pdf = lambda m, s: torch.exp(-0.5 * ((xs - m) / s) ** 2) / (s * math.sqrt(2 * math.pi))
p_bimodal = 0.5 * normal_pdf(-2.0, 0.6) + 0.5 * normal_pdf(2.0, 0.6)
best = {}
for name in ["KL(p‖q)", "KL(q‖p)"]:
    scores = []
    for m in torch.linspace(-3, 3, 61):
        for s in torch.linspace(0.3, 3.0, 55):
            q = normal_pdf(m.item(), s.item()).clamp_min(1e-300)
            a, b = (p_bimodal, q) if name == "KL(p‖q)" else (q, p_bimodal.clamp_min(1e-300))
            scores.append(((a * (a / b).log()).sum() * dx, m.item(), s.item()))
    best[name] = min(scores)
fig, ax = plt.subplots(figsize=(6, 3))
ax.plot(xs, p_bimodal, "k", label="p (two peaks)")
for name, (_, m, s) in best.items():
    ax.plot(xs, normal_pdf(m, s), label=f"q minimising {name}: μ={m:.1f}, σ={s:.2f}")
ax.legend(fontsize=8)
ax.set_title("the two directions of KL choose different Gaussians")
plt.show()

# %% [markdown]
# ### 2.5 Perplexity
#
# A language model is judged by its mean per-token cross-entropy on held-out text,
# $\text{CE} = -\frac1N \sum_t \log p(x_t \mid x_{<t})$ in nats. Its exponential, **perplexity** $\text{PPL} = e^{\text{CE}}$, is
# the size of a uniform choice that would be equally surprising: a model that spreads its
# probability evenly over $V$ tokens has perplexity exactly $V$, and a perfect model has 1.
# (In bits: $\text{PPL} = 2^{\text{CE in bits}}$; mixing bases, e.g. $2^{\text{CE in nats}}$, is a common bug.)
#
# **Bits per character.** Character-level models are usually compared in *bits* per character,
#
# $$\text{bpc} = -\frac1N \sum_{t=1}^{N} \log_2 p(x_t \mid x_{<t}) = \frac{\text{CE}_{\text{nats}}}{\ln 2}, \qquad \text{PPL} = 2^{\text{bpc}} = e^{\text{CE}_{\text{nats}}}.$$
#
# The unit has a concrete meaning (Shannon's source-coding theorem): an arithmetic coder driven
# by the model's predictions compresses the text to about bpc bits per character, so a model
# is a compressor, and a better model is a better compressor. A uniform model over $V$
# characters needs $\log_2 V$ bits per character (6.23 bits for the 75 characters of our
# Shakespeare corpus), while plain 8-bit text spends 8. The models of this course reach about
# 2.2 bits per character (§4.1 and chapters 02–03).

# %%
# NBVAL_CHECK_OUTPUT
from cgen_lessons.metrics import perplexity

V = 37
uniform_ppl = perplexity(F.cross_entropy(torch.zeros(100, V), torch.randint(0, V, (100,), generator=g)))
print(f"uniform model over V = {V} tokens: perplexity {uniform_ppl:.4f} = 2^{math.log2(uniform_ppl):.4f} bits "
      f"= e^{math.log(uniform_ppl):.4f} nats")
print("perplexity of a perfectly confident, correct model is 1:",
      abs(perplexity(F.cross_entropy(torch.eye(5) * 50, torch.arange(5))) - 1) < 1e-9)

# %% [markdown]
# ## 3 · A taxonomy that holds together
#
# <a id="errata-a-2-1-taxonomy"></a>The articles sort models in ways that do not hold up (see §7). Four distinctions are useful,
# and they are independent of each other:
#
# | distinction | one side | other side |
# |---|---|---|
# | what is modelled | **generative**: $p(x)$ or $p(x, y)$ — can sample $x$ | **discriminative**: $p(y \mid x)$ only — predicts labels, cannot generate $x$ |
# | how a sequence is produced | **autoregressive**: $p(x) = \prod_t p(x_t \mid x_{<t})$, one element at a time (n-gram, RNN, GPT) | **non-autoregressive**: all elements at once (VAE, GAN, diffusion — which iterate over noise levels instead) |
# | what the likelihood looks like | **explicit**: $p_\theta(x)$ can be evaluated (exactly: n-gram, GMM, HMM, GPT; as a bound: VAE, diffusion) | **implicit**: only sampling is defined (GAN) |
# | where the training signal comes from | **supervised**: human labels y | **unsupervised / self-supervised**: the data itself (a language model's targets are its inputs shifted by one) |
#
# ### 3.1 Generative vs discriminative on real data
#
# Naive Bayes is a generative classifier: it models $p(y) \prod_i p(x_i \mid y)$, here with each of the
# 64 pixels of a digit taking one of 17 grey levels. Logistic regression is its discriminative
# counterpart: it models $p(y \mid x)$ directly. Ng & Jordan (2002) showed that a generative model
# *can* approach its (worse) asymptotic error with fewer examples, so that it wins on small
# training sets and loses on large ones. Whether that happens depends on the data; we measure
# it on the digits, after confirming that our naive Bayes agrees with scikit-learn's
# `CategoricalNB`.

# %%
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import CategoricalNB

from cgen_lessons.classic import CategoricalNaiveBayes

digits = data.load_digits()
levels_train = (digits.x_train.flatten(1) * 16).round().long()  # (N, 64) grey levels 0..16
levels_test = (digits.x_test.flatten(1) * 16).round().long()
show_source(CategoricalNaiveBayes.fit)

# %%
# NBVAL_CHECK_OUTPUT
nb = CategoricalNaiveBayes(n_values=17, alpha=1.0).fit(levels_train, digits.y_train)
sk_nb = CategoricalNB(alpha=1.0, min_categories=17).fit(levels_train.numpy(), digits.y_train.numpy())
print("our naive Bayes log-posteriors vs scikit-learn's CategoricalNB on the test set:",
      max_error(nb.predict_log_proba(levels_test), sk_nb.predict_log_proba(levels_test.numpy()), 1e-6))

# %%
sizes = [20, 50, 100, 200, 500, len(levels_train)]
curve = {"naive Bayes (generative)": [], "logistic regression (discriminative)": []}
for n in sizes:
    idx = torch.randperm(len(levels_train), generator=torch.Generator().manual_seed(n))[:n]
    nb_n = CategoricalNaiveBayes(17).fit(levels_train[idx], digits.y_train[idx])
    curve["naive Bayes (generative)"].append((nb_n.predict(levels_test) == digits.y_test).float().mean().item())
    lr = LogisticRegression(max_iter=2000).fit(digits.x_train.flatten(1)[idx].numpy(), digits.y_train[idx].numpy())
    curve["logistic regression (discriminative)"].append(
        lr.score(digits.x_test.flatten(1).numpy(), digits.y_test.numpy()))
fig, ax = plt.subplots(figsize=(5, 3))
for name, acc in curve.items():
    ax.plot(sizes, acc, "o-", label=name)
ax.set_xscale("log")
ax.set_xlabel("training examples")
ax.set_ylabel("test accuracy")
ax.legend()
plt.show()
for i, n in enumerate(sizes):
    print(f"n = {n:5d}: naive Bayes {curve['naive Bayes (generative)'][i]:.3f}   "
          f"logistic regression {curve['logistic regression (discriminative)'][i]:.3f}")

# %% [markdown]
# On these digits logistic regression wins at every training size, by a wide margin with few
# examples: the categorical naive Bayes has $10 \times 64 \times 16$ free pixel probabilities to estimate,
# and its independence assumption is badly wrong for strokes, so the small-data regime of
# Ng & Jordan does not appear here. Only the generative model, however, can *produce* digits: sampling
# a class and then each pixel from $p(x_i \mid y)$ gives images. Because naive Bayes assumes the
# pixels are independent given the class, its samples are noisy — the class-conditional
# averages are right, but pixel correlations (the strokes) are lost. Every later chapter is,
# in a sense, about modelling those dependencies.

# %%
sample_labels = torch.arange(10).repeat_interleave(3)
nb_samples = nb.sample(sample_labels, generator=torch.Generator().manual_seed(0)).float() / 16
fig, axes = plt.subplots(1, 2, figsize=(10, 2.2))
viz.image_grid(nb_samples.view(-1, 1, 8, 8), nrow=15, ax=axes[0], title="naive Bayes samples, 3 per class 0–9")
means = torch.stack([digits.x_train[digits.y_train == c].mean(0) for c in range(10)])
viz.image_grid(means, nrow=10, ax=axes[1], title="class means of the training digits")
plt.show()

# %% [markdown]
# ## 4 · Classic generative models
#
# ### 4.1 A character n-gram language model
#
# <a id="errata-e-6-1-mle"></a>An $n$-gram model predicts each character from the $n - 1$ before it. Its MLE is a ratio of
# counts, $C(h, c) / C(h)$, which gives probability 0 to every continuation not seen in training
# — an infinite loss on held-out text. **Smoothing** fixes this. We use a recursive scheme
# that shrinks each order toward the next-lower one (a hierarchical Dirichlet prior, MacKay &
# Peto 1995):
#
# $$p_m(c \mid h) = \frac{C(h, c) + \beta\, p_{m-1}(c \mid h^-)}{C(h) + \beta}, \qquad p_0(c) = 1/V,$$
#
# where $h^-$ drops the oldest character of $h$. With a uniform lower order this is add-$k$
# smoothing ($\beta = kV$). Each $p_m$ sums to 1 over $c$ by construction — a property the tests check.
# The model has the course's LM interface `model(idx, targets) -> (logits, loss)`, so it is
# trained by counting but evaluated and sampled exactly like the neural models of chapters 02–03.

# %%
from cgen_lessons.classic import NGramLM

show_source(NGramLM.probs)

# %% [markdown]
# The English text is the course's Shakespeare corpus, split by whole plays (chapter 00): 34
# plays to count in, *Julius Caesar* and *The Comedy of Errors* to choose $n$ and $\beta$ on, and
# *Macbeth* and *A Midsummer Night's Dream* for the test perplexity, reported once, for the
# chosen model only. The counts do not depend on $\beta$, and an n-gram's count tables contain those of
# every lower order, so one fitted 9-gram scores the whole grid (`NGramLM.nll(ids, beta=, n=)`,
# which looks up only the probability of each actual next character).

# %%
from cgen_lessons.recipes import NGRAM_SETTINGS, NGramSettings, char_lm_splits

tok, train_ids, val_ids, test_ids = char_lm_splits()
english = data.shakespeare_splits()["train"]
n_train_plays = len(data.load_plays()) - sum(len(s) for s in data.SHAKESPEARE_HELD_OUT.values())
print(f"training text: {n_train_plays} plays, {len(train_ids) / 1e6:.1f} million characters; "
      f"vocabulary V = {tok.vocab_size}, so a uniform model needs log2 V = {math.log2(tok.vocab_size):.2f} bits/char")

betas = [0.3, 3.0, 30.0, 100.0, 300.0]
orders = [1, 2, 3, 4, 5, 7, 9]  # 9 is the largest order whose context codes fit in int64 for V = 75
counts9 = NGramLM(tok.vocab_size, max(orders)).fit(train_ids)
grid = {(n, beta): counts9.nll(val_ids, beta=beta, n=n) for n in orders for beta in betas}
print("validation perplexity (rows: n, columns: β)")
print("n    " + "".join(f"{b:>9}" for b in betas))
for n in orders:
    print(f"{n:<5}" + "".join(f"{math.exp(grid[n, b]):9.2f}" for b in betas))
best_n, best_beta = min(grid, key=grid.get)
ngram = NGramLM(tok.vocab_size, best_n, best_beta).fit(train_ids)
ngram_test_nll = ngram.nll(test_ids)
ngram_test_ppl = math.exp(ngram_test_nll)
print(f"\nchosen on validation: n = {best_n}, β = {best_beta}; test perplexity {ngram_test_ppl:.2f} "
      f"({ngram_test_nll:.3f} nats/char = {ngram_test_nll / math.log(2):.3f} bits/char)")

# %% [markdown]
# With light smoothing ($\beta = 0.3$) perplexity first falls with $n$ — more context, better
# predictions — and then rises again after $n = 5$: most 7- and 9-character contexts occur only
# a few times even in 4.4 million characters, so their raw counts are unreliable. Stronger
# shrinkage toward the lower orders ($\beta = 30$ to $100$) tames the sparse counts, and longer
# contexts then keep helping up to the largest order we can index, $n = 9$; shrinking harder
# still ($\beta = 300$) throws away too much of what the long contexts know. This
# *data sparsity* is what neural language models were invented to overcome (Bengio et al.
# 2003): they share statistical strength between similar contexts instead of counting each
# one separately. The test plays come out a little harder than the validation plays (other
# plots, other names); chapter 02 puts RNN perplexities on these same test plays next to the
# number above.

# %%
# NBVAL_CHECK_OUTPUT
# errata: e-deep-vs-traditional
best_order = {b: min(orders, key=lambda n: grid[n, b]) for b in betas}
print("validation NLL falls from n = 1 to n = 4 for every β:",
      all(grid[n, b] > grid[n + 1, b] for n in (1, 2, 3) for b in betas))
print("with β = 0.3 the best order is an interior one (perplexity rises after it):", 1 < best_order[0.3] < max(orders))
print("stronger smoothing moves the best order up:", best_order[100.0] > best_order[0.3])
print("the chosen β is an interior point of the grid:", betas[0] < best_beta < betas[-1])
print("the choice equals the recipe setting the later chapters use (recipes.NGRAM_SETTINGS):",
      NGramSettings(n=best_n, beta=best_beta) == NGRAM_SETTINGS)
print("test perplexity of the chosen n-gram below the unigram's:",
      ngram_test_ppl < math.exp(NGramLM(tok.vocab_size, 1).fit(train_ids).nll(test_ids)))

# %% [markdown]
# Sampling uses the same sampler as every other LM in the course (`cgen_lessons.decoding.sample`):

# %%
from cgen_lessons.decoding import sample

prompt = tok.encode("The ")[None]
for n in [2, 4, best_n]:
    lm = NGramLM(tok.vocab_size, n, best_beta).fit(train_ids)
    out = sample(lm, prompt, 160, generator=torch.Generator().manual_seed(0))
    print(f"--- n = {n}\n{tok.decode(out[0])}\n")

# %% [markdown]
# The same model on Chinese: the Tang poems (when Debian's `fortunes-zh` is installed). With
# about 2,500 distinct characters and only about 25,000 characters of text (counts printed
# below), the counts are far sparser than for English. With $\beta = 1$ every longer context makes the model *worse*; with
# strong shrinkage ($\beta = 100$) the bigram beats the unigram, and a trigram adds nothing more.

# %%
if data.available_corpora()["tang"]:
    tang = data.load_corpus("tang")
    tok_zh = data.CharTokenizer.from_text(tang)
    tr_zh, va_zh = data.split_ids(tok_zh.encode(tang), val_fraction=0.1)
    print(f"Tang poems: {len(tang):,} characters, vocabulary {tok_zh.vocab_size}; held-out perplexity")
    for n in [1, 2, 3]:
        ppl = [math.exp(NGramLM(tok_zh.vocab_size, n, b).fit(tr_zh).nll(va_zh)) for b in (1.0, 100.0)]
        print(f"  n = {n}:  β = 1: {ppl[0]:6.0f}   β = 100: {ppl[1]:6.0f}")
    lm_zh = NGramLM(tok_zh.vocab_size, 2, 100.0).fit(tr_zh)
    print(tok_zh.decode(sample(lm_zh, tok_zh.encode("春")[None], 47, generator=torch.Generator().manual_seed(3))[0]))
else:
    print("fortunes-zh is not installed: the Tang-poem n-gram is skipped (sudo apt-get install fortunes-zh).")

# %% [markdown]
# ### 4.2 A Gaussian mixture fitted by EM
#
# A Gaussian mixture $p(x) = \sum_k \pi_k \mathcal{N}(x; \mu_k, \Sigma_k)$ is a latent-variable model: a hidden
# component $k$ is drawn first, then $x$ from that component. Its log-likelihood has a sum inside
# the log, so there is no closed-form MLE. **Expectation–maximisation** alternates:
#
# - E-step: responsibilities $r_{nk} = \pi_k \mathcal{N}(x_n; \mu_k, \Sigma_k) \,/\, \sum_j \pi_j \mathcal{N}(x_n; \mu_j, \Sigma_j)$;
# - M-step: $N_k = \sum_n r_{nk}$, $\pi_k = N_k / N$, $\mu_k = \sum_n r_{nk} x_n / N_k$,
#   $\Sigma_k = \sum_n r_{nk} (x_n - \mu_k)(x_n - \mu_k)^\top / N_k$ (plus $\epsilon I$ for stability).
#
# **Why EM works.** For any distribution $q(k)$ over the hidden component of one data point,
# Bayes' rule $p_\theta(x) = p_\theta(x, k) / p_\theta(k \mid x)$ gives, after taking logs and the
# expectation under $q$,
#
# $$\log p_\theta(x) = \underbrace{\mathbb{E}_{q(k)}\!\left[\log \frac{p_\theta(x, k)}{q(k)}\right]}_{\mathcal{L}(q,\,\theta)} \;+\; \mathrm{KL}\big(q(k)\,\|\,p_\theta(k \mid x)\big).$$
#
# Because the KL term is never negative, $\mathcal{L}(q, \theta)$ is a **lower bound** on the
# log-likelihood, and the gap is exactly the KL. The E-step sets $q$ to the posterior
# $p_{\theta_{\text{old}}}(k \mid x)$ — the responsibilities — which makes the gap zero, so the bound
# touches $\log p_{\theta_{\text{old}}}(x)$. The M-step maximises $\mathcal{L}(q, \theta)$ over
# $\theta$ with $q$ fixed (the formulas above are that maximiser). Hence
#
# $$\log p_{\theta_{\text{new}}}(x) \;\ge\; \mathcal{L}(q, \theta_{\text{new}}) \;\ge\; \mathcal{L}(q, \theta_{\text{old}}) \;=\; \log p_{\theta_{\text{old}}}(x),$$
#
# and the log-likelihood **never decreases** (Dempster, Laird & Rubin 1977). The same bound,
# with a neural network in place of the exact posterior, is the ELBO of chapter 05. We fit 10
# components to the digits projected on their first 16 principal components, and compare with
# scikit-learn started from the same parameters.

# %%
from sklearn.decomposition import PCA
from sklearn.mixture import GaussianMixture as SkGaussianMixture

from cgen_lessons.classic import GaussianMixture

show_source(GaussianMixture.em_step)

# %%
pca = PCA(n_components=16, random_state=0).fit(digits.x_train.flatten(1).numpy())
z_train = torch.tensor(pca.transform(digits.x_train.flatten(1).numpy()))  # (N, 16) float64
z_test = torch.tensor(pca.transform(digits.x_test.flatten(1).numpy()))
gmm = GaussianMixture(n_components=10, reg_covar=1e-6)
gmm.init_params(z_train, generator=torch.Generator().manual_seed(0))
start_params = (gmm.means.clone(), gmm.covariances.clone(), gmm.weights.clone())
em_history = gmm.fit(z_train, n_iter=100, init=False)
fig, ax = plt.subplots(figsize=(5, 3))
ax.plot(range(1, 101), em_history)
ax.set_xlabel("EM iteration")
ax.set_ylabel("mean log-likelihood (nats)")
ax.set_title("EM on the digits (16-D PCA)")
plt.show()

# %%
# NBVAL_CHECK_OUTPUT
import warnings

print("log-likelihood never decreases over 100 EM steps:",
      all(b >= a - 1e-9 for a, b in zip(em_history, em_history[1:])))
m0, c0, w0 = start_params
with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # tol=0 means sklearn never declares convergence
    sk_gmm = SkGaussianMixture(10, covariance_type="full", max_iter=100, tol=0, reg_covar=1e-6,
                               means_init=m0.numpy(), weights_init=w0.numpy(),
                               precisions_init=torch.linalg.inv(c0).numpy()).fit(z_train.numpy())
ours_ll, sk_ll = gmm.log_prob(z_train).mean().item(), sk_gmm.score(z_train.numpy())
print("final log-likelihood vs scikit-learn's:", max_error(ours_ll, sk_ll, 1e-5))
print("component means vs scikit-learn's:", max_error(gmm.means, sk_gmm.means_, 1e-4))

# %% [markdown]
# The decomposition itself, checked on the fitted mixture: for a random $q$ the bound lies
# below the log-likelihood by exactly $\mathrm{KL}(q \,\|\, p_\theta(k \mid x))$, and for $q$ equal to
# the responsibilities it equals it.

# %%
# NBVAL_CHECK_OUTPUT
log_joint = gmm.component_log_prob(z_train)  # (N, K): log p(x_n, k) = log π_k + log N(x_n; μ_k, Σ_k)
log_px = torch.logsumexp(log_joint, dim=1)  # (N,)
log_post = log_joint - log_px[:, None]  # (N, K): log p(k | x_n), the responsibilities


def em_bound(q):
    """L(q, θ) = E_q[log p(x, k) − log q(k)] per data point, for q (N, K) with rows summing to 1."""
    return (q * (log_joint - q.log())).sum(1)


q_random = torch.distributions.Dirichlet(torch.ones(10, dtype=torch.float64)).sample((len(z_train),))  # (N, K)
kl_to_post = (q_random * (q_random.log() - log_post)).sum(1)
print("log p(x) vs L(q) + KL(q ‖ p(k|x)) for a random q, every image:",
      max_error(log_px, em_bound(q_random) + kl_to_post, 1e-9))
print("the bound is strictly below log p(x) for the random q, every image:", bool((em_bound(q_random) < log_px).all()))
print("with q = the responsibilities the bound touches log p(x):",
      max_error(em_bound(log_post.exp().clamp_min(1e-300)), log_px, 1e-9))

# %%
print(f"train log-likelihood: ours {ours_ll:.4f}, scikit-learn {sk_ll:.4f} nats per image (16-D PCA space)")
print(f"test log-likelihood: {gmm.log_prob(z_test).mean().item():.2f} nats per image")
gmm_samples = gmm.sample(40, generator=torch.Generator().manual_seed(0))
images = torch.tensor(pca.inverse_transform(gmm_samples.numpy())).clamp(0, 1).view(-1, 1, 8, 8)
viz.image_grid(images, nrow=20, title="GMM samples, decoded from PCA space")
plt.show()

# %% [markdown]
# The mixture's samples look much more like digits than naive Bayes's: a full covariance
# captures pixel correlations. The price is $10 \times (16 + 136)$ mean and covariance parameters in
# a 16-dimensional space — in the full 64-dimensional pixel space a full-covariance mixture
# would need far more data than 1,437 images.
#
# ### 4.3 A hidden Markov model
#
# An HMM has a hidden state sequence $s_1, \dots, s_T$ that follows a Markov chain (initial distribution
# $\pi$, transition matrix $A$) and emits one observation per state (emission matrix $B$). The
# likelihood sums over all $S^T$ state paths; the **forward algorithm** computes it in $O(T S^2)$:
#
# $$\alpha_1(j) = \pi_j b_j(o_1), \qquad \alpha_t(j) = b_j(o_t) \sum_i \alpha_{t-1}(i)\, a_{ij}, \qquad p(o_{1:T}) = \sum_j \alpha_T(j).$$
#
# We check it against brute-force enumeration of every path on a small case.

# %%
from cgen_lessons.classic import HMM

show_source(HMM.forward_log)

# %%
# NBVAL_CHECK_OUTPUT
toy_hmm = HMM.random(n_states=3, n_symbols=4, generator=torch.Generator().manual_seed(0))
toy_obs = torch.tensor([0, 3, 1, 2, 2, 1, 0, 3])
fwd, brute = toy_hmm.log_likelihood(toy_obs), toy_hmm.brute_force_log_likelihood(toy_obs)
print("forward algorithm vs sum over all 3^8 = 6561 paths:", max_error(fwd, brute, 1e-10))

# %% [markdown]
# **Why log space: the log-sum-exp trick.** The recursion multiplies probabilities, and a
# product of $T$ numbers below 1 underflows: the probability of a few thousand characters is
# far smaller than the smallest positive float64 ($\approx 10^{-308}$), so a forward pass in
# probability space returns exactly 0 and its log $-\infty$. The package keeps $\log \alpha_t$
# instead, and every sum of probabilities becomes a *log-sum-exp*, computed stably by
# factoring out the largest term:
#
# $$\log \sum_i e^{a_i} = m + \log \sum_i e^{a_i - m}, \qquad m = \max_i a_i,$$
#
# where every exponent is now $\le 0$ (no overflow) and the largest is exactly $e^0 = 1$ (no
# total underflow). Below, the same recursion in probability space, inline, against the
# package on 2,000 characters of text:

# %%
# NBVAL_CHECK_OUTPUT
def forward_in_probability_space(hmm_, obs):
    """p(o_1..T) with the plain recursion α_t(j) = b_j(o_t) Σ_i α_{t−1}(i) a_ij — no logs."""
    alpha = hmm_.pi * hmm_.B[:, obs[0]]  # (S,)
    for o_t in obs[1:]:
        alpha = hmm_.B[:, o_t] * (alpha @ hmm_.A)  # (S,)
    return alpha.sum()


long_obs = toy_hmm.sample(2000, generator=torch.Generator().manual_seed(0))[1]
print("probability space, T = 8: log of the result vs the log-space forward:",
      max_error(forward_in_probability_space(toy_hmm, toy_obs).log(), fwd, 1e-10))
print("probability space, T = 2000: the result underflows to exactly 0:",
      forward_in_probability_space(toy_hmm, long_obs).item() == 0.0)
print("log space, T = 2000: finite log-likelihood:", math.isfinite(toy_hmm.log_likelihood(long_obs)))
a = torch.tensor([1000.0, 1000.0], dtype=torch.float64)
print("naive log Σ exp([1000, 1000]) overflows to inf:", torch.log(torch.exp(a).sum()).item() == math.inf,
      "| m + log Σ exp(a − m) vs 1000 + log 2:",
      max_error(a.max() + torch.log(torch.exp(a - a.max()).sum()), 1000 + math.log(2), 1e-12),
      "| torch.logsumexp vs the same:", max_error(torch.logsumexp(a, 0), 1000 + math.log(2), 1e-12))

# %% [markdown]
# Fitting an HMM is again EM (the **Baum–Welch** algorithm): the E-step computes state
# posteriors with the forward and backward recursions, the M-step re-estimates $\pi$, $A$ and $B$ from
# them. A classic experiment (Cave & Neuwirth 1980) fits a 2-state HMM to English letters with
# no labels at all. We run it on 6,000 letters and spaces of our corpus:

# %%
letters = "abcdefghijklmnopqrstuvwxyz "
letter_text = "".join(c for c in english[:100_000].lower() if c in letters)
letter_text = " ".join(letter_text.split())[:6000]
letter_tok = data.CharTokenizer(list(letters))
hmm = HMM.random(n_states=2, n_symbols=27, generator=torch.Generator().manual_seed(1))
t0 = time.perf_counter()
bw_history = hmm.baum_welch(letter_tok.encode(letter_text), n_iter=40)
print(f"Baum–Welch: 40 iterations in {time.perf_counter() - t0:.1f} s; "
      f"log-likelihood {bw_history[0]:.0f} → {bw_history[-1]:.0f} nats")
share = hmm.B / hmm.B.sum(0, keepdim=True)  # which state emits each letter more often
for s in range(2):
    print(f"state {s} emits mostly: {' '.join(c if c != ' ' else '␣' for c, w in zip(letters, share[s]) if w > 0.5)}")
lower = english[:100_000].lower()
u_after_vowel = sum(lower[i - 1] in "aeio" for i in range(1, len(lower)) if lower[i] == "u") / lower[1:].count("u")
print(f"share of u's right after a, e, i or o in the first 100,000 training characters: {u_after_vowel:.0%}")

# %% [markdown]
# Without being told anything about vowels, the two hidden states split the alphabet into
# (roughly) vowels and consonants — the structure that best explains which letters follow
# which. Roughly: the space joins the vowels (it, too, tends to alternate with consonants),
# and *u* lands with the consonants here — plausibly because in this text more than half of the
# *u*'s come right after another vowel (*you*, *thou*, *your*: 56 % in the first 100,000
# training characters), which a model that alternates between two states explains best by
# emitting *u* from the consonant state. Sampling from the fitted HMM shows how little two
# states can express:

# %%
# NBVAL_CHECK_OUTPUT
print("Baum–Welch log-likelihood never decreases:", all(b >= a - 1e-6 for a, b in zip(bw_history, bw_history[1:])))
vowel_state = int(share[:, letters.index("a")].argmax())
vowel_letters = [c for c in letters if c != " " and share[vowel_state, letters.index(c)] > 0.5]
print("the state that emits 'a' emits no consonant more often than the other state:",
      set(vowel_letters) <= set("aeiouy"))
print("and it holds at least four of the five vowels:", len(set(vowel_letters) & set("aeiou")) >= 4)

# %%
_, hmm_obs = hmm.sample(120, generator=torch.Generator().manual_seed(0))
print(letter_tok.decode(hmm_obs))

# %% [markdown]
# **Decoding the hidden states: Viterbi.** The forward algorithm sums over paths; replacing the
# sum by a maximum gives the single most probable state path
# $\hat s = \arg\max_s p(s_{1:T}, o_{1:T})$ (Viterbi 1967), again in $O(T S^2)$ and in log space:
#
# $$\delta_1(j) = \log \pi_j + \log b_j(o_1), \qquad \delta_t(j) = \log b_j(o_t) + \max_i \big[\delta_{t-1}(i) + \log a_{ij}\big],$$
#
# storing the maximising $i$ as $\psi_t(j)$ and reading the path backwards from
# $\arg\max_j \delta_T(j)$. First against brute force over all $3^8$ paths, then on the letter HMM,
# where it labels each character of a phrase with the state that most probably emitted it:

# %%
show_source(HMM.viterbi)

# %%
# NBVAL_CHECK_OUTPUT
viterbi_toy = HMM.random(n_states=3, n_symbols=4, generator=torch.Generator().manual_seed(5))
path, best = viterbi_toy.viterbi(toy_obs)
brute_path, brute_best = viterbi_toy.brute_force_viterbi(toy_obs)
print("Viterbi path equals the best of all 6561 paths:", torch.equal(path, brute_path), "| path", path.tolist())
print("its log p(s, o) vs brute force:", max_error(best, brute_best, 1e-10))
print("the best single path carries less probability than all paths together:",
      best < viterbi_toy.log_likelihood(toy_obs))

# %%
phrase = "to be or not to be that is the question"
states, _ = hmm.viterbi(letter_tok.encode(phrase))
print(phrase)
print("".join("V" if s == vowel_state else "c" for s in states.tolist()), " (V: the state that emits 'a')")

# %% [markdown]
# Read against the phrase, the decoded path puts every vowel and space in the vowel state and
# every consonant but the first *t* in the other one (the first character is pulled by the
# initial distribution $\pi$, fitted on a single sequence that starts in the vowel state), and *u* in
# *question* again falls with the consonants. Two hidden states and no labels give an
# unsupervised vowel/consonant tagger.

# %% [markdown]
# ## 5 · Scoring in one pass, sampling step by step — and which models train in parallel
#
# Training an autoregressive model by maximum likelihood needs $p(x_t \mid x_{<t})$ at every
# position, conditioned on the *true* previous tokens, which are all known in advance (teacher
# forcing). Whether those $T$ conditionals can be computed *at the same time* depends on the
# architecture, not on the factorisation:
#
# - an **n-gram** looks each position's context up independently, and a **masked Transformer**
#   (chapter 03) computes every position with the same few matrix products — both are parallel
#   over time in training;
# - a **recurrent network** (chapter 02) must compute $h_{t-1}$ before $h_t$, so even its
#   teacher-forced forward pass is a loop over the $T$ time steps.
#
# *Sampling* is sequential for all of them: token $t$ must be drawn before the distribution of
# token $t+1$ exists. Counting the torch operations each computation executes — a measure that
# does not depend on the hardware — makes both points concrete: a loop over time runs its
# operations once per step, a parallel computation runs them once whatever the length.

# %%
# NBVAL_CHECK_OUTPUT
from cgen_lessons.rnn import RecurrentLM
from cgen_lessons.transformer import GPT
from cgen_lessons.utils import count_torch_ops

torch.manual_seed(0)
models = {"9-gram": NGramLM(tok.vocab_size, 9).fit(train_ids[:100_000]),
          "LSTM": RecurrentLM(tok.vocab_size, "lstm", 64, 128), "GPT": GPT(tok.vocab_size, 1024, 128, 4, 2)}
ops = {}
with torch.no_grad():
    for name, model in models.items():
        for T in (32, 128):
            x = val_ids[: 4 * T].view(4, T)  # a batch of 4 sequences of length T
            ops[name, T] = count_torch_ops(model, x, x)  # one teacher-forced forward pass with its loss
        for n_new in (8, 32):
            ops[name, "sample", n_new] = count_torch_ops(sample, model, val_ids[None, :1], n_new,
                                                         generator=torch.Generator().manual_seed(0))
print("scoring is parallel over time for the n-gram and the GPT (same op count at 4× the length):",
      all(ops[m, 128] == ops[m, 32] for m in ("9-gram", "GPT")))
print("the LSTM's forward pass is a loop over time (op count grows by more than 3× at 4× the length):",
      ops["LSTM", 128] > 3 * ops["LSTM", 32])
print("sampling is sequential for every model (4× the tokens, more than 3× the ops):",
      all(ops[m, "sample", 32] > 3 * ops[m, "sample", 8] for m in models))

# %% [markdown]
# The counts themselves (they depend on how the installed torch version implements its modules,
# so they are printed outside the checked cell):

# %%
for name in models:
    print(f"{name:<7} scoring T = 32: {ops[name, 32]:5} ops, T = 128: {ops[name, 128]:5} ops | "
          f"sampling 8 tokens: {ops[name, 'sample', 8]:5} ops, 32 tokens: {ops[name, 'sample', 32]:5} ops")

# %% [markdown]
# In wall-clock time on this CPU (batch 8, untrained models of chapter 02's and 03's sizes; one
# call each, so the numbers are rough and vary between machines):

# %%
for T in (64, 256, 1024):
    x = val_ids[: 8 * T].view(8, T)
    seconds = {}
    for name in ("LSTM", "GPT"):
        with torch.no_grad(), timer(verbose=False) as t:
            models[name](x, x)
        seconds[name] = t["seconds"]
    print(f"T = {T:5}: LSTM forward {seconds['LSTM'] * 1e3:7.1f} ms, GPT forward {seconds['GPT'] * 1e3:6.1f} ms")

# %% [markdown]
# On this 2-core CPU the clock does not show the difference the operation counts show: both
# models' time grows with $T$ (the timings above; they vary from run to run and machine to
# machine), the LSTM's roughly in proportion to $T$, the GPT's faster than that at the longest
# length, where attention's $T^2$ score matrices dominate. Two cores can only run two things at once, so a computation
# that *could* run in parallel gains nothing. The parallel formulation pays off on hardware
# with thousands of arithmetic units — GPUs — where all positions of a sequence are computed
# at the same time, while an RNN must still take its $T$ steps one after another; that, and not
# the count of arithmetic operations, is why Transformers displaced RNNs for training on large
# corpora (chapter 03).

# %% [markdown]
# ## 6 · Applications: where the classic models still work
#
# - **n-gram models** remain in production where speed and predictability matter: KenLM-style
#   n-gram models rescore speech-recognition and OCR hypotheses, and small n-gram models drive
#   on-device keyboard suggestions. They are also the baseline every neural LM must beat — as in
#   chapters 02 and 03, on this same split.
# - **Gaussian mixtures** model speaker characteristics (GMM–UBM speaker verification,
#   Reynolds et al. 2000), background pixels in video (Stauffer & Grimson 1999), and serve as
#   the simplest density estimator for anomaly detection.
# - **HMMs** are the standard tool for biological sequences (profile HMMs for protein families,
#   gene finders) and for sequence labelling where data is scarce; speech recognition used them
#   for three decades before neural networks took over.
# - **Naive Bayes** is still a strong, fast baseline for text classification such as spam
#   filtering, especially with little training data — as its learning curve above shows.

# %% [markdown]
# ## 7 · Corrections to the source articles
#
# **Article A §1.2 — "generative models" vs "variational models".** A divides content
# generation into generative and variational models, lists VAEs under both (once as
# "variational autoencoder", once as "variational automatic encoder"), and counts language
# models among the *variational* models. *Why it is wrong:* "variational" describes an
# inference technique — optimising a lower bound when a likelihood has an intractable
# integral over latent variables — not a family beside generative models; VAEs are generative
# models trained variationally, and an autoregressive LM is trained on its exact likelihood.
# *Correct version:* the four independent distinctions of §3; chapter 00 verified that an
# autoregressive LM's probabilities over all sequences sum to exactly 1.
#
# <a id="errata-b-2-1-generator"></a>**Article B §2.1–2.2 — generative/discriminative model = generator/discriminator.** B
# defines "the generative model" as the GAN generator and "the discriminative model" as the
# network that tells real from generated data. *Why it is wrong:* these are two different
# uses of the words. A *discriminative model* is any model of $p(y \mid x)$ (logistic regression,
# an image classifier); a GAN's discriminator is one such classifier used as a training tool,
# and the GAN as a whole is a generative model. *Demonstration:* a discriminative model has no
# notion of what inputs are plausible — logistic regression must put noise into one of the ten
# classes and does so with a sizeable confidence — while the generative naive Bayes assigns
# the noise a log-likelihood far below that of any real digit:

# %%
noise = torch.rand(200, 64, generator=torch.Generator().manual_seed(0))  # uniform noise "images"
noise_levels = (noise * 16).round().long()
lr_full = LogisticRegression(max_iter=2000).fit(digits.x_train.flatten(1).numpy(), digits.y_train.numpy())
conf_digits = lr_full.predict_proba(digits.x_test.flatten(1).numpy()).max(1).mean()
conf_noise = lr_full.predict_proba(noise.numpy()).max(1).mean()
logpx_digits = torch.logsumexp(nb.log_joint(levels_test), 0)  # log p(x) = log Σ_y p(x, y)
logpx_noise = torch.logsumexp(nb.log_joint(noise_levels), 0)
print(f"logistic regression, mean top-class probability: test digits {conf_digits:.2f}, noise {conf_noise:.2f}")
print(f"naive Bayes log p(x): test digits {logpx_digits.mean():.0f} nats, noise {logpx_noise.mean():.0f} nats")

# %%
# NBVAL_CHECK_OUTPUT
# errata: b-generator-model, b-discriminator-model
print("every noise image is less likely under naive Bayes than every test digit:",
      bool(logpx_noise.max() < logpx_digits.min()))
print("logistic regression's top class on noise averages well above a uniform guess (0.1):", bool(conf_noise > 0.3))

# %% [markdown]
# <a id="errata-b-2-3-losses"></a>**Article B §2.3 — MSE and cross-entropy as generic "difference measures".** B presents the
# two losses as interchangeable ways to measure a prediction error, with the same summation
# index used for samples in one formula and (implicitly) for classes in the other. *Why it is
# wrong:* each loss is the negative log-likelihood of a specific output distribution — MSE of a
# fixed-variance Gaussian, cross-entropy of a categorical — so choosing a loss is choosing a
# likelihood, and the cross-entropy sums over classes within an example and averages over
# examples. *Correct version and checks:* §2.2 and §2.3 above.
#
# <a id="errata-d-2-1-bert"></a>**Article D §2.1 — BERT as a discriminative model "for text generation".** D gives BERT as
# the example of a discriminative model and says it is used to generate text. *Why it is
# wrong:* BERT (Devlin et al. 2019) is a masked language model: it is trained, without labels,
# to predict masked tokens from both sides, $p(x_{\text{masked}} \mid x_{\text{rest}})$. That is a model of the text
# itself, not of labels given text, and because it conditions on the right-hand context it does
# not define a left-to-right factorisation one can sample from; BERT is used for
# understanding tasks (classification, tagging, retrieval) after fine-tuning. The examples that
# fit D's categories are logistic regression (discriminative, §3.1) and GPT-style
# autoregressive LMs (generative, chapter 03).
#
# **Article D §2.2 — autoregressive models are slow to generate and hard to parallelise.** D
# sorts models by how they *generate*, and for generation this is right: each token waits for
# the previous one (§5). What the section leaves out matters as much: its examples — RNN, LSTM
# and GPT — differ in *training*. The RNN and LSTM are sequential in time even with teacher
# forcing; the GPT is not: one forward pass computes every position (§5 counts the operations).
# D's later claim that an autoregressive Transformer's *training* is sequential (§3.3) is wrong,
# and is corrected in chapter 04. For §2.2 this is a clarification, not an error.
#
# <a id="errata-d-2-3-supervised"></a>**Article D §2.3 — text generation is "supervised", image generation "unsupervised", and
# supervision gives higher quality.** *Why it is wrong:* language models — the basis of modern
# text generation — are trained on raw text with no human labels: the targets are the inputs
# shifted by one position (self-supervision), exactly like `lm_batch` in this course, where
# `y[:, t] = x[:, t + 1]`. Image generators (VAE, GAN, diffusion) are unsupervised in the same
# sense, and both become *conditional* (text-to-image, translation) when paired data is
# available. No general claim that supervised training gives higher quality is supported.

# %%
# NBVAL_CHECK_OUTPUT
# errata: d-supervised
xb, yb = data.lm_batch(train_ids, block_size=32, batch_size=4, generator=torch.Generator().manual_seed(0))


def occurs_in_text(window, text_ids):
    """Whether `window` (L,) appears as a contiguous run of `text_ids`."""
    starts = torch.nonzero(text_ids[: len(text_ids) - len(window) + 1] == window[0]).flatten()
    runs = text_ids[starts[:, None] + torch.arange(len(window))]  # (candidates, L)
    return bool((runs == window).all(1).any())


print("every (input, target) pair is one run of 33 consecutive characters of the raw text, the targets",
      "the inputs shifted by one:", all(torch.equal(x[1:], y[:-1]) and occurs_in_text(torch.cat([x, y[-1:]]), train_ids)
                                       for x, y in zip(xb, yb)))
print("a window with one target replaced by a 'label' is not:",
      occurs_in_text(torch.cat([xb[0, :1], yb[0, :-1], yb[0, -1:] + 1]), train_ids))

# %% [markdown]
# ## 8 · Exercises
#
# Each checked exercise has a solution cell (folded away in the HTML book) and a check cell. In a
# student copy (`python3 tools/course.py student`) the solution is replaced by `raise
# NotImplementedError()`: write your own, run it, then run the check, which names the first case
# that fails and, when your answer is a typical mistake, which one.

# %% [markdown]
# **Exercise 1 — perplexity (easy, ≈ 5 min).** Given logits (N, V) and targets (N,), return the
# perplexity as a Python float.

# %% nbgrader={"grade": false, "grade_id": "perplexity_solution", "locked": false, "schema_version": 3, "solution": true, "task": false} tags=["hide-input"]
import math

from cgen_lessons.exercises import check


def my_perplexity(logits, targets):
    ### BEGIN SOLUTION
    ce_nats = torch.nn.functional.cross_entropy(logits.double(), targets)
    return math.exp(ce_nats.item())
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "perplexity_check", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# NBVAL_CHECK_OUTPUT
check("perplexity", my_perplexity)

# %% [markdown]
# **Exercise 2 — KL divergence (easy, ≈ 10 min).** Given two batches of distributions p and q (…,
# K), return $\mathrm{KL}(p \,\|\, q)$ over the last axis, with $0 \log 0 = 0$.

# %% nbgrader={"grade": false, "grade_id": "kl_divergence_solution", "locked": false, "schema_version": 3, "solution": true, "task": false} tags=["hide-input"]
def my_kl(p, q):
    ### BEGIN SOLUTION
    terms = torch.where(p > 0, p * (p.log() - q.log()), torch.zeros_like(p))
    return terms.sum(-1)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "kl_divergence_check", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# NBVAL_CHECK_OUTPUT
check("kl_divergence", my_kl)

# %% [markdown]
# **Exercise 3 — one E-step (medium, ≈ 15 min).** For 1-D data `x` (N,), mixture weights $\pi$
# `(K,)`, means $\mu$ `(K,)` and variances $\sigma^2$ `(K,)`, return the responsibilities (N, K) of
# §3.

# %% nbgrader={"grade": false, "grade_id": "gmm_e_step_solution", "locked": false, "schema_version": 3, "solution": true, "task": false} tags=["hide-input"]
def my_e_step(x, weights, means, variances):
    ### BEGIN SOLUTION
    log_density = torch.distributions.Normal(means, variances.sqrt()).log_prob(x[:, None])  # (N, K)
    return torch.softmax(weights.log() + log_density, dim=1)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "gmm_e_step_check", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# NBVAL_CHECK_OUTPUT
check("gmm_e_step", my_e_step)

# %% [markdown]
# **Exercise 4 (open).** Replace the hierarchical Dirichlet smoothing of `NGramLM` by
# interpolated Kneser–Ney smoothing (Chen & Goodman 1999) and compare validation perplexities
# with the table of §4.1. *Check:* your probabilities must still sum to 1 for every context —
# reuse `tests/test_classic.py::test_ngram_distributions_sum_to_one`.

# %% [markdown]
# ## 9 · Summary
#
# - Training a probabilistic model = maximising likelihood = minimising cross-entropy from the
#   data to the model = minimising $\mathrm{KL}(p_{\text{data}} \,\|\, p_\theta)$. MSE and cross-entropy are NLLs of a
#   Gaussian and a categorical distribution.
# - Perplexity = exp(cross-entropy in nats); uniform over V gives V.
# - Generative vs discriminative, autoregressive vs not, explicit vs implicit likelihood, and
#   supervised vs self-supervised are four separate questions.
# - Classic models, checked: naive Bayes = scikit-learn; n-gram perplexity on held-out English;
#   EM on a GMM increases the likelihood monotonically and matches scikit-learn; the HMM forward
#   algorithm equals brute-force enumeration, and Baum–Welch finds vowels unsupervised.

# %%
print(f"chapter run time: {time.perf_counter() - chapter_start:.0f} s")

# %% [markdown]
# **References**
#
# - Baker, J. (1975). The DRAGON system — an overview. *IEEE Trans. Acoustics, Speech, and Signal Processing* 23(1).
# - Bengio, Y., Ducharme, R., Vincent, P., Jauvin, C. (2003). A neural probabilistic language model. *JMLR* 3.
# - Cave, R. L., Neuwirth, L. P. (1980). Hidden Markov models for English. In *Hidden Markov Models for Speech*, IDA-CRD, Princeton.
# - Chen, S. F., Goodman, J. (1999). An empirical study of smoothing techniques for language modeling. *Computer Speech & Language* 13(4).
# - Dempster, A. P., Laird, N. M., Rubin, D. B. (1977). Maximum likelihood from incomplete data via the EM algorithm. *JRSS B* 39(1).
# - Devlin, J., Chang, M.-W., Lee, K., Toutanova, K. (2019). BERT: Pre-training of deep bidirectional Transformers for language understanding. *NAACL*.
# - Goodfellow, I. et al. (2014). Generative adversarial nets. *NeurIPS*.
# - Hinton, G. E., Osindero, S., Teh, Y.-W. (2006). A fast learning algorithm for deep belief nets. *Neural Computation* 18(7).
# - Ho, J., Jain, A., Abbeel, P. (2020). Denoising diffusion probabilistic models. *NeurIPS*.
# - Jelinek, F. (1976). Continuous speech recognition by statistical methods. *Proceedings of the IEEE* 64(4).
# - Kingma, D. P., Welling, M. (2014). Auto-encoding variational Bayes. *ICLR*.
# - MacKay, D. J. C., Peto, L. C. B. (1995). A hierarchical Dirichlet language model. *Natural Language Engineering* 1(3).
# - Ng, A. Y., Jordan, M. I. (2002). On discriminative vs. generative classifiers: a comparison of logistic regression and naive Bayes. *NeurIPS*.
# - Rabiner, L. R. (1989). A tutorial on hidden Markov models and selected applications in speech recognition. *Proceedings of the IEEE* 77(2).
# - Radford, A., Narasimhan, K., Salimans, T., Sutskever, I. (2018). Improving language understanding by generative pre-training. OpenAI report.
# - Reynolds, D. A., Quatieri, T. F., Dunn, R. B. (2000). Speaker verification using adapted Gaussian mixture models. *Digital Signal Processing* 10(1–3).
# - Shannon, C. E. (1948). A mathematical theory of communication. *Bell System Technical Journal* 27.
# - Sohl-Dickstein, J., Weiss, E., Maheswaranathan, N., Ganguli, S. (2015). Deep unsupervised learning using nonequilibrium thermodynamics. *ICML*.
# - Stauffer, C., Grimson, W. E. L. (1999). Adaptive background mixture models for real-time tracking. *CVPR*.
# - Sutskever, I., Vinyals, O., Le, Q. V. (2014). Sequence to sequence learning with neural networks. *NeurIPS*.
# - Vaswani, A. et al. (2017). Attention is all you need. *NeurIPS*.
# - Viterbi, A. J. (1967). Error bounds for convolutional codes and an asymptotically optimum decoding algorithm. *IEEE Trans. Information Theory* 13(2).
# - Weizenbaum, J. (1966). ELIZA — a computer program for the study of natural language communication between man and machine. *CACM* 9(1).
