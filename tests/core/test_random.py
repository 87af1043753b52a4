"""Tests for ``oneinit.core.random``: generator, transforms and streams, against the spec.

The specification is the module docstring of ``oneinit.core.random``. Only the public API is used:
``philox4x32_10``, ``random_bits``, ``symmetric_uniform``, ``normal_quantile``, the two
distribution classes, ``Stream``, ``key_from_name`` and ``CHUNK``.

* Known answers: the published Random123 Philox4x32-10 vectors, and golden files
  (``tests/core/golden/random.json``) so that no release, numpy version or array namespace
  changes what a seed produces.
* The spec, step by step, against a plain Python-int Philox written here.
* Exactness: transforms checked on every one of the 2**24 possible uniform values.
* Shard invariance: a slice generated alone equals that slice of the whole; threads change nothing.
* Statistics: fixed seeds, 2**20 samples, tolerances derived from n (6 standard errors; a
  Kolmogorov-Smirnov critical value for alpha = 1e-6), so they cannot flake or pass by luck.
* Memory (tracemalloc), errors, stream keys.

Regenerating the golden file changes the values every seed produces, which is a breaking change
to announce: ``PYTHONPATH=. python tests/core/test_random.py --write-golden``.
"""

from __future__ import annotations

import json
import math
import statistics
import sys
import tracemalloc
from collections.abc import Callable
from fractions import Fraction
from functools import cache, lru_cache
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from oneinit.core.random import (
    CHUNK,
    NormalDistribution,
    Stream,
    UniformDistribution,
    key_from_name,
    normal_quantile,
    philox4x32_10,
    random_bits,
    symmetric_uniform,
)

Distribution = UniformDistribution | NormalDistribution
INF = math.inf
MASK32 = 0xFFFFFFFF
GOLDEN = Path(__file__).parent / "golden" / "random.json"


def to_numpy(x: Any) -> np.ndarray:
    """A numpy view of an array from any namespace (DLPack for non-numpy arrays)."""
    return x if isinstance(x, np.ndarray) else np.from_dlpack(x)


def float32_bits(x: Any) -> np.ndarray:
    """float32 values as their uint32 bit patterns, for bit-for-bit comparisons."""
    values = to_numpy(x)
    assert values.dtype == np.float32
    return np.ascontiguousarray(values).view(np.uint32)


# --------------------------------------------------------------------------------------------
# A reference Philox4x32-10 on Python ints, written from Salmon et al. (SC'11) / Random123.

PHILOX_M = (0xD2511F53, 0xCD9E8D57)
PHILOX_W = (0x9E3779B9, 0xBB67AE85)


def philox_reference(
    counter: tuple[int, int, int, int], key: tuple[int, int]
) -> tuple[int, int, int, int]:
    c0, c1, c2, c3 = counter
    k0, k1 = key
    for _ in range(10):
        p0, p1 = PHILOX_M[0] * c0, PHILOX_M[1] * c2
        c0, c1, c2, c3 = (p1 >> 32) ^ c1 ^ k0, p1 & MASK32, (p0 >> 32) ^ c3 ^ k1, p0 & MASK32
        k0, k1 = (k0 + PHILOX_W[0]) & MASK32, (k1 + PHILOX_W[1]) & MASK32
    return c0, c1, c2, c3


def word_reference(seed: int, key: int, i: int) -> int:
    """Step 1 of the spec, literally: word ``i % 4`` of Philox at block ``i // 4``."""
    j = i // 4
    counter = (j & MASK32, j >> 32, key & MASK32, key >> 32)
    return philox_reference(counter, (seed & MASK32, seed >> 32))[i % 4]


# --------------------------------------------------------------------------------------------
# 1. Known answers: Random123's kat_vectors for philox4x32_10.

KAT = [
    pytest.param(
        (0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8), id="zeros"
    ),
    pytest.param(
        (MASK32,) * 4, (MASK32,) * 2, (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD), id="ones"
    ),
    pytest.param(
        (0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344),
        (0xA4093822, 0x299F31D0),
        (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1),
        id="pi",
    ),
]


@pytest.mark.parametrize(("counter", "key", "expected"), KAT)
def test_philox_matches_published_vectors(
    counter: tuple[int, ...], key: tuple[int, int], expected: tuple[int, ...]
) -> None:
    words = philox4x32_10(tuple(np.array([c], dtype=np.uint64) for c in counter), key)
    assert [int(w[0]) for w in words] == list(expected)


@pytest.mark.parametrize(("counter", "key", "expected"), KAT)
def test_reference_philox_matches_published_vectors(
    counter: tuple[int, int, int, int], key: tuple[int, int], expected: tuple[int, ...]
) -> None:
    """The Python-int Philox that the spec tests below trust is itself right."""
    assert philox_reference(counter, key) == expected


def test_philox_is_elementwise_over_arrays() -> None:
    rng = np.random.default_rng(1)
    counters = rng.integers(0, 2**32, size=(4, 3, 5), dtype=np.uint64)
    words = philox4x32_10(tuple(counters), (0x12345678, 0x9ABCDEF0))
    assert all(w.shape == (3, 5) for w in words)
    for position in [(0, 0), (1, 3), (2, 4)]:
        counter = tuple(int(c[position]) for c in counters)
        expected = philox_reference(counter, (0x12345678, 0x9ABCDEF0))  # type: ignore[arg-type]
        assert tuple(int(w[position]) for w in words) == expected


# --------------------------------------------------------------------------------------------
# 2. The bits: random_bits against step 1 of the spec.

SEED_KEYS = [
    pytest.param(0, 0, id="seed0-key0"),
    pytest.param(1, 2, id="seed1-key2"),
    pytest.param(2**32 + 5, 2**40 + 3, id="seed-key-above-2**32"),
    pytest.param(0xDEADBEEF, 2**63 + 11, id="key-top-bit"),
    pytest.param(2**64 - 1, 2**64 - 1, id="seed-key-max"),
]
RANGES = [
    pytest.param(0, 37, id="start0"),
    pytest.param(5, 23, id="start5"),
    pytest.param(4 * 2**32 - 10, 23, id="block-2**32-crossing"),
    pytest.param(4 * 2**40 + 3, 50, id="block-above-2**40"),
    pytest.param(2**64 - 37, 37, id="last-indices"),
]


@pytest.mark.parametrize(("seed", "key"), SEED_KEYS)
@pytest.mark.parametrize(("start", "count"), RANGES)
def test_random_bits_range_follows_spec(seed: int, key: int, start: int, count: int) -> None:
    bits = random_bits(seed, key, (start, count))
    assert bits.shape == (count,)
    expected = [word_reference(seed, key, i) for i in range(start, start + count)]
    assert [int(b) for b in bits] == expected


@pytest.mark.parametrize(("seed", "key"), SEED_KEYS)
def test_random_bits_random_indices_follow_spec(seed: int, key: int) -> None:
    rng = np.random.default_rng(seed % 1000)
    index = rng.integers(0, 2**64 - 1, size=(8, 25), dtype=np.uint64, endpoint=True)
    bits = random_bits(seed, key, index)
    assert bits.shape == index.shape
    expected = [word_reference(seed, key, int(i)) for i in index.reshape(-1)]
    assert [int(b) for b in bits.reshape(-1)] == expected


@pytest.mark.parametrize(("seed", "key"), SEED_KEYS)
@pytest.mark.parametrize("start", [0, 3, 4 * 2**32 - 101])
def test_random_bits_index_array_equals_range(seed: int, key: int, start: int) -> None:
    count = 1000
    whole = random_bits(seed, key, (start, count))
    local = np.random.default_rng(7).permutation(count).reshape(10, 4, 25)
    index = np.uint64(start) + local.astype(np.uint64)
    np.testing.assert_array_equal(random_bits(seed, key, index), whole[local])


def test_random_bits_are_32_bit_words() -> None:
    bits = random_bits(3, 4, (0, 4096))
    assert bits.dtype == np.uint64
    assert int(bits.max()) <= MASK32


# --------------------------------------------------------------------------------------------
# 3. Transforms, exactly: every one of the 2**24 symmetric uniform values.


@pytest.fixture(scope="module")
def all_bits() -> np.ndarray:
    """One word for each of the 2**24 values of ``t``, in increasing order of ``t``."""
    return np.arange(2**24, dtype=np.uint64) << np.uint64(8)


def exact_t(top24: np.ndarray) -> np.ndarray:
    """``(2 * k + 1 - 2**24) * 2**-24`` in float64: exact, the numerator has 24 bits."""
    return (2.0 * top24.astype(np.float64) + 1.0 - 2.0**24) * 2.0**-24


@pytest.mark.parametrize(
    "word",
    [0, 0xFF, 0x100, 0x1FF, 0x7FFFFF00, 0x7FFFFFFF, 0x80000000, 0xFFFFFF00, 0xFFFFFFFF],
    ids=lambda w: f"{w:#010x}",
)
def test_symmetric_uniform_edge_words(word: int) -> None:
    t = symmetric_uniform(np.array([word], dtype=np.uint64))
    assert t.dtype == np.float32
    expected = Fraction(2 * (word >> 8) + 1 - 2**24, 2**24)
    assert Fraction(float(t[0])) == expected


def test_symmetric_uniform_random_words() -> None:
    words = np.random.default_rng(3).integers(0, 2**32, size=2000, dtype=np.uint64)
    t = symmetric_uniform(words)
    for word, value in zip(words.tolist(), t.tolist(), strict=True):
        assert Fraction(value) == Fraction(2 * (word >> 8) + 1 - 2**24, 2**24)


def test_symmetric_uniform_every_value(all_bits: np.ndarray) -> None:
    """All 2**24 values: exact, in (-1, 1), never 0, symmetric, and the low 8 bits ignored."""
    t = symmetric_uniform(all_bits)
    expected = exact_t(all_bits >> np.uint64(8))
    np.testing.assert_array_equal(t.astype(np.float64), expected)
    assert float(t.min()) == -1 + 2.0**-24
    assert float(t.max()) == 1 - 2.0**-24
    assert not np.any(t == 0)
    np.testing.assert_array_equal(t, -t[::-1])
    np.testing.assert_array_equal(symmetric_uniform(all_bits | np.uint64(0xFF)), t)


def float32_cell_count(total: int, density: float, at: float) -> float:
    """Expected number of ``total`` values in the float32 rounding cell at ``at``."""
    return total * density * float(np.spacing(np.float32(abs(at))))


def truncated_density_at(dist: NormalDistribution, bound: float) -> float:
    """Density of the truncated distribution at an absolute ``bound``, in value units."""
    z = (bound - dist.mean) / dist.std
    return math.exp(-z * z / 2) / math.sqrt(2 * math.pi) / dist.std / normal_mass(dist)


def normal_mass(dist: NormalDistribution) -> float:
    return centered_phi(dist.upper) - centered_phi(dist.lower)


def centered_phi(z: float) -> float:
    """``Phi(z) - 1/2`` from math.erf."""
    return 0.5 * math.erf(z / math.sqrt(2)) if math.isfinite(z) else math.copysign(0.5, z)


def float32_bound(bound: float, low: float, high: float) -> float:
    """The float32 nearest to ``bound`` inside ``[low, high]``: where values clamped there sit."""
    rounded = np.float32(bound)
    if float(rounded) < low:
        rounded = np.nextafter(rounded, np.float32(np.inf))
    elif float(rounded) > high:
        rounded = np.nextafter(rounded, np.float32(-np.inf))
    return float(rounded)


def assert_within_bounds_without_atoms(values: np.ndarray, dist: Distribution) -> None:
    """Every value in ``[low, high]`` exactly, and no atom at a finite bound.

    A continuous distribution puts about ``n * density * ulp`` values into the float32 cell at
    a bound; clamping that concentrated mass there would exceed ``4 + 4 *`` that count.
    """
    v = values.astype(np.float64)
    assert float(v.min()) >= dist.low
    assert float(v.max()) <= dist.high
    for bound in (dist.low, dist.high):
        if not math.isfinite(bound) or dist.low == dist.high:
            continue
        if isinstance(dist, UniformDistribution):
            density = 1 / (dist.high - dist.low)
        else:
            density = truncated_density_at(dist, bound)
        at_bound = np.count_nonzero(v == float32_bound(bound, dist.low, dist.high))
        cell = float32_cell_count(v.size, density, bound)
        assert at_bound <= 4 + 4 * cell, f"{at_bound} of {v.size} values at bound {bound}"


UNIFORM_RANGES = [
    pytest.param(-1.0, 1.0, id="unit-symmetric"),
    pytest.param(-math.sqrt(6 / 400), math.sqrt(6 / 400), id="glorot-symmetric"),
    pytest.param(-0.1, 0.1, id="symmetric-not-float32"),
    pytest.param(-3.4e38, 3.4e38, id="symmetric-huge"),
    pytest.param(0.0, 1.0, id="zero-one"),
    pytest.param(0.1, 0.2, id="asymmetric-small"),
    pytest.param(-3.0, 7.0, id="asymmetric"),
    pytest.param(-7.5, -2.0, id="negative"),
    pytest.param(1.0, 1.0 + 2.0**-20, id="tiny-width"),
    pytest.param(1.0e6, 1.0e6 + 1.0, id="tiny-relative-width"),
    pytest.param(1e-30, 3e-30, id="tiny-absolute"),
    pytest.param(-1e38, 3e38, id="huge-asymmetric"),
    pytest.param(2.5, 2.5, id="point"),
]


@pytest.mark.parametrize(("low", "high"), UNIFORM_RANGES)
def test_uniform_every_value_within_bounds(low: float, high: float, all_bits: np.ndarray) -> None:
    values = UniformDistribution(low, high).from_bits(all_bits)
    assert values.dtype == np.float32
    assert_within_bounds_without_atoms(values, UniformDistribution(low, high))


@pytest.mark.parametrize(
    "high", [1.0, 0.5, 0.1, math.sqrt(6 / 400), 3.4e38, 1e-30], ids=lambda h: f"{h:g}"
)
def test_uniform_symmetric_is_exactly_high_times_t(high: float, all_bits: np.ndarray) -> None:
    """For low = -high (Glorot/He) the value is the float32 product high * t, unclipped."""
    values = UniformDistribution(-high, high).from_bits(all_bits)
    t = exact_t(all_bits >> np.uint64(8)).astype(np.float32)
    np.testing.assert_array_equal(float32_bits(values), float32_bits(np.float32(high) * t))
    np.testing.assert_array_equal(values, -values[::-1])


def test_uniform_point_range_is_constant(all_bits: np.ndarray) -> None:
    values = UniformDistribution(2.5, 2.5).from_bits(all_bits[::4096])
    assert np.all(values == np.float32(2.5))


def normal_reference(q: float) -> float:
    """``Phi^-1(q + 1/2)`` in float64; ``q + 1/2`` is exact for the float32 ``q`` used here."""
    p = 0.5 + q
    assert Fraction(p) == Fraction(q) + Fraction(1, 2)
    return statistics.NormalDist().inv_cdf(p)


def quantile_grid() -> np.ndarray:
    """Dense float32 ``q`` in (-1/2, 1/2): uniform, both tails down to 2**-25, and near 0."""
    largest = 0.5 - 2.0**-25  # the largest |q| a 24-bit uniform gives
    central = np.linspace(-largest, largest, 100_001)
    tail = 0.5 - np.geomspace(2.0**-25, 0.075, 20_000)  # |q| > 0.425: PPND7's second region
    small = np.geomspace(2.0**-30, 1e-3, 2_000)
    grid = np.concatenate([central, tail, -tail, small, -small]).astype(np.float32)
    # |q| >= 2**-30 keeps q + 1/2 exact in float64; smaller q: the near-zero test below.
    grid = grid[(np.abs(grid) >= 2.0**-30) & (np.abs(grid) <= largest)]
    return np.unique(grid)


# The docstring's bound for PPND7 in float32 is 3.6e-7; one float32 rounding of z adds 6e-8.
QUANTILE_RTOL = 4e-7


def test_normal_quantile_against_float64_reference() -> None:
    q = quantile_grid()
    z = normal_quantile(q)
    assert z.dtype == np.float32
    reference = np.array([normal_reference(v) for v in q.astype(np.float64).tolist()])
    error = np.abs(z.astype(np.float64) - reference) / np.abs(reference)
    worst = int(np.argmax(error))
    assert error[worst] <= QUANTILE_RTOL, f"q={q[worst]!r}: z={z[worst]!r}, ref={reference[worst]}"


@pytest.mark.parametrize("q", [2.0**-40, 1e-20, 1e-30, -1e-30], ids=lambda q: f"{q:g}")
def test_normal_quantile_near_zero_is_linear(q: float) -> None:
    """Phi^-1(1/2 + q) = sqrt(2 pi) q (1 + pi q**2 / 3 + ...): the cubic term is below 1e-24."""
    z = normal_quantile(np.array([q], dtype=np.float32))
    expected = math.sqrt(2 * math.pi) * float(np.float32(q))
    assert abs(float(z[0]) - expected) <= QUANTILE_RTOL * abs(expected)


def test_normal_quantile_keeps_shape_and_zero() -> None:
    q = np.zeros((3, 0, 2), dtype=np.float32)
    assert normal_quantile(q).shape == (3, 0, 2)
    assert normal_quantile(np.zeros((2, 3), dtype=np.float32)).tolist() == [[0.0] * 3] * 2


def test_normal_every_value(all_bits: np.ndarray) -> None:
    """All 2**24 normal values: finite, odd in t, reaching exactly Phi^-1(1 - 2**-25)."""
    z = NormalDistribution(0.0, 1.0).from_bits(all_bits)
    assert z.dtype == np.float32
    assert np.all(np.isfinite(z))
    np.testing.assert_array_equal(float32_bits(z), float32_bits(-z[::-1]))
    reach = statistics.NormalDist().inv_cdf(1 - 2.0**-25)  # 5.4199...
    assert float(z.max()) == float(z[-1]) == -float(z.min())
    assert abs(float(z.max()) - reach) <= QUANTILE_RTOL * reach
    extremes = normal_quantile(np.array([-(0.5 - 2.0**-25), 0.5 - 2.0**-25], dtype=np.float32))
    np.testing.assert_array_equal(extremes, [z.min(), z.max()])


TRUNCATED_EXHAUSTIVE = [
    pytest.param(NormalDistribution(0.0, 1.0, -2.0, 2.0), id="std-2sigma"),
    pytest.param(NormalDistribution(0.1, 0.5, -2.0, 2.0), id="scaled-2sigma"),
    pytest.param(NormalDistribution(-1.5, 3.0, -1.0, 3.0), id="asymmetric"),
    pytest.param(NormalDistribution(0.5, 2.0, 0.0, INF), id="one-sided-lower"),
    pytest.param(NormalDistribution(3.0, 0.1, -INF, 1.0), id="one-sided-upper"),
    pytest.param(NormalDistribution(0.0, 1.0, 2.0, 4.0), id="tail"),
    pytest.param(NormalDistribution(1.0, 0.5, -0.1, 0.1), id="narrow"),
]


@pytest.mark.parametrize("dist", TRUNCATED_EXHAUSTIVE)
def test_truncated_normal_every_value_within_bounds(
    dist: NormalDistribution, all_bits: np.ndarray
) -> None:
    values = dist.from_bits(all_bits)
    assert values.dtype == np.float32
    assert np.all(np.isfinite(values))
    assert_within_bounds_without_atoms(values, dist)


# --------------------------------------------------------------------------------------------
# 4. Shard invariance: a value depends only on (seed, key, index).

SHARD_DISTRIBUTIONS = [
    pytest.param(UniformDistribution(-0.3, 0.7), id="uniform"),
    pytest.param(NormalDistribution(0.2, 1.5), id="normal"),
    pytest.param(NormalDistribution(-1.0, 0.5, -1.0, 3.0), id="truncated"),
]
SHARDS = [
    pytest.param(1, 5, id="offset1"),
    pytest.param(3, CHUNK + 1, id="offset3-past-chunk"),
    pytest.param(CHUNK - 2, 7, id="straddles-chunk"),
    pytest.param(CHUNK - 3, 2 * CHUNK + 5, id="straddles-two-chunks"),
    pytest.param(2 * CHUNK + 1, CHUNK - 1, id="third-chunk"),
]
SHARD_STREAM = Stream(20240607, 0xC0FFEE)


@cache
def whole_tensor(dist: Distribution, count: int) -> np.ndarray:
    values = SHARD_STREAM.sample(dist, (count,))
    values.setflags(write=False)
    return values


@pytest.mark.parametrize("dist", SHARD_DISTRIBUTIONS)
@pytest.mark.parametrize(("offset", "count"), SHARDS)
def test_offset_sample_equals_slice_of_whole(dist: Distribution, offset: int, count: int) -> None:
    whole = whole_tensor(dist, 3 * CHUNK + 17)
    part = SHARD_STREAM.sample(dist, (count,), offset=offset)
    np.testing.assert_array_equal(float32_bits(part), float32_bits(whole[offset : offset + count]))


@pytest.mark.parametrize("dist", SHARD_DISTRIBUTIONS)
def test_offset_sample_keeps_c_order_of_shape(dist: Distribution) -> None:
    whole = whole_tensor(dist, 3 * CHUNK + 17)
    part = SHARD_STREAM.sample(dist, (3, 7, 11), offset=CHUNK - 5)
    expected = whole[CHUNK - 5 : CHUNK - 5 + 231].reshape(3, 7, 11)
    np.testing.assert_array_equal(float32_bits(part), float32_bits(expected))


@pytest.mark.parametrize("dist", SHARD_DISTRIBUTIONS)
@pytest.mark.parametrize("shape", [(1,), (997,), (13, 17, 3)], ids=str)
def test_sample_at_equals_gather_from_whole(dist: Distribution, shape: tuple[int, ...]) -> None:
    whole = whole_tensor(dist, 3 * CHUNK + 17)
    index = np.random.default_rng(len(shape)).integers(0, whole.size, size=shape)
    values = SHARD_STREAM.sample_at(dist, index)
    assert values.shape == shape
    np.testing.assert_array_equal(float32_bits(values), float32_bits(whole[index]))


@pytest.mark.parametrize("dist", SHARD_DISTRIBUTIONS)
@pytest.mark.parametrize("threads", ["2", "3", "8"])
def test_threaded_fill_equals_single_thread(
    dist: Distribution, threads: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    shape = (2**20 + 12_345,)  # above the size where fills start to use threads
    monkeypatch.setenv("ONEINIT_NUM_THREADS", "1")
    single = SHARD_STREAM.sample(dist, shape, offset=6)
    monkeypatch.setenv("ONEINIT_NUM_THREADS", threads)
    threaded = SHARD_STREAM.sample(dist, shape, offset=6)
    out = np.empty(shape, dtype=np.float32)
    assert SHARD_STREAM.sample(dist, shape, offset=6, out=out) is out
    np.testing.assert_array_equal(float32_bits(threaded), float32_bits(single))
    np.testing.assert_array_equal(float32_bits(out), float32_bits(single))


@pytest.mark.parametrize("dist", SHARD_DISTRIBUTIONS)
def test_out_of_other_float_dtype_gets_the_float32_values(dist: Distribution) -> None:
    expected = SHARD_STREAM.sample(dist, (5, 301), offset=9)
    out = np.empty((5, 301), dtype=np.float64)
    SHARD_STREAM.sample(dist, (5, 301), offset=9, out=out)
    np.testing.assert_array_equal(out, expected.astype(np.float64))


# --------------------------------------------------------------------------------------------
# 5. The same bits everywhere: golden values (also checked under numpy 1.23) and array API.

GOLDEN_CASES: dict[str, dict[str, Any]] = {
    "bits-seed0-key0": {"kind": "bits", "seed": 0, "key": 0, "offset": 0, "count": 1027},
    "bits-large-seed-key": {
        "kind": "bits",
        "seed": 2**64 - 1,
        "key": 2**40 + 7,
        "offset": 4 * 2**32 - 6,
        "count": 1027,
    },
    "uniform-symmetric": {
        "kind": "uniform",
        "low": -0.0866,
        "high": 0.0866,
        "seed": 42,
        "key": 1,
        "offset": 0,
        "count": 2051,
    },
    "uniform-asymmetric": {
        "kind": "uniform",
        "low": -0.3,
        "high": 0.7,
        "seed": 42,
        "key": 2,
        "offset": 3,
        "count": 2051,
    },
    "normal-standard": {
        "kind": "normal",
        "mean": 0.0,
        "std": 1.0,
        "seed": 7,
        "key": 0,
        "offset": 0,
        "count": 2051,
    },
    "normal-shifted": {
        "kind": "normal",
        "mean": 0.25,
        "std": 0.02,
        "seed": 2**33 + 1,
        "key": 2**63 + 5,
        "offset": 12345,
        "count": 2051,
    },
    "truncated-2sigma": {
        "kind": "normal",
        "mean": 0.1,
        "std": 0.5,
        "lower": -2.0,
        "upper": 2.0,
        "seed": 7,
        "key": 3,
        "offset": 1,
        "count": 2051,
    },
    "truncated-asymmetric": {
        "kind": "normal",
        "mean": -1.5,
        "std": 3.0,
        "lower": -1.0,
        "upper": 3.0,
        "seed": 99,
        "key": 2**32 + 1,
        "offset": 2**33 + 2,
        "count": 2051,
    },
}


def golden_distribution(case: dict[str, Any]) -> Distribution:
    if case["kind"] == "uniform":
        return UniformDistribution(case["low"], case["high"])
    return NormalDistribution(
        case["mean"], case["std"], case.get("lower", -INF), case.get("upper", INF)
    )


def golden_words(case: dict[str, Any], xp: ModuleType) -> np.ndarray:
    """The case's values as uint32 words (bits for ``kind == "bits"``, else float32 bits)."""
    if case["kind"] == "bits":
        bits = random_bits(case["seed"], case["key"], (case["offset"], case["count"]), xp=xp)
        return to_numpy(bits).astype(np.uint32)
    stream = Stream(case["seed"], case["key"])
    values = stream.sample(
        golden_distribution(case), (case["count"],), offset=case["offset"], xp=xp
    )
    return float32_bits(values)


@lru_cache(maxsize=1)
def golden_file() -> dict[str, Any]:
    return json.loads(GOLDEN.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


@pytest.mark.parametrize("name", list(GOLDEN_CASES))
def test_golden_values(name: str, xp: ModuleType) -> None:
    """Bit for bit what this seed produced when the file was written, on numpy and the array API."""
    stored = golden_file()["cases"][name]
    words = stored["words"]
    assert {k: v for k, v in stored.items() if k != "words"} == GOLDEN_CASES[name]
    expected = np.array([int(w, 16) for line in words for w in line.split()], dtype=np.uint32)
    np.testing.assert_array_equal(golden_words(GOLDEN_CASES[name], xp), expected)


def test_golden_file_covers_every_case() -> None:
    assert set(golden_file()["cases"]) == set(GOLDEN_CASES)


XP_DISTRIBUTIONS = [
    pytest.param(UniformDistribution(-0.05, 0.05), id="uniform-symmetric"),
    pytest.param(UniformDistribution(0.2, 3.7), id="uniform-asymmetric"),
    pytest.param(NormalDistribution(0.0, 1.0), id="normal"),
    pytest.param(NormalDistribution(-2.0, 0.3), id="normal-shifted"),
    pytest.param(NormalDistribution(0.1, 0.5, -2.0, 2.0), id="truncated-2sigma"),
    pytest.param(NormalDistribution(-1.5, 3.0, -1.0, 3.0), id="truncated-asymmetric"),
    pytest.param(NormalDistribution(0.5, 2.0, 0.0, INF), id="truncated-one-sided"),
]


@pytest.mark.parametrize("dist", XP_DISTRIBUTIONS)
def test_array_api_strict_sample_equals_numpy(dist: Distribution, strict_xp: ModuleType) -> None:
    """Spans a chunk boundary and starts mid-block, so the concatenating path is covered too."""
    stream = Stream(11, 2**35 + 3)
    expected = stream.sample(dist, (CHUNK + 1001,), offset=3)
    values = stream.sample(dist, (CHUNK + 1001,), offset=3, xp=strict_xp)
    assert values.dtype == strict_xp.float32
    np.testing.assert_array_equal(float32_bits(values), float32_bits(expected))


@pytest.mark.parametrize("dist", XP_DISTRIBUTIONS)
def test_array_api_strict_sample_at_equals_numpy(dist: Distribution, strict_xp: ModuleType) -> None:
    stream = Stream(11, 2**35 + 3)
    index = np.random.default_rng(5).integers(0, 2**40, size=(40, 50), dtype=np.uint64)
    expected = stream.sample_at(dist, index)
    values = stream.sample_at(dist, strict_xp.asarray(index), xp=strict_xp)
    np.testing.assert_array_equal(float32_bits(values), float32_bits(expected))


def test_array_api_strict_bits_equal_numpy(strict_xp: ModuleType) -> None:
    index = np.random.default_rng(6).integers(0, 2**64 - 1, size=999, dtype=np.uint64)
    expected = random_bits(2**64 - 2, 2**33, index)
    np.testing.assert_array_equal(
        to_numpy(random_bits(2**64 - 2, 2**33, strict_xp.asarray(index), xp=strict_xp)), expected
    )


def test_array_api_strict_normal_quantile_equals_numpy(strict_xp: ModuleType) -> None:
    q = quantile_grid()
    values = normal_quantile(strict_xp.asarray(q), xp=strict_xp)
    np.testing.assert_array_equal(float32_bits(values), float32_bits(normal_quantile(q)))


# --------------------------------------------------------------------------------------------
# 6. Statistics: moments and the whole distribution, with tolerances from n.

N_STAT = 2**20
SIGMAS = 6.0  # a 6-standard-error band: its miss probability (2e-9) is negligible for a fixed seed
KS_ALPHA = 1e-6
KS_CRITICAL = math.sqrt(-math.log(KS_ALPHA / 2) / 2) / math.sqrt(N_STAT)  # 0.00263

STAT_DISTRIBUTIONS = [
    pytest.param(UniformDistribution(-1.0, 1.0), id="uniform-symmetric"),
    pytest.param(UniformDistribution(-0.05, 0.05), id="uniform-small"),
    pytest.param(UniformDistribution(0.2, 3.7), id="uniform-asymmetric"),
    pytest.param(UniformDistribution(-7.5, -2.0), id="uniform-negative"),
    pytest.param(NormalDistribution(0.0, 1.0), id="normal-standard"),
    pytest.param(NormalDistribution(2.5, 0.3), id="normal-shifted"),
    pytest.param(NormalDistribution(-1.0, 40.0), id="normal-wide"),
    pytest.param(NormalDistribution(0.0, 1.0, -2.0, 2.0), id="truncated-2sigma"),
    pytest.param(NormalDistribution(0.1, 0.02, -2.0, 2.0), id="truncated-2sigma-scaled"),
    pytest.param(NormalDistribution(-1.5, 3.0, -1.0, 3.0), id="truncated-asymmetric"),
    pytest.param(NormalDistribution(0.5, 2.0, 0.0, INF), id="truncated-one-sided"),
    pytest.param(NormalDistribution(0.0, 1.0, 2.0, 4.0), id="truncated-tail"),
    pytest.param(NormalDistribution(1.0, 0.5, -0.1, 0.1), id="truncated-narrow"),
]


@cache
def stat_sample(dist: Distribution) -> np.ndarray:
    """2**20 values under a seed fixed per distribution (its repr names the stream key)."""
    values = Stream(20240607, key_from_name(repr(dist))).sample(dist, (N_STAT,))
    values.setflags(write=False)
    return values


def simpson(
    f: Callable[[np.ndarray], np.ndarray], a: float, b: float, panels: int = 2**14
) -> float:
    x = np.linspace(a, b, panels + 1)
    w = np.ones(panels + 1)
    w[1:-1:2], w[2:-1:2] = 4.0, 2.0
    return float(np.sum(w * f(x)) * (b - a) / (3 * panels))


def quadrature_moments(dist: Distribution) -> tuple[float, float, float]:
    """Mean, variance and fourth central moment, by quadrature (independent of the module)."""
    if isinstance(dist, UniformDistribution):
        width = dist.high - dist.low
        return (dist.low + dist.high) / 2, width**2 / 12, width**4 / 80
    a = dist.lower if math.isfinite(dist.lower) else -14.0
    b = dist.upper if math.isfinite(dist.upper) else 14.0
    mass = simpson(lambda z: np.exp(-z * z / 2) / math.sqrt(2 * math.pi), a, b)

    def moment(k: int, center: float) -> float:
        return simpson(lambda z: (z - center) ** k * np.exp(-z * z / 2), a, b) / (
            math.sqrt(2 * math.pi) * mass
        )

    m = moment(1, 0.0)
    return dist.mean + dist.std * m, dist.std**2 * moment(2, m), dist.std**4 * moment(4, m)


def theoretical_mean_std(dist: Distribution) -> tuple[float, float]:
    if isinstance(dist, UniformDistribution):
        return dist.mean, dist.std
    return dist.actual_mean, dist.actual_std


@pytest.mark.parametrize("dist", STAT_DISTRIBUTIONS)
def test_class_moments_match_quadrature(dist: Distribution) -> None:
    mean, std = theoretical_mean_std(dist)
    q_mean, q_var, _ = quadrature_moments(dist)
    assert mean == pytest.approx(q_mean, rel=1e-9, abs=1e-9 * std)
    assert std == pytest.approx(math.sqrt(q_var), rel=1e-9)


def test_truncated_std_constant() -> None:
    """The truncation factor in the docstring: std of N(0, 1) on [-2, 2]."""
    assert NormalDistribution(0.0, 1.0, -2.0, 2.0).actual_std == pytest.approx(
        0.87962566103423978, rel=1e-14
    )


@pytest.mark.parametrize("dist", STAT_DISTRIBUTIONS)
def test_sample_mean_and_variance(dist: Distribution) -> None:
    """Within 6 standard errors; the variance's standard error comes from the fourth moment."""
    values = stat_sample(dist).astype(np.float64)
    mean, std = theoretical_mean_std(dist)
    _, _, mu4 = quadrature_moments(dist)
    n = values.size
    sample_mean = float(values.mean())
    sample_var = float(np.mean((values - sample_mean) ** 2)) * n / (n - 1)
    assert abs(sample_mean - mean) <= SIGMAS * std / math.sqrt(n)
    assert abs(sample_var - std**2) <= SIGMAS * math.sqrt((mu4 - std**4) / n)


def theoretical_cdf(dist: Distribution) -> Callable[[float], float]:
    if isinstance(dist, UniformDistribution):
        return lambda x: min(1.0, max(0.0, (x - dist.low) / (dist.high - dist.low)))
    lo = centered_phi(dist.lower)
    mass = normal_mass(dist)
    return lambda x: min(1.0, max(0.0, (centered_phi((x - dist.mean) / dist.std) - lo) / mass))


def ks_distance(values: np.ndarray, cdf: Callable[[float], float]) -> float:
    """sup |F_n - F| for a sample that may hold ties (F evaluated once per distinct value)."""
    x = np.sort(values.astype(np.float64))
    distinct, inverse = np.unique(x, return_inverse=True)
    f = np.array([cdf(v) for v in distinct.tolist()])[inverse.reshape(-1)]
    n = x.size
    above = np.arange(1, n + 1) / n - f
    below = f - np.arange(n) / n
    return float(max(above.max(), below.max()))


@pytest.mark.parametrize("dist", STAT_DISTRIBUTIONS)
def test_kolmogorov_smirnov(dist: Distribution) -> None:
    distance = ks_distance(stat_sample(dist), theoretical_cdf(dist))
    assert distance <= KS_CRITICAL


@pytest.mark.parametrize("dist", STAT_DISTRIBUTIONS)
def test_sample_within_exact_bounds(dist: Distribution) -> None:
    values = stat_sample(dist)
    assert values.dtype == np.float32
    assert np.all(np.isfinite(values))
    assert_within_bounds_without_atoms(values, dist)


# --------------------------------------------------------------------------------------------
# 7. Memory: no full-size temporaries (numpy reports its allocations to tracemalloc).

MEMORY_DISTRIBUTIONS = [
    pytest.param(UniformDistribution(-0.3, 0.7), id="uniform"),
    pytest.param(NormalDistribution(0.1, 2.0, -1.0, 3.0), id="truncated"),
]
MiB = 2**20


def traced_peak(action: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        action()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("dist", MEMORY_DISTRIBUTIONS)
def test_fill_into_out_peak_does_not_grow_with_size(
    dist: Distribution, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Single-threaded, so the peak is deterministic: 16M elements need no more than 4M."""
    monkeypatch.setenv("ONEINIT_NUM_THREADS", "1")
    stream = Stream(1, 2)
    small, large = np.empty(2**22, np.float32), np.empty(2**24, np.float32)
    peak_small = traced_peak(lambda: stream.sample(dist, small.shape, out=small))
    peak_large = traced_peak(lambda: stream.sample(dist, large.shape, out=large))
    assert peak_large <= peak_small + MiB  # a per-element temporary would add >= 12 MiB
    assert peak_large < 16 * MiB


@pytest.mark.parametrize("dist", MEMORY_DISTRIBUTIONS)
def test_threaded_fill_into_out_peak_is_bounded(
    dist: Distribution, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Eight threads hold at most eight chunks' temporaries, far below the 64 MiB output."""
    monkeypatch.setenv("ONEINIT_NUM_THREADS", "8")
    out = np.empty(2**24, np.float32)
    assert traced_peak(lambda: Stream(1, 2).sample(dist, out.shape, out=out)) < 64 * MiB


@pytest.mark.parametrize("dist", MEMORY_DISTRIBUTIONS)
def test_fill_allocates_only_the_float32_output(
    dist: Distribution, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ONEINIT_NUM_THREADS", "8")
    count = 2**24
    peak = traced_peak(lambda: Stream(1, 2).sample(dist, (count,)))
    assert peak - 4 * count < 64 * MiB  # a float64 copy alone would be 128 MiB


# --------------------------------------------------------------------------------------------
# 8. Errors.

BAD_WORDS = [
    pytest.param(-1, ValueError, id="negative"),
    pytest.param(2**64, ValueError, id="2**64"),
    pytest.param(True, TypeError, id="bool"),
    pytest.param(1.0, TypeError, id="float"),
    pytest.param("1", TypeError, id="str"),
]
BAD_WORD_CALLS = [
    pytest.param(lambda v: Stream(v), "seed", id="Stream-seed"),
    pytest.param(lambda v: Stream(0, v), "key", id="Stream-key"),
    pytest.param(lambda v: Stream(seed=0, key=v), "key", id="Stream-key-keyword"),
    pytest.param(lambda v: random_bits(v, 0, (0, 4)), "seed", id="random_bits-seed"),
    pytest.param(lambda v: random_bits(0, v, (0, 4)), "key", id="random_bits-key"),
]


@pytest.mark.parametrize(("value", "error"), BAD_WORDS)
@pytest.mark.parametrize(("call", "name"), BAD_WORD_CALLS)
def test_bad_seed_or_key(
    value: object, error: type[Exception], call: Callable[[object], object], name: str
) -> None:
    with pytest.raises(error, match=rf"\b{name}\b.*Received: {name}="):
        call(value)


@pytest.mark.parametrize(
    "value",
    [0, 2**64 - 1, np.uint64(2**64 - 1), np.int64(5)],
    ids=["0", "max", "np.uint64", "np.int64"],
)
def test_good_seed_and_key(value: int) -> None:
    stream = Stream(value, value)
    expected = Stream(int(value), int(value)).sample(NormalDistribution(0.0, 1.0), (9,))
    np.testing.assert_array_equal(stream.sample(NormalDistribution(0.0, 1.0), (9,)), expected)


@pytest.mark.parametrize(
    "out",
    [
        pytest.param(np.empty((4, 5), np.float32), id="transposed-shape"),
        pytest.param(np.empty(20, np.float32), id="flat"),
        pytest.param(np.empty((5, 4, 1), np.float32), id="extra-axis"),
        pytest.param(np.empty((5, 8), np.float32)[:, ::2], id="not-contiguous"),
    ],
)
def test_bad_out(out: np.ndarray) -> None:
    with pytest.raises(ValueError, match=r"out.*Received: out\.shape="):
        Stream(0).sample(UniformDistribution(-1.0, 1.0), (5, 4), out=out)


# --------------------------------------------------------------------------------------------
# 9. Stream keys.


@pytest.mark.parametrize(
    ("name", "key"),
    [
        pytest.param("layer1.weight", 0x27CF4CB13A7CBF5E, id="layer1.weight"),
        pytest.param("", 0xB4B2797457A0A6E4, id="empty"),
        pytest.param("encoder/block.0/attn.q_proj.weight", 0x8255FDD5B0307034, id="nested"),
    ],
)
def test_key_from_name_is_pinned(name: str, key: int) -> None:
    assert key_from_name(name) == key


def test_child_is_deterministic() -> None:
    parent = Stream(7, 9)
    assert parent.child("a") == Stream(7, 9).child("a")
    np.testing.assert_array_equal(
        parent.child("a").sample(NormalDistribution(0.0, 1.0), (1000,)),
        Stream(7, 9).child("a").sample(NormalDistribution(0.0, 1.0), (1000,)),
    )


@pytest.mark.parametrize(
    ("first", "second"),
    [
        pytest.param(Stream(7, 9), Stream(7, 9).child("a"), id="parent-child"),
        pytest.param(Stream(7, 9).child("a"), Stream(7, 9).child("b"), id="siblings"),
        pytest.param(Stream(7, 9).child(1), Stream(7, 9).child(2), id="int-labels"),
        pytest.param(Stream(7, 9).child("a"), Stream(7, 10).child("a"), id="cousins"),
        pytest.param(Stream(7, 9).child("a"), Stream(7, 9).child("a").child("a"), id="grandchild"),
    ],
)
def test_child_streams_are_independent(first: Stream, second: Stream) -> None:
    """Different keys, and uncorrelated values: |r| below 6 standard errors (1/sqrt(n))."""
    assert first.key != second.key
    n = 2**16
    a = first.sample(NormalDistribution(0.0, 1.0), (n,)).astype(np.float64)
    b = second.sample(NormalDistribution(0.0, 1.0), (n,)).astype(np.float64)
    assert np.count_nonzero(a == b) <= 4  # each index coincides with probability ~2**-22
    assert abs(float(np.corrcoef(a, b)[0, 1])) <= SIGMAS / math.sqrt(n)


def test_child_keeps_the_seed() -> None:
    assert Stream(123, 4).child("x").seed == 123


# --------------------------------------------------------------------------------------------


def write_golden() -> None:
    """Rewrite the golden file from the current implementation (a breaking change: announce it)."""
    cases = {}
    for name, case in GOLDEN_CASES.items():
        words = [f"{int(w):08x}" for w in golden_words(case, np)]
        lines = [" ".join(words[i : i + 8]) for i in range(0, len(words), 8)]
        cases[name] = {**case, "words": lines}
    document = {
        "description": (
            "Golden outputs of oneinit.core.random. 'bits' cases hold random_bits(seed, key, "
            "(offset, count)); the others hold the float32 bit patterns of "
            "Stream(seed, key).sample(distribution, (count,), offset=offset), 8 hex words a line."
        ),
        "cases": cases,
    }
    GOLDEN.parent.mkdir(exist_ok=True)
    GOLDEN.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__" and sys.argv[1:] == ["--write-golden"]:
    write_golden()
