# %% [markdown]
# # 08 · Text generation with latent variables and adversaries
#
# *Mirrors article E (§1–§4: VAE, GAN, seqGAN and seqVAE for text, with Keras code; its
# references in §9 here) and the text-GAN passages of article A (§2.2, §3.1–§3.2).*
#
# Chapters 02–04 generated text with autoregressive language models trained by maximum
# likelihood. Article E presents two other families as the next step for text: variational
# autoencoders, which add a latent code $z$ that summarises a whole sentence, and generative
# adversarial networks, which replace the likelihood by a learned critic. It names their
# sequence versions (seqVAE, seqGAN) but leaves their principles and code to "the
# literature". This chapter supplies them. Text is not an image: two obstacles make both
# families harder here, and each is shown in code before it is solved — a sampled token has no
# gradient, and a strong decoder can ignore the latent code. Then a sequence VAE with the
# standard remedies for that second problem, the gradient estimators that get around the first,
# and SeqGAN, measured on the benchmark its paper introduced — with the later finding that
# plain maximum likelihood with a temperature is hard to beat.

# %%
import math
import time

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F

from cgen_lessons import data, results
from cgen_lessons.utils import max_error, seed_everything, show_source, use_threads

chapter_start = time.perf_counter()
use_threads(2)
seed_everything(0);

# %% [markdown]
# ## 1 · Background: why text is different
#
# A GAN's generator learns from the discriminator's *gradient*: chapter 06 moved each
# generated point $G(z)$ in the direction $\nabla_x D(x)$ at $x = G(z)$. An image is a vector of
# real numbers, so that direction exists. A sentence is a sequence of discrete tokens: the
# generator outputs a distribution $p_\theta(x_t \mid x_{<t})$, and the text is a *sample* from it.
# A small change of $\theta$ either leaves the sampled token unchanged or switches it to another
# one — the sample is a piecewise-constant function of $\theta$, with zero derivative almost
# everywhere and no derivative at the switches.
#
# A VAE does not need that gradient (it is trained by likelihood), but it meets a second
# obstacle: its decoder is an autoregressive language model that can model $p(x)$ well *without*
# $z$; the KL term of the ELBO then pushes $q(z \mid x)$ onto the prior and the code carries
# nothing — **posterior collapse** (§3).
#
# ### 1.1 Obstacle 1, in code: no gradient through a sampled token
#
# <a id="errata-c-4-3-2-discrete"></a>A recurrent generator (chapter 02's `RecurrentLM`) picks tokens by `argmax` or by sampling;
# a discriminator (a small CNN over token sequences, §4) scores the result. We ask autograd for
# the generator's gradient.

# %%
# NBVAL_CHECK_OUTPUT
# errata: c-binary-generator
from cgen_lessons.gan import g_loss_nonsaturating, toy_gan_1d
from cgen_lessons.rnn import RecurrentLM
from cgen_lessons.textgan import SeqDiscriminator, soft_sample

V, T = 12, 8
torch.manual_seed(0)
G, D = RecurrentLM(V, "lstm", 16, 32), SeqDiscriminator(V)
logits, _ = G(torch.zeros(4, T, dtype=torch.long))  # (B, T, V): next-token logits along a sequence
for name, tokens in (("argmax", logits.argmax(-1)),
                     ("multinomial", torch.multinomial(logits.softmax(-1).flatten(0, 1), 1).view(4, T))):
    score = D(F.one_hot(tokens, V).float()).sum()  # the tokens fed to D as one-hot rows
    grads = torch.autograd.grad(score, list(G.parameters()), allow_unused=True)
    print(f"{name:11s}: tokens of dtype {tokens.dtype}; gradient of D's score reaching G: "
          f"{'none' if all(gr is None for gr in grads) else 'yes'}")
y = soft_sample(G, 4, T, tau=1.0)  # (B, T, V): a Gumbel-softmax relaxation (§2)
grads = torch.autograd.grad(D(y).sum(), list(G.parameters()), allow_unused=True)
print("Gumbel-softmax relaxation: gradient reaching G:",
      "yes (non-zero)" if sum(gr.abs().sum() for gr in grads if gr is not None) > 0 else "none")

# %% [markdown]
# Token ids are integers; autograd does not differentiate through them, so the discriminator's
# verdict is a constant as far as $G$ is concerned. The obvious patch — give $D$ the generator's
# probability vectors instead of samples — fails in another way: real text is one-hot, so any
# discriminator can tell soft vectors from real ones without looking at the text at all.

# %%
real = F.one_hot(torch.randint(V, (200, T)), V).float()  # (N, T, V) one-hot "real" text
with torch.no_grad():
    fake = G(torch.zeros(200, T, dtype=torch.long))[0].softmax(-1)  # (N, T, V) probability vectors
is_one_hot = lambda x: (x.amax(-1) > 0.999).all(-1)  # a "discriminator" that never reads the text
accuracy = (is_one_hot(real).float().mean() + (~is_one_hot(fake)).float().mean()) / 2
print(f"the rule 'every row is one-hot' separates real from soft fakes with accuracy {accuracy:.0%} "
      "(an illustration: true by construction, since a softmax output is never exactly one-hot)")

# %% [markdown]
# There are two ways out, and §2 measures both: estimate the gradient of the *expected*
# score $\mathbb E_{x \sim p_\theta}[D(x)]$ without differentiating the sample (the score-function or
# REINFORCE estimator, which SeqGAN uses), or replace the sample by a differentiable
# relaxation that becomes one-hot in a limit (Gumbel-softmax).
#
# ## 2 · Gradients through discrete choices
#
# Let $p_\theta = \mathrm{softmax}(\theta)$ over $K$ classes and $f$ any function of the sampled class (a
# discriminator's score, a reward). The objective is $L(\theta) = \mathbb E_{x \sim p_\theta}[f(x)] = \sum_x p_\theta(x) f(x)$.
#
# **Score function (REINFORCE; Williams 1992).** Because $\nabla_\theta p_\theta(x) = p_\theta(x)\, \nabla_\theta \log p_\theta(x)$,
#
# $$\nabla_\theta L = \sum_x f(x)\, \nabla_\theta p_\theta(x) = \mathbb E_{x \sim p_\theta}\big[f(x)\, \nabla_\theta \log p_\theta(x)\big], \qquad \nabla_\theta \log p_\theta(x) = e_x - p_\theta$$
#
# for a softmax ($e_x$ the one-hot vector of $x$). It needs only samples and $\log p$, never a
# derivative of $f$ — so $f$ may be a discrete, black-box reward. Since
# $\mathbb E[\nabla_\theta \log p_\theta(x)] = \nabla_\theta \sum_x p_\theta(x) = \nabla_\theta 1 = 0$, subtracting a **baseline** $b$ that does not depend on
# $x$ keeps the estimator unbiased and can cut its variance: $g = (f(x) - b)(e_x - p_\theta)$. With
# $n$ samples, the mean of the *other* $n - 1$ rewards is such a baseline for each sample.
#
# **Gumbel-max and Gumbel-softmax (Jang et al. 2017; Maddison et al. 2017).** With independent
# $g_k = -\log(-\log u_k)$, $u_k \sim U(0, 1)$ (Gumbel noise),
#
# $$\arg\max_k\, (\theta_k + g_k) \sim \mathrm{Categorical}(\mathrm{softmax}\,\theta) \quad\text{exactly}, \qquad y = \mathrm{softmax}\big((\theta + g)/\tau\big) \xrightarrow{\tau \to 0} e_{\arg\max_k(\theta_k + g_k)}.$$
#
# The relaxed sample $y$ is a differentiable function of $\theta$ for fixed noise, so
# $\nabla_\theta f(y)$ is a reparameterised estimator (chapter 05's trick) — of the gradient of
# $\mathbb E_g[f(y)]$, a *relaxed* objective, not of $L$: it is biased for $\tau > 0$. The
# **straight-through** variant uses the hard one-hot $e_{\arg\max}$ in the forward pass and the
# soft $y$'s gradient in the backward pass — also biased.
#
# First, the two identities: the score-function form equals autograd's gradient of the
# enumerated sum, and Gumbel-max sampling is exact (a $\chi^2$ goodness-of-fit test on 100,000
# draws — and the same test rejects a near miss that adds Gaussian instead of Gumbel noise).

# %%
# NBVAL_CHECK_OUTPUT
from scipy import stats

from cgen_lessons.textgan import exact_gradient, gumbel_gradients, gumbel_max_sample, reinforce_gradients

theta = torch.tensor([1.0, -0.5, 0.3, 2.0, -1.0], dtype=torch.float64)
c = torch.arange(5, dtype=torch.float64)
f = lambda y: (y @ c - 2.5) ** 2  # a reward that is nonlinear in the one-hot vector y
p = theta.softmax(-1)
score_form = (p * f(torch.eye(5, dtype=torch.float64))) @ (torch.eye(5, dtype=torch.float64) - p)
print("score-function form vs autograd of the enumerated sum:", max_error(score_form, exact_gradient(theta, f), 1e-12))

g = torch.Generator().manual_seed(0)
n = 100_000
expected = (p * n).numpy()
gumbel_counts = torch.bincount(gumbel_max_sample(theta.expand(n, -1), g), minlength=5).numpy()
gauss_counts = torch.bincount((theta + torch.randn(n, 5, generator=g, dtype=torch.float64)).argmax(-1),
                              minlength=5).numpy()
print("Gumbel-max draws consistent with softmax(θ) (χ² p > 0.01):",
      stats.chisquare(gumbel_counts, expected).pvalue > 0.01)
print("argmax with Gaussian noise rejected (χ² p < 1e-6):", stats.chisquare(gauss_counts, expected).pvalue < 1e-6)

# %% [markdown]
# Now the estimators themselves, against the exact gradient of this small problem: 20,000
# single-sample estimates each; **bias** is the distance between their mean and the exact
# gradient (with its standard error), **variance** the trace of their covariance — what one
# sample costs in noise.

# %%
exact = exact_gradient(theta, f)
estimators = {"REINFORCE": lambda n, g: reinforce_gradients(theta, f, n, generator=g),
              "REINFORCE + baseline": lambda n, g: reinforce_gradients(theta, f, n, baseline=True, generator=g)}
taus = [0.1, 0.2, 0.5, 1.0, 2.0]
for tau in taus:
    estimators[f"Gumbel-softmax τ={tau}"] = lambda n, g, tau=tau: gumbel_gradients(theta, f, n, tau, generator=g)
    estimators[f"straight-through τ={tau}"] = lambda n, g, tau=tau: gumbel_gradients(theta, f, n, tau, hard=True,
                                                                                     generator=g)
estimator_stats = {}
print(f"{'estimator':26s} {'|bias|':>8s} {'bias / SE':>10s} {'variance':>9s} {'cosine':>8s} {'scale':>7s}")
for name, estimate in estimators.items():
    e = estimate(20_000, torch.Generator().manual_seed(1))  # (n, K) one estimate per row
    bias = e.mean(0) - exact
    se = e.std(0) / math.sqrt(len(e))
    mean = e.mean(0)
    estimator_stats[name] = dict(bias=bias.norm().item(), z=(bias.abs() / se).max().item(), var=e.var(0).sum().item(),
                                 cos=F.cosine_similarity(mean, exact, dim=0).item(),
                                 scale=(mean.norm() / exact.norm()).item())
    s = estimator_stats[name]
    print(f"{name:26s} {s['bias']:8.3f} {s['z']:10.1f} {s['var']:9.2f} {s['cos']:8.2f} {s['scale']:7.2f}")

# %%
fig, ax = plt.subplots(figsize=(6, 4))
for kind, marker in (("Gumbel-softmax", "o-"), ("straight-through", "s--")):
    xs = [estimator_stats[f"{kind} τ={t}"]["var"] for t in taus]
    ys = [estimator_stats[f"{kind} τ={t}"]["bias"] for t in taus]
    ax.plot(xs, ys, marker, label=kind)
    for t, x_, y_ in zip(taus, xs, ys):
        ax.annotate(f"τ={t}", (x_, y_), textcoords="offset points", xytext=(4, 4), fontsize=8)
for name, marker in (("REINFORCE", "r^"), ("REINFORCE + baseline", "gv")):
    ax.plot(estimator_stats[name]["var"], max(estimator_stats[name]["bias"], 1e-3), marker, ms=9,
            label=name + " (unbiased)")
ax.set(xscale="log", yscale="log", xlabel="variance of one estimate (trace)", ylabel="|bias| (norm)",
       title="Bias vs variance of gradient estimators")
ax.legend(fontsize=8)
plt.show()

# %%
# NBVAL_CHECK_OUTPUT
s = estimator_stats
print("REINFORCE, with and without baseline, unbiased (|bias| < 4 SE in every coordinate):",
      s["REINFORCE"]["z"] < 4 and s["REINFORCE + baseline"]["z"] < 4)
print("the leave-one-out baseline cuts the variance by more than 1.5×:",
      s["REINFORCE"]["var"] > 1.5 * s["REINFORCE + baseline"]["var"])
gs_bias = [s[f"Gumbel-softmax τ={t}"]["bias"] for t in taus]
gs_var = [s[f"Gumbel-softmax τ={t}"]["var"] for t in taus]
print("Gumbel-softmax biased at τ = 1 (> 5 SE):", s["Gumbel-softmax τ=1.0"]["z"] > 5)
print("as τ falls, its bias falls and its variance rises (monotone over τ = 2 … 0.1):",
      gs_bias == sorted(gs_bias) and gs_var == sorted(gs_var, reverse=True))
print("at τ = 0.1 its variance exceeds plain REINFORCE's:", s["Gumbel-softmax τ=0.1"]["var"] > s["REINFORCE"]["var"])

# %% [markdown]
# The temperature is a dial between bias and variance: at $\tau = 2$ the relaxed gradient is smooth
# and strongly biased — not in its direction (its mean has cosine 0.95 with the exact gradient, the
# "cosine" column) but in its length, which it shrinks to 0.26 of the true one (the "scale"
# column): the relaxation flattens the objective; at $\tau = 0.1$ it is nearly unbiased but noisier
# than plain REINFORCE, because the soft sample changes abruptly near the class boundaries. The
# baseline halves REINFORCE's variance for free. A Gumbel-softmax GAN must also feed *soft*
# tokens to the discriminator, which sees one-hot real data (§1.1) — unless $\tau$ is small, when
# its gradients become noisy. This is the background for §4.
#
# ## 3 · A sequence VAE and posterior collapse
#
# <a id="errata-b-3-3-vae-text"></a>**Model (Bowman et al. 2016).** An encoder RNN reads the sequence $x = (x_1, \dots, x_T)$; from its
# last hidden state $h_T$ two linear maps give $q_\phi(z \mid x) = \mathcal N(\mu(h_T), \operatorname{diag}\sigma^2(h_T))$. The decoder is
# chapter 02's recurrent language model, started from the code:
#
# $$p_\theta(x \mid z) = \prod_{t=1}^{T} p_\theta(x_t \mid x_{<t}, z), \qquad h_0 = \tanh(W_z z + b_z).$$
#
# Training maximises chapter 05's ELBO, here per sequence in nats:
#
# $$\mathrm{ELBO}(x) = \mathbb E_{q_\phi(z|x)}\Big[\sum_{t} \log p_\theta(x_t \mid x_{<t}, z)\Big] - \mathrm{KL}\big(q_\phi(z \mid x)\,\|\,\mathcal N(0, I)\big) \le \log p_\theta(x).$$
#
# **Why it collapses.** The decoder sees $x_{<t}$. If it can predict $x_t$ from that alone as well
# as it could with $z$, then $q(z \mid x) = p(z)$ for every $x$ makes the KL zero and costs nothing in
# reconstruction — an optimum of the ELBO where $z$ is ignored. Early in training the encoder's
# codes are noise, the decoder learns to do without them, and the KL gradient pulls every $q$ to
# the prior before the encoder becomes useful.
#
# **Remedies**, each a change of the objective or of the decoder's inputs:
# - *KL annealing* (Bowman et al. 2016): weight the KL by $\beta_t$ rising from 0 to 1, linearly over
#   the first half of training, or *cyclically* — repeated ramps (Fu et al. 2019):
#   $\beta_t = \min\big(1, \frac{((t-1) \bmod P) + 1}{R\,P}\big)$ with period $P$ = steps / cycles and ramp fraction $R$.
# - *Word (here: character) dropout* (Bowman et al. 2016): replace each decoder input token by a
#   blank with probability $p$, so the decoder must get the information from $z$.
# - *Free bits* (Kingma et al. 2016): replace the KL by $\sum_j \max\big(\lambda, \mathrm{KL}_j\big)$ with $\mathrm{KL}_j$
#   the batch-averaged KL of dimension $j$; below $\lambda$ nats a dimension costs nothing more, so
#   there is no gain in collapsing it.
#
# **Diagnostics.** The KL itself (nats per sequence); **active units** (Burda et al. 2016), the
# dimensions $u$ with $\mathrm{Cov}_x\big(\mathbb E_{q(z|x)}[z_u]\big) > 0.01$; and the likelihood, estimated by importance
# sampling with $K$ draws from $q$ (chapter 05):
#
# $$\log p_\theta(x) \approx \log \frac1K \sum_{k=1}^K \frac{p_\theta(x \mid z_k)\, p(z_k)}{q_\phi(z_k \mid x)}, \quad z_k \sim q_\phi(z \mid x),$$
#
# a lower bound that tightens as $K$ grows, so that a VAE can be compared with a plain language
# model on the same data.
#
# **Data.** The distinct words of 3–10 letters in the Shakespeare plays, each a sequence of
# characters, split at random into training, validation and test words. A word is short, but
# its spelling is far from predictable: the plain LM needs about 15 nats per word (below). (The
# optional Chinese corpus, the few hundred Tang poems of chapter 00, is too little text
# for a sequence VAE in this budget; the words come with the always-installed English corpus.)

# %%
words = data.load_words("shakespeare", 3, 10)
train_words, val_words, test_words = data.split_items(words, seed=0)
tok = data.CharTokenizer([data.PAD, data.BOS, data.EOS] + [chr(i) for i in range(ord("a"), ord("z") + 1)])
PAD_ID, BOS_ID, EOS_ID = (tok.stoi[s] for s in (data.PAD, data.BOS, data.EOS))
encode_words = lambda ws: data.encode_pairs([(w, w) for w in ws], tok, 11)  # src, BOS+word, word+EOS
train_set, val_set = encode_words(train_words), encode_words(val_words)
print(f"{len(words):,} words: {len(train_words):,} train / {len(val_words):,} validation / {len(test_words):,} test;",
      "e.g.", ", ".join(train_words[:6]))

# %%
from cgen_lessons.seqvae import SeqVAE, make_seqvae_step

show_source(SeqVAE.terms)

# %%
show_source(make_seqvae_step)

# %% [markdown]
# We train two sequence VAEs with the shared training loop — the plain ELBO and free bits
# ($\lambda = 0.25$ nat per dimension) — identical in everything else (GRU encoder and decoder with
# 128 units, a 16-dimensional $z$, Adam, 800 steps of 128 words). The benchmark below runs all the
# remedies for longer.

# %%
from cgen_lessons.train import fit

STEPS = 800


vaes, vae_histories = {}, {}
for name, free_bits in (("plain ELBO", 0.0), ("free bits 0.25", 0.25)):
    torch.manual_seed(0)
    vaes[name] = SeqVAE(tok.vocab_size, PAD_ID)
    vae_histories[name] = fit(vaes[name], torch.optim.Adam(vaes[name].parameters(), 2e-3),
                              data.random_rows(*train_set, batch_size=128), steps=STEPS,
                              step_fn=make_seqvae_step("constant", STEPS, free_bits), desc=name)

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
for name, h in vae_histories.items():
    for ax, key in zip(axes, ("kl", "rec")):
        v = torch.tensor(h.train[key])
        ax.plot(h.train["step"][24:], v.unfold(0, 25, 1).mean(1).tolist(), label=name)  # 25-step moving average
axes[0].set(xlabel="step", ylabel="KL(q(z|x) ‖ p(z)), nats per word", title="The KL term")
axes[1].set(xlabel="step", ylabel="−E_q log p(x|z), nats per word", title="Reconstruction")
axes[0].legend()
plt.show()

# %% [markdown]
# On the validation words: the KL, the active units and the importance-sampled negative
# log-likelihood with $K = 100$ (500 words), beside the negative ELBO.

# %%
from cgen_lessons.seqvae import active_units, importance_nll

val_eval = tuple(t[:500] for t in val_set)
vae_stats = {}
for name, model in vaes.items():
    model.eval()
    with torch.no_grad():
        torch.manual_seed(0)
        terms = model.terms(val_eval)
    nll = importance_nll(model, val_eval, k=100, generator=torch.Generator().manual_seed(0))
    vae_stats[name] = dict(rec=terms["rec"].mean().item(), kl=terms["kl"].sum(1).mean().item(),
                           au=active_units(model, val_eval[0]),
                           neg_elbo=(terms["rec"] + terms["kl"].sum(1)).mean().item(),
                           is_nll=nll.mean().item())
    s = vae_stats[name]
    print(f"{name:15s} reconstruction {s['rec']:6.2f}  KL {s['kl']:5.2f}  active units {s['au']:2d}/16  "
          f"−ELBO {s['neg_elbo']:6.2f}  −log p(x) (K=100) {s['is_nll']:6.2f}  nats per word")

# %%
# NBVAL_CHECK_OUTPUT
# errata: b-vae-text
plain, fb = vae_stats["plain ELBO"], vae_stats["free bits 0.25"]
print("plain ELBO collapses: KL below 0.2 nat per word:", plain["kl"] < 0.2)
print("free bits keep the code in use: KL above 2 nats and at least 8 of 16 units active:",
      fb["kl"] > 2 and fb["au"] >= 8)
print("free bits trade reconstruction for KL: lower reconstruction loss than the plain ELBO:", fb["rec"] < plain["rec"])

# %% [markdown]
# The plain ELBO's KL stays near zero from the first steps on: the decoder is a character LM
# that models the words without $z$, and the encoder is ignored. (Its "active units" count is a
# threshold on the variance of $\mu$ across words; with a total KL of a few hundredths of a nat,
# the units above the threshold carry almost nothing — a coarse diagnostic, to be read with the
# KL.) Free bits keep about $16 \times 0.25 = 4$ nats in the code, and the reconstruction term
# drops accordingly — the decoder now reads $z$. Note the gap between $-\mathrm{ELBO}$ and the
# importance-sampled $-\log p(x)$ for the free-bits model: the bound is loose by about a nat.
#
# **All remedies, longer runs.** `benchmarks/seq_vae.py` trains every variant for 2,000 steps
# with three seeds and evaluates on 1,000 test words (the settings are the papers' defaults,
# fixed before the run, not tuned); the "plain LM" row is the decoder alone, with no latent code
# — chapter 02's model on the same data.

# %%
bench_vae = results.load("seq_vae")
variants = list(dict.fromkeys(r["variant"] for r in bench_vae["runs"]))
vae_table = {}
print(f"{'variant':24s} {'reconstruction':>15s} {'KL':>12s} {'active units':>13s} {'−log p(x), K=100':>18s}")
for v in variants:
    rows = [r for r in bench_vae["runs"] if r["variant"] == v]
    stat = {k: torch.tensor([float(r[k]) for r in rows]) for k in ("rec", "kl", "active_units", "is_nll")}
    vae_table[v] = {k: (x.mean().item(), x.std().item()) for k, x in stat.items()}
    m = vae_table[v]
    print(f"{v:24s} {m['rec'][0]:8.2f} ± {m['rec'][1]:4.2f} {m['kl'][0]:6.2f} ± {m['kl'][1]:4.2f} "
          f"{m['active_units'][0]:7.1f} ± {m['active_units'][1]:3.1f} {m['is_nll'][0]:11.2f} ± {m['is_nll'][1]:4.2f}")
print(f"(mean ± sd over {len(rows)} seeds, {bench_vae['setup']['steps']} steps, "
      f"{bench_vae['n_test_words']} test words; nats per word)")

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
names = [v for v in variants if v != "plain LM (no z)"]
axes[0].bar(range(len(names)), [vae_table[v]["kl"][0] for v in names], yerr=[vae_table[v]["kl"][1] for v in names])
axes[0].set(xticks=range(len(names)), ylabel="KL, nats per word", title="Information in the code")
axes[0].set_xticklabels(names, rotation=25, ha="right", fontsize=8)
axes[1].bar(range(len(variants)), [vae_table[v]["is_nll"][0] for v in variants],
            yerr=[vae_table[v]["is_nll"][1] for v in variants], color="tab:orange")
lo = min(vae_table[v]["is_nll"][0] for v in variants)
axes[1].set(xticks=range(len(variants)), ylabel="−log p(x), nats per word", title="Test likelihood (K = 100)",
            ylim=(lo - 1, lo + 1.5))
axes[1].set_xticklabels(variants, rotation=25, ha="right", fontsize=8)
plt.tight_layout()
plt.show()

# %%
# NBVAL_CHECK_OUTPUT
lm_nll = vae_table["plain LM (no z)"]["is_nll"][0]
print("plain ELBO collapsed in the benchmark (KL < 0.2 nat):", vae_table["plain ELBO"]["kl"][0] < 0.2)
print("every remedy puts more information in z than the plain ELBO:",
      all(vae_table[v]["kl"][0] > vae_table["plain ELBO"]["kl"][0] + 0.3 for v in names if v != "plain ELBO"))
print("no VAE has a better test likelihood than the plain LM by more than 0.1 nat:",
      all(vae_table[v]["is_nll"][0] > lm_nll - 0.1 for v in names))

# %% [markdown]
# This reproduces, on words, what the literature found on sentences: without help the code
# collapses; every remedy makes the model *use* $z$ (more KL, more active units, better
# reconstruction), and none of them buys likelihood — the plain ELBO and cyclical annealing tie
# with the plain language model, the other remedies are worse by a tenth of a nat (free bits,
# linear annealing) to more than half a nat (character dropout, which also handicaps the
# decoder). A latent code is worth having for what it enables — a smooth space of sequences to
# sample, interpolate and control — not for perplexity.
#
# **Decoding from the latent space.** Greedy decodings along the straight line between the
# codes $\mu(a)$ and $\mu(b)$ of two validation words (a *homotopy*, Bowman et al. 2016), and words
# decoded from prior samples $z \sim \mathcal N(0, I)$, for the free-bits model:

# %%
from cgen_lessons.seqvae import interpolate

model = vaes["free bits 0.25"].eval()
for a, b in (("sword", "honour"), ("king", "lady"), ("night", "morning")):
    src = encode_words([a, b])[0]
    path = interpolate(model, src[0], src[1], 7, BOS_ID, EOS_ID, 11)
    print(f"[{a}] ", " → ".join(tok.decode(w) for w in path), f" [{b}]")
z = torch.randn(16, model.z_dim, generator=torch.Generator().manual_seed(0))
prior_words = [tok.decode(w) for w in model.decode(z, BOS_ID, EOS_ID, 11, greedy=False,
                                                   generator=torch.Generator().manual_seed(0))]
print("\nfrom the prior:", ", ".join(prior_words))
word_set, train_set_words = set(words), set(train_words)
print(f"{sum(w in word_set for w in prior_words)} of 16 are words of the plays, "
      f"{sum(w in word_set and w not in train_set_words for w in prior_words)} of them not in the training words")

# %% [markdown]
# The homotopies pass through plausible letter strings that change gradually — the latent
# space is smooth in spelling (shared prefixes, endings, length), not in meaning: a code of a
# word's letters knows nothing of what "honour" means. Even the end points are often not the
# input words (in brackets): the code holds about 4 nats, a word costs about 15, and the decoder
# fills in the rest with likely letters — a VAE reconstructs the gist, not the string.
#
# ## 4 · SeqGAN: adversarial training by policy gradient
#
# **The algorithm (Yu et al. 2017).** The generator $G_\theta$ is a language model, read as a
# *policy*: the state is the prefix $Y_{1:t-1}$, the action the next token $y_t$. The discriminator
# $D$ (a CNN over token sequences, as in the paper) scores only complete sequences, so the
# value of a prefix is estimated by **Monte-Carlo rollouts**: complete it $N$ times with $G$ and
# average $D$ over the completions,
#
# $$Q(Y_{1:t}) = \frac1N \sum_{n=1}^{N} D\big(Y_{1:t} \cdot Y^{n}_{t+1:T}\big) \;\; (t < T), \qquad Q(Y_{1:T}) = D(Y_{1:T}).$$
#
# The generator maximises $J(\theta) = \mathbb E_{Y \sim G_\theta}[D(Y)]$ with the score-function gradient of §2,
# one term per token:
#
# $$\nabla_\theta J \approx \frac1B \sum_{b=1}^B \sum_{t=1}^T Q(Y^{b}_{1:t})\, \nabla_\theta \log G_\theta(y^b_t \mid Y^b_{1:t-1}),$$
#
# alternating with ordinary discriminator steps on real versus generated sequences. $G$ is
# first pretrained by maximum likelihood: from scratch, REINFORCE with a reward this sparse
# does not get off the ground.

# %%
from cgen_lessons.textgan import make_seqgan_step, rollout_rewards

show_source(rollout_rewards)

# %%
show_source(make_seqgan_step)

# %% [markdown]
# ### 4.1 The synthetic-oracle benchmark
#
# Text GANs are hard to evaluate because the true distribution of text is unknown. Yu et al.
# made it known: a randomly initialised LSTM (every parameter drawn from $\mathcal N(0, 1)$) is the
# **oracle**; its samples are the training data, and the quality of a generator's samples
# $Y^{(1)}, \dots, Y^{(M)}$ is their exact per-token negative log-likelihood under the oracle,
#
# $$\mathrm{NLL}_{\text{oracle}} = -\frac{1}{MT} \sum_{m=1}^{M} \sum_{t=1}^{T} \log p_{\text{oracle}}\big(y^{(m)}_t \mid y^{(m)}_{<t}\big).$$
#
# For the oracle's own samples this is a Monte-Carlo estimate of its entropy rate $H/T$ — the floor
# for a generator that matches the oracle. We check that on an oracle small enough to enumerate:
# 3 tokens, length 4, all 81 sequences.

# %%
# NBVAL_CHECK_OUTPUT
import itertools

from cgen_lessons.textgan import make_oracle, sample_sequences, sequence_nll

tiny = make_oracle(3, d_hidden=4, d_embed=4, seed=0)
all_seqs = torch.tensor(list(itertools.product(range(3), repeat=4)))  # (81, 4)
with torch.no_grad():
    log_p = -4 * sequence_nll(tiny, all_seqs)  # log p(Y) of every sequence
    entropy_rate = -(log_p.exp() * log_p).sum() / 4
    own = sequence_nll(tiny, sample_sequences(tiny, 20_000, 4, generator=torch.Generator().manual_seed(0)))
print("probabilities of the 81 sequences sum to 1:", max_error(log_p.exp().sum(), 1.0, 1e-5))
print("NLL_oracle of 20,000 own samples vs exact entropy rate: within 4 standard errors:",
      abs(own.mean() - entropy_rate).item() < 4 * own.std().item() / math.sqrt(len(own)))

# %% [markdown]
# `benchmarks/seqgan_oracle.py` runs the protocol of Yu et al. (2017) scaled down for a CPU: 32
# tokens instead of 5,000, length 20, 10,000 training sequences, generators with 32 LSTM units (the paper's size).
# Each seed pretrains one generator by MLE for 1,500 steps; from that same starting point, for
# 300 more generator updates each, (a) MLE continues, (b) SeqGAN (8 rollouts per prefix; the
# paper used 16) and (c) a Gumbel-softmax GAN (Kusner & Hernández-Lobato 2016; τ = 1, §2) take
# over. The Gumbel GAN is a *handicapped baseline*: a fixed $\tau = 1$ (no annealing, no
# straight-through), soft tokens shown to the discriminator and fed back during training but hard
# tokens at test time — the simplest version, not a tuned one. Three seeds. Besides
# NLL$_\text{oracle}$ (quality), NLL$_\text{test}$ — the generator's NLL of 2,000 held-out oracle sequences —
# measures coverage: a generator that produces one perfect sequence has an excellent
# NLL$_\text{oracle}$ and a terrible NLL$_\text{test}$.

# %%
bench_gan = results.load("seqgan_oracle")
methods = ["pretrained (MLE)", "MLE", "SeqGAN", "Gumbel GAN"]
gan_table = {}
print("oracle entropy rate (NLL_oracle of held-out oracle data): "
      f"{bench_gan['oracle_nll_of_test_data']:.3f} nats per token\n")
print(f"{'method':18s} {'NLL_oracle':>14s} {'NLL_test':>14s} {'seconds':>9s}")
for m in methods:
    rows = [r for r in bench_gan["runs"] if r["method"] == m]
    gan_table[m] = {k: torch.tensor([float(r[k]) for r in rows]) for k in ("nll_oracle", "nll_test", "seconds")}
    t_ = gan_table[m]
    print(f"{m:18s} {t_['nll_oracle'].mean():7.3f} ± {t_['nll_oracle'].std():.3f} {t_['nll_test'].mean():7.3f} ± "
          f"{t_['nll_test'].std():.3f} {t_['seconds'].mean():8.1f}")
print(f"(mean ± sd over {len(rows)} seeds; nats per token; 'seconds' = the 300 further updates, one CPU thread)")

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 4))
colours = {"MLE": "tab:blue", "SeqGAN": "tab:red", "Gumbel GAN": "tab:green"}
for r in bench_gan["runs"]:
    if r["method"] in colours:
        axes[0].plot(r["curve"]["step"], r["curve"]["nll_oracle"], color=colours[r["method"]], alpha=0.7,
                     label=r["method"] if r["seed"] == 0 else None)
        axes[1].plot(r["sweep"]["nll_test"], r["sweep"]["nll_oracle"], "o-", ms=3, color=colours[r["method"]],
                     alpha=0.7, label=r["method"] if r["seed"] == 0 else None)
axes[0].axhline(bench_gan["oracle_nll_of_test_data"], color="k", ls=":", label="oracle entropy rate")
axes[0].set(xlabel="generator updates after pretraining", ylabel="NLL_oracle (nats/token)",
            title="Quality during training")
axes[1].axhline(bench_gan["oracle_nll_of_test_data"], color="k", ls=":")
axes[1].set(xlabel="NLL_test: coverage (lower is better)", ylabel="NLL_oracle: quality (lower is better)",
            title="Temperature sweep τ = 0.5 … 1.4 (Caccia et al. 2020)")
for ax in axes:
    ax.legend(fontsize=8)
plt.tight_layout()
plt.show()

# %%
# NBVAL_CHECK_OUTPUT
temps = bench_gan["temperatures"]
mle_runs = [r for r in bench_gan["runs"] if r["method"] == "MLE"]
seqgan_runs = [r for r in bench_gan["runs"] if r["method"] == "SeqGAN"]
better = sum(s["nll_oracle"] < m["nll_oracle"] for s, m in zip(seqgan_runs, mle_runs))
print(f"SeqGAN's NLL_oracle (τ = 1) below MLE's in {better} of {len(mle_runs)} seeds")
print("SeqGAN's NLL_test worse than MLE's in every seed:",
      all(s["nll_test"] > m["nll_test"] for s, m in zip(seqgan_runs, mle_runs)))
# Caccia et al.'s test: is there a temperature at which MLE is at least as good on both axes as SeqGAN at τ = 1?
dominated = sum(any(mo <= s["nll_oracle"] and mt <= s["nll_test"]
                    for mo, mt in zip(m["sweep"]["nll_oracle"], m["sweep"]["nll_test"]))
                for s, m in zip(seqgan_runs, mle_runs))
print(f"an MLE temperature matches or beats SeqGAN on quality and coverage at once "
      f"in {dominated} of {len(mle_runs)} seeds")
gumbel_runs = [r for r in bench_gan["runs"] if r["method"] == "Gumbel GAN"]
print("the Gumbel-softmax GAN's NLL_test worse than MLE's in every seed:",
      all(g_["nll_test"] > m["nll_test"] + 0.1 for g_, m in zip(gumbel_runs, mle_runs)))
dominated = sum(any(mo <= g_["nll_oracle"] and mt <= g_["nll_test"]
                    for mo, mt in zip(m["sweep"]["nll_oracle"], m["sweep"]["nll_test"]))
                for g_, m in zip(gumbel_runs, mle_runs))
print(f"an MLE temperature matches or beats the Gumbel GAN on both at once in {dominated} of {len(mle_runs)} seeds")
ratio = (gan_table["SeqGAN"]["seconds"] / gan_table["MLE"]["seconds"]).mean().item()
print("a SeqGAN update costs more than 20 MLE updates:", ratio > 20)

# %% [markdown]
# **What the measurements say.** At this scale SeqGAN does not reliably improve quality over
# continuing MLE for the same number of updates (better in one seed of three, worse in two), it
# loses coverage in every seed, and each of its updates costs far more than an MLE update (every
# update samples $N$ completions of every prefix). Without a baseline, all its rewards are
# positive, so every sampled sequence has its probability pushed up — the variance of §2 at
# work. The temperature sweep (right) makes the point of Caccia et al. (2020): compared as
# curves rather than single points, MLE with a temperature below 1 reaches better quality *and*
# better coverage than either GAN at $\tau = 1$. The Gumbel-softmax GAN (with $\tau = 1$ and soft
# tokens shown to the discriminator) is the clearest case: its curve lies far to the right —
# it has collapsed onto part of the oracle's distribution. Yu et al. report a clear gain for
# SeqGAN (NLL$_\text{oracle}$ 8.74 vs 9.04 for MLE, with a 5,000-token vocabulary and much longer
# training); our scaled-down run does not reproduce a gain, and the paper compared single
# points at $\tau = 1$, not trade-off curves. Two more things the figure shows: the Gumbel GAN's
# quality jumps up and down during training (left) — adversarial training on relaxed tokens is
# unstable — and at low temperatures every generator's NLL$_\text{oracle}$ drops *below* the oracle's
# own entropy rate: a generator that emits only the oracle's most likely sequences scores
# "better than the data" on quality, which is why a quality number without a coverage number
# says little (chapter 09).
#
# ## 5 · Real text: SeqGAN on the words
#
# The same machinery on real data: a word generator (chapter 02's LSTM LM over the letters,
# each word padded to 11 symbols after its end mark) pretrained by MLE; its discriminator is
# pretrained on real words against the generator's samples; then SeqGAN tunes the generator
# for 40 updates. We count how many of 500 sampled words are words of the plays, how many of
# those are *new* (not training words), and how many distinct words there are.

# %%
from cgen_lessons.textgan import TextGAN, mle_loss, pretrain_discriminator

word_seqs = train_set[2]  # (N, 11): word + EOS + padding, the sequences to generate
torch.manual_seed(0)
word_G = RecurrentLM(tok.vocab_size, "lstm", 32, 128)
fit(word_G, torch.optim.Adam(word_G.parameters(), 3e-3), data.random_rows(word_seqs, batch_size=128), steps=1500,
    loss_fn=lambda m, y: mle_loss(m, y, BOS_ID), desc="MLE pretraining")


def word_report(G, label, n=500):
    seqs = sample_sequences(G, n, 11, start_id=BOS_ID, generator=torch.Generator().manual_seed(1))
    out = [tok.decode(s[: s.tolist().index(EOS_ID)]) if EOS_ID in s.tolist() else tok.decode(s) for s in seqs]
    real_ = [w for w in out if w in word_set]
    new_ = [w for w in real_ if w not in train_set_words]
    print(f"{label:16s} real words {len(real_) / n:5.1%}  new real words {len(new_) / n:5.1%}  "
          f"distinct {len(set(out)) / n:5.1%}"
          f"   e.g. {', '.join(w.replace(data.PAD, '·') for w in out[:8])}")
    return len(real_) / n, len(set(out)) / n


before = word_report(word_G, "MLE")
torch.manual_seed(0)
word_gan = TextGAN(word_G, SeqDiscriminator(tok.vocab_size))
opts = {"G": torch.optim.Adam(word_G.parameters(), 1e-3), "D": torch.optim.Adam(word_gan.D.parameters(), 1e-3)}
real_words_fn = data.random_rows(word_seqs, batch_size=64)  # batches (64, 11) of real words
d_losses = pretrain_discriminator(word_gan, opts["D"], real_words_fn, 150, 11, BOS_ID, torch.Generator().manual_seed(0))
d_final = sum(d_losses[-20:]) / 20
print(f"discriminator pretraining: loss {d_losses[0]:.3f} → {d_final:.3f} (log 4 = {math.log(4):.3f} is chance)")
fit(word_gan, opts, real_words_fn, steps=40, step_fn=make_seqgan_step(11, n_rollouts=4, d_steps=3, start_id=BOS_ID),
    desc="SeqGAN")
after = word_report(word_G, "after SeqGAN")

# %%
# NBVAL_CHECK_OUTPUT
print("the pretrained discriminator stays within 0.05 nat of chance (log 4):", abs(d_final - math.log(4)) < 0.05)
print("SeqGAN tuning raised the share of real words:", after[0] > before[0])

# %% [markdown]
# An instructive failure, on one seed (the oracle benchmark above is the controlled
# comparison). Most of the generator's words are not English, yet the discriminator cannot tell
# them from real ones: they have the right letter statistics, and what separates *desolation*
# from *democtaced* is membership in a vocabulary, which a small CNN does not learn from a few
# thousand examples. (The same CNN learns within a few hundred steps to separate real words from
# their letters shuffled.) With a discriminator at chance, SeqGAN's rewards are noise around 0.5;
# without a baseline every sampled word then has its probability raised, the good and the bad
# alike, and the generator drifts — the share of real words falls. A GAN generator is only as
# good as the critic it learns from.
#
# ## 6 · Applications
#
# Sequence VAEs are used where a continuous code of a sequence is the point: interpolating and
# sampling sentences or molecules (SMILES strings, Gómez-Bombarelli et al. 2018), controlling
# attributes by moving in latent space, and semi-supervised classification. Text GANs were an
# active research topic from 2017 to 2019; measured carefully (Caccia et al. 2020; Semeniuta et
# al. 2018), they did not beat maximum-likelihood language models with a tuned temperature, and
# large language models trained by MLE — chapters 02–04's recipe, scaled up — now generate text.
# The policy-gradient idea survived: fine-tuning language models on a learned reward with
# REINFORCE-style estimators and a baseline is the same algorithm as SeqGAN's generator step,
# with a reward model in place of $D$.
#
# ## 7 · Corrections to the source articles
#
# <a id="errata-e-2-1-elbo"></a>**Article E §2.1 and §3.1 — $\log p_\theta(x) = \mathbb E_q[\log p_\theta(x \mid z)] - D_\text{KL}(q \,\|\, p)$.** E writes the ELBO as an
# *equality* with the log-likelihood (and tells the reader to "maximise this probability").
# *Why it is wrong:* the right side is a lower bound; the gap is $\mathrm{KL}(q(z \mid x) \,\|\, p(z \mid x)) \ge 0$
# (derived and checked in chapter 05 §2). On the trained sequence VAE above, the measured gap:

# %%
# NBVAL_CHECK_OUTPUT
# errata: e-elbo-equality, e-elbo-equality-3
gap = vae_stats["free bits 0.25"]["neg_elbo"] - vae_stats["free bits 0.25"]["is_nll"]
print("free-bits sequence VAE: the K=100 bound is visibly tighter than the ELBO on validation words "
      "(gap > 0.05 nats; positive in expectation by theorem, "
      f"so this checks only that it is visible here): {gap > 0.05}")

# %% [markdown]
# *Correct version:* $\log p_\theta(x) \ge \mathbb E_q[\log p_\theta(x \mid z)] - \mathrm{KL}(q_\phi(z \mid x) \,\|\, p(z))$, equality only when $q$ is
# the true posterior. (§3's table prints both
# numbers for both models.)
#
# <a id="errata-e-2-1-kl-distance"></a>**Article E §2.1 and §3.1 — $D_\text{KL}$ called an "entropy distance".** *Why it is wrong:* the KL
# divergence is not a distance: it is not symmetric and violates the triangle inequality.

# %%
# NBVAL_CHECK_OUTPUT
# errata: e-kl-distance
kl = lambda a, b: (a * (a / b).log()).sum().item()
P_, Q_, R_ = torch.tensor([0.9, 0.1]), torch.tensor([0.5, 0.5]), torch.tensor([0.1, 0.9])
print(f"KL(P‖Q) = {kl(P_, Q_):.3f}, KL(Q‖P) = {kl(Q_, P_):.3f}: symmetric: {abs(kl(P_, Q_) - kl(Q_, P_)) < 1e-6}")
print(f"KL(P‖R) = {kl(P_, R_):.3f} > KL(P‖Q) + KL(Q‖R) = {kl(P_, Q_) + kl(Q_, R_):.3f}: triangle inequality holds:",
      kl(P_, R_) <= kl(P_, Q_) + kl(Q_, R_))

# %% [markdown]
# *Correct version:* a divergence — non-negative and zero only when the distributions agree,
# with no symmetry and no triangle inequality (chapter 01 §3).
#
# <a id="errata-e-3-2-generator-sign"></a>**Article E §3.2 — the generator "minimises the discriminator's score on generated text".**
# *Why it is wrong:* the sign is reversed. The generator must make $D$ *accept* its samples:
# minimise $\log(1 - D(G(z)))$ (or maximise $\log D(G(z))$, chapter 06). Trained to minimise $D(G(z))$,
# it runs away from the data. A 1-D check with data $\mathcal N(3, 0.5^2)$, a generator that shifts
# noise, $G(z) = z/2 + b$, and a logistic discriminator on $(x, x^2)$:

# %%
# NBVAL_CHECK_OUTPUT
# errata: a-gan-g-loss, e-generator-sign
b_right = toy_gan_1d(g_loss_nonsaturating)  # maximise log D(G(z))
b_wrong = toy_gan_1d(lambda logit: torch.sigmoid(logit).mean())  # E §3.2: minimise D(G(z))
print(f"correct sign: generator mean ends within 0.5 of the data mean 3: {abs(b_right - 3) < 0.5}")
print(f"E's sign: generator mean moves away from the data (ends below 0): {b_wrong < 0}")

# %% [markdown]
# <a id="errata-e-4-2-gan-code"></a>**Article E §4.2 — the GAN code.** Re-expressed faithfully: the discriminator's loss is two
# cross-entropies on *the same* output, one with target 1 for the output and one with target 0
# for one minus it; the generator's loss is computed from the discriminator's output on its own
# input, not on the generator's samples. *Why it is wrong:* (i) both terms of E's discriminator
# loss push the same logit *up* — the discriminator is only ever taught to say "real", and fake
# samples never enter it; (ii) the generator's parameters do not appear in its loss at all. The
# same layers in PyTorch:

# %%
# NBVAL_CHECK_OUTPUT
# errata: e-gan-code
torch.manual_seed(0)
gen = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.ReLU(), torch.nn.Linear(16, 8), torch.nn.Tanh())
disc = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 1), torch.nn.Sigmoid())
d_out = disc(torch.randn(32, 8))  # E: discriminator_output = D(discriminator_input), a sigmoid output
bce = torch.nn.BCEWithLogitsLoss()  # E: BinaryCrossentropy(from_logits=True)
d_loss_e = bce(d_out, torch.ones_like(d_out)) + bce(1 - d_out, torch.zeros_like(d_out))  # E's discriminator_loss
(grad_logit,) = torch.autograd.grad(d_loss_e, d_out)
print("both terms of E's discriminator loss push every logit up (all gradients negative):",
      bool((grad_logit < 0).all()))

# %%
g_loss_e = bce(d_out, torch.ones_like(d_out))  # E's generator_loss, built from the same discriminator_output
print("an illustration of E's wiring (true by construction, as in E's code the generator is never called):",
      "E's generator loss depends on the generator's parameters:",
      any(gr is not None for gr in torch.autograd.grad(g_loss_e, list(gen.parameters()), allow_unused=True)))

# %% [markdown]
# (E's discriminator also ends in a sigmoid while its loss is declared `from_logits=True`, so
# the sigmoid is applied twice.) *Correct version:* chapter 06's losses — $D$ on real samples
# with target 1 *and* on $G(z)$ with target 0; $G$'s loss on $D(G(z))$ — and, for text, §4's
# policy gradient or §2's relaxation, because $D(G(z))$ has no gradient through sampled tokens.
#
# <a id="errata-e-4-1-vae-code"></a>**Article E §4.1 — the "VAE" code.** Re-read line by line: the encoder's LSTM state goes
# through two dense layers, but there is no mean, no log-variance and no sampling of $z$; the
# "generator" is a fresh input layer connected to nothing the encoder produced, with two dense
# layers that output *one* vector of `num_features` values — not a sequence; the reconstruction
# loss is called with keyword arguments (`input=`, `target=`) that Keras's `binary_crossentropy`
# does not have (its arguments are `y_true`, `y_pred`), so the line raises a `TypeError`; and the
# "KL" term is a formula in the logarithms of squared norms of the encoder's output and of the
# input. *Why it is wrong:* without $\mu$, $\log\sigma^2$ and the reparameterised sample there is no
# $q(z \mid x)$ and no VAE; a one-vector decoder cannot produce text of any length; and E's "KL" is
# not a KL divergence — it can be negative, and it changes when the *input* is rescaled even
# though the encoder's output (hence any KL of $q$) is unchanged:

# %%
# NBVAL_CHECK_OUTPUT
# errata: e-vae-code
def e_kl_loss(encoder_outputs, encoder_input):
    """E §4.1's kl_loss, re-expressed in PyTorch with the same operations."""
    return (1 + (torch.log((encoder_outputs ** 2).sum(1) + 1e-10) - 1).sum()
            - (torch.log((encoder_input ** 2 + 1e-10).sum(1)) - 1).sum())


# small encoder outputs (B, latent), as at initialisation
h = 0.1 * torch.randn(8, 16, generator=torch.Generator().manual_seed(0))
x_in = torch.randn(8, 5, 16, generator=torch.Generator().manual_seed(1))  # an input batch (B, T, features)
print("E's 'KL' can be negative (a KL divergence never is):", e_kl_loss(h, x_in).item() < 0)
print("E's 'KL' changes when only the input is scaled ×10:",
      abs(e_kl_loss(h, 10 * x_in) - e_kl_loss(h, x_in)).item() > 1)

# %% [markdown]
# *Correct version:* §3's `SeqVAE` — an encoder that outputs $\mu$ and $\log\sigma^2$, $z = \mu + \sigma \odot \epsilon$, a
# recurrent decoder that emits one token distribution per position from $z$, and the closed-form
# Gaussian KL $\tfrac12 \sum_j (\mu_j^2 + \sigma_j^2 - \log\sigma_j^2 - 1)$. Chapter 12 runs both of E's
# listings in Keras 3 itself, with Keras's own error for each broken line, and trains their
# corrected versions on MNIST ([appendix, article E](12_errata.ipynb#keras-e-4)).
#
# <a id="errata-e-2-3-seqgan"></a>**Article E §2.3, §3.3 and §4.3 — seqGAN and seqVAE.** E says they "extend" GAN and VAE with
# sequence models and "random sequence generation", claims they perform better on sequences, and
# leaves their algorithms and code to the literature. *What is missing:* the reason they exist —
# a text GAN cannot backpropagate through sampled tokens (§1.1), so SeqGAN trains its generator
# by policy gradient with rollout rewards (§4); a sequence VAE must fight posterior collapse
# (§3). *The performance claim*, measured: SeqGAN's gain over maximum likelihood is small or
# absent at equal generator updates, costs far more compute and loses coverage, and a
# temperature gives MLE the same trade-off (§4.1); the sequence VAE's likelihood is no better
# than a plain LM's (§3).
#
# <a id="errata-a-2-2-text-gan"></a>**Article A §2.2 and §3.2 — a GAN whose generator (an MLP or CNN fed with noise) writes text,
# "adjusted according to the discriminator's output".** *What is missing:* how. With text as
# sampled tokens, the discriminator's output carries no gradient to the generator (§1.1); A's
# recipe works for images, not for text, without a score-function estimator or a relaxation.
#
# <a id="errata-e-1-3-born"></a>**Article E §1.3 — deep generative models "were born" to solve the complexity, training time
# and generalisation problems of RNN/Transformer text models.** *Why it is wrong:* VAEs (2014)
# and GANs (2014) were introduced as models of images and continuous data; their text versions
# are harder to train and slower than the language models they supposedly fix (SeqGAN's update
# here costs far more than an MLE update: §4.1's "seconds" column).
#
# <a id="errata-e-refs"></a>**Article E — references.** Checked one by one:
#
# | E's entry | what is wrong | the real work |
# |---|---|---|
# | [1] Kingma & Welling (2014), *Auto-encoding variational Bayes*, "NIPS pp. 2672–2680" | wrong venue and pages (those are the GAN paper's NIPS pages) | ICLR 2014, arXiv:1312.6114 |
# | [2] Goodfellow et al. (2014), *Generative adversarial networks*, NIPS "pp. 2671–2678" | title ("Nets", not "Networks") and pages off | Goodfellow et al. (2014), *Generative adversarial nets*, NIPS 27, pp. 2672–2680 |
# | [3] "Yu, J., Li, M., & Tschannen, M. (2017). Sequence generation with attention and memory, arXiv:1705.04907" | we know of no paper with these authors and title; it is cited for seqGAN, whose paper it is not | Yu, L., Zhang, W., Wang, J., Yu, Y. (2017). SeqGAN: sequence generative adversarial nets with policy gradient. AAAI; arXiv:1609.05473 |
# | [4] "Zhang, Y., & Zou, H. (2019). Variational autoencoder for text generation. EMNLP pp. 4198–4207" | we know of no such EMNLP 2019 paper; cited for the seqVAE | Bowman, S. R., Vilnis, L., Vinyals, O., Dai, A. M., Jozefowicz, R., Bengio, S. (2016). Generating sentences from a continuous space. CoNLL |
# | [5] "Radford, Metz & Hayes (2019). Language models are unsupervised multitask learners. EMNLP" | wrong authors and venue | Radford, A., Wu, J., Child, R., Luan, D., Amodei, D., Sutskever, I. (2019), OpenAI technical report (GPT-2) |
# | [6] "Karras, Aila, Veit, Laine & Lehtinen (2019). Attention is all you need. EMNLP" | invented: a real title with authors from image-GAN research and a venue that never published it | Vaswani et al. (2017), entry [7] |
# | [7] "Vaswani, Shazeer, Parmar & Miller (2017). Attention is all you need. NIPS pp. 6000–6010" | author list wrong ("Miller" is not an author; five are missing), pages off | Vaswani, A., Shazeer, N., Parmar, N., Uszkoreit, J., Jones, L., Gomez, A. N., Kaiser, Ł., Polosukhin, I. (2017). NIPS 30, pp. 5998–6008 |
#
# ## 8 · Exercises
#
# Each checked exercise has a solution cell (folded away in the HTML book) and a check cell. In a
# student copy (`python3 tools/course.py student`) the solution is replaced by `raise
# NotImplementedError()`: write your own, run it, then run the check, which names the first case
# that fails and, when your answer is a typical mistake, which one.

# %% [markdown]
# **Exercise 1 — a Gumbel-softmax sample (easy, ≈ 10 min).** Given logits $\theta$ (…, K), Gumbel
# noise $g$ of the same shape and a temperature $\tau$, return the relaxed sample
# $\operatorname{softmax}((\theta + g)/\tau)$.

# %% nbgrader={"grade": false, "grade_id": "gumbel_softmax_sample_solution", "locked": false, "schema_version": 3, "solution": true, "task": false} tags=["hide-input"]
from cgen_lessons.exercises import check


def my_gumbel_softmax(logits, g, tau):
    ### BEGIN SOLUTION
    return ((logits + g) / tau).softmax(-1)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "gumbel_softmax_sample_check", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# NBVAL_CHECK_OUTPUT
check("gumbel_softmax_sample", my_gumbel_softmax)

# %% [markdown]
# **Exercise 2 — the cyclical KL schedule (medium, ≈ 15 min).** Return $\beta$ at (1-based) step
# `step` of `total`, with `n_cycles` cycles whose first `ramp` fraction rises linearly from near 0
# to 1.

# %% nbgrader={"grade": false, "grade_id": "cyclical_beta_solution", "locked": false, "schema_version": 3, "solution": true, "task": false} tags=["hide-input"]
def my_cyclical_beta(step, total, n_cycles, ramp):
    ### BEGIN SOLUTION
    period = total / n_cycles
    position = ((step - 1) % period + 1) / period  # in (0, 1], restarting every cycle
    return min(1.0, position / ramp)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "cyclical_beta_check", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# NBVAL_CHECK_OUTPUT
check("cyclical_beta", my_cyclical_beta)

# %% [markdown]
# **Exercise 3 — REINFORCE with a baseline (hard, ≈ 20 min).** Given rewards $f(x_i)$ (n,), the
# one-hot samples (n, K) and the softmax probabilities $p$ (K,), return the per-sample estimates
# $(f(x_i) - b_i)(e_{x_i} - p)$ (n, K) with the leave-one-out baseline $b_i$ (§2).

# %% nbgrader={"grade": false, "grade_id": "reinforce_baseline_solution", "locked": false, "schema_version": 3, "solution": true, "task": false} tags=["hide-input"]
def my_reinforce(fx, onehot, p):
    ### BEGIN SOLUTION
    n = fx.shape[0]
    baseline = (fx.sum() - fx) / (n - 1)  # mean reward of the OTHER samples
    return (fx - baseline)[:, None] * (onehot - p)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "reinforce_baseline_check", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# NBVAL_CHECK_OUTPUT
check("reinforce_baseline", my_reinforce)

# %% [markdown]
# **Exercise 4 (open).** Add a baseline to SeqGAN's generator step (the mean reward of each
# position over the batch) and rerun `benchmarks/seqgan_oracle.py` with `--methods SeqGAN`. Does
# the variance reduction of §2 show up as a better NLL$_\text{oracle}$ after 300 updates?
#
# ## 9 · Summary
#
# - A sampled token has no gradient: a text GAN's generator cannot learn from $\nabla D$, and
#   soft tokens are trivially told from real one-hot text.
# - The score-function (REINFORCE) estimator is unbiased and noisy; a leave-one-out baseline
#   halves its variance here. Gumbel-softmax trades bias for variance through $\tau$; Gumbel-max
#   sampling is exact.
# - A sequence VAE with a recurrent decoder collapses (KL ≈ 0, no active units). Annealing,
#   cyclical annealing, character dropout and free bits all make it use $z$; none improves the
#   likelihood over a plain LM. The code's value is a smooth space for sampling and
#   interpolation.
# - SeqGAN on the synthetic oracle, scaled down: small or no quality gain over MLE at equal
#   updates, lost coverage, far more compute; MLE with a temperature covers the same trade-off.
#   A Gumbel GAN at $\tau = 1$ does worse.

# %%
print(f"chapter run time: {time.perf_counter() - chapter_start:.0f} s")

# %% [markdown]
# **References**
#
# - Bowman, S. R., Vilnis, L., Vinyals, O., Dai, A. M., Jozefowicz, R., Bengio, S. (2016). Generating sentences from a continuous space. *CoNLL*.
# - Burda, Y., Grosse, R., Salakhutdinov, R. (2016). Importance weighted autoencoders. *ICLR*.
# - Caccia, M., Caccia, L., Fedus, W., Larochelle, H., Pineau, J., Charlin, L. (2020). Language GANs falling short. *ICLR*.
# - Fu, H., Li, C., Liu, X., Gao, J., Celikyilmaz, A., Carin, L. (2019). Cyclical annealing schedule: a simple approach to mitigating KL vanishing. *NAACL*.
# - Gómez-Bombarelli, R., et al. (2018). Automatic chemical design using a data-driven continuous representation of molecules. *ACS Central Science* 4(2).
# - Jang, E., Gu, S., Poole, B. (2017). Categorical reparameterization with Gumbel-softmax. *ICLR*.
# - Kim, Y. (2014). Convolutional neural networks for sentence classification. *EMNLP*.
# - Kusner, M. J., Hernández-Lobato, J. M. (2016). GANs for sequences of discrete elements with the Gumbel-softmax distribution. *NIPS Workshop on Adversarial Training*; arXiv:1611.04051.
# - Kingma, D. P., Salimans, T., Jozefowicz, R., Chen, X., Sutskever, I., Welling, M. (2016). Improved variational inference with inverse autoregressive flow. *NeurIPS*.
# - Maddison, C. J., Mnih, A., Teh, Y. W. (2017). The concrete distribution: a continuous relaxation of discrete random variables. *ICLR*.
# - Semeniuta, S., Severyn, A., Gelly, S. (2018). On accurate evaluation of GANs for language generation. arXiv:1806.04936.
# - Williams, R. J. (1992). Simple statistical gradient-following algorithms for connectionist reinforcement learning. *Machine Learning* 8.
# - Yu, L., Zhang, W., Wang, J., Yu, Y. (2017). SeqGAN: sequence generative adversarial nets with policy gradient. *AAAI*.
