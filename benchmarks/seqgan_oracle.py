"""SeqGAN vs MLE vs a Gumbel-softmax GAN on the synthetic-oracle benchmark (chapter 08).

Protocol of Yu et al. (2017), scaled down for a CPU: a randomly initialised LSTM (every parameter
N(0, 1)) is the oracle; 10,000 of its sequences are the training data and 2,000 more the test data.
Every generator is an LSTM LM pretrained by maximum likelihood (MLE); then, from the same
pretrained weights and for the same number of generator updates, it is trained further by
(a) MLE, (b) SeqGAN (Monte-Carlo rollout rewards, policy gradient) or (c) a Gumbel-softmax GAN.
Reported for each: NLL_oracle (quality: the oracle's per-token NLL of 2,000 generated sequences),
NLL_test (coverage: the generator's per-token NLL of the held-out oracle data), both over a sweep
of sampling temperatures (Caccia et al. 2020), the NLL_oracle learning curve, and wall time.

    python benchmarks/seqgan_oracle.py --seeds 0,1,2 --out benchmarks/results/seqgan_oracle.json   # ≈ 10 min
"""

import argparse
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from cgen_lessons.config import Settings, add_set_argument
from cgen_lessons.data import random_rows
from cgen_lessons.results import save as save_result
from cgen_lessons.rnn import RecurrentLM
from cgen_lessons.textgan import (
    SeqDiscriminator,
    TextGAN,
    make_gumbel_gan_step,
    make_oracle,
    make_seqgan_step,
    mle_loss,
    pretrain_discriminator,
    sample_sequences,
    sequence_nll,
)
from cgen_lessons.train import fit


@dataclass(frozen=True)
class OracleSetup(Settings):
    """The settings of this benchmark (change them with --set name=value)."""
    vocab: int = 32
    length: int = 20
    hidden: int = 32
    n_train: int = 10_000
    n_test: int = 2000
    batch: int = 64
    pretrain_steps: int = 1500
    pretrain_lr: float = 0.005
    adv_steps: int = 300
    adv_lr: float = 0.001
    d_pretrain_steps: int = 200
    d_lr: float = 0.001
    n_rollouts: int = 8
    gumbel_tau: float = 1.0
    eval_every: int = 50
    n_eval: int = 2000


SETUP = OracleSetup()
TEMPERATURES = [0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.4]


def oracle_data(s):
    oracle = make_oracle(s.vocab, s.hidden, s.hidden, seed=0)
    g = torch.Generator().manual_seed(12345)
    train = sample_sequences(oracle, s.n_train, s.length, generator=g)
    test = sample_sequences(oracle, s.n_test, s.length, generator=g)
    return oracle, train, test


@torch.no_grad()
def nll_oracle(oracle, G, s, temperature=1.0, seed=999):
    fake = sample_sequences(G, s.n_eval, s.length, temperature=temperature,
                            generator=torch.Generator().manual_seed(seed))
    return sequence_nll(oracle, fake).mean().item()


@torch.no_grad()
def nll_test(G, test, temperature=1.0):
    return sequence_nll(G, test, temperature=temperature).mean().item()


def pretrain(s, train, seed):
    torch.manual_seed(seed)
    G = RecurrentLM(s.vocab, "lstm", s.hidden, s.hidden)
    fit(G, torch.optim.Adam(G.parameters(), s.pretrain_lr), random_rows(train, batch_size=s.batch),
        steps=s.pretrain_steps,
        loss_fn=mle_loss, seed=seed, progress=False)
    return G


def run(method, G0, s, oracle, train, test, seed):
    torch.manual_seed(seed)
    G = RecurrentLM(s.vocab, "lstm", s.hidden, s.hidden)
    G.load_state_dict(G0.state_dict())
    curve = {"step": [0], "nll_oracle": [nll_oracle(oracle, G, s)]}
    eval_fn = lambda m: {"nll_oracle": nll_oracle(oracle, m.G if isinstance(m, TextGAN) else m, s)}
    t0 = time.perf_counter()
    if method == "MLE":
        h = fit(G, torch.optim.Adam(G.parameters(), s.adv_lr), random_rows(train, batch_size=s.batch),
                steps=s.adv_steps,
                loss_fn=mle_loss, eval_fn=eval_fn, eval_every=s.eval_every, seed=seed, progress=False)
    else:
        model = TextGAN(G, SeqDiscriminator(s.vocab))
        opts = {"G": torch.optim.Adam(G.parameters(), s.adv_lr),
                "D": torch.optim.Adam(model.D.parameters(), s.d_lr)}
        # the discriminator first learns to tell G's samples from data
        pretrain_discriminator(model, opts["D"], random_rows(train, batch_size=s.batch), s.d_pretrain_steps,
                               s.length,
                               generator=torch.Generator().manual_seed(seed), one_hot=method != "SeqGAN")
        step = (make_seqgan_step(s.length, s.n_rollouts) if method == "SeqGAN"
                else make_gumbel_gan_step(s.length, s.gumbel_tau))
        h = fit(model, opts, random_rows(train, batch_size=s.batch), steps=s.adv_steps, step_fn=step,
                eval_fn=eval_fn,
                eval_every=s.eval_every, seed=seed, progress=False)
    seconds = time.perf_counter() - t0
    curve["step"] += h.eval["step"]
    curve["nll_oracle"] += h.eval["nll_oracle"]
    sweep = {"temperature": TEMPERATURES,
             "nll_oracle": [nll_oracle(oracle, G, s, t) for t in TEMPERATURES],
             "nll_test": [nll_test(G, test, t) for t in TEMPERATURES]}
    return {"method": method, "seed": seed, "seconds": round(seconds, 1), "curve": curve, "sweep": sweep,
            "nll_oracle": sweep["nll_oracle"][TEMPERATURES.index(1.0)],
            "nll_test": sweep["nll_test"][TEMPERATURES.index(1.0)]}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--methods", default="MLE,SeqGAN,Gumbel GAN")
    parser.add_argument("--threads", type=int, default=1)
    add_set_argument(parser)
    parser.add_argument("--out", default="benchmarks/results/seqgan_oracle.json")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    s = SETUP.override(args.set)
    oracle, train, test = oracle_data(s)
    with torch.no_grad():
        entropy = sequence_nll(oracle, test).mean().item()
    runs = []
    for seed in [int(x) for x in args.seeds.split(",")]:
        t0 = time.perf_counter()
        G0 = pretrain(s, train, seed)
        pre = {"method": "pretrained (MLE)", "seed": seed, "nll_oracle": nll_oracle(oracle, G0, s),
               "nll_test": nll_test(G0, test), "seconds": round(time.perf_counter() - t0, 1)}
        runs.append(pre)
        print(pre, flush=True)
        for method in args.methods.split(","):
            r = run(method, G0, s, oracle, train, test, seed)
            runs.append(r)
            print({k: r[k] for k in ("method", "seed", "nll_oracle", "nll_test", "seconds")}, flush=True)
    out = {"setup": s.as_dict(), "oracle_nll_of_test_data": entropy, "temperatures": TEMPERATURES, "runs": runs,
           "threads": args.threads, "torch": torch.__version__}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    save_result(args.out, out, config=vars(args))
    print("wrote", args.out)


if __name__ == "__main__":
    main()
