"""What more training buys the language models of chapters 02 and 03 (too slow for a notebook).

Trains the chapter 02 recurrent LMs (RNN, LSTM, GRU) and the chapter 03 GPT with exactly the
notebooks' settings (``cgen_lessons.recipes``) but for many more steps, evaluating test-split
perplexity along the way, and merges the curves into benchmarks/results/lm_long_run.json,
which both chapters plot.

    python benchmarks/lm_long_run.py --models rnn,lstm,gru,gpt --steps 4000 --eval-every 250
"""

import argparse
import json
import platform
from pathlib import Path

import torch

from cgen_lessons.metrics import stream_nll
from cgen_lessons.recipes import GPT_SETTINGS, RNN_SETTINGS, english_splits, train_gpt, train_recurrent_lm


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default="rnn,lstm,gru,gpt")
    parser.add_argument("--steps", type=int, default=4000)
    parser.add_argument("--eval-every", type=int, default=250)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "lm_long_run.json"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    tok, train_ids, _, test_ids = english_splits()
    out = Path(args.out)
    results = json.loads(out.read_text()) if out.exists() else {"runs": {}}
    results["settings"] = dict(rnn=RNN_SETTINGS, gpt=GPT_SETTINGS, steps=args.steps, torch=torch.__version__,
                               machine=platform.machine(), python=platform.python_version(), threads=args.threads)
    evaluation = dict(eval_fn=lambda m: {"test_nll": stream_nll(m, test_ids)}, eval_every=args.eval_every)
    for name in args.models.split(","):
        if name == "gpt":
            _, hist, seconds = train_gpt(train_ids, tok.vocab_size, steps=args.steps, **evaluation)
        else:
            _, hist, seconds = train_recurrent_lm(name, train_ids, tok.vocab_size, steps=args.steps, **evaluation)
        results["runs"][name] = {"step": hist.eval["step"], "test_nll": hist.eval["test_nll"], "seconds": seconds,
                                 "steps": args.steps}
        print(name, "final test perplexity", round(float(torch.tensor(hist.eval["test_nll"][-1]).exp()), 3), flush=True)
        out.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
