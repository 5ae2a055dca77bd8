"""Chapter 11 (scaling up): a rank's shard, memory per rank, the ring all-reduce."""

import torch

from .core import Exercise, Mistake, register

CHAPTER = "11"


def _shard_rows_reference(batch: torch.Tensor, rank: int, world_size: int) -> torch.Tensor:
    """Rows [r·n/W, (r+1)·n/W) of a batch of n rows: equal, disjoint shards that cover the batch."""
    from ..distributed import shard

    return shard(batch, rank, world_size)


def _shard_cases():
    x = torch.arange(24.0).reshape(12, 2)
    return [(f"12 rows, {w} ranks, rank {r}", (x, r, w)) for w, r in ((2, 0), (2, 1), (3, 1), (4, 3), (1, 0))]


register(Exercise(
    name="shard_rows", chapter=CHAPTER, difficulty="easy", minutes=5, title="a rank's shard of the batch",
    mistakes=[
        Mistake(lambda b, r, w: b[r::w],
                "you dealt the rows out like cards (every W-th row): equal and disjoint, but not the contiguous "
                "rows r·n/W … (r+1)·n/W that fit uses, so a rank would see different examples than in fit."),
        Mistake(lambda b, r, w: b[: len(b) // w],
                "every rank took the FIRST n/W rows: the ranks must see different examples; offset by r·n/W."),
    ],
    reference=_shard_rows_reference,
    cases=_shard_cases,
    hint="rank r keeps the contiguous rows r·n/W up to (r+1)·n/W (not every W-th row, and not the first "
         "n/W rows on every rank: the ranks must see different examples); with W = 1 the shard is the batch.",
))


def _memory_reference(n_params: int, world_size: int, strategy: str) -> float:
    """Bytes per rank of mixed-precision Adam: 2Ψ weights + 2Ψ gradients + 12Ψ optimiser states, with
    ZeRO-1 sharding the states, ZeRO-2 also the gradients, FSDP (ZeRO-3) also the weights."""
    from ..distributed import training_memory

    return float(training_memory(n_params, world_size, strategy, "bf16")["total"])


register(Exercise(
    name="memory_per_rank", chapter=CHAPTER, difficulty="medium", minutes=15,
    title="training memory per rank: DDP, ZeRO-1/2, FSDP",
    mistakes=[
        Mistake(lambda n, w, s: 16.0 * n / (w if s == "fsdp" else 1),
                "ZeRO-1 and ZeRO-2 shard only part of the state: zero1 divides the 12 bytes of optimiser state "
                "by W, zero2 also the 2 bytes of gradients; only fsdp divides all 16."),
        Mistake(lambda n, w, s: float({"ddp": 4 * n, "zero1": 4 * n, "zero2": 2 * n + 2 * n / w, "fsdp": 4 * n / w}[s]),
                "the optimiser state is missing: Adam keeps an fp32 master copy and two fp32 moments, 12 bytes per "
                "parameter, the largest part of the 16."),
    ],
    reference=_memory_reference,
    cases=lambda: [(f"{n:,} parameters, {w} ranks, {s}", (n, w, s))
                   for n, w in ((7_500_000_000, 64), (124_000_000, 8), (1_000_000, 1))
                   for s in ("ddp", "zero1", "zero2", "fsdp")],
    hint="count 16 bytes per parameter in all: 2 (bf16 weights) + 2 (bf16 gradients) + 12 (fp32 master "
         "weights and Adam's two fp32 moments); each ZeRO stage divides one more of the three parts by the "
         "number of ranks: zero1 the 12, zero2 also the gradients' 2, fsdp also the weights' 2.",
    rtol=1e-9,
))


def _ring_allreduce_reference(tensors: list, all_gather: bool = True) -> tuple[list, list]:
    """Ring all-reduce of W equal-length vectors, each cut into W chunks. Reduce-scatter: in step
    s = 0..W−2, rank r sends chunk (r − s) mod W to rank r+1, which adds it to its own; after W−1 steps
    rank r holds the full sum of chunk (r + 1) mod W. All-gather: W−1 more steps pass the summed chunks
    around the ring. Each rank sends 2(W−1) chunks of N/W elements: 2(W−1)N/W in all, whatever W."""
    W = len(tensors)
    chunks = [list(t.clone().chunk(W)) for t in tensors]  # chunks[r][c]: rank r's copy of chunk c
    sent = [0] * W
    for s in range(W - 1):  # reduce-scatter
        messages = [(r, (r - s) % W, chunks[r][(r - s) % W].clone()) for r in range(W)]
        for r, c, payload in messages:
            chunks[(r + 1) % W][c] += payload
            sent[r] += payload.numel()
    for s in range(W - 1 if all_gather else 0):  # all-gather
        messages = [(r, (r + 1 - s) % W, chunks[r][(r + 1 - s) % W].clone()) for r in range(W)]
        for r, c, payload in messages:
            chunks[(r + 1) % W][c] = payload
            sent[r] += payload.numel()
    return [torch.cat(c) for c in chunks], sent


def _ring_cases():
    g = torch.Generator().manual_seed(0)
    return [(f"{w} ranks, {n} elements", ([torch.randn(n, generator=g) for _ in range(w)],))
            for w, n in ((2, 4), (3, 6), (4, 8), (4, 400))]


register(Exercise(
    name="ring_allreduce", chapter=CHAPTER, difficulty="hard", minutes=30, title="a ring all-reduce, simulated",
    mistakes=[
        Mistake(lambda ts: ([sum(ts).clone() for _ in ts], [(len(ts) - 1) * len(ts[0])] * len(ts)),
                "everyone has the right sum, but sending your whole vector to every other rank costs (W − 1)·N "
                "elements per rank: the ring sends each chunk of N/W elements one hop per step, 2(W − 1)·N/W in all."),
        Mistake(lambda ts: _ring_allreduce_reference(ts, all_gather=False),
                "after the reduce-scatter each rank holds only ONE fully summed chunk: W − 1 all-gather steps "
                "must pass the summed chunks around the ring."),
    ],
    reference=_ring_allreduce_reference,
    cases=_ring_cases,
    hint="return (results, sent): results[r] is rank r's final vector (the sum of all inputs), sent[r] the "
         "number of elements rank r sent. Sending your whole vector to every other rank gives the right sums "
         "but sends (W−1)·N; the ring sends each chunk of N/W elements one hop per step: W−1 steps of "
         "reduce-scatter (add what you receive), then W−1 steps of all-gather (overwrite with it).",
))

