# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.16.4
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 11 · Scaling up: data-parallel training
#
# *None of the five articles trains on more than one device; their only remarks on parallelism
# are about computing the positions of a sequence at once (A §2.2, D §2.2), which chapters 01 and
# 03 check. This chapter goes beyond them, to what a reader needs next.*
#
# Every model in this course trains in one process in a few minutes. The models that made
# generation famous were trained on thousands of accelerators at once, and the first step
# there is always the same: run the *same* training loop in several processes, give each a
# different part of every batch, and average their gradients. This chapter derives why that
# is exact, runs chapter 03's GPT recipe that way with PyTorch's own engine (`torch.distributed`,
# `torchrun`, `DistributedDataParallel`) in two processes on this CPU, checks the result
# against one process, shows what breaks the equivalence, measures what it costs, and does
# the memory arithmetic of sharded training (FSDP) for models too large for one device.

# %%
import math
import tempfile
import time
from pathlib import Path

import matplotlib.pyplot as plt
import torch

from cgen_lessons import data, distributed, metrics, recipes, results, train
from cgen_lessons.utils import seed_everything, show_source, use_threads

chapter_start = time.perf_counter()
use_threads(2)
seed_everything(0)
work = Path(tempfile.mkdtemp(prefix="cgen_ch11_"))  # weights and checkpoints the processes hand back
tok, train_ids, val_ids, _ = recipes.char_lm_splits()
V = tok.vocab_size

# %% [markdown]
# ## 1 · Background: three ways to use many devices
#
# - **Data parallelism.** Every device holds the whole model; each processes a different slice of
#   the batch; gradients are averaged. It scales the *batch*, needs no change to the model, and is
#   what nearly every large training run uses at its outermost level (Li et al. 2020).
# - **Model (tensor and pipeline) parallelism.** The model itself is cut: the matrices of one layer
#   across devices (tensor parallelism, Shoeybi et al. 2019), or consecutive layers on consecutive
#   devices (pipeline parallelism, Huang et al. 2019). Needed when one layer, or the activations of
#   one micro-batch, no longer fit.
# - **Sharded data parallelism (ZeRO, FSDP).** Data parallelism in which each device *stores* only
#   a 1/W slice of the weights, gradients and optimiser states, and gathers a layer's weights just
#   before it needs them (Rajbhandari et al. 2020; Zhao et al. 2023). It removes data
#   parallelism's memory redundancy without cutting the model's computation.
#
# We run the first and the third. Both are in PyTorch itself; nothing here is home-made except
# the checks.
#
# ## 2 · Concepts: processes, ranks and collectives
#
# `torchrun --nproc_per_node=W script.py` starts W copies of the same program. Each learns from
# environment variables who it is: its **rank** $r \in \{0,\dots,W-1\}$, the **world size** $W$, and
# where to meet the others. `torch.distributed.init_process_group` connects them through a
# **backend**: `gloo` on CPUs, `nccl` between NVIDIA GPUs. The processes then cooperate only
# through **collectives**, calls that every rank makes together:
#
# | collective | before (rank $r$ holds) | after |
# |---|---|---|
# | all-reduce (sum) | $x_r$ | every rank holds $\sum_r x_r$ |
# | broadcast from 0 | $x_0$ on rank 0 | every rank holds $x_0$ |
# | all-gather | $x_r$ | every rank holds $[x_0, \dots, x_{W-1}]$ |
# | reduce-scatter | $x_r = [x_r^{(0)}, \dots, x_r^{(W-1)}]$ | rank $r$ holds $\sum_s x_s^{(r)}$ |
#
# `distributed.launch` runs a program of `cgen_lessons.scaling` under `torchrun` as a subprocess
# of this notebook and returns what rank 0 reports. The smallest one: each rank puts $r + 1$ into
# a tensor and all-reduces it; with two ranks both must end with $1 + 2 = 3$.

# %%
# NBVAL_CHECK_OUTPUT
result = distributed.launch(["allreduce-sum"], nproc=2)
print(f"{result['world_size']} processes; after all_reduce, rank 0 holds {result['result'][0]} "
      f"and rank 1 holds {result['result'][1]}")

# %% [markdown]
# ## 3 · Math: why averaging gradients is exact, and what breaks it
#
# ### 3.1 The identity
#
# Let the loss of a batch $B$ be the mean of per-example losses, $L(\theta; B) = \frac{1}{|B|}\sum_{i \in B} \ell_i(\theta)$,
# and cut $B$ into $W$ disjoint shards $B_1, \dots, B_W$ of equal size $|B_r| = |B|/W$. Then
#
# $$\frac{1}{W}\sum_{r=1}^{W} \nabla L(\theta; B_r) = \frac{1}{W}\sum_{r=1}^{W} \frac{W}{|B|} \sum_{i \in B_r} \nabla \ell_i(\theta) = \frac{1}{|B|}\sum_{i \in B} \nabla \ell_i(\theta) = \nabla L(\theta; B).$$
#
# So if every rank computes the gradient of its own shard and one all-reduce averages them, every
# rank holds the full-batch gradient; starting from the same $\theta$ and applying the same
# optimiser step, the copies stay identical forever (up to rounding, §4.2). DDP broadcasts rank
# 0's initial weights at start-up to guarantee the common start.
#
# We check the identity in this process first, on chapter 03's GPT and a batch of 32 windows, by
# computing the gradient of the whole batch and of its two halves:

# %%
from cgen_lessons.transformer import GPT

s = recipes.GPT_SETTINGS
x, y = data.lm_batch(train_ids, s.block, s.batch, torch.Generator().manual_seed(0))  # (32, 64) each
seed_everything(0)
gpt = GPT(V, s.block, s.d_model, s.n_heads, s.n_layers)


def gradient(model, xb, yb):
    """The gradient of the mean loss on (xb, yb), as one flat vector."""
    model.zero_grad()
    model(xb, yb)[1].backward()
    return torch.cat([p.grad.flatten() for p in model.parameters()])  # (P,)


def rel_error(a, b):
    return ((a - b).norm() / b.norm()).item()


g_full = gradient(gpt, x, y)
g_halves = [gradient(gpt, x[i:i + 16], y[i:i + 16]) for i in (0, 16)]  # two ranks' shards
g_20, g_12 = gradient(gpt, x[:20], y[:20]), gradient(gpt, x[20:], y[20:])  # unequal shards

# %%
# NBVAL_CHECK_OUTPUT
err_equal = rel_error((g_halves[0] + g_halves[1]) / 2, g_full)
err_unequal = rel_error((g_20 + g_12) / 2, g_full)
err_weighted = rel_error((20 * g_20 + 12 * g_12) / 32, g_full)
print(f"equal shards 16 + 16, plain average:       relative error below 1e-5: {err_equal < 1e-5}")
print(f"unequal shards 20 + 12, plain average:     relative error above 1e-3: {err_unequal > 1e-3}")
print(f"unequal shards, weighted by |B_r| / |B|:   relative error below 1e-5: {err_weighted < 1e-5}")

# %% [markdown]
# ### 3.2 What breaks it
#
# **Unequal shards.** With shards of 20 and 12 rows the plain average (what DDP computes) weights
# each of the 12 examples $\frac{1}{2 \cdot 12}$ instead of $\frac{1}{32}$: a different gradient (the middle line
# above). PyTorch's `DistributedSampler` therefore pads the data set so that every rank gets the
# same number of examples, and the course's `fit` refuses a batch that does not divide by $W$
# (`distributed.shard` raises a `ValueError` that says so).
#
# **Batch normalisation.** The identity needs the loss to be a mean of *per-example* terms.
# Batch norm normalises each example with the mean and variance of its batch, so an example's loss
# depends on the other examples of its shard, and the shard statistics are not the batch's:

# %%
# NBVAL_CHECK_OUTPUT
def mlp(norm):
    seed_everything(1)
    return torch.nn.Sequential(torch.nn.Linear(4, 16), norm(16), torch.nn.ReLU(), torch.nn.Linear(16, 1))


xb = torch.randn(32, 4, generator=torch.Generator().manual_seed(2))  # (32, 4)
yb = xb.sum(1, keepdim=True)  # (32, 1)


def mse_gradient(model, rows):
    model.zero_grad()
    torch.nn.functional.mse_loss(model(xb[rows]), yb[rows]).backward()
    return torch.cat([p.grad.flatten() for p in model.parameters()])


for name, norm in [("BatchNorm1d", torch.nn.BatchNorm1d), ("LayerNorm", torch.nn.LayerNorm)]:
    net = mlp(norm)
    full = mse_gradient(net, slice(0, 32))
    averaged = (mse_gradient(net, slice(0, 16)) + mse_gradient(net, slice(16, 32))) / 2
    print(f"{name:11s}: average of the two shards' gradients = full-batch gradient "
          f"(relative error < 1e-5): {rel_error(averaged, full) < 1e-5}")

# %% [markdown]
# `torch.nn.SyncBatchNorm` repairs batch norm by all-reducing the sums $\sum x$ and $\sum x^2$ of every
# shard in the forward pass (so every rank normalises with the statistics of the whole batch) and
# the matching gradient terms in the backward pass. In the installed PyTorch it exists only for
# GPUs; on CPU processes it refuses:

# %%
# NBVAL_CHECK_OUTPUT
result = distributed.launch(["syncbn"], nproc=2)
print(f"SyncBatchNorm in a {result['world_size']}-process CPU group runs: {result['works']}"
      + (f" ({result['error']})" if result["error"] else ""))

# %% [markdown]
# Layer norm, which normalises each example over its own features, has no such problem (the
# LayerNorm line above) — one reason Transformers, which use it, are easy to train data-parallel.
# The GPT of chapter 03 uses layer norm, so its data-parallel step is exact.
#
# **Dropout.** Each rank draws its own dropout masks, so a data-parallel step with dropout is not
# the single-process step on the whole batch — only equal to it in distribution. The opposite
# mistake is worse: every rank is seeded alike (so that the initial weights agree), and if
# nothing changes that, rank 0 and rank 1 draw the *same* masks for different examples:

# %%
masks = []
for _rank in range(2):  # two ranks that were both seeded with seed_everything(0)
    seed_everything(0)
    masks.append(torch.nn.functional.dropout(torch.ones(16, 128), p=0.1) > 0)
print("an illustration (true by construction: one seed, one stream): two identically seeded ranks draw "
      "identical dropout masks:", torch.equal(masks[0], masks[1]))

# %% [markdown]
# The course's `fit` therefore re-seeds each rank's stream after wrapping the model (rank $r$
# continues from a seed derived from the common one and $r$), and its checkpoints store every
# rank's random state (§5.5).
#
# ## 4 · Code: the shared training loop, distributed
#
# ### 4.1 What changes in `fit`
#
# Nothing in the chapters' calls. When `fit` finds itself under `torchrun` (the environment
# variable `WORLD_SIZE` is above 1), it joins the process group, wraps the model in
# `DistributedDataParallel`, and hands each rank its shard of every batch. Every rank draws the
# *same* global batch from the same seeded generator and keeps rows $[rn/W, (r+1)n/W)$ — so the
# batches, and a resumed run, do not depend on how many processes there are:

# %%
show_source(distributed.shard)  # answer to exercise shard_rows (student copies hide this output)

# %% [markdown]
# The rest of the distributed logic inside `fit`: progress bars and checkpoint writing on rank 0
# only, logged values averaged over the ranks (one small all-reduce), a barrier after each
# checkpoint so no rank runs ahead of the file, and every rank's random state gathered into the
# checkpoint. DDP itself does the gradient averaging: it registers hooks that all-reduce
# gradients in buckets *while* the backward pass is still running, overlapping communication with
# computation (Li et al. 2020). Gradient accumulation uses `no_sync()` so that only the last
# micro-batch of a step triggers the all-reduce.
#
# ### 4.2 The chapter 03 recipe in two processes
#
# `python -m cgen_lessons.scaling train` calls `recipes.train_gpt` — the exact function chapter 03
# uses — and saves the weights and the last step's gradients. We run one step in two processes and
# the same call in this notebook's process:

# %%
ddp = distributed.launch(["train", "--steps", "1", "--save", str(work / "ddp_1.pt")], nproc=2)
ddp_state = torch.load(work / "ddp_1.pt", weights_only=True)
single, _, _ = recipes.train_gpt(train_ids, V, steps=1, progress=False)  # one process, 2 threads

grad_error = max(((ddp_state["grads"][n] - p.grad).abs().max() / p.grad.abs().max()).item()
                 for n, p in single.named_parameters())
weight_error = max((ddp_state["weights"][n] - w).abs().max().item() for n, w in single.state_dict().items())
print(f"largest gradient difference, relative to the tensor's largest entry: {grad_error:.1e}")
print(f"largest weight difference after one AdamW step (learning rate {s['lr']}): {weight_error:.1e}")

# %%
# NBVAL_CHECK_OUTPUT
print("one DDP step (2 processes × 16 windows) vs one step on all 32 windows in one process:")
print(f"  gradients agree to 1e-5 relative: {grad_error < 1e-5}")
print(f"  weights agree to 1e-4 absolute (1/80 of the learning rate): {weight_error < 1e-4}")

# %% [markdown]
# The gradients agree to float precision — they are the same sums taken in a different order.
# The weights agree less closely because Adam's first step is $\eta\, g / (|g| + \epsilon)$: for the few
# gradient entries near $\epsilon = 10^{-8}$, a rounding difference in $g$ becomes a visible difference in
# the step. Over many steps such differences grow, as they do between any two runs that differ in
# the order of floating-point sums (chapter 06 saw the same between thread counts). They change
# the weights, not the training: 100 steps in both settings,

# %%
ddp100 = distributed.launch(["train", "--steps", "100", "--save", str(work / "ddp_100.pt")], nproc=2)
single100, hist100, _ = recipes.train_gpt(train_ids, V, steps=100, progress=False)
w100 = torch.load(work / "ddp_100.pt", weights_only=True)["weights"]
drift = max((w100[n] - w).abs().max().item() for n, w in single100.state_dict().items())
ddp_model = GPT(V, s.block, s.d_model, s.n_heads, s.n_layers)
ddp_model.load_state_dict(w100)
val_nll = {name: metrics.stream_nll(m.eval(), val_ids[:50_000]) for name, m in
           [("2 processes", ddp_model), ("1 process", single100)]}
print(f"largest weight difference after 100 steps: {drift:.3f}")
print("validation NLL after 100 steps (nats/char): " + ", ".join(f"{k} {v:.4f}" for k, v in val_nll.items()))

fig, ax = plt.subplots(figsize=(6, 3))
ax.plot(hist100.train["step"], hist100.train["loss"], label="1 process, whole batch")
ax.plot(range(1, 101), ddp100["loss"], "--", label="2 processes (DDP), half each")
ax.set(xlabel="step", ylabel="training loss (nats/char)", title="Chapter 03's GPT recipe, same call")
ax.legend()
plt.show()

# %%
# NBVAL_CHECK_OUTPUT
gap = abs(val_nll["2 processes"] - val_nll["1 process"])
print(f"after 100 steps the two runs' validation NLL differ by less than 0.02 nats/char: {gap < 0.02}")

# %% [markdown]
# ## 5 · Experiments
#
# ### 5.1 Throughput on two cores
#
# A short live measurement (40 steps each; the processes' start-up is not timed), then the
# benchmark's (`benchmarks/scaling.py`: 150 steps, median of 3 launches):

# %%
live, live_steps = {}, 40
for nproc, threads in ((1, 1), (1, 2), (2, 1)):
    r = distributed.launch(["train", "--steps", str(live_steps)], nproc=nproc, threads=threads)
    live[(nproc, threads)] = r["tokens_per_s"]
    print(f"{nproc} process(es) × {threads} thread(s): {r['tokens_per_s']:8,.0f} tokens/s")

bench = results.load("scaling")
print(f"\nbenchmark ({bench['steps']} steps, median of 3):")
print("| processes × threads | fp32 tokens/s | bf16 tokens/s |\n|---|---|---|")
for nproc, threads in ((1, 1), (1, 2), (2, 1)):
    rates = {r["precision"]: r["tokens_per_s"] for r in bench["throughput"]
             if (r["processes"], r["threads"]) == (nproc, threads)}
    print(f"| {nproc} × {threads} | {rates['fp32']:,.0f} | {rates['bf16']:,.0f} |")
rate = {(r["processes"], r["threads"], r["precision"]): r["tokens_per_s"] for r in bench["throughput"]}
for precision in ("fp32", "bf16"):
    print(f"{precision}: 2 processes × 1 thread = {rate[2, 1, precision] / rate[1, 1, precision]:.2f} × "
          f"(1 process × 1 thread) = {rate[2, 1, precision] / rate[1, 2, precision]:.2f} × (1 process × 2 threads)")

# %% [markdown]
# Two processes on two cores are not twice as fast as one process on two cores: the second
# process brings no new hardware; it takes the core that the second thread would have used. In
# the benchmark, two single-threaded processes reach 1.4–1.5 times the rate of one
# single-threaded process, and 0.84 times (fp32) or about the same as (bf16) one process that
# uses both cores with two threads: each process pays the all-reduce of §5.2, draws the whole
# global batch before keeping its half, and runs its own Python loop. One process per core adds
# nothing on a machine whose cores one process can already use; on a cluster each new process
# brings its own GPU, and the total rate grows with $W$ for as long as communication stays small
# next to computation.
#
# ### 5.2 The cost of communication
#
# Each step, every rank sends and receives its gradients. The all-reduce that NCCL and gloo use for
# large tensors is the **ring**: the $W$ ranks form a ring, the gradient vector of $N$ numbers is cut into
# $W$ chunks, and in $W-1$ steps of *reduce-scatter* each rank passes one chunk to its neighbour and
# adds the chunk it receives; after them, rank $r$ holds the full sum of one chunk. $W-1$ steps of
# *all-gather* pass the summed chunks around. Each rank sends
#
# $$2\,\frac{W-1}{W}\, N \ \text{numbers per step},$$
#
# which is almost independent of $W$ — the reason data parallelism scales to thousands of devices
# (Patarasuk & Yuan 2009). Measured here, against the forward and backward pass on one shard:

# %%
comm = distributed.launch(["allreduce", "--repeats", "20"], nproc=2)
n_bytes = 2 * (comm["world_size"] - 1) / comm["world_size"] * 4 * comm["n_params"]
print(f"gradient: {comm['n_params']:,} floats ({comm['megabytes']:.2f} MB); each rank sends "
      f"{n_bytes / 2**20:.2f} MB per step")
print(f"all-reduce {1e3 * comm['allreduce_s']:.2f} ms vs forward + backward on {comm['shard_rows']} windows "
      f"{1e3 * comm['compute_s']:.1f} ms: communication is {comm['allreduce_s'] / comm['compute_s']:.0%} "
      f"of computation")
for name, gbytes_per_s in [("10 Gbit/s Ethernet (assumed 1.25 GB/s)", 1.25),
                           ("a GPU link at an assumed 100 GB/s", 100)]:
    print(f"  the same all-reduce over {name}: {1e3 * n_bytes / (gbytes_per_s * 1e9):.2f} ms")

# %% [markdown]
# Between two processes on one machine the "network" is shared memory, and the all-reduce is a
# few percent of a step; DDP also hides much of it behind the backward pass. Across machines the
# same arithmetic decides whether a run scales: time per step $\approx \max(t_\text{compute}, t_\text{comm})$
# when they overlap and their sum when they do not.
#
# The formula above counts only bytes. Every message also pays a fixed **latency** $\alpha$ (start-up,
# switch hops) before its bytes flow at $\beta$ bytes per second — the $\alpha$–$\beta$ cost model of
# collective operations (Thakur, Rabenseifner & Gropp 2005). The ring sends $2(W-1)$ messages in sequence,
# so its time grows *linearly* in $W$ through the latency term:
#
# $$t_\text{ring} \approx 2(W-1)\,\alpha + 2\,\frac{W-1}{W}\,\frac{4N}{\beta}, \qquad
#   t_\text{tree} \approx 2\log_2 W\,\alpha + 2\,\frac{4N}{\beta}.$$
#
# A reduction up a binary tree and a broadcast back down need only $2\log_2 W$ message steps; pipelined
# over two complementary trees, they approach the ring's bandwidth term as well (Sanders, Speck & Träff 2009);
# the formula is that limit, an optimistic bound that leaves out the pipeline's start-up.
# NCCL implements both and picks one per call from the message size and the number of ranks: rings for
# large messages on few ranks, trees when the latency term dominates. With an assumed per-message latency
# and link speed (not measured here), for the gradient above and for a small message:

# %%
alpha, beta = 5e-6, 12.5e9  # assumed: 5 µs per message, 100 Gbit/s links


def ring_s(n_bytes, W):
    return 2 * (W - 1) * alpha + 2 * (W - 1) / W * n_bytes / beta


def tree_s(n_bytes, W):
    return 2 * math.log2(W) * alpha + 2 * n_bytes / beta


grad_bytes = 4 * comm["n_params"]
print(f"{'ranks W':>8} {'message':>10} {'ring (ms)':>10} {'tree (ms)':>10}  latency share of the ring")
for W in (8, 64, 1024):
    for label, n_bytes in ((f"{grad_bytes / 2**20:.2f} MB", grad_bytes), ("4 KB", 4096)):
        share = 2 * (W - 1) * alpha / ring_s(n_bytes, W)
        print(f"{W:8d} {label:>10} {1e3 * ring_s(n_bytes, W):10.3f} {1e3 * tree_s(n_bytes, W):10.3f}  {share:.0%}")

# %% [markdown]
# On 8 ranks the ring and the tree move this gradient in about the same time (0.302 against 0.295 ms),
# though the latency is already 23 % of the ring's time; on 1,024 ranks the ring's $2(W-1)$ hops are 97 %
# of it (10.495 ms), against 0.365 ms for the tree. A 4 KB message is all latency for the ring at every $W$ shown.
# This is why DDP groups gradients into buckets of several megabytes before it all-reduces them, and why
# NCCL switches to trees on many ranks. Both numbers in the model are assumptions: measure $\alpha$ and
# $\beta$ on the cluster you use.
#
# ### 5.3 Gradient accumulation
#
# When the batch one wants does not fit in memory, `fit(..., accumulate=k)` draws $k$ micro-batches
# per step and adds the gradients of their losses divided by $k$ — again the identity of §3.1, now
# over time instead of over ranks. This is the update `fit` runs at every step: the micro-batch
# loop, DDP's `no_sync` (one all-reduce per step, after the last micro-batch), autocast for mixed
# precision (§5.4), and the loss scaler that fp16 needs:

# %%
from cgen_lessons.train import _Training

show_source(_Training.update)

# %% [markdown]
# Two processes × two micro-batches of 8 windows give exactly the recipe's step on 32 windows:

# %%
accum = distributed.launch(["train", "--steps", "1", "--batch", "16", "--accumulate", "2",
                            "--save", str(work / "accum.pt")], nproc=2)
accum_grads = torch.load(work / "accum.pt", weights_only=True)["grads"]
accum_error = max(((accum_grads[n] - p.grad).abs().max() / p.grad.abs().max()).item()
                  for n, p in single.named_parameters())

# %%
# NBVAL_CHECK_OUTPUT
print(f"2 processes × 2 micro-batches × 8 windows = one step on 32 windows "
      f"({accum['tokens_per_step']:,} tokens), gradients agree to 1e-5: {accum_error < 1e-5}")

# %% [markdown]
# ### 5.4 Mixed precision
#
# `fit(..., precision="bf16")` runs the forward pass under `torch.autocast`: matrix products in
# bfloat16 (8 exponent bits like float32, so no overflow and no loss scaling; 8 significand bits
# instead of 24, printed below), while the weights, gradients and Adam's moments stay float32 (Kalamkar et al.
# 2019). `"fp16"` (5 exponent bits) needs a `GradScaler` to keep small gradients from flushing to
# zero (Micikevicius et al. 2018); `fit` uses one, on CUDA only. The whole chapter 03 recipe
# (500 steps) in both precisions, on this CPU:

# %%
mp = {}
for precision in ("fp32", "bf16"):
    model, hist, seconds = recipes.train_gpt(train_ids, V, precision=precision, progress=False)
    mp[precision] = (seconds, metrics.stream_nll(model.eval(), val_ids[:50_000]))
    print(f"{precision}: {s['steps']} steps in {seconds:.1f} s, validation NLL {mp[precision][1]:.4f} nats/char")
short = {r["precision"]: r["final_loss"] for r in bench["throughput"] if (r["processes"], r["threads"]) == (1, 2)}
print(f"benchmark, runs of {bench['steps']} steps: final training loss fp32 {short['fp32']:.3f}, "
      f"bf16 {short['bf16']:.3f} nats/char (bf16 behind by {short['bf16'] - short['fp32']:.2f})")
significand = {name: 1 - round(math.log2(torch.finfo(dtype).eps)) for name, dtype in
               (("bf16", torch.bfloat16), ("fp32", torch.float32))}
print(f"significand bits (with the implicit leading bit): bf16 {significand['bf16']}, fp32 {significand['fp32']}")

# %%
# NBVAL_CHECK_OUTPUT
print("after the full recipe, bf16 autocast is within 0.02 nats/char of fp32 on validation:",
      abs(mp["bf16"][1] - mp["fp32"][1]) < 0.02)

# %% [markdown]
# bf16's coarser rounding costs something early — in the benchmark's short 150-step runs bf16
# ended about 0.13 nats/char behind fp32 — but over the full recipe the two end level. Whether
# bf16 is *faster* depends on the hardware and the thread count: the benchmark machine's CPU has bfloat16
# instructions (AVX-512 BF16), and the benchmark table of §5.1 shows the gain (largest for one thread), yet
# the two-thread runs above took 19.9 s in fp32 and 25.3 s in bf16 on the machine that made these outputs;
# on a CPU without such instructions autocast can be much slower than float32. GPUs with tensor cores multiply
# bf16/fp16 matrices several times faster than float32.
#
# ### 5.5 Checkpoints at scale: a lost process, then a resume
#
# A long multi-process run will lose a process — a machine reboots, a job hits its time limit. We
# train 12 steps of the GPT *with dropout* (so that every rank's random stream matters) in two
# processes three times: uninterrupted; with a checkpoint every 4 steps and rank 1 dying during
# step 10; and resumed from the last checkpoint (step 8). The resumed run must end with the same
# weights as the uninterrupted one, bit for bit. A fourth run resumes from a copy of the checkpoint
# whose per-rank random states were replaced by fresh ones — the mistake of restoring everything
# but the dropout streams — and must *not* match:

# %%
common = ["train", "--steps", "12", "--batch", "8", "--dropout", "0.1"]
distributed.launch(common + ["--save", str(work / "whole.pt")], nproc=2)
ckpt = work / "run.pt"
try:
    distributed.launch(common + ["--checkpoint", str(ckpt), "--checkpoint-every", "4", "--crash-at", "10"], nproc=2)
except RuntimeError as err:
    print("the run died, as planned:", str(err).split(" for ")[0])
saved = train.load_checkpoint(ckpt)
print(f"the checkpoint on disk is from step {saved['step']}; it holds {len(saved['rank_rng'])} ranks' random states")
fresh = [torch.Generator().manual_seed(100 + r).get_state() for r in range(len(saved["rank_rng"]))]
torch.save({**saved, "rank_rng": fresh}, work / "run_fresh_rng.pt")  # everything restored but the dropout streams
distributed.launch(common + ["--checkpoint", str(work / "run_fresh_rng.pt"), "--resume",
                             "--save", str(work / "resumed_fresh_rng.pt")], nproc=2)
resumed_run = distributed.launch(common + ["--checkpoint", str(ckpt), "--resume", "--save", str(work / "resumed.pt")],
                                 nproc=2)
print(f"resumed at step {saved['step'] + 1}; the history holds all {len(resumed_run['loss'])} steps' losses")

# %%
# NBVAL_CHECK_OUTPUT
whole = torch.load(work / "whole.pt", weights_only=True)["weights"]
resumed = torch.load(work / "resumed.pt", weights_only=True)["weights"]
print("resumed run = uninterrupted run, every weight bit for bit:",
      all(torch.equal(whole[k], resumed[k]) for k in whole))
wrong_rng = torch.load(work / "resumed_fresh_rng.pt", weights_only=True)["weights"]
print("resumed with fresh random states instead of the saved ones: some weights differ:",
      not all(torch.equal(whole[k], wrong_rng[k]) for k in whole))
print("the two ranks' saved random streams differ (each rank draws its own dropout masks):",
      not torch.equal(saved["rank_rng"][0], saved["rank_rng"][1]))

# %% [markdown]
# Three things make this work: rank 0 writes the checkpoint *atomically* (to a temporary file,
# then `os.replace`), so a crash while writing leaves the previous one intact; a barrier keeps
# the other ranks from running ahead of the file; and the checkpoint holds, besides the weights
# and the optimiser, the data generator's state and every rank's random state. At the scale of
# FSDP, where no rank holds the whole model, each rank writes its own shard instead
# (`torch.distributed.checkpoint`), which also lets a run resume on a different number of devices.
#
# ### 5.6 Sharded training: FSDP and its memory arithmetic
#
# Training with Adam keeps, per parameter, the weight, its gradient and two moment estimates. With
# $\Psi$ parameters that is $16\Psi$ bytes in float32, and also $16\Psi$ in mixed precision: bf16 weights
# and gradients ($2\Psi + 2\Psi$) plus an fp32 master copy and two fp32 moments ($12\Psi$) (Rajbhandari
# et al. 2020). Data parallelism replicates all of it on each of the $W$ ranks. ZeRO stage 1 shards the
# optimiser states, stage 2 also the gradients, and stage 3 — PyTorch's FSDP — also the weights,
# each rank gathering a layer's full weights just before computing with it. In mixed precision
# (the ZeRO paper's setting, and the table below):
#
# $$M_\text{DDP} = 16\Psi, \qquad M_\text{ZeRO-1} = 4\Psi + \frac{12\Psi}{W}, \qquad M_\text{ZeRO-2} = 2\Psi + \frac{14\Psi}{W}, \qquad M_\text{FSDP} = \frac{16\Psi}{W};$$
#
# in float32 the optimiser states are $8\Psi$ and weights and gradients $4\Psi$ each, so the same
# totals split differently: $M_\text{ZeRO-1} = 8\Psi + \frac{8\Psi}{W}$ and $M_\text{ZeRO-2} = 4\Psi + \frac{12\Psi}{W}$
# (`training_memory(..., precision="fp32")`).

# %%
show_source(distributed.training_memory)  # answer to exercise memory_per_rank (hidden in student copies)

# %%
sizes = [("chapter 03's GPT", sum(p.numel() for p in single.parameters())), ("GPT-2 small", 124_000_000),
         ("a 7 B model", 7_000_000_000)]
print("mixed-precision Adam state per rank with W = 8 ranks (activations not included)\n")
print("| model | parameters | DDP | ZeRO-1 | ZeRO-2 | FSDP |\n|---|---|---|---|---|---|")
for name, n in sizes:
    cells = [distributed.training_memory(n, 8, strategy, "bf16")["total"] for strategy in distributed.STRATEGIES]
    print(f"| {name} | {n:,} | " + " | ".join(f"{c / 2**30:.3g} GiB" for c in cells) + " |")

# %% [markdown]
# A 7 B model's training state needs 104 GiB per device with DDP — more than any single GPU of
# 80 GiB holds before a single activation is stored — and 13 GiB with FSDP over 8 devices. The price
# is communication: FSDP all-gathers each layer's weights in the forward and again in the backward
# pass and reduce-scatters the gradients, about 1.5 times DDP's traffic (Rajbhandari et al. 2020).
#
# FSDP runs on CPU processes too. `cgen_lessons.scaling fsdp` wraps each Transformer block and the
# whole GPT with `fully_shard` (FSDP2) and takes one AdamW step on the two ranks' shards of the
# batch; rank 0 gathers the full gradients and the updated weights, which we compare with the same
# step taken in one process:

# %%
fsdp = distributed.launch(["fsdp", "--steps", "1", "--save", str(work / "fsdp.pt")], nproc=2)
fsdp_state = torch.load(work / "fsdp.pt", weights_only=True)
seed_everything(0)
reference = GPT(V, s.block, s.d_model, s.n_heads, s.n_layers)
opt = torch.optim.AdamW(train.decay_groups(reference, s.weight_decay), lr=s.lr)
reference(x, y)[1].backward()  # the whole batch of §3.1, in one process
opt.step()
fsdp_error = max(((fsdp_state["grads"][n] - p.grad).abs().max() / p.grad.abs().max()).item()
                 for n, p in reference.named_parameters())
# the weights after the step, element by element, against the one-process step. Adam's first step is
# lr · g / (|g| + ε) ≈ lr · sign(g) (plus AdamW's decay lr · λ · w): where g is within rounding of 0 its sign, and
# that element's step, may differ between two correct runs, so those elements (|g| below 1e-4 of the tensor's
# largest) are left out; elsewhere the two steps must agree to 1e-3 of the learning rate — a run that dropped the
# weight decay (lr · λ · |w|, about 2e-3 lr here) or skipped a shard's step would fail
fsdp_weight_error, skipped = 0.0, 0
for n, p in reference.named_parameters():
    clear = p.grad.abs() > 1e-4 * p.grad.abs().max()
    skipped += int((~clear).sum())
    gap = (fsdp_state["weights"][n] - p.detach()).abs()[clear]
    fsdp_weight_error = max(fsdp_weight_error, gap.max().item() / s.lr if gap.numel() else 0.0)
print(f"parameters in the model: {fsdp['params_total']:,}; held per rank: {fsdp['params_per_rank']}")
print(f"after one AdamW step: largest gradient difference {fsdp_error:.0e} of the largest gradient; largest weight "
      f"difference {fsdp_weight_error:.0e} of the learning rate ({skipped} of {fsdp['params_total']:,} elements "
      f"with a gradient within rounding of 0 left out)")

# %%
# NBVAL_CHECK_OUTPUT
per_rank = fsdp["params_per_rank"]
print(f"FSDP over 2 ranks: each rank holds about half of the parameters: {max(per_rank) < 0.51 * sum(per_rank)}; "
      f"the gradients equal the single-process step's to 1e-5: {fsdp_error < 1e-5}; "
      f"so do the weights after the step, to 1e-3 of the learning rate: {fsdp_weight_error < 1e-3}")

# %% [markdown]
# ## 6 · Applications: from this laptop to a cluster
#
# ### 6.1 The same code on GPUs and several machines
#
# The pattern every chapter follows is device-agnostic: `utils.get_device()` picks CUDA when
# present and honours the environment variable `CGEN_DEVICE` (`cpu`, `cuda`, `cuda:N` or `mps` for
# Apple GPUs), `fit` moves the model there, and the likelihood metrics move their inputs to the
# model's device. Under `torchrun` on GPUs, `fit` puts rank $r$ on `cuda:LOCAL_RANK` and the
# backend becomes NCCL. No GPU was available when this chapter was written: the chapters have run
# on CPUs only, and their CUDA path is untested. What else changes on CUDA:
#
# - `DataLoader(..., pin_memory=True)` and `tensor.to(device, non_blocking=True)` overlap
#   host-to-GPU copies with computation (the course's batches are built from tensors already in
#   memory, so this matters only for real data loaders);
# - `torch.compile(model)` fuses the many small operations of a Transformer block into fewer
#   kernels, which can speed training up — measure it on your hardware, together with its
#   compilation time;
# - `precision="bf16"` on Ampere or newer GPUs, `"fp16"` (with the `GradScaler` that `fit`
#   creates) on older ones.
#
# Several machines: start the same command on each with a rendezvous point that all can reach,
#
# ```bash
# # on each of N machines, 8 GPUs each:
# torchrun --nnodes N --nproc_per_node 8 --rdzv-backend c10d --rdzv-endpoint HOST:29500 \
#          --rdzv-id my-run -m cgen_lessons.scaling train --steps 500
# ```
#
# `--rdzv-backend c10d` lets the ranks find each other through a store on `HOST`, instead of the
# fixed `MASTER_ADDR`/`MASTER_PORT` of a single machine; with `--nnodes MIN:MAX` the job is
# *elastic* and restarts the workers with a new world size when a machine joins or leaves (which
# is where checkpoint resume, §5.5, is used).
#
# ### 6.2 What the recipe would need
#
# Keeping each rank's micro-batch at the recipe's 32 windows, $W$ ranks train on a global batch of
# $32W$ windows ($2{,}048\,W$ tokens) per step. The learning rate tuned for 32 windows is then no longer
# right: for SGD, Goyal et al. (2017) scale it linearly with the batch and add a warm-up; for Adam
# there is no exact rule, and it has to be re-chosen on validation data, as chapter 02 did. The
# arithmetic of time, from this chapter's measurements:

# %%
rate_1 = live[(1, 2)]  # tokens/s of the recipe on this 2-core machine
efficiency = comm["compute_s"] / (comm["compute_s"] + comm["allreduce_s"])  # if nothing overlapped
tokens = 10 * len(train_ids)  # ten passes over the training plays
print(f"ten epochs over the training plays: {tokens / 1e6:.0f} M tokens; at {rate_1:,.0f} tokens/s "
      f"one process takes {tokens / rate_1 / 60:.0f} min")
for W in (2, 8, 64):
    print(f"  {W:3d} such machines at the measured communication efficiency ({efficiency:.0%}): "
          f"{tokens / (W * rate_1 * efficiency) / 60:6.1f} min, global batch {32 * W:,} windows")

# %% [markdown]
# The efficiency here assumes communication as cheap as it is within one machine. Over a 10 Gbit/s
# network the all-reduce would take a few milliseconds per step (§5.2) against tens of
# milliseconds of computation, still a small fraction for this model; what breaks scaling in
# practice is a global batch so large that more examples per step no longer reduce the number of
# steps needed (McCandlish et al. 2018).
#
# ## 7 · What the articles say about parallelism
#
# The articles never train on more than one device. Their two remarks on parallel computation
# concern the positions of a sequence, not devices: A §2.2 credits the Transformer with parallel
# computation, and D §2.2 calls autoregressive models hard to parallelise. Both are half right —
# an autoregressive Transformer scores all positions of a training sequence in one pass, but
# generates one token at a time — and chapter 01 (§5 and its corrections) and chapter 03 (§4) show
# both halves in running code. There is nothing in them for this chapter to correct.
#
# ## 8 · Exercises
#
# Each checked exercise has a solution cell (folded away in the HTML book) and a check cell. In a
# student copy (`python3 tools/course.py student`) the solution is replaced by `raise
# NotImplementedError()`: write your own, run it, then run the check, which names the first case
# that fails and, when your answer is a typical mistake, which one.

# %% [markdown]
# **Exercise 1 — a rank's shard (easy, ≈ 5 min).** Return rank `rank`'s rows of a batch for
# `world_size` ranks, the contiguous rows $[rn/W, (r+1)n/W)$ that `fit` uses (§4.1).

# %% nbgrader={"grade": false, "grade_id": "shard_rows_solution", "locked": false, "schema_version": 3, "solution": true, "task": false} tags=["hide-input"]
from cgen_lessons.exercises import check


def my_shard_rows(batch, rank, world_size):
    ### BEGIN SOLUTION
    n = len(batch)
    return batch[rank * n // world_size:(rank + 1) * n // world_size]
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "shard_rows_check", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# NBVAL_CHECK_OUTPUT
check("shard_rows", my_shard_rows)

# %% [markdown]
# **Exercise 2 — memory per rank (medium, ≈ 15 min).** Return the bytes of mixed-precision Adam
# state per rank for `n_params` parameters, `world_size` ranks and a strategy `"ddp"`, `"zero1"`,
# `"zero2"` or `"fsdp"` (§5.6).

# %% nbgrader={"grade": false, "grade_id": "memory_per_rank_solution", "locked": false, "schema_version": 3, "solution": true, "task": false} tags=["hide-input"]
def my_memory_per_rank(n_params, world_size, strategy):
    ### BEGIN SOLUTION
    weights, grads, optimizer = 2.0 * n_params, 2.0 * n_params, 12.0 * n_params
    sharded = {"ddp": (), "zero1": ("optimizer",), "zero2": ("optimizer", "grads"),
               "fsdp": ("optimizer", "grads", "weights")}[strategy]
    parts = {"weights": weights, "grads": grads, "optimizer": optimizer}
    return sum(v / (world_size if k in sharded else 1) for k, v in parts.items())
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "memory_per_rank_check", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# NBVAL_CHECK_OUTPUT
check("memory_per_rank", my_memory_per_rank)

# %% [markdown]
# **Exercise 3 — ring all-reduce (hard, ≈ 30 min).** Simulate the ring all-reduce of §5.2 on a list
# of $W$ vectors (one per rank, length divisible by $W$): return `(results, sent)`, each rank's
# final vector and the number of elements each rank sent.

# %% nbgrader={"grade": false, "grade_id": "ring_allreduce_solution", "locked": false, "schema_version": 3, "solution": true, "task": false} tags=["hide-input"]
def my_ring_allreduce(tensors):
    ### BEGIN SOLUTION
    W = len(tensors)
    chunks = [list(t.clone().chunk(W)) for t in tensors]  # chunks[r][c]: rank r's copy of chunk c
    sent = [0] * W
    for step in range(W - 1):  # reduce-scatter: pass a chunk on, add the one received
        messages = [(r, (r - step) % W, chunks[r][(r - step) % W].clone()) for r in range(W)]
        for r, c, payload in messages:
            chunks[(r + 1) % W][c] += payload
            sent[r] += payload.numel()
    for step in range(W - 1):  # all-gather: pass the fully summed chunks around
        messages = [(r, (r + 1 - step) % W, chunks[r][(r + 1 - step) % W].clone()) for r in range(W)]
        for r, c, payload in messages:
            chunks[(r + 1) % W][c] = payload
            sent[r] += payload.numel()
    return [torch.cat(c) for c in chunks], sent
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ring_allreduce_check", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# NBVAL_CHECK_OUTPUT
check("ring_allreduce", my_ring_allreduce)

# %% [markdown]
# **Exercise 4 (open).** Run chapter 06's DCGAN recipe data-parallel. `fit` refuses a `step_fn`
# under `torchrun`, because a GAN step updates two networks with two optimisers and DDP must wrap
# each. Wrap the generator and the discriminator separately, decide what to do with the
# discriminator's batch norm, and compare the Fréchet distance with the single-process run over
# several seeds (chapter 06 shows how much it varies between seeds on its own).
#
# ## 9 · Summary
#
# - Averaging the gradients of $W$ equal shards of a batch gives the full batch's gradient, so
#   data-parallel training is the single-process algorithm on a $W$ times larger batch. Unequal
#   shards, batch norm and shared dropout seeds break the equality; layer norm does not.
# - The course's `fit` runs any chapter's recipe under `torchrun` unchanged: DDP, equal shards of
#   one global batch, rank-0 progress and checkpoints, per-rank random states, exact resume after a
#   lost process; gradient accumulation and bf16/fp16 autocast are options.
# - On two cores, two single-threaded processes are faster than one single-threaded process but
#   no faster than one process using both cores (slower in fp32 in the benchmark): a second process
#   brings no new hardware. The all-reduce costs a few percent of a step. The ring all-reduce sends $2\frac{W-1}{W}N$ numbers per rank whatever $W$,
#   but in $2(W-1)$ sequential messages: in the $\alpha$–$\beta$ model, on many ranks or for small messages its latency
#   dominates and trees ($2\log_2 W$ steps) win.
# - Adam's training state costs 16 bytes per parameter in fp32 and in mixed precision; FSDP
#   shards it $W$ ways at the price of gathering weights layer by layer, and on two CPU processes its step
#   matched the one-process step in gradients and updated weights.

# %%
print(f"chapter run time: {time.perf_counter() - chapter_start:.0f} s")

# %% [markdown]
# **References**
#
# - Goyal, P., Dollár, P., Girshick, R., Noordhuis, P., Wesolowski, L., Kyrola, A., Tulloch, A., Jia, Y., He, K. (2017). Accurate, large minibatch SGD: training ImageNet in 1 hour. arXiv:1706.02677.
# - Huang, Y., et al. (2019). GPipe: efficient training of giant neural networks using pipeline parallelism. *NeurIPS*.
# - Ioffe, S., Szegedy, C. (2015). Batch normalization: accelerating deep network training by reducing internal covariate shift. *ICML*.
# - Kalamkar, D., et al. (2019). A study of BFLOAT16 for deep learning training. arXiv:1905.12322.
# - Li, S., Zhao, Y., Varma, R., Salpekar, O., Noordhuis, P., Li, T., Paszke, A., Smith, J., Vaughan, B., Damania, P., Chintala, S. (2020). PyTorch Distributed: experiences on accelerating data parallel training. *Proceedings of the VLDB Endowment* 13(12).
# - McCandlish, S., Kaplan, J., Amodei, D., OpenAI Dota Team (2018). An empirical model of large-batch training. arXiv:1812.06162.
# - Micikevicius, P., et al. (2018). Mixed precision training. *ICLR*.
# - Patarasuk, P., Yuan, X. (2009). Bandwidth optimal all-reduce algorithms for clusters of workstations. *Journal of Parallel and Distributed Computing* 69(2).
# - Rajbhandari, S., Rasley, J., Ruwase, O., He, Y. (2020). ZeRO: memory optimizations toward training trillion parameter models. *SC20*.
# - Sanders, P., Speck, J., Träff, J. L. (2009). Two-tree algorithms for full bandwidth broadcast, reduction and scan. *Parallel Computing* 35(12).
# - Shoeybi, M., Patwary, M., Puri, R., LeGresley, P., Casper, J., Catanzaro, B. (2019). Megatron-LM: training multi-billion parameter language models using model parallelism. arXiv:1909.08053.
# - Thakur, R., Rabenseifner, R., Gropp, W. (2005). Optimization of collective communication operations in MPICH. *International Journal of High Performance Computing Applications* 19(1).
# - Zhao, Y., Gu, A., Varma, R., et al. (2023). PyTorch FSDP: experiences on scaling fully sharded data parallel. *Proceedings of the VLDB Endowment* 16(12).
# - PyTorch documentation: `torch.distributed`, `torchrun` (elastic launch), `DistributedDataParallel`, `fully_shard` (FSDP2), `torch.autocast`.
