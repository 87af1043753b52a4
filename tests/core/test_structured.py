"""Tests for oneinit.core.structured: orthogonal, delta-orthogonal, identity, dirac, sparse,
bilinear.

Statistical checks use fixed seeds and tolerances of 5 standard errors derived from the sample
size, so they cannot flake and cannot pass by luck. Exact constructions are compared exactly.
Every construction also runs under ``array_api_strict`` and must match numpy's result.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from oneinit.core import structured
from oneinit.core.random import NormalDistribution, Stream, UniformDistribution

STREAM = Stream(seed=1234, key=7)
Z = 5.0  # standard errors allowed in statistical checks


def orthonormality_error(w: np.ndarray) -> float:
    """max |W W^T - I| (rows <= cols) or max |W^T W - I|, computed in float64."""
    m = w.reshape(w.shape[0], -1).astype(np.float64)
    gram = m @ m.T if m.shape[0] <= m.shape[1] else m.T @ m
    return float(np.abs(gram - np.eye(gram.shape[0])).max())


def float32_tolerance(n: int) -> float:
    """Orthonormality tolerance for float32 entries: rounding errors add up over n terms."""
    return 1e-5 * math.sqrt(n)


# --------------------------------------------------------------------------------------------
# orthogonal

ORTHOGONAL_SHAPES = [
    pytest.param((4, 8), id="wide-4x8"),
    pytest.param((8, 4), id="tall-8x4"),
    pytest.param((5, 5), id="square-5x5"),
    pytest.param((1, 7), id="one-row"),
    pytest.param((7, 1), id="one-column"),
    pytest.param((6, 2, 3, 3), id="conv2d-rows-lt-cols"),
    pytest.param((64, 3, 2, 2), id="conv2d-rows-gt-cols"),
    pytest.param((16, 4, 3), id="conv1d"),
    pytest.param((8, 2, 1, 2, 2), id="conv3d"),
]


@pytest.mark.parametrize("shape", ORTHOGONAL_SHAPES)
def test_orthogonal_is_orthonormal(shape: tuple[int, ...]) -> None:
    w = structured.orthogonal(shape, STREAM)
    assert w.shape == shape
    assert w.dtype == np.float32
    assert orthonormality_error(w) < float32_tolerance(max(w.shape[0], w.size // w.shape[0]))


@pytest.mark.parametrize("shape", ORTHOGONAL_SHAPES)
def test_orthogonal_follows_torch_construction(shape: tuple[int, ...]) -> None:
    # torch orthogonal_: Gaussian (rows, cols), transposed if rows < cols, QR, Q * sign(diag R).
    rows = shape[0]
    cols = math.prod(shape[1:])
    a = STREAM.sample(NormalDistribution(0.0, 1.0), (rows, cols)).astype(np.float64)
    if rows < cols:
        a = a.T
    q, r = np.linalg.qr(a)
    q = q * np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    expected = q.reshape(shape).astype(np.float32)
    np.testing.assert_array_equal(structured.orthogonal(shape, STREAM), expected)


@pytest.mark.parametrize(
    "gain", [pytest.param(g, id=f"gain={g:g}") for g in (0.0, 0.5, math.sqrt(2.0), 3.0)]
)
def test_orthogonal_gain_scales_matrix(gain: float) -> None:
    shape = (6, 3, 3)
    unit = structured.orthogonal(shape, STREAM).astype(np.float64)
    scaled = structured.orthogonal(shape, STREAM, gain).astype(np.float64)
    # Each is one float32 rounding (relative 2**-24) away from a multiple of the same float64
    # matrix, so they differ by at most two roundings; 2**-22 leaves a factor 2 of margin.
    np.testing.assert_allclose(scaled, gain * unit, rtol=2.0**-22, atol=0.0)
    m = scaled.reshape(6, -1)
    np.testing.assert_allclose(m @ m.T, gain**2 * np.eye(6), atol=gain**2 * float32_tolerance(9))


BLOCK_CASES = [
    pytest.param((32, 8), 4, id="lstm-4H-tall-blocks"),
    pytest.param((12, 16), 4, id="wide-blocks"),
    pytest.param((24, 8, 1), 3, id="gru-3H"),
    pytest.param((12, 2, 3), 3, id="conv-blocks"),
]


@pytest.mark.parametrize(("shape", "blocks"), BLOCK_CASES)
def test_orthogonal_blocks_are_each_orthonormal(shape: tuple[int, ...], blocks: int) -> None:
    w = structured.orthogonal(shape, STREAM, blocks=blocks).astype(np.float64)
    per_block = shape[0] // blocks
    cols = math.prod(shape[1:])
    parts = w.reshape(blocks, per_block, cols)
    if per_block <= cols:
        grams = np.einsum("bij,bkj->bik", parts, parts)
        size = per_block
    else:
        grams = np.einsum("bji,bjk->bik", parts, parts)
        size = cols
    error = np.abs(grams - np.eye(size)).max()
    assert error < float32_tolerance(max(per_block, cols))


@pytest.mark.parametrize(
    ("shape", "blocks"),
    [pytest.param((32, 8), 4, id="32x8-4-blocks"), pytest.param((16, 16), 4, id="16x16-4-blocks")],
)
def test_orthogonal_blocks_are_not_one_orthogonal_matrix(
    shape: tuple[int, int], blocks: int
) -> None:
    # Stacked orthogonal blocks: W^T W = sum of the blocks' Gram matrices (4 I for 32x8), and
    # the rows of different blocks are not orthogonal to each other.
    w = structured.orthogonal(shape, STREAM, blocks=blocks).astype(np.float64)
    whole = structured.orthogonal(shape, STREAM).astype(np.float64)
    assert orthonormality_error(w) > 0.1
    assert orthonormality_error(whole) < float32_tolerance(max(shape))
    if shape[0] > shape[1]:
        np.testing.assert_allclose(w.T @ w, blocks * np.eye(shape[1]), atol=1e-4)


@pytest.mark.parametrize("block", [pytest.param(j, id=f"block{j}") for j in range(4)])
def test_orthogonal_block_uses_its_child_stream(block: int) -> None:
    w = structured.orthogonal((32, 4, 2), STREAM, blocks=4)
    expected = structured.orthogonal((8, 4, 2), STREAM.child(f"block{block}"))
    np.testing.assert_array_equal(w[8 * block : 8 * (block + 1)], expected)


def test_orthogonal_one_block_uses_the_stream_itself() -> None:
    np.testing.assert_array_equal(
        structured.orthogonal((8, 8), STREAM, blocks=1), structured.orthogonal((8, 8), STREAM)
    )


HAAR_KEYS = 512
HAAR_SHAPES = [
    pytest.param((64, 64), id="square"),
    pytest.param((16, 64), id="wide"),
    pytest.param((64, 16), id="tall"),
]


def haar_samples(shape: tuple[int, int]) -> np.ndarray:
    """``HAAR_KEYS`` independent orthogonal matrices (fixed seed, keys 0..HAAR_KEYS-1)."""
    return np.stack(
        [structured.orthogonal(shape, Stream(seed=2024, key=k)) for k in range(HAAR_KEYS)]
    ).astype(np.float64)


@pytest.mark.parametrize("shape", HAAR_SHAPES)
def test_orthogonal_entry_moments_match_haar(shape: tuple[int, int]) -> None:
    # A fixed entry of a Haar (semi-)orthogonal matrix is a coordinate of a uniform unit vector
    # in R^n, n = max(rows, cols): E q = 0, E q^2 = 1/n, E q^4 = 3/(n(n+2)). Without the sign
    # fix, LAPACK's QR makes Q[0, 0] always <= 0 (mean ~ -0.1 here, 20 standard errors away).
    n = max(shape)
    entry = haar_samples(shape)[:, 0, 0]
    mean_se = math.sqrt(1.0 / n / HAAR_KEYS)
    square_se = math.sqrt((3.0 / (n * (n + 2)) - 1.0 / n**2) / HAAR_KEYS)
    assert abs(entry.mean()) < Z * mean_se
    assert abs((entry**2).mean() - 1.0 / n) < Z * square_se


def test_orthogonal_trace_matches_haar() -> None:
    # For Haar Q in O(n), n >= 2: E tr Q = 0 and E (tr Q)^2 = 1 (Diaconis & Shahshahani 1994).
    traces = np.trace(haar_samples((64, 64)), axis1=1, axis2=2)
    assert abs(traces.mean()) < Z * math.sqrt(1.0 / HAAR_KEYS)
    # Var((tr Q)^2) = E (tr Q)^4 - 1 = 3 - 1 = 2 (the trace is nearly N(0, 1) for n = 64).
    assert abs((traces**2).mean() - 1.0) < Z * math.sqrt(2.0 / HAAR_KEYS)


# --------------------------------------------------------------------------------------------
# determinism (random constructions)

RANDOM_CONSTRUCTIONS = [
    pytest.param(lambda s: structured.orthogonal((8, 4, 3), s), id="orthogonal"),
    pytest.param(lambda s: structured.orthogonal((8, 4), s, blocks=2), id="orthogonal-blocks"),
    pytest.param(lambda s: structured.delta_orthogonal((8, 4, 3, 3), s), id="delta_orthogonal"),
    pytest.param(lambda s: structured.sparse((20, 10), s, 0.3), id="sparse"),
]


@pytest.mark.parametrize("construct", RANDOM_CONSTRUCTIONS)
def test_same_stream_gives_same_values(construct: Callable[[Stream], np.ndarray]) -> None:
    np.testing.assert_array_equal(construct(Stream(5, 9)), construct(Stream(5, 9)))


@pytest.mark.parametrize("construct", RANDOM_CONSTRUCTIONS)
@pytest.mark.parametrize(
    "other",
    [pytest.param(Stream(5, 10), id="other-key"), pytest.param(Stream(6, 9), id="other-seed")],
)
def test_other_stream_gives_other_values(
    construct: Callable[[Stream], np.ndarray], other: Stream
) -> None:
    assert not np.array_equal(construct(Stream(5, 9)), construct(other))


# --------------------------------------------------------------------------------------------
# delta_orthogonal

DELTA_CASES = [
    pytest.param((8, 4, 3), 1.0, id="conv1d-k3"),
    pytest.param((6, 6, 3, 3), 1.0, id="conv2d-square"),
    pytest.param((16, 3, 4, 4), 2.0, id="conv2d-even-kernel"),
    pytest.param((5, 2, 3, 3, 3), 0.5, id="conv3d"),
    pytest.param((4, 4, 2, 1, 5), 1.0, id="conv3d-mixed-kernel"),
]


@pytest.mark.parametrize(("shape", "gain"), DELTA_CASES)
def test_delta_orthogonal_structure(shape: tuple[int, ...], gain: float) -> None:
    w = structured.delta_orthogonal(shape, STREAM, gain)
    assert w.shape == shape
    assert w.dtype == np.float32
    centre = (slice(None), slice(None), *(k // 2 for k in shape[2:]))
    matrix = w[centre].astype(np.float64)
    off_centre = w.copy()
    off_centre[centre] = 0.0
    np.testing.assert_array_equal(off_centre, np.zeros(shape, dtype=np.float32))
    # Orthonormal columns times gain, and exactly gain * orthogonal((out, in), stream).
    np.testing.assert_allclose(
        matrix.T @ matrix, gain**2 * np.eye(shape[1]), atol=gain**2 * float32_tolerance(shape[0])
    )
    np.testing.assert_array_equal(w[centre], structured.orthogonal(shape[:2], STREAM, gain))


# --------------------------------------------------------------------------------------------
# identity


@pytest.mark.parametrize(
    ("shape", "gain"),
    [
        pytest.param((4, 4), 1.0, id="square"),
        pytest.param((3, 5), 1.0, id="wide"),
        pytest.param((5, 3), 2.5, id="tall-gain"),
        pytest.param((1, 1), 0.0, id="scalar-zero-gain"),
    ],
)
def test_identity(shape: tuple[int, int], gain: float) -> None:
    w = structured.identity(shape, gain)
    assert w.dtype == np.float32
    np.testing.assert_array_equal(w, (gain * np.eye(*shape)).astype(np.float32))


# --------------------------------------------------------------------------------------------
# dirac


def torch_dirac_reference(shape: tuple[int, ...], groups: int, gain: float) -> np.ndarray:
    """torch.nn.init.dirac_, transcribed loop for loop (times gain)."""
    w = np.zeros(shape, dtype=np.float32)
    out_per_group = shape[0] // groups
    min_dim = min(out_per_group, shape[1])
    for g in range(groups):
        for d in range(min_dim):
            w[(g * out_per_group + d, d, *(k // 2 for k in shape[2:]))] = gain
    return w


DIRAC_CASES = [
    pytest.param((4, 4, 3), 1, 1.0, id="conv1d"),
    pytest.param((6, 2, 3, 3), 3, 1.0, id="conv2d-groups3"),
    pytest.param((4, 3, 4, 4), 1, 1.0, id="conv2d-even-kernel"),
    pytest.param((8, 2, 3, 5, 4), 2, 1.0, id="conv3d-groups2"),
    pytest.param((6, 6, 1, 1), 2, 1.0, id="in-gt-out-per-group"),
    pytest.param((2, 5, 3), 1, 1.0, id="in-gt-out"),
    pytest.param((4, 4, 2, 2), 4, 1.0, id="depthwise"),
    pytest.param((6, 3, 3, 3), 2, 0.5, id="gain"),
]


@pytest.mark.parametrize(("shape", "groups", "gain"), DIRAC_CASES)
def test_dirac_equals_torch_algorithm(shape: tuple[int, ...], groups: int, gain: float) -> None:
    w = structured.dirac(shape, groups, gain)
    assert w.dtype == np.float32
    np.testing.assert_array_equal(w, torch_dirac_reference(shape, groups, gain))


# --------------------------------------------------------------------------------------------
# sparse

SPARSE_CASES = [
    pytest.param((10, 5), 0.3, id="10x5-0.3"),  # ceil(0.3 * 10) = ceil(3.0000000000000004) = 4
    pytest.param((10, 5), 0.1, id="10x5-0.1"),
    pytest.param((7, 3), 0.5, id="7x3-0.5"),
    pytest.param((1, 4), 0.5, id="one-row"),
    pytest.param((5, 5), 0.0, id="dense"),
    pytest.param((6, 2), 0.99, id="almost-empty"),
    pytest.param((200, 300), 0.25, id="200x300-0.25"),
]


@pytest.mark.parametrize(("shape", "sparsity"), SPARSE_CASES)
def test_sparse_zero_count_per_column(shape: tuple[int, int], sparsity: float) -> None:
    w = structured.sparse(shape, STREAM, sparsity)
    assert w.shape == shape
    assert w.dtype == np.float32
    zeros = np.count_nonzero(w == 0.0, axis=0)
    np.testing.assert_array_equal(zeros, np.full(shape[1], math.ceil(sparsity * shape[0])))


@pytest.mark.parametrize(("shape", "sparsity"), SPARSE_CASES)
def test_sparse_keeps_the_values_stream(shape: tuple[int, int], sparsity: float) -> None:
    w = structured.sparse(shape, STREAM, sparsity, std=0.02)
    values = STREAM.child("values").sample(NormalDistribution(0.0, 0.02), shape)
    kept = w != 0.0
    np.testing.assert_array_equal(w[kept], values[kept])


@pytest.mark.parametrize("std", [pytest.param(s, id=f"std={s:g}") for s in (0.01, 0.5, 3.0)])
def test_sparse_nonzero_std(std: float) -> None:
    w = structured.sparse((200, 300), STREAM, 0.25, std)
    nonzero = w[w != 0.0].astype(np.float64)
    n = nonzero.size
    # Sample variance of n normals: standard error std^2 * sqrt(2 / (n - 1)).
    assert abs(nonzero.var() - std**2) < Z * std**2 * math.sqrt(2.0 / (n - 1))
    assert abs(nonzero.mean()) < Z * std / math.sqrt(n)


def test_sparse_mask_is_uniform_over_rows() -> None:
    # Each row is zeroed in a column with probability z / rows, independently across columns:
    # per-row zero counts are Binomial(cols, z / rows).
    rows, cols, sparsity = 50, 2000, 0.2
    w = structured.sparse((rows, cols), STREAM, sparsity)
    p = math.ceil(sparsity * rows) / rows
    per_row = np.count_nonzero(w == 0.0, axis=1)
    assert np.abs(per_row - cols * p).max() < Z * math.sqrt(cols * p * (1 - p))


def test_sparse_mask_follows_the_mask_stream_ranks() -> None:
    # The zeros sit at the lowest uniform keys of each column (ties by row index).
    rows, cols, sparsity = 12, 6, 0.4
    w = structured.sparse((rows, cols), STREAM, sparsity)
    keys = STREAM.child("mask").sample(UniformDistribution(0.0, 1.0), (rows, cols))
    order = np.argsort(keys, axis=0, kind="stable")
    rank = np.argsort(order, axis=0, kind="stable")
    np.testing.assert_array_equal(w == 0.0, rank < math.ceil(sparsity * rows))


# --------------------------------------------------------------------------------------------
# bilinear

BILINEAR_PROFILES = [
    pytest.param(1, [1.0], id="k1"),
    pytest.param(2, [1.0, 0.0], id="k2"),
    pytest.param(3, [0.25, 0.75, 0.75], id="k3"),  # f = 2, c = 3/4 (MXNet and Caffe)
    pytest.param(4, [0.25, 0.75, 0.75, 0.25], id="k4"),
]


@pytest.mark.parametrize(("k", "profile"), BILINEAR_PROFILES)
def test_bilinear_exact_values(k: int, profile: list[float]) -> None:
    w = structured.bilinear((3, 2, k, k))
    assert w.dtype == np.float32
    kernel = np.outer(profile, profile).astype(np.float32)
    np.testing.assert_array_equal(w, np.broadcast_to(kernel, (3, 2, k, k)))


def test_bilinear_k4_first_row() -> None:
    np.testing.assert_array_equal(
        structured.bilinear((1, 1, 4, 4))[0, 0, 0],
        np.array([0.0625, 0.1875, 0.1875, 0.0625], dtype=np.float32),
    )


def test_bilinear_k5_is_symmetric_upsampling_by_3() -> None:
    third = np.array([1 / 3, 2 / 3, 1.0, 2 / 3, 1 / 3])
    w = structured.bilinear((1, 1, 5, 5))[0, 0]
    np.testing.assert_allclose(w, np.outer(third, third), rtol=2.0**-23, atol=0.0)
    np.testing.assert_array_equal(w, w.T)
    np.testing.assert_array_equal(w, w[::-1, ::-1])


# --------------------------------------------------------------------------------------------
# errors

ERROR_CASES = [
    # common shape checks
    pytest.param(structured.identity, ((0, 3),), {}, ValueError, "positive", id="zero-dim"),
    pytest.param(structured.dirac, ((4, 4, -3),), {}, ValueError, "positive", id="negative-dim"),
    pytest.param(
        structured.orthogonal, ((4, 0), STREAM), {}, ValueError, "positive", id="orthogonal-zero"
    ),
    pytest.param(structured.sparse, ((4, 2.0), STREAM, 0.5), {}, TypeError, "int", id="float-dim"),
    pytest.param(structured.bilinear, ((1, True, 2, 2),), {}, TypeError, "int", id="bool-dim"),
    pytest.param(structured.identity, (4,), {}, TypeError, "tuple", id="shape-not-tuple"),
    pytest.param(structured.identity, ("ab",), {}, TypeError, "tuple", id="shape-str"),
    # orthogonal
    pytest.param(structured.orthogonal, ((4,), STREAM), {}, ValueError, "at least 2", id="o-1d"),
    pytest.param(
        structured.orthogonal,
        ((6, 4), STREAM),
        {"blocks": 4},
        ValueError,
        "divisible",
        id="o-blocks-not-divisor",
    ),
    pytest.param(
        structured.orthogonal,
        ((8, 4), STREAM),
        {"blocks": 0},
        ValueError,
        "blocks >= 1",
        id="o-blocks-zero",
    ),
    pytest.param(
        structured.orthogonal,
        ((8, 4), STREAM),
        {"blocks": 2.0},
        TypeError,
        "int",
        id="o-blocks-float",
    ),
    pytest.param(
        structured.orthogonal, ((4, 4), STREAM, -1.0), {}, ValueError, "gain", id="o-neg-gain"
    ),
    pytest.param(
        structured.orthogonal,
        ((4, 4), STREAM, math.inf),
        {},
        ValueError,
        "finite",
        id="o-inf-gain",
    ),
    pytest.param(
        structured.orthogonal,
        ((4, 4), STREAM, math.nan),
        {},
        ValueError,
        "finite",
        id="o-nan-gain",
    ),
    pytest.param(
        structured.orthogonal, ((4, 4), STREAM, "1"), {}, TypeError, "real", id="o-str-gain"
    ),
    pytest.param(structured.orthogonal, ((4, 4), 0), {}, TypeError, "Stream", id="o-no-stream"),
    # delta_orthogonal
    pytest.param(
        structured.delta_orthogonal, ((4, 4), STREAM), {}, ValueError, "3 to 5", id="d-2d"
    ),
    pytest.param(
        structured.delta_orthogonal,
        ((4, 4, 1, 1, 1, 1), STREAM),
        {},
        ValueError,
        "3 to 5",
        id="d-6d",
    ),
    pytest.param(
        structured.delta_orthogonal,
        ((4, 8, 3, 3), STREAM),
        {},
        ValueError,
        "in_per_group <= out",
        id="d-in-gt-out",
    ),
    pytest.param(
        structured.delta_orthogonal,
        ((8, 4, 3), STREAM, -0.5),
        {},
        ValueError,
        "gain",
        id="d-neg-gain",
    ),
    # identity
    pytest.param(structured.identity, ((4, 4, 1),), {}, ValueError, "exactly 2", id="i-3d"),
    pytest.param(structured.identity, ((4, 4), -2.0), {}, ValueError, "gain", id="i-neg-gain"),
    # dirac
    pytest.param(structured.dirac, ((4, 4),), {}, ValueError, "3 to 5", id="dirac-2d"),
    pytest.param(structured.dirac, ((4, 4, 1, 1, 1, 1),), {}, ValueError, "3 to 5", id="dirac-6d"),
    pytest.param(structured.dirac, ((6, 4, 3), 4), {}, ValueError, "divisible", id="dirac-groups"),
    pytest.param(structured.dirac, ((6, 4, 3), 0), {}, ValueError, "groups", id="dirac-groups0"),
    pytest.param(
        structured.dirac, ((6, 4, 3), 1, math.inf), {}, ValueError, "finite", id="dirac-inf-gain"
    ),
    # sparse
    pytest.param(
        structured.sparse, ((4, 4, 1), STREAM, 0.5), {}, ValueError, "exactly 2", id="s-3d"
    ),
    pytest.param(
        structured.sparse, ((4, 4), STREAM, 1.0), {}, ValueError, "sparsity", id="s-sparsity-one"
    ),
    pytest.param(
        structured.sparse,
        ((4, 4), STREAM, -0.1),
        {},
        ValueError,
        "sparsity",
        id="s-sparsity-negative",
    ),
    pytest.param(
        structured.sparse,
        ((4, 4), STREAM, math.nan),
        {},
        ValueError,
        "sparsity",
        id="s-sparsity-nan",
    ),
    pytest.param(
        structured.sparse, ((4, 4), STREAM, None), {}, TypeError, "sparsity", id="s-sparsity-none"
    ),
    pytest.param(
        structured.sparse, ((4, 4), STREAM, 0.5, -0.01), {}, ValueError, "std", id="s-neg-std"
    ),
    # bilinear
    pytest.param(structured.bilinear, ((1, 4, 4),), {}, ValueError, "exactly 4", id="b-3d"),
    pytest.param(structured.bilinear, ((1, 1, 4, 3),), {}, ValueError, "square", id="b-not-square"),
]


@pytest.mark.parametrize(("function", "args", "kwargs", "error", "fragment"), ERROR_CASES)
def test_errors(
    function: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    error: type[Exception],
    fragment: str,
) -> None:
    with pytest.raises(error, match=fragment) as info:
        function(*args, **kwargs)
    assert "Received: " in str(info.value)


# --------------------------------------------------------------------------------------------
# array API: the same results under array_api_strict


@pytest.fixture(scope="module")
def strict() -> Any:
    """The array_api_strict namespace; imported here so collection imports it only on use."""
    try:
        import array_api_strict
    except ImportError:  # a missing backend fails the run, it never silently skips
        pytest.fail("these tests need array-api-strict: pip install array-api-strict")
    return array_api_strict


XP_CONSTRUCTIONS = [
    pytest.param(lambda xp: structured.orthogonal((6, 2, 3), STREAM, 1.5, xp=xp), id="orthogonal"),
    pytest.param(lambda xp: structured.orthogonal((12, 2), STREAM, xp=xp), id="orthogonal-tall"),
    pytest.param(
        lambda xp: structured.orthogonal((12, 5), STREAM, blocks=3, xp=xp), id="orthogonal-blocks"
    ),
    pytest.param(
        lambda xp: structured.delta_orthogonal((6, 4, 4, 3), STREAM, 2.0, xp=xp),
        id="delta_orthogonal",
    ),
    pytest.param(lambda xp: structured.identity((3, 5), 0.5, xp=xp), id="identity"),
    pytest.param(lambda xp: structured.dirac((6, 2, 3, 4), 3, 2.0, xp=xp), id="dirac"),
    pytest.param(lambda xp: structured.sparse((30, 7), STREAM, 0.3, 0.1, xp=xp), id="sparse"),
    pytest.param(lambda xp: structured.bilinear((2, 3, 4, 4), xp=xp), id="bilinear"),
]


@pytest.mark.parametrize("construct", XP_CONSTRUCTIONS)
def test_array_api_strict_matches_numpy(construct: Callable[[Any], Any], strict: Any) -> None:
    expected = construct(np)
    result = construct(strict)
    assert result.dtype == strict.float32
    assert tuple(result.shape) == expected.shape
    np.testing.assert_allclose(np.asarray(result), expected, rtol=0.0, atol=1e-6)
