"""Compute floors on small graphs: how fast could *any* mini-batching method
be, against NeighborLoader measured in the same run (issue 5's speed targets).

The issue asks inference over all test nodes >= 20x faster than
full-neighbourhood NeighborLoader and a training epoch <= 0.5x NeighborLoader's.
On small graphs the model's own arithmetic bounds every method. This script
times, for the benchmark's GCN (2 layers, hidden 64) on the CPU:

- NeighborLoader inference over the test nodes (full neighbourhood, 1024 seeds
  per batch) and a NeighborLoader training epoch (fanout 10 per layer, 256
  seeds per batch), as in benchmarks/bench_train.py;
- the floor for inference: one forward pass over the test nodes alone, no
  edges (a 2-layer GCN needs at least that: every test node's features go
  through both layers), and over the test nodes with their one-hop
  neighbourhood (what the second layer reads);
- the floor for an epoch: one forward + backward pass over the training nodes
  alone, and with their one-hop neighbourhood.

If a floor is above the target time (NeighborLoader's / 20, or / 2), no
batching can meet the target with this model on this machine.

    python benchmarks/bench_floor.py --datasets cora,twitch
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_gather import timeit as median_time  # noqa: E402  (median of repeats after a warm-up)
from bench_train import load  # noqa: E402  (same datasets, same splits)


def hop(data, nodes: torch.Tensor) -> torch.Tensor:
    """nodes and their one-hop neighbours (sorted, distinct)."""
    m = torch.zeros(data.num_nodes, dtype=torch.bool)
    m[nodes] = True
    src, dst = data.edge_index
    m[src[m[dst]]] = True
    return m.nonzero().view(-1)


def main() -> int:
    from torch_geometric.loader import NeighborLoader
    from torch_geometric.utils import subgraph

    from ibmb import train as T

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--datasets", default="cora,twitch")
    p.add_argument("--reps", type=int, default=7)
    p.add_argument("--nodes", type=int, default=100_000)  # for "default"
    p.add_argument("--homophily", type=float, default=0.6)
    p.add_argument("--separation", type=float, default=0.3)
    args = p.parse_args()
    print(f"# machine: {platform.node()}, {os.cpu_count()} cores, torch {torch.__version__} "
          f"({torch.get_num_threads()} threads)")
    print("| graph | NL inference | target (/20) | floor: test nodes | floor: + 1-hop | NL epoch | target (/2) | "
          "floor: train nodes | floor: + 1-hop |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name in args.datasets.split(","):
        data = load(name, args)
        torch.manual_seed(0)
        ncls = int(data.y.max()) + 1
        model = T.build_model("gcn", data.x.shape[1], 64, ncls, 2, 0.5)
        opt = torch.optim.Adam(model.parameters(), lr=0.01)
        test = data.test_mask.nonzero().view(-1)
        train = data.train_mask.nonzero().view(-1)

        # The subgraphs are cut outside the timed region: the floors are the model's arithmetic alone.
        def floor(nodes: torch.Tensor, backward: bool, edges: bool = True) -> float:
            ei = subgraph(nodes, data.edge_index, relabel_nodes=True, num_nodes=data.num_nodes)[0] if edges \
                else torch.empty(2, 0, dtype=torch.long)
            x, y = data.x[nodes], data.y[nodes].clamp(min=0)

            def step():
                if backward:
                    model.train()
                    opt.zero_grad()
                    torch.nn.functional.cross_entropy(model(x, ei, None), y).backward()
                    opt.step()
                else:
                    model.eval()
                    with torch.no_grad():
                        model(x, ei, None)
            return median_time(step, args.reps)

        def nl_infer() -> None:
            model.eval()
            with torch.no_grad():
                for b in NeighborLoader(data, num_neighbors=[-1, -1], input_nodes=test, batch_size=1024):
                    model(b.x, b.edge_index, None)

        def nl_epoch() -> None:
            model.train()
            for b in NeighborLoader(data, num_neighbors=[10, 10], input_nodes=train, batch_size=256, shuffle=True):
                opt.zero_grad()
                out = model(b.x, b.edge_index, None)[:b.batch_size]
                torch.nn.functional.cross_entropy(out, b.y[:b.batch_size].clamp(min=0)).backward()
                opt.step()

        nli, nle = median_time(nl_infer, args.reps), median_time(nl_epoch, args.reps)
        test1, train1 = hop(data, test), hop(data, train)
        ti, ti1 = floor(test, False, edges=False), floor(test1, False)
        te, te1 = floor(train, True, edges=False), floor(train1, True)
        ms = lambda s: f"{1000 * s:.2f} ms"  # noqa: E731
        print(f"| {name} ({len(test)} test, {len(test1)} with 1-hop; {len(train)} train, "
              f"{len(train1)} with 1-hop) | {ms(nli)} | {ms(nli / 20)} | {ms(ti)} | {ms(ti1)} | "
              f"{ms(nle)} | {ms(nle / 2)} | {ms(te)} | {ms(te1)} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
