"""What more training buys the language models of chapters 01–03, at equal wall-clock on one CPU thread.

Each neural model (chapter 02's RNN, LSTM and GRU, chapter 03's GPT, with the notebooks' recipes
from ``cgen_lessons.recipes``) gets the same training time: a short calibration measures its
steps per second, and the run is then given as many steps as fit in ``--minutes`` (the
warmup + cosine schedule needs the step count in advance). The validation plays are scored
every 1/16 of the run; the checkpoint with the lowest validation NLL is kept, and only that one
is scored on the test plays, once. Chapter 01's n-gram is fitted by counting (its order and
smoothing chosen on validation too) and scored the same way. Results go to
benchmarks/results/lm_long_run.json, which chapters 02 and 03 plot.

    python benchmarks/lm_long_run.py --models ngram,rnn,lstm,gru,gpt --minutes 6
"""

import argparse
import copy
import math
import platform
import time
from pathlib import Path

import torch

from cgen_lessons.classic import NGramLM
from cgen_lessons.metrics import stream_nll
from cgen_lessons.recipes import GPT_SETTINGS, RNN_SETTINGS, char_lm_splits, train_char_lm
from cgen_lessons.results import load as load_result
from cgen_lessons.results import save as save_result
from cgen_lessons.utils import timer

LN2 = math.log(2)


def run_neural(name, tok, train_ids, val_ids, test_ids, minutes):
    calibration = 40
    _, _, seconds = train_char_lm(name, train_ids, tok.vocab_size, steps=calibration, progress=False)
    steps = max(100, int(minutes * 60 * calibration / seconds))
    best, eval_seconds = {"val_nll": math.inf}, []

    def evaluate(model):  # fit calls this every `every` steps; keep the best state seen on validation
        with timer(verbose=False) as t:  # timed, so that training time can be reported without it
            val_nll = stream_nll(model, val_ids)
        eval_seconds.append(t["seconds"])
        if val_nll < best["val_nll"]:
            best.update(val_nll=val_nll, state=copy.deepcopy(model.state_dict()))
        return {"val_nll": val_nll}

    every = max(1, steps // 16)
    model, hist, seconds = train_char_lm(name, train_ids, tok.vocab_size, steps=steps, eval_fn=evaluate,
                                        eval_every=every, progress=False)
    model.load_state_dict(best["state"])
    best_step = hist.eval["step"][hist.eval["val_nll"].index(best["val_nll"])]
    test_nll = stream_nll(model, test_ids)  # the one test evaluation of this model
    return {"step": hist.eval["step"], "val_nll": hist.eval["val_nll"], "steps": steps,
            "train_seconds": seconds - sum(eval_seconds), "best_step": best_step, "best_val_nll": best["val_nll"],
            "test_nll": test_nll, "test_bpc": test_nll / LN2,
            "parameters": sum(p.numel() for p in model.parameters()),
            "final_train_loss": sum(hist.train["loss"][-50:]) / len(hist.train["loss"][-50:])}


def run_ngram(tok, train_ids, val_ids, test_ids):
    start = time.perf_counter()
    lm = NGramLM(tok.vocab_size, 9).fit(train_ids)  # its count tables serve every order up to 9 (75^10 overflows)
    grid = {(n, beta): lm.nll(val_ids, beta=beta, n=n) for n in (3, 5, 7, 9) for beta in (0.3, 3.0, 30.0, 100.0)}
    n, beta = min(grid, key=grid.get)
    test_nll = lm.nll(test_ids, beta=beta, n=n)
    return {"grid": {f"n={k[0]}, beta={k[1]}": v for k, v in grid.items()}, "n": n, "beta": beta,
            "best_val_nll": grid[n, beta], "test_nll": test_nll, "test_bpc": test_nll / LN2,
            "train_seconds": time.perf_counter() - start}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default="ngram,rnn,lstm,gru,gpt")
    parser.add_argument("--minutes", type=float, default=6.0, help="training time per neural model")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "lm_long_run.json"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    tok, train_ids, val_ids, test_ids = char_lm_splits()
    out = Path(args.out)
    results = load_result(out) if out.exists() else {"runs": {}}
    results["settings"] = dict(rnn=RNN_SETTINGS.as_dict(), gpt=GPT_SETTINGS.as_dict(), minutes=args.minutes,
                               torch=torch.__version__, machine=platform.machine(), python=platform.python_version(),
                               threads=args.threads)
    for name in args.models.split(","):
        if name == "ngram":
            run = run_ngram(tok, train_ids, val_ids, test_ids)
        else:
            run = run_neural(name, tok, train_ids, val_ids, test_ids, args.minutes)
        results["runs"][name] = run
        print(f"{name:6} best validation {run['best_val_nll']:.4f} nats/char; test {run['test_nll']:.4f} nats/char = "
              f"{run['test_bpc']:.3f} bits/char, perplexity {math.exp(run['test_nll']):.2f} "
              f"({run['train_seconds'] / 60:.1f} min)", flush=True)
        save_result(out, results, config=vars(args))


if __name__ == "__main__":
    main()
