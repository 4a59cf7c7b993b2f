"""The order in which training visits precomputed batches (:class:`BatchOrder`)."""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

from ibmb._arrays import as_int, as_int64, check_memory, ptr
from ibmb._native import Handle, call, engine
from ibmb.batching import Batches, _batch_csr

__all__ = ["BatchOrder"]


class BatchOrder:
    """The order in which training visits the batches, per epoch.

    Batches whose output-label distributions differ should follow each other
    (IBMB); the distance between two batches is the symmetric KL divergence of
    their add-one-smoothed output-label distributions.

    Modes:
        ``"order"``: one fixed order maximizing the summed distance of
        consecutive batches (farthest-neighbour tour improved by 2-opt); PyG's
        port minimizes it instead.
        ``"sample"``: each epoch a random walk choosing the next batch with
        probability proportional to its distance from the current one.
        ``"rand"``: a uniformly random permutation each epoch.

    Args:
        batches: the :class:`Batches`.
        y: ``[N]`` integer labels (negative: unlabelled).
        mode: ``"order"``, ``"sample"`` or ``"rand"``.
        num_classes: number of classes (default: ``max(y) + 1``).
        seed: random seed.
    """

    def __init__(self, batches: Batches, y: Any, mode: str = "order", num_classes: Optional[int] = None,
                 seed: int = 0) -> None:
        if mode not in ("order", "sample", "rand"):
            raise ValueError(f"mode must be 'order', 'sample' or 'rand', got {mode!r}")
        seed = as_int(seed, "seed", min=0, max=2**63 - 1)
        bp = _batch_csr(batches)
        yy = as_int64(y, "y", ndim=None)
        if yy.ndim != 1:
            raise TypeError(f"y must be a 1-D integer array, got shape {yy.shape}")
        top = int(yy.max()) if yy.size else -1
        if num_classes is None:
            k = max(top + 1, 1)
        else:
            k = as_int(num_classes, "num_classes", min=1)
            if top >= k:
                raise ValueError(f"y holds label {top} but num_classes is {k}: labels must lie in [0, num_classes)")
        nb = bp.num_batches
        if bp.out.size and (bp.out.min() < 0 or bp.out.max() >= yy.size):
            bad = bp.out.min() if bp.out.min() < 0 else bp.out.max()
            raise IndexError(f"batches hold output node {bad}, out of range for {yy.size} labels")
        # The engine counts labels per batch and class (nb x k, three float64
        # tables) and the distances are nb x nb (here, in the engine, and in
        # the sampler's copy): refuse before allocating what cannot fit.
        check_memory(8 * (3 * nb * k + 4 * nb * nb),
                     f"the batch order of {nb} batches over {k} classes"
                     + ("" if num_classes is not None else f" (from the largest label in y, {top})"))
        self.mode, self.num_batches, self._seed, self._epoch = mode, nb, seed, 0
        self.distances = np.zeros((nb, nb), dtype=np.float64)
        call(engine.ScheduleDistances, ptr(bp.out_ptr, np.int64, nb + 1, "batches.out_ptr"),
             ptr(bp.out, np.int64, None, "batches.out"), nb, bp.out.shape[0], ptr(yy, np.int64, None, "y"),
             yy.shape[0], k, ptr(self.distances, np.float64, nb * nb, "distances", writable=True))
        self._fixed: Optional[np.ndarray] = None
        self._sampler: Optional[Handle] = None
        if mode == "order":
            self._fixed = np.empty(nb, dtype=np.int64)
            call(engine.ScheduleOrder, ptr(self.distances, np.float64, nb * nb, "distances"), nb, self._seed,
                 ptr(self._fixed, np.int64, nb, "order", writable=True))
        elif mode == "sample":
            self._sampler = Handle(call(engine.ScheduleSampler, ptr(self.distances, np.float64, nb * nb,
                                                                    "distances"), nb, self._seed))

    def epoch(self) -> np.ndarray:
        """The ``[num_batches]`` batch order of the next epoch."""
        self._epoch += 1
        if self._fixed is not None:
            return self._fixed.copy()
        if self._sampler is not None:
            out = np.empty(self.num_batches, dtype=np.int64)
            call(engine.SamplerEpoch, self._sampler.value, ptr(out, np.int64, self.num_batches, "order", True),
                 self.num_batches)
            return out
        return np.random.default_rng([self._seed, self._epoch]).permutation(self.num_batches)

    def path_distance(self, order: np.ndarray) -> float:
        """Summed distance of consecutive batches in ``order``."""
        return float(self.distances[order[:-1], order[1:]].sum())
