"""The character GPT of chapter 03 and GRU of chapter 02, trained by their recipes and shipped as weights.

Chapter 04 decodes from exactly these two models. Training them there again costs about 50 s of the chapter's
3-minute budget, so this script trains each once with its recipe (``recipes.train_gpt`` and
``recipes.train_recurrent_lm("gru", ...)``, seed 0, on the training plays of ``recipes.char_lm_splits``) and
writes data/checkpoints/char_{gpt,gru}.pt (``weights_only``-loadable), which ``recipes.shipped_char_lm`` loads.
It records each model's validation NLL on the first ``check_chars`` validation characters, which
tests/test_char_lms.py recomputes from the shipped weights.

    python benchmarks/char_lms.py              # ≈ 1 min on a 2-core CPU (2 threads, as the chapters run)
    python benchmarks/char_lms.py --no-save    # train and print only
"""

from __future__ import annotations

import dataclasses

import torch

from cgen_lessons.config import Settings
from cgen_lessons.metrics import stream_nll
from cgen_lessons.recipes import (
    CHAR_LM_CHECKPOINTS,
    GPT_SETTINGS,
    RNN_SETTINGS,
    char_lm_config,
    char_lm_splits,
    train_char_lm,
)
from cgen_lessons.results import save as save_result
from cgen_lessons.utils import save_model


@dataclasses.dataclass(frozen=True)
class CharLMsBenchmark(Settings):
    check_chars: int = 10_000
    threads: int = 2


def run(s: CharLMsBenchmark, save: bool = True) -> dict:
    tok, train_ids, val_ids, _ = char_lm_splits()
    out = {}
    for name in ("gpt", "gru"):
        model, hist, seconds = train_char_lm(name, train_ids, tok.vocab_size)
        model.eval()
        out[name] = {"val_nll": stream_nll(model, val_ids[:s.check_chars]), "check_chars": s.check_chars,
                     "train_seconds": round(seconds, 1), "final_loss": hist.train["loss"][-1]}
        if save:
            CHAR_LM_CHECKPOINTS[name].parent.mkdir(parents=True, exist_ok=True)
            save_model(CHAR_LM_CHECKPOINTS[name], model, char_lm_config(name, tok.vocab_size))
    if save:
        save_result("char_lms", out, config={**dataclasses.asdict(s), "gpt": GPT_SETTINGS.as_dict(),
                                             "rnn": RNN_SETTINGS.as_dict()})
    return out


def main():
    s, save = CharLMsBenchmark.from_command_line(__doc__)
    torch.set_num_threads(s.threads)
    for name, r in run(s, save=save).items():
        print(f"{name}: validation NLL {r['val_nll']:.4f} nats/char on {r['check_chars']:,} characters; "
              f"trained in {r['train_seconds']:.0f} s")


if __name__ == "__main__":
    main()
