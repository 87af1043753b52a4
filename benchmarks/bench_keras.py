"""Speed of the Keras adapter against Keras's own initializers, as ratios (not a test).

Run: ``KERAS_BACKEND=tensorflow python benchmarks/bench_keras.py [--repeat 9] [--side 4096]
[--json out.json]`` (any backend; the defaults fill 16M-element float32 tensors).

Each comparison times oneinit and Keras's own initializer of the same scheme alternately in one
run (pairs of calls after a warm-up, who goes first alternating) and reports the median of each
and the median of the per-pair ratios (oneinit / Keras: below 1 is faster). Every timed call ends
by reading one element of its result, which waits for asynchronous backends (JAX, GPUs) at the
cost of a one-scalar transfer. Machines are shared and noisy: compare ratios, not absolute times
across runs.

Sections:

1. native fills (``seed=None``) against Keras's own initializer (goal: ratio <= 1.05):
   uniform, untruncated normal, +-2 std truncated normal; plus the exact inverse-CDF truncated
   normal (other bounds) against Keras's +-2 std one, the nearest thing Keras has;
2. portable fills (``seed=int``) against Keras's own fill of the same distribution (reported);
3. orthogonal (native and portable) against ``keras.initializers.Orthogonal``.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

import keras

from oneinit.adapters import keras as oik

Result = dict[str, Any]


def _done(tensor: Any) -> None:
    """Wait for ``tensor`` by reading one element (async backends return before computing)."""
    corner = tensor[tuple(0 for _ in tensor.shape)]
    float(keras.ops.convert_to_numpy(corner))


def _timed(fill: Callable[[], Any]) -> float:
    start = time.perf_counter()
    _done(fill())
    return time.perf_counter() - start


def compare(
    name: str, ours: Callable[[], Any], theirs: Callable[[], Any], *, repeat: int, elements: int
) -> Result:
    """Median times and median per-pair ratio of ``ours`` against ``theirs``, interleaved."""
    _done(ours())
    _done(theirs())  # warm-up (first-call tracing and allocation)
    ratios, ours_s, theirs_s = [], [], []
    for i in range(repeat):
        if i % 2:
            b = _timed(theirs)
            a = _timed(ours)
        else:
            a = _timed(ours)
            b = _timed(theirs)
        ours_s.append(a)
        theirs_s.append(b)
        ratios.append(a / b)
    result: Result = {
        "name": name,
        "oneinit_ms": 1e3 * statistics.median(ours_s),
        "keras_ms": 1e3 * statistics.median(theirs_s),
        "ratio": statistics.median(ratios),
        "oneinit_melem_s": elements / statistics.median(ours_s) / 1e6,
        "keras_melem_s": elements / statistics.median(theirs_s) / 1e6,
    }
    print(
        f"{name:<58} oneinit {result['oneinit_ms']:9.2f} ms   keras {result['keras_ms']:9.2f} ms"
        f"   ratio {result['ratio']:.3f}",
        flush=True,
    )
    return result


def native_fills(repeat: int, side: int) -> list[Result]:
    shape = (side, side)
    n = side * side
    own = keras.initializers
    cases = [
        ("uniform: GlorotUniform", oik.GlorotUniform(), own.GlorotUniform()),
        (
            "uniform: RandomUniform(-1, 1)",
            oik.RandomUniform(minval=-1.0, maxval=1.0),
            own.RandomUniform(-1.0, 1.0),
        ),
        (
            "normal: HeNormal vs VarianceScaling(2, untruncated_normal)",
            oik.HeNormal(),
            own.VarianceScaling(2.0, "fan_in", "untruncated_normal"),
        ),
        (
            "truncated +-2 std: HeNormal(truncated) vs HeNormal",
            oik.HeNormal(distribution="truncated_normal"),
            own.HeNormal(),
        ),
        (
            "truncated +-2 std: TruncatedNormal(stddev=0.02)",
            oik.TruncatedNormal(stddev=0.02),
            own.TruncatedNormal(stddev=0.02),
        ),
        (
            "inverse CDF +-3 std vs Keras TruncatedNormal +-2 std",
            oik.TruncatedNormal(stddev=0.02, lower=-3.0, upper=3.0),
            own.TruncatedNormal(stddev=0.02),
        ),
    ]
    return [
        compare(
            f"native {name}",
            functools.partial(ours, shape),
            functools.partial(theirs, shape),
            repeat=repeat,
            elements=n,
        )
        for name, ours, theirs in cases
    ]


def portable_fills(repeat: int, side: int) -> list[Result]:
    shape = (side, side)
    n = side * side
    own = keras.initializers
    cases = [
        ("GlorotUniform", oik.GlorotUniform(seed=0), own.GlorotUniform(), shape),
        (
            "HeNormal vs VarianceScaling(2, untruncated_normal)",
            oik.HeNormal(seed=0),
            own.VarianceScaling(2.0, "fan_in", "untruncated_normal"),
            shape,
        ),
        (
            "HeNormal(truncated) vs HeNormal",
            oik.HeNormal(distribution="truncated_normal", seed=0),
            own.HeNormal(),
            shape,
        ),
        (
            "Conv2DTranspose layout (transpose) vs GlorotUniform",
            oik.GlorotUniform(layout="conv_transpose", seed=0),
            own.GlorotUniform(),
            (4, 4, side, side // 16),
        ),
    ]
    return [
        compare(
            f"portable {name}",
            functools.partial(ours, s),
            functools.partial(theirs, s),
            repeat=repeat,
            elements=n,
        )
        for name, ours, theirs, s in cases
    ]


def orthogonal(repeat: int, sizes: list[int]) -> list[Result]:
    results = []
    for side in sizes:
        shape = (side, side)
        reps = max(3, repeat // (3 if side >= 2048 else 1))
        theirs = keras.initializers.Orthogonal()
        for label, ours in (
            ("native", oik.Orthogonal()),
            ("portable (core, float64 QR)", oik.Orthogonal(seed=0)),
        ):
            results.append(
                compare(
                    f"orthogonal {side} {label}",
                    functools.partial(ours, shape),
                    functools.partial(theirs, shape),
                    repeat=reps,
                    elements=side * side,
                )
            )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--side", type=int, default=4096, help="fills are side x side")
    parser.add_argument("--orthogonal", type=int, nargs="*", default=[512, 1024, 2048])
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args()
    keras.utils.set_random_seed(0)
    print(
        f"keras {keras.__version__}, backend {keras.backend.backend()}, "
        f"{args.side}x{args.side} = {args.side**2 / 1e6:.1f}M elements, "
        f"ONEINIT_NUM_THREADS={os.environ.get('ONEINIT_NUM_THREADS', 'default')}",
        flush=True,
    )
    results = native_fills(args.repeat, args.side)
    results += portable_fills(args.repeat, args.side)
    results += orthogonal(args.repeat, args.orthogonal)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump({"backend": keras.backend.backend(), "results": results}, out, indent=2)


if __name__ == "__main__":
    main()
