"""oneinit's Paddle initializers against Paddle's own initializer of the same scheme.

A plain script, not a test (run it in the Paddle venv):

    python benchmarks/bench_paddle.py --elements 16M --repeats 15

For each scheme it times three initializers on a float32 ``(n, n)`` weight of ``--elements``
elements on Paddle's current device (the CPU here), in two situations:

- **reinit**: re-initialize an existing parameter, ``init(param)`` (oneinit writes in place;
  Paddle's own initializers allocate a new tensor and hand its memory to the parameter);
- **create**: create a parameter with the initializer, ``paddle.create_parameter(shape,
  "float32", default_initializer=init)`` (what ``ParamAttr(initializer=...)`` does).

The three initializers:

- **native**: oneinit with ``seed=None`` (Paddle's generator, the core's bounds and std);
- **paddle**: Paddle's own initializer of the same distribution (``KaimingUniform``,
  ``KaimingNormal``, ``XavierUniform``, ``TruncatedNormal`` with value-unit bounds, ...);
- **portable**: oneinit with ``seed=int`` (the core's Philox values computed on the host with
  ``ONEINIT_NUM_THREADS`` threads, then handed to Paddle).

They run in turn, in a rotating order, ``--repeats`` times after a warm-up; on GPU devices each
timing ends with a device synchronization. The table shows median times and the medians of the
per-repeat ratios native/paddle (goal <= 1.05) and portable/paddle, which drifts in the
machine's load affect least. ``--json`` writes the rows to a file.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="No ccache found", category=UserWarning)
    import paddle

import oneinit
from oneinit.adapters import paddle as oip

SUFFIXES = {"K": 2**10, "M": 2**20, "G": 2**30}
PI = paddle.nn.initializer


@dataclass(frozen=True)
class Case:
    """One row: a oneinit scheme and Paddle's own initializer of the same distribution."""

    name: str
    scheme: oneinit.Scheme
    paddle: Callable[[], Any]


CASES = [
    Case("he_uniform", oneinit.HeUniform(), lambda: PI.KaimingUniform()),
    Case("he_normal", oneinit.HeNormal(), lambda: PI.KaimingNormal()),
    Case("glorot_uniform", oneinit.GlorotUniform(), lambda: PI.XavierUniform()),
    Case("glorot_normal", oneinit.GlorotNormal(), lambda: PI.XavierNormal()),
    Case("uniform", oneinit.Uniform(-0.05, 0.05), lambda: PI.Uniform(-0.05, 0.05)),
    Case("normal", oneinit.Normal(0.0, 0.02), lambda: PI.Normal(0.0, 0.02)),
    Case(
        "truncated_normal",
        oneinit.TruncatedNormal(0.0, 0.02, -0.04, 0.04, units="absolute"),
        lambda: PI.TruncatedNormal(0.0, 0.02, -0.04, 0.04),
    ),
    Case("constant", oneinit.Constant(0.1), lambda: PI.Constant(0.1)),
]


def parse_size(text: str) -> int:
    suffix = text[-1:].upper()
    if suffix in SUFFIXES:
        return int(float(text[:-1]) * SUFFIXES[suffix])
    return int(text)


def synchronize() -> None:
    if not paddle.device.get_device().startswith("cpu"):
        paddle.device.synchronize()


def reinit_seconds(init: Any, param: Any) -> float:
    synchronize()
    start = time.perf_counter()
    init(param)
    synchronize()
    return time.perf_counter() - start


def create_seconds(init: Any, shape: list[int]) -> float:
    synchronize()
    start = time.perf_counter()
    param = paddle.create_parameter(shape, "float32", default_initializer=init)
    synchronize()
    elapsed = time.perf_counter() - start
    del param
    return elapsed


def run_case(case: Case, shape: list[int], situation: str, repeats: int) -> dict[str, Any]:
    fills = {
        "native": oip.Initializer(case.scheme),
        "paddle": case.paddle(),
        "portable": oip.Initializer(case.scheme, seed=0),
    }
    param = paddle.create_parameter(shape, "float32")
    if situation == "reinit":

        def timed(init: Any) -> float:
            return reinit_seconds(init, param)
    else:

        def timed(init: Any) -> float:
            return create_seconds(init, shape)

    for init in fills.values():  # warm-up: kernels, thread pools, page faults
        timed(init)
    times: dict[str, list[float]] = {name: [] for name in fills}
    order = list(fills)
    for repeat in range(repeats):
        # Rotate the order so that no fill always follows the same one (caches, allocator).
        for name in order[repeat % 3 :] + order[: repeat % 3]:
            times[name].append(timed(fills[name]))
    ratios = {
        name: statistics.median(a / b for a, b in zip(times[name], times["paddle"], strict=True))
        for name in ("native", "portable")
    }
    return {
        "scheme": case.name,
        "situation": situation,
        "elements": math.prod(shape),
        **{f"{name}_ms": 1e3 * statistics.median(t) for name, t in times.items()},
        "native_over_paddle": ratios["native"],
        "portable_over_paddle": ratios["portable"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--elements", default="16M", help="elements per weight (16M, 1M, ...)")
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--situations", nargs="+", default=["reinit", "create"])
    parser.add_argument("--schemes", nargs="+", default=[c.name for c in CASES])
    parser.add_argument("--json", type=Path, default=None, help="also write the rows here")
    args = parser.parse_args()
    side = math.isqrt(parse_size(args.elements))
    shape = [side, side]
    print(
        f"paddle {getattr(paddle, '__version__', '?')} on {paddle.device.get_device()}, "
        f"{os.cpu_count()} CPUs, "
        f"ONEINIT_NUM_THREADS={os.environ.get('ONEINIT_NUM_THREADS', 'default')}, "
        f"shape={tuple(shape)} float32, {args.repeats} repeats (medians)"
    )
    header = f"{'scheme':<18} {'situation':<9} {'native ms':>10} {'paddle ms':>10} "
    header += f"{'portable ms':>12} {'native/paddle':>14} {'portable/paddle':>16}"
    print(header)
    rows = []
    for case in CASES:
        if case.name not in args.schemes:
            continue
        for situation in args.situations:
            row = run_case(case, shape, situation, args.repeats)
            rows.append(row)
            print(
                f"{row['scheme']:<18} {situation:<9} {row['native_ms']:>10.1f} "
                f"{row['paddle_ms']:>10.1f} {row['portable_ms']:>12.1f} "
                f"{row['native_over_paddle']:>14.3f} {row['portable_over_paddle']:>16.2f}",
                flush=True,
            )
    goal = all(r["native_over_paddle"] <= 1.05 for r in rows)
    print(f"goal native/paddle <= 1.05 on every row: {'met' if goal else 'NOT met'}")
    if args.json is not None:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
