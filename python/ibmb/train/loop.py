"""The training loop every method shares, following the IBMB paper: Adam,
learning rate reduced on a plateau of the validation accuracy, early stopping
on validation accuracy (the weights of the best validation epoch are kept),
then one inference pass over the test nodes. What differs between methods is
behind :class:`ibmb.train.methods.Method`.
"""
from __future__ import annotations

import copy
import random
import time
from typing import Any, Callable, Iterable, Optional, Union

import numpy as np

from ibmb.train.config import Config
from ibmb.train.measure import PeakMemory, Result, Stopwatch, ValCurve, progress_bar, sync
from ibmb.train.methods import BaseMethod, Unavailable, create

__all__ = ["train_eval", "run", "evaluate", "seed_everything", "accuracy"]


def seed_everything(seed: int) -> None:
    """Seed Python's, numpy's and torch's generators."""
    import torch

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def accuracy(pred: Any, y: Any) -> float:
    """Share of ``pred == y`` over the labelled (``y >= 0``) entries (NaN when none)."""
    keep = y >= 0
    return float((pred[keep] == y[keep]).float().mean().item()) if bool(keep.any()) else float("nan")


def evaluate(method: BaseMethod, model: Any, mask: Any, y: Any, path: Optional[str] = None) -> dict:
    """Predict the nodes of ``[N]`` bool ``mask`` with ``method``'s inference
    batches: ``{"acc", "ids", "pred", "prepare_s", "infer_s", "batches"}``
    (``prepare_s``: making the batches; ``infer_s``: the forward passes)."""
    t = time.perf_counter()
    batches = method.inference_batches(mask, path)
    prepare_s = time.perf_counter() - t
    t = time.perf_counter()
    ids, pred = method.predict(model, batches)
    sync(method.device)
    infer_s = time.perf_counter() - t
    return {"acc": accuracy(pred, y[ids]), "ids": ids, "pred": pred, "prepare_s": prepare_s, "infer_s": infer_s,
            "batches": batches}


def _val_subset(mask: Any, n: int) -> Any:
    import torch

    if not n or int(mask.sum()) <= n:
        return mask
    idx = mask.nonzero().view(-1)
    keep = idx[torch.randperm(len(idx), generator=torch.Generator().manual_seed(12345))[:n]]
    out = torch.zeros_like(mask)
    out[keep] = True
    return out


def train_eval(method: Union[str, BaseMethod], data: Any, cfg: Config, *, num_classes: Optional[int] = None,
               log: Optional[Callable[[str], None]] = None) -> Result:
    """Train ``cfg.model`` with ``method``'s batches (a registered name or a
    method object) and measure it (see :class:`Result`). Raises
    :class:`ibmb.train.methods.Unavailable` for methods that cannot run here."""
    import torch

    seed_everything(cfg.seed)
    m = create(method, data, cfg) if isinstance(method, str) else method
    dev = cfg.device
    nc = int(num_classes or int(data.y.max()) + 1)
    res = Result(m.name, seeds=1)
    val_mask = _val_subset(data.val_mask, cfg.val_nodes)
    yv = data.y.cpu()
    with PeakMemory(dev) as mem:
        t = time.perf_counter()
        res.note = m.prepare()
        res.preprocess_s = time.perf_counter() - t
        model = m.build_model(data.x.shape[1], nc).to(dev)
        opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="max", factor=cfg.lr_factor,
                                                           patience=cfg.lr_patience)
        curve = ValCurve(start_s=res.preprocess_s)
        clock = Stopwatch(dev)
        best_state, since = None, 0
        epoch_times, loader_times = [], []
        bar = progress_bar(cfg.epochs, f"{m.name} ({cfg.model})", cfg.progress)
        for epoch in range(1, cfg.epochs + 1):
            model.train()
            waiting = 0.0
            with clock:
                it = iter(m.train_batches())
                while True:
                    tw = time.perf_counter()
                    b = next(it, None)
                    if b is None:
                        break
                    b = m.to_device(b)
                    waiting += time.perf_counter() - tw
                    m.train_step(model, b, opt)
            epoch_times.append(clock.last)
            loader_times.append(waiting)
            res.epochs = epoch
            stop = False
            if epoch % cfg.eval_every == 0 or epoch == cfg.epochs:
                model.eval()
                acc = evaluate(m, model, val_mask, yv)["acc"]
                sched.step(acc)
                if curve.add(epoch, clock.total, acc):
                    since = 0
                    best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
                else:
                    since += cfg.eval_every
                stop = since >= cfg.patience
                if bar is not None:
                    bar.set_postfix(val=f"{acc:.3f}", best=f"{curve.best_acc:.3f}")
            if bar is not None:
                bar.update(1)
            if stop:
                break
        if bar is not None:
            bar.close()
    res.peak_train_bytes = mem.peak
    if getattr(m, "validation_note", ""):  # where validation batches are not of the test batches' kind
        res.note = f"{res.note}; {m.validation_note}" if res.note else m.validation_note
    extra_note = getattr(m, "train_note", None)  # e.g. the history methods' rows and edges per epoch
    if callable(extra_note) and extra_note():
        res.note = f"{res.note}; {extra_note()}" if res.note else extra_note()
    res.val_acc, res.best_epoch, res.time_to_best_val_s = curve.best_acc, curve.best_epoch, curve.best_s
    res.val_curve = [list(p) for p in curve.points]
    res.train_s = clock.total
    res.epoch_s = float(np.median(epoch_times)) if epoch_times else float("nan")
    res.loader_s = float(np.median(loader_times)) if loader_times else float("nan")
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    # One pass over the test nodes; the time a method spends preparing its test batches (IBMB: PPR and the arena)
    # is reported apart.
    with PeakMemory(dev) as mem:
        ev = evaluate(m, model, data.test_mask, yv)
    res.infer_s, res.infer_preprocess_s = ev["infer_s"], ev["prepare_s"]
    res.peak_infer_bytes, res.cuda_peak_bytes = mem.peak, mem.cuda_peak
    want = data.test_mask.nonzero().view(-1)
    if not torch.equal(torch.sort(ev["ids"]).values, want):
        raise RuntimeError(f"{m.name}: inference covered {len(ev['ids'])} nodes, the test set has {len(want)}")
    res.test_acc = ev["acc"]
    res.test_acc_std, res.test_accs = 0.0, [res.test_acc]
    res.extra["model"] = model
    if log:
        log(f"{m.name}: test acc {res.test_acc:.4f} (val {res.val_acc:.4f} after {res.best_epoch} of {res.epochs} "
            f"epochs, {res.time_to_best_val_s:.1f} s to best val)")
    return res


def _aggregate(runs: list[Result]) -> Result:
    """One Result of several seeds: accuracies averaged (and their standard
    deviation), times medians, memory maxima, the first seed's curve."""
    r = copy.copy(runs[0])
    accs = [x.test_acc for x in runs]
    r.test_acc, r.test_acc_std, r.test_accs, r.seeds = float(np.mean(accs)), float(np.std(accs)), accs, len(runs)
    r.val_acc = float(np.mean([x.val_acc for x in runs]))
    for k in ("preprocess_s", "epoch_s", "loader_s", "train_s", "time_to_best_val_s", "infer_s",
              "infer_preprocess_s"):
        setattr(r, k, float(np.median([getattr(x, k) for x in runs])))
    for k in ("peak_train_bytes", "peak_infer_bytes", "cuda_peak_bytes"):
        setattr(r, k, max(getattr(x, k) for x in runs))
    r.extra = {"model": runs[-1].extra.get("model")}
    return r


def run(methods: Iterable[str], data: Any, cfg: Config, seeds: Iterable[int] = (0,),
        log: Optional[Callable[[str], None]] = None) -> list[Result]:
    """Run every method with every seed; one :class:`Result` per method (see
    :func:`_aggregate`). Methods that cannot run here get a Result whose
    ``note`` is "unavailable: <reason>; install: ..." and NaN figures."""
    out = []
    for name in methods:
        runs = []
        try:
            for s in seeds:
                c = copy.copy(cfg)
                c.seed = int(s)
                runs.append(train_eval(name, data, c, log=log))
        except Unavailable as e:
            out.append(Result(name, note=f"unavailable: {e}"))
            if log:
                log(f"{name}: unavailable: {e}")
            continue
        out.append(_aggregate(runs))
    return out
