"""What the loaders need from a PyG ``Data``: checked and converted once."""
from __future__ import annotations

import warnings
from typing import Any, Optional

import numpy as np

from ibmb._arrays import as_node_ids, available_memory, is_tensor
from ibmb.graph import CSRGraph

__all__ = ["Source", "torch_and_data", "memory_budget"]


def torch_and_data() -> tuple[Any, Any]:
    """``(torch, torch_geometric.data.Data)``; ImportError naming both when
    either is missing."""
    try:
        import torch
        from torch_geometric.data import Data
    except ImportError as e:  # pragma: no cover - the loaders need both
        raise ImportError(f"ibmb's loaders need torch and torch_geometric: {e}") from e
    return torch, Data


def memory_budget() -> int:
    """Bytes of feature rows an arena may hold by default: half the memory
    available now (at most 64 GiB). Available memory counts the page cache
    as free (it is reclaimable): the pages of a memory-mapped ``x`` that
    were read are cache, not memory ``x`` holds, so a map larger than
    memory leaves the budget for the arena's rows alone."""
    return int(min(available_memory() // 2, 64 << 30))


class Source:
    """A PyG ``Data`` checked for the loaders.

    Attributes:
        num_nodes: ``N``.
        x: ``[N, *]`` feature tensor.
        y: ``[N, *]`` label tensor or None.
        class_y: ``[N]`` int64 numpy integer class labels (from ``y`` of shape
            ``[N]`` or ``[N, 1]``), or None (multi-label, regression, no y).
        inputs: ``[M]`` distinct sorted output node ids (when ``input_nodes``
            was checked).
    """

    def __init__(self, data: Any, input_nodes: Any, need_y: bool, need_inputs: bool = True) -> None:
        torch, _ = torch_and_data()
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
                          stacklevel=4)
        if not need_inputs:
            return
        self.inputs = as_node_ids(input_nodes, n, "input_nodes")
        if self.inputs.min() < 0 or self.inputs.max() >= n:
            bad = self.inputs[(self.inputs < 0) | (self.inputs >= n)][0]
            raise IndexError(f"input_nodes holds node id {bad}, out of range for {n} nodes")

    def graph(self, add_self_loops: bool) -> CSRGraph:
        """The CSR of ``edge_index`` (repeated edges dropped)."""
        return CSRGraph.from_edge_index(self.edge_index, self.num_nodes, drop_duplicates=True,
                                        add_self_loops=add_self_loops)
