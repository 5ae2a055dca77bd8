"""Training throughput of chapter 03's GPT on this machine, and its share of the CPU's fp32 peak.

FLOPs per trained token ≈ 6N + 6·L·T·d (Kaplan et al. 2020: 2N + 2·L·T·d forward, twice that
backward), with N the non-embedding parameters. The "peak" is measured, not looked up: the best
fp32 GFLOP/s of a large square matrix product on the same threads. Writes
benchmarks/results/gpt_throughput.json.

    python benchmarks/gpt_throughput.py --threads 2 --steps 30
"""

import argparse
import json
import platform
import time
from pathlib import Path

import torch

from cgen_lessons.recipes import GPT_SETTINGS, char_lm_splits
from cgen_lessons.results import save as save_result
from cgen_lessons.transformer import GPT


def matmul_peak_gflops(n=2048, repeats=5):
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t0)
    return 2 * n**3 / best / 1e9


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "gpt_throughput.json"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    V = char_lm_splits()[0].vocab_size  # chapter 03's model and batch, from its recipe
    T, d, h, L, B = (getattr(GPT_SETTINGS, k) for k in ("block", "d_model", "n_heads", "n_layers", "batch"))
    torch.manual_seed(0)
    model = GPT(V, T, d, h, L)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    x = torch.randint(0, V, (B, T))
    for _ in range(3):  # warm-up
        opt.zero_grad()
        model(x, x)[1].backward()
        opt.step()
    t0 = time.perf_counter()
    for _ in range(args.steps):
        opt.zero_grad()
        model(x, x)[1].backward()
        opt.step()
    seconds = (time.perf_counter() - t0) / args.steps
    n_total = sum(p.numel() for p in model.parameters())
    n_non_embedding = n_total - model.tok_emb.weight.numel() - model.pos_emb.numel()
    flops_per_token = 6 * n_non_embedding + 6 * L * T * d
    tokens_per_s = B * T / seconds
    achieved = tokens_per_s * flops_per_token / 1e9
    peak = matmul_peak_gflops()
    result = {"threads": args.threads, "torch": torch.__version__, "machine": platform.machine(),
              "params_total": n_total, "params_non_embedding": n_non_embedding, "flops_per_token": flops_per_token,
              "step_seconds": seconds, "tokens_per_s": tokens_per_s, "achieved_gflops": achieved,
              "matmul_peak_gflops": peak, "fraction_of_peak": achieved / peak}
    print(json.dumps(result, indent=1))
    save_result(args.out, result, config=vars(args))


if __name__ == "__main__":
    main()
