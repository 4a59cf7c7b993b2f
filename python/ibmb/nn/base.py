"""Push-and-pull layers over historical embeddings (GNNAutoScale's scheme).

A :class:`HistoryGNN` runs ``num_layers`` message-passing layers. Between
layer ``l`` and ``l + 1`` it keeps a history ``H[l]`` (``[N, d_l]``, an
:class:`ibmb.HistoryStore` in host memory). On a batch whose first
``num_exact`` rows are nodes computed exactly and whose other rows are
their one-hop halo, after each hidden layer it

- pushes the fresh rows ``h[:num_exact]`` to ``H[l][n_id[:num_exact]]``,
- replaces the halo rows by ``H[l][n_id[num_exact:]]`` (pulled, no grad).

The exact nodes then see every neighbour at every layer: their own batch's
fresh embeddings, the halo's embeddings from earlier steps. With up-to-date
histories this is the full-batch forward; :meth:`HistoryGNN.inference`
makes them up to date by computing all nodes layer by layer.

Experimental: ``history_momentum=beta`` pushes GraphFM's in-batch feature
momentum (Yu et al., ICML 2022) instead of the fresh rows,
``H <- (1 - beta) * H + beta * h`` (pull of the exact rows, blend, push);
``None`` or ``1.0`` is the plain push. Only the stored rows are blended:
the batch's own next layer reads its fresh rows (they already see every
neighbour). Layer-wise inference always pushes plainly. On the hard 20k
generated graph it changed test accuracy by less than the seed spread (see
benchmarks/RESULTS.md, historical embeddings).
"""
from __future__ import annotations

import copy
from typing import Any, Optional, Sequence

from ibmb._arrays import as_index, as_int, is_tensor, torch
from ibmb.history import HistoryStore
from ibmb.nn.halo import Halo, HaloBatch

__all__ = ["HistoryGNN"]


class HistoryGNN(torch.nn.Module):
    """Base class: subclasses build their layers and define
    :meth:`forward_layer`; this class owns the histories and runs the
    forward pass, the push-and-pull between layers and layer-wise inference.

    Args:
        num_nodes: ``N``, nodes of the graph the histories are kept for.
        history_dims: width of each hidden layer's output (one history per
            entry: ``num_layers - 1`` entries).
        history_dtype: storage dtype of the histories (default float32;
            float16/bfloat16 halve the memory but are no longer exact).
        histories: an existing :class:`ibmb.HistoryStore` to use (its
            ``num_nodes``, ``dims`` and ``dtype`` must match), or a store with
            its interface such as :class:`ibmb.distributed.history.ShardedHistory`.
        history_momentum: experimental; ``beta`` in ``(0, 1]``: the
            forward's pushes write ``(1 - beta) * H + beta * h`` (GraphFM
            momentum); ``None`` (default) or ``1.0``: ``h`` itself.

    Class attributes ``add_self_loops`` and ``norm`` say which graph the
    model expects (:meth:`halo` builds a :class:`Halo` with them).
    """

    add_self_loops: bool = True
    norm: str = "sym"
    # True: x is the aggregated input Â·X (``ibmb.features.aggregate`` in the model's normalization) and layer 0
    # is computed by :meth:`forward_aggregated` on the exact rows only (no edges, no halo rows).
    aggregated_input: bool = False

    def __init__(self, num_nodes: int, history_dims: Sequence[int], history_dtype: Optional["torch.dtype"] = None,
                 histories: Optional[HistoryStore] = None, history_momentum: Optional[float] = None) -> None:
        super().__init__()
        n = as_int(num_nodes, "num_nodes", min=1)
        if history_momentum is not None:
            if isinstance(history_momentum, bool) or not isinstance(history_momentum, (int, float)):
                raise TypeError(f"history_momentum must be a float in (0, 1], got {type(history_momentum).__name__}")
            if not 0.0 < float(history_momentum) <= 1.0:
                raise ValueError(f"history_momentum must be in (0, 1], got {history_momentum}")
            history_momentum = None if float(history_momentum) == 1.0 else float(history_momentum)
        self.history_momentum = history_momentum
        dims = tuple(as_int(d, "history_dims[i]", min=1) for d in history_dims)
        self.num_nodes = n
        self.num_layers = len(dims) + 1
        if histories is None:
            histories = HistoryStore(n, dims, history_dtype) if dims else None
        else:
            # Or any store with HistoryStore's pull/push/num_nodes/dims/dtype (e.g. the rank-sharded
            # ibmb.distributed.history.ShardedHistory, which declares itself with ``history_store = True``).
            if not isinstance(histories, HistoryStore) and not getattr(histories, "history_store", False):
                raise TypeError(f"histories must be an ibmb.HistoryStore, got {type(histories).__name__}")
            if histories.num_nodes != n or histories.dims != dims:
                raise ValueError(f"histories has num_nodes={histories.num_nodes}, dims={list(histories.dims)}; "
                                 f"this model needs num_nodes={n}, dims={list(dims)}")
            if history_dtype is not None and histories.dtype != history_dtype:
                raise TypeError(f"histories has dtype {histories.dtype}, history_dtype is {history_dtype}")
        self.histories = histories

    def __deepcopy__(self, memo: dict) -> "HistoryGNN":
        """A copy with its own histories holding the same values (an engine
        store cannot be deep-copied itself)."""
        new = type(self).__new__(type(self))
        memo[id(self)] = new
        for k, v in self.__dict__.items():
            new.__dict__[k] = None if k == "histories" else copy.deepcopy(v, memo)
        old = self.histories
        if old is not None:
            new.histories = HistoryStore(old.num_nodes, old.dims, old.dtype)
            for layer in range(old.num_layers):
                new.histories.layer(layer).copy_(old.layer(layer))
        return new

    # ------------------------------------------------------------ to override
    def forward_layer(self, layer: int, h: "torch.Tensor", edge_index: "torch.Tensor",
                      edge_weight: Optional["torch.Tensor"], state: dict) -> "torch.Tensor":
        """Layer ``layer`` on all ``n`` rows: ``[n, d_in] -> [n, d_out]``.
        Layer 0 gets the input features and may store per-node values that
        later layers reuse in ``state`` (e.g. GCNII's initial residual);
        the last layer returns the model's output."""
        raise NotImplementedError

    def forward_aggregated(self, h: "torch.Tensor", state: dict) -> "torch.Tensor":
        """Layer 0 on aggregated inputs: ``[b, F] -> [b, d_0]`` for the rows
        of ``Â·X`` (only models whose first layer is ``Â·X·W`` offer it)."""
        raise ValueError(f"{type(self).__name__} cannot take aggregated input features (its first layer is not "
                         "a linear map of Â·X)")

    def _layer0(self, h: "torch.Tensor", edge_index: "torch.Tensor", edge_weight: Optional["torch.Tensor"],
                num_exact: int, state: dict) -> "torch.Tensor":
        if self.aggregated_input:
            return self.forward_aggregated(h[:num_exact], state)
        return self.forward_layer(0, h, edge_index, edge_weight, state)

    # ---------------------------------------------------------------- helpers
    def halo(self, edge_index: Any, num_nodes: Optional[int] = None) -> Halo:
        """The :class:`Halo` of ``edge_index`` in this model's convention."""
        h = Halo(edge_index, self.num_nodes if num_nodes is None else num_nodes,
                 add_self_loops=self.add_self_loops, norm=self.norm)
        if h.num_nodes != self.num_nodes:
            raise ValueError(f"the graph has {h.num_nodes} nodes but the model's histories {self.num_nodes}")
        return h

    def _check(self, x: Any, edge_index: Any, n_id: Any, num_exact: Any) -> tuple[Any, int]:
        if not is_tensor(x) or x.dim() != 2:
            raise TypeError(f"x must be a [n, F] tensor, got {type(x).__name__} {tuple(getattr(x, 'shape', ()))}")
        if not is_tensor(edge_index) or edge_index.dim() != 2 or edge_index.shape[0] != 2:
            raise ValueError(f"edge_index must be a [2, E] tensor, got {tuple(getattr(edge_index, 'shape', ()))}")
        n = x.shape[0]
        if (self.aggregated_input and n_id is not None and num_exact is not None and is_tensor(n_id)
                and n_id.dim() == 1 and n == as_int(num_exact, "num_exact", min=0) and n_id.shape[0] > n):
            n = n_id.shape[0]  # Â·X rows of the exact nodes only: the halo's are never read
        if edge_index.numel() and (int(edge_index.min()) < 0 or int(edge_index.max()) >= n):
            raise IndexError(f"edge_index refers to rows outside [0, {n}) of the batch")
        if n_id is None:
            if num_exact is not None:
                raise ValueError("num_exact needs n_id (the global ids of the rows)")
            if n != self.num_nodes:
                raise ValueError(f"x has {n} rows but the model's graph has {self.num_nodes} nodes: pass n_id "
                                 f"and num_exact for a batch")
            return None, n
        idx = as_index(n_id, "n_id")
        idx = idx if is_tensor(idx) else torch.from_numpy(idx)
        if idx.shape[0] != n:
            raise ValueError(f"n_id has {idx.shape[0]} ids but x has {n} rows")
        if n and (int(idx.min()) < 0 or int(idx.max()) >= self.num_nodes):
            raise IndexError(f"n_id holds ids outside [0, {self.num_nodes}) (the histories' nodes)")
        b = n if num_exact is None else as_int(num_exact, "num_exact", min=0, max=n)
        if b < n and edge_index.numel() and int(edge_index[1].max()) >= b:  # halo rows have no in-edges
            raise ValueError(f"edge_index has edges into row {int(edge_index[1].max())} >= num_exact={b}: the rows "
                             f"after num_exact are the halo, which has no in-edges (num_exact too small?)")
        return idx.cpu(), b

    def push_and_pull(self, layer: int, h: "torch.Tensor", n_id: Optional["torch.Tensor"],
                      num_exact: int, pulled: Optional["torch.Tensor"] = None) -> "torch.Tensor":
        """Push ``h[:num_exact]`` to history ``layer``; return ``h`` with its
        halo rows replaced by the history's (``n_id=None``: all nodes,
        pushed in order), or by ``pulled`` (``[H, d]`` rows pulled earlier,
        e.g. on a prefetch thread) when given. With ``history_momentum``
        the pushed rows are ``(1 - beta) * H[ids] + beta * h[:num_exact]``."""
        store = self.histories
        fresh = h[:num_exact].detach()
        exact = torch.arange(num_exact) if n_id is None else n_id[:num_exact]
        beta = self.history_momentum
        if beta is not None:  # GraphFM in-batch momentum: pull, blend in float32, push
            old = store.pull(layer, exact).to(fresh.device, torch.float32)
            fresh = old.mul_(1.0 - beta).add_(fresh.to(torch.float32), alpha=beta)
        if fresh.device.type != "cpu" or fresh.dtype != store.dtype or not fresh.is_contiguous():
            fresh = fresh.to("cpu", store.dtype).contiguous()
        store.push(layer, fresh, exact)
        if n_id is None:
            return h
        if num_exact == n_id.shape[0]:
            return h
        if pulled is None:
            pulled = store.pull(layer, n_id[num_exact:])
        elif tuple(pulled.shape) != (h.shape[0] - num_exact, store.dims[layer]):
            raise ValueError(f"halo_rows[{layer}] has shape {tuple(pulled.shape)}, the batch's halo needs "
                             f"{(h.shape[0] - num_exact, store.dims[layer])}")
        old = pulled.to(h.device, h.dtype, non_blocking=True)
        return torch.cat([h[:num_exact], old], dim=0)

    # ---------------------------------------------------------------- forward
    def forward(self, x: "torch.Tensor", edge_index: "torch.Tensor", edge_weight: Optional["torch.Tensor"] = None,
                *, n_id: Any = None, num_exact: Optional[int] = None,
                halo_rows: Optional[Sequence["torch.Tensor"]] = None,
                num_outputs: Optional[int] = None) -> "torch.Tensor":
        """Forward pass on the full graph or on a batch with its halo.

        Args:
            x: ``[n, F]`` input features of the rows (``Â·X``'s rows when
                ``aggregated_input``: then only the exact rows are read).
            edge_index: ``[2, E]`` local edges; for a batch, every in-edge of
                the exact rows (:class:`Halo` builds them).
            edge_weight: ``[E]`` weights in the full graph's normalization
                (``Halo.full()`` or the batch's) for GCN-type models.
            n_id: ``[n]`` global ids of the rows (``None``: ``x`` is the
                whole graph, node ``i`` in row ``i``).
            num_exact: rows ``[0, num_exact)`` are computed exactly and
                pushed; rows after them are the halo, pulled from the
                histories (default: all rows exact).
            halo_rows: the halo's rows of every history, pulled ahead
                (``HaloLoader(..., histories=)`` puts them on each batch as
                ``halo_rows``); default: pulled here.
            num_outputs: only rows ``[0, num_outputs)`` of the output are
                needed (a batch's ``batch_size`` outputs): the last layer
                then runs over their in-edges only, which gives the same
                values for those rows at a fraction of the edges (default:
                all ``num_exact`` rows).

        Returns:
            ``[n, C]`` outputs; only the first ``num_exact`` rows are
            meaningful. With ``num_outputs`` ``k``: ``[m, C]`` with
            ``k <= m <= n`` (models without per-row state compute the last
            layer on the rows its edges touch only); the first ``k`` rows
            are the outputs.

        Raises:
            IndexError: ids outside ``[0, num_nodes)`` or edges outside
                ``x``'s rows.
            ValueError: mismatched sizes, or a repeated id among the exact
                rows (nothing is pushed then).
        """
        idx, b = self._check(x, edge_index, n_id, num_exact)
        if halo_rows is not None and (idx is None or len(halo_rows) != self.num_layers - 1):
            raise ValueError(f"halo_rows needs n_id and one tensor per history ({self.num_layers - 1}), got "
                             f"{len(halo_rows)}")
        k = None if num_outputs is None else as_int(num_outputs, "num_outputs", min=0, max=b)
        state: dict = {}
        h = x
        for layer in range(self.num_layers):
            if layer == 0:
                h = self._layer0(h, edge_index, edge_weight, b, state)
            elif layer == self.num_layers - 1 and k is not None and k < b:
                h = self._last_layer(layer, h, edge_index, edge_weight, k, state)
            else:
                h = self.forward_layer(layer, h, edge_index, edge_weight, state)
            if layer < self.num_layers - 1:
                h = self.push_and_pull(layer, h, idx, b, None if halo_rows is None else halo_rows[layer])
        return h

    def _last_layer(self, layer: int, h: "torch.Tensor", edge_index: "torch.Tensor",
                    edge_weight: Optional["torch.Tensor"], k: int, state: dict) -> "torch.Tensor":
        """The last layer for rows ``[0, k)`` only: over their in-edges and,
        for models without per-row state (GCNII's ``x0`` needs every row),
        on the rows those edges touch; the first ``k`` output rows are the
        outputs'."""
        keep = edge_index[1] < k
        ei = edge_index[:, keep]
        ew = None if edge_weight is None else edge_weight[keep]
        if state:
            return self.forward_layer(layer, h, ei, ew, state)
        # sorted, so rows 0..k-1 (all present) come first and keep their positions
        rows = torch.unique(torch.cat([torch.arange(k, device=ei.device), ei[0]]))
        pos = torch.full((h.shape[0],), -1, dtype=torch.long, device=ei.device)
        pos[rows] = torch.arange(rows.shape[0], device=ei.device)
        return self.forward_layer(layer, h[rows.to(h.device)], pos[ei], ew, state)

    @torch.no_grad()
    def inference(self, x: "torch.Tensor", halo: Halo, num_nodes_per_batch: int = 4096,
                  batches: Optional[Sequence[HaloBatch]] = None) -> "torch.Tensor":
        """Exact layer-wise inference over all nodes; refreshes every history.

        Layer ``l`` is computed for all nodes, batch by batch, from the
        inputs (layer 0) or history ``l - 1``, and its exact rows are pushed
        to history ``l``; so every layer sees exact inputs and the result
        equals the full-batch forward in eval mode (up to float summation
        order). Runs in eval mode (dropout off) and restores the mode.

        Args:
            x: ``[N, F]`` features of all nodes (CPU or the model's device).
            halo: the graph (:meth:`halo`).
            num_nodes_per_batch: exact nodes per batch.
            batches: precomputed ``halo.batches(...)`` to reuse; their exact
                nodes must hold every node once.

        Returns:
            ``[N, C]`` outputs, on ``x``'s device.
        """
        if not isinstance(halo, Halo):
            raise TypeError(f"halo must be an ibmb.nn.Halo, got {type(halo).__name__}")
        if halo.num_nodes != self.num_nodes or x.shape[0] != self.num_nodes:
            raise ValueError(f"x has {x.shape[0]} rows and the halo's graph {halo.num_nodes} nodes; the model's "
                             f"histories have {self.num_nodes}")
        if halo.add_self_loops != self.add_self_loops or halo.norm != self.norm:
            raise ValueError(f"halo has add_self_loops={halo.add_self_loops}, norm={halo.norm!r}; "
                             f"{type(self).__name__} needs {self.add_self_loops}, {self.norm!r}")
        batches = list(batches) if batches is not None else halo.batches(num_nodes_per_batch)
        seen = torch.zeros(self.num_nodes, dtype=torch.int64)
        for hb in batches:
            seen.index_add_(0, hb.n_id[:hb.num_exact], torch.ones(hb.num_exact, dtype=torch.int64))
        if bool((seen != 1).any()):
            raise ValueError("batches must hold every node exactly once among their exact nodes")
        was_training = self.training
        self.eval()
        try:
            dev = x.device
            states: list[dict] = [{} for _ in batches]
            out = None
            for layer in range(self.num_layers):
                for hb, state in zip(batches, states):
                    ids = hb.n_id
                    if layer == 0 and self.aggregated_input:
                        h = self.forward_aggregated(x.index_select(0, ids[:hb.num_exact].to(dev)), state)
                    else:
                        if layer == 0:
                            h = x.index_select(0, ids.to(dev))
                        else:
                            h = self.histories.pull(layer - 1, ids).to(dev, x.dtype)
                        ei, ew = hb.edge_index.to(dev), hb.edge_weight.to(dev)
                        h = self.forward_layer(layer, h, ei, ew, state)[:hb.num_exact]
                    exact = ids[:hb.num_exact]
                    if layer < self.num_layers - 1:
                        self.histories.push(layer, h.to("cpu", self.histories.dtype).contiguous(), exact)
                    else:
                        if out is None:
                            out = torch.empty((self.num_nodes, h.shape[1]), dtype=h.dtype, device=dev)
                        out[exact.to(dev)] = h
            return out
        finally:
            self.train(was_training)
