"""argparse ``type=`` validators of the ``ibmb`` command: a bad value is an
argparse error (usage, one line naming the option, exit status 2), never a
traceback after the data has loaded."""
from __future__ import annotations

import argparse
import math
from typing import Any, Optional


def int_type(lo: Optional[int] = None, hi: Optional[int] = None, what: str = "") -> Any:
    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if (lo is not None and v < lo) or (hi is not None and v > hi):
            raise argparse.ArgumentTypeError(f"{v} is not {what}")
        return v

    parse.__name__ = "integer"
    return parse


def float_type(lo: float, hi: float = float("inf"), lo_open: bool = False, hi_open: bool = False,
                what: str = "") -> Any:
    def parse(text: str) -> float:
        try:
            v = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        ok = math.isfinite(v) and (v > lo if lo_open else v >= lo) and (v < hi if hi_open else v <= hi)
        if not ok:
            raise argparse.ArgumentTypeError(f"{text} is not {what}")
        return v

    parse.__name__ = "number"
    return parse


positive_int = int_type(1, what="a positive integer")
nonneg_int = int_type(0, what="an integer >= 0")
seed_int = int_type(0, 2**63 - 1, what="a seed in [0, 2**63)")
positive_float = float_type(0.0, lo_open=True, what="a positive finite number")
nonneg_float = float_type(0.0, what="a finite number >= 0")
probability = float_type(0.0, 1.0, what="in [0, 1]")
open_unit = float_type(0.0, 1.0, lo_open=True, hi_open=True, what="in (0, 1)")
dropout_rate = float_type(0.0, 1.0, hi_open=True, what="in [0, 1)")


def method_list(text: str) -> list:
    from ibmb.train import METHODS

    if text == "all":
        return list(METHODS)
    methods = [m.strip() for m in text.split(",") if m.strip()]
    bad = [m for m in methods if m not in METHODS]
    if bad or not methods:
        raise argparse.ArgumentTypeError(f"unknown method(s) {', '.join(map(repr, bad)) or repr(text)}; choose from "
                                         f"{', '.join(METHODS)} or 'all'")
    return methods


def device_name(text: str) -> str:
    kind, _, idx = text.partition(":")
    if kind == "cpu" and not idx or kind == "cuda" and (not idx or idx.isdigit()):
        return text
    raise argparse.ArgumentTypeError(f"{text!r} is not a device: use cpu, cuda or cuda:N")
