"""Choose the learning rate and schedule of the chapter 02/03 language models on validation.

For each model (RNN, LSTM, GRU with chapter 02's settings; the GPT with chapter 03's) and each
schedule (constant; linear warmup then cosine decay), trains at a few peak learning rates for the
notebooks' number of steps and records the validation NLL (the validation plays, never the test
plays). The chapters read benchmarks/results/lm_lr_sweep.json for the schedule ablation, and the
recipe settings take the best cosine learning rate found here.

    python benchmarks/lm_lr_sweep.py --threads 1
"""

import argparse
import platform
from pathlib import Path

import torch

from cgen_lessons.metrics import stream_nll
from cgen_lessons.recipes import GPT_SETTINGS, RNN_SETTINGS, char_lm_splits, train_char_lm
from cgen_lessons.results import load as load_result
from cgen_lessons.results import save as save_result
from cgen_lessons.utils import timer

GRID = {
    "gpt": {"constant": [1e-3, 2e-3, 4e-3, 8e-3], "cosine": [2e-3, 4e-3, 8e-3, 1.6e-2]},
    **{cell: {"constant": [1.5e-3, 3e-3, 6e-3, 1.2e-2, 2.4e-2], "cosine": [3e-3, 6e-3, 1.2e-2, 2.4e-2, 4.8e-2]}
       for cell in ("rnn", "lstm", "gru")},
}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default="gpt,rnn,lstm,gru")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "lm_lr_sweep.json"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    tok, train_ids, val_ids, _ = char_lm_splits()
    out = Path(args.out)
    results = load_result(out) if out.exists() else {"runs": {}}
    results["settings"] = dict(rnn=RNN_SETTINGS.as_dict(), gpt=GPT_SETTINGS.as_dict(), torch=torch.__version__,
                               machine=platform.machine(), python=platform.python_version())
    for name in args.models.split(","):
        runs = results["runs"].get(name, [])  # points already measured are kept, not re-run
        for schedule, lrs in GRID[name].items():
            for lr in lrs:
                if any(r["schedule"] == schedule and r["lr"] == lr for r in runs):
                    continue
                with timer(verbose=False) as t:
                    model, _, _ = train_char_lm(name, train_ids, tok.vocab_size, lr=lr, schedule=schedule,
                                                progress=False)
                    val_nll = stream_nll(model, val_ids)
                runs.append(dict(schedule=schedule, lr=lr, val_nll=val_nll, seconds=t["seconds"], threads=args.threads))
                print(f"{name:5} {schedule:9} lr {lr:.4g}: validation {val_nll:.4f} nats/char ({t['seconds']:.0f} s)",
                      flush=True)
        results["runs"][name] = sorted(runs, key=lambda r: (r["schedule"], r["lr"]))
        save_result(out, results, config=vars(args))


if __name__ == "__main__":
    main()
