"""Constrained verse (chapter 10): how often a character GPT trained on the Tang poems writes a
five-character quatrain in form without help, as training lengthens, and what the logit mask costs.

The chapter's recipe (``recipes.train_gpt`` with block 32 on the 313 Tang poems of Debian's
fortunes-zh) trained for several step counts; for each, 1,000 samples at temperature 0.8 with and
without the mask: the share in form (an estimate of P(F), so 1/P(F) is the cost of exact
conditioning by rejection), the mean NLL per character under the unconstrained model, and the share
of generated five-character lines that occur verbatim in the training poems (memorisation).

    python benchmarks/verse_form.py --out benchmarks/results/verse_form.json     # ≈ 8 min on one core
"""

import argparse
import re
from pathlib import Path

import torch

from cgen_lessons import apps, data, recipes
from cgen_lessons.results import save as save_result

FORM = "_____，_____。\n_____，_____。"
EXCLUDE = "，。？！；：、,.?!;:\n「」『』（）《》"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", default="400,800,1500,3000")
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default="benchmarks/results/verse_form.json")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    text = data.load_corpus("tang")  # needs Debian's fortunes-zh
    tok = data.CharTokenizer.from_text(text)
    form = apps.FormatConstraint(FORM, tok, slot="_", exclude=EXCLUDE)
    corpus_lines = set(re.split(r"[，。？！；：\n]", text))  # every line (half-couplet) of the training poems
    rows = []
    for steps in [int(s) for s in args.steps.split(",")]:
        model, hist, seconds = recipes.train_gpt(tok.encode(text), tok.vocab_size, block=32, steps=steps)
        row = {"steps": steps, "train_seconds": round(seconds, 1), "final_train_loss": hist.last("loss")}
        for constrained in (False, True):
            texts, lp = apps.sample_verse(model, tok, form, args.samples, "\n\n", constrained=constrained,
                                          temperature=0.8)
            key = "masked" if constrained else "free"
            row[f"{key}_in_form"] = sum(map(form.matches, texts)) / len(texts)
            row[f"{key}_nll_per_char"] = -lp.mean().item() / len(form)
            row[f"{key}_examples"] = texts[:4]
            lines = [ln for t in texts for ln in re.split(r"[，。\n]", t) if len(ln) == 5]
            row[f"{key}_copied_lines"] = sum(ln in corpus_lines for ln in lines) / max(1, len(lines))
        rows.append(row)
        print({k: v for k, v in row.items() if not k.endswith("examples")}, flush=True)
    out = {"form": FORM, "samples": args.samples, "temperature": 0.8, "rows": rows, "threads": args.threads,
           "torch": torch.__version__}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    save_result(args.out, out, config=vars(args))
    print("wrote", args.out)


if __name__ == "__main__":
    main()
