"""Training and inference jobs: IBMB loaders beside the baselines a PyG user
would pick instead (full batch, ``NeighborLoader``, ``ClusterLoader``, PyG's
own IBMB loaders), with the same model and hyperparameters.

Training follows the IBMB paper: fixed batches, Adam, learning rate reduced
on a plateau of the validation accuracy, early stopping on validation
accuracy (the weights of the best validation epoch are kept).
"""
from __future__ import annotations

import copy
import gc
import math
import os
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Iterable, Optional

import numpy as np

__all__ = ["Config", "GNN", "Result", "METHODS", "run", "train_eval", "PeakMemory", "unavailable_reason"]

METHODS = ("full", "ibmb-node", "ibmb-batch", "neighbor", "cluster", "pyg-ibmb-node", "pyg-ibmb-batch")


@dataclass
class Config:
    """Hyperparameters shared by every method of a run."""

    model: str = "gcn"
    hidden: int = 64
    layers: int = 2
    dropout: float = 0.5
    lr: float = 0.01
    weight_decay: float = 5e-4
    epochs: int = 200
    patience: int = 50  # early stopping on validation accuracy
    lr_patience: int = 20  # ReduceLROnPlateau on validation accuracy
    lr_factor: float = 0.5
    eval_every: int = 1
    val_nodes: int = 0  # validate on at most this many random val nodes (0: all)
    # IBMB
    alpha: float = 0.25
    eps: float = 2e-4
    num_auxiliary_nodes: int = 16
    num_nodes_per_batch: int = 256
    infer_nodes_per_batch: int = 0  # outputs per inference batch (0: node-wise max(num_nodes_per_batch, 4096), batch-wise num_nodes_per_batch)
    num_partitions: int = 0  # 0: about num_train / num_nodes_per_batch
    batch_expand_ratio: float = 1.0
    infer_expand_ratio: float = 0.0  # batch-wise inference batches' expand ratio (0: batch_expand_ratio)
    batch_order: str = "order"
    # NeighborLoader / ClusterLoader
    num_neighbors: int = 10
    batch_size: int = 256
    cluster_parts: int = 0  # 0: num_partitions
    device: str = "cpu"
    seed: int = 0
    progress: Optional[bool] = None


class GNN:  # built lazily so that importing ibmb does not import torch_geometric.nn
    """``GNN(kind, in, hidden, out, layers, dropout)``: a GCN, GraphSAGE or GAT
    stack. GCN layers take precomputed normalized edge weights when given
    (``normalize=False``) and normalize the batch themselves otherwise."""

    def __new__(cls, kind: str, in_channels: int, hidden: int, out_channels: int, layers: int = 2,
                dropout: float = 0.5) -> Any:
        return _make_gnn(kind, in_channels, hidden, out_channels, layers, dropout)


def _make_gnn(kind: str, cin: int, hidden: int, cout: int, layers: int, dropout: float) -> Any:
    import torch
    import torch.nn.functional as F
    from torch_geometric.nn import GATConv, GCNConv, SAGEConv
    from torch_geometric.nn.conv.gcn_conv import gcn_norm

    kind = kind.lower()
    if kind not in ("gcn", "sage", "gat"):
        raise ValueError(f"model must be 'gcn', 'sage' or 'gat', got {kind!r}")
    if layers < 1:
        raise ValueError(f"layers must be >= 1, got {layers}")

    class Net(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            dims = [cin] + [hidden] * (layers - 1) + [cout]
            self.kind, self.dropout = kind, dropout
            convs: list = []
            for i in range(layers):
                a, b, last = dims[i], dims[i + 1], i == layers - 1
                if kind == "gcn":
                    convs.append(GCNConv(a, b, normalize=False))
                elif kind == "sage":
                    convs.append(SAGEConv(a, b))
                else:  # 4 concatenated heads inside, one head at the output
                    convs.append(GATConv(a if i == 0 else hidden * 4, b, heads=1 if last else 4, concat=not last))
            self.convs = torch.nn.ModuleList(convs)

        def forward(self, x: Any, edge_index: Any, edge_weight: Any = None) -> Any:
            if self.kind == "gcn" and edge_weight is None:
                edge_index, edge_weight = gcn_norm(edge_index, None, x.shape[0], add_self_loops=True)
            for i, conv in enumerate(self.convs):
                x = F.dropout(x, self.dropout, self.training)
                x = conv(x, edge_index, edge_weight) if self.kind == "gcn" else conv(x, edge_index)
                if i < len(self.convs) - 1:
                    x = F.elu(x) if self.kind == "gat" else F.relu(x)
            return x

    return Net()


class PeakMemory:
    """Peak resident memory (bytes above the start) of this process while the
    ``with`` block runs, sampled every 5 ms from /proc/self/statm; on CUDA also
    the peak of ``torch.cuda.max_memory_allocated``."""

    def __init__(self, device: str = "cpu") -> None:
        self.device, self.peak, self.cuda_peak = device, 0, 0

    @staticmethod
    def _rss() -> int:
        try:
            with open("/proc/self/statm") as f:
                return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except OSError:  # pragma: no cover - not Linux
            return 0

    def __enter__(self) -> "PeakMemory":
        gc.collect()
        self._base = self._rss()
        self._max = self._base
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._watch, daemon=True)
        self._t.start()
        if self.device.startswith("cuda"):
            import torch

            torch.cuda.reset_peak_memory_stats()
        return self

    def _watch(self) -> None:
        while not self._stop.wait(0.005):
            self._max = max(self._max, self._rss())

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._t.join()
        self._max = max(self._max, self._rss())
        self.peak = self._max - self._base
        if self.device.startswith("cuda"):
            import torch

            self.cuda_peak = int(torch.cuda.max_memory_allocated())


@dataclass
class Result:
    """What one method measured."""

    method: str
    test_acc: float = float("nan")
    val_acc: float = float("nan")
    preprocess_s: float = float("nan")
    epoch_s: float = float("nan")
    loader_s: float = float("nan")  # per epoch: time waiting for batches (not in the model)
    infer_s: float = float("nan")
    infer_preprocess_s: float = float("nan")
    epochs: int = 0
    peak_train_bytes: int = 0
    peak_infer_bytes: int = 0
    cuda_peak_bytes: int = 0
    note: str = ""
    extra: dict = field(default_factory=dict)


# --------------------------------------------------------------------------- methods
# A method provides: train batches (an iterable of Data with batch_size /
# output convention), and an inference function giving predictions for a set
# of nodes. Each returns (train_iterable_factory, infer_fn, preprocess_seconds).


def _mask_key(mask: Any) -> tuple:
    """A cache key naming exactly the nodes of a boolean mask."""
    import hashlib

    idx = mask.nonzero().view(-1).cpu().numpy()
    return (len(idx), hashlib.sha1(idx.tobytes()).hexdigest())


def _accuracy(pred: Any, y: Any) -> float:
    return float((pred == y).float().mean().item()) if len(y) else float("nan")



def infer_outputs_per_batch(cfg: Config, kind: str) -> int:
    """Output nodes per IBMB inference batch for ``kind`` "node" or "batch".

    Inference batches need no gradients and may differ from
    the training ones. Measured (benchmarks/RESULTS.md, 1024-output training
    batches): node-wise, 4096-output inference batches are ~3x slower than
    1024-output ones but more accurate (+0.3 points on an easy 200k-node
    graph, +5.8 on a hard 100k-node one: more of every auxiliary node's
    neighbourhood is in the batch); batch-wise, batches shaped like the
    training ones were 0.9 points more accurate (they keep the induced
    degrees, hence the normalisation, the model was trained with) and 3x
    faster. Hence: node-wise max(num_nodes_per_batch, 4096), batch-wise
    num_nodes_per_batch, unless infer_nodes_per_batch is set.
    """
    if cfg.infer_nodes_per_batch:
        return cfg.infer_nodes_per_batch
    return max(cfg.num_nodes_per_batch, 4096) if kind == "node" else cfg.num_nodes_per_batch


def _ibmb_loaders(data: Any, cfg: Config, kind: str, nodes: Any, order: Optional[str], cached: dict) -> Any:
    import ibmb

    key = (kind, _mask_key(nodes), order)
    if key in cached:
        return cached[key]
    common = dict(norm="sym", add_self_loops=True, device=cfg.device, seed=cfg.seed, progress=cfg.progress,
                  batch_size=1)
    npb = cfg.num_nodes_per_batch if order is not None else infer_outputs_per_batch(cfg, kind)
    if kind == "node":
        loader = ibmb.IBMBNodeLoader(data, order, nodes, cfg.num_auxiliary_nodes, npb,
                                     alpha=cfg.alpha, eps=cfg.eps, **common)
    else:
        parts = cfg.num_partitions if order is not None and cfg.num_partitions else max(
            1, math.ceil(int(nodes.sum()) / npb))
        # The partition depends on the graph, the part count and the seed only: train and test loaders with the same
        # part count share it (on the 1M-node default graph that saves the partitioner's 90-160 s).
        ratio = cfg.batch_expand_ratio if order is not None or not cfg.infer_expand_ratio else cfg.infer_expand_ratio
        loader = ibmb.IBMBBatchLoader(data, order, parts, nodes, ratio, alpha=cfg.alpha,
                                      eps=cfg.eps, partitions=cached.get(("partitions", parts, cfg.seed)), **common)
        cached[("partitions", parts, cfg.seed)] = loader.partitions
    cached[key] = loader
    return loader


def _batched_predict(model: Any, loader: Iterable, device: str, use_weight: bool) -> tuple[Any, Any]:
    """Predictions of the output nodes of every batch: (node ids, classes)."""
    import torch

    ids, preds = [], []
    with torch.no_grad():
        for b in loader:
            b = b.to(device)
            ew = getattr(b, "edge_weight", None) if use_weight else None
            out = model(b.x, b.edge_index, ew)
            n = int(b.batch_size) if hasattr(b, "batch_size") and b.batch_size is not None else None
            if n is not None and hasattr(b, "n_id"):
                ids.append(b.n_id[:n].cpu())
                preds.append(out[:n].argmax(-1).cpu())
            else:  # PyG's IBMB batches: output_node_mask, ids implicit
                m = b.output_node_mask
                ids.append(b.n_id[m].cpu() if hasattr(b, "n_id") else torch.empty(0, dtype=torch.long))
                preds.append(out[m].argmax(-1).cpu())
    return torch.cat(ids), torch.cat(preds)


def _setup_method(method: str, data: Any, cfg: Config) -> tuple[Callable[[], Iterable], Callable[[Any, Any], tuple],
                                                                  float, str]:
    """(train batches factory, infer(model, mask) -> (ids, preds, preprocess s), preprocess s, note)."""
    import torch

    dev = cfg.device
    train = data.train_mask
    why = unavailable_reason(method)
    if why is not None:
        raise _Unavailable(why)
    if method == "full":
        from torch_geometric.utils import add_remaining_self_loops

        t = time.perf_counter()
        ei, _ = add_remaining_self_loops(data.edge_index, num_nodes=data.num_nodes)
        from ibmb.graph import CSRGraph

        g = CSRGraph.from_edge_index(ei, data.num_nodes, drop_duplicates=True)
        ei = torch.as_tensor(np.asarray(g.edge_index()))
        ew = torch.as_tensor(np.asarray(g.edge_weight("sym")))
        from torch_geometric.data import Data

        full = Data(x=data.x, y=data.y, edge_index=ei, edge_weight=ew, num_nodes=data.num_nodes).to(dev)
        full.n_id = torch.arange(data.num_nodes, device=dev)
        full.batch_size = data.num_nodes
        pre = time.perf_counter() - t
        idx_train = train.nonzero().view(-1)

        class One:
            def __iter__(self):
                b = copy.copy(full)
                b.train_idx = idx_train.to(dev)
                yield b

        def infer(model: Any, mask: Any) -> tuple:
            with torch.no_grad():
                out = model(full.x, full.edge_index, full.edge_weight)
            idx = mask.nonzero().view(-1)
            return idx, out[idx.to(dev)].argmax(-1).cpu(), 0.0

        return One, infer, pre, ""

    if method in ("ibmb-node", "ibmb-batch"):
        kind = method.split("-")[1]
        cache: dict = {}
        t = time.perf_counter()
        loader = _ibmb_loaders(data, cfg, kind, train, cfg.batch_order, cache)
        pre = time.perf_counter() - t

        def infer(model: Any, mask: Any) -> tuple:
            t0 = time.perf_counter()
            lo = _ibmb_loaders(data, cfg, kind, mask, None, cache)
            pre_i = time.perf_counter() - t0
            ids, preds = _batched_predict(model, lo, dev, True)
            return ids, preds, pre_i

        st = loader.stats()
        note = (f"{st['num_batches']} batches, arena {st['arena_bytes'] / 2**20:.0f} MiB "
                f"(graph {st['graph_bytes'] / 2**20:.0f} MiB)")
        return (lambda: loader), infer, pre, note

    if method == "neighbor":
        from torch_geometric.loader import NeighborLoader

        t = time.perf_counter()
        tl = NeighborLoader(data, num_neighbors=[cfg.num_neighbors] * cfg.layers, input_nodes=train,
                            batch_size=cfg.batch_size, shuffle=True)
        pre = time.perf_counter() - t

        def infer(model: Any, mask: Any) -> tuple:
            lo = NeighborLoader(data, num_neighbors=[-1] * cfg.layers, input_nodes=mask,
                                batch_size=max(cfg.batch_size, 1024), shuffle=False)
            ids, preds = _batched_predict(model, lo, dev, False)
            return ids, preds, 0.0

        return (lambda: tl), infer, pre, f"train fanout {cfg.num_neighbors}, full-neighbourhood inference"

    if method == "cluster":
        from torch_geometric.loader import ClusterData, ClusterLoader

        t = time.perf_counter()
        parts = cfg.cluster_parts or max(2, math.ceil(data.num_nodes / 2000))
        try:
            cd = ClusterData(data, num_parts=parts, log=False)
        except (ImportError, RuntimeError, AttributeError) as e:
            raise _Unavailable(f"PyG's ClusterLoader needs METIS (torch_sparse or pyg-lib built with it): "
                               f"{str(e).splitlines()[0] if str(e) else type(e).__name__}; {INSTALL_HINT}") from e
        tl = ClusterLoader(cd, batch_size=max(1, parts // 10), shuffle=True)
        pre = time.perf_counter() - t

        class Masked:
            def __iter__(self):
                for b in tl:
                    b.train_idx = b.train_mask.nonzero().view(-1)
                    yield b

        def infer(model: Any, mask: Any) -> tuple:  # cluster inference: the partitions themselves
            bs = max(1, parts // 10)
            lo = ClusterLoader(cd, batch_size=bs, shuffle=False)
            part = cd.partition
            perm = part.node_perm
            ids, preds = [], []
            with torch.no_grad():
                for k, b in enumerate(lo):
                    # Batch k holds parts k*bs .. k*bs+bs-1, their (permuted) nodes in order.
                    chunk = range(k * bs, min((k + 1) * bs, parts))
                    gid = torch.cat([perm[int(part.partptr[q]):int(part.partptr[q + 1])] for q in chunk])
                    b = b.to(dev)
                    out = model(b.x, b.edge_index, None)
                    sel = mask[gid]
                    ids.append(gid[sel])
                    preds.append(out[sel.to(dev)].argmax(-1).cpu())
            return torch.cat(ids), torch.cat(preds), 0.0

        return Masked, infer, pre, f"{parts} METIS parts"

    if method in ("pyg-ibmb-node", "pyg-ibmb-batch"):
        try:
            from torch_geometric.loader import ibmb_loader as pyg
        except ImportError as e:  # pragma: no cover
            raise _Unavailable(f"PyG's IBMB loaders cannot be imported: {e}") from e
        kind = method.split("-")[2]
        cache = {}

        def make(mask: Any, order: str) -> Any:
            key = (_mask_key(mask), order)
            if key not in cache:
                idx = mask.nonzero().view(-1)
                try:
                    if kind == "node":
                        cache[key] = pyg.IBMBNodeLoader(data, order, idx, cfg.num_auxiliary_nodes,
                                                        cfg.num_nodes_per_batch, alpha=cfg.alpha, eps=cfg.eps,
                                                        batch_size=1)
                    else:
                        parts = cfg.num_partitions or max(1, math.ceil(len(idx) / cfg.num_nodes_per_batch))
                        cache[key] = pyg.IBMBBatchLoader(data, order, parts, idx, cfg.batch_expand_ratio,
                                                         alpha=cfg.alpha, batch_size=1)
                except (ImportError, AttributeError, RuntimeError, TypeError) as e:
                    raise _Unavailable(f"PyG's IBMB {kind} loader failed to build: {type(e).__name__}: {e}") from e
            return cache[key]

        t = time.perf_counter()
        # 'rand': PyG's 'order' and 'sample' samplers fail under torch 2.11.
        tl = make(train, "rand")
        pre = time.perf_counter() - t

        class WithIds:
            """PyG's batches have no n_id: recover it from the loader's pairs."""

            def __init__(self, lo: Any) -> None:
                self.lo = lo

            def __iter__(self):
                pairs = getattr(self.lo, "node_wise_out_aux_pairs", None) or self.lo.batch_wise_out_aux_pairs
                sampler_order = list(iter(self.lo.sampler)) if self.lo.sampler is not None else range(len(pairs))
                for i in sampler_order:
                    b = self.lo.dataset[i]
                    out, aux = pairs[i]
                    b.n_id = torch.as_tensor(np.asarray(aux))
                    b.train_idx = b.output_node_mask.nonzero().view(-1)
                    yield b

        def infer(model: Any, mask: Any) -> tuple:
            t0 = time.perf_counter()
            lo = make(mask, "rand")
            pre_i = time.perf_counter() - t0
            ids, preds = _batched_predict(model, WithIds(lo), dev, False)
            return ids, preds, pre_i

        return (lambda: WithIds(tl)), infer, pre, "PyG's port, batch_order='rand'"

    raise ValueError(f"unknown method {method!r}; choose from {', '.join(METHODS)}")


class _Unavailable(RuntimeError):
    """A baseline cannot run on this machine (missing optional dependency)."""


# How to get PyG's optional native backends (pyg-lib has no PyPI wheels; torch_sparse/torch_scatter only sdists).
INSTALL_HINT = ("install: `make deps` in the ibmb source tree (builds torch_scatter + torch_sparse with METIS once "
                "per machine into a wheel cache) or `bash benchmarks/install_pyg_metis.sh`")


def unavailable_reason(method: str) -> Optional[str]:
    """Why baseline ``method`` cannot run here, ending in how to install what
    it needs, or ``None`` when its dependencies import. (A torch_sparse built
    without METIS is only found out when ``cluster`` partitions.)"""
    import torch_geometric.typing as tgt

    if method == "neighbor" and not (tgt.WITH_PYG_LIB or tgt.WITH_TORCH_SPARSE):
        return f"PyG's NeighborLoader needs pyg-lib or torch-sparse; {INSTALL_HINT}"
    if method == "cluster" and not (tgt.WITH_METIS or tgt.WITH_TORCH_SPARSE):
        return f"PyG's ClusterLoader needs METIS from pyg-lib or torch-sparse; {INSTALL_HINT}"
    if method.startswith("pyg-ibmb-") and not tgt.WITH_TORCH_SPARSE:
        return f"PyG's IBMB loaders need torch-sparse (SparseTensor); {INSTALL_HINT}"
    return None


def _train_step_targets(b: Any) -> tuple[Any, Any]:
    """Rows of the batch output that are trained on, and their labels."""
    import torch

    if hasattr(b, "train_idx"):
        idx = b.train_idx
    elif getattr(b, "batch_size", None) is not None:
        idx = torch.arange(int(b.batch_size), device=b.x.device)
    else:
        idx = b.output_node_mask.nonzero().view(-1)
    y = b.y[idx]
    keep = y >= 0
    return idx[keep], y[keep]


def train_eval(method: str, data: Any, cfg: Config, *, num_classes: Optional[int] = None,
               log: Optional[Callable[[str], None]] = None) -> Result:
    """Train ``cfg.model`` with ``method``'s batches and measure it (see
    :class:`Result`). Raises the internal ``_Unavailable`` for baselines that
    cannot run here (the job reports it and goes on)."""
    import torch
    import torch.nn.functional as F

    torch.manual_seed(cfg.seed)
    np.random.seed(cfg.seed)
    dev = cfg.device
    nc = int(num_classes or int(data.y.max()) + 1)
    res = Result(method)
    val_mask = data.val_mask
    if cfg.val_nodes and int(val_mask.sum()) > cfg.val_nodes:
        idx = val_mask.nonzero().view(-1)
        keep = idx[torch.randperm(len(idx), generator=torch.Generator().manual_seed(12345))[:cfg.val_nodes]]
        val_mask = torch.zeros_like(val_mask)
        val_mask[keep] = True
    with PeakMemory(dev) as mem:
        batches, infer, pre, note = _setup_method(method, data, cfg)
        res.preprocess_s, res.note = pre, note
        model = _make_gnn(cfg.model, data.x.shape[1], cfg.hidden, nc, cfg.layers, cfg.dropout).to(dev)
        opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="max", factor=cfg.lr_factor,
                                                           patience=cfg.lr_patience)
        use_weight = method in ("full", "ibmb-node", "ibmb-batch")
        best, best_state, since = -1.0, None, 0
        epoch_times, loader_times = [], []
        yv = data.y.cpu()
        bar = _bar(cfg.epochs, f"{method} ({cfg.model})", cfg.progress)
        for epoch in range(cfg.epochs):
            model.train()
            t0 = time.perf_counter()
            waiting = 0.0
            it = iter(batches())
            while True:
                tw = time.perf_counter()
                try:
                    b = next(it)
                except StopIteration:
                    break
                b = b.to(dev, non_blocking=True) if dev != "cpu" else b
                waiting += time.perf_counter() - tw
                idx, y = _train_step_targets(b)
                if len(idx) == 0:
                    continue
                opt.zero_grad()
                ew = getattr(b, "edge_weight", None) if use_weight else None
                out = model(b.x, b.edge_index, ew)
                loss = F.cross_entropy(out[idx], y)
                loss.backward()
                opt.step()
            if dev.startswith("cuda"):
                torch.cuda.synchronize()
            epoch_times.append(time.perf_counter() - t0)
            loader_times.append(waiting)
            res.epochs = epoch + 1
            if (epoch + 1) % cfg.eval_every == 0 or epoch == cfg.epochs - 1:
                model.eval()
                ids, pred, _ = infer(model, val_mask)
                acc = _accuracy(pred, yv[ids])
                sched.step(acc)
                if acc > best:
                    best, since = acc, 0
                    best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
                else:
                    since += cfg.eval_every
                if bar is not None:
                    bar.set_postfix(val=f"{acc:.3f}", best=f"{best:.3f}")
                if since >= cfg.patience:
                    if bar is not None:
                        bar.update(1)
                    break
            if bar is not None:
                bar.update(1)
        if bar is not None:
            bar.close()
    res.peak_train_bytes = mem.peak
    res.val_acc = best
    res.epoch_s = float(np.median(epoch_times)) if epoch_times else float("nan")
    res.loader_s = float(np.median(loader_times)) if loader_times else float("nan")
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    # Inference over the test nodes: one pass; the time a method spends
    # preparing its test batches (IBMB: PPR and the arena) is reported apart.
    with PeakMemory(dev) as mem:
        t = time.perf_counter()
        ids, pred, pre_i = infer(model, data.test_mask)
        if dev.startswith("cuda"):
            torch.cuda.synchronize()
        res.infer_s = time.perf_counter() - t - pre_i
    res.infer_preprocess_s = pre_i
    res.peak_infer_bytes = mem.peak
    res.cuda_peak_bytes = mem.cuda_peak
    want = data.test_mask.nonzero().view(-1)
    if not torch.equal(torch.sort(ids).values, want):
        raise RuntimeError(f"{method}: inference covered {len(ids)} nodes, the test set has {len(want)}")
    res.test_acc = _accuracy(pred, yv[ids])
    res.extra["model"] = model
    if log:
        log(f"{method}: test acc {res.test_acc:.4f} (val {res.val_acc:.4f}, {res.epochs} epochs)")
    return res


def _bar(total: int, desc: str, progress: Optional[bool]) -> Any:
    import sys

    if progress is False or (progress is None and not sys.stderr.isatty()):
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:  # pragma: no cover
        return None
    return tqdm(total=total, desc=desc, leave=False)


def run(methods: Iterable[str], data: Any, cfg: Config, seeds: Iterable[int] = (0,),
        log: Optional[Callable[[str], None]] = None) -> list[Result]:
    """Run every method with every seed; returns one :class:`Result` per
    method with the accuracies averaged over the seeds (and their standard
    deviation in ``extra['test_acc_std']``). Methods whose dependencies are
    missing get a Result with ``note`` "unavailable: <reason>; install: ..."
    and NaN figures."""
    out = []
    for m in methods:
        runs = []
        try:
            for s in seeds:
                c = copy.copy(cfg)
                c.seed = int(s)
                runs.append(train_eval(m, data, c, log=log))
        except _Unavailable as e:
            out.append(Result(m, note=f"unavailable: {e}"))
            if log:
                log(f"{m}: unavailable: {e}")
            continue
        r = copy.copy(runs[-1])
        r.test_acc = float(np.mean([x.test_acc for x in runs]))
        r.val_acc = float(np.mean([x.val_acc for x in runs]))
        for k in ("preprocess_s", "epoch_s", "loader_s", "infer_s", "infer_preprocess_s"):
            setattr(r, k, float(np.median([getattr(x, k) for x in runs])))
        r.peak_train_bytes = max(x.peak_train_bytes for x in runs)
        r.peak_infer_bytes = max(x.peak_infer_bytes for x in runs)
        r.extra = {"test_acc_std": float(np.std([x.test_acc for x in runs])), "seeds": len(runs),
                   "test_accs": [x.test_acc for x in runs], "model": runs[-1].extra.get("model")}
        out.append(r)
    return out


def table(results: list[Result]) -> str:
    """The summary table as text."""
    head = ("method", "test acc", "preprocess", "epoch", "loader/epoch", "infer", "infer prep", "peak train",
            "peak infer", "note")
    rows = [head]
    for r in results:
        def s(v: float, unit: str = "s") -> str:
            return "-" if not math.isfinite(v) else f"{v:.3f} {unit}" if v >= 0.01 else f"{v * 1e3:.2f} ms"

        acc = "-" if not math.isfinite(r.test_acc) else f"{100 * r.test_acc:.2f}"
        if r.extra.get("seeds", 1) > 1:
            acc += f" ± {100 * r.extra['test_acc_std']:.2f}"
        rows.append((r.method, acc, s(r.preprocess_s), s(r.epoch_s), s(r.loader_s), s(r.infer_s),
                     s(r.infer_preprocess_s), f"{r.peak_train_bytes / 2**20:.0f} MiB",
                     f"{r.peak_infer_bytes / 2**20:.0f} MiB", r.note))
    w = [max(len(str(row[i])) for row in rows) for i in range(len(head))]
    lines = ["  ".join(str(c).ljust(w[i]) for i, c in enumerate(row)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * x for x in w))
    return "\n".join(lines)


def plot(results: list[Result], path: str, title: str = "") -> None:
    """Accuracy vs inference time (log x-axis), one point per method, as PNG."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as e:
        raise ImportError("plotting needs matplotlib (pip install matplotlib)") from e
    fig, ax = plt.subplots(figsize=(6, 4))
    for r in results:
        if math.isfinite(r.test_acc) and math.isfinite(r.infer_s):
            ax.scatter(r.infer_s, 100 * r.test_acc, s=40)
            ax.annotate(r.method, (r.infer_s, 100 * r.test_acc), textcoords="offset points", xytext=(5, 4),
                        fontsize=8)
    ax.set_xscale("log")
    ax.set_xlabel("inference time over the test nodes (s, log scale)")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def config_dict(cfg: Config) -> dict:
    return asdict(cfg)
