"""The programs chapter 11 launches with ``torchrun`` (``distributed.launch`` runs them as subprocesses).

    torchrun --standalone --nproc_per_node=2 -m cgen_lessons.scaling train --steps 500 --out result.json

- ``train``: chapter 03's GPT recipe (``recipes.train_gpt``) with no change to its call: under
  torchrun ``fit`` makes it data-parallel. Options: steps, accumulation, precision, checkpointing,
  resume, and ``--save`` to write the final weights for a comparison.
- ``allreduce``: the time of one all-reduce of a buffer as large as the GPT's gradients, against the
  time of the forward and backward pass that produces them.
- ``fsdp``: one step with the GPT's blocks sharded by FSDP (``fully_shard``); rank 0 saves the
  gathered weights and reports how many parameter elements each rank holds.
- ``allreduce-sum``: every rank contributes its rank + 1 to a tensor; the all-reduced result.
- ``syncbn``: whether ``SyncBatchNorm`` runs here (on CPU it raises; the error is reported).

Rank 0 writes a JSON result to ``--out``. Every program seeds everything the same way on every rank.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import torch
import torch.distributed as dist

from . import data, distributed, recipes
from .train import decay_groups
from .transformer import GPT
from .utils import seed_everything


def _gpt_and_data(seed: int):
    tok, train_ids, _, _ = recipes.char_lm_splits()
    s = recipes.GPT_SETTINGS
    seed_everything(seed)
    model = GPT(tok.vocab_size, s.block, s.d_model, s.n_heads, s.n_layers)
    return model, train_ids, tok.vocab_size, s


def run_train(args, world) -> dict:
    tok, train_ids, _, _ = recipes.char_lm_splits()
    overrides = dict(steps=args.steps, progress=world.main, accumulate=args.accumulate, precision=args.precision)
    if args.batch:
        overrides["batch"] = args.batch
    if args.dropout:
        overrides["dropout"] = args.dropout
    if args.checkpoint:
        overrides.update(checkpoint=args.checkpoint, checkpoint_every=args.checkpoint_every, resume=args.resume)
    if args.crash_at:  # the last rank dies during step k, as a lost machine would
        calls = [0]

        def eval_fn(_model):
            calls[0] += 1
            if calls[0] == args.crash_at - 1 and world.rank == world.size - 1:
                os._exit(3)
            return {}
        overrides.update(eval_fn=eval_fn, eval_every=1)
    model, history, seconds = recipes.train_gpt(train_ids, tok.vocab_size, seed=args.seed, **overrides)
    s = recipes.GPT_SETTINGS.replace(**{k: v for k, v in overrides.items() if k in recipes.GPT_SETTINGS.keys()})
    if world.main and args.save:  # the weights, and the (clipped, all-reduced) gradients of the last step
        torch.save({"weights": model.state_dict(), "grads": {n: q.grad for n, q in model.named_parameters()}},
                   args.save)
    tokens = s.batch * s.block * args.accumulate
    return {"world_size": world.size, "threads": torch.get_num_threads(), "steps": args.steps, "seconds": seconds,
            "tokens_per_step": tokens, "tokens_per_s": tokens * args.steps / seconds, "loss": history.train["loss"],
            "first_step": history.train["step"][0]}


def run_allreduce(args, world) -> dict:
    """All-reduce time of a gradient-sized buffer vs forward + backward time on one rank's shard."""
    model, train_ids, _, s = _gpt_and_data(args.seed)
    n = sum(p.numel() for p in model.parameters())
    buffer = torch.randn(n)  # (N,)  as many floats as the gradients
    x, y = data.lm_batch(train_ids, s.block, s.batch // world.size, torch.Generator().manual_seed(0))
    compute, comm = [], []
    for _ in range(args.repeats + 2):  # the first two are warm-up
        t = time.perf_counter()
        model.zero_grad()
        model(x, y)[1].backward()
        compute.append(time.perf_counter() - t)
        if world.size > 1:
            dist.barrier()
        t = time.perf_counter()
        if world.size > 1:
            dist.all_reduce(buffer)
        comm.append(time.perf_counter() - t)
    median = lambda v: sorted(v[2:])[len(v[2:]) // 2]  # noqa: E731
    return {"world_size": world.size, "n_params": n, "megabytes": 4 * n / 2**20, "allreduce_s": median(comm),
            "compute_s": median(compute), "shard_rows": s.batch // world.size}


def run_fsdp(args, world) -> dict:
    """One AdamW step of the GPT with every block and the whole model wrapped by FSDP2's ``fully_shard``."""
    from torch.distributed.fsdp import fully_shard

    model, train_ids, _, s = _gpt_and_data(args.seed)
    total = sum(p.numel() for p in model.parameters())
    for block in model.blocks:
        fully_shard(block)
    fully_shard(model)
    local = sum(p.to_local().numel() for p in model.parameters())
    opt = torch.optim.AdamW(decay_groups(model, s.weight_decay), lr=s.lr)
    x, y = data.lm_batch(train_ids, s.block, s.batch, torch.Generator().manual_seed(args.seed))
    x, y = distributed.shard((x, y), world.rank, world.size)
    for _ in range(args.steps):
        opt.zero_grad()
        model(x, y)[1].backward()  # FSDP reduce-scatters the gradients: each rank keeps its shard's mean
        opt.step()
    weights = {k: v.full_tensor() for k, v in model.state_dict().items()}  # all-gather the shards
    grads = {n: q.grad.full_tensor() for n, q in model.named_parameters()}
    if world.main and args.save:
        torch.save({"weights": weights, "grads": grads}, args.save)
    return {"world_size": world.size, "params_total": total, "params_per_rank": distributed.gather_objects(local)}


def run_allreduce_sum(args, world) -> dict:
    t = torch.full((3,), float(world.rank + 1))  # (3,)
    dist.all_reduce(t)  # default op: SUM
    return {"world_size": world.size, "result": distributed.gather_objects(t.tolist())}


def run_syncbn(args, world) -> dict:
    """Does ``SyncBatchNorm`` run on this device in a process group? (In torch 2.13 it needs a GPU.)"""
    bn = torch.nn.SyncBatchNorm(4)
    try:
        bn(torch.randn(8, 4)).sum().backward()
        return {"world_size": world.size, "works": True, "error": ""}
    except ValueError as err:
        return {"world_size": world.size, "works": False, "error": str(err)}


PROGRAMS = {"syncbn": run_syncbn, "train": run_train, "allreduce": run_allreduce, "fsdp": run_fsdp,
            "allreduce-sum": run_allreduce_sum}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m cgen_lessons.scaling", description=__doc__.splitlines()[0])
    parser.add_argument("program", choices=sorted(PROGRAMS))
    parser.add_argument("--out", default="", help="where rank 0 writes the JSON result (default: print it)")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--batch", type=int, default=0, help="global batch (default: the recipe's)")
    parser.add_argument("--accumulate", type=int, default=1)
    parser.add_argument("--dropout", type=float, default=0.0, help="dropout of the GPT (default: the recipe's, 0)")
    parser.add_argument("--precision", default="fp32", choices=["fp32", "bf16", "fp16"])
    parser.add_argument("--checkpoint", default="")
    parser.add_argument("--checkpoint-every", type=int, default=0)
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--crash-at", type=int, default=0, help="the last rank exits during this step")
    parser.add_argument("--save", default="", help="rank 0 saves the final weights here")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    world = distributed.setup()
    try:
        result = PROGRAMS[args.program](args, world)
        if world.main and args.out:
            Path(args.out).write_text(json.dumps(result, indent=1))
        elif world.main:
            print(json.dumps({k: v for k, v in result.items() if k != "loss"}, indent=1))
    finally:
        if dist.is_initialized():
            dist.barrier()
            dist.destroy_process_group()


if __name__ == "__main__":
    main()
