"""Posterior collapse in a sequence VAE and its remedies, measured (chapter 08).

Data: the distinct words of 3–10 letters of the Shakespeare plays (``data.load_words``), split
80/10/10 at random (seed 0); each word is a sequence of characters. Every variant is the same
``SeqVAE`` (GRU encoder and decoder, 128 units, 16-dim z) trained by the same shared loop for the
same number of steps; only the objective or the decoder's inputs change:

- plain ELBO (β = 1 from the start); linear KL annealing; cyclical annealing (Fu et al. 2019);
  character dropout 0.5 on the decoder inputs (Bowman et al. 2016); free bits λ = 0.25 nat per
  dimension (Kingma et al. 2016); and, as the baseline, the decoder alone as a plain LM (z = 0).

Reported on the test words (once; the settings are the papers' defaults, not tuned here):
reconstruction −E_q log p(x|z), KL, active units (Burda et al. 2016) and the importance-sampled
NLL with K = 100 (all in nats per word).

    python benchmarks/seq_vae.py --seeds 0,1,2 --out benchmarks/results/seq_vae.json   # ≈ 15 min on one core
"""

import argparse
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from cgen_lessons import data
from cgen_lessons.config import Settings
from cgen_lessons.results import save as save_result
from cgen_lessons.seqvae import SeqVAE, active_units, importance_nll, make_seqvae_step
from cgen_lessons.train import fit

VARIANTS = {  # name: (schedule, word_dropout, free_bits)
    "plain ELBO": ("constant", 0.0, 0.0),
    "linear KL annealing": ("linear", 0.0, 0.0),
    "cyclical KL annealing": ("cyclical", 0.0, 0.0),
    "char dropout 0.5": ("constant", 0.5, 0.0),
    "free bits 0.25": ("constant", 0.0, 0.25),
}
@dataclass(frozen=True)
class SeqVAESetup(Settings):
    """The settings of this benchmark (change them with --set name=value)."""
    steps: int = 2000
    batch: int = 128
    lr: float = 0.002
    max_len: int = 11
    k: int = 100
    n_eval: int = 1000


SETUP = SeqVAESetup()


def word_data():
    words = data.load_words("shakespeare", 3, 10)
    train, val, test = data.split_items(words, seed=0)
    tok = data.CharTokenizer([data.PAD, data.BOS, data.EOS] + [chr(c) for c in range(ord("a"), ord("z") + 1)])
    enc = lambda ws: data.encode_pairs([(w, w) for w in ws], tok, SETUP.max_len)
    return tok, enc(train), enc(val), enc(test)


def train_variant(name, tok, train, seed, steps):
    schedule, word_dropout, free_bits = VARIANTS[name]
    torch.manual_seed(seed)
    model = SeqVAE(tok.vocab_size, tok.stoi[data.PAD], word_dropout=word_dropout)
    fit(model, torch.optim.Adam(model.parameters(), SETUP.lr), data.random_rows(*train, batch_size=SETUP.batch),
        steps=steps,
        step_fn=make_seqvae_step(schedule, steps, free_bits), seed=seed, progress=False)
    return model.eval()


@torch.no_grad()
def evaluate(model, test, seed):
    batch = tuple(t[: SETUP.n_eval] for t in test)
    torch.manual_seed(seed)
    t = model.terms(batch)
    nll = importance_nll(model, batch, k=SETUP.k, generator=torch.Generator().manual_seed(seed))
    return {"rec": t["rec"].mean().item(), "kl": t["kl"].sum(1).mean().item(),
            "active_units": active_units(model, batch[0]), "is_nll": nll.mean().item()}


def plain_lm(tok, train, test, seed, steps):
    """The decoder alone (a RecurrentLM over BOS + word + EOS): the SeqVAE with z fixed at 0 and no encoder."""
    torch.manual_seed(seed)
    model = SeqVAE(tok.vocab_size, tok.stoi[data.PAD])
    loss_fn = lambda m, b: -m.log_px_given_z(b[1], b[2], torch.zeros(len(b[1]), m.z_dim)).mean()
    fit(model, torch.optim.Adam(model.parameters(), SETUP.lr), data.random_rows(*train, batch_size=SETUP.batch),
        steps=steps,
        loss_fn=loss_fn, grad_clip=5.0, seed=seed, progress=False)
    model.eval()
    batch = tuple(t[: SETUP.n_eval] for t in test)
    with torch.no_grad():
        nll = -model.log_px_given_z(batch[1], batch[2], torch.zeros(len(batch[1]), model.z_dim)).mean().item()
    return {"rec": nll, "kl": 0.0, "active_units": 0, "is_nll": nll}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--variants", default=",".join(list(VARIANTS) + ["plain LM (no z)"]))
    parser.add_argument("--steps", type=int, default=SETUP.steps)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default="benchmarks/results/seq_vae.json")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    tok, train, val, test = word_data()
    runs = []
    for seed in [int(x) for x in args.seeds.split(",")]:
        for name in args.variants.split(","):
            t0 = time.perf_counter()
            if name == "plain LM (no z)":
                result = plain_lm(tok, train, test, seed, args.steps)
            else:
                result = evaluate(train_variant(name, tok, train, seed, args.steps), test, seed)
            result.update(variant=name, seed=seed, seconds=round(time.perf_counter() - t0, 1))
            runs.append(result)
            print(result, flush=True)
    out = {"setup": SETUP.replace(steps=args.steps).as_dict(), "n_test_words": SETUP.n_eval, "runs": runs,
           "threads": args.threads, "torch": torch.__version__}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    save_result(args.out, out, config=vars(args))
    print("wrote", args.out)


if __name__ == "__main__":
    main()
