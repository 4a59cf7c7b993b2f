"""ibmb's IBMB loaders inside your own PyG training loop.

Trains a 2-layer GCN on the built-in generated graph (no download) with
node-wise IBMB batches for training and for inference on the test nodes:

    python examples/python/train_loop.py [--nodes 50000]
"""
import argparse
import time

import torch
import torch.nn.functional as F
from torch_geometric.nn import GCNConv

import ibmb
from ibmb import IBMBNodeLoader

p = argparse.ArgumentParser()
p.add_argument("--nodes", type=int, default=50_000)
p.add_argument("--epochs", type=int, default=30)
args = p.parse_args()

data = ibmb.data.load("default", num_nodes=args.nodes)   # Data(x, edge_index, y, train/val/test masks)

t = time.perf_counter()
# add_self_loops + sym weights: what GCNConv(normalize=False) expects.
train_loader = IBMBNodeLoader(data, "order", data.train_mask, num_auxiliary_nodes=16, num_nodes_per_batch=512,
                              alpha=0.25, eps=2e-4, add_self_loops=True, batch_size=1)
test_loader = IBMBNodeLoader(data, None, data.test_mask, num_auxiliary_nodes=16, num_nodes_per_batch=2048,
                             alpha=0.25, eps=2e-4, add_self_loops=True, batch_size=1)
print(f"preprocessing: {time.perf_counter() - t:.2f} s, {train_loader}")


class GCN(torch.nn.Module):
    def __init__(self, cin, hidden, cout):
        super().__init__()
        self.c1 = GCNConv(cin, hidden, normalize=False)
        self.c2 = GCNConv(hidden, cout, normalize=False)

    def forward(self, x, edge_index, edge_weight):
        x = F.relu(self.c1(F.dropout(x, 0.5, self.training), edge_index, edge_weight))
        return self.c2(F.dropout(x, 0.5, self.training), edge_index, edge_weight)


model = GCN(data.num_features, 64, int(data.y.max()) + 1)
opt = torch.optim.Adam(model.parameters(), lr=0.01, weight_decay=5e-4)
for epoch in range(args.epochs):
    model.train()
    t = time.perf_counter()
    for batch in train_loader:
        opt.zero_grad()
        out = model(batch.x, batch.edge_index, batch.edge_weight)[:batch.batch_size]   # outputs come first
        loss = F.cross_entropy(out, batch.y[:batch.batch_size])
        loss.backward()
        opt.step()
    if epoch % 10 == 9:
        print(f"epoch {epoch + 1}: loss {loss.item():.3f}, {time.perf_counter() - t:.2f} s")

model.eval()
correct = total = 0
t = time.perf_counter()
with torch.no_grad():
    for batch in test_loader:
        pred = model(batch.x, batch.edge_index, batch.edge_weight)[:batch.batch_size].argmax(-1)
        correct += int((pred == batch.y[:batch.batch_size]).sum())
        total += batch.batch_size
print(f"test accuracy {correct / total:.4f} over {total} nodes, inference {time.perf_counter() - t:.2f} s")
