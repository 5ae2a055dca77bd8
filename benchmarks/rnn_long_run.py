"""What more training buys the chapter 02 recurrent LMs (too slow for the notebook budget).

Trains RNN, LSTM and GRU character LMs with exactly the notebook's settings but for many more
steps, evaluating the test-split perplexity along the way, and writes
benchmarks/results/rnn_long_run.json, which chapter 02 plots.

    python benchmarks/rnn_long_run.py --steps 4000 --eval-every 250
"""

import argparse
import json
import platform
import time
from pathlib import Path

import torch

from cgen_lessons import data
from cgen_lessons.metrics import stream_nll
from cgen_lessons.rnn import RecurrentLM
from cgen_lessons.train import fit
from cgen_lessons.utils import seed_everything

# the notebook's settings (notebooks/02_recurrent_lms.py)
D_EMBED, D_HIDDEN, BLOCK, BATCH, LR, CLIP = 64, 128, 64, 32, 3e-3, 1.0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=4000)
    parser.add_argument("--eval-every", type=int, default=250)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--cells", default="rnn,lstm,gru")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "rnn_long_run.json"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    text = data.load_corpus("english")
    tok = data.CharTokenizer.from_text(text)
    train_ids, rest = data.split_ids(tok.encode(text), val_fraction=0.2)
    _, test_ids = data.split_ids(rest, val_fraction=0.5)
    results = {"settings": dict(d_embed=D_EMBED, d_hidden=D_HIDDEN, block=BLOCK, batch=BATCH, lr=LR, clip=CLIP,
                                steps=args.steps, threads=args.threads, torch=torch.__version__,
                                machine=platform.machine(), python=platform.python_version()),
               "runs": {}}
    for cell in args.cells.split(","):
        seed_everything(0)
        model = RecurrentLM(tok.vocab_size, cell, D_EMBED, D_HIDDEN)
        opt = torch.optim.Adam(model.parameters(), lr=LR)
        start = time.perf_counter()
        hist = fit(model, opt, lambda g: data.lm_batch(train_ids, BLOCK, BATCH, g), steps=args.steps,
                   grad_clip=CLIP, eval_fn=lambda m: {"test_nll": stream_nll(m, test_ids)},
                   eval_every=args.eval_every, desc=cell, seed=0)
        results["runs"][cell] = {"step": hist.eval["step"], "test_nll": hist.eval["test_nll"],
                                 "seconds": time.perf_counter() - start}
        print(cell, "final test perplexity", round(float(torch.tensor(hist.eval["test_nll"][-1]).exp()), 3), flush=True)
        Path(args.out).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
