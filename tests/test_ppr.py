"""PPR push against exact PPR (power iteration in float64) and PyG's get_ppr."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import torch

import ibmb
from ibmb.graph import CSRGraph
from ibmb.ppr import node_ppr, set_ppr


def exact_ppr(edge_index: np.ndarray, n: int, teleport: np.ndarray, alpha: float) -> np.ndarray:
    """Exact PPR rows p = alpha * sum_k (1-alpha)^k s P^k for each row s of
    ``teleport`` ([T, N]); P = D^-1 A with all-zero rows for nodes without
    out-edges (the push's convention). float64, to 1e-13."""
    a = sp.csr_matrix((np.ones(edge_index.shape[1]), (edge_index[0], edge_index[1])), shape=(n, n))
    deg = np.asarray(a.sum(1)).ravel()
    inv = np.divide(1.0, deg, out=np.zeros_like(deg), where=deg > 0)
    pt = (sp.diags(inv) @ a).T.tocsr()  # P^T
    y = teleport.T.astype(np.float64)  # [N, T]
    p = np.zeros_like(y)
    while np.abs(y).sum(0).max() > 1e-13:
        p += alpha * y
        y = (1 - alpha) * (pt @ y)
    return p.T


def dense_rows(res, n):
    out = np.zeros((res.num_rows, n))
    for i in range(res.num_rows):
        nodes, scores = res.row(i)
        out[i, nodes] = scores
    return out


def check_guarantee(est, exact, deg, eps):
    # 0 <= p - p_hat <= eps * deg(v), with slack for the float32 output.
    diff = exact - est
    slack = 1e-6 * exact + 1e-9
    assert (diff >= -slack).all(), f"estimate above exact PPR by {(-diff).max():.3g}"
    bound = eps * deg[None, :] + slack
    assert (diff <= bound).all(), f"error {np.max(diff / (eps * np.maximum(deg, 1))):.3f} x eps*deg"


def random_symmetric(rng, n, e, isolated=5):
    ei = rng.integers(0, n - isolated, size=(2, e))
    return np.concatenate([ei, ei[::-1]], axis=1)


@pytest.mark.parametrize("order", ["fifo", "lifo"])
def test_guarantee_random_graph(rng, order):
    n, alpha, eps = 400, 0.25, 1e-4
    ei = random_symmetric(rng, n, 1500)
    targets = rng.choice(n, size=40, replace=False)
    res = node_ppr(ei, targets, alpha=alpha, eps=eps, num_nodes=n, order=order)
    deg = np.bincount(ei[0], minlength=n)
    exact = exact_ppr(ei, n, np.eye(n)[targets], alpha)
    check_guarantee(dense_rows(res, n), exact, deg, eps)


def test_guarantee_cora(cora, rng):
    ei, n = cora.edge_index.numpy(), cora.num_nodes
    alpha, eps = 0.25, 2e-4
    targets = rng.choice(n, size=60, replace=False)
    res = node_ppr(ei, targets, alpha=alpha, eps=eps, num_nodes=n)
    exact = exact_ppr(ei, n, np.eye(n)[targets], alpha)
    check_guarantee(dense_rows(res, n), exact, np.bincount(ei[0], minlength=n), eps)


def test_guarantee_github(github_edges, rng):
    ei = github_edges
    n = int(ei.max()) + 1
    alpha, eps = 0.25, 2e-4
    targets = rng.choice(n, size=30, replace=False)
    res = node_ppr(ei, targets, alpha=alpha, eps=eps, num_nodes=n)
    tele = np.zeros((len(targets), n))
    tele[np.arange(len(targets)), targets] = 1
    exact = exact_ppr(ei, n, tele, alpha)
    check_guarantee(dense_rows(res, n), exact, np.bincount(ei[0], minlength=n), eps)


def test_topk_matches_exact_up_to_ties(cora, rng):
    ei, n = cora.edge_index.numpy(), cora.num_nodes
    alpha, eps, k = 0.25, 1e-5, 16
    deg = np.bincount(ei[0], minlength=n)
    targets = rng.choice(n, size=40, replace=False)
    full = node_ppr(ei, targets, alpha=alpha, eps=eps)
    top = node_ppr(ei, targets, alpha=alpha, eps=eps, topk=k)
    exact = exact_ppr(ei, n, np.eye(n)[targets], alpha)
    for i in range(len(targets)):
        nodes, scores = top.row(i)
        assert np.array_equal(nodes, full.row(i)[0][:k]) and np.array_equal(scores, full.row(i)[1][:k])
        assert np.all(np.diff(scores) <= 0), "rows sorted by descending score"
        # Every kept node is at least as influential as every dropped one,
        # up to the push error of both (eps * deg each).
        kept = np.zeros(n, dtype=bool)
        kept[nodes] = True
        tol = eps * deg
        worst_kept = np.min(exact[i, kept] + tol[kept])
        best_dropped = np.max(exact[i, ~kept] - tol[~kept])
        assert worst_kept >= best_dropped - 1e-7


def test_thread_count_does_not_change_results(rng):
    ei = random_symmetric(rng, 3000, 20000)
    old = ibmb.set_num_threads(1)
    try:
        a = node_ppr(ei, alpha=0.2, eps=1e-4, topk=32)
    finally:
        ibmb.set_num_threads(old)
    b = node_ppr(ei, alpha=0.2, eps=1e-4, topk=32, num_threads=2)
    c = node_ppr(ei, alpha=0.2, eps=1e-4, topk=32, num_threads=7)
    for r in (b, c):
        assert np.array_equal(a.indptr, r.indptr) and np.array_equal(a.nodes, r.nodes)
        assert np.array_equal(a.scores.view(np.uint32), r.scores.view(np.uint32))
        assert (a.pushes, a.edge_pushes) == (r.pushes, r.edge_pushes)


def _pairs(ei, w):
    return {(int(t), int(v)): float(x) for (t, v), x in zip(ei.T.tolist(), w.tolist())}


def test_same_as_pyg_ppr_kernel(cora, rng):
    """PyG's own push kernel (torch_geometric.utils.ppr._get_ppr, compiled by
    numba as get_ppr does) run on the same CSR gives our LIFO vectors up to
    float rounding."""
    import numba
    from torch_geometric.utils import ppr as pyg_ppr

    alpha, eps = 0.25, 2e-4
    g = CSRGraph.from_edge_index(cora.edge_index.numpy(), cora.num_nodes)
    indptr, indices = g.csr()
    target = rng.choice(cora.num_nodes, size=300, replace=False).astype(np.int64)
    kernel = numba.jit(nopython=True, parallel=True)(pyg_ppr._get_ppr)
    cols, vals = kernel(indptr, indices, alpha, eps, target)
    ref = {(int(t), int(v)): w for t, c, x in zip(target, cols, vals) for v, w in zip(c, x)}
    got_ei, got_w = ibmb.get_ppr(cora.edge_index, alpha=alpha, eps=eps, target=torch.from_numpy(target),
                                 num_nodes=cora.num_nodes)
    assert isinstance(got_ei, torch.Tensor) and got_w.dtype == torch.float32
    got = _pairs(got_ei, got_w)
    assert ref.keys() == got.keys()
    worst = max(abs(got[k] - ref[k]) / ref[k] for k in ref)
    assert worst < 1e-6, f"largest relative difference {worst:.3g}"
    # Grouped by target in the given order, the target itself included.
    bounds = np.flatnonzero(np.diff(got_ei[0].numpy())) + 1
    assert np.array_equal(got_ei[0].numpy()[np.r_[0, bounds]], target)


def test_close_to_pyg_get_ppr(cora, rng):
    """PyG's public get_ppr first sorts the edges with an unstable sort, so
    its push order (and thus its approximation) can differ from ours; both
    must then agree within the push error bound eps*deg(v)."""
    from torch_geometric.utils import get_ppr as pyg_get_ppr

    alpha, eps = 0.25, 2e-4
    n = cora.num_nodes
    deg = np.bincount(cora.edge_index[0].numpy(), minlength=n)
    target = torch.from_numpy(rng.choice(n, size=200, replace=False))
    ref = _pairs(*pyg_get_ppr(cora.edge_index, alpha=alpha, eps=eps, target=target, num_nodes=n))
    got = _pairs(*ibmb.get_ppr(cora.edge_index, alpha=alpha, eps=eps, target=target, num_nodes=n))
    for key in ref.keys() | got.keys():
        assert abs(ref.get(key, 0.0) - got.get(key, 0.0)) <= eps * deg[key[1]] + 1e-6


def test_set_ppr_vs_exact(rng):
    n, alpha, eps = 300, 0.2, 1e-4
    ei = random_symmetric(rng, n, 1200)
    sets = [rng.choice(n, size=int(rng.integers(1, 30)), replace=True) for _ in range(12)]
    res = set_ppr(ei, sets, alpha=alpha, eps=eps, num_nodes=n)
    tele = np.zeros((len(sets), n))
    for i, s in enumerate(sets):
        u = np.unique(s)
        tele[i, u] = 1.0 / len(u)
    exact = exact_ppr(ei, n, tele, alpha)
    check_guarantee(dense_rows(res, n), exact, np.bincount(ei[0], minlength=n), eps)


def test_isolated_and_zero_degree_nodes():
    # Node 2 is isolated; node 3 has in-edges but no out-edges.
    ei = np.array([[0, 1, 0], [1, 0, 3]])
    res = node_ppr(ei, alpha=0.2, eps=1e-6, num_nodes=4)
    assert np.isfinite(res.scores).all() and (res.scores > 0).all()
    nodes, scores = res.row(2)
    assert nodes.tolist() == [2] and scores[0] == pytest.approx(0.2)
    edge_index, weight = ibmb.get_ppr(torch.from_numpy(ei), num_nodes=4)
    assert torch.isfinite(weight).all()


def test_targets_as_mask_and_unsorted_duplicates(rng):
    ei = random_symmetric(rng, 100, 400)
    mask = np.zeros(100, dtype=bool)
    mask[[5, 17, 40]] = True
    a = node_ppr(ei, mask, num_nodes=100)
    b = node_ppr(ei, np.array([5, 17, 40]), num_nodes=100)
    assert np.array_equal(a.nodes, b.nodes)
    c = node_ppr(ei, np.array([40, 5, 40]), num_nodes=100)
    assert np.array_equal(c.row(0)[0], c.row(2)[0]) and np.array_equal(c.row(1)[0], b.row(0)[0])


@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(alpha=0.0), ValueError, "alpha"),
    (dict(alpha=1.0), ValueError, "alpha"),
    (dict(alpha=float("nan")), ValueError, "alpha"),
    (dict(eps=0.0), ValueError, "eps"),
    (dict(eps=-1e-4), ValueError, "eps"),
    (dict(eps=float("inf")), ValueError, "eps"),
    (dict(topk=0), ValueError, "topk"),
    (dict(topk=-3), ValueError, "topk"),
    (dict(topk=2.5), TypeError, "topk"),
    (dict(target=torch.tensor([0, 10])), IndexError, "out of range"),
    (dict(target=torch.tensor([-1])), IndexError, "out of range"),
    (dict(target=torch.tensor([], dtype=torch.long)), ValueError, "empty"),
    (dict(target=torch.tensor([0.5])), TypeError, "integer"),
    (dict(device="tpu"), ValueError, "device"),
    (dict(order="random"), ValueError, "order"),
])
def test_bad_input(kwargs, exc, match):
    ei = torch.tensor([[0, 1, 2, 3], [1, 2, 3, 0]])
    with pytest.raises(exc, match=match):
        ibmb.get_ppr(ei, num_nodes=10, **kwargs)


def test_malformed_edge_index():
    for ei, exc in [(torch.zeros(3, 4, dtype=torch.long), ValueError), (torch.zeros(2, 4), TypeError),
                    (torch.tensor([[0, -1], [1, 0]]), IndexError), (torch.tensor([0, 1, 2]), ValueError)]:
        with pytest.raises(exc):
            ibmb.get_ppr(ei)
    with pytest.raises(IndexError):
        ibmb.get_ppr(torch.tensor([[0, 5], [1, 0]]), num_nodes=3)


def test_set_ppr_bad_sets():
    ei = np.array([[0, 1], [1, 0]])
    with pytest.raises(ValueError, match="empty"):
        set_ppr(ei, [np.array([0]), np.array([], dtype=np.int64)])
    with pytest.raises(ValueError, match="no target sets"):
        set_ppr(ei, [])
    with pytest.raises(IndexError):
        set_ppr(ei, [np.array([0, 2])])


def test_cuda_device_without_gpu_is_clear():
    if ibmb.cuda_status() == "":
        pytest.skip("a CUDA device is available here")
    with pytest.raises(ibmb.UnavailableError, match="unavailable"):
        ibmb.get_ppr(torch.tensor([[0, 1], [1, 0]]), device="cuda")


@pytest.mark.skipif(ibmb.cuda_status() != "", reason="no CUDA device for the engine here")
def test_gpu_push_within_bound(cora, rng):
    ei, n = cora.edge_index.numpy(), cora.num_nodes
    alpha, eps = 0.25, 2e-4
    targets = rng.choice(n, size=200, replace=False)
    gpu = node_ppr(ei, targets, alpha=alpha, eps=eps, device="cuda")
    exact = exact_ppr(ei, n, np.eye(n)[targets], alpha)
    check_guarantee(dense_rows(gpu, n), exact, np.bincount(ei[0], minlength=n), eps)


def test_progress_bar_runs(capsys):
    ei = np.array([[0, 1, 1, 2], [1, 0, 2, 1]])
    res = node_ppr(ei, progress=True)
    assert res.num_rows == 3
