"""Response generation on consecutive speeches of the Shakespeare plays (chapter 10), trained
longer than the chapter can afford, with every decoding method of ``apps.generate_replies``.

Data: (last line of a speech, first line of the next speaker's speech) pairs, ≤ 60 characters,
split by play as the course's LM data (``data.SHAKESPEARE_HELD_OUT``); a word-level GPT (2,000
most frequent training tokens) trained on "turn TAB reply NEWLINE" lines, 20 % of them without
the turn, so that one model gives both p(T | S) and p(T); the weights with the lowest reply
perplexity on the validation plays (checked every ``eval_every`` steps) are kept. Reported on
``n_eval`` test turns:
reply perplexity (true replies) with and without the turn, and for each decoding method the
diversity (distinct-n, share of the most frequent reply) and turn-specificity (retrieval accuracy).

    python benchmarks/dialogue.py --out benchmarks/results/dialogue.json    # ≈ 20 min on one core
"""

import argparse
import copy
import math
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from cgen_lessons import apps, recipes
from cgen_lessons.apps import dialogue_corpus
from cgen_lessons.config import Settings, add_set_argument
from cgen_lessons.results import save as save_result


@dataclass(frozen=True)
class DialogueSetup(Settings):
    """The settings of this benchmark (change them with --set name=value)."""
    vocab: int = 2000
    p_unconditional: float = 0.2
    block: int = 64
    batch: int = 64
    steps: int = 4000
    eval_every: int = 250
    d_model: int = 128
    n_layers: int = 2
    n_eval: int = 500
    n_candidates: int = 8
    lam: float = 0.5


SETUP = DialogueSetup()
METHODS = ["greedy", "beam", "sample", "top-p", "likelihood", "mmi"]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    add_set_argument(parser)
    parser.add_argument("--out", default="benchmarks/results/dialogue.json")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    s = SETUP.override(args.set)
    corpus = dialogue_corpus(s.vocab, s.p_unconditional)
    tok = corpus["tok"]
    t0 = time.perf_counter()
    val = corpus["val"][: s.n_eval]
    best = {"val_ppl": math.inf, "state": None}

    def eval_fn(m):  # early stopping: keep the weights with the lowest validation reply perplexity
        ppl = apps.reply_perplexity(m, tok, [t for t, _ in val], [r for _, r in val])["conditional"]
        if ppl < best["val_ppl"]:
            best.update(val_ppl=ppl, state=copy.deepcopy(m.state_dict()))
        return {"val_ppl": ppl}

    model, hist, seconds = recipes.train_gpt(corpus["train_ids"], tok.vocab_size, seed=args.seed, block=s.block,
                                             batch=s.batch, steps=s.steps, d_model=s.d_model,
                                             n_layers=s.n_layers, eval_fn=eval_fn, eval_every=s.eval_every)
    chosen_step = hist.eval["step"][hist.eval["val_ppl"].index(min(hist.eval["val_ppl"]))]
    model.load_state_dict(best["state"])
    test = corpus["test"][: s.n_eval]
    turns, truth = [t for t, _ in test], [r for _, r in test]
    ppl = apps.reply_perplexity(model, tok, turns, truth)
    rows = [{"method": "true replies", **apps.reply_diversity(tok, truth),
             "retrieval": apps.retrieval_accuracy(model, tok, turns, truth)}]
    for method in METHODS:
        t1 = time.perf_counter()
        replies = apps.generate_replies(model, tok, turns, method, n_candidates=s.n_candidates, lam=s.lam,
                                        seed=args.seed)
        rows.append({"method": method, **apps.reply_diversity(tok, replies),
                     "retrieval": apps.retrieval_accuracy(model, tok, turns, replies),
                     "examples": [[a, b] for a, b in zip(turns[:8], replies[:8])],
                     "seconds": round(time.perf_counter() - t1, 1)})
        print({k: v for k, v in rows[-1].items() if k != "examples"}, flush=True)
    out = {"setup": s.as_dict(), "seed": args.seed, "train_seconds": round(seconds, 1),
           "final_train_loss": hist.last("loss"),
           "val_curve": {"step": hist.eval["step"], "val_ppl": hist.eval["val_ppl"]}, "chosen_step": chosen_step,
           "sizes": {k: len(corpus[k]) for k in ("train", "test")}, "reply_perplexity": ppl, "rows": rows,
           "threads": args.threads, "torch": torch.__version__, "total_seconds": round(time.perf_counter() - t0, 1)}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    save_result(args.out, out, config=vars(args))
    print("wrote", args.out)


if __name__ == "__main__":
    main()
