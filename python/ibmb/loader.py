"""PyTorch Geometric loaders for IBMB: drop-in replacements for
``torch_geometric.loader.IBMBNodeLoader`` and ``IBMBBatchLoader``.

The batches are computed once by the native engine and materialized into one
contiguous :class:`~ibmb.batching.Arena`; iterating walks the arena and hands
out zero-copy ``torch_geometric.data.Data`` views. With a CUDA ``device`` a
prefetch thread copies the next batch(es) to the GPU with non-blocking copies
from pinned memory while the model works on the current one.

Iteration always stays in the main process: forking a process that runs the
Go runtime can hang, so ``num_workers > 0`` is accepted for compatibility
but replaced by the prefetch thread (with a warning).

Each batch is a ``Data`` with

- ``x``: ``[n, F]`` features of the batch nodes,
- ``y``: ``[n]`` labels (when ``data.y`` exists),
- ``edge_index``: ``[2, m]`` int64 local edges (a ``torch_sparse.SparseTensor``
  with ``return_edge_index_type="adj"``),
- ``edge_weight``: ``[m]`` float32 weights normalized inside the batch
  (``norm``),
- ``output_node_mask``: ``[n]`` bool, True for the output nodes,
- ``n_id``: ``[n]`` int64 global node ids,
- ``batch_size``: number of output nodes; they come first, so a model's
  ``out[:batch.batch_size]`` are the outputs (PyG's convention).
"""
from __future__ import annotations

import math
import os
import queue
import threading
import warnings
from typing import Any, Iterator, Optional, Union

import numpy as np

from ibmb._arrays import as_int, as_int64, as_node_ids, is_tensor
from ibmb._steps import HostRegistration, StepMerger, torch_device
from ibmb.batching import Arena, ArenaBatch, BatchOrder, Batches, batch_wise, node_wise, partition
from ibmb.gather import gather
from ibmb.graph import CSRGraph

__all__ = ["IBMBNodeLoader", "IBMBBatchLoader"]

_ORDERS = ("order", "sample", "rand", None)
# torch.utils.data.DataLoader arguments that make no difference here: batches
# are prepared up front and iterated in this process.
_IGNORED = ("pin_memory", "timeout", "worker_init_fn", "multiprocessing_context", "generator", "prefetch_factor",
            "persistent_workers", "pin_memory_device", "in_order", "collate_fn")
_warned_workers = False


def _torch():
    try:
        import torch
        from torch_geometric.data import Data
    except ImportError as e:  # pragma: no cover - the loaders need both
        raise ImportError(f"ibmb's loaders need torch and torch_geometric: {e}") from e
    return torch, Data


def _memory_budget() -> int:
    """Bytes of feature rows the arena may hold by default: half the memory
    available now (at most 64 GiB)."""
    try:
        avail = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # pragma: no cover
        avail = 8 << 30
    return int(min(avail // 2, 64 << 30))


class _Source:
    """What the loaders need from a PyG ``Data``: checked and converted once."""

    def __init__(self, data: Any, input_nodes: Any, need_y: bool, need_inputs: bool = True) -> None:
        torch, _ = _torch()
        if data is None:
            raise ValueError("data is None: pass a torch_geometric.data.Data with x and edge_index")
        edge_index = getattr(data, "edge_index", None)
        if edge_index is None:
            if getattr(data, "adj_t", None) is not None:
                raise ValueError("data has adj_t but no edge_index: give the loader an edge_index "
                                 "(e.g. without the ToSparseTensor transform)")
            raise ValueError("data has no edge_index")
        x = getattr(data, "x", None)
        if x is None:
            raise ValueError("data has no node features x (give learnable embeddings or structural features as x)")
        if not is_tensor(x) or x.dim() < 2:
            raise TypeError(f"data.x must be a [num_nodes, num_features] tensor, got "
                            f"{type(x).__name__} {tuple(getattr(x, 'shape', ()))}")
        n = int(data.num_nodes) if data.num_nodes is not None else int(x.shape[0])
        if x.shape[0] != n:
            raise ValueError(f"data.x has {x.shape[0]} rows but the graph has {n} nodes")
        self.num_nodes, self.x, self.edge_index = n, x, edge_index
        y = getattr(data, "y", None)
        if y is not None and (not is_tensor(y) or y.shape[0] != n):
            raise ValueError(f"data.y must be a tensor with one row per node ({n}), got "
                             f"{type(y).__name__} {tuple(getattr(y, 'shape', ()))}")
        if need_y and y is None:
            raise ValueError("batch_order 'order' and 'sample' arrange batches by their labels, but data has no y; "
                             "use batch_order='rand' or None")
        self.y = y
        # Integer class labels (shape [N] or [N, 1]) are stored in the arena;
        # anything else (multi-label, regression) is indexed per batch.
        self.class_y: Optional[np.ndarray] = None
        if y is not None and not y.is_floating_point() and y.dtype != torch.bool and (
                y.dim() == 1 or (y.dim() == 2 and y.shape[1] == 1)):
            self.class_y = np.ascontiguousarray(y.detach().reshape(-1).cpu().numpy(), dtype=np.int64)
        if getattr(data, "edge_attr", None) is not None:
            warnings.warn("ibmb loaders do not carry data.edge_attr into the batches (they give edge_weight)",
                          stacklevel=3)
        if not need_inputs:
            return
        self.inputs = as_node_ids(input_nodes, n, "input_nodes")
        if self.inputs.min() < 0 or self.inputs.max() >= n:
            bad = self.inputs[(self.inputs < 0) | (self.inputs >= n)][0]
            raise IndexError(f"input_nodes holds node id {bad}, out of range for {n} nodes")

    def graph(self, add_self_loops: bool) -> CSRGraph:
        return CSRGraph.from_edge_index(self.edge_index, self.num_nodes, drop_duplicates=True,
                                        add_self_loops=add_self_loops)


class _IBMBLoader:
    """Shared iteration over an arena of IBMB batches (see the module doc)."""

    def __init__(self, arena: Arena, batches: Batches, *, x: Any, y: Any, class_y: Optional[np.ndarray],
                 graph: Optional[CSRGraph], batch_order: Optional[str], return_edge_index_type: str,
                 device: Any, prefetch: int, seed: int, kwargs: dict) -> None:
        torch, _ = _torch()
        batch_size = as_int(kwargs.pop("batch_size", 1), "batch_size (batches merged per step)", min=1)
        shuffle = bool(kwargs.pop("shuffle", False))
        drop_last = bool(kwargs.pop("drop_last", False))
        num_workers = as_int(kwargs.pop("num_workers", 0) or 0, "num_workers", min=0)
        prefetch = as_int(prefetch, "prefetch", min=0)
        seed = as_int(seed, "seed", min=0, max=2**63 - 1)
        if kwargs.get("sampler") is not None or kwargs.get("batch_sampler") is not None:
            raise ValueError("sampler/batch_sampler conflict with batch_order: IBMB loaders order their batches "
                             "themselves (batch_order='order', 'sample', 'rand' or None)")
        kwargs.pop("sampler", None)
        kwargs.pop("batch_sampler", None)
        for k in _IGNORED:
            kwargs.pop(k, None)
        if kwargs:
            raise TypeError(f"unexpected keyword argument(s): {', '.join(sorted(kwargs))}")
        if batch_order not in _ORDERS:
            raise ValueError(f"batch_order must be 'order', 'sample', 'rand' or None, got {batch_order!r}")
        if shuffle and batch_order in ("order", "sample"):
            raise ValueError(f"shuffle=True conflicts with batch_order={batch_order!r}: use batch_order='rand' "
                             "(or shuffle=False)")
        if shuffle:
            batch_order = "rand"
        if return_edge_index_type not in ("edge_index", "adj"):
            raise ValueError(f"return_edge_index_type must be 'edge_index' or 'adj', got {return_edge_index_type!r}")
        if return_edge_index_type == "adj":
            try:
                import torch_sparse  # noqa: F401
            except ImportError as e:
                raise ImportError("return_edge_index_type='adj' needs torch_sparse (SparseTensor); install it or "
                                  "use 'edge_index'") from e
        if num_workers > 0:
            global _warned_workers
            if not _warned_workers:
                warnings.warn(f"num_workers={num_workers} ignored: ibmb iterates in the main process with a prefetch "
                              "thread (its batches are precomputed, and forking a process that runs the Go runtime "
                              "can hang)", stacklevel=3)
                _warned_workers = True
        if batch_order in ("order", "sample") and class_y is None:
            raise ValueError(f"batch_order={batch_order!r} needs integer class labels y ([N] or [N, 1]); use "
                             "batch_order='rand' or None")
        self.arena, self.batches = arena, batches
        self.batch_order, self.batch_size, self.drop_last = batch_order, int(batch_size), drop_last
        self.return_edge_index_type = return_edge_index_type
        self.device = torch_device(device)
        self.prefetch = prefetch
        self._x, self._y, self._class_y, self._graph = x, y, class_y, graph
        self._order: Optional[BatchOrder] = None
        self._seed, self._epoch = int(seed), 0
        if batch_order in ("order", "sample") and arena.num_batches > 1:
            self._order = BatchOrder(batches, class_y, mode=batch_order, seed=seed)
        if self.batch_size > 1 and graph is None:
            raise ValueError("batch_size > 1 merges batches over the full graph, which a loaded loader does not "
                             "have: pass data to load()")
        self._merger: Optional[StepMerger] = None
        if self.batch_size > 1 and arena.num_batches > 1:
            self._merger = StepMerger(graph, arena.norm, class_y if arena.has_labels else None)
        self._pin: Optional[HostRegistration] = None

    # ----------------------------------------------------------------- info
    @property
    def num_batches(self) -> int:
        """Number of precomputed batches."""
        return self.arena.num_batches

    def __len__(self) -> int:
        nb = self.arena.num_batches
        return nb // self.batch_size if self.drop_last else -(-nb // self.batch_size)

    def stats(self) -> dict:
        """Sizes: batches, nodes and edges in the arena, arena bytes and the
        bytes of the graph it came from (CSR + features + labels)."""
        t = self.arena._table
        gbytes = 0
        if self._graph is not None:
            gbytes += (self._graph.num_nodes + 1) * 8 + self._graph.num_edges * 4
        if self._x is not None:
            gbytes += self._x.numel() * self._x.element_size()
        if self._y is not None:
            gbytes += self._y.numel() * self._y.element_size()
        return {"num_batches": self.num_batches, "num_nodes": int(t[:, 1].sum()), "num_edges": int(t[:, 3].sum()),
                "num_outputs": int(t[:, 4].sum()), "arena_bytes": self.arena.nbytes, "graph_bytes": int(gbytes),
                "features_in_arena": self.arena.row_bytes > 0}

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(num_batches={self.num_batches}, batch_size={self.batch_size}, "
                f"batch_order={self.batch_order!r}, arena_bytes={self.arena.nbytes:,})")

    # ------------------------------------------------------------ save/load
    def save(self, path: Union[str, os.PathLike]) -> None:
        """Write the prepared batches to one file (atomically); reload them
        with ``load`` to skip preprocessing."""
        self.arena.save(os.fspath(path))

    @classmethod
    def load(cls, path: Union[str, os.PathLike], data: Any = None, batch_order: Optional[str] = "order", *,
             return_edge_index_type: str = "edge_index", device: Any = None, prefetch: int = 2, seed: int = 0,
             verify: bool = True, **kwargs: Any) -> "_IBMBLoader":
        """Memory-map batches saved with :meth:`save`.

        ``data`` is needed when the file stores no features (they are then
        gathered from ``data.x``) or when ``batch_size > 1`` (merging batches
        needs the full graph). Raises OSError for a missing, truncated,
        corrupt or wrong-version file.
        """
        arena = Arena.load(os.fspath(path), verify=verify)
        params = arena.params
        x = y = graph = None
        class_y = None
        if data is not None:
            src = _Source(data, None, need_y=False, need_inputs=False)
            if src.num_nodes != arena.num_nodes:
                raise ValueError(f"data has {src.num_nodes} nodes but the saved batches were built for "
                                 f"{arena.num_nodes}")
            x, y, class_y = src.x, src.y, src.class_y
            if kwargs.get("batch_size", 1) > 1:
                graph = src.graph(bool(params.get("add_self_loops", False)))
        if arena.row_bytes == 0 and x is None:
            raise ValueError(f"{path} stores no features: pass data so that x can be gathered")
        if class_y is None and arena.has_labels:
            class_y = _labels_from_arena(arena)
        loader = cls.__new__(cls)
        _IBMBLoader.__init__(loader, arena, _batches_from_arena(arena), x=x, y=y, class_y=class_y, graph=graph,
                             batch_order=batch_order, return_edge_index_type=return_edge_index_type, device=device,
                             prefetch=prefetch, seed=seed, kwargs=dict(kwargs))
        loader.norm = str(params.get("norm", arena.norm))
        return loader

    # ------------------------------------------------------------ iteration
    def _epoch_order(self) -> np.ndarray:
        self._epoch += 1
        if self.batch_order == "rand":
            return np.random.default_rng([self._seed, self._epoch]).permutation(self.arena.num_batches)
        if self._order is None:
            return np.arange(self.arena.num_batches)
        return self._order.epoch()

    def _groups(self) -> list[np.ndarray]:
        order = self._epoch_order()
        bs = self.batch_size
        groups = [order[i:i + bs] for i in range(0, len(order), bs)]
        if self.drop_last and groups and len(groups[-1]) < bs:
            groups.pop()
        return groups

    def _view(self, group: np.ndarray) -> ArenaBatch:
        if len(group) == 1:
            return self.arena[int(group[0])]
        return self._merger.merge([self.arena[int(b)] for b in group])

    def _to_data(self, v: ArenaBatch) -> Any:
        torch, Data = _torch()
        n_id = torch.from_numpy(v.n_id)
        if self._x_requires_grad():
            x = None  # gathered with autograd in the consumer's thread (_ready), after the last optimizer step
        elif v.x is not None:
            if v.x.dtype.name == "bfloat16":
                x = torch.from_numpy(v.x.view(np.int16)).view(torch.bfloat16)
            else:
                x = torch.from_numpy(v.x)
        elif self._x.is_cuda:
            x = gather(self._x, n_id.to(self._x.device))
        elif self._x.dtype in (torch.float32, torch.float16, torch.bfloat16) and self._x.is_contiguous():
            x = gather(self._x, n_id)
        else:
            x = self._x.index_select(0, n_id)
        if self._y is not None and (v.y is None or self._y.dim() != 1):
            y = self._y.index_select(0, n_id.to(self._y.device))
        elif v.y is not None:
            y = torch.from_numpy(v.y)
        else:
            y = None
        edge_index = torch.from_numpy(v.edge_index)
        edge_weight = torch.from_numpy(v.edge_weight)
        n = int(v.n_id.shape[0])
        if self.return_edge_index_type == "adj":
            from torch_sparse import SparseTensor

            edge_index = SparseTensor(row=edge_index[0], col=edge_index[1], value=edge_weight, sparse_sizes=(n, n),
                                      is_sorted=True, trust_data=True)
        data = Data(edge_index=edge_index, edge_weight=edge_weight, output_node_mask=torch.from_numpy(v.output_mask),
                    n_id=n_id, num_nodes=n)
        if x is not None:
            data.x = x
        if y is not None:
            data.y = y
        data.batch_size = int(v.batch_size)
        return data

    def _pin_arena(self) -> None:
        """Page-lock the arena once (undone when the loader goes)."""
        if self._pin is None:
            self._pin = HostRegistration(self.arena)

    def _x_requires_grad(self) -> bool:
        return self._x is not None and self._x.requires_grad

    def _make(self, group: np.ndarray, stream: Any) -> tuple[Any, Any]:
        torch, _ = _torch()
        data = self._to_data(self._view(group))
        if self.device.type == "cpu":
            return data, None
        with torch.cuda.stream(stream):
            pinned = len(group) == 1 and self._pin is not None and self._pin.ok
            for key, value in data:
                if is_tensor(value):
                    src = value if pinned or value.is_cuda else value.pin_memory()
                    data[key] = src.to(self.device, non_blocking=True)
                elif hasattr(value, "to") and not isinstance(value, (int, float)):
                    data[key] = value.to(self.device, non_blocking=True)
            event = torch.cuda.Event()
            event.record(stream)
        return data, event

    def __iter__(self) -> Iterator[Any]:
        torch, _ = _torch()
        groups = self._groups()
        stream = None
        if self.device.type == "cuda":
            self._pin_arena()
            stream = torch.cuda.Stream(device=self.device)
        if self.prefetch == 0 or (self.device.type == "cpu" and self.batch_size == 1 and self._x_in_arena()):
            # Zero-copy views: nothing worth overlapping.
            for g in groups:
                data, event = self._make(g, stream)
                yield self._ready(data, event)
            return
        q: "queue.Queue[Any]" = queue.Queue(maxsize=self.prefetch)
        stop = threading.Event()

        def put(item: Any) -> bool:
            # Never block for good: the consumer may stop reading (break).
            while not stop.is_set():
                try:
                    q.put(item, timeout=0.1)
                    return True
                except queue.Full:
                    continue
            return False

        def work() -> None:
            try:
                for g in groups:
                    if stop.is_set() or not put(self._make(g, stream)):
                        return
            except BaseException as e:  # handed to the consumer
                put(e)
                return
            put(None)

        t = threading.Thread(target=work, name="ibmb-prefetch", daemon=True)
        t.start()
        try:
            while True:
                item = q.get()
                if item is None:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield self._ready(*item)
        finally:
            stop.set()
            t.join()

    def _x_in_arena(self) -> bool:
        return self.arena.row_bytes > 0

    def _ready(self, data: Any, event: Any) -> Any:
        if event is not None:
            torch, _ = _torch()
            cur = torch.cuda.current_stream(self.device)
            cur.wait_event(event)
            for _, value in data:
                if is_tensor(value) and value.is_cuda:
                    value.record_stream(cur)
        if self._x_requires_grad():
            # Learnable features: gather now, in this thread and grad mode,
            # from the current parameters, so that the batch carries the graph.
            n_id = data.n_id.to(self._x.device)
            data.x = self._gather_x(n_id).to(self.device)
        return data

    def _gather_x(self, n_id: Any) -> Any:
        torch, _ = _torch()
        if self._x.dtype in (torch.float32, torch.float16, torch.bfloat16) and self._x.is_contiguous():
            return gather(self._x, n_id)
        return self._x.index_select(0, n_id)


def _batches_from_arena(arena: Arena) -> Batches:
    """The batch description (sorted outputs and nodes) of an arena."""
    t = arena._table
    counts, nouts = t[:, 1], t[:, 4]
    node_ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    out_ptr = np.concatenate([[0], np.cumsum(nouts)]).astype(np.int64)
    nodes = np.empty(int(node_ptr[-1]), np.int64)
    out = np.empty(int(out_ptr[-1]), np.int64)
    for b in range(arena.num_batches):
        ids = arena._nid[t[b, 0]:t[b, 0] + t[b, 1]]
        out[out_ptr[b]:out_ptr[b + 1]] = ids[:nouts[b]]
        nodes[node_ptr[b]:node_ptr[b + 1]] = np.sort(ids)
    return Batches(out_ptr, out, node_ptr, nodes)


def _labels_from_arena(arena: Arena) -> np.ndarray:
    """``[N]`` labels of the nodes the arena holds (-1 elsewhere)."""
    y = np.full(arena.num_nodes, -1, np.int64)
    y[arena._nid] = arena._y
    return y


def _setup(loader: _IBMBLoader, src: _Source, graph: CSRGraph, arena_graph: CSRGraph, batches: Batches, *,
           norm: str, store_features: Optional[bool], batch_order: Optional[str], return_edge_index_type: str,
           device: Any, prefetch: int, seed: int, params: dict, kwargs: dict) -> None:
    """Materialize ``batches`` into an arena and initialize ``loader`` over it."""
    torch, _ = _torch()
    row_bytes = int(np.prod(src.x.shape[1:])) * src.x.element_size()
    storable = src.x.dtype in (torch.float32, torch.float16, torch.bfloat16)
    if src.x.requires_grad:
        if store_features:
            raise ValueError("store_features=True copies data.x into the arena, which cuts it off from autograd, but "
                             "data.x requires grad (learnable embeddings): use store_features=False or None, and "
                             "batches gather x with autograd")
        store_features = False
    if store_features is None:
        store_features = storable and batches.nodes.shape[0] * row_bytes <= _memory_budget()
    elif store_features and not storable:
        raise TypeError(f"store_features=True needs x of dtype float32, float16 or bfloat16, got {src.x.dtype}")
    params = dict(params, norm=norm, store_features=bool(store_features))
    arena = Arena.build(arena_graph, batches, x=src.x if store_features else None, y=src.class_y, norm=norm,
                        params=params)
    _IBMBLoader.__init__(loader, arena, batches, x=src.x, y=src.y, class_y=src.class_y, graph=arena_graph,
                         batch_order=batch_order, return_edge_index_type=return_edge_index_type, device=device,
                         prefetch=prefetch, seed=seed, kwargs=kwargs)
    loader.norm = norm
    loader.ppr_graph = graph


class IBMBNodeLoader(_IBMBLoader):
    r"""Node-wise influence-based mini-batching (Gasteiger et al., LoG 2022),
    with the arguments of ``torch_geometric.loader.IBMBNodeLoader``.

    Every input (output) node gets its ``num_auxiliary_nodes`` nodes of
    highest personalized PageRank; output nodes that share influential nodes
    are merged into batches of at most ``num_nodes_per_batch`` output nodes.
    Batches are computed once (native engine, all cores) and stored in one
    contiguous arena.

    Args:
        data: a ``torch_geometric.data.Data`` with ``x`` ``[N, F]``,
            ``edge_index`` ``[2, E]`` and (for training) ``y`` ``[N]``.
        batch_order: ``"order"`` (a fixed order keeping consecutive batches'
            label distributions far apart), ``"sample"`` (each epoch a random
            walk preferring distant batches), ``"rand"`` (a random
            permutation each epoch) or ``None`` (the arena's order, for
            inference). (default: ``"order"``)
        input_nodes: output node ids ``[M]`` or a ``[N]`` bool mask
            (default: every node).
        num_auxiliary_nodes: top-k PPR nodes per output node. (default: 16)
        num_nodes_per_batch: at most this many output nodes per batch.
            (default: 256)
        alpha: PPR teleport probability. (default: 0.2)
        eps: PPR push threshold. (default: 1e-5)
        return_edge_index_type: ``"edge_index"`` or ``"adj"``
            (a ``torch_sparse.SparseTensor`` holding the weights).
        norm: edge weight normalization within a batch: ``"sym"``, ``"rw"``
            or ``"none"``. (default: ``"sym"``)
        add_self_loops: give every batch node a self-loop (what GCN with
            ``normalize=False`` wants). (default: False, like PyG)
        store_features: copy feature rows into the arena (fastest) or gather
            them per batch (for graphs whose duplicated rows do not fit in
            memory). (default: store when they take at most half the free
            memory)
        device: where batches go (a prefetch thread copies them to a CUDA
            device ahead of use). (default: CPU)
        prefetch: batches prepared ahead. (default: 2)
        seed: seed of the batch order. (default: 0)
        num_threads: engine threads (0: all cores). (default: 0)
        progress: tqdm progress bars (None: when stderr is a terminal).
        **kwargs: ``batch_size`` (precomputed batches merged per step,
            default 1), ``shuffle`` (same as ``batch_order="rand"``),
            ``drop_last``; ``num_workers`` is accepted but replaced by the
            prefetch thread; other DataLoader arguments are accepted and
            ignored.

    Example:
        >>> loader = ibmb.IBMBNodeLoader(data, "order", data.train_mask, 16, 256, batch_size=1)
        >>> for batch in loader:
        ...     out = model(batch.x, batch.edge_index, batch.edge_weight)[:batch.batch_size]
        ...     loss = F.cross_entropy(out, batch.y[:batch.batch_size])
    """

    def __init__(self, data: Any, batch_order: Optional[str] = "order", input_nodes: Any = None,
                 num_auxiliary_nodes: int = 16, num_nodes_per_batch: int = 256, alpha: float = 0.2,
                 eps: float = 1e-5, return_edge_index_type: str = "edge_index", *, norm: str = "sym",
                 add_self_loops: bool = False, store_features: Optional[bool] = None, device: Any = None,
                 prefetch: int = 2, seed: int = 0, num_threads: int = 0, progress: Optional[bool] = None,
                 **kwargs: Any) -> None:
        if batch_order not in _ORDERS:
            raise ValueError(f"batch_order must be 'order', 'sample', 'rand' or None, got {batch_order!r}")
        src = _Source(data, input_nodes, need_y=batch_order in ("order", "sample"))
        g = src.graph(False)
        batches = node_wise(g, src.inputs, num_auxiliary_nodes, num_nodes_per_batch, alpha=alpha, eps=eps,
                            num_threads=num_threads, progress=progress)
        ag = src.graph(True) if add_self_loops else g
        params = {"loader": "node", "num_auxiliary_nodes": int(num_auxiliary_nodes),
                  "num_nodes_per_batch": int(num_nodes_per_batch), "alpha": float(alpha), "eps": float(eps),
                  "add_self_loops": bool(add_self_loops)}
        _setup(self, src, g, ag, batches, norm=norm, store_features=store_features, batch_order=batch_order,
               return_edge_index_type=return_edge_index_type, device=device, prefetch=prefetch, seed=seed,
               params=params, kwargs=dict(kwargs))


def _given_partitions(parts: Any, n: int, k: int) -> np.ndarray:
    """Checks a user's ``[n]`` part ids in ``[0, k)``; returns them as int64."""
    p = as_int64(parts, "partitions", ndim=None)
    if p.shape != (n,):
        raise ValueError(f"partitions must have shape [{n}] (one part per node), got {list(p.shape)}")
    if n and (p.min() < 0 or p.max() >= k):
        raise ValueError(f"partitions must lie in [0, num_partitions={k}), got values in [{p.min()}, {p.max()}]")
    return p


class IBMBBatchLoader(_IBMBLoader):
    r"""Batch-wise influence-based mini-batching (Gasteiger et al., LoG 2022),
    with the arguments of ``torch_geometric.loader.IBMBBatchLoader``.

    The graph is partitioned into ``num_partitions`` parts (native deep
    multilevel partitioner, no METIS needed); each part with output nodes becomes a batch
    of its output nodes plus the ``ceil(batch_expand_ratio * N /
    num_partitions)`` nodes of highest topic-sensitive PageRank seeded by
    them.

    Args:
        data: a ``torch_geometric.data.Data`` with ``x``, ``edge_index`` and
            (for training) ``y``.
        batch_order: ``"order"``, ``"sample"``, ``"rand"`` or ``None`` (see
            :class:`IBMBNodeLoader`). (default: ``"order"``)
        num_partitions: number of parts. (default: 8)
        input_nodes: output node ids or a bool mask (default: every node).
        batch_expand_ratio: batch size relative to the part size.
            (default: 1.0)
        metis_input_node_weight: partitioning weight of output nodes (other
            nodes weigh 1), rounded to an integer >= 1. (default: None)
        alpha: PPR teleport probability. (default: 0.2)
        approximate_ppr_iterations: accepted for compatibility; ibmb computes
            the topic-sensitive PPR by push to precision ``eps`` instead of a
            fixed number of power iterations.
        return_edge_index_type: ``"edge_index"`` or ``"adj"``.
        eps: PPR push threshold. (default: 1e-5)
        partitions: ibmb extension: a precomputed ``[N]`` part id per node in
            ``[0, num_partitions)``, e.g. another loader's ``.partitions``, so
            that loaders over train and test nodes of one graph partition it
            once (without ``metis_input_node_weight`` the partition does not
            depend on ``input_nodes``). (default: None: partition here)
        partition_method: ibmb extension: the partitioner, ``"ibmb"``,
            ``"kaminpar"`` or ``"metis"`` (the last two need their PyPI
            packages; see :func:`ibmb.batching.partition`). (default:
            ``"ibmb"``)
        Other keyword arguments: as :class:`IBMBNodeLoader`.

    Attributes:
        partitions: the ``[N]`` int64 part id of every node.
    """

    def __init__(self, data: Any, batch_order: Optional[str] = "order", num_partitions: int = 8,
                 input_nodes: Any = None, batch_expand_ratio: float = 1.0,
                 metis_input_node_weight: Optional[float] = None, alpha: float = 0.2,
                 approximate_ppr_iterations: int = 50, return_edge_index_type: str = "edge_index", *,
                 eps: float = 1e-5, norm: str = "sym", add_self_loops: bool = False,
                 store_features: Optional[bool] = None, device: Any = None, prefetch: int = 2, seed: int = 0,
                 num_threads: int = 0, progress: Optional[bool] = None, partitions: Any = None,
                 partition_method: str = "ibmb", **kwargs: Any) -> None:
        if batch_order not in _ORDERS:
            raise ValueError(f"batch_order must be 'order', 'sample', 'rand' or None, got {batch_order!r}")
        num_partitions = as_int(num_partitions, "num_partitions", min=1)
        if not (batch_expand_ratio is not None and math.isfinite(batch_expand_ratio) and batch_expand_ratio > 0):
            raise ValueError(f"batch_expand_ratio must be a positive number, got {batch_expand_ratio!r}")
        src = _Source(data, input_nodes, need_y=batch_order in ("order", "sample"))
        g = src.graph(False)
        if partitions is not None:
            parts = _given_partitions(partitions, src.num_nodes, int(num_partitions))
        else:
            weight = None
            if metis_input_node_weight is not None and metis_input_node_weight != 1:
                w = float(metis_input_node_weight)
                if not (math.isfinite(w) and w > 0):
                    raise ValueError(
                        f"metis_input_node_weight must be a positive number, got {metis_input_node_weight}")
                weight = np.ones(src.num_nodes, np.int64)
                weight[src.inputs] = max(1, int(round(w)))
            parts = partition(g, int(num_partitions), node_weight=weight, seed=seed, num_threads=num_threads,
                              method=partition_method)
        batches = batch_wise(g, src.inputs, parts, int(num_partitions), batch_expand_ratio=batch_expand_ratio,
                             alpha=alpha, eps=eps, num_threads=num_threads, progress=progress)
        ag = src.graph(True) if add_self_loops else g
        params = {"loader": "batch", "num_partitions": int(num_partitions),
                  "batch_expand_ratio": float(batch_expand_ratio), "alpha": float(alpha), "eps": float(eps),
                  "add_self_loops": bool(add_self_loops)}
        _setup(self, src, g, ag, batches, norm=norm, store_features=store_features, batch_order=batch_order,
               return_edge_index_type=return_edge_index_type, device=device, prefetch=prefetch, seed=seed,
               params=params, kwargs=dict(kwargs))
        self.partitions = parts
