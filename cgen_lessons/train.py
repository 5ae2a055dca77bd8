"""The one training loop of the course.

``fit`` runs ``steps`` optimisation steps of

    θ ← θ − η ∇_θ L(θ; batch),   batch = batch_fn(generator)

with a progress bar (widgets in notebooks, text in terminals), a loss history, periodic
evaluation, and checkpoints that resume *exactly*: the model, the optimiser(s), the scheduler,
the data generator's state and the global RNG state are saved together, so a run stopped at
step k and resumed gives the same weights as an uninterrupted run (``tests/test_train.py``).
Checkpoints hold only tensors and plain containers and are loaded with ``weights_only=True``.

The same call runs data-parallel under ``torchrun`` (chapter 11): ``fit`` joins the process group,
wraps the model in ``DistributedDataParallel``, gives each rank its equal shard of every global
batch (``distributed.shard``), averages the logged values over the ranks, shows progress and writes
checkpoints on rank 0 only, and saves every rank's random state so that a resumed run equals an
uninterrupted one. Options for all runs: gradient accumulation over ``accumulate`` micro-batches and
mixed precision (``precision="bf16"`` on CPU or CUDA, ``"fp16"`` with loss scaling on CUDA).
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import random
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch.nn.parallel import DistributedDataParallel
from tqdm.std import tqdm as _TextBar

from . import checks, distributed
from .utils import check_positive_int, eval_mode, get_device

__all__ = ["History", "fit", "KeepBest", "save_checkpoint", "load_checkpoint", "move_to", "warmup_cosine_factor",
           "warmup_cosine", "decay_groups"]


@dataclass
class History:
    """What a run recorded: ``train[name]`` and ``eval[name]`` are lists aligned with ``train['step']``
    and ``eval['step']``."""

    train: dict[str, list[float]] = field(default_factory=lambda: {"step": []})
    eval: dict[str, list[float]] = field(default_factory=lambda: {"step": []})

    def log(self, kind: str, step: int, values: dict[str, float]) -> None:
        record = self.train if kind == "train" else self.eval
        record["step"].append(step)
        for name, value in values.items():
            record.setdefault(name, []).append(float(value))

    def last(self, name: str, kind: str = "train") -> float:
        record = self.train if kind == "train" else self.eval
        if not record.get(name):
            raise ValueError(f"no {kind} value named {name!r} has been recorded")
        return record[name][-1]

    def state_dict(self) -> dict:
        return {"train": self.train, "eval": self.eval}

    @classmethod
    def from_state_dict(cls, state: dict) -> History:
        return cls(train={k: list(v) for k, v in state["train"].items()},
                   eval={k: list(v) for k, v in state["eval"].items()})


def move_to(batch, device: torch.device):
    """Move a tensor, or a tuple/list/dict of tensors, to ``device``."""
    if isinstance(batch, torch.Tensor):
        return batch.to(device)
    if isinstance(batch, tuple) and hasattr(batch, "_fields"):  # namedtuple: fields are positional arguments
        return type(batch)(*(move_to(b, device) for b in batch))
    if isinstance(batch, (tuple, list)):
        return type(batch)(move_to(b, device) for b in batch)
    if isinstance(batch, dict):
        return {k: move_to(v, device) for k, v in batch.items()}
    return batch


def _default_loss(model, batch):
    out = model(*batch) if isinstance(batch, (tuple, list)) else model(batch)
    if isinstance(out, tuple) and len(out) == 2 and out[1] is not None:
        return out[1]  # the course LM interface: (logits, loss)
    if isinstance(out, torch.Tensor) and out.dim() == 0:
        return out
    raise ValueError("the model did not return a loss: pass loss_fn=, or use model(idx, targets) -> (logits, loss)")


def _optimizers(optimizer) -> dict[str, torch.optim.Optimizer]:
    if isinstance(optimizer, torch.optim.Optimizer):
        return {"optimizer": optimizer}
    if isinstance(optimizer, dict) and optimizer and all(isinstance(o,
                                                                    torch.optim.Optimizer) for o in optimizer.values()):
        return dict(optimizer)
    raise ValueError("optimizer must be a torch.optim.Optimizer or a non-empty dict of them")


def save_checkpoint(path, model, optimizers, step, history, generator, scheduler=None, *, scaler=None,
                    rank_rng=None) -> None:
    """Write everything needed for an exact resume to ``path`` (atomically). Under ``torchrun`` rank 0
    writes, and ``rank_rng`` holds every rank's torch random state (each rank draws its own dropout
    masks); ``scaler`` is the ``GradScaler`` of an fp16 run."""
    if isinstance(model, DistributedDataParallel):
        model = model.module
    state = {
        "model": model.state_dict(),
        "optimizers": {k: o.state_dict() for k, o in _optimizers(optimizers).items()},
        "scheduler": scheduler.state_dict() if scheduler is not None else None,
        "step": int(step),
        "history": history.state_dict(),
        "data_rng": generator.get_state(),
        "torch_rng": torch.get_rng_state(),
        "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "python_rng": random.getstate(),
        "scaler": scaler.state_dict() if scaler is not None else None,
        "rank_rng": list(rank_rng) if rank_rng is not None else None,
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp_path(path)
    try:
        torch.save(state, tmp)
        os.replace(tmp, path)  # atomic: the previous checkpoint stays intact until this succeeds
    finally:
        tmp.unlink(missing_ok=True)


CHECKPOINT_KEYS = {"model", "optimizers", "scheduler", "step", "history", "data_rng", "torch_rng", "cuda_rng",
                   "python_rng"}


def _tmp_path(path: Path) -> Path:
    return path.with_suffix(path.suffix + ".tmp")


def load_checkpoint(path, map_location="cpu") -> dict:
    """Load a checkpoint written by ``save_checkpoint`` (``weights_only=True``: no code runs).
    A missing, empty, truncated or foreign file raises a ``ValueError`` that says so."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"no checkpoint at {path}")
    if path.stat().st_size == 0:
        raise ValueError(f"the checkpoint {path} is empty (was its writing interrupted?)")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:  # EOFError, RuntimeError (truncated zip), UnpicklingError, ...
        raise ValueError(f"cannot read the checkpoint {path}: it is truncated, corrupted or not a "
                         f"checkpoint ({type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''})") from None
    if not isinstance(state, dict) or not CHECKPOINT_KEYS <= set(state):
        raise ValueError(f"{path} is not a checkpoint written by save_checkpoint "
                         f"(missing {sorted(CHECKPOINT_KEYS - set(state)) if isinstance(state, dict) else 'all'})")
    return state


def _check_writable(path: Path) -> None:
    """Fail before training, not after it, if checkpoints cannot be written to ``path``."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        probe = _tmp_path(path)
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as err:
        raise ValueError(f"cannot write checkpoints to {path}: {err.strerror or err}") from None


def _restore_python_rng(state) -> None:
    version, internal, gauss = state
    random.setstate((version, tuple(internal), gauss))


PRECISIONS = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}


def _check_options(eval_every, checkpoint_every, loss_fn, step_fn, grad_clip, checkpoint, resume,
                   accumulate, precision, device) -> None:
    if eval_every < 0 or checkpoint_every < 0:
        raise ValueError("eval_every and checkpoint_every must be >= 0")
    if loss_fn is not None and step_fn is not None:
        raise ValueError("pass loss_fn or step_fn, not both")
    if grad_clip is not None and grad_clip <= 0:
        raise ValueError(f"grad_clip must be positive, got {grad_clip!r}")
    if (checkpoint_every or resume) and checkpoint is None:
        raise ValueError("checkpoint_every and resume need a checkpoint path")
    check_positive_int(accumulate, "accumulate")
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {sorted(PRECISIONS)}, got {precision!r}")
    if step_fn is not None and (accumulate != 1 or precision != "fp32"):
        raise ValueError("accumulate and precision apply to loss_fn training; a step_fn does its own update")
    if precision == "fp16" and device.type != "cuda":
        raise ValueError("precision='fp16' needs CUDA (its loss scaling is a GPU feature); use 'bf16' on the CPU")


def fit(
    model: torch.nn.Module,
    optimizer,
    batch_fn: Callable[[torch.Generator], object],
    *,
    steps: int,
    loss_fn: Callable | None = None,
    step_fn: Callable | None = None,
    eval_fn: Callable[[torch.nn.Module], dict] | None = None,
    eval_every: int = 0,
    checkpoint: str | os.PathLike | None = None,
    checkpoint_every: int = 0,
    resume: bool = False,
    scheduler=None,
    grad_clip: float | None = None,
    accumulate: int = 1,
    precision: str = "fp32",
    seed: int = 0,
    device=None,
    progress: bool = True,
    desc: str = "training",
    history: History | None = None,
) -> History:
    """Train ``model`` for ``steps`` steps and return its ``History``.

    - ``batch_fn(generator)`` returns one batch; it must draw its randomness from the given
      ``torch.Generator`` (seeded with ``seed``) so that resumed runs see the same batches.
    - ``loss_fn(model, batch)`` returns a scalar loss; by default the model is called with the
      batch and the second element of its ``(logits, loss)`` output is used.
    - ``step_fn(model, batch, optimizers)`` replaces the whole update for multi-optimiser
      methods (e.g. GANs) and returns a dict of floats to log (single process only).
    - ``eval_fn(model)`` returns a dict of floats; it runs under ``torch.no_grad()`` in eval
      mode every ``eval_every`` steps and after the last step (on every rank, on the same weights).
    - With ``checkpoint`` set, state is saved every ``checkpoint_every`` steps and at the end
      (the directory must be writable; this is checked before the first step). With
      ``resume=True`` the checkpoint must exist: it is loaded and training continues from it.
    - ``accumulate=k`` draws k batches per step and sums the gradients of their losses / k: one
      step on an effective batch k times larger, for the memory of one batch.
    - ``precision="bf16"`` (CPU or CUDA) or ``"fp16"`` (CUDA, with a ``GradScaler``) computes the
      forward pass under ``torch.autocast``; weights, gradients and optimiser states stay fp32.
    - Under ``torchrun`` (``WORLD_SIZE`` > 1) the step is data-parallel: each rank computes the loss
      on rows [r·n/W, (r+1)·n/W) of the batch, DDP averages the gradients, and the update is the
      single-process update on the whole batch (``distributed`` explains why).

    The loop below is the whole algorithm; ``_Training`` holds the machinery around it (device,
    DDP, resume, the update with accumulation and mixed precision, evaluation, checkpoints).
    """
    run = _Training(model, optimizer, batch_fn, steps=steps, loss_fn=loss_fn, step_fn=step_fn, eval_fn=eval_fn,
                    eval_every=eval_every, checkpoint=checkpoint, checkpoint_every=checkpoint_every, resume=resume,
                    scheduler=scheduler, grad_clip=grad_clip, accumulate=accumulate, precision=precision, seed=seed,
                    device=device, history=history)
    bar = _progress_bar(total=steps, initial=run.start, desc=desc, disable=not (progress and run.world.main))
    model.train()
    for step in range(run.start + 1, steps + 1):
        try:
            values = run.update(step)  # one step: θ ← θ − η ∇_θ L(θ; batch), batch = batch_fn(generator)
        except FloatingPointError:
            bar.close()
            raise
        if scheduler is not None:
            scheduler.step()
        run.history.log("train", step, values)
        run.after_step(step)  # evaluate and save a checkpoint when due
        bar.update(1)
        if step % max(1, steps // 50) == 0 or step == steps:
            bar.set_postfix({k: f"{v:.4g}" for k, v in values.items()}, refresh=False)
    bar.close()
    return run.finish()


class _Training:
    """Everything ``fit`` needs around its loop: checks, device and DDP set-up, the exact resume,
    the update (gradient accumulation, mixed precision, gradient clipping, data-parallel sharding),
    evaluation and checkpoints."""

    def __init__(self, model, optimizer, batch_fn, *, steps, loss_fn, step_fn, eval_fn, eval_every, checkpoint,
                 checkpoint_every, resume, scheduler, grad_clip, accumulate, precision, seed, device, history):
        self.steps = check_positive_int(steps, "steps")
        device = get_device() if device is None else checks.device_available(device)
        _check_options(eval_every, checkpoint_every, loss_fn, step_fn, grad_clip, checkpoint, resume,
                       accumulate, precision, device)
        optimizers = _optimizers(optimizer)
        if step_fn is None and len(optimizers) != 1:
            raise ValueError("several optimizers need a step_fn that says how to use them")
        world = distributed.setup()
        if world.size > 1 and step_fn is not None:
            raise ValueError("a step_fn (several optimisers, e.g. a GAN) cannot run data-parallel in fit: each of "
                             "its networks would need its own DDP wrapper; run it in one process")
        if world.size > 1 and device.type == "cuda":
            device = torch.device("cuda", world.local_rank)  # one GPU per process
            torch.cuda.set_device(device)
        model.to(device)
        net = model
        if world.size > 1:
            net = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
            # Every rank seeded the same way (same initial weights); dropout needs a different stream per rank.
            torch.manual_seed((torch.initial_seed() + 1_000_003 * (world.rank + 1)) % 2**63)
        self.model, self.net, self.optimizers, self.world, self.device = model, net, optimizers, world, device
        self.batch_fn, self.loss_fn, self.step_fn, self.eval_fn = batch_fn, loss_fn or _default_loss, step_fn, eval_fn
        self.eval_every, self.checkpoint, self.checkpoint_every = eval_every, checkpoint, checkpoint_every
        self.scheduler, self.grad_clip, self.accumulate, self.precision = scheduler, grad_clip, accumulate, precision
        self.scaler = torch.amp.GradScaler("cuda") if precision == "fp16" else None
        self.generator = torch.Generator().manual_seed(seed)
        self.history = history if history is not None else History()
        self.start = 0
        if checkpoint is not None and world.main:
            _check_writable(Path(checkpoint))  # also removes a stale .tmp left by a killed run
        if resume:
            self._resume()

    def _resume(self) -> None:
        if not Path(self.checkpoint).is_file():
            raise ValueError(f"resume=True but there is no checkpoint at {self.checkpoint} "
                             "(check the path; pass resume=False to start a new run)")
        state = load_checkpoint(self.checkpoint, map_location=self.device)
        self.model.load_state_dict(state["model"])
        for name, opt in self.optimizers.items():
            opt.load_state_dict(state["optimizers"][name])
        if self.scheduler is not None and state["scheduler"] is not None:
            self.scheduler.load_state_dict(state["scheduler"])
        if self.scaler is not None and state.get("scaler") is not None:
            self.scaler.load_state_dict(state["scaler"])
        self.history = History.from_state_dict(state["history"])
        self.generator.set_state(state["data_rng"].cpu())
        world = self.world
        rank_rng = state.get("rank_rng") or [state["torch_rng"]]
        if len(rank_rng) == world.size:
            torch.set_rng_state(rank_rng[world.rank].cpu())
        else:  # written by another number of processes: the same batches, but new dropout streams
            torch.set_rng_state(rank_rng[0].cpu())
            torch.manual_seed(int(torch.randint(2**62, (1,))) + world.rank)
        if state["cuda_rng"] and torch.cuda.is_available():
            torch.cuda.set_rng_state_all([s.cpu() for s in state["cuda_rng"]])
        _restore_python_rng(state["python_rng"])
        self.start = state["step"]
        if self.start > self.steps:
            raise ValueError(f"the checkpoint is at step {self.start}, beyond the requested {self.steps} steps")

    def next_batch(self):
        """This rank's share of the next batch, on the training device."""
        return move_to(distributed.shard(self.batch_fn(self.generator), self.world.rank, self.world.size), self.device)

    def update(self, step: int) -> dict[str, float]:
        """One optimisation step; returns the values to log (averaged over the ranks)."""
        if self.step_fn is not None:  # several optimisers (e.g. a GAN): the step_fn does the update
            opts = self.optimizers if len(self.optimizers) > 1 else self.optimizers["optimizer"]
            return self.step_fn(self.model, self.next_batch(), opts)
        opt, scaler, k = self.optimizers["optimizer"], self.scaler, self.accumulate
        opt.zero_grad(set_to_none=True)
        total = 0.0
        for micro in range(k):
            batch = self.next_batch()
            sync = micro == k - 1 or self.world.size == 1
            with (contextlib.nullcontext() if sync else self.net.no_sync()):  # all-reduce once, after the last
                with torch.autocast(self.device.type, dtype=PRECISIONS[self.precision],
                                    enabled=self.precision != "fp32"):
                    loss = self.loss_fn(self.net, batch)
                if not torch.isfinite(loss):
                    raise FloatingPointError(f"the loss became {loss.item()} at step {step}")
                (scaler.scale(loss / k) if scaler is not None else loss / k).backward()
            total += loss.item() / k
        values = {"loss": total}
        if self.scheduler is not None:
            values["lr"] = opt.param_groups[0]["lr"]  # the learning rate of this step
        if scaler is not None:
            scaler.unscale_(opt)  # clip the true gradients, not the scaled ones
        if self.grad_clip is not None:
            values["grad_norm"] = torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.grad_clip).item()
        if scaler is not None:
            scaler.step(opt)
            scaler.update()
        else:
            opt.step()
        return distributed.mean_over_ranks(values)

    def evaluate(self, step: int) -> None:
        with eval_mode(self.model), torch.no_grad():
            self.history.log("eval", step, self.eval_fn(self.model))

    def save(self, step: int) -> None:
        world = self.world
        rank_rng = distributed.gather_objects(torch.get_rng_state()) if world.size > 1 else None
        if world.main:
            save_checkpoint(self.checkpoint, self.model, self.optimizers, step, self.history, self.generator,
                            self.scheduler, scaler=self.scaler, rank_rng=rank_rng)
        if world.size > 1:
            torch.distributed.barrier()  # no rank reads or overwrites it before rank 0 has written it

    def after_step(self, step: int) -> None:
        if self.eval_fn is not None and self.eval_every and step % self.eval_every == 0:
            self.evaluate(step)
        if self.checkpoint is not None and self.checkpoint_every and step % self.checkpoint_every == 0:
            self.save(step)

    def finish(self) -> History:
        """The final evaluation and checkpoint (unless the last step already made them)."""
        if self.eval_fn is not None and (not self.history.eval["step"] or self.history.eval["step"][-1] != self.steps):
            self.evaluate(self.steps)
        if self.checkpoint is not None and self.start < self.steps:
            self.save(self.steps)
        return self.history


class KeepBest:
    """Select on validation: an ``eval_fn`` for ``fit`` that logs ``{name: evaluate(model)}`` and keeps a
    copy of the weights at the best value so far; ``restore(model)`` loads them after training."""

    def __init__(self, evaluate: Callable[[torch.nn.Module], float], name: str, higher_is_better: bool):
        if not callable(evaluate):
            raise TypeError(f"evaluate must be a function model -> float, got {type(evaluate).__name__}")
        self.evaluate, self.name, self.sign = evaluate, name, 1.0 if higher_is_better else -1.0
        self.best: float | None = None
        self.state: dict | None = None

    def __call__(self, model: torch.nn.Module) -> dict:
        value = float(self.evaluate(model))
        if self.best is None or self.sign * value > self.sign * self.best:
            self.best, self.state = value, {k: v.detach().clone() for k, v in model.state_dict().items()}
        return {self.name: value}

    def restore(self, model: torch.nn.Module) -> torch.nn.Module:
        """``model`` with the best weights, in eval mode."""
        if self.state is None:
            raise ValueError("nothing was evaluated yet: pass this object to fit as eval_fn")
        model.load_state_dict(self.state)
        return model.eval()


def warmup_cosine_factor(step: int, warmup: int, total: int, min_ratio: float = 0.1) -> float:
    """Learning-rate multiplier of optimiser step ``step`` (0-based) under linear warmup then
    cosine decay (the schedule of GPT-2/3-style training, e.g. Loshchilov & Hutter 2017):

        f(s) = (s + 1) / W                                        for s < W
        f(s) = r + (1 − r) · ½ (1 + cos(π (s − W) / (S − W)))     for W ≤ s < S

    with W = ``warmup``, S = ``total`` and r = ``min_ratio`` (the floor reached at the end).
    """
    step, warmup = checks.nonneg_int(step, "step"), checks.nonneg_int(warmup, "warmup")
    total = checks.positive_int(total, "total")
    if warmup >= total:
        raise ValueError(f"need warmup < total, got warmup={warmup!r}, total={total!r}")
    checks.probability(min_ratio, "min_ratio")
    if step < warmup:
        return (step + 1) / warmup
    progress = min(1.0, (step - warmup) / (total - warmup))
    return min_ratio + (1.0 - min_ratio) * 0.5 * (1.0 + math.cos(math.pi * progress))


def warmup_cosine(optimizer: torch.optim.Optimizer, warmup: int, total: int, min_ratio: float = 0.1):
    """A ``LambdaLR`` scheduler for ``fit(..., scheduler=)`` that multiplies each group's base
    learning rate by ``warmup_cosine_factor`` (``fit`` steps it once per optimiser step)."""
    warmup_cosine_factor(0, warmup, total, min_ratio)  # validate once, before training starts
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: warmup_cosine_factor(s, warmup, total, min_ratio))


def decay_groups(model: torch.nn.Module, weight_decay: float) -> list[dict]:
    """AdamW parameter groups: weight decay λ on the weight *matrices* of the linear maps only;
    none on biases, normalisation gains, or embeddings (token tables of ``nn.Embedding`` and
    position tables, whose names contain "emb"), where shrinking towards 0 has no regularising
    meaning. Shared (tied) parameters appear once."""
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    weight_decay = checks.number(weight_decay, "weight_decay", low=0.0)
    embeddings = {id(m.weight) for m in model.modules() if isinstance(m, torch.nn.Embedding)}
    decay, no_decay = [], []
    for name, p in model.named_parameters():  # tied parameters are listed once
        if not p.requires_grad:
            continue
        is_embedding = id(p) in embeddings or "emb" in name.rsplit(".", 1)[-1]
        (decay if p.dim() >= 2 and not is_embedding else no_decay).append(p)
    return [{"params": decay, "weight_decay": float(weight_decay)}, {"params": no_decay, "weight_decay": 0.0}]


def _progress_bar(**kwargs):
    """tqdm with widgets in Jupyter and text elsewhere. ``CGEN_PROGRESS=text`` (set when committed
    notebooks are executed) prints nothing while training and one final line at the end — the
    steps, time and last logged values — so saved outputs stay short and readable."""
    if os.environ.get("CGEN_PROGRESS") == "text":
        return _FinalLineBar(**kwargs)
    from tqdm.auto import tqdm

    return tqdm(mininterval=0.5, **kwargs)


class _FinalLineBar(_TextBar):
    """A text bar that renders into a buffer and writes only its final state to stderr."""

    def __init__(self, **kwargs):
        super().__init__(file=io.StringIO(), mininterval=float("inf"), **kwargs)
        self._reported = False

    def close(self):
        if not self.disable and not self._reported:
            self._reported = True
            print(str(self), file=sys.stderr, flush=True)
        super().close()
