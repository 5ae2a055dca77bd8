"""Chapter 10's independent judge of dialogue replies, trained once and shipped as weights.

The chapter generates replies with a word GPT trained by ``recipes.train_gpt`` (block 48, batch 32, 500 steps,
seed 0) and measures how specific they are by retrieval under a model's $\\log p(T \\mid S)$. Scored by the
generator itself, greedy decoding and beam search look good almost by construction, so the chapter also scores
with a second GPT: the same recipe and data with seed 1 (``apps.train_dialogue_scorer``). Training it in the
chapter would cost about 30 s of its 3-minute budget, so this script writes data/checkpoints/dialogue_scorer.pt
(``weights_only``-loadable), which ``apps.shipped_dialogue_scorer`` loads, and records the final training loss and
the true replies' perplexity under it on the chapter's 100 test turns, which tests/test_apps.py recomputes.

    python benchmarks/dialogue_scorer.py              # ≈ 1 min on a 2-core CPU
    python benchmarks/dialogue_scorer.py --no-save    # train and print only
"""

from __future__ import annotations

import dataclasses

import torch

from cgen_lessons import apps
from cgen_lessons.config import Settings
from cgen_lessons.results import save as save_result
from cgen_lessons.utils import save_model


@dataclasses.dataclass(frozen=True)
class DialogueScorerBenchmark(Settings):
    check_turns: int = 100
    threads: int = 2


def run(s: DialogueScorerBenchmark, save: bool = True) -> dict:
    dialog = apps.dialogue_corpus(vocab=2000, p_unconditional=0.2)
    model, config, final_loss, seconds = apps.train_dialogue_scorer(dialog, progress=False)
    pairs = dialog["test"][: s.check_turns]
    ppl = apps.reply_perplexity(model, dialog["tok"], [t for t, _ in pairs], [r for _, r in pairs])
    out = {"final_loss": final_loss, "train_seconds": round(seconds, 1), "check_turns": s.check_turns,
           "reply_ppl_conditional": ppl["conditional"], "reply_ppl_unconditional": ppl["unconditional"],
           "recipe": dict(apps.SCORER_SETTINGS)}
    if save:
        apps.SCORER_CHECKPOINT.parent.mkdir(parents=True, exist_ok=True)
        save_model(apps.SCORER_CHECKPOINT, model, config)
        save_result("dialogue_scorer", out, config=dataclasses.asdict(s))
    return out


def main():
    s, save = DialogueScorerBenchmark.from_command_line(__doc__)
    torch.set_num_threads(s.threads)
    r = run(s, save=save)
    print(f"final training loss {r['final_loss']:.3f} nats per token; trained in {r['train_seconds']:.0f} s; "
          f"true-reply perplexity {r['reply_ppl_conditional']:.1f} given the turn, "
          f"{r['reply_ppl_unconditional']:.1f} without, on {r['check_turns']} test turns")


if __name__ == "__main__":
    main()
