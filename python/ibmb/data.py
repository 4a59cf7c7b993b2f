"""Datasets for the ``ibmb`` jobs: the built-in generated graph, PyG/OGB
datasets by name, and edge-list/CSV files.

Every loader returns a ``torch_geometric.data.Data`` with ``x``, ``y``,
undirected ``edge_index`` and boolean ``train_mask``/``val_mask``/
``test_mask``.
"""
from __future__ import annotations

import mmap
import os
import warnings
from pathlib import Path
from typing import Any, Optional

import numpy as np

from ibmb.datasets import HOMOPHILY, SEPARATION

__all__ = ["load", "data_dir", "random_split", "structural_features", "map_features"]

_PLANETOID = {"cora": "Cora", "citeseer": "CiteSeer", "pubmed": "PubMed"}


def random_split(y: Any, train: float = 0.6, val: float = 0.2, seed: int = 0) -> tuple[Any, Any, Any]:
    """Stratified random split of the labelled nodes (``y >= 0``) into
    train/val/test masks with fractions ``train``, ``val`` and the rest."""
    import torch

    yy = np.asarray(y.cpu().numpy() if hasattr(y, "cpu") else y).reshape(-1)
    if not 0 < train < 1 or not 0 <= val < 1 or train + val >= 1:
        raise ValueError(f"split fractions must satisfy 0 < train, 0 <= val and train + val < 1, got {train}, {val}")
    rng = np.random.default_rng(seed)
    masks = [np.zeros(len(yy), bool) for _ in range(3)]
    for c in np.unique(yy[yy >= 0]):
        idx = rng.permutation(np.flatnonzero(yy == c))
        a, b = int(round(train * len(idx))), int(round((train + val) * len(idx)))
        masks[0][idx[:a]], masks[1][idx[a:b]], masks[2][idx[b:]] = True, True, True
    return tuple(torch.from_numpy(m) for m in masks)  # type: ignore[return-value]


def structural_features(edge_index: Any, num_nodes: int, dim: int = 16, seed: int = 0) -> Any:
    """``[N, dim + 2]`` float32 features for graphs without any: log-degree,
    its square, and ``dim`` random-projection features propagated twice over
    the row-normalized graph (a cheap structural embedding)."""
    import torch

    from ibmb.graph import CSRGraph

    g = CSRGraph.from_edge_index(edge_index, num_nodes, drop_duplicates=True)
    ip, ix = (np.asarray(a) for a in g.csr())
    if hasattr(ip, "numpy"):
        ip, ix = ip.numpy(), ix.numpy()
    deg = np.diff(ip).astype(np.float32)
    rng = np.random.default_rng(seed)
    h = rng.standard_normal((num_nodes, dim)).astype(np.float32)
    import scipy.sparse as sp

    a = sp.csr_matrix((np.ones(len(ix), np.float32), ix, ip), shape=(num_nodes, num_nodes))
    inv = 1.0 / np.maximum(deg, 1.0)
    for _ in range(2):
        h = (a @ h) * inv[:, None]
    ld = np.log1p(deg)[:, None]
    x = np.concatenate([ld, ld ** 2, h], axis=1).astype(np.float32)
    x = (x - x.mean(0)) / (x.std(0) + 1e-6)
    return torch.from_numpy(np.ascontiguousarray(x))


def _undirected(edge_index: Any, num_nodes: int) -> Any:
    from torch_geometric.utils import to_undirected

    return to_undirected(edge_index, num_nodes=num_nodes)


def _npy_features(path: Path) -> Any:
    """features.npy as float32: memory-mapped (see :func:`map_features`)
    when it is a 2-D float32 array, else read and converted."""
    import torch

    try:
        x = map_features(path)
        if x.dtype == torch.float32:
            return x
    except (TypeError, ValueError):
        pass
    return torch.from_numpy(np.ascontiguousarray(np.load(path), dtype=np.float32))


def _csv_dir(path: Path, split_seed: int) -> Any:
    """A MUSAE-style folder: edges.csv (id_1,id_2), target.csv (id,target) and
    optionally features.csv (node_id,feature_id,value) or a dense
    features.npy; without features, structural features are used."""
    import torch
    from torch_geometric.data import Data

    e = np.loadtxt(path / "edges.csv", delimiter=",", skiprows=1, dtype=np.int64, ndmin=2)
    t = np.loadtxt(path / "target.csv", delimiter=",", skiprows=1, dtype=np.int64, ndmin=2)
    n = int(max(e.max(), t[:, 0].max())) + 1
    y = np.full(n, -1, np.int64)
    y[t[:, 0]] = t[:, 1]
    ei = _undirected(torch.from_numpy(np.ascontiguousarray(e.T)), n)
    if (path / "features.csv").is_file():
        f = np.loadtxt(path / "features.csv", delimiter=",", skiprows=1, dtype=np.float64, ndmin=2)
        rows, cols = f[:, 0].astype(np.int64), f[:, 1].astype(np.int64)
        x = np.zeros((n, int(cols.max()) + 1), np.float32)
        x[rows, cols] = f[:, 2]
        x = torch.from_numpy(x)
    elif (path / "features.npy").is_file():
        x = _npy_features(path / "features.npy")
    else:
        x = structural_features(ei, n)
    data = Data(x=x, edge_index=ei, y=torch.from_numpy(y), num_nodes=n)
    data.train_mask, data.val_mask, data.test_mask = random_split(data.y, seed=split_seed)
    data.features = "given" if x.shape[1] and (path / "features.csv").is_file() else "structural"
    return data


def map_features(path: Any, num_features: Optional[int] = None, dtype: Any = np.float32) -> Any:
    """Node features ``[N, F]`` as a torch tensor over a memory map of a file,
    for features larger than memory: nothing is read until rows are used,
    and the loaders, :meth:`ibmb.arena.Arena.build` and :func:`ibmb.gather`
    read only the rows of their batches (the operating system keeps the
    pages it read as reclaimable cache).

    ``path`` is a ``.npy`` file (shape and dtype from its header; C order) or
    a raw file of ``N * num_features`` rows of ``dtype`` (``N`` from its
    size). The map is copy-on-write (writes to the tensor never reach the
    file) and advised for random access (``MADV_RANDOM``: a row read pulls
    in its own pages, not the kernel's readahead window around them). The
    file must not be truncated or rewritten while the tensor is in use.
    ``torch.from_file(path, shared=..., size=N * F).view(N, F)`` or
    ``torch.from_numpy(np.load(path, mmap_mode="c"))`` work with the loaders
    too, only without the advice.

    Example:
        >>> x = ibmb.data.map_features("features.npy")       # doctest: +SKIP
        >>> data = Data(x=x, edge_index=edge_index, y=y)      # doctest: +SKIP
    """
    import torch

    name = os.fspath(path)
    with open(name, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        if num_features is None:
            version = np.lib.format.read_magic(f)
            read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            shape, fortran, dt = read(f)
            if fortran or len(shape) != 2:
                raise ValueError(f"{name}: map_features needs a 2-D C-order array, got shape {shape}"
                                 f"{' in Fortran order' if fortran else ''}")
            offset, (n, width) = f.tell(), shape
        else:
            dt, offset = np.dtype(dtype), 0
            width = int(num_features)
            if width <= 0 or size % (width * dt.itemsize):
                raise ValueError(f"{name}: {size} bytes is not a whole number of {width}-wide {dt} rows")
            n = size // (width * dt.itemsize)
        if dt not in (np.dtype(np.float32), np.dtype(np.float16)):
            raise TypeError(f"{name}: features must be float32 or float16 to be gathered from the map, got {dt}")
        if offset + n * width * dt.itemsize > size:
            raise ValueError(f"{name}: the file is shorter than its header's shape {(n, width)} (truncated?)")
        if n * width == 0:
            return torch.zeros((n, width), dtype=torch.from_numpy(np.zeros(0, dt)).dtype)
        mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_COPY)
    if hasattr(mm, "madvise"):
        mm.madvise(mmap.MADV_RANDOM)
    arr = np.frombuffer(mm, dtype=dt, count=n * width, offset=offset).reshape(n, width)
    return torch.from_numpy(arr)


def _edge_list(path: Path, split_seed: int) -> Any:
    raise ValueError(f"{path}: a bare edge list has no labels to train on; give a folder with edges.csv and "
                     "target.csv (and optionally features.csv)")


def data_dir() -> Path:
    """The data folder: ``$IBMB_DATA``, else ``~/.cache/ibmb/data``. Its
    layout is that of the project's shared data: ``planetoid/<Name>/raw``,
    ``ogb/<name>``, ``karateclub/<name>`` (tests and benchmarks read the same
    variable). ``IBMB_DATA_ROOT`` is a deprecated alias (same layout)."""
    path = os.environ.get("IBMB_DATA")
    if not path and os.environ.get("IBMB_DATA_ROOT"):
        warnings.warn("IBMB_DATA_ROOT is deprecated: set IBMB_DATA (the same folder; PyG datasets go under its "
                      "planetoid/ and ogb/ subfolders)", DeprecationWarning, stacklevel=2)
        path = os.environ["IBMB_DATA_ROOT"]
    return Path(path) if path else Path.home() / ".cache" / "ibmb" / "data"


def load(name: str = "default", root: Optional[str] = None, *, num_nodes: int = 100_000, num_classes: int = 10,
         avg_degree: float = 10.0, num_features: int = 64, homophily: float = HOMOPHILY,
         separation: float = SEPARATION,
         seed: int = 0, split_seed: int = 0) -> Any:
    """Load a dataset as a PyG ``Data`` with train/val/test masks.

    Args:
        name: ``"default"`` (alias ``"csbm"``): the built-in contextual SBM
            graph (no download; random 10%/10%/10% train/val/test split; ``homophily``
            and ``separation`` set how hard it is); ``"cora"``,
            ``"citeseer"``, ``"pubmed"``: Planetoid with its public split;
            ``"ogbn-*"``: an OGB node dataset with its official split (needs
            the ``ogb`` package); a folder with ``edges.csv`` and
            ``target.csv`` (MUSAE/karateclub layout; random stratified
            60/20/20 split).
        root: where PyG/OGB datasets live (downloaded there when online);
            default: ``data_dir()/planetoid`` or ``data_dir()/ogb``.
    """
    import torch

    key = str(name).lower()
    if key in ("default", "csbm"):
        from ibmb.datasets import csbm

        g = csbm(num_nodes=num_nodes, num_classes=num_classes, avg_degree=avg_degree, num_features=num_features,
                 homophily=homophily, separation=separation, seed=seed)
        data = g.to_pyg()
        data.edge_index = _undirected(data.edge_index, g.num_nodes)
        rng = np.random.default_rng(split_seed)
        perm = rng.permutation(g.num_nodes)
        a, b, c = g.num_nodes // 10, g.num_nodes // 5, 3 * g.num_nodes // 10
        masks = [np.zeros(g.num_nodes, bool) for _ in range(3)]
        masks[0][perm[:a]], masks[1][perm[a:b]], masks[2][perm[b:c]] = True, True, True
        data.train_mask, data.val_mask, data.test_mask = (torch.from_numpy(m) for m in masks)
        data.name = f"csbm-{g.num_nodes}"
        return data
    if key in _PLANETOID:
        from torch_geometric.datasets import Planetoid

        data = Planetoid(root or str(data_dir() / "planetoid"), _PLANETOID[key])[0]
        data.name = _PLANETOID[key]
        return data
    if key.startswith("ogbn-"):
        try:
            from ogb.nodeproppred import PygNodePropPredDataset
        except ImportError as e:
            raise ImportError(f"dataset {name!r} needs the 'ogb' package (pip install ogb)") from e
        ds = PygNodePropPredDataset(key, root=root or str(data_dir() / "ogb"))
        data, split = ds[0], ds.get_idx_split()
        data.y = data.y.reshape(-1)
        data.edge_index = _undirected(data.edge_index, data.num_nodes)
        for k, m in (("train", "train_mask"), ("valid", "val_mask"), ("test", "test_mask")):
            mask = torch.zeros(data.num_nodes, dtype=torch.bool)
            mask[split[k]] = True
            data[m] = mask
        data.name = key
        return data
    path = Path(name)
    if path.is_dir() and (path / "edges.csv").is_file() and (path / "target.csv").is_file():
        data = _csv_dir(path, split_seed)
        data.name = path.name
        return data
    if path.is_file():
        return _edge_list(path, split_seed)
    raise ValueError(f"unknown dataset {name!r}: use 'default', cora/citeseer/pubmed, ogbn-*, or a folder with "
                     "edges.csv and target.csv")
