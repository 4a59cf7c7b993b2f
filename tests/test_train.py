"""The train / bench / infer jobs end to end on small graphs."""
from __future__ import annotations

import math

import pytest
import torch

from ibmb import data as D
from ibmb import train as T
from ibmb.cli import main


def test_train_save_infer_roundtrip(tmp_path, capsys):
    model = tmp_path / "m.pt"
    batches = tmp_path / "test.ibmb"
    small = ["--nodes", "3000", "--features", "16", "--classes", "4", "--quiet"]
    assert main(["train", *small, "--epochs", "5", "--outputs-per-batch", "64", "--save-model", str(model)]) == 0
    out = capsys.readouterr().out
    assert "ibmb-node" in out and "test acc" in out and model.is_file()
    assert main(["infer", *small, "--model-file", str(model), "--batches", str(batches)]) == 0
    first = capsys.readouterr().out
    assert batches.is_file() and "saved to" in first
    assert main(["infer", *small, "--model-file", str(model), "--batches", str(batches)]) == 0
    second = capsys.readouterr().out
    assert "loaded" in second
    acc = [line for line in first.splitlines() + second.splitlines() if "test accuracy" in line]
    assert len(acc) == 2 and acc[0].split()[-1] == acc[1].split()[-1]  # same batches, same model, same answer


def test_bench_methods_table_and_plot(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    png = tmp_path / "acc.png"
    rc = main(["bench", "--nodes", "2000", "--features", "8", "--classes", "3", "--epochs", "3", "--quiet",
               "--methods", "full,ibmb-node,ibmb-batch,neighbor,cluster", "--outputs-per-batch", "64",
               "--plot", str(png), "--profile-gpu"])
    assert rc == 0
    out = capsys.readouterr().out
    for m in ("full", "ibmb-node", "ibmb-batch", "neighbor", "cluster"):
        assert m in out
    assert "GPU profile" in out  # a summary, or the reason NVML is unavailable
    assert png.is_file() and png.stat().st_size > 1000


def test_unknown_method_and_dataset(capsys):
    assert main(["bench", "--methods", "full,magic", "--nodes", "100"]) == 2
    with pytest.raises(ValueError, match="unknown dataset"):
        D.load("no-such-dataset")


@pytest.mark.parametrize("model", ["gcn", "sage", "gat"])
def test_models_learn(model):
    data = D.load("default", num_nodes=2000, num_features=16, num_classes=4, homophily=0.8, separation=1.0)
    cfg = T.Config(model=model, epochs=30, patience=30, num_nodes_per_batch=64, progress=False)
    r = T.train_eval("ibmb-node", data, cfg)
    assert r.test_acc > 0.6 and math.isfinite(r.epoch_s) and r.loader_s <= r.epoch_s


def test_random_split_stratified():
    y = torch.tensor([0] * 50 + [1] * 30 + [-1] * 20)
    tr, va, te = D.random_split(y, 0.6, 0.2, seed=1)
    assert not (tr & va).any() and not (tr & te).any() and not (va & te).any()
    assert int(tr.sum()) == 48 and int((tr & (y == 1)).sum()) == 18 and not (tr | va | te)[y < 0].any()
    with pytest.raises(ValueError):
        D.random_split(y, 0.9, 0.2)


def test_csv_folder(tmp_path):
    import numpy as np

    rng = np.random.default_rng(0)
    e = rng.integers(0, 60, size=(300, 2))
    (tmp_path / "edges.csv").write_text("id_1,id_2\n" + "\n".join(f"{a},{b}" for a, b in e))
    (tmp_path / "target.csv").write_text("id,target\n" + "\n".join(f"{i},{i % 2}" for i in range(60)))
    data = D.load(str(tmp_path))
    assert data.num_nodes == 60 and data.x.shape[0] == 60 and data.features == "structural"
    assert int(data.train_mask.sum() + data.val_mask.sum() + data.test_mask.sum()) == 60
