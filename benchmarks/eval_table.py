"""The course-wide evaluation table of chapter 09: every generator of chapters 05–07 (images) and
01–03 (text) trained with its chapter's recipe and scored on the same metrics.

Images (8×8 digits, 1,000 samples per generator, seed 0, features of recipes.DigitScorer):
Fréchet distance to the test digits, Inception Score, precision/recall (k = 3), density/coverage
(k = 5) and MMD² (Gaussian kernel, median-distance bandwidth), all against the 360 test digits.
Text (Shakespeare test plays): test perplexity per
character, and distinct-2 and self-BLEU over words of 20 samples of 300 characters (temperature 1,
seed 0), next to the same statistics for 20 windows of the test plays.

    python benchmarks/eval_table.py                 # ≈ 4 min on 2 cores
"""

import argparse
import math
import platform
import time
from pathlib import Path

import torch

from cgen_lessons import data, recipes
from cgen_lessons.classic import NGramLM
from cgen_lessons.decoding import sample
from cgen_lessons.metrics import (
    density_coverage,
    distinct_n,
    inception_score,
    mmd2,
    precision_recall,
    self_bleu,
    stream_nll,
)
from cgen_lessons.results import save as save_result


def image_rows(scorer, digits):
    g = lambda: torch.Generator().manual_seed(0)  # noqa: E731
    x = digits.x_train
    torch.set_num_threads(1)  # chapters 05–06 train their small networks on one thread (same numbers as there)
    vae, _ = recipes.train_digit_vae(x, progress=False)
    with torch.no_grad():
        z = torch.randn(1000, vae.z_dim, generator=g())
        vae_samples = vae.decode(z).clamp(0, 1).view(-1, 1, 8, 8)
        vae_truncated = vae.decode(0.5 * z).clamp(0, 1).view(-1, 1, 8, 8)  # the truncation trick
    generators = {"real training digits (reference)": x[torch.randperm(len(x), generator=g())[:1000]],
                  "VAE (ch. 05 recipe, decoder means)": vae_samples,
                  "VAE, truncated (z × 0.5)": vae_truncated}
    for loss in ("nonsaturating", "lsgan"):
        gan, _ = recipes.train_dcgan(loss, x, progress=False)
        generators[f"DCGAN, {loss} (ch. 06 recipe)"] = gan.sample(1000, g()).clamp(0, 1)
    torch.set_num_threads(2)  # chapter 07 trains its U-Net on two
    diff, _ = recipes.train_digit_diffusion(2 * x - 1, digits.y_train, progress=False)  # with labels, as in ch. 07
    generators["diffusion, DDPM 200 steps (ch. 07 recipe, no label)"] = ((diff.sample(1000, (1, 8, 8), generator=g(),
                                                                                      clip_x0=1.0)
                                                                 + 1) / 2).clamp(0, 1)
    real = scorer.embed(digits.x_test)
    bandwidth = torch.pdist(real).median().item()  # the median heuristic for the Gaussian kernel
    rows = {}
    for name, images in generators.items():
        fake = scorer.embed(images)
        precision, recall = precision_recall(real, fake, k=3)
        density, coverage = density_coverage(real, fake, k=5)
        rows[name] = dict(fd=scorer.fd(images), inception_score=inception_score(scorer.probs(images)),
                          precision=precision, recall=recall, density=density, coverage=coverage,
                          mmd2=mmd2(real, fake, bandwidth), n=len(images))
        print(name, rows[name], flush=True)
    return rows


def words(ids, tok):
    return tok.decode(ids).split()


def text_rows():
    torch.set_num_threads(2)
    tok, train_ids, _, test_ids = recipes.char_lm_splits()
    models = {"9-gram (ch. 01)": NGramLM(tok.vocab_size, **recipes.NGRAM_SETTINGS).fit(train_ids)}
    for name, threads in (("gru", 1), ("gpt", 2)):  # the thread counts of chapters 02 and 03
        torch.set_num_threads(threads)
        models[f"{name.upper()} (ch. {'02' if name == 'gru' else '03'} recipe)"], _, _ = recipes.train_char_lm(
            name, train_ids, tok.vocab_size, progress=False)
    torch.set_num_threads(2)
    prompt = tok.encode("\n")[None]
    rows = {}
    starts = torch.randint(0, len(test_ids) - 300, (20,), generator=torch.Generator().manual_seed(0))
    windows = [words(test_ids[s: s + 300], tok) for s in starts.tolist()]
    rows["test plays (reference)"] = dict(perplexity=None, distinct_2=distinct_n(windows, 2),
                                          self_bleu=self_bleu(windows))
    for name, model in models.items():
        out = sample(model, prompt.repeat(20, 1), 300, generator=torch.Generator().manual_seed(0))
        texts = [words(row[1:], tok) for row in out]
        rows[name] = dict(perplexity=math.exp(stream_nll(model, test_ids)), distinct_2=distinct_n(texts, 2),
                          self_bleu=self_bleu(texts))
        print(name, rows[name], flush=True)
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "eval_table.json"))
    args = parser.parse_args()
    start = time.perf_counter()
    digits = data.load_digits()
    torch.set_num_threads(2)
    scorer = recipes.DigitScorer(digits, progress=False)
    results = {"images": image_rows(scorer, digits), "text": text_rows(),
               "settings": dict(threads="as in each chapter (1 for VAE, GANs and GRU; 2 for diffusion and GPT)",
                                torch=torch.__version__, python=platform.python_version(),
                                image_samples=1000, text_samples=20, text_chars=300, seed=0)}
    results["settings"]["seconds"] = time.perf_counter() - start
    save_result(args.out, results, config=vars(args))
    print(f"written to {args.out} in {results['settings']['seconds']:.0f} s")


if __name__ == "__main__":
    main()
