"""Who does what: node ownership, each rank's share of the output nodes and
of the batch-wise parts, and equal step counts.

- Ownership (features, rows): rank ``r`` owns the node range
  ``[bounds[r], bounds[r+1])``, ``bounds = node_bounds(N, W)`` (equal
  ranges), so the owner of a node is one ``searchsorted``.
- Node-wise batches: the sorted distinct output nodes are split into ``W``
  chunks of equal size (chunk ``r`` to rank ``r``); each rank computes PPR
  and merges batches over its chunk only, so a batch never spans two
  ranks' chunks. The union of the ranks' batches equals what one process
  computes for the same chunks (and, with one rank, exactly the
  single-process batches).
- Node-wise inference: whole inference batches' worth of the sorted
  outputs per rank (:func:`batch_chunk`), so each rank's inference batches
  are as large as one process's.
- Batch-wise batches: the graph is partitioned once per part count; every
  rank computes the partition with the same seed (the engine's partitioner
  is deterministic for a seed, whatever the thread count) and the ranks
  compare a hash of it, so no rank waits for a broadcast. Parts that hold
  output nodes go round-robin to ranks (part ``p_i``, the i-th such part
  in id order, to rank ``i % W``): each batch is exactly the single-process
  batch of its part.
- Steps: every rank runs ``max_r (batches of rank r)`` steps per epoch; a
  rank with fewer batches repeats the first batches of its epoch
  (:func:`padded`), so DDP's gradient all-reduce always has every rank.
"""
from __future__ import annotations

import hashlib
import math
from typing import Any, Iterable, Iterator

import numpy as np

__all__ = ["node_bounds", "owner_of", "chunk", "batch_chunk", "assign_parts", "parts_mask", "padded", "agree_max",
           "check_same"]


def node_bounds(num_nodes: int, world_size: int) -> np.ndarray:
    """``[W+1]`` int64 bounds of the equal node ranges the ranks own."""
    if world_size < 1:
        raise ValueError(f"world_size must be >= 1, got {world_size}")
    return (np.arange(world_size + 1, dtype=np.int64) * int(num_nodes)) // int(world_size)


def owner_of(ids: Any, bounds: np.ndarray) -> np.ndarray:
    """Owner rank of every id in ``ids`` (``[k]`` int64)."""
    return np.searchsorted(bounds[1:], np.asarray(ids, dtype=np.int64), side="right")


def _ids(mask_or_ids: Any) -> np.ndarray:
    a = mask_or_ids.cpu().numpy() if hasattr(mask_or_ids, "cpu") else np.asarray(mask_or_ids)
    return np.flatnonzero(a) if a.dtype == bool else np.unique(a.astype(np.int64))


def chunk(mask_or_ids: Any, rank: int, world_size: int) -> np.ndarray:
    """Rank ``rank``'s chunk of the sorted distinct ids of a ``[N]`` bool mask
    or an id array: chunks of equal size (they differ by at most one)."""
    ids = _ids(mask_or_ids)
    lo, hi = (len(ids) * rank) // world_size, (len(ids) * (rank + 1)) // world_size
    return ids[lo:hi]


def batch_chunk(mask_or_ids: Any, rank: int, world_size: int, per_batch: int) -> np.ndarray:
    """Rank ``rank``'s share of the sorted distinct ids for node-wise
    *inference*: the ids are cut into ``ceil(n / per_batch)`` runs of
    ``per_batch`` (the batch count one process makes) and the ranks get
    whole runs (their counts differ by at most one), so sharding never
    shrinks an inference batch below what one process builds. A node-wise
    batch's predictions depend on its size (more outputs, more of every
    node's neighbourhood in the batch): with chunks of ``n / W`` nodes, a
    test set smaller than ``W`` inference batches lost 2-4 points against
    one process with the same weights (tests/test_distributed.py). A rank
    may get no ids (fewer batches than ranks)."""
    if per_batch < 1:
        raise ValueError(f"per_batch must be >= 1, got {per_batch}")
    ids = _ids(mask_or_ids)
    nb = -(-len(ids) // int(per_batch))
    lo, hi = (nb * rank) // world_size, (nb * (rank + 1)) // world_size
    return ids[lo * per_batch:min(hi * per_batch, len(ids))]


def assign_parts(partitions: np.ndarray, outputs: np.ndarray, world_size: int) -> list[np.ndarray]:
    """Per rank, the ids of the parts (of ``[N]`` ``partitions``) that hold
    any of ``outputs``, dealt round-robin in part-id order."""
    used = np.unique(partitions[outputs])
    return [used[r::world_size] for r in range(world_size)]


def parts_mask(partitions: np.ndarray, outputs: np.ndarray, parts: np.ndarray) -> np.ndarray:
    """``[N]`` bool mask of the ``outputs`` whose part is in ``parts``."""
    mask = np.zeros(len(partitions), dtype=bool)
    keep = np.isin(partitions[outputs], parts)
    mask[outputs[keep]] = True
    return mask


def padded(batches: Iterable[Any], steps: int) -> Iterator[Any]:
    """Exactly ``steps`` items: those of ``batches``, then its first ones
    again (cyclically) while fewer; cut when more. Raises ValueError when
    ``batches`` is empty but ``steps > 0``."""
    seen: list = []
    n = 0
    for b in batches:
        if n == steps:
            return
        if len(seen) < steps:
            seen.append(b)
        yield b
        n += 1
    if n < steps and not seen:
        raise ValueError(f"this rank has no batches but the job runs {steps} steps per epoch: use fewer ranks "
                         "or more output nodes")
    i = 0
    while n < steps:
        yield seen[i % len(seen)]
        i, n = i + 1, n + 1


def agree_max(ctx: Any, value: int) -> int:
    """The largest ``value`` over all ranks (an all-reduce)."""
    import torch
    import torch.distributed as dist

    t = torch.tensor([int(value)], dtype=torch.int64)
    dist.all_reduce(t, op=dist.ReduceOp.MAX, group=ctx.group)
    return int(t.item())


def check_same(ctx: Any, array: np.ndarray, what: str) -> None:
    """Raise RuntimeError on every rank when ``array`` differs between ranks
    (compared by a 64-bit hash, all-gathered)."""
    import torch
    import torch.distributed as dist

    h = int.from_bytes(hashlib.sha1(np.ascontiguousarray(array).tobytes()).digest()[:8], "little", signed=True)
    mine = torch.tensor([h], dtype=torch.int64)
    every = [torch.zeros(1, dtype=torch.int64) for _ in range(ctx.world_size)]
    dist.all_gather(every, mine, group=ctx.group)
    if any(int(e.item()) != h for e in every):
        raise RuntimeError(f"the ranks computed different {what} (hashes {[int(e.item()) for e in every]}): "
                           "the computation must be deterministic for a seed")


def num_parts(num_outputs: int, per_batch: int) -> int:
    """Parts for ``num_outputs`` output nodes at ``per_batch`` per batch."""
    return max(1, math.ceil(num_outputs / per_batch))
