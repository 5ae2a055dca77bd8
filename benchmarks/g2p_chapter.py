"""Chapter 10's G2P encoder–decoder, trained by its recipe and shipped as weights.

The chapter's model is ``apps.train_g2p(task, steps=800)`` (2 + 2 layers, d = 64, seed 0, on two threads as the
chapter runs). Training it there costs about 50 s of the chapter's 3-minute budget, so this script trains it once
and writes data/checkpoints/g2p_chapter.pt (``weights_only``-loadable), which ``apps.shipped_g2p`` loads. It records
the final training loss, the training time and the greedy phoneme and word error rates on the first
``check_words`` validation words, which tests/test_apps.py recomputes from the shipped weights.

    python benchmarks/g2p_chapter.py              # ≈ 1 min on a 2-core CPU
    python benchmarks/g2p_chapter.py --no-save    # train and print only
"""

from __future__ import annotations

import dataclasses
import time

import torch

from cgen_lessons import apps
from cgen_lessons.config import Settings
from cgen_lessons.results import save as save_result
from cgen_lessons.utils import save_model


@dataclasses.dataclass(frozen=True)
class G2PChapterBenchmark(Settings):
    steps: int = 800
    check_words: int = 500
    threads: int = 2


def run(s: G2PChapterBenchmark, save: bool = True) -> dict:
    task = apps.G2PTask.build()
    start = time.perf_counter()
    model, hist = apps.train_g2p(task, steps=s.steps, progress=False)
    seconds = time.perf_counter() - start
    words = task.words["val"][:s.check_words]
    scores = apps.g2p_scores(apps.g2p_predict(model, task, words), words, task.refs["val"])
    out = {"final_loss": hist.last("loss"), "train_seconds": round(seconds, 1), "check_words": s.check_words,
           "val_per": scores["per"], "val_wer": scores["wer"]}
    if save:
        apps.G2P_CHECKPOINT.parent.mkdir(parents=True, exist_ok=True)
        save_model(apps.G2P_CHECKPOINT, model, apps.g2p_config(task))
        save_result("g2p_chapter", out, config=dataclasses.asdict(s))
    return out


def main():
    s, save = G2PChapterBenchmark.from_command_line(__doc__)
    torch.set_num_threads(s.threads)
    r = run(s, save=save)
    print(f"final training loss {r['final_loss']:.3f} nats per phoneme; trained in {r['train_seconds']:.0f} s; "
          f"greedy PER {r['val_per']:.1%}, WER {r['val_wer']:.1%} on {r['check_words']} validation words")


if __name__ == "__main__":
    main()
