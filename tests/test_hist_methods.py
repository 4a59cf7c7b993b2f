"""The history methods (ibmb-node-hist, ibmb-batch-hist, gas) in the jobs,
Â·X in the first layer, and validation measured the way test is (issue 14,
items 5 and 6)."""
from __future__ import annotations

import pytest
import torch

import ibmb.nn as inn
from ibmb import data as D
from ibmb import train as T
from ibmb.cli import main
from ibmb.train import methods

HIST = ("ibmb-node-hist", "ibmb-batch-hist", "gas")


@pytest.fixture(scope="module")
def tiny():
    return D.load("default", num_nodes=800, num_features=8, num_classes=3, homophily=0.8, separation=1.0)


def _cfg(**kw) -> T.Config:
    base = dict(epochs=8, patience=8, num_nodes_per_batch=32, hidden=16, progress=False, cluster_parts=8)
    base.update(kw)
    return T.Config(**base)


@pytest.mark.parametrize("name", HIST)
def test_history_methods_train_and_cover_the_test_set(tiny, name):
    r = T.train_eval(name, tiny, _cfg())
    assert r.method == name and r.test_acc > 0.6, (r.test_acc, r.note)
    assert "halo + histories" in r.note and "rows" in r.note and "edges" in r.note
    m = methods.create(name, tiny, _cfg())
    m.prepare()
    seen, exact = [], 0
    for b in m.train_batches():
        k = int(b.num_exact)
        rows, y = m.targets(b)
        assert torch.equal(y, tiny.y[b.n_id[rows]])  # labels of the rows trained on
        assert bool(tiny.train_mask[b.n_id[rows]].all())
        seen.append(b.n_id[rows])
        # every in-edge of an exact node is in the batch; none enters a halo node
        assert int(b.edge_index[1].max()) < k and b.n_id.shape[0] >= k
        exact += k
    assert torch.equal(torch.sort(torch.cat(seen)).values, tiny.train_mask.nonzero().view(-1))
    if name == "gas":  # GAS computes every node once per epoch
        assert exact == tiny.num_nodes


def test_evaluation_is_exact_whatever_the_batches(tiny):
    """Validation and test are the model's layer-wise inference: the full-batch forward of the same weights."""
    m = methods.create("ibmb-node-hist", tiny, _cfg())
    m.prepare()
    model = m.build_model(tiny.num_features, 3)
    ids, pred = m.predict(model, m.inference_batches(tiny.val_mask))
    ei, ew = m.halo.full()
    with torch.no_grad():
        ref = model.eval()(tiny.x, ei, ew).argmax(-1)
    assert torch.equal(ids, tiny.val_mask.nonzero().view(-1)) and torch.equal(pred, ref[ids])


def test_aggregated_features_give_the_full_graph_first_layer(tiny, rng):
    """GCN fed Â·X (its first layer on the exact rows only) equals GCN on X with the same weights."""
    m = methods.create("gas", tiny, _cfg(agg_features=True))
    plain = inn.GCN(tiny.num_nodes, tiny.num_features, 16, 3)
    agg = inn.GCN(tiny.num_nodes, tiny.num_features, 16, 3, aggregated_input=True)
    agg.load_state_dict(plain.state_dict())
    ei, ew = m.halo.full()
    with torch.no_grad():
        ref = plain.eval()(tiny.x, ei, ew)
        full = agg.eval()(m.x_in, ei, ew)
    out = agg.inference(m.x_in, m.halo, num_nodes_per_batch=int(rng.integers(50, 300)))
    assert (full - ref).abs().max() < 1e-4 and (out - ref).abs().max() < 1e-4
    # a batch with its halo: layer 1 needs no halo rows, layer 2 pulls them from the (now exact) histories
    b = m.halo(torch.from_numpy(rng.choice(tiny.num_nodes, 100, replace=False)))
    with torch.no_grad():
        got = agg(m.x_in[b.n_id], b.edge_index, b.edge_weight, n_id=b.n_id, num_exact=b.num_exact)
    assert (got[:100] - ref[b.n_id[:100]]).abs().max() < 1e-4
    # only the exact rows of Â·X: the same outputs (the halo's input rows are never read)
    with torch.no_grad():
        exact_only = agg(m.x_in[b.n_id[:100]], b.edge_index, b.edge_weight, n_id=b.n_id, num_exact=b.num_exact)
    assert torch.equal(exact_only[:100], got[:100])
    with pytest.raises((IndexError, ValueError)):  # neither all rows nor the exact ones
        agg(m.x_in[b.n_id[:99]], b.edge_index, b.edge_weight, n_id=b.n_id, num_exact=b.num_exact)
    node = methods.create("ibmb-node-hist", tiny, _cfg(agg_features=True))
    node.prepare()
    for hb in node.train_batches():  # the method's batches carry Â·X's exact rows only
        assert hb.x.shape[0] == int(hb.num_exact) < hb.n_id.shape[0]
    r = T.train_eval("ibmb-batch-hist", tiny, _cfg(agg_features=True))
    assert r.test_acc > 0.6 and "Â·X in layer 1" in r.note
    with pytest.raises(ValueError, match="--agg-features needs --model gcn"):
        methods.create("ibmb-node-hist", tiny, _cfg(agg_features=True, model="sage")).prepare()


@pytest.mark.parametrize("model", ["sage", "gat"])
def test_history_methods_train_the_jobs_other_models(tiny, model):
    r = T.train_eval("ibmb-node-hist", tiny, _cfg(model=model, epochs=4, patience=4))
    assert r.test_acc > 0.5


def test_train_bench_infer_commands(tmp_path, capsys):
    small = ["--nodes", "800", "--features", "8", "--classes", "3", "--quiet"]
    model = tmp_path / "m.pt"
    assert main(["train", *small, "--method", "ibmb-node-hist", "--epochs", "4", "--outputs-per-batch", "32",
                 "--agg-features", "--save-model", str(model)]) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.startswith("ibmb-node-hist "))
    acc = row.split()[1]
    assert main(["infer", *small, "--model-file", str(model)]) == 0
    out = capsys.readouterr().out
    assert "ibmb-node-hist (gcn)" in out and "exact layer-wise" in out
    assert next(line for line in out.splitlines() if "test accuracy" in line).split()[-1] == acc
    assert main(["infer", *small, "--model-file", str(model), "--batches", str(tmp_path / "x.ibmb")]) == 2
    assert "no saved batches" in capsys.readouterr().err
    assert main(["bench", *small, "--methods", "gas,ibmb-batch-hist", "--baseline", "gas", "--epochs", "3",
                 "--outputs-per-batch", "32", "--cluster-parts", "6"]) == 0
    out = capsys.readouterr().out
    assert "ibmb-batch-hist" in out and "against gas" in out


def test_batch_wise_validation_has_the_shape_of_test(tiny):
    """Item 6: a small validation set is cut by the test set's partition, so its batches are as large as test's
    (before: one part per 32 validation nodes, i.e. one part holding the whole graph here)."""
    few = torch.zeros_like(tiny.val_mask)
    few[tiny.val_mask.nonzero().view(-1)[:20]] = True
    for name in ("ibmb-batch",):
        m = methods.create(name, tiny, _cfg())
        val, test = list(m.inference_batches(few)), list(m.inference_batches(tiny.test_mask))
        assert len(test) > 1
        biggest_val, biggest_test = max(b.num_nodes for b in val), max(b.num_nodes for b in test)
        assert biggest_val <= biggest_test * 1.2, (biggest_val, biggest_test)
        ids = torch.cat([m.outputs(b)[1] for b in val])
        assert torch.equal(torch.sort(ids).values, few.nonzero().view(-1))
