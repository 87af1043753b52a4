"""Throughput and memory of oneinit's seeded sampling against numpy's own float32 fill.

A plain script, not a test:

    python benchmarks/bench_core.py --sizes 1M 16M 64M

For each distribution and size it fills a preallocated float32 array with
``Stream(seed, key).sample(dist, shape, out=out)`` and, back to back, with numpy's PCG64
``Generator`` writing into a preallocated array of the same size (``rng.random(dtype=float32,
out=...)`` for uniform, ``rng.standard_normal(dtype=float32, out=...)`` for normal and for
truncated normal, since numpy has no truncated normal fill). Each side is warmed up first; then
the two run in turn ``--repeats`` times, and the table shows median throughputs and the median
of the per-repeat ratios (oneinit / numpy), which drift in the machine's load affects least.

oneinit runs with ``ONEINIT_NUM_THREADS`` set to each value of ``--threads``; numpy's fill
always runs on one thread (it has no threaded fill). The goals apply to the rows that use all
the cores this process may run on (``taskset`` is respected); ``--check`` makes a missed goal
exit with status 1.

Peak memory: a fresh subprocess per distribution allocates the output (``--memory-elements``,
default 256M float32 = 1 GiB), touches every page of it, reads its resident set size (RSS,
``/proc/self/statm``), fills it, and reads its peak RSS (``resource.getrusage`` ``ru_maxrss``).
Peak minus RSS-before is the memory the fill needed above its output, as the operating system
saw it: workspaces, index arrays, thread stacks. The same subprocess also reports the peak of
numpy's own allocations under ``tracemalloc`` (numpy reports its data buffers to it).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from oneinit.core.random import (
    NormalDistribution,
    Stream,
    UniformDistribution,
)

MiB = 2**20
SUFFIXES = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30}
STREAM = Stream(seed=20240601, key=7)


@dataclass(frozen=True)
class Case:
    """One row group: a oneinit distribution, numpy's fill to compare with, and the goal."""

    name: str
    dist: UniformDistribution | NormalDistribution
    numpy_name: str
    numpy_fill: Callable[[np.random.Generator, np.ndarray], object]
    goal: float | None  # minimum oneinit / numpy throughput ratio, on all cores


CASES = {
    "uniform": Case(
        "uniform U(-1, 1)",
        UniformDistribution(-1.0, 1.0),
        "random",
        lambda rng, out: rng.random(dtype=np.float32, out=out),
        0.35,
    ),
    "normal": Case(
        "normal N(0, 1)",
        NormalDistribution(0.0, 1.0),
        "standard_normal",
        lambda rng, out: rng.standard_normal(dtype=np.float32, out=out),
        0.8,
    ),
    "truncated": Case(
        "truncated N(0, 1) in [-2, 2]",
        NormalDistribution(0.0, 1.0, -2.0, 2.0),
        "standard_normal",
        lambda rng, out: rng.standard_normal(dtype=np.float32, out=out),
        None,
    ),
}


def parse_count(text: str) -> int:
    """``1M`` -> 2**20, ``64M`` -> 2**26, ``1000`` -> 1000 (binary suffixes K, M, G)."""
    match = re.fullmatch(r"(\d+)([KMG]?)", text.strip().upper())
    if match is None:
        raise argparse.ArgumentTypeError(
            f"sizes are integers with an optional K, M or G suffix. Received: {text!r}"
        )
    return int(match.group(1)) * SUFFIXES[match.group(2)]


def format_count(count: int) -> str:
    for suffix in ("G", "M", "K"):
        if count % SUFFIXES[suffix] == 0:
            return f"{count // SUFFIXES[suffix]}{suffix}"
    return str(count)


def seconds(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def measure(case: Case, count: int, threads: int, repeats: int) -> tuple[float, float, float]:
    """(oneinit Melem/s, numpy Melem/s, ratio): medians over repeats run in turn."""
    os.environ["ONEINIT_NUM_THREADS"] = str(threads)
    ours_out = np.zeros(count, dtype=np.float32)
    numpy_out = np.zeros(count, dtype=np.float32)
    rng = np.random.default_rng(20240601)

    def ours() -> object:
        return STREAM.sample(case.dist, (count,), out=ours_out)

    def theirs() -> object:
        return case.numpy_fill(rng, numpy_out)

    ours()  # warm-up: page in, thread start, code paths
    theirs()
    ours_rates, numpy_rates, ratios = [], [], []
    for _ in range(repeats):
        ours_rate = count / seconds(ours) / 1e6
        numpy_rate = count / seconds(theirs) / 1e6
        ours_rates.append(ours_rate)
        numpy_rates.append(numpy_rate)
        ratios.append(ours_rate / numpy_rate)
    return statistics.median(ours_rates), statistics.median(numpy_rates), statistics.median(ratios)


# --------------------------------------------------------------------------------------------
# Peak memory, in a fresh process per distribution.

MEMORY_CHILD = r"""
import json, os, resource, sys, tracemalloc
from math import inf
import numpy as np
sys.path.insert(0, {root!r})
from oneinit.core.random import NormalDistribution, Stream, UniformDistribution

def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

def maxrss_bytes():
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024

dist = {dist}
out = np.empty({count}, dtype=np.float32)
out.fill(0.0)  # every page of the output is resident before the fill
Stream(1, 2).sample(dist, (4096,), out=out[:4096])  # imports and first-call setup
before = rss_bytes()
Stream(1, 2).sample(dist, out.shape, out=out)
peak = maxrss_bytes()
tracemalloc.start()
Stream(1, 2).sample(dist, out.shape, out=out)
traced = tracemalloc.get_traced_memory()[1]
tracemalloc.stop()
print(json.dumps({{"rss_above": peak - max(before, 0), "traced": traced}}))
"""


def memory(case: Case, count: int, threads: int) -> dict[str, int]:
    code = MEMORY_CHILD.format(
        root=str(Path(__file__).resolve().parent.parent), dist=repr(case.dist), count=count
    )
    env = dict(os.environ, ONEINIT_NUM_THREADS=str(threads))
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"the memory subprocess failed:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


# --------------------------------------------------------------------------------------------


def usable_cores() -> int:
    """The cores this process may run on (respects ``taskset``), else the machine's count."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def main(argv: list[str] | None = None) -> int:
    cores = usable_cores()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes", nargs="+", type=parse_count, default=[2**20, 2**24, 2**26],
        help="element counts, e.g. 1M 16M 64M (binary suffixes; default: %(default)s)",
    )
    parser.add_argument(
        "--distributions", nargs="+", choices=list(CASES), default=list(CASES),
        help="which fills to time (default: all)",
    )
    parser.add_argument(
        "--threads", nargs="+", type=int, default=sorted({1, cores}),
        help="ONEINIT_NUM_THREADS values to time oneinit with (default: 1 and the core count)",
    )
    parser.add_argument("--repeats", type=int, default=7, help="timed repeats per row (median)")
    parser.add_argument(
        "--memory-elements", type=parse_count, default=2**28,
        help="output size for the peak-memory check (default 256M); 0 skips it",
    )
    parser.add_argument(
        "--memory-goal-mib", type=float, default=64.0,
        help="allowed peak memory above the output, MiB (default 64)",
    )
    parser.add_argument(
        "--check", action="store_true",
        help="exit with status 1 when a goal is missed (default: report only)",
    )
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error(f"--repeats must be at least 1. Received: --repeats={args.repeats}")

    print(f"numpy {np.__version__}, {cores} cores, Python {sys.version.split()[0]}")
    print("throughput: Melem/s, medians of", args.repeats, "repeats; ratio = oneinit / numpy")
    print("(numpy's truncated-normal column is its standard_normal fill: it has no truncated one)")
    header = (
        f"{'distribution':30} {'size':>5} {'thr':>3} {'oneinit':>8} {'numpy':>8} "
        f"{'(numpy fill)':16} {'ratio':>6} {'goal':>6} {'':4}"
    )
    print(header)
    print("-" * len(header))
    failures = 0
    for name in args.distributions:
        case = CASES[name]
        for count in args.sizes:
            for threads in args.threads:
                ours, theirs, ratio = measure(case, count, threads, args.repeats)
                goal, verdict = "-", ""
                if case.goal is not None and threads == cores:
                    goal = f">={case.goal:.2f}"
                    verdict = "pass" if ratio >= case.goal else "FAIL"
                    failures += verdict == "FAIL"
                print(
                    f"{case.name:30} {format_count(count):>5} {threads:>3} {ours:8.1f} "
                    f"{theirs:8.1f} {case.numpy_name:16} {ratio:6.2f} {goal:>6} {verdict:4}",
                    flush=True,
                )

    if args.memory_elements:
        count = args.memory_elements
        print()
        print(
            f"peak memory above the output ({format_count(count)} float32 = "
            f"{4 * count / MiB:.0f} MiB), {cores} threads, goal <= {args.memory_goal_mib:g} MiB"
        )
        print(f"{'distribution':30} {'RSS peak above':>15} {'tracemalloc peak':>17} {'':4}")
        for name in args.distributions:
            case = CASES[name]
            result = memory(case, count, cores)
            rss, traced = result["rss_above"] / MiB, result["traced"] / MiB
            verdict = "pass" if rss <= args.memory_goal_mib else "FAIL"
            failures += verdict == "FAIL"
            print(f"{case.name:30} {rss:12.1f} MiB {traced:13.1f} MiB {verdict:4}", flush=True)
    if failures:
        print(f"\n{failures} goal(s) missed; on a shared machine, run again before believing it.")
    return 1 if failures and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
