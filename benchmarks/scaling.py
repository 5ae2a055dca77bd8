"""Data-parallel throughput of chapter 03's GPT recipe on this machine (chapter 11).

For 1 process × 1 thread, 1 process × 2 threads and 2 processes × 1 thread (torchrun, gloo), in fp32 and
bf16 autocast: training tokens per second over ``--steps`` steps (median of ``--repeats`` launches; the
start-up of the processes is not timed). Then the all-reduce time of the gradients against the
forward + backward time, and the whole 500-step recipe trained with 2 processes and with 1: validation
loss of both and the largest weight difference. Writes benchmarks/results/scaling.json.

    python benchmarks/scaling.py            # ≈ 6 min on 2 cores
"""

import argparse
import platform
import statistics
import tempfile
from pathlib import Path

import torch

from cgen_lessons import distributed, metrics, recipes
from cgen_lessons.results import save as save_result
from cgen_lessons.transformer import GPT


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "scaling.json"))
    args = parser.parse_args()
    rows = []
    for precision in ("fp32", "bf16"):
        for nproc, threads in ((1, 1), (1, 2), (2, 1)):
            runs = [distributed.launch(["train", "--steps", str(args.steps), "--precision", precision], nproc=nproc,
                                       threads=threads) for _ in range(args.repeats)]
            rate = statistics.median(r["tokens_per_s"] for r in runs)
            rows.append({"processes": nproc, "threads": threads, "precision": precision, "tokens_per_s": rate,
                         "final_loss": runs[0]["loss"][-1]})
            print(rows[-1], flush=True)
    comm = [distributed.launch(["allreduce", "--repeats", "50"], nproc=n, threads=t) for n, t in ((2, 1), (1, 2))]
    print(comm, flush=True)

    tok, _, val_ids, _ = recipes.char_lm_splits()
    s = recipes.GPT_SETTINGS
    full = {}
    with tempfile.TemporaryDirectory() as tmp:
        for nproc, threads in ((2, 1), (1, 2)):
            path = Path(tmp) / f"w{nproc}.pt"
            run = distributed.launch(["train", "--steps", str(s.steps), "--save", str(path)], nproc=nproc,
                                     threads=threads, timeout_s=900)
            model = GPT(tok.vocab_size, s.block, s.d_model, s.n_heads, s.n_layers)
            model.load_state_dict(torch.load(path, weights_only=True)["weights"])
            full[nproc] = {"weights": model.state_dict(), "seconds": run["seconds"],
                           "val_nll": metrics.stream_nll(model.eval(), val_ids[:100_000])}
    diff = max((full[2]["weights"][k] - w).abs().max().item() for k, w in full[1]["weights"].items())
    recipe = {"steps": s.steps, "val_nll_2_processes": full[2]["val_nll"], "val_nll_1_process": full[1]["val_nll"],
              "seconds_2_processes": full[2]["seconds"], "seconds_1_process": full[1]["seconds"],
              "max_weight_difference": diff}
    print(recipe, flush=True)
    save_result(args.out, {"torch": torch.__version__, "machine": platform.machine(),
                           "cpu_threads": torch.get_num_threads(), "steps": args.steps,
                           "throughput": rows, "allreduce": comm, "recipe": recipe}, config=vars(args))


if __name__ == "__main__":
    main()
