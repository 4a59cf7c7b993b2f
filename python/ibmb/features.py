"""Cached aggregated input features (BatchGNN): ``Â^k·X`` computed once.

Input features do not change during training, so the first GCN layer's
neighbourhood aggregation ``Â·X`` can be computed once for the whole graph
by the engine's parallel SpMM and fed to the first layer in place of ``X``:
layer 1 is then exact over the full graph whatever the batches, and batches
only approximate the later layers.
"""
from __future__ import annotations

from typing import Any, Optional, Union

import numpy as np

from ibmb import _jobs
from ibmb._arrays import as_int, is_tensor, ptr, torch
from ibmb._native import call, engine
from ibmb.graph import CSRGraph, as_graph

__all__ = ["aggregate"]

# Work bound (multiply-adds) beyond which a call is refused instead of
# running for days (e.g. a mistyped ``hops``); papers100M-sized graphs with
# 128 features and a few hops stay far below it.
_MAX_WORK = 10**13


def aggregate(graph: Union[CSRGraph, Any], x: Any, norm: str = "sym", hops: int = 1, num_threads: int = 0,
              progress: Optional[bool] = False) -> Any:
    r"""``Â^hops · x``: ``hops`` rounds of neighbourhood aggregation of ``x``.

    Args:
        graph: a :class:`~ibmb.graph.CSRGraph` or a PyG ``edge_index``. For
            GCN's propagation matrix build the graph with
            ``CSRGraph.from_edge_index(ei, n, symmetrize=True,
            add_self_loops=True, drop_duplicates=True)`` and use
            ``norm="sym"`` (``D^-1/2 (A + I) D^-1/2``, PyG's ``gcn_norm`` on
            an undirected graph; without ``drop_duplicates`` symmetrizing an
            edge_index that lists both directions doubles every edge).
        x: ``[N, F]`` float32 features (numpy array or CPU torch tensor).
        norm: edge weights: ``"sym"`` (default), ``"rw"`` (row sums 1) or
            ``"none"``.
        hops: how many times to apply ``Â`` (default 1).
        num_threads: engine threads (0: all).
        progress: show a progress bar (``None``: when slow and on a terminal).

    Returns:
        ``[N, F]`` float32 result, a tensor when ``x`` is a tensor, else numpy.
        Row ``u`` is ``sum_e w_e · x[v_e]`` over ``u``'s out-edges in CSR
        order, summed in float32; the result does not depend on the thread
        count. Ctrl-C cancels within about a second.

    Raises:
        TypeError: ``x`` is not float32, ``norm`` not a string.
        ValueError: wrong shape, ``x`` not on the CPU or requiring grad
            (there is no backward), bad ``norm`` or ``hops`` (also when
            ``hops * (E + N) * F`` exceeds 1e13 multiply-adds).
    """
    g = as_graph(graph)
    if not isinstance(norm, str):
        raise TypeError(f"norm must be 'sym', 'rw' or 'none', got {norm!r}")
    hops = as_int(hops, "hops", min=1, max=_MAX_WORK)
    threads = as_int(num_threads, "num_threads", min=0, max=2**31 - 1)
    if is_tensor(x):
        if x.device.type != "cpu":
            raise ValueError(f"x is on {x.device}: aggregate runs on the CPU, pass x.cpu()")
        if x.dtype != torch.float32:
            raise TypeError(f"x must be float32, got {x.dtype}: pass x.float()")
        if x.requires_grad and torch.is_grad_enabled():
            raise ValueError("x requires grad but aggregate has no backward (it is meant for fixed input "
                             "features): pass x.detach()")
        xs = x.detach().contiguous()
        out = torch.empty_like(xs)
    elif isinstance(x, np.ndarray):
        if x.dtype != np.float32:
            raise TypeError(f"x must be float32, got {x.dtype}: pass x.astype(np.float32)")
        xs = np.ascontiguousarray(x)
        out = np.empty_like(xs)
    else:
        raise TypeError(f"x must be a numpy array or torch tensor, got {type(x).__name__}")
    if xs.ndim != 2 or xs.shape[0] != g.num_nodes or xs.shape[1] < 1:
        raise ValueError(f"x must have shape [{g.num_nodes}, F] with F >= 1, got {tuple(xs.shape)}")
    n, f = int(xs.shape[0]), int(xs.shape[1])
    if n == 0:
        return out
    work = hops * (g.num_edges + n) * f
    if work > _MAX_WORK:
        raise ValueError(f"hops={hops} rounds over {g.num_edges} edges and {n} x {f} features are about {work:.1e} "
                         f"multiply-adds, more than the {_MAX_WORK:.0e} allowed: lower hops")
    px = ptr(xs, xs.dtype, n * f, "x")
    po = ptr(out, out.dtype, n * f, "out")
    # xs and out stay referenced here until the job has finished (run waits,
    # also after a Ctrl-C), so the engine never reads or writes freed memory.
    _jobs.run(lambda: call(engine.AggregateJob, g._handle(), px, n, f, po, str(norm), hops, threads),
              lambda h: None, "aggregate", progress)
    return out
