"""Do generated digits help a classifier trained on few real ones? (chapters 06 and 07)

For each seed: draw n real training digits per class; train the chapter-06 feature classifier
(``recipes.DigitScorer``, an MLP) on them alone, then on them plus
``--generated`` class-conditional samples of a diffusion model trained on *the same few digits*
(chapter 07's recipe, guidance w = 1, 50 DDIM steps) — so the generator sees no more real data
than the classifier. Reports test accuracy on the held-out test digits; chapter 07 reads
benchmarks/results/augmentation.json.

    python benchmarks/augmentation.py --per-class 10 --seeds 0,1,2
"""

import argparse
import time
from pathlib import Path

import torch

from cgen_lessons import data, recipes
from cgen_lessons.results import save as save_result


def classifier_accuracy(x, y, digits, seed):
    """Test accuracy of chapter 06's classifier (``recipes.DigitScorer``) trained on (x, y)."""
    return recipes.DigitScorer(digits, seed=seed, train=(x, y), progress=False).test_accuracy


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--per-class", type=int, default=10)
    parser.add_argument("--generated", type=int, default=1000)
    parser.add_argument("--diffusion-steps", type=int, default=1500)
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "augmentation.json"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    digits = data.load_digits()
    out = {"per_class": args.per_class, "generated": args.generated, "diffusion_steps": args.diffusion_steps,
           "threads": args.threads, "runs": []}
    for seed in map(int, args.seeds.split(",")):
        start = time.perf_counter()
        g = torch.Generator().manual_seed(seed)
        idx = torch.cat([torch.nonzero(digits.y_train == c).squeeze(1)[torch.randperm(int((digits.y_train == c).sum()),
                                                                                    generator=g)[:args.per_class]]
                         for c in range(10)])
        x_few, y_few = digits.x_train[idx], digits.y_train[idx]
        model, _ = recipes.train_digit_diffusion(2 * x_few - 1, y_few, seed=seed, steps=args.diffusion_steps,
                                                 progress=False)
        y_gen = torch.arange(args.generated) % 10
        x_gen = ((model.sample(args.generated, (1, 8, 8), steps=50, eta=0.0, y=y_gen, clip_x0=1.0,
                               generator=torch.Generator().manual_seed(seed)) + 1) / 2).clamp(0, 1)
        row = {"seed": seed,
               "real_only": classifier_accuracy(x_few, y_few, digits, seed),
               "real_plus_generated": classifier_accuracy(torch.cat([x_few, x_gen]), torch.cat([y_few, y_gen]), digits,
                                                          seed),
               "generated_only": classifier_accuracy(x_gen, y_gen, digits, seed),
               "all_real_training_digits": classifier_accuracy(digits.x_train, digits.y_train, digits, seed),
               "seconds": time.perf_counter() - start}
        out["runs"].append(row)
        print(row, flush=True)
        save_result(args.out, out, config=vars(args))


if __name__ == "__main__":
    main()
