"""Tests for oneinit.core.schemes: distributions, configuration, portable samples and errors.

- ``distribution_for`` is compared with the papers' and frameworks' formulas written out by hand.
- Statistical tests draw with fixed seeds and allow ``Z`` standard errors derived from the
  sample size for the mean and the variance, and the Kolmogorov-Smirnov distance at the
  alpha = 1e-6 critical value; bounds are asserted exactly. The expected std always follows the
  *correct* fans of the layer (transposed and depthwise convolutions included), which differ
  from every framework's own rule by a factor of 2 or more, far beyond the tolerances.
- Golden values pin what ``seed=0, key="golden"`` produces for every scheme.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from oneinit.core.fans import Fans, Layout, compute_fans
from oneinit.core.random import NormalDistribution, UniformDistribution
from oneinit.core.schemes import (
    Assign,
    Bilinear,
    Constant,
    CustomScheme,
    DeltaOrthogonal,
    Dirac,
    FunctionScheme,
    Generator,
    GlorotNormal,
    GlorotUniform,
    HeNormal,
    HeUniform,
    Identity,
    KaimingNormal,
    KaimingUniform,
    LecunNormal,
    LecunUniform,
    Normal,
    Ones,
    Orthogonal,
    RandomScheme,
    Scheme,
    Sparse,
    TruncatedNormal,
    Uniform,
    VarianceScaling,
    XavierNormal,
    XavierUniform,
    Zeros,
    scheme_from_config,
)

Z = 5.0  # standard errors allowed for sample means and variances
KS_ALPHA = 1e-6
# Std of N(0, 1) truncated to [-2, 2]: sqrt(1 - 4 phi(2) / (Phi(2) - Phi(-2))).
TRUNC_STD_2 = 0.87962566103423978
REL = 1e-15  # "exact" float64 formulas: a few ulp of rounding in a different operation order
SQRT2 = math.sqrt(2.0)


# --------------------------------------------------------------------------------------------
# User-defined schemes: "U(5, 10) w.p. 1/4, 0 w.p. 1/2, U(-10, -5) w.p. 1/4".


@dataclass(frozen=True)
class SignedBandMixture(CustomScheme):
    """U(low, high) w.p. p_band, 0 w.p. 1 - 2 p_band, U(-high, -low) w.p. p_band."""

    p_band: float = 0.25
    low: float = 5.0
    high: float = 10.0

    def draw(self, shape: tuple[int, ...], fans: Fans | None, generator: Generator) -> Any:
        xp = generator.xp
        choice = generator.uniform(shape)
        magnitude = generator.uniform(shape, self.low, self.high)
        zero = xp.zeros(shape, dtype=xp.float32)
        upper = 1.0 - self.p_band
        return xp.where(choice < self.p_band, magnitude, xp.where(choice < upper, zero, -magnitude))


def band_mixture(shape: tuple[int, ...], fans: Fans | None, generator: Generator) -> Any:
    """The same mixture as a plain function, for FunctionScheme."""
    return SignedBandMixture().draw(shape, fans, generator)


# --------------------------------------------------------------------------------------------
# Theoretical distributions, written independently of the library.


def _phi(x: float) -> float:
    return math.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi) if math.isfinite(x) else 0.0


def _big_phi(x: float) -> float:
    return 0.5 * math.erfc(-x / SQRT2)


_erfc = np.frompyfunc(math.erfc, 1, 1)


@dataclass(frozen=True)
class U:
    """U(low, high)."""

    low: float
    high: float

    @property
    def mean(self) -> float:
        return (self.low + self.high) / 2

    @property
    def var(self) -> float:
        return (self.high - self.low) ** 2 / 12

    @property
    def mu4(self) -> float:
        return (self.high - self.low) ** 4 / 80

    def cdf(self, x: np.ndarray) -> np.ndarray:
        return np.clip((x - self.low) / (self.high - self.low), 0.0, 1.0)


@dataclass(frozen=True)
class N:
    """N(mean, std**2) truncated to [a, b] standard deviations (infinite: untruncated)."""

    mean: float
    std: float
    a: float = -math.inf
    b: float = math.inf

    def _raw_moments(self) -> tuple[float, float, float, float]:
        """E[X^k], k = 1..4, of the standardized truncated normal (recursion in k)."""
        a, b = self.a, self.b
        mass = _big_phi(b) - _big_phi(a)

        def edge(k: int) -> float:
            ta = a**k * _phi(a) if math.isfinite(a) else 0.0
            tb = b**k * _phi(b) if math.isfinite(b) else 0.0
            return (ta - tb) / mass

        m1 = edge(0)
        m2 = 1.0 + edge(1)
        m3 = 2.0 * m1 + edge(2)
        m4 = 3.0 * m2 + edge(3)
        return m1, m2, m3, m4

    @property
    def mean_(self) -> float:
        return self.mean + self.std * self._raw_moments()[0]

    @property
    def var(self) -> float:
        m1, m2, _, _ = self._raw_moments()
        return self.std**2 * (m2 - m1**2)

    @property
    def mu4(self) -> float:
        m1, m2, m3, m4 = self._raw_moments()
        return self.std**4 * (m4 - 4 * m1 * m3 + 6 * m1**2 * m2 - 3 * m1**4)

    def cdf(self, x: np.ndarray) -> np.ndarray:
        z = (x - self.mean) / self.std
        big = 0.5 * _erfc(-z / SQRT2).astype(np.float64)
        lo, hi = _big_phi(self.a), _big_phi(self.b)
        return np.clip((big - lo) / (hi - lo), 0.0, 1.0)


def _mean_of(d: U | N) -> float:
    return d.mean if isinstance(d, U) else d.mean_


def assert_matches_distribution(values: np.ndarray, expected: U | N) -> None:
    """Exact bounds; mean and variance within Z standard errors; KS distance below the
    alpha = KS_ALPHA critical value sqrt(ln(2 / alpha) / 2) / sqrt(n)."""
    assert values.dtype == np.float32
    x = values.astype(np.float64).ravel()
    n = x.size
    if isinstance(expected, U):
        # Bounds are the float32 values of the exact bounds.
        assert x.min() >= float(np.float32(expected.low))
        assert x.max() <= float(np.float32(expected.high))
    elif math.isfinite(expected.a) or math.isfinite(expected.b):
        # Truncated values stay inside the exact bounds.
        assert x.min() >= expected.mean + expected.std * expected.a
        assert x.max() <= expected.mean + expected.std * expected.b
    else:
        # 24-bit uniforms reach Phi^-1(1 - 2**-25) = 5.42 standard deviations at most.
        assert np.abs(x - expected.mean).max() <= 5.43 * expected.std
    mean, var = _mean_of(expected), expected.var
    assert abs(x.mean() - mean) <= Z * math.sqrt(var / n)
    assert abs(x.var() - var) <= Z * math.sqrt((expected.mu4 - var**2) / n)
    xs = np.sort(x)
    cdf = expected.cdf(xs)
    i = np.arange(1, n + 1)
    distance = max(float(np.max(i / n - cdf)), float(np.max(cdf - (i - 1) / n)))
    assert distance <= math.sqrt(math.log(2.0 / KS_ALPHA) / 2.0) / math.sqrt(n)


# --------------------------------------------------------------------------------------------
# distribution_for: exact numbers.

FANS = Fans(144, 288, 9)  # e.g. torch ConvTranspose2d(16 -> 32, 3x3) with the correct fans
FI, FO = 144.0, 288.0
FA, FG = (FI + FO) / 2, math.sqrt(FI * FO)


def _modes() -> dict[str, float]:
    return {"fan_in": FI, "fan_out": FO, "fan_avg": FA, "fan_geo_avg": FG}


def _vs_expected(scale: float, fan: float, distribution: str) -> U | N:
    var = scale / fan
    if distribution == "uniform":
        bound = math.sqrt(3 * var)
        return U(-bound, bound)
    if distribution in ("normal", "untruncated_normal"):
        return N(0.0, math.sqrt(var))
    return N(0.0, math.sqrt(var) / TRUNC_STD_2, -2.0, 2.0)


VS_CASES = [
    pytest.param(
        VarianceScaling(scale=0.7, mode=mode, distribution=dist),
        _vs_expected(0.7, fan, dist),
        id=f"variance_scaling-{mode}-{dist}",
    )
    for mode, fan in _modes().items()
    for dist in ("uniform", "normal", "untruncated_normal", "truncated_normal")
]

DISTRIBUTION_CASES = [
    pytest.param(Uniform(-0.3, 0.7), U(-0.3, 0.7), id="uniform"),
    pytest.param(Normal(0.5, 2.0), N(0.5, 2.0), id="normal"),
    pytest.param(
        TruncatedNormal(0.1, 0.5, -1.5, 2.5, units="std"),
        N(0.1, 0.5, -1.5, 2.5),
        id="truncated_normal-std",
    ),
    pytest.param(
        TruncatedNormal(0.5, 2.0, -1.0, 3.0, units="absolute"),
        N(0.5, 2.0, -0.75, 1.25),
        id="truncated_normal-absolute",
    ),
    pytest.param(TruncatedNormal(), N(0.0, 1.0, -2.0, 2.0), id="truncated_normal-default"),
    *VS_CASES,
    pytest.param(
        VarianceScaling(), _vs_expected(1.0, FI, "truncated_normal"), id="variance_scaling-default"
    ),
    pytest.param(
        GlorotUniform(), U(-math.sqrt(6 / (FI + FO)), math.sqrt(6 / (FI + FO))), id="glorot_uniform"
    ),
    pytest.param(
        GlorotUniform(gain=1.5),
        U(-1.5 * math.sqrt(6 / (FI + FO)), 1.5 * math.sqrt(6 / (FI + FO))),
        id="glorot_uniform-gain",
    ),
    pytest.param(GlorotNormal(), N(0.0, math.sqrt(2 / (FI + FO))), id="glorot_normal"),
    pytest.param(
        GlorotNormal(gain=2.0, distribution="truncated_normal"),
        N(0.0, 2.0 * math.sqrt(2 / (FI + FO)) / TRUNC_STD_2, -2.0, 2.0),
        id="glorot_normal-truncated",
    ),
    pytest.param(HeUniform(), U(-math.sqrt(6 / FI), math.sqrt(6 / FI)), id="he_uniform"),
    pytest.param(
        HeUniform(mode="fan_out"), U(-math.sqrt(6 / FO), math.sqrt(6 / FO)), id="he_uniform-fan_out"
    ),
    # torch's Linear/Conv default: kaiming_uniform_(a=sqrt(5)) = U(+-1/sqrt(fan_in))
    pytest.param(
        HeUniform(negative_slope=math.sqrt(5), nonlinearity="leaky_relu"),
        U(-1 / math.sqrt(FI), 1 / math.sqrt(FI)),
        id="he_uniform-torch_default_a_sqrt5",
    ),
    pytest.param(
        HeUniform(nonlinearity="tanh"),
        U(-(5 / 3) * math.sqrt(3 / FI), (5 / 3) * math.sqrt(3 / FI)),
        id="he_uniform-tanh",
    ),
    pytest.param(HeNormal(), N(0.0, math.sqrt(2 / FI)), id="he_normal"),
    pytest.param(
        HeNormal(negative_slope=0.2, nonlinearity="leaky_relu", mode="fan_avg"),
        N(0.0, math.sqrt(2 / (1 + 0.2**2)) / math.sqrt(FA)),
        id="he_normal-leaky_relu-fan_avg",
    ),
    # As torch and Paddle: the slope only counts for leaky_relu.
    pytest.param(
        HeNormal(negative_slope=0.2),
        N(0.0, math.sqrt(2 / FI)),
        id="he_normal-slope_ignored_for_relu",
    ),
    pytest.param(HeNormal(nonlinearity="linear"), N(0.0, math.sqrt(1 / FI)), id="he_normal-linear"),
    pytest.param(HeNormal(nonlinearity="selu"), N(0.0, 0.75 / math.sqrt(FI)), id="he_normal-selu"),
    pytest.param(
        HeNormal(mode="fan_out", distribution="truncated_normal"),
        N(0.0, math.sqrt(2 / FO) / TRUNC_STD_2, -2.0, 2.0),
        id="he_normal-fan_out-truncated",
    ),
    pytest.param(LecunUniform(), U(-math.sqrt(3 / FI), math.sqrt(3 / FI)), id="lecun_uniform"),
    pytest.param(LecunNormal(), N(0.0, math.sqrt(1 / FI)), id="lecun_normal"),
    pytest.param(
        LecunNormal(distribution="truncated_normal"),
        N(0.0, math.sqrt(1 / FI) / TRUNC_STD_2, -2.0, 2.0),
        id="lecun_normal-truncated",
    ),
]


def assert_distribution_equal(actual: Any, expected: U | N) -> None:
    if isinstance(expected, U):
        assert isinstance(actual, UniformDistribution)
        assert actual.low == pytest.approx(expected.low, rel=REL, abs=0)
        assert actual.high == pytest.approx(expected.high, rel=REL, abs=0)
        return
    assert isinstance(actual, NormalDistribution)
    assert actual.mean == pytest.approx(expected.mean, rel=REL, abs=0)
    assert actual.std == pytest.approx(expected.std, rel=REL, abs=0)
    assert (actual.lower, actual.upper) == (expected.a, expected.b)


@pytest.mark.parametrize(("scheme", "expected"), DISTRIBUTION_CASES)
def test_distribution_for(scheme: RandomScheme, expected: U | N) -> None:
    assert_distribution_equal(scheme.distribution_for(FANS), expected)


def test_truncated_normal_constant() -> None:
    from oneinit.core.schemes import TRUNCATED_NORMAL_STD_2SIGMA

    assert TRUNCATED_NORMAL_STD_2SIGMA == pytest.approx(TRUNC_STD_2, rel=REL, abs=0)
    # The truncated variance-scaling normal keeps the variance: actual std = sqrt(var).
    dist = VarianceScaling(2.0, "fan_in", "truncated_normal").distribution_for(FANS)
    assert dist.actual_std == pytest.approx(math.sqrt(2.0 / FI), rel=1e-14)


def test_variance_scaling_clamps_fan_at_one() -> None:
    dist = HeNormal().distribution_for(Fans(0, 5))
    assert dist.std == pytest.approx(SQRT2, rel=REL)


@pytest.mark.parametrize(
    ("scheme", "value"),
    [
        pytest.param(Zeros(), 0.0, id="zeros"),
        pytest.param(Ones(), 1.0, id="ones"),
        pytest.param(Constant(0.25), 0.25, id="constant"),
        pytest.param(Constant(-3), -3.0, id="constant-int"),
    ],
)
def test_constants(scheme: Any, value: float) -> None:
    assert scheme.value == value
    w = scheme.sample((3, 3, 4, 5), seed=0, layout="conv_k_in_out")
    assert w.dtype == np.float32
    assert w.shape == (3, 3, 4, 5)
    assert np.all(w == np.float32(value))


# --------------------------------------------------------------------------------------------
# Aliases, immutability, equality, hashing, configuration.


@pytest.mark.parametrize(
    ("alias", "scheme"),
    [
        pytest.param(XavierUniform, GlorotUniform, id="XavierUniform"),
        pytest.param(XavierNormal, GlorotNormal, id="XavierNormal"),
        pytest.param(KaimingUniform, HeUniform, id="KaimingUniform"),
        pytest.param(KaimingNormal, HeNormal, id="KaimingNormal"),
    ],
)
def test_aliases_are_the_same_classes(alias: type, scheme: type) -> None:
    assert alias is scheme


def test_untruncated_normal_alias_normalizes() -> None:
    alias = VarianceScaling(distribution="untruncated_normal")
    assert alias == VarianceScaling(distribution="normal")
    assert alias.distribution == "normal"


ASSIGN_VALUES = np.arange(16 * 8, dtype=np.float32).reshape(8, 16) / 64.0 - 1.0

# (factory, a factory of a different scheme of the same class or a near one)
ALL_SCHEMES = [
    pytest.param(Zeros, Ones, id="zeros"),
    pytest.param(Ones, Zeros, id="ones"),
    pytest.param(lambda: Constant(0.25), lambda: Constant(0.5), id="constant"),
    pytest.param(lambda: Uniform(-0.3, 0.7), lambda: Uniform(-0.3, 0.8), id="uniform"),
    pytest.param(lambda: Normal(0.5, 2.0), lambda: Normal(0.5, 2.5), id="normal"),
    pytest.param(
        lambda: TruncatedNormal(0.1, 0.5, -1.5, 2.5, "std"),
        lambda: TruncatedNormal(0.1, 0.5, -1.5, 2.5, "absolute"),
        id="truncated_normal-std",
    ),
    pytest.param(
        lambda: TruncatedNormal(0.5, 2.0, -1.0, 3.0, "absolute"),
        lambda: TruncatedNormal(0.5, 2.0, -1.0, 3.5, "absolute"),
        id="truncated_normal-absolute",
    ),
    *[
        pytest.param(
            lambda mode=mode, dist=dist: VarianceScaling(0.7, mode, dist),
            lambda mode=mode, dist=dist: VarianceScaling(0.8, mode, dist),
            id=f"variance_scaling-{mode}-{dist}",
        )
        for mode in ("fan_in", "fan_out", "fan_avg", "fan_geo_avg")
        for dist in ("uniform", "normal", "untruncated_normal", "truncated_normal")
    ],
    pytest.param(lambda: GlorotUniform(1.5), lambda: GlorotUniform(1.0), id="glorot_uniform"),
    pytest.param(lambda: GlorotNormal(1.0, "truncated_normal"), GlorotNormal, id="glorot_normal"),
    pytest.param(
        lambda: HeUniform(math.sqrt(5), "fan_out", "leaky_relu"),
        lambda: HeUniform(math.sqrt(5), "fan_in", "leaky_relu"),
        id="he_uniform",
    ),
    pytest.param(
        lambda: HeNormal(0.2, "fan_avg", "leaky_relu", "truncated_normal"),
        lambda: HeNormal(0.2, "fan_avg", "leaky_relu", "normal"),
        id="he_normal",
    ),
    pytest.param(LecunUniform, LecunNormal, id="lecun_uniform"),
    pytest.param(lambda: LecunNormal("truncated_normal"), LecunNormal, id="lecun_normal"),
    pytest.param(lambda: Orthogonal(1.5), Orthogonal, id="orthogonal"),
    pytest.param(lambda: DeltaOrthogonal(2.0), DeltaOrthogonal, id="delta_orthogonal"),
    pytest.param(lambda: Identity(0.5), Identity, id="identity"),
    pytest.param(lambda: Dirac(2.0), Dirac, id="dirac"),
    pytest.param(lambda: Sparse(0.3, 0.02), lambda: Sparse(0.3, 0.03), id="sparse"),
    pytest.param(Bilinear, Zeros, id="bilinear"),
    pytest.param(
        lambda: Assign(ASSIGN_VALUES, layout="dense_out_in"),
        lambda: Assign(ASSIGN_VALUES, layout="dense_in_out"),
        id="assign",
    ),
    pytest.param(
        lambda: SignedBandMixture(0.25, 5.0, 10.0),
        lambda: SignedBandMixture(0.2, 5.0, 10.0),
        id="custom_scheme",
    ),
    pytest.param(
        lambda: FunctionScheme.wrap(band_mixture),
        lambda: FunctionScheme.wrap(SignedBandMixture.draw),
        id="function_scheme",
    ),
]


@pytest.mark.parametrize(("make", "make_other"), ALL_SCHEMES)
def test_schemes_are_immutable(make: Callable[[], Scheme], make_other: Any) -> None:
    scheme = make()
    fields = dataclasses.fields(scheme)
    name = fields[0].name if fields else "gain"
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(scheme, name, 1.0)


@pytest.mark.parametrize(("make", "make_other"), ALL_SCHEMES)
def test_equality_and_hash_by_value(
    make: Callable[[], Scheme], make_other: Callable[[], Scheme]
) -> None:
    a, b, other = make(), make(), make_other()
    assert a is not b
    assert a == b
    assert hash(a) == hash(b)
    assert a != other
    assert len({a, b, other}) == 2


@pytest.mark.parametrize(("make", "make_other"), ALL_SCHEMES)
def test_config_round_trips_through_json(make: Callable[[], Scheme], make_other: Any) -> None:
    scheme = make()
    config = scheme.to_config()
    assert config["scheme"] == type(scheme).__name__
    text = json.dumps(config, allow_nan=False)
    restored = scheme_from_config(json.loads(text))
    assert restored == scheme
    assert type(restored) is type(scheme)
    assert type(scheme).from_config(json.loads(text)) == scheme


def test_assign_values_are_a_read_only_copy() -> None:
    source = ASSIGN_VALUES.copy()
    scheme = Assign(source)
    source[0, 0] = 99.0
    assert scheme.values[0, 0] == ASSIGN_VALUES[0, 0]
    with pytest.raises(ValueError, match="read-only"):
        scheme.values[0, 0] = 1.0


# --------------------------------------------------------------------------------------------
# Statistics of samples, on layer kinds whose correct fans differ from the frameworks' rules.

# (storage shape, layout, groups, blocks, correct fans)
LAYER_KINDS = [
    pytest.param((256, 128), "dense_out_in", 1, 1, (128, 256), id="dense-torch"),
    pytest.param((3, 3, 64, 32), "conv_k_in_out", 1, 1, (576, 288), id="conv2d-keras"),
    # torch ConvTranspose2d(64 -> 128): torch's rule says fan_in = 1152
    pytest.param(
        (64, 128, 3, 3), "conv_transpose_in_out", 1, 1, (576, 1152), id="conv_transpose2d-torch"
    ),
    # Keras DepthwiseConv2D 5x5, 256 channels, multiplier 4: Keras's rule says fan_in = 6400
    pytest.param((5, 5, 256, 4), "depthwise_k_in_mult", 1, 1, (25, 100), id="depthwise-keras"),
    pytest.param((128, 16, 3, 3), "conv_out_in", 4, 1, (144, 288), id="grouped_conv2d-torch"),
    pytest.param((512, 64), "recurrent_out_in", 1, 4, (64, 128), id="lstm_input-torch"),
]


def _fan(fans: tuple[int, int], mode: str) -> float:
    fi, fo = fans
    return {
        "fan_in": fi,
        "fan_out": fo,
        "fan_avg": (fi + fo) / 2,
        "fan_geo_avg": math.sqrt(fi * fo),
    }[mode]


RANDOM_SCHEMES = [
    pytest.param(Uniform(-0.3, 0.7), lambda f: U(-0.3, 0.7), id="uniform"),
    pytest.param(Normal(0.5, 2.0), lambda f: N(0.5, 2.0), id="normal"),
    pytest.param(
        TruncatedNormal(0.1, 0.5, -1.5, 2.5, "std"),
        lambda f: N(0.1, 0.5, -1.5, 2.5),
        id="truncated_normal-std",
    ),
    pytest.param(
        TruncatedNormal(0.5, 2.0, -1.0, 3.0, "absolute"),
        lambda f: N(0.5, 2.0, -0.75, 1.25),
        id="truncated_normal-absolute",
    ),
    pytest.param(
        VarianceScaling(0.5, "fan_out", "uniform"),
        lambda f: _vs_expected(0.5, f[1], "uniform"),
        id="variance_scaling-fan_out-uniform",
    ),
    pytest.param(
        VarianceScaling(1.5, "fan_avg", "normal"),
        lambda f: _vs_expected(1.5, _fan(f, "fan_avg"), "normal"),
        id="variance_scaling-fan_avg-normal",
    ),
    pytest.param(
        VarianceScaling(2.0, "fan_geo_avg", "truncated_normal"),
        lambda f: _vs_expected(2.0, _fan(f, "fan_geo_avg"), "truncated_normal"),
        id="variance_scaling-fan_geo_avg-truncated_normal",
    ),
    pytest.param(
        VarianceScaling(1.0, "fan_in", "untruncated_normal"),
        lambda f: _vs_expected(1.0, f[0], "normal"),
        id="variance_scaling-fan_in-untruncated_normal",
    ),
    pytest.param(
        GlorotUniform(1.5),
        lambda f: U(-1.5 * math.sqrt(6 / sum(f)), 1.5 * math.sqrt(6 / sum(f))),
        id="glorot_uniform",
    ),
    pytest.param(GlorotNormal(), lambda f: N(0.0, math.sqrt(2 / sum(f))), id="glorot_normal"),
    pytest.param(
        GlorotNormal(distribution="truncated_normal"),
        lambda f: N(0.0, math.sqrt(2 / sum(f)) / TRUNC_STD_2, -2.0, 2.0),
        id="glorot_normal-truncated",
    ),
    pytest.param(
        HeUniform(), lambda f: U(-math.sqrt(6 / f[0]), math.sqrt(6 / f[0])), id="he_uniform"
    ),
    pytest.param(
        HeUniform(negative_slope=math.sqrt(5), nonlinearity="leaky_relu"),
        lambda f: U(-1 / math.sqrt(f[0]), 1 / math.sqrt(f[0])),
        id="he_uniform-torch_default_a_sqrt5",
    ),
    pytest.param(HeNormal(), lambda f: N(0.0, math.sqrt(2 / f[0])), id="he_normal"),
    pytest.param(
        HeNormal(mode="fan_out", distribution="truncated_normal"),
        lambda f: N(0.0, math.sqrt(2 / f[1]) / TRUNC_STD_2, -2.0, 2.0),
        id="he_normal-fan_out-truncated",
    ),
    pytest.param(
        LecunUniform(), lambda f: U(-math.sqrt(3 / f[0]), math.sqrt(3 / f[0])), id="lecun_uniform"
    ),
    pytest.param(LecunNormal(), lambda f: N(0.0, math.sqrt(1 / f[0])), id="lecun_normal"),
    pytest.param(
        LecunNormal(distribution="truncated_normal"),
        lambda f: N(0.0, math.sqrt(1 / f[0]) / TRUNC_STD_2, -2.0, 2.0),
        id="lecun_normal-truncated",
    ),
]


@pytest.mark.parametrize(("shape", "layout", "groups", "blocks", "fans"), LAYER_KINDS)
@pytest.mark.parametrize(("scheme", "expected"), RANDOM_SCHEMES)
def test_sample_statistics(
    scheme: RandomScheme,
    expected: Callable[[tuple[int, int]], U | N],
    shape: tuple[int, ...],
    layout: str,
    groups: int,
    blocks: int,
    fans: tuple[int, int],
) -> None:
    computed = compute_fans(shape, layout, groups=groups, blocks=blocks)
    assert (computed.fan_in, computed.fan_out) == fans
    values = scheme.sample(
        shape, seed=20240607, key="stats", layout=layout, groups=groups, blocks=blocks
    )
    assert values.shape == shape
    assert_matches_distribution(values, expected(fans))


def test_sample_follows_a_framework_fan_convention_when_asked() -> None:
    # torch's own rule on ConvTranspose2d(64 -> 128): fan_in = 128 * 9
    shape = (64, 128, 3, 3)
    values = HeNormal().sample(
        shape, seed=3, key="torch_rule", layout="conv_transpose_in_out", fan_convention="torch"
    )
    assert_matches_distribution(values, N(0.0, math.sqrt(2 / (128 * 9))))


def test_sample_with_given_fans() -> None:
    values = HeUniform().sample((4096,), seed=5, key="bias", fans=Fans(16, 32))
    assert_matches_distribution(values, U(-math.sqrt(6 / 16), math.sqrt(6 / 16)))


# Biases and other vectors: the canonical layout of a 0-D or 1-D weight is its storage.
@pytest.mark.parametrize(
    ("scheme", "shape", "expected"),
    [
        pytest.param(Zeros(), (10,), 0.0, id="zeros-vector"),
        pytest.param(Ones(), (), 1.0, id="ones-scalar"),
        pytest.param(Constant(0.25), (7,), 0.25, id="constant-vector"),
        pytest.param(Normal(0.5, 2.0), (8192,), N(0.5, 2.0), id="normal-vector"),
        pytest.param(Uniform(-0.3, 0.7), (8192,), U(-0.3, 0.7), id="uniform-vector"),
        pytest.param(
            TruncatedNormal(0.0, 0.02, -0.04, 0.04, "absolute"),
            (8192,),
            N(0.0, 0.02, -2.0, 2.0),
            id="truncated_normal-vector",
        ),
    ],
)
def test_fan_free_schemes_sample_vectors(
    scheme: Scheme, shape: tuple[int, ...], expected: Any
) -> None:
    values = scheme.sample(shape, seed=9, key="bias")
    assert values.shape == shape
    assert values.dtype == np.float32
    if isinstance(expected, float):
        assert np.all(values == np.float32(expected))
    else:
        assert_matches_distribution(values, expected)


def test_fan_scheme_on_a_vector_without_fans_raises() -> None:
    with pytest.raises(ValueError) as info:
        HeNormal().sample((10,), seed=0)
    message = str(info.value)
    assert "Received" in message
    assert "fans=" in message or "shape=" in message


def test_assign_with_an_explicit_layout() -> None:
    # Keras EinsumDense query kernel (64, 4, 16), exported and placed back
    values = np.arange(64 * 64, dtype=np.float32).reshape(64, 4, 16)
    layout = Layout.einsum(in_axes=(0,), out_axes=(1, 2))
    scheme = Assign(values, layout=layout)
    np.testing.assert_array_equal(scheme.sample((64, 4, 16), layout=layout, seed=0), values)
    # ... and into a torch Linear (out, in) weight
    np.testing.assert_array_equal(
        scheme.sample((64, 64), layout="dense_out_in", seed=0), values.reshape(64, 64).T
    )
    # ... and its configuration, layout included, still round-trips through JSON
    config = json.loads(json.dumps(scheme.to_config(), allow_nan=False))
    assert scheme_from_config(config) == scheme


def test_user_mixture_proportions_and_supports() -> None:
    values = SignedBandMixture().sample((256, 128), seed=11, key="mixture").astype(np.float64)
    n = values.size
    positive, zero, negative = values > 0, values == 0, values < 0
    assert np.all(positive | zero | negative)
    assert np.all((values[positive] >= 5.0) & (values[positive] <= 10.0))
    assert np.all((values[negative] >= -10.0) & (values[negative] <= -5.0))
    assert abs(positive.mean() - 0.25) <= Z * math.sqrt(0.25 * 0.75 / n)
    assert abs(zero.mean() - 0.5) <= Z * math.sqrt(0.5 * 0.5 / n)
    assert abs(negative.mean() - 0.25) <= Z * math.sqrt(0.25 * 0.75 / n)
    assert_matches_distribution(np.abs(values[~zero]).astype(np.float32), U(5.0, 10.0))


def test_function_scheme_equals_custom_scheme() -> None:
    kwargs: dict[str, Any] = dict(seed=2, key="same", layout="conv_k_in_out")
    np.testing.assert_array_equal(
        FunctionScheme.wrap(band_mixture).sample((3, 3, 4, 8), **kwargs),
        SignedBandMixture().sample((3, 3, 4, 8), **kwargs),
    )


def test_sparse_zeros_per_column_and_std() -> None:
    values = Sparse(sparsity=0.3, std=0.02).sample((200, 300), seed=4, key="sparse")
    zeros_per_column = (values == 0).sum(axis=0)
    assert np.all(zeros_per_column == math.ceil(0.3 * 200))
    assert_matches_distribution(values[values != 0], N(0.0, 0.02))


# --------------------------------------------------------------------------------------------
# Golden values: seed=0, key="golden"; the first 8 float32 values as hex of their uint32 bits.
# Exact for everything computed with IEEE float32 operations; orthogonal constructions within
# ``ulps`` float32 ulps.

GOLDEN_2D = (16, 8)
GOLDEN_CONV = (8, 4, 3, 3)

GOLDEN = [
    pytest.param(
        Zeros(),
        GOLDEN_2D,
        0,
        [
            "00000000",
            "00000000",
            "00000000",
            "00000000",
            "00000000",
            "00000000",
            "00000000",
            "00000000",
        ],
        id="zeros",
    ),
    pytest.param(
        Ones(),
        GOLDEN_2D,
        0,
        [
            "3f800000",
            "3f800000",
            "3f800000",
            "3f800000",
            "3f800000",
            "3f800000",
            "3f800000",
            "3f800000",
        ],
        id="ones",
    ),
    pytest.param(
        Constant(0.25),
        GOLDEN_2D,
        0,
        [
            "3e800000",
            "3e800000",
            "3e800000",
            "3e800000",
            "3e800000",
            "3e800000",
            "3e800000",
            "3e800000",
        ],
        id="constant",
    ),
    pytest.param(
        Uniform(-0.3, 0.7),
        GOLDEN_2D,
        0,
        [
            "3e8cda60",
            "3ece84e8",
            "bd89cd9a",
            "bd67aae4",
            "3f300f56",
            "3e9c3014",
            "3e816f06",
            "3f26a625",
        ],
        id="uniform",
    ),
    pytest.param(
        Normal(0.5, 2.0),
        GOLDEN_2D,
        0,
        [
            "3f60f6c4",
            "3fc8b99f",
            "bf75bac0",
            "bf63fb7e",
            "409fea97",
            "3f84362d",
            "3f43f662",
            "4073c202",
        ],
        id="normal",
    ),
    pytest.param(
        TruncatedNormal(0.1, 0.5, -1.5, 2.5, "std"),
        GOLDEN_2D,
        0,
        [
            "3e680176",
            "3ec78076",
            "be402d6a",
            "be313dfc",
            "3f939dda",
            "3e8695a8",
            "3e4cc768",
            "3f6a1c73",
        ],
        id="truncated_normal-std",
    ),
    pytest.param(
        TruncatedNormal(0.5, 2.0, -1.0, 3.0, "absolute"),
        GOLDEN_2D,
        0,
        [
            "3f87ee4e",
            "3fc38305",
            "bdcd9620",
            "bd80ddf0",
            "403a69e2",
            "3f9562c2",
            "3f7c1501",
            "402b3664",
        ],
        id="truncated_normal-absolute",
    ),
    pytest.param(
        VarianceScaling(0.7, "fan_avg", "uniform"),
        GOLDEN_2D,
        0,
        [
            "3d80b03c",
            "3e2e3984",
            "be64fec3",
            "be5bce02",
            "3ed0ee3a",
            "3db40226",
            "3d34f1a8",
            "3ec12ee1",
        ],
        id="variance_scaling-uniform",
    ),
    pytest.param(
        VarianceScaling(0.7, "fan_out", "normal"),
        GOLDEN_2D,
        0,
        [
            "3d22406e",
            "3de4c8ea",
            "be1c579f",
            "be14eb0a",
            "3ef0d172",
            "3d64479e",
            "3ce3721f",
            "3eb12b59",
        ],
        id="variance_scaling-normal",
    ),
    pytest.param(
        VarianceScaling(0.7, "fan_geo_avg", "truncated_normal"),
        GOLDEN_2D,
        0,
        [
            "3d51434f",
            "3e12f5f7",
            "be480174",
            "be3eacb3",
            "3f03ada1",
            "3d932209",
            "3d12b69d",
            "3ed628f1",
        ],
        id="variance_scaling-truncated_normal",
    ),
    pytest.param(
        GlorotUniform(),
        GOLDEN_2D,
        0,
        [
            "3d99cfe4",
            "3e503d02",
            "be88d9cd",
            "be835bc3",
            "3ef9b845",
            "3dd726b4",
            "3d5844f8",
            "3ee6e5e3",
        ],
        id="glorot_uniform",
    ),
    pytest.param(
        GlorotNormal(),
        GOLDEN_2D,
        0,
        [
            "3d5fedb8",
            "3e1de064",
            "be57c5d7",
            "be4d86ca",
            "3f262e28",
            "3d9d872b",
            "3d1cf3d7",
            "3ef48453",
        ],
        id="glorot_normal",
    ),
    pytest.param(
        HeUniform(),
        GOLDEN_2D,
        0,
        [
            "3e053485",
            "3eb456f4",
            "beed0852",
            "bee384fe",
            "3f584381",
            "3e3a538e",
            "3dbb4b78",
            "3f47f6aa",
        ],
        id="he_uniform",
    ),
    pytest.param(
        HeNormal(),
        GOLDEN_2D,
        0,
        [
            "3dc1ed88",
            "3e88b99f",
            "bebadd60",
            "beb1fdbf",
            "3f8fea97",
            "3e086c5a",
            "3d87ecc3",
            "3f53c202",
        ],
        id="he_normal",
    ),
    pytest.param(
        HeNormal(distribution="truncated_normal"),
        GOLDEN_2D,
        0,
        [
            "3dd25291",
            "3e93b477",
            "bec904b6",
            "bebfa3dd",
            "3f845851",
            "3e13e0c2",
            "3d9374cb",
            "3f573e8c",
        ],
        id="he_normal-truncated",
    ),
    pytest.param(
        LecunUniform(),
        GOLDEN_2D,
        0,
        [
            "3dbc616c",
            "3e7f09f0",
            "bea79b78",
            "bea0e16e",
            "3f18ebe9",
            "3e03c0ae",
            "3d846ffb",
            "3f0d6544",
        ],
        id="lecun_uniform",
    ),
    pytest.param(
        LecunNormal(),
        GOLDEN_2D,
        0,
        [
            "3d8920b1",
            "3e415bc4",
            "be842222",
            "be7bb7b2",
            "3f4b874a",
            "3dc0ee7e",
            "3d403a0d",
            "3f15bc43",
        ],
        id="lecun_normal",
    ),
    pytest.param(
        Orthogonal(),
        GOLDEN_2D,
        1,
        [
            "3d7f8f37",
            "3e225114",
            "be556b06",
            "be470925",
            "3f070e27",
            "3e520bdd",
            "3d4c0db3",
            "3e1c40b4",
        ],
        id="orthogonal",
    ),
    pytest.param(
        DeltaOrthogonal(),
        GOLDEN_CONV,
        1,
        [
            "00000000",
            "00000000",
            "00000000",
            "00000000",
            "3d70dc91",
            "00000000",
            "00000000",
            "00000000",
        ],
        id="delta_orthogonal",
    ),
    pytest.param(
        Identity(),
        GOLDEN_2D,
        0,
        [
            "3f800000",
            "00000000",
            "00000000",
            "00000000",
            "00000000",
            "00000000",
            "00000000",
            "00000000",
        ],
        id="identity",
    ),
    pytest.param(
        Dirac(),
        GOLDEN_CONV,
        0,
        [
            "00000000",
            "00000000",
            "00000000",
            "00000000",
            "3f800000",
            "00000000",
            "00000000",
            "00000000",
        ],
        id="dirac",
    ),
    pytest.param(
        Sparse(0.5, 0.01),
        GOLDEN_2D,
        0,
        [
            "00000000",
            "00000000",
            "00000000",
            "3c3a2d98",
            "00000000",
            "bc93f069",
            "3a169ca6",
            "00000000",
        ],
        id="sparse",
    ),
    pytest.param(
        Bilinear(),
        GOLDEN_CONV,
        0,
        [
            "3d800000",
            "3e400000",
            "3e400000",
            "3e400000",
            "3f100000",
            "3f100000",
            "3e400000",
            "3f100000",
        ],
        id="bilinear",
    ),
    pytest.param(
        Assign(ASSIGN_VALUES.T),
        GOLDEN_2D,
        0,
        [
            "bf800000",
            "bf400000",
            "bf000000",
            "be800000",
            "00000000",
            "3e800000",
            "3f000000",
            "3f400000",
        ],
        id="assign",
    ),
    pytest.param(
        SignedBandMixture(),
        GOLDEN_2D,
        0,
        [
            "00000000",
            "00000000",
            "00000000",
            "00000000",
            "c113a77c",
            "c0ee7300",
            "c0bb1f7e",
            "c0ce01d5",
        ],
        id="custom_scheme",
    ),
    pytest.param(
        FunctionScheme.wrap(band_mixture),
        GOLDEN_2D,
        0,
        [
            "00000000",
            "00000000",
            "00000000",
            "00000000",
            "c113a77c",
            "c0ee7300",
            "c0bb1f7e",
            "c0ce01d5",
        ],
        id="function_scheme",
    ),
]


def _hex8(values: np.ndarray) -> list[str]:
    return [
        f"{int(v):08x}"
        for v in np.ascontiguousarray(values, dtype=np.float32).ravel()[:8].view(np.uint32)
    ]


@pytest.mark.parametrize(("scheme", "shape", "ulps", "expected"), GOLDEN)
def test_golden_values(
    scheme: Scheme, shape: tuple[int, ...], ulps: int, expected: list[str]
) -> None:
    got = _hex8(scheme.sample(shape, seed=0, key="golden"))
    if ulps == 0:
        assert got == expected
        return
    # QR runs in LAPACK, whose float64 rounding may differ between builds; one float32 ulp
    # absorbs that (same sign, so the uint32 bit patterns are adjacent).
    got_bits = np.array([int(h, 16) for h in got], dtype=np.int64)
    expected_bits = np.array([int(h, 16) for h in expected], dtype=np.int64)
    assert np.all(np.abs(got_bits - expected_bits) <= ulps)


# --------------------------------------------------------------------------------------------
# Layouts and dtypes.


@pytest.mark.parametrize(
    "scheme",
    [
        pytest.param(HeNormal(), id="he_normal"),
        pytest.param(GlorotUniform(), id="glorot_uniform"),
        pytest.param(TruncatedNormal(0.0, 0.1), id="truncated_normal"),
        pytest.param(Orthogonal(), id="orthogonal"),
        pytest.param(Sparse(0.25), id="sparse"),
        pytest.param(SignedBandMixture(), id="custom_scheme"),
    ],
)
def test_dense_layouts_are_transposes(scheme: Scheme) -> None:
    torch_weight = scheme.sample((32, 16), layout="dense_out_in", seed=1, key=3)
    keras_weight = scheme.sample((16, 32), layout="dense_in_out", seed=1, key=3)
    np.testing.assert_array_equal(torch_weight, keras_weight.T)


@pytest.mark.parametrize(
    "scheme",
    [
        pytest.param(HeNormal(), id="he_normal"),
        pytest.param(LecunUniform(), id="lecun_uniform"),
        pytest.param(Orthogonal(), id="orthogonal"),
        pytest.param(DeltaOrthogonal(), id="delta_orthogonal"),
        pytest.param(Dirac(), id="dirac"),
        pytest.param(SignedBandMixture(), id="custom_scheme"),
    ],
)
def test_conv_layouts_are_transposes(scheme: Scheme) -> None:
    torch_weight = scheme.sample((32, 16, 3, 3), layout="conv_out_in", seed=1, key=3)
    keras_weight = scheme.sample((3, 3, 16, 32), layout="conv_k_in_out", seed=1, key=3)
    np.testing.assert_array_equal(torch_weight, keras_weight.transpose(3, 2, 0, 1))


def test_transposed_conv_layouts_are_transposes() -> None:
    torch_weight = HeNormal().sample((16, 32, 3, 3), layout="conv_transpose_in_out", seed=1, key=3)
    keras_weight = HeNormal().sample(
        (3, 3, 32, 16), layout="conv_transpose_k_out_in", seed=1, key=3
    )
    np.testing.assert_array_equal(torch_weight, keras_weight.transpose(3, 2, 0, 1))


def test_depthwise_layouts_share_values() -> None:
    # torch Conv2d(16, 32, groups=16) (32, 1, 3, 3) vs Keras DepthwiseConv2D (3, 3, 16, 2)
    torch_weight = HeNormal().sample((32, 1, 3, 3), layout="conv_out_in", groups=16, seed=1, key=3)
    keras_weight = HeNormal().sample((3, 3, 16, 2), layout="depthwise_k_in_mult", seed=1, key=3)
    np.testing.assert_array_equal(
        torch_weight.reshape(16, 2, 3, 3), keras_weight.transpose(2, 3, 0, 1)
    )


def test_assign_moves_values_between_layouts() -> None:
    torch_weight = ASSIGN_VALUES  # (out=8, in=16), as torch Linear stores it
    scheme = Assign(torch_weight, layout="dense_out_in")
    keras_weight = scheme.sample((16, 8), layout="dense_in_out", seed=0)
    np.testing.assert_array_equal(keras_weight, torch_weight.T)


@pytest.mark.parametrize(
    "dtype",
    [pytest.param(np.float64, id="float64"), pytest.param(np.float16, id="float16")],
)
@pytest.mark.parametrize(
    "scheme",
    [
        pytest.param(HeNormal(), id="he_normal"),
        pytest.param(Uniform(-1.0, 1.0), id="uniform"),
        pytest.param(Orthogonal(), id="orthogonal"),
        pytest.param(SignedBandMixture(), id="custom_scheme"),
    ],
)
def test_dtype_is_the_float32_draw_cast(scheme: Scheme, dtype: type) -> None:
    kwargs: dict[str, Any] = dict(layout="conv_out_in", seed=7, key="dtype")
    float32 = scheme.sample((8, 4, 3, 3), **kwargs)
    cast = scheme.sample((8, 4, 3, 3), dtype=dtype, **kwargs)
    assert float32.dtype == np.float32
    assert cast.dtype == dtype
    np.testing.assert_array_equal(cast, float32.astype(dtype))


@pytest.mark.parametrize(
    "dtype",
    [
        pytest.param(np.int32, id="int32"),
        pytest.param(np.int64, id="int64"),
        pytest.param(np.uint8, id="uint8"),
        pytest.param(np.bool_, id="bool"),
    ],
)
def test_integer_dtype_raises(dtype: type) -> None:
    with pytest.raises(TypeError) as info:
        HeNormal().sample((4, 4), seed=0, dtype=dtype)
    assert "dtype=" in str(info.value)
    assert "Received" in str(info.value)


# --------------------------------------------------------------------------------------------
# Errors: built-in type, the argument's name and "Received" in the message.

SCHEME_ERRORS = [
    pytest.param(
        lambda: HeNormal(nonlinearity="bogus"),
        ValueError,
        "nonlinearity",
        id="he_normal-nonlinearity",
    ),
    pytest.param(
        lambda: HeUniform(nonlinearity="Relu"),
        ValueError,
        "nonlinearity",
        id="he_uniform-nonlinearity",
    ),
    pytest.param(
        lambda: VarianceScaling(mode="fan_sum"), ValueError, "mode", id="variance_scaling-mode"
    ),
    pytest.param(lambda: HeNormal(mode="in"), ValueError, "mode", id="he_normal-mode"),
    pytest.param(
        lambda: VarianceScaling(distribution="gamma"),
        ValueError,
        "distribution",
        id="variance_scaling-distribution",
    ),
    pytest.param(
        lambda: GlorotNormal(distribution="laplace"),
        ValueError,
        "distribution",
        id="glorot_normal-distribution",
    ),
    pytest.param(
        lambda: TruncatedNormal(units="sigma"), ValueError, "units", id="truncated_normal-units"
    ),
    pytest.param(lambda: Normal(std=-1.0), ValueError, "std", id="normal-negative_std"),
    pytest.param(lambda: Normal(std=math.inf), ValueError, "std", id="normal-inf_std"),
    pytest.param(lambda: Normal(std=math.nan), ValueError, "std", id="normal-nan_std"),
    pytest.param(lambda: Normal(mean=math.inf), ValueError, "mean", id="normal-inf_mean"),
    pytest.param(lambda: Normal(std="1"), TypeError, "std", id="normal-str_std"),
    pytest.param(
        lambda: TruncatedNormal(std=-0.5), ValueError, "std", id="truncated_normal-negative_std"
    ),
    pytest.param(
        lambda: TruncatedNormal(std=0.0), ValueError, "std", id="truncated_normal-zero_std"
    ),
    pytest.param(
        lambda: TruncatedNormal(std=math.inf), ValueError, "std", id="truncated_normal-inf_std"
    ),
    pytest.param(lambda: Sparse(std=-0.1), ValueError, "std", id="sparse-negative_std"),
    pytest.param(
        lambda: VarianceScaling(scale=-1.0),
        ValueError,
        "scale",
        id="variance_scaling-negative_scale",
    ),
    pytest.param(
        lambda: VarianceScaling(scale=0.0), ValueError, "scale", id="variance_scaling-zero_scale"
    ),
    pytest.param(
        lambda: VarianceScaling(scale=math.inf),
        ValueError,
        "scale",
        id="variance_scaling-inf_scale",
    ),
    pytest.param(
        lambda: VarianceScaling(scale=math.nan),
        ValueError,
        "scale",
        id="variance_scaling-nan_scale",
    ),
    pytest.param(
        lambda: GlorotUniform(gain=-1.0), ValueError, "gain", id="glorot_uniform-negative_gain"
    ),
    pytest.param(
        lambda: GlorotNormal(gain=math.inf), ValueError, "gain", id="glorot_normal-inf_gain"
    ),
    pytest.param(lambda: Orthogonal(gain=-1.0), ValueError, "gain", id="orthogonal-negative_gain"),
    pytest.param(lambda: Orthogonal(gain=math.nan), ValueError, "gain", id="orthogonal-nan_gain"),
    pytest.param(
        lambda: DeltaOrthogonal(gain=-2.0), ValueError, "gain", id="delta_orthogonal-negative_gain"
    ),
    pytest.param(lambda: Identity(gain=math.inf), ValueError, "gain", id="identity-inf_gain"),
    pytest.param(lambda: Dirac(gain=-1.0), ValueError, "gain", id="dirac-negative_gain"),
    pytest.param(
        lambda: HeNormal(negative_slope=math.nan),
        ValueError,
        "negative_slope",
        id="he_normal-nan_slope",
    ),
    pytest.param(lambda: Constant(math.inf), ValueError, "value", id="constant-inf"),
    pytest.param(lambda: Uniform(1.0, 1.0), ValueError, "low", id="uniform-low_eq_high"),
    pytest.param(lambda: Uniform(2.0, 1.0), ValueError, "low", id="uniform-low_gt_high"),
    pytest.param(lambda: Uniform(-math.inf, 1.0), ValueError, "low", id="uniform-inf_low"),
    pytest.param(
        lambda: TruncatedNormal(lower=2.0, upper=-2.0),
        ValueError,
        "lower",
        id="truncated_normal-lower_gt_upper",
    ),
    pytest.param(
        lambda: TruncatedNormal(lower=1.0, upper=1.0),
        ValueError,
        "lower",
        id="truncated_normal-lower_eq_upper",
    ),
    pytest.param(lambda: Sparse(sparsity=1.0), ValueError, "sparsity", id="sparse-sparsity_one"),
    pytest.param(
        lambda: Sparse(sparsity=-0.1), ValueError, "sparsity", id="sparse-sparsity_negative"
    ),
    pytest.param(
        lambda: Orthogonal().sample((5,), seed=0), ValueError, "shape", id="orthogonal-1d"
    ),
    pytest.param(lambda: Orthogonal().sample((), seed=0), ValueError, "shape", id="orthogonal-0d"),
    pytest.param(lambda: Dirac().sample((4, 4), seed=0), ValueError, "shape", id="dirac-2d"),
    pytest.param(
        lambda: Dirac().sample((4, 4, 1, 1, 1, 1), seed=0), ValueError, "shape", id="dirac-6d"
    ),
    pytest.param(
        lambda: DeltaOrthogonal().sample((4, 4), seed=0),
        ValueError,
        "shape",
        id="delta_orthogonal-2d",
    ),
    pytest.param(
        lambda: Identity().sample((4, 4, 3), seed=0), ValueError, "shape", id="identity-3d"
    ),
    pytest.param(
        lambda: Bilinear().sample((4, 4, 3, 2), seed=0),
        ValueError,
        "shape",
        id="bilinear-not_square",
    ),
    pytest.param(
        lambda: HeNormal().sample((0, 16), seed=0), ValueError, "shape", id="he_normal-zero_size"
    ),
    pytest.param(
        lambda: HeNormal(distribution="uniform"),
        ValueError,
        "distribution",
        id="he_normal-uniform_family",
    ),
    pytest.param(
        lambda: GlorotUniform().sample((16, 0, 3), layout="conv_out_in", seed=0),
        ValueError,
        "shape",
        id="glorot_uniform-zero_size",
    ),
    pytest.param(
        lambda: LecunNormal().sample((3, 3, 0, 8), layout="conv_k_in_out", seed=0),
        ValueError,
        "shape",
        id="lecun_normal-zero_size",
    ),
    pytest.param(
        lambda: Orthogonal().sample((0, 4), seed=0), ValueError, "shape", id="orthogonal-zero_size"
    ),
    pytest.param(
        lambda: HeNormal().sample((32, 16), layout="conv_out_in", seed=0),
        ValueError,
        "shape",
        id="he_normal-2d_shape_conv_layout",
    ),
    pytest.param(
        lambda: Normal().sample((16, 32), layout="conv_k_in_out", seed=0),
        ValueError,
        "shape",
        id="normal-2d_shape_keras_conv_layout",
    ),
    pytest.param(
        lambda: HeNormal().sample((32, 16, 3, 3), layout="bogus", seed=0),
        ValueError,
        "layout",
        id="he_normal-unknown_layout",
    ),
    pytest.param(
        lambda: HeNormal().sample((32, 16, 3, 3), layout="conv_out_in", groups=3, seed=0),
        ValueError,
        "groups",
        id="he_normal-groups_not_dividing",
    ),
    pytest.param(
        lambda: Assign(np.ones((3, 4))).sample((4, 3), seed=0),
        ValueError,
        "shape",
        id="assign-shape_mismatch",
    ),
    pytest.param(lambda: Assign(), ValueError, "values", id="assign-no_values"),
    pytest.param(
        lambda: Assign(np.ones((8, 2, 3, 3)), layout="conv_out_in", groups=0),
        ValueError,
        "groups",
        id="assign-groups_zero",
    ),
    pytest.param(
        lambda: HeNormal().distribution_for(None), ValueError, "fans", id="he_normal-no_fans"
    ),
    pytest.param(
        lambda: scheme_from_config({"scheme": "Nope"}), ValueError, "scheme", id="config-unknown"
    ),
    pytest.param(
        lambda: scheme_from_config({"gain": 1.0}), ValueError, "config", id="config-no_scheme"
    ),
    pytest.param(
        lambda: FunctionScheme.wrap(lambda s, f, g: s),
        ValueError,
        "fn",
        id="function_scheme-lambda",
    ),
    pytest.param(
        lambda: FunctionScheme("no_colon"), ValueError, "function", id="function_scheme-path"
    ),
    pytest.param(lambda: Normal().sample((4, 4), seed=-1), ValueError, "seed", id="negative_seed"),
]


@pytest.mark.parametrize(("call", "error", "argument"), SCHEME_ERRORS)
def test_errors(call: Callable[[], Any], error: type[Exception], argument: str) -> None:
    with pytest.raises(error) as info:
        call()
    message = str(info.value)
    assert "Received" in message
    assert f"{argument}=" in message
