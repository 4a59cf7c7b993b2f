"""The shape of ibmb.train: the method registry and protocol, Config fields
as command-line flags, and a method added from outside the package."""
from __future__ import annotations

import dataclasses
import math

import pytest
import torch

from ibmb import data as D
from ibmb.train import Config, DataSpec, methods
from ibmb.train.config import add_flags, from_args
from ibmb.train.methods.base import REGISTRY, BaseMethod, InferenceBatches, Method


@pytest.fixture(scope="module")
def tiny():
    return D.load("default", num_nodes=600, num_features=8, num_classes=3, homophily=0.8, separation=1.0)


def test_every_registered_method_is_a_method(tiny):
    cfg = Config(progress=False)
    for name in methods.names():
        cls = methods.get(name)
        assert cls.name == name and isinstance(cls.uses_edge_weight, bool)
        assert isinstance(cls(tiny, cfg), Method), name
        assert cls.unavailable() is None or "install" in cls.unavailable()
    with pytest.raises(ValueError, match="unknown method 'magic'; choose from full, ibmb-node"):
        methods.get("magic")


def test_config_flags_round_trip():
    import argparse

    p = argparse.ArgumentParser()
    add_flags(p, DataSpec)
    add_flags(p, Config)
    args = p.parse_args(["--aux", "7", "--outputs-per-batch", "9", "--model", "sage", "--quiet", "--nodes", "50",
                         "--homophily", "0.25"])
    cfg, spec = from_args(Config, args), from_args(DataSpec, args)
    assert (cfg.num_auxiliary_nodes, cfg.num_nodes_per_batch, cfg.model, cfg.progress) == (7, 9, "sage", False)
    assert (spec.nodes, spec.homophily) == (50, 0.25)
    # Every field but the per-run seed has exactly one flag; defaults come from the dataclass.
    flags = [f for f in dataclasses.fields(Config) if f.metadata.get("flag")]
    assert {f.name for f in dataclasses.fields(Config)} - {f.name for f in flags} == {"seed"}
    assert from_args(Config, p.parse_args([])) == Config()
    with pytest.raises(SystemExit):
        p.parse_args(["--eps", "0"])


class TinyFull(BaseMethod):
    """A method defined outside the package: full batch without weights."""

    name = "tiny-full"

    def prepare(self) -> str:
        self.train_idx = self.data.train_mask.nonzero().view(-1)
        return "outside"

    def train_batches(self):
        return [self.data]

    def targets(self, batch):
        return self.train_idx, batch.y[self.train_idx]

    def make_inference_batches(self, mask, path):
        return InferenceBatches([self.data], "whole graph", 1)

    def outputs(self, batch):
        idx = self._mask.nonzero().view(-1)
        return idx, idx

    def inference_batches(self, mask, path=None):
        self._mask = mask
        return super().inference_batches(mask, path)


def test_a_new_method_is_one_class_and_one_registry_line(tiny, monkeypatch):
    from ibmb.train import run

    monkeypatch.setitem(REGISTRY, "tiny-full", "test_train_methods:TinyFull")
    (r,) = run(["tiny-full"], tiny, Config(epochs=20, patience=20, progress=False))
    assert r.method == "tiny-full" and r.note == "outside" and r.test_acc > 0.6
    assert len(r.val_curve) == 20 and 1 <= r.best_epoch <= 20


def test_targets_and_outputs_of_ibmb_batches(tiny):
    m = methods.create("ibmb-batch", tiny, Config(num_nodes_per_batch=64, progress=False))
    m.prepare()
    seen = []
    for b in m.train_batches():
        rows, y = m.targets(b)
        assert torch.equal(y, tiny.y[b.n_id[rows]])  # the outputs are the first batch_size rows
        seen.append(b.n_id[rows])
    assert torch.equal(torch.sort(torch.cat(seen)).values, tiny.train_mask.nonzero().view(-1))
    ib = m.inference_batches(tiny.test_mask)
    assert isinstance(ib.batches, __import__("ibmb").IBMBBatchLoader) and ib.count == len(list(ib))
    ids = torch.cat([m.outputs(b)[1] for b in ib])
    assert torch.equal(torch.sort(ids).values, tiny.test_mask.nonzero().view(-1))
    assert m.inference_batches(tiny.test_mask) is ib  # cached per mask
    with pytest.raises(ValueError, match="no saved batches"):
        methods.create("full", tiny, Config()).inference_batches(tiny.test_mask, "x.ibmb")


def test_time_to_best_validation_is_read_off_the_curve(tiny):
    from ibmb.train import train_eval

    r = train_eval("ibmb-node", tiny, Config(epochs=12, patience=12, num_nodes_per_batch=64, progress=False))
    times = [t for t, _ in r.val_curve]
    accs = [a for _, a in r.val_curve]
    assert times == sorted(times) and times[0] >= r.preprocess_s
    first_best = accs.index(max(accs))
    assert r.best_epoch == first_best + 1 and r.val_acc == max(accs)
    assert math.isclose(r.time_to_best_val_s, times[first_best])
    assert r.train_s >= times[-1] - r.preprocess_s - 1e-6
