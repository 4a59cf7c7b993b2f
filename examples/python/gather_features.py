"""Gather mini-batch features with ibmb instead of ``x[batch]``.

Generates the built-in default graph, then streams random batches of node
features into one reused output buffer, the way a training loop would feed
a model. Run: ``python examples/python/gather_features.py``.
"""
import time

import torch

import ibmb

data = ibmb.datasets.csbm(num_nodes=200_000, num_features=128).to_pyg()
batch_size, steps = 8192, 100
out = torch.empty(batch_size, data.num_features)

start = time.perf_counter()
for _ in range(steps):
    batch = torch.randint(0, data.num_nodes, (batch_size,))
    ibmb.gather(data.x, batch, out=out)  # == data.x[batch], into a reused buffer
    assert out.shape == (batch_size, data.num_features)
elapsed = time.perf_counter() - start
moved = steps * batch_size * data.num_features * 4
print(f"{steps} batches of {batch_size} rows: {moved / elapsed / 1e9:.2f} GB/s")
print("last batch matches x[batch]:", torch.equal(out, data.x[batch]))
