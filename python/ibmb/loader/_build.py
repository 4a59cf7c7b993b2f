"""From sampled batches to an arena (and back from a saved one): the steps
both loader constructors share."""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

from ibmb.arena import Arena
from ibmb.batching import Batches
from ibmb.graph import CSRGraph
from ibmb.loader._convert import arena_graph
from ibmb.loader._halo import HaloGraph, graph_halo, halo_spec
from ibmb.loader._source import Source, memory_budget, torch_and_data

__all__ = ["DEFAULT_NORM", "build", "restore"]

DEFAULT_NORM = "graph-rw"
"""The loaders' edge values by default: PyG's (see :mod:`ibmb.loader._convert`)."""


def build(src: Source, graph: CSRGraph, batches: Batches, *, norm: Optional[str], add_self_loops: Optional[bool],
          store_features: Optional[bool], params: dict, halo: Any = None,
          arena_path: Any = None) -> tuple[Arena, Any]:
    """Materializes ``batches`` of ``src`` (``graph``: its PPR graph) into an
    arena; returns it and the graph it was built over (for merged batches:
    the :class:`HaloGraph` of halo batches). The arena stores ``params``
    with the edge values, self-loops, the halo's norm and whether it holds
    features. ``halo``: see :func:`ibmb.loader._halo.halo_spec`.
    ``arena_path``: build the arena into this file (``Arena.build(path=)``)."""
    torch, _ = torch_and_data()
    spec = halo_spec(halo, add_self_loops)
    hg: Optional[HaloGraph] = None
    if spec is not None:
        if norm is not None:
            raise ValueError(f"norm={norm!r} conflicts with halo batches, whose edges carry the halo's full-graph "
                             f"weights: leave norm out and choose them with halo='sym', 'rw' or 'none'")
        hg = graph_halo(halo if not isinstance(halo, (bool, str)) else src.graph(False), *spec)
        if hg.num_nodes != src.num_nodes:
            raise ValueError(f"the halo's graph has {hg.num_nodes} nodes, data {src.num_nodes}")
        norm, add_self_loops = "halo-" + spec[0], spec[1]
    norm = DEFAULT_NORM if norm is None else norm
    add_self_loops = bool(add_self_loops)
    if hg is not None:
        ag, in_batch = graph, "none"
    else:
        ag, in_batch = arena_graph(src.graph(True) if add_self_loops else graph, norm)
    x = src.x
    row_bytes = int(np.prod(x.shape[1:])) * x.element_size()
    storable = x.dtype in (torch.float32, torch.float16, torch.bfloat16)
    if x.requires_grad:
        if store_features:
            raise ValueError("store_features=True copies data.x into the arena, which cuts it off from autograd, but "
                             "data.x requires grad (learnable embeddings): use store_features=False or None, and "
                             "batches gather x with autograd")
        store_features = False
    if store_features is None:
        rows = batches.nodes.shape[0]
        if hg is not None:  # the halo's rows too: at most one per in-edge of the exact nodes
            rows += int(hg.in_degree[batches.nodes].sum())
        store_features = storable and rows * row_bytes <= memory_budget()
    elif store_features and not storable:
        raise TypeError(f"store_features=True needs x of dtype float32, float16 or bfloat16, got {x.dtype}")
    params = dict(params, norm=norm, add_self_loops=add_self_loops, store_features=bool(store_features))
    if hg is not None:
        params["halo"] = hg.norm
    arena = Arena.build(ag, batches, x=x if store_features else None, y=src.class_y, norm=in_batch, params=params,
                        halo=hg, path=arena_path)
    return arena, (ag if hg is None else hg)


def restore(arena: Arena, data: Any, kind: str, *, norm: Optional[str], add_self_loops: Optional[bool],
            batch_size: Any, halo: Any = None) -> tuple[Optional[Source], Optional[CSRGraph], Any, dict]:
    """Checks a saved ``arena`` against the loader ``kind`` (``"node"`` or
    ``"batch"``) and the arguments given with it; returns ``(source of data
    or None, PPR graph or None, graph to merge over or None, params)``.

    ``data`` is needed when the arena stores no features (they are gathered
    from ``data.x``) or for ``batch_size > 1`` (merging needs the graph).
    ``halo``, if given, must agree with the saved batches (halo or not, the
    halo's norm and self-loops).
    """
    params = arena.params
    saved = params.get("loader")
    if saved != kind:
        other = {"node": "IBMBNodeLoader", "batch": "IBMBBatchLoader"}.get(saved, "another tool")
        raise ValueError(f"these batches were saved by {other} (loader={saved!r}), not by the "
                         f"{'IBMBNodeLoader' if kind == 'node' else 'IBMBBatchLoader'} loading them")
    stored_norm = str(params.get("norm", arena.norm))
    loops = bool(params.get("add_self_loops", False))
    if norm is not None and norm != stored_norm:
        raise ValueError(f"norm={norm!r} conflicts with the saved batches' norm={stored_norm!r} (edge values are "
                         "stored with the batches: leave norm out)")
    if add_self_loops is not None and bool(add_self_loops) != loops:
        raise ValueError(f"add_self_loops={add_self_loops} conflicts with the saved batches' add_self_loops={loops}")
    saved_halo = params.get("halo") if arena.has_halo else None
    if halo is not None:
        spec = halo_spec(halo, add_self_loops if add_self_loops is not None else (loops if saved_halo else None))
        if spec != ((saved_halo, loops) if saved_halo else None):
            raise ValueError(f"halo={halo!r} conflicts with the saved batches (halo={saved_halo!r}, "
                             f"add_self_loops={loops})")
    params["norm"], params["add_self_loops"] = stored_norm, loops
    src = graph = merge_graph = None
    if data is not None:
        src = Source(data, None, need_y=False, need_inputs=False)
        if src.num_nodes != arena.num_nodes:
            raise ValueError(f"data has {src.num_nodes} nodes but the saved batches were built for "
                             f"{arena.num_nodes}")
        graph = src.graph(False)
        if batch_size is not None and int(batch_size) > 1:
            if saved_halo:
                hg = halo if isinstance(getattr(halo, "engine", halo), HaloGraph) else graph
                merge_graph = graph_halo(hg, saved_halo, loops)
            else:
                merge_graph = arena_graph(src.graph(True) if loops else graph, stored_norm)[0]
    if arena.row_bytes == 0 and src is None:
        raise ValueError("the saved batches store no features: pass data so that x can be gathered")
    return src, graph, merge_graph, params
