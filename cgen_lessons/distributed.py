"""Data parallelism with PyTorch's own engine (``torch.distributed``, ``torchrun``, DDP, FSDP).

W processes ("ranks") each hold a copy of the parameters θ. A global batch B of |B| examples is
cut into W equal shards B_r of |B|/W rows; rank r computes the gradient of the mean loss on its
shard, and one all-reduce averages them:

    (1/W) Σ_r ∇L(θ; B_r) = (1/W) Σ_r (W/|B|) Σ_{i∈B_r} ∇ℓ_i(θ) = (1/|B|) Σ_{i∈B} ∇ℓ_i(θ) = ∇L(θ; B),

the full-batch gradient. Every rank then applies the same optimiser step to the same θ, so the
copies never drift apart. The identity needs *equal* shards (with |B_r| unequal, the plain
average of the per-shard means weights the examples of small shards more) and a loss that is a
mean of per-example terms (batch norm, which mixes the examples of a shard, breaks it).

``train.fit`` uses this module when it runs under ``torchrun``: every rank draws the same global
batch from the same seeded generator and keeps its own shard (``shard``), so the batches, and a
resumed run, do not depend on the number of processes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import NamedTuple

import torch
import torch.distributed as dist

from . import checks
from .utils import check_positive_int

__all__ = ["World", "world", "setup", "shard", "mean_over_ranks", "gather_objects", "launch", "training_memory",
           "STRATEGIES"]


class World(NamedTuple):
    """Who this process is: ``rank`` in 0..``size``−1, and ``local_rank`` on its machine."""

    rank: int
    size: int
    local_rank: int

    @property
    def main(self) -> bool:
        """Rank 0 logs, shows progress bars and writes checkpoints."""
        return self.rank == 0


def world() -> World:
    """This process's place in the process group (``World(0, 1, 0)`` outside of one)."""
    if dist.is_available() and dist.is_initialized():
        return World(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", 0)))
    return World(0, 1, 0)


def setup(backend: str | None = None, timeout_s: float = 120.0) -> World:
    """Join the process group that ``torchrun`` describes in the environment (``RANK``, ``WORLD_SIZE``,
    ``MASTER_ADDR``…) if there is one and it is not joined yet; a plain ``python`` run stays a world of 1.

    The backend is ``nccl`` when the processes compute on CUDA and ``gloo`` (CPU) otherwise."""
    size = int(os.environ.get("WORLD_SIZE", "1"))
    if size > 1 and not dist.is_initialized():
        if not dist.is_available():
            raise ValueError("WORLD_SIZE > 1 but this build of torch has no torch.distributed")
        if backend is None:
            on_cuda = torch.cuda.is_available() and os.environ.get("CGEN_DEVICE", "cuda").startswith("cuda")
            backend = "nccl" if on_cuda else "gloo"
        if backend not in ("gloo", "nccl"):
            raise ValueError(f"backend must be 'gloo' or 'nccl', got {backend!r}")
        dist.init_process_group(backend, timeout=timedelta(seconds=timeout_s))
    return world()


def shard(batch, rank: int, size: int):
    """Rank ``rank``'s share of a batch: rows [r·n/W, (r+1)·n/W) of every tensor (a tensor, or a
    tuple/list/namedtuple/dict of tensors with the same number of rows n). n must be divisible by W."""
    rank, size = checks.nonneg_int(rank, "rank"), check_positive_int(size, "size")
    if rank >= size:
        raise ValueError(f"need 0 <= rank < size, got rank={rank}, size={size}")
    if size == 1:
        return batch
    if isinstance(batch, torch.Tensor):
        n = batch.shape[0]
        if n % size:
            raise ValueError(f"a batch of {n} rows cannot be cut into {size} equal shards: the average of "
                             f"unequal shards' mean gradients is not the full-batch gradient. Choose a batch "
                             f"size divisible by the number of processes")
        return batch[rank * n // size:(rank + 1) * n // size]  # (n / W, ...)
    if isinstance(batch, tuple) and hasattr(batch, "_fields"):
        return type(batch)(*(shard(b, rank, size) for b in batch))
    if isinstance(batch, (tuple, list)):
        return type(batch)(shard(b, rank, size) for b in batch)
    if isinstance(batch, dict):
        return {k: shard(v, rank, size) for k, v in batch.items()}
    raise ValueError(f"cannot shard a batch of type {type(batch).__name__}: use tensors, tuples, lists or dicts")


def mean_over_ranks(values: dict[str, float]) -> dict[str, float]:
    """The average of each logged value over the ranks (one all-reduce), so every rank logs the same."""
    if world().size == 1 or not values:
        return values
    t = torch.tensor([float(v) for v in values.values()], dtype=torch.float64)  # (K,)
    if dist.get_backend() == "nccl":
        t = t.cuda()
    dist.all_reduce(t)
    return {k: v / world().size for k, v in zip(values, t.tolist())}


def gather_objects(obj) -> list:
    """Every rank's ``obj``, in rank order (a list of one outside a process group)."""
    if world().size == 1:
        return [obj]
    out = [None] * world().size
    dist.all_gather_object(out, obj)
    return out


STRATEGIES = ("ddp", "zero1", "zero2", "fsdp")


def training_memory(n_params: int, world_size: int, strategy: str = "ddp", precision: str = "fp32") -> dict[str, float]:
    """Bytes per rank for the training state of Adam(W) with Ψ = ``n_params`` parameters (activations and
    temporary buffers excluded), after Rajbhandari et al. (2020, "ZeRO"):

    - fp32: weights 4Ψ + gradients 4Ψ + optimiser states (two moments) 8Ψ = 16Ψ;
    - mixed precision (bf16/fp16 weights and gradients): 2Ψ + 2Ψ + 12Ψ (an fp32 master copy of the
      weights and the two fp32 moments) = 16Ψ as well — mixed precision saves activations, not state.

    DDP replicates everything on each of the W ranks; ZeRO-1 shards the optimiser states (÷W), ZeRO-2
    also the gradients, and FSDP (ZeRO-3) also the weights, gathering one layer's weights at a time
    (that transient copy is not counted)."""
    n_params, world_size = check_positive_int(n_params, "n_params"), check_positive_int(world_size, "world_size")
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {STRATEGIES}, got {strategy!r}")
    if precision not in ("fp32", "bf16", "fp16"):
        raise ValueError(f"precision must be 'fp32', 'bf16' or 'fp16', got {precision!r}")
    per_param = {"weights": 4, "gradients": 4, "optimizer": 8} if precision == "fp32" else \
        {"weights": 2, "gradients": 2, "optimizer": 12}
    sharded = {"ddp": (), "zero1": ("optimizer",), "zero2": ("optimizer", "gradients"),
               "fsdp": ("optimizer", "gradients", "weights")}[strategy]
    out = {k: b * n_params / (world_size if k in sharded else 1) for k, b in per_param.items()}
    out["total"] = sum(out.values())
    return out


def launch(args: list[str], nproc: int = 2, *, module: str = "cgen_lessons.scaling", threads: int = 1,
           timeout_s: float = 300.0) -> dict:
    """Run ``python -m torch.distributed.run --standalone --nproc_per_node=nproc -m module *args --out F``
    (that is ``torchrun``) and return the JSON that rank 0 wrote to F. Each process gets ``threads``
    CPU threads; a failure raises ``RuntimeError`` with the end of the processes' output."""
    if not (isinstance(nproc, int) and nproc >= 1):
        raise ValueError(f"nproc must be a positive integer, got {nproc!r}")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "result.json"
        env = {**os.environ, "OMP_NUM_THREADS": str(threads), "CGEN_PROGRESS": "text",
               "PYTHONPATH": os.pathsep.join([str(Path(__file__).resolve().parents[1]),
                                              os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}",
               "-m", module, *args, "--out", str(out)]
        try:
            proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout_s)
        except subprocess.TimeoutExpired:
            raise RuntimeError(f"torchrun did not finish within {timeout_s:.0f} s: {' '.join(args)}") from None
        if proc.returncode != 0 or not out.is_file():
            raise RuntimeError(f"torchrun failed (exit {proc.returncode}) for {' '.join(args)}; the workers said:\n"
                               + _workers_output(proc.stdout + proc.stderr))
        return json.loads(out.read_text())


def _workers_output(text: str, lines: int = 20) -> str:
    """The end of what the worker processes printed, without torchrun's own traceback that follows it."""
    rows = text.strip().splitlines()
    for i in range(len(rows) - 1, -1, -1):
        if rows[i].startswith("Traceback") and any("torch/distributed/run.py" in r for r in rows[i:i + 4]):
            rows = rows[:i]
            break
    def noise(r):  # torchrun's OMP_NUM_THREADS notice and its rows of asterisks
        return "OMP_NUM_THREADS" in r or set(r.split("]")[-1].strip()) <= {"*"}

    return "\n".join(r for r in rows[-lines:] if not noise(r))
