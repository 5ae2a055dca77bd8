# %% [markdown]
# # 09 · Evaluating generative models
#
# *Mirrors the evaluation answer of article C (§9.4), which names visual inspection, "diversity",
# the Kolmogorov–Smirnov test, the Inception Score and FID without defining any of them. The
# other articles do not discuss evaluation.*
#
# A classifier is judged by its accuracy on held-out labels. A generative model has no labels to
# be checked against, and "is it good?" splits into separate questions: does the model assign
# high probability to real data (likelihood)? Are its samples realistic (precision, quality)? Does
# it produce everything the data contains (recall, coverage, diversity)? Can a statistical test
# tell its samples from real ones? Each metric answers one of these and is blind to the others.
# This chapter defines the metrics used in chapters 01–07, checks each implementation against a
# trusted one, and — the main point — shows each of them failing: a model with a good
# likelihood and bad samples, a text metric that rewards nonsense, an image score maximised by
# copying ten images, and a test that cannot see what it was not built to see.

# %%
import math
import time

import matplotlib.pyplot as plt
import torch
from IPython.display import display

from cgen_lessons import data, recipes, results, viz
from cgen_lessons.utils import seed_everything, show_source, table, use_threads

chapter_start = time.perf_counter()
use_threads(2)
seed_everything(0);

# %% [markdown]
# ## 1 · Background: what a number can and cannot say
#
# Theis, van den Oord & Bethge (2016) showed that the three classic criteria — log-likelihood,
# sample quality judged by eye, and nearest-neighbour or Parzen-window scores — are largely
# independent in high dimensions: good performance on one says little about the others. The
# practical consequence is that a generative model is described by *several* numbers, each
# with a stated purpose: a likelihood (in comparable units), a measure of sample quality, a
# measure of coverage, and, for a claim that two distributions are the same, a proper
# two-sample test. We take them in that order.
#
# ## 2 · Likelihood
#
# ### 2.1 Units
#
# Chapter 01 defined the mean negative log-likelihood (NLL) per token and its exponential, the
# perplexity. The unit matters whenever two numbers are compared: nats (natural log) or bits
# ($\text{NLL}_\text{bits} = \text{NLL}_\text{nats} / \ln 2$); per token, per character, per word or,
# for images, per dimension (a model of $8 \times 8$ digits reports $\text{NLL} / 64$). The *total*
# log-likelihood of a text does not depend on how it is cut into tokens, so a character model's
# per-word perplexity follows from its per-character NLL:
#
# $$\text{PPL}_\text{word} = \exp\!\Big(\frac{N_\text{chars}}{N_\text{words}}\, \text{NLL}_\text{char}\Big) = \text{PPL}_\text{char}^{\,N_\text{chars} / N_\text{words}}.$$
#
# That is how a character model is compared with a word model — never by their raw perplexities.
# For chapter 01's 9-gram on the test plays:

# %%
from cgen_lessons.classic import NGramLM
from cgen_lessons.metrics import stream_nll

tok, train_ids, val_ids, test_ids = recipes.char_lm_splits()
ngram = NGramLM(tok.vocab_size, **recipes.NGRAM_SETTINGS).fit(train_ids)
nll_char = stream_nll(ngram, test_ids)  # nats per character
n_chars, n_words = len(test_ids) - 1, len(tok.decode(test_ids[1:]).split())
print(f"9-gram on the test plays: {nll_char:.3f} nats/char = {nll_char / math.log(2):.3f} bits/char, "
      f"perplexity {math.exp(nll_char):.2f} per character")
print(f"{n_chars:,} characters, {n_words:,} words ({n_chars / n_words:.2f} characters per word, spaces included): "
      f"perplexity {math.exp(nll_char * n_chars / n_words):.0f} per word")

# %% [markdown]
# ### 2.2 A good likelihood with bad samples, and the reverse
#
# Theis et al.'s argument can be built in a few lines on chapter 06's 8-Gaussians ring, whose
# true density $p$ we know exactly.
#
# - **Good likelihood, bad samples.** Mix the true density with a broad Gaussian:
#   $q_A = 0.01\, p + 0.99\, \mathcal{N}(0, 2^2 I)$. Since $q_A(x) \ge 0.01\, p(x)$, its log-likelihood is never more
#   than $\log 100 \approx 4.6$ nats below the truth — a respectable number — yet 99 % of its samples
#   are noise.
# - **Good samples, bad likelihood.** Memorise 100 training points and sample by returning them
#   with a tiny jitter: a kernel density with bandwidth 0.002, ten times narrower than the modes.
#   Every sample looks perfect, but a *new* point from the same distribution almost never lies
#   that close to one of the 100, so the test log-likelihood is terrible.

# %%
from cgen_lessons.gan import mode_coverage

ring_modes, ring_std = data.toy_modes("8gaussians"), 0.02
g = torch.Generator().manual_seed(0)


def log_ring_density(x):
    """log p(x) of the 8-Gaussians ring: an equal mixture of N(mode, 0.02² I)."""
    comp = torch.distributions.Normal(ring_modes[None], ring_std).log_prob(x[:, None]).sum(-1)  # (N, 8)
    return torch.logsumexp(comp, 1) - math.log(len(ring_modes))


def log_broad(x):
    return torch.distributions.Normal(0.0, 2.0).log_prob(x).sum(-1)


def log_mixture_a(x):
    return torch.logsumexp(torch.stack([math.log(0.01) + log_ring_density(x), math.log(0.99) + log_broad(x)]), 0)


memory = data.toy_2d("8gaussians", 100, g).double()  # the memoriser's training set
bandwidth = 0.002


def log_memoriser(x):
    comp = torch.distributions.Normal(memory[None], bandwidth).log_prob(x[:, None]).sum(-1)  # (N, 100)
    return torch.logsumexp(comp, 1) - math.log(len(memory))


test_points = data.toy_2d("8gaussians", 2000, g).double()
samples_a = torch.where(torch.rand(2500, 1, generator=g) < 0.01, data.toy_2d("8gaussians", 2500, g).double(),
                        2.0 * torch.randn(2500, 2, generator=g, dtype=torch.float64))
samples_mem = memory[torch.randint(0, 100, (2500,), generator=g)] + bandwidth * torch.randn(2500, 2, generator=g)
loglik = {name: f(test_points).mean().item() for name, f in
          [("true density", log_ring_density), ("q_A: 1 % truth + 99 % noise", log_mixture_a),
           ("memoriser (100 points)", log_memoriser)]}
quality = {"true density": mode_coverage(data.toy_2d("8gaussians", 2500, g), ring_modes, ring_std)[1],
           "q_A: 1 % truth + 99 % noise": mode_coverage(samples_a, ring_modes, ring_std)[1],
           "memoriser (100 points)": mode_coverage(samples_mem, ring_modes, ring_std)[1]}
for name in loglik:
    print(f"{name:<30} test log-likelihood {loglik[name]:9.2f} nats/point   "
          f"samples within 3σ of a mode {quality[name]:6.1%}")
print(f"q_A's gap to the truth: {loglik['true density'] - loglik['q_A: 1 % truth + 99 % noise']:.2f} nats, within "
      f"log 100 = {math.log(100):.1f} by construction (q_A ≥ 0.01 p at every point)")

# %%
# NBVAL_CHECK_OUTPUT
print("q_A's test log-likelihood is above the memoriser's, whose samples are far better:",
      loglik["q_A: 1 % truth + 99 % noise"] > loglik["memoriser (100 points)"])
print("fewer than 5 % of q_A's samples are good:", quality["q_A: 1 % truth + 99 % noise"] < 0.05)
print("the memoriser's samples are better than 95 % good:", quality["memoriser (100 points)"] > 0.95)
print("yet its test log-likelihood is more than 10 nats below q_A's:",
      loglik["memoriser (100 points)"] < loglik["q_A: 1 % truth + 99 % noise"] - 10)

# %% [markdown]
# Ranked by likelihood, the noise model wins; ranked by samples, the memoriser wins; neither
# ranking is "right". Likelihood is the right criterion for compression and for scoring data
# (chapter 01's perplexities, chapter 05's anomaly detection); sample quality for generation.
# A model that is good at both — the true density here — is what we want, and it has to be
# shown on both.
#
# ## 3 · Text: overlap and diversity
#
# ### 3.1 BLEU
#
# BLEU (Papineni et al. 2002) scores a candidate text against one or more references by n-gram
# overlap. With $p_n$ the **modified** (clipped) n-gram precision — each n-gram of the candidate
# counts at most as often as it appears in a reference — pooled over the corpus,
#
# $$\text{BLEU} = \text{BP} \cdot \exp\!\Big(\frac14 \sum_{n=1}^{4} \log p_n\Big), \qquad \text{BP} = \min\!\big(1, e^{\,1 - r/c}\big),$$
#
# where $c$ is the candidates' total length and $r$ the references' (the closest one per
# sentence); the brevity penalty BP stops a system from gaming precision with short outputs.
# The clipping stops "the the the the" from scoring a perfect unigram precision against a
# reference containing "the". Our implementation equals `sacrebleu`'s corpus BLEU (Post 2018)
# (`tokenize="none"`) to $10^{-6}$ on 300 test-play lines in the unit tests; sentence-level BLEU
# uses sacrebleu's default exponential smoothing (Chen & Cherry 2014), since a single sentence
# often has no matching 4-gram.

# %%
from cgen_lessons.metrics import corpus_bleu, distinct_n, self_bleu, sentence_bleu

show_source(corpus_bleu)

# %% [markdown]
# ### 3.2 Where BLEU fails
#
# BLEU measures *surface overlap with particular references*, not meaning or quality. Two
# failures, on a line of *Macbeth*: a faithful paraphrase with no shared word scores zero, and
# a meaningless scramble of the reference's own words scores well, because its 1- to 3-grams
# still match.

# %%
reference = "I have done the deed didst thou not hear a noise"
candidates = {
    "paraphrase (same meaning)": "my task is finished did you catch some sound",
    "reference chunks, reversed": "thou not hear a noise the deed didst I have done",
    "exact copy": reference,
}
bleu_of = {name: sentence_bleu(text, reference) for name, text in candidates.items()}
for name, text in candidates.items():
    print(f"{name:<28} BLEU {100 * bleu_of[name]:5.1f}   {text!r}")

# %%
# NBVAL_CHECK_OUTPUT
print("a paraphrase with the same meaning scores 0:", bleu_of["paraphrase (same meaning)"] == 0.0)
print("a scramble of the reference's chunks scores above 40:", bleu_of["reference chunks, reversed"] > 0.4)

# %% [markdown]
# BLEU is made for tasks with many acceptable outputs and several references (translation).
# Where one output is right and every other is wrong — chapter 03's date normaliser — partial
# overlap means nothing (`2026-11-23` for `2026-11-22` shares most of its n-grams), and
# exact-match accuracy, which chapter 03 reports, is the right measure.

# %% [markdown]
# ### 3.3 Diversity: distinct-n and self-BLEU
#
# A generator can be fluent and boring. **Distinct-n** (Li et al. 2016, chapter 04) is the share
# of n-grams that are distinct across a set of samples; **self-BLEU** (Zhu et al. 2018) is the
# mean BLEU of each sample against all the others as references — high when the samples repeat
# each other. Both ignore quality: random words are maximally diverse. For the 9-gram, 20
# samples of 300 characters at several temperatures (chapter 04), and 20 windows of the test plays:

# %%
from cgen_lessons.decoding import generate

prompt = tok.encode("\n")[None].repeat(20, 1)


def words_of(rows):
    return [tok.decode(r).split() for r in rows]


starts = torch.randint(0, len(test_ids) - 300, (20,), generator=torch.Generator().manual_seed(0))
diversity = {"test plays (20 windows)": words_of([test_ids[s: s + 300] for s in starts.tolist()])}
for label, kwargs in [("greedy", dict(greedy=True)), ("τ = 0.5", dict(temperature=0.5)),
                      ("τ = 1.0", dict(temperature=1.0))]:
    out = generate(ngram, prompt, 300, generator=torch.Generator().manual_seed(0), **kwargs)
    diversity[f"9-gram, {label}"] = words_of(out[:, 1:])
scores = {name: (distinct_n(w, 2), self_bleu(w)) for name, w in diversity.items()}
for name, (d2, sb) in scores.items():
    print(f"{name:<24} distinct-2 {d2:.3f}   self-BLEU {sb:.3f}")
print("\ngreedy sample:", " ".join(diversity["9-gram, greedy"][0][:25]))

# %%
# NBVAL_CHECK_OUTPUT
d2 = {name: v[0] for name, v in scores.items()}
sb = {name: v[1] for name, v in scores.items()}
print("a lower temperature gives less diverse samples on both measures (τ = 0.5 against τ = 1):",
      d2["9-gram, τ = 0.5"] < d2["9-gram, τ = 1.0"] and sb["9-gram, τ = 0.5"] > sb["9-gram, τ = 1.0"])
print("sampling at τ = 1 is within 0.1 of the test plays' distinct-2:",
      abs(d2["9-gram, τ = 1.0"] - d2["test plays (20 windows)"]) < 0.1)

# %% [markdown]
# All 20 greedy samples start from the same prompt and are identical, hence a self-BLEU of 1;
# sampling at $\tau = 1$ is about as diverse as Shakespeare by these two measures — which says
# nothing about whether it makes sense.
#
# ## 4 · Images: quality, coverage and their blind spots
#
# Chapters 06–07 compared image generators by the **Fréchet distance** (FD) between Gaussians
# fitted to features of real and generated digits — the FID recipe (Heusel et al. 2017) with a digits classifier in
# place of the ImageNet Inception network. Three more scores from the literature, all computed
# in the same 64-dimensional feature space:
#
# - **Inception Score** (Salimans et al. 2016), $\text{IS} = \exp\big(\mathbb{E}_x\, \mathrm{KL}(p(y \mid x) \,\|\, p(y))\big)$ with
#   $p(y) = \mathbb{E}_x\, p(y \mid x)$, from the classifier's predictions on generated samples only. It is high
#   when each sample is classified confidently and the classes are used equally; it lies in
#   $[1, 10]$ for ten classes. It never looks at real data.
# - **Precision and recall** (Kynkäänniemi et al. 2019): approximate each set's support by balls
#   around its points, of radius the distance to the $k$-th nearest neighbour in the same set.
#   Precision is the share of generated samples inside the real support (realism); recall the
#   share of real samples inside the generated support (coverage).
# - **Density and coverage** (Naeem et al. 2020) use the real balls only, which makes them
#   robust to outliers: density counts how many real balls each sample falls in (on average
#   about 1 for a perfect generator), coverage is the share of real balls containing a sample.
#
# To see which failure each metric catches, we score *constructed* generators whose faults we
# know, built from real digits: a perfect one (1,000 other real digits), a **collapsed** one
# (real digits of classes 0–2 only: realistic, missing modes), a **noisy** one (every class,
# pixels corrupted by noise of standard deviation 0.4), a **blurred** one (every digit smoothed
# by a 3 × 3 box filter), and a **memoriser** (ten training
# images — for each class the one the classifier is surest about — each repeated 100 times,
# like a generator collapsed onto one crisp image per class).

# %%
from cgen_lessons.metrics import density_coverage, inception_score, precision_recall

digits = data.load_digits()
scorer = recipes.DigitScorer(digits)
gen = torch.Generator().manual_seed(1)
x_train, y_train = digits.x_train, digits.y_train
perfect = x_train[torch.randperm(len(x_train), generator=gen)[:1000]]
low_classes = x_train[y_train <= 2]
collapsed = low_classes[torch.randint(0, len(low_classes), (1000,), generator=gen)]
noisy = (perfect + 0.4 * torch.randn(perfect.shape, generator=gen)).clamp(0, 1)
blurred = torch.nn.functional.avg_pool2d(perfect, 3, stride=1, padding=1, count_include_pad=False)  # 3×3 box blur
confidence = scorer.probs(x_train)[torch.arange(len(x_train)), y_train]  # p(true class | x) for each training digit
one_per_class = torch.stack([x_train[y_train == c][confidence[y_train == c].argmax()] for c in range(10)])
memoriser = one_per_class[torch.arange(1000) % 10]
constructed = {"perfect (other real digits)": perfect, "collapsed (classes 0–2)": collapsed,
               "noisy (pixel noise σ = 0.4)": noisy, "blurred (3×3 box filter)": blurred,
               "memoriser (10 images)": memoriser}
real_features = scorer.embed(digits.x_test)
print(f"real: the {len(digits.x_test)} test digits, as {real_features.shape[1]}-dimensional classifier features")
image_scores = {}
for name, images in constructed.items():
    fake_features = scorer.embed(images)
    p, r = precision_recall(real_features, fake_features, k=3)
    d, c = density_coverage(real_features, fake_features, k=5)
    image_scores[name] = dict(FD=scorer.fd(images), IS=inception_score(scorer.probs(images)), precision=p, recall=r,
                              density=d, coverage=c)
print(f"{'generator':<30}" + "".join(f"{k:>11}" for k in image_scores["perfect (other real digits)"]))
for name, row in image_scores.items():
    print(f"{name:<30}" + "".join(f"{v:11.3f}" for v in row.values()))

# %%
fig, axes = plt.subplots(1, 4, figsize=(16, 2.4))
for ax, name in zip(axes, ["collapsed (classes 0–2)", "noisy (pixel noise σ = 0.4)", "blurred (3×3 box filter)",
                           "memoriser (10 images)"]):
    viz.image_grid(constructed[name][:20], nrow=10, ax=ax, title=name)
plt.show()

# %%
# NBVAL_CHECK_OUTPUT
s = image_scores
print("collapse shows in recall and coverage, not precision: precision above 0.8, recall and coverage below 0.5:",
      s["collapsed (classes 0–2)"]["precision"] > 0.8 and s["collapsed (classes 0–2)"]["recall"] < 0.5
      and s["collapsed (classes 0–2)"]["coverage"] < 0.5)
print("noise shows in precision and density (each more than 0.2 below the perfect generator's), "
      "not in recall (within 0.05):",
      s["noisy (pixel noise σ = 0.4)"]["precision"] < s["perfect (other real digits)"]["precision"] - 0.2
      and s["noisy (pixel noise σ = 0.4)"]["density"] < s["perfect (other real digits)"]["density"] - 0.2
      and abs(s["noisy (pixel noise σ = 0.4)"]["recall"] - s["perfect (other real digits)"]["recall"]) < 0.05)
print("the memoriser's Inception Score beats the perfect generator's:",
      s["memoriser (10 images)"]["IS"] > s["perfect (other real digits)"]["IS"])
print("the Fréchet distance ranks the perfect generator first:",
      min(s, key=lambda n: s[n]["FD"]) == "perfect (other real digits)")

# %% [markdown]
# Each constructed fault is caught by the metric built for it and missed by another: the
# collapsed generator's samples are realistic (precision stays high) but two thirds of the
# data is never produced (recall and coverage fall); the noisy generator covers every class
# but its samples are poor (precision and density fall). Blur is a different fault from noise:
# smoothing pulls every digit towards the typical shape of its class, so the blurred samples
# stay inside the real support (precision 0.82) but bunch together, and their small
# neighbourhoods contain almost no real digit (recall 0.05) — a blurry generator looks
# *precise* to these metrics and fails on coverage. The Inception Score *prefers* the
# memoriser to real data: ten perfectly clear, perfectly balanced images are exactly what it
# rewards, and since it never sees the training set it cannot notice that nothing new is
# generated. Of the single numbers, the Fréchet distance is the most informative — it compares
# with real data and sees both faults — but it cannot say which fault it sees.
#
# ### 4.1 The Fréchet distance depends on the sample size
#
# FD is estimated from finite samples, and the estimate is biased upwards: the sample
# covariance of $N$ points is noisy, and the noise adds to the distance. Chong & Forsyth (2020)
# showed the bias falls like $1/N$, $\text{FD}_N \approx \text{FD}_\infty + b/N$, so FDs computed from different
# sample sizes cannot be compared, and $\text{FD}_\infty$ can be estimated by a straight-line fit in
# $1/N$. The expansion needs $N$ well above the feature dimension (64 here): below about
# $2d$ the sample covariance is nearly singular and the points bend away from the line, so we fit
# on $N \ge 200$ only, and compare the fit with a curve in $1/\sqrt N$ by their residuals. Only the
# generated side shrinks here: the reference side (the 360 test digits) is fixed, and its own
# finite-sample bias stays in $\text{FD}_\infty$. The **kernel inception distance** (KID; Bińkowski
# et al. 2018) avoids the problem: it is the unbiased MMD² of §5 with a cubic polynomial kernel
# on the same features (standardised, as its kernel expects features of order one), so its
# expectation does not depend on $N$. Real training digits against the test digits, five draws
# per size:

# %%
from cgen_lessons.metrics import frechet_distance, kernel_inception_distance

sizes = [100, 200, 300, 400, 700, 1000]
mu_real, sd_real = real_features.mean(0), real_features.std(0)
live = sd_real > 1e-6  # features that vary over the real digits (some ReLU features are always 0)
# KID's cubic kernel expects features of order one
standardise = lambda f: ((f - mu_real) / sd_real)[:, live]  # noqa: E731
fd_by_n, kid_by_n, kid_se = {}, {}, {}
for n in sizes:
    fakes = [scorer.embed(x_train[torch.randperm(len(x_train), generator=gen)[:n]]) for _ in range(5)]
    fd_by_n[n] = sum(frechet_distance(real_features, f) for f in fakes) / len(fakes)
    kids = torch.tensor([kernel_inception_distance(standardise(real_features), standardise(f)) for f in fakes])
    kid_by_n[n], kid_se[n] = kids.mean().item(), (kids.std() / math.sqrt(len(kids))).item()


def fit_in(transform, ns):
    """Least-squares fit FD_N ≈ FD_∞ + b · transform(N) over sizes ns: (FD_∞, b, residual sum of squares)."""
    x = torch.tensor([transform(n) for n in ns], dtype=torch.float64)
    y = torch.tensor([fd_by_n[n] for n in ns], dtype=torch.float64)
    design = torch.stack([torch.ones_like(x), x], 1)
    coef = torch.linalg.lstsq(design, y[:, None]).solution.flatten()
    return coef[0].item(), coef[1].item(), ((design @ coef - y) ** 2).sum().item()


large = [n for n in sizes if n >= 200]  # N ≥ 2d = 128: the sample covariance has full rank with room to spare
fd_inf, slope, rss_inv = fit_in(lambda n: 1 / n, large)
fd_inf_sqrt, _, rss_sqrt = fit_in(lambda n: n ** -0.5, large)
fd_inf_all, _, _ = fit_in(lambda n: 1 / n, sizes)
fig, ax = plt.subplots(figsize=(4.5, 3))
ax.plot([1 / n for n in sizes], [fd_by_n[n] for n in sizes], "o", label="measured (mean of 5 draws)")
ax.plot([0, 1 / min(large)], [fd_inf, fd_inf + slope / min(large)], "--", label=f"fit on N ≥ 200: FD∞ = {fd_inf:.2f}")
ax.set_xlabel("1 / N")
ax.set_ylabel("Fréchet distance")
ax.set_title("real digits vs real digits: FD shrinks with N")
ax.legend(fontsize=8)
plt.show()
print("FD by sample size: ", {n: round(v, 2) for n, v in fd_by_n.items()})
print("KID by sample size:", {n: f"{v:.4f} ± {kid_se[n]:.4f}" for n, v in kid_by_n.items()}, "(mean ± standard error)")
print(f"fit on N ≥ 200: a + b/N gives FD∞ = {fd_inf:.2f} (residual sum of squares {rss_inv:.4f}); "
      f"a + b/√N gives {fd_inf_sqrt:.2f} ({rss_sqrt:.4f}); a + b/N over all sizes, N = 100 included: {fd_inf_all:.2f}")

# %%
# NBVAL_CHECK_OUTPUT
print("the same real data scores a Fréchet distance more than 2× larger with 100 samples than with 1,000:",
      fd_by_n[100] > 2 * fd_by_n[1000])
print("on N ≥ 200, a + b/N fits the measured FDs better than a + b/√N (smaller residuals):", rss_inv < rss_sqrt)
print("KID shows no such trend: its means at N = 100 and N = 1,000 agree within 3 standard errors:",
      abs(kid_by_n[100] - kid_by_n[1000]) < 3 * math.hypot(kid_se[100], kid_se[1000]))

# %% [markdown]
# Fitted on $N \ge 200$, the $1/N$ law leaves smaller residuals than a $1/\sqrt N$ curve, and it
# extrapolates to $\text{FD}_\infty = 0.43$ — not 0: the training and the test digits really differ
# a little in feature space, and the fixed reference side adds its own bias. An FD of 1.02 at
# $N = 1{,}000$ is therefore mostly sample-size bias, and a generator's FD must be read against
# real data scored at the same $N$ (the "real" rows of chapters 06, 07 and §6). KID needs no such
# correction: from 100 to 1,000 samples its mean stays between −0.015 and −0.007, within its
# standard errors of a constant — an unbiased estimate of a population value near zero, which
# is why single estimates can be slightly negative.

# %% [markdown]
# ## 5 · Two-sample tests
#
# "Are the samples distributed like the data?" is a statistical question with a classical
# answer: a **two-sample test** of $H_0: p = q$. Article C §9.4 proposes the Kolmogorov–Smirnov
# test. The KS statistic $D = \sup_x |F_p(x) - F_q(x)|$ compares two *one-dimensional* cumulative
# distribution functions; it has no definition for images or any other vectors (there is no
# single ordering of $\mathbb{R}^d$). The best one can do with it is to test each coordinate
# separately (with a multiple-testing correction), which sees only the marginal distributions.
# Two multivariate tests that see the whole joint distribution:
#
# - the **kernel MMD test** (Gretton et al. 2012): the MMD² of chapter 07 as the statistic, with
#   its null distribution simulated by permutations — shuffle the pooled samples between the
#   two groups many times and see how often the shuffled MMD² is as large as the observed one;
# - the **classifier two-sample test** (Lopez-Paz & Oquab 2017): train a classifier to tell the
#   samples apart on half the data; under $H_0$ its held-out accuracy is Binomial$(n, \tfrac12)/n$.
#
# Our KS statistic equals `scipy.stats.ks_2samp`'s to $10^{-12}$ (unit tests). A case where KS is
# blind by construction: points on the diagonal, $(u, u)$, against independent pairs
# $(u_1, u_2)$, all uniform on $[0, 1]$. Both coordinates have exactly the same marginal
# distribution in the two sets; only the dependence differs.

# %%
from cgen_lessons.metrics import classifier_two_sample_test, ks_2samp, mmd2, mmd_permutation_test

g2 = torch.Generator().manual_seed(2)
u = torch.rand(300, 1, generator=g2)
diagonal, independent = torch.cat([u, u], 1), torch.rand(300, 2, generator=g2)
ks_p = [ks_2samp(diagonal[:, j], independent[:, j])[1] for j in range(2)]
mmd_value, mmd_p = mmd_permutation_test(diagonal, independent, bandwidth=0.1, n_permutations=199, generator=g2)
c2st_acc, c2st_p = classifier_two_sample_test(diagonal, independent, generator=g2)
print(f"per-coordinate KS p-values: {ks_p[0]:.3f}, {ks_p[1]:.3f} (Bonferroni: reject if either < 0.025)")
print(f"MMD² = {mmd_value:.4f}, permutation p = {mmd_p:.3f};  classifier accuracy {c2st_acc:.3f}, p = {c2st_p:.1e}")

# %%
# NBVAL_CHECK_OUTPUT
# errata: c-ks
print("KS on each coordinate does not reject (both p > 0.025):", min(ks_p) > 0.025)
print("the MMD permutation test rejects at 0.01:", mmd_p < 0.01)
print("the classifier test rejects at 0.01:", c2st_p < 0.01)

# %% [markdown]
# **Power.** A test that rejects only with thousands of samples is of little use. The
# *power* of a test is the probability that it rejects a false $H_0$; we estimate it by running
# each test 50 times at several sample sizes on a subtle difference: the 8-Gaussians ring
# against the same ring with modes twice as wide ($\sigma = 0.04$ instead of $0.02$), at level 0.05.
# Next to each power stands the **type-I error**, the rejection rate when $H_0$ is true (two
# samples of the same ring), which a valid test keeps near 0.05. KS is applied to both
# coordinates with the Bonferroni correction and has nothing to tune. The other two tests are
# tuned with the same budget, on a separate held-out pair of samples of the same size drawn once
# per sample size, never on the pairs they are scored on: the MMD test picks its bandwidth (a
# multiple of the median pooled distance) where its statistic stands furthest above a small
# permutation null, the classifier test its number of neighbours $k$ by held-out accuracy.

# %%
def ring(n, std, generator):
    centres = ring_modes[torch.randint(0, len(ring_modes), (n,), generator=generator)]
    return centres + std * torch.randn(n, 2, generator=generator)


def tune_mmd_bandwidth(a, b, generator, scales=(1 / 64, 1 / 16, 1 / 4, 1)):
    """The bandwidth, a multiple of the median pooled distance, whose MMD² stands furthest above
    its permutation null (as a z-score) on a held-out pair."""
    median = torch.pdist(torch.cat([a, b]).double()).median().item()
    best, best_z = None, -math.inf
    for h in (median * scale for scale in scales):
        observed = mmd2(a, b, h)
        pooled = torch.cat([a, b])
        null = torch.tensor([mmd2(*pooled[torch.randperm(len(pooled), generator=generator)].split([len(a), len(b)]), h)
                             for _ in range(20)])
        z = (observed - null.mean().item()) / (null.std().item() + 1e-12)
        if z > best_z:
            best, best_z = h, z
    return best


def tune_knn_k(a, b, generator, grid=(1, 5, 15, 45)):
    """The k of the k-NN classifier with the highest held-out accuracy on a held-out pair."""
    usable = [k for k in grid if k < len(a)]
    return max(usable, key=lambda k: classifier_two_sample_test(a, b, k=k, generator=generator)[0])


POWER_REPEATS = 50


def estimate_power(draw_pair, draw_null, sizes, generator, title, repeats=POWER_REPEATS):
    """Rejection rates at level 0.05 of the three tests over `repeats` pairs of samples from
    draw_pair(n) -> (a, b) (power) and from draw_null(n) (type-I error), for each n in `sizes`.
    Both tuned tests choose their setting once per n, on a separate held-out pair of the same size
    drawn from draw_pair; KS runs on every coordinate with the Bonferroni correction (level 0.05 / d)."""
    names = ["KS per coordinate (Bonferroni)", "MMD permutation (tuned bandwidth)", "classifier (k-NN, tuned k)"]

    def rejections(a, b, h, k):
        d = a.shape[1]
        return [min(ks_2samp(a[:, j], b[:, j])[1] for j in range(d)) < 0.05 / d,
                mmd_permutation_test(a, b, h, n_permutations=99, generator=generator)[1] < 0.05,
                classifier_two_sample_test(a, b, k=k, generator=generator)[1] < 0.05]

    rates = {kind: {name: [] for name in names} for kind in ("power", "type I")}
    for n in sizes:
        held_out = draw_pair(n)
        h, k = tune_mmd_bandwidth(*held_out, generator), tune_knn_k(*held_out, generator)
        for kind, draw in (("power", draw_pair), ("type I", draw_null)):
            hits = torch.tensor([rejections(*draw(n), h, k) for _ in range(repeats)], dtype=torch.float64)
            for name, rate in zip(names, hits.mean(0).tolist()):
                rates[kind][name].append(rate)
    fig, ax = plt.subplots(figsize=(5, 3.2))
    for name, values in rates["power"].items():
        ax.plot(sizes, values, "o-", label=name)
    ax.axhline(0.05, color="gray", lw=0.8, ls=":")
    ax.set_xscale("log")
    ax.set_xticks(sizes, [str(n) for n in sizes])
    ax.minorticks_off()
    ax.set_xlabel("samples per set")
    ax.set_ylabel("rejection rate at level 0.05")
    ax.set_title(title)
    ax.legend(fontsize=8)
    plt.show()
    print(f"{'power (type-I error) over ' + str(repeats) + ' repeats':<36}"
          + "".join(f"{'n = ' + str(n):>16}" for n in sizes))
    for name in names:
        print(f"{name:<36}"
              + "".join(f"{p:>9.2f} ({e:.2f})" for p, e in zip(rates["power"][name], rates["type I"][name])))
    print(f"Monte Carlo standard error of a rate r: sqrt(r(1 − r)/{repeats}), at most {0.5 / math.sqrt(repeats):.2f}")
    return rates["power"], rates["type I"]


g3 = torch.Generator().manual_seed(3)
power, type_one = estimate_power(lambda n: (ring(n, 0.02, g3), ring(n, 0.04, g3)),
                                 lambda n: (ring(n, 0.02, g3), ring(n, 0.02, g3)), [25, 50, 100, 200], g3,
                                 "power: ring σ = 0.02 vs σ = 0.04")

# %% [markdown]
# The same on the digits, in the classifier's 64-dimensional feature space: half of the test
# digits against the *other* half with pixel noise of standard deviation 0.3 added (two halves
# of the test set, so that the only difference is the noise — the feature network was trained
# on the training digits, whose features differ from the test digits' in ways all three tests
# can detect). KS runs on all 64 features with the Bonferroni correction (level 0.05 / 64 each);
# the other two tests are tuned as above. With 360 test digits, a pair and its held-out pair allow
# at most 90 digits per set.

# %%
test_digits = digits.x_test
g4 = torch.Generator().manual_seed(4)


def digit_halves(n, noise=0.3):
    """n test digits against n *other* test digits with pixel noise added, in feature space."""
    order = torch.randperm(len(test_digits), generator=g4)
    noisy = (test_digits[order[n: 2 * n]] + noise * torch.randn(n, 1, 8, 8, generator=g4)).clamp(0, 1)
    return scorer.embed(test_digits[order[:n]]), scorer.embed(noisy)


digit_power, digit_type_one = estimate_power(digit_halves, lambda n: digit_halves(n, noise=0.0), [25, 50, 90], g4,
                                             "power: test digits vs test digits + noise 0.3")

# %%
# NBVAL_CHECK_OUTPUT
mmd_name = "MMD permutation (tuned bandwidth)"
ks_name = "KS per coordinate (Bonferroni)"
c2st_name = "classifier (k-NN, tuned k)"
print("ring: with 200 samples per set the tuned MMD test detects the difference at least 90 % of the time:",
      power[mmd_name][-1] >= 0.9)
print("ring: the tuned MMD test beats per-coordinate KS at 100 and 200 samples by more than two standard errors:",
      all(power[mmd_name][i] - power[ks_name][i] > 2 * math.sqrt(0.25 / POWER_REPEATS * 2) for i in (2, 3)))
print("digits: with 90 samples the tuned MMD test detects the noise at least 80 % of the time, "
      "more often than either other test by more than two standard errors:",
      digit_power[mmd_name][-1] >= 0.8
      and all(digit_power[mmd_name][-1] - digit_power[other][-1] > 2 * math.sqrt(0.25 / POWER_REPEATS * 2)
              for other in (ks_name, c2st_name)))
print("ring: the tuned classifier test is more powerful than per-coordinate KS with 200 samples:",
      power[c2st_name][-1] - power[ks_name][-1] > 2 * math.sqrt(0.25 / POWER_REPEATS * 2))
print("no test's type-I error exceeds 0.05 by more than two standard errors anywhere:",
      all(e <= 0.05 + 2 * math.sqrt(0.05 * 0.95 / POWER_REPEATS) for rates in (type_one, digit_type_one)
          for values in rates.values() for e in values))

# %% [markdown]
# With equal tuning, the kernel test finds both differences with the fewest samples. The
# classifier test comes second on the ring and fails on the digits at these sizes: half of each
# set goes into training a nearest-neighbour classifier, and 45 training points per set in 64
# dimensions are too few for it. Per-coordinate KS wastes the two-dimensional structure of the
# ring (a sample can be far from every mode while each of its coordinates looks ordinary) and
# pays the Bonferroni price for 64 features on the digits. All three keep their type-I error
# near the nominal 0.05 (within two Monte Carlo standard errors), so the differences in power are
# not bought with false alarms. These are two alternatives and one tuning budget: another kind
# of difference can reorder the tests. And a test's verdict is always relative to a sample size:
# "no significant difference" with 25 samples is no evidence that the distributions are the same.
#
# ## 6 · One table for the course
#
# `benchmarks/eval_table.py` trains every generator of chapters 05–07 with its chapter's recipe
# and scores 1,000 samples of each against the 360 test digits (MMD² with a Gaussian kernel
# whose bandwidth is the median distance between test-digit features), and the language models of
# chapters 01–03 on the test plays (perplexity) and on 20 samples of 300 characters (distinct-2
# and self-BLEU over words). Its saved results:

# %%
saved = results.load("eval_table")
columns = ["fd", "inception_score", "precision", "recall", "density", "coverage", "mmd2"]
display(table(["image generator", "FD", "IS", "precision", "recall", "density", "coverage", "MMD²"],
              [[name] + [f"{row[c]:.3f}" for c in columns] for name, row in saved["images"].items()]))
display(table(["text generator", "perplexity/char", "distinct-2", "self-BLEU"],
              [[name, "—" if row["perplexity"] is None else f"{row['perplexity']:.2f}", f"{row['distinct_2']:.3f}",
                f"{row['self_bleu']:.3f}"] for name, row in saved["text"].items()]))
print("settings:", saved["settings"])

# %% [markdown]
# Read across the columns, the table tells more than any one of them. The diffusion model
# (chapter 07's recipe, sampled without a label) has the lowest Fréchet distance (4.8) and the
# best balance of precision (0.77) and recall (0.88). The VAE's decoder means are realistic in
# feature space (precision 0.90) but cover less than half of the test digits (recall 0.45):
# averages sit near the typical digits and miss the variety. The **truncation trick** — sampling
# the VAE's latent at half its scale — raises precision a little (0.93) and collapses recall
# (0.15), the trade-off precision/recall was designed to expose. The least-squares GAN covers
# the data (recall 0.88) with noisier samples (precision 0.61); the non-saturating GAN is worse
# on both (FD 29.2). MMD² orders the generators as the Fréchet distance does, except that the
# VAE and the least-squares GAN (FDs 10.1 and 9.9) swap places. The Inception Score ranks the
# VAE (7.8) above the diffusion model (6.8), and so do precision (0.90 against 0.77), density
# (1.14 against 0.66) and coverage (0.96 against 0.93); only the Fréchet distance, recall and
# MMD² put diffusion first. The metrics disagree because they ask different questions, and the
# VAE row shows it most clearly: recall 0.45 but coverage 0.96. Recall draws a ball around each
# *generated* sample, with the radius of its third-nearest generated neighbour; the VAE's 1,000
# blurry decoder means bunch together near typical digits (the blurred generator of §4
# again), so their balls are small and most real digits fall outside them. Coverage draws the
# balls around the 360 *real* digits instead — fewer points, so larger balls — and asks only
# whether some sample lands in each; with 1,000 samples near the typical digits, almost every
# real ball gets one. Density above 1 says the same from the other side: the VAE piles more
# samples into the real balls than real data would. The two set sizes (360 real, 1,000
# generated) shape all four numbers, so they are comparable only between rows scored with the
# same sizes, as here.
#
# For text, the perplexities of the chapters' short-run models (9-gram 4.70, GRU 6.02, GPT 6.43
# per character; chapters 02–03 show that longer training changes the neural models' ranks)
# are the informative numbers. The diversity measures cannot separate any of the three from
# Shakespeare: at temperature 1 their samples are at least as diverse as the test plays
# (distinct-2 0.97–1.00 against 0.96, self-BLEU 0.017–0.029 against 0.034), although they read
# nothing like him.

# %% [markdown]
# ## 7 · Human evaluation, briefly
#
# Automatic metrics measure what their features and references can see; people judge fluency,
# coherence, faithfulness and usefulness, which no metric above captures. A small study that
# is worth running has: a clear question ("which of two continuations is more plausible?"
# works better than a 1–5 "quality" score), **blind and randomised** presentation (raters do
# not know which system produced what, and the order of systems is shuffled per item), the
# *real* data as one of the systems (so raters' ability to tell is measured), several raters
# per item with their agreement reported (e.g. Krippendorff's α), enough items for a confidence
# interval, and a pre-registered analysis. Its cost is why automatic metrics are used at all;
# its results are why each metric above must be read as one partial view.
#
# ## 8 · Corrections to the source articles
#
# <a id="errata-c-9-4-ks"></a>**Article C §9.4 — "statistical indicators such as the Kolmogorov–Smirnov test".** *Why it is
# wrong:* the KS test compares two one-dimensional distributions (§5). Generated images, text
# or any multivariate data have no single cumulative distribution function to compare; applied
# per coordinate it sees only the marginals and is blind to a difference in their dependence
# (the diagonal example above: KS p-values 0.893 and 0.238, while the MMD and classifier tests
# reject with p = 0.005 and $4.4 \cdot 10^{-30}$). *Correct version:* a multivariate two-sample test — the kernel MMD test with
# permutations or a classifier two-sample test — with its sample size and power stated.
#
# <a id="errata-c-9-4-is-fid"></a>**Article C §9.4 — IS and FID as measures of "the quality of generated data".** C names both
# without a definition. *What it leaves out:* the Inception Score never compares with real data
# and is maximised by a generator that repeats one clear image per class (§4: the memoriser
# beats real digits); FID compares feature statistics with real data, sees both poor samples
# and missing modes but cannot tell them apart, and depends on the sample size (§4.1). Neither
# is a quality score alone; precision/recall or density/coverage separate the two failure kinds.
#
# **Article C §9.4 — "diversity evaluation: how many different kinds of samples the model can
# generate".** A fair aim, but stated with no measure. Diversity for text is measured by
# distinct-n and self-BLEU (§3.3), for images by recall and coverage (§4) — and a diverse
# generator can still be useless (random words are maximally diverse).
#
# ## 9 · Exercises
#
# Each checked exercise has a solution cell (folded away in the HTML book) and a check cell. In a
# student copy (`python3 tools/course.py student`) the solution is replaced by `raise
# NotImplementedError()`: write your own, run it, then run the check, which names the first case
# that fails and, when your answer is a typical mistake, which one.

# %% [markdown]
# **Exercise 1 — modified n-gram precision (easy, ≈ 10 min).** Given a hypothesis and a reference
# (lists of tokens) and n, return BLEU's clipped n-gram precision.

# %% nbgrader={"grade": false, "grade_id": "modified_precision_solution", "locked": false, "schema_version": 3, "solution": true, "task": false} tags=["hide-input"]
import collections

from cgen_lessons.exercises import check


def my_modified_precision(hypothesis, reference, n):
    ### BEGIN SOLUTION
    grams = lambda seq: collections.Counter(tuple(seq[i:i + n]) for i in range(len(seq) - n + 1))  # noqa: E731
    hyp, ref = grams(hypothesis), grams(reference)
    total = sum(hyp.values())
    return sum(min(count, ref[g]) for g, count in hyp.items()) / total if total else 0.0
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "modified_precision_check", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# NBVAL_CHECK_OUTPUT
check("modified_precision", my_modified_precision)

# %% [markdown]
# **Exercise 2 — a permutation p-value (easy, ≈ 10 min).** Given the observed statistic and a tensor
# of statistics of permuted splits, return the permutation test's p-value (§5).

# %% nbgrader={"grade": false, "grade_id": "permutation_p_value_solution", "locked": false, "schema_version": 3, "solution": true, "task": false} tags=["hide-input"]
def my_permutation_p_value(observed, permuted):
    ### BEGIN SOLUTION
    return (1 + int((permuted >= observed).sum())) / (1 + len(permuted))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "permutation_p_value_check", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# NBVAL_CHECK_OUTPUT
check("permutation_p_value", my_permutation_p_value)

# %% [markdown]
# **Exercise 3 — the Inception Score (medium, ≈ 15 min).** Given class probabilities $p(y \mid x)$
# of shape (N, C), return $\mathrm{IS} = \exp \mathbb{E}_x \mathrm{KL}(p(y \mid x) \,\|\, p(y))$.

# %% nbgrader={"grade": false, "grade_id": "inception_score_solution", "locked": false, "schema_version": 3, "solution": true, "task": false} tags=["hide-input"]
import math


def my_inception_score(probs):
    ### BEGIN SOLUTION
    p = probs.double()
    marginal = p.mean(0, keepdim=True)  # p(y)
    kl = torch.where(p > 0, p * (p / marginal).log(), torch.zeros_like(p)).sum(1)  # (N,)
    return math.exp(kl.mean().item())
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "inception_score_check", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# NBVAL_CHECK_OUTPUT
check("inception_score", my_inception_score)

# %% [markdown]
# **Exercise 4 (open).** Apply the two-sample tests of §5 to chapter 07's diffusion samples and
# the test digits in the classifier's feature space. How many samples does the MMD test need to
# tell them apart — and what does a "significant" difference mean for a model whose samples
# look right?
#
# ## 10 · Summary
#
# - Likelihood and sample quality can disagree completely: a 99 %-noise model is within
#   $\log 100$ nats of the truth, a memoriser has perfect samples and a terrible test likelihood.
# - BLEU equals sacrebleu's and measures overlap with references, not meaning: a paraphrase
#   scores 0, a scramble of the reference scores high. Distinct-n and self-BLEU measure
#   diversity and nothing else.
# - On the digits, precision and density catch poor samples, recall and coverage catch missing
#   modes; the Inception Score prefers a ten-image memoriser to real data; the Fréchet distance
#   sees both faults, cannot tell them apart, and shrinks like $1/N$ with the sample size.
# - The KS test is one-dimensional; the kernel MMD test with permutations and the classifier
#   test are multivariate, and every test's verdict depends on its sample size.

# %%
print(f"chapter run time: {time.perf_counter() - chapter_start:.0f} s")

# %% [markdown]
# **References**
#
# - Chen, B., Cherry, C. (2014). A systematic comparison of smoothing techniques for sentence-level BLEU. *WMT*.
# - Chong, M. J., Forsyth, D. (2020). Effectively unbiased FID and Inception Score and where to find them. *CVPR*.
# - Gretton, A., Borgwardt, K. M., Rasch, M. J., Schölkopf, B., Smola, A. (2012). A kernel two-sample test. *JMLR* 13.
# - Heusel, M., Ramsauer, H., Unterthiner, T., Nessler, B., Hochreiter, S. (2017). GANs trained by a two time-scale update rule converge to a local Nash equilibrium. *NeurIPS*.
# - Kynkäänniemi, T., Karras, T., Laine, S., Lehtinen, J., Aila, T. (2019). Improved precision and recall metric for assessing generative models. *NeurIPS*.
# - Li, J., Galley, M., Brockett, C., Gao, J., Dolan, B. (2016). A diversity-promoting objective function for neural conversation models. *NAACL*.
# - Lopez-Paz, D., Oquab, M. (2017). Revisiting classifier two-sample tests. *ICLR*.
# - Naeem, M. F., Oh, S. J., Uh, Y., Choi, Y., Yoo, J. (2020). Reliable fidelity and diversity metrics for generative models. *ICML*.
# - Papineni, K., Roukos, S., Ward, T., Zhu, W.-J. (2002). BLEU: a method for automatic evaluation of machine translation. *ACL*.
# - Post, M. (2018). A call for clarity in reporting BLEU scores. *WMT*.
# - Salimans, T., Goodfellow, I., Zaremba, W., Cheung, V., Radford, A., Chen, X. (2016). Improved techniques for training GANs. *NeurIPS*.
# - Theis, L., van den Oord, A., Bethge, M. (2016). A note on the evaluation of generative models. *ICLR*.
# - Zhu, Y., Lu, S., Zheng, L., Guo, J., Zhang, W., Wang, J., Yu, Y. (2018). Texygen: a benchmarking platform for text generation models. *SIGIR*.
