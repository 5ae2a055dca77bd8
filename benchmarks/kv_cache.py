"""Generation speed of chapter 03's GPT with and without the KV cache (chapter 04).

Untrained weights (speed does not depend on them), block_size 512 so that 256 new tokens fit
after a 16-token prompt; greedy decoding so both paths do the same work per token and must
return identical tokens (checked). Writes benchmarks/results/kv_cache.json.

    python benchmarks/kv_cache.py --threads 2
"""

import argparse
import platform
import time
from pathlib import Path

import torch

from cgen_lessons.decoding import generate
from cgen_lessons.recipes import GPT_SETTINGS, char_lm_splits
from cgen_lessons.results import save as save_result
from cgen_lessons.transformer import GPT


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--lengths", default="64,256")
    parser.add_argument("--batches", default="1,8")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "kv_cache.json"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    V, block = char_lm_splits()[0].vocab_size, 512  # chapter 03's vocabulary, width and depth; a longer context
    model = GPT(V, block, *(getattr(GPT_SETTINGS, k) for k in ("d_model", "n_heads", "n_layers"))).eval()
    rows = []
    for B in map(int, args.batches.split(",")):
        for n in map(int, args.lengths.split(",")):
            prompt = torch.randint(0, V, (B, 16))
            timings, outputs = {}, {}
            for cached in (False, True):
                generate(model, prompt, 8, greedy=True, use_cache=cached)  # warm-up
                t0 = time.perf_counter()
                outputs[cached] = generate(model, prompt, n, greedy=True, use_cache=cached)
                timings[cached] = time.perf_counter() - t0
            row = {"batch": B, "new_tokens": n, "uncached_tokens_per_s": B * n / timings[False],
                   "cached_tokens_per_s": B * n / timings[True], "speedup": timings[False] / timings[True],
                   "identical_tokens": bool(torch.equal(outputs[False], outputs[True]))}
            rows.append(row)
            print(row, flush=True)
    save_result(args.out, {"threads": args.threads, "torch": torch.__version__, "machine": platform.machine(),
                           "block_size": block, "rows": rows}, config=vars(args))


if __name__ == "__main__":
    main()
