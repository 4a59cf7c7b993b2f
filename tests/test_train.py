"""The train / bench / infer jobs end to end on small graphs."""
from __future__ import annotations

import json
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


def test_infer_uses_the_saved_methods_batches(tmp_path, capsys):
    """A model trained with ibmb-batch infers with batch-wise batches (saved, reloaded, and checked for kind)."""
    model, batches, other = tmp_path / "m.pt", tmp_path / "test.ibmb", tmp_path / "node.ibmb"
    small = ["--nodes", "2000", "--features", "8", "--classes", "3", "--quiet"]
    assert main(["train", *small, "--method", "ibmb-batch", "--epochs", "3", "--outputs-per-batch", "64",
                 "--save-model", str(model)]) == 0
    capsys.readouterr()
    js = tmp_path / "infer.json"
    assert main(["infer", *small, "--model-file", str(model), "--batches", str(batches), "--json", str(js)]) == 0
    out = capsys.readouterr().out
    assert "ibmb-batch (gcn)" in out and "batch-wise, built, saved to" in out
    assert main(["infer", *small, "--model-file", str(model), "--batches", str(batches)]) == 0
    assert "batch-wise, loaded" in capsys.readouterr().out
    import ibmb

    from ibmb.batching import Arena

    assert Arena.load(str(batches)).params["loader"] == "batch"
    doc = json.loads(js.read_text())
    assert doc["command"] == "infer" and [m["method"] for m in doc["methods"]] == ["ibmb-batch"]
    assert 0 <= doc["methods"][0]["test_acc"] <= 1 and doc["methods"][0]["epoch_s"] is None
    # A file of node-wise batches is refused for this model, with the reason.
    node = ibmb.IBMBNodeLoader(D.load("default", num_nodes=2000, num_features=8, num_classes=3), None,
                               input_nodes=torch.arange(10))
    node.save(str(other))
    assert main(["infer", *small, "--model-file", str(model), "--batches", str(other)]) == 2
    assert "holds node-wise batches, but the model was trained with 'ibmb-batch'" in capsys.readouterr().err


def test_bench_json_and_comparison(tmp_path, capsys):
    js = tmp_path / "r.json"
    rc = main(["bench", "--nodes", "1500", "--features", "8", "--classes", "3", "--epochs", "4", "--quiet",
               "--methods", "full,ibmb-node", "--baseline", "full", "--outputs-per-batch", "64", "--seeds", "2",
               "--json", str(js)])
    assert rc == 0
    out = capsys.readouterr().out
    assert "against full" in out and "to best val" in out
    vs = [line for line in out.splitlines() if line.startswith("ibmb-node") and "points" in line]
    assert len(vs) == 1
    doc = json.loads(js.read_text())
    assert doc["command"] == "bench" and doc["baseline"] == "full" and doc["dataset"]["num_nodes"] == 1500
    assert doc["config"]["epochs"] == 4 and doc["machine"]["cpus"] >= 1
    by = {m["method"]: m for m in doc["methods"]}
    assert set(by) == {"full", "ibmb-node"}
    for m in by.values():
        assert m["available"] and m["seeds"] == 2 and len(m["test_accs"]) == 2
        assert math.isclose(m["test_acc"], sum(m["test_accs"]) / 2)
        assert m["test_acc_std"] >= 0 and m["config"]["num_nodes_per_batch"] == 64
        for k in ("epoch_s", "time_to_best_val_s", "infer_s", "preprocess_s"):
            assert m[k] > 0, k
        assert m["peak_train_bytes"] >= 0 and 1 <= m["best_epoch"] <= m["epochs"] <= 4
        assert len(m["val_curve"]) == m["epochs"]
    d = 100 * (by["ibmb-node"]["test_acc"] - by["full"]["test_acc"])
    assert f"{d:+.2f} points" in vs[0]


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
