"""oneinit's MXNet initializers against MXNet's own initializer of the same scheme.

A plain script, not a test (run it in the MXNet venv):

    python benchmarks/bench_mxnet.py --elements 16M --repeats 15

For each scheme it fills one preallocated float32 NDArray of ``--elements`` elements (a square
``(n, n)`` weight on ``cpu(0)``) through the initializer call Gluon makes,
``init(mx.init.InitDesc(name, {"__init__": init}), arr)``, then ``arr.wait_to_read()`` (MXNet
runs its operators asynchronously). Three fills run in turn, in a rotating order, ``--repeats``
times after a warm-up:

- **native**: oneinit with ``seed=None`` (MXNet's RNG, the core's bounds and std);
- **mxnet**: MXNet's own initializer of the same distribution (``Xavier`` with the matching
  ``rnd_type``/``factor_type``/``magnitude``, ``Uniform``, ``Normal``; MXNet has no truncated
  normal, so truncated rows compare with its untruncated ``Xavier`` of the same variance);
- **portable**: oneinit with ``seed=int`` (the core's Philox values computed on the host with
  ``ONEINIT_NUM_THREADS`` threads, then copied into the array).

The table shows median times and the medians of the per-repeat ratios native/mxnet (goal <=
1.05) and portable/mxnet, which drifts in the machine's load affect least. ``--json`` writes
the rows to a file.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import mxnet as mx

import oneinit
from oneinit.adapters import mxnet as oim

SUFFIXES = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30}


@dataclass(frozen=True)
class Case:
    """A oneinit scheme and MXNet's own initializer of the same distribution."""

    name: str
    scheme: oneinit.Scheme
    mxnet: Callable[[], Any]
    note: str = ""


CASES = [
    Case("glorot_uniform", oneinit.GlorotUniform(), lambda: mx.init.Xavier("uniform", "avg", 3)),
    Case("he_uniform", oneinit.HeUniform(), lambda: mx.init.Xavier("uniform", "in", 6)),
    Case("he_normal", oneinit.HeNormal(), lambda: mx.init.Xavier("gaussian", "in", 2)),
    Case("uniform", oneinit.Uniform(-0.07, 0.07), lambda: mx.init.Uniform(0.07)),
    Case("normal", oneinit.Normal(0.0, 0.01), lambda: mx.init.Normal(0.01)),
    Case(
        "he_truncated_normal",
        oneinit.HeNormal(distribution="truncated_normal"),
        lambda: mx.init.Xavier("gaussian", "in", 2),
        "MXNet has no truncated normal: compared with its untruncated normal",
    ),
]


def parse_size(text: str) -> int:
    number, suffix = text[:-1] if text[-1:].isalpha() else text, text[-1:].upper()
    if not text[-1:].isalpha():
        return int(text)
    return int(float(number) * SUFFIXES[suffix])


def fill_seconds(init: Any, arr: Any) -> float:
    desc = mx.init.InitDesc("bench_weight", {"__init__": init})
    mx.nd.waitall()
    start = time.perf_counter()
    init(desc, arr)
    arr.wait_to_read()
    return time.perf_counter() - start


def run_case(case: Case, shape: tuple[int, int], repeats: int) -> dict[str, Any]:
    arr = mx.nd.zeros(shape, ctx=mx.cpu(0))
    fills = {
        "native": oim.Initializer(case.scheme),
        "mxnet": case.mxnet(),
        "portable": oim.Initializer(case.scheme, seed=0),
    }
    for init in fills.values():  # warm-up: operator caches, thread pools, page faults
        fill_seconds(init, arr)
    times: dict[str, list[float]] = {name: [] for name in fills}
    order = list(fills)
    for repeat in range(repeats):
        # Rotate the order so that no fill always follows the same one (caches, clocks).
        for name in order[repeat % 3 :] + order[: repeat % 3]:
            times[name].append(fill_seconds(fills[name], arr))
    ratios = {
        name: statistics.median(a / b for a, b in zip(times[name], times["mxnet"], strict=True))
        for name in ("native", "portable")
    }
    return {
        "scheme": case.name,
        "elements": math.prod(shape),
        **{f"{name}_ms": 1e3 * statistics.median(t) for name, t in times.items()},
        "native_over_mxnet": ratios["native"],
        "portable_over_mxnet": ratios["portable"],
        "note": case.note,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--elements", default="16M", help="elements per array (16M, 1M, ...)")
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--json", type=Path, default=None, help="also write the rows here")
    args = parser.parse_args()
    side = math.isqrt(parse_size(args.elements))
    shape = (side, side)
    print(
        f"mxnet {mx.__version__}, {os.cpu_count()} CPUs, "
        f"ONEINIT_NUM_THREADS={os.environ.get('ONEINIT_NUM_THREADS', 'default')}, "
        f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'default')}, "
        f"shape={shape} float32 on cpu(0), {args.repeats} repeats (medians)"
    )
    header = f"{'scheme':<20} {'native ms':>10} {'mxnet ms':>10} {'portable ms':>12} "
    header += f"{'native/mxnet':>13} {'portable/mxnet':>15}"
    print(header)
    rows = []
    for case in CASES:
        row = run_case(case, shape, args.repeats)
        rows.append(row)
        print(
            f"{row['scheme']:<20} {row['native_ms']:>10.1f} {row['mxnet_ms']:>10.1f} "
            f"{row['portable_ms']:>12.1f} {row['native_over_mxnet']:>13.3f} "
            f"{row['portable_over_mxnet']:>15.2f}" + (f"  ({row['note']})" if row["note"] else "")
        )
    goal = all(r["native_over_mxnet"] <= 1.05 for r in rows if not r["note"])
    print(f"goal native/mxnet <= 1.05 on every comparable row: {'met' if goal else 'NOT met'}")
    if args.json is not None:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
