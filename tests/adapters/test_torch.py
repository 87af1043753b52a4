"""Tests of the PyTorch adapter, ``oneinit.adapters.torch`` (run in the nox session ``torch``).

torch is imported by fixtures (``tests/adapters/conftest.py``), never at module level. Random
tests use fixed generator seeds and tolerances derived from the sample size (KS distance at
``ALPHA``, moments at six standard errors), so they cannot flake; bounds are asserted exactly.
Tests marked ``gpu`` run on CUDA where a device is present and are skipped where none is.
"""

from __future__ import annotations

import dataclasses
import math
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np
import pytest

import oneinit
from oneinit import Fans, compute_fans
from oneinit.core.random import UniformDistribution
from oneinit.core.rules import Rule, Rules

#: Significance of the KS bounds. The seeds are fixed, so a test either always passes or
#: always fails; ALPHA only sets how tight the bound is.
ALPHA = 1e-9


# --------------------------------------------------------------------------------------------
# Statistics helpers.


def ks_bound(n: int) -> float:
    """DKW bound on the KS distance of ``n`` samples, at ``ALPHA``."""
    return math.sqrt(math.log(2.0 / ALPHA) / (2.0 * n))


def ks_two_sample_bound(n: int, m: int) -> float:
    return math.sqrt(math.log(2.0 / ALPHA) / 2.0 * (n + m) / (n * m))


def as_numpy(values: Any) -> np.ndarray:
    return np.asarray(values.detach().to("cpu").double().numpy()).ravel()


def cdf(torch: ModuleType, distribution: Any, x: np.ndarray) -> np.ndarray:
    if isinstance(distribution, UniformDistribution):
        span = distribution.high - distribution.low
        return np.clip((x - distribution.low) / span, 0.0, 1.0)
    ndtr = torch.special.ndtr
    z = ndtr(torch.from_numpy((x - distribution.mean) / distribution.std)).numpy()
    low = 0.0 if not math.isfinite(distribution.lower) else _phi(distribution.lower)
    high = 1.0 if not math.isfinite(distribution.upper) else _phi(distribution.upper)
    return np.clip((z - low) / (high - low), 0.0, 1.0)


def _phi(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def ks_distance(torch: ModuleType, values: Any, distribution: Any) -> float:
    x = np.sort(as_numpy(values))
    n = x.size
    f = cdf(torch, distribution, x)
    return float(max(np.max(np.arange(1, n + 1) / n - f), np.max(f - np.arange(n) / n)))


def ks_two_sample(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.sort(a), np.sort(b)
    grid = np.concatenate([a, b])
    fa = np.searchsorted(a, grid, side="right") / a.size
    fb = np.searchsorted(b, grid, side="right") / b.size
    return float(np.max(np.abs(fa - fb)))


def moments_of(distribution: Any) -> tuple[float, float]:
    if isinstance(distribution, UniformDistribution):
        return distribution.mean, distribution.std
    return distribution.actual_mean, distribution.actual_std


def assert_moments(x: np.ndarray, mean: float, std: float, *, slack: float = 0.0) -> None:
    """Mean and variance within six standard errors (estimated from the sample) plus ``slack``
    (a relative allowance for rounding to a reduced precision).
    """
    n = x.size
    assert abs(x.mean() - mean) <= 6.0 * std / math.sqrt(n) + slack * std
    fourth = float(np.mean((x - mean) ** 4))
    tolerance = 6.0 * math.sqrt(max(fourth - std**4, 0.0) / n)
    assert abs(float(np.mean((x - mean) ** 2)) - std**2) <= tolerance + 2 * slack * std**2


def assert_inside(x: np.ndarray, distribution: Any) -> None:
    """Exact bounds: every value inside the core's bounds."""
    if isinstance(distribution, UniformDistribution):
        assert x.min() >= distribution.low and x.max() <= distribution.high
    elif distribution.truncated:
        assert x.min() >= distribution.low and x.max() <= distribution.high


def assert_distribution(torch: ModuleType, values: Any, distribution: Any) -> None:
    """Exact bounds, bounds reached (the values span the core's range), KS and moments."""
    x = as_numpy(values)
    n = x.size
    assert_inside(x, distribution)
    if isinstance(distribution, UniformDistribution):
        reach = (distribution.high - distribution.low) * 30.0 / n
        assert x.min() <= distribution.low + reach and x.max() >= distribution.high - reach
    assert ks_distance(torch, values, distribution) <= ks_bound(n)
    mean, std = moments_of(distribution)
    assert_moments(x, mean, std)


# --------------------------------------------------------------------------------------------
# The functions under test, and the weights they fill.


@dataclass(frozen=True)
class Weight:
    """A weight as torch stores it: shape, the layout to name (None: torch's usual), groups."""

    id: str
    shape: tuple[int, ...]
    layout: str | None = None
    groups: int = 1

    @property
    def core_layout(self) -> str:
        if self.layout is not None:
            return self.layout
        return "conv_out_in" if len(self.shape) >= 3 else "dense_out_in"

    def fans(self) -> Fans:
        return compute_fans(self.shape, self.core_layout, groups=self.groups)


LINEAR = Weight("linear", (48, 40))
CONV = Weight("conv_grouped", (24, 4, 3, 3), groups=3)
CONV1D = Weight("conv1d", (16, 8, 5))
CONV_TRANSPOSE = Weight("conv_transpose_grouped", (12, 8, 3, 3), "conv_transpose", groups=3)
BILINEAR_KERNEL = Weight("conv_transpose_4x4", (6, 6, 4, 4), "conv_transpose")
WEIGHTS_ALL = (LINEAR, CONV, CONV1D, CONV_TRANSPOSE)


class TorchTestMixture(oneinit.CustomScheme):
    """U(5, 10) w.p. 1/4, 0 w.p. 1/2, U(-10, -5) w.p. 1/4 (README's user-defined example)."""

    def draw(self, shape: Any, fans: Any, generator: Any) -> Any:
        xp = generator.xp
        choice, magnitude = generator.uniform(shape), generator.uniform(shape, 5.0, 10.0)
        zero = xp.zeros(shape, dtype=xp.float32)
        return xp.where(choice < 0.25, magnitude, xp.where(choice < 0.75, zero, -magnitude))


@dataclass(frozen=True)
class Function:
    """An adapter function, its arguments, the core scheme it means and the weights it takes."""

    id: str
    name: str
    kwargs: dict[str, Any]
    scheme: oneinit.Scheme
    weights: tuple[Weight, ...] = WEIGHTS_ALL
    takes_layout: bool = True
    takes_seed: bool = True

    def __call__(self, oit: ModuleType, tensor: Any, weight: Weight, **extra: Any) -> Any:
        kwargs = dict(self.kwargs)
        if self.takes_layout:
            kwargs.update(layout=weight.layout, groups=weight.groups)
        elif self.name == "dirac_":
            kwargs.update(groups=weight.groups)
        if not self.takes_seed:
            extra.pop("seed", None)
            extra.pop("key", None)
            extra.pop("generator", None)
        result = getattr(oit, self.name)(tensor, **kwargs, **extra)
        assert result is tensor
        return result


S = oneinit
FUNCTIONS = [
    Function("glorot_uniform", "glorot_uniform_", {"gain": 1.5}, S.GlorotUniform(gain=1.5)),
    Function("xavier_uniform", "xavier_uniform_", {}, S.GlorotUniform()),
    Function("glorot_normal", "glorot_normal_", {"gain": 0.7}, S.GlorotNormal(gain=0.7)),
    Function(
        "glorot_normal_truncated",
        "glorot_normal_",
        {"distribution": "truncated_normal"},
        S.GlorotNormal(distribution="truncated_normal"),
    ),
    Function("xavier_normal", "xavier_normal_", {}, S.GlorotNormal()),
    Function(
        "he_uniform_leaky_fan_out",
        "he_uniform_",
        {"a": 0.1, "mode": "fan_out"},
        S.HeUniform(negative_slope=0.1, mode="fan_out", nonlinearity="leaky_relu"),
    ),
    Function("kaiming_uniform", "kaiming_uniform_", {}, S.HeUniform(nonlinearity="leaky_relu")),
    Function("he_normal_relu", "he_normal_", {"nonlinearity": "relu"}, S.HeNormal()),
    Function(
        "kaiming_normal_fan_out",
        "kaiming_normal_",
        {"mode": "fan_out", "nonlinearity": "relu"},
        S.HeNormal(mode="fan_out"),
    ),
    Function("lecun_uniform", "lecun_uniform_", {}, S.LecunUniform()),
    Function("lecun_normal", "lecun_normal_", {}, S.LecunNormal()),
    Function(
        "lecun_normal_truncated",
        "lecun_normal_",
        {"distribution": "truncated_normal"},
        S.LecunNormal(distribution="truncated_normal"),
    ),
    Function(
        "variance_scaling_truncated",
        "variance_scaling_",
        {"scale": 2.0, "mode": "fan_avg"},
        S.VarianceScaling(2.0, "fan_avg", "truncated_normal"),
    ),
    Function(
        "variance_scaling_uniform",
        "variance_scaling_",
        {"scale": 0.5, "mode": "fan_geo_avg", "distribution": "uniform"},
        S.VarianceScaling(0.5, "fan_geo_avg", "uniform"),
    ),
    Function("uniform", "uniform_", {"a": -0.3, "b": 0.7}, S.Uniform(-0.3, 0.7)),
    Function("normal", "normal_", {"mean": 0.5, "std": 2.0}, S.Normal(0.5, 2.0)),
    Function(
        "trunc_normal_absolute",
        "trunc_normal_",
        {"mean": 0.1, "std": 1.0, "a": -1.0, "b": 2.5},
        S.TruncatedNormal(0.1, 1.0, -1.0, 2.5, "absolute"),
    ),
    Function(
        "trunc_normal_std_units",
        "trunc_normal_",
        {"std": 0.5, "units": "std"},
        S.TruncatedNormal(0.0, 0.5, -2.0, 2.0, "std"),
    ),
    Function(
        "trunc_normal_one_sided",
        "trunc_normal_",
        {"std": 1.0, "a": 0.5, "b": math.inf},
        S.TruncatedNormal(0.0, 1.0, 0.5, math.inf, "absolute"),
    ),
    Function(
        "trunc_normal_wide",
        "trunc_normal_",
        {"std": 0.02},
        S.TruncatedNormal(0.0, 0.02, -2.0, 2.0, "absolute"),
    ),
    Function(
        "constant",
        "constant_",
        {"val": 0.25},
        S.Constant(0.25),
        takes_layout=False,
        takes_seed=False,
    ),
    Function("zeros", "zeros_", {}, S.Zeros(), takes_layout=False, takes_seed=False),
    Function("ones", "ones_", {}, S.Ones(), takes_layout=False, takes_seed=False),
    Function("orthogonal", "orthogonal_", {"gain": 2.0}, S.Orthogonal(2.0)),
    Function(
        "delta_orthogonal",
        "delta_orthogonal_",
        {"gain": 1.5},
        S.DeltaOrthogonal(1.5),
        weights=(CONV, CONV1D, CONV_TRANSPOSE),
    ),
    Function(
        "eye", "eye_", {}, S.Identity(), weights=(LINEAR,), takes_layout=False, takes_seed=False
    ),
    Function(
        "dirac",
        "dirac_",
        {},
        S.Dirac(),
        weights=(CONV, CONV1D),
        takes_layout=False,
        takes_seed=False,
    ),
    Function(
        "sparse",
        "sparse_",
        {"sparsity": 0.3, "std": 0.02},
        S.Sparse(0.3, 0.02),
        weights=(LINEAR,),
        takes_layout=False,
    ),
    Function(
        "bilinear",
        "bilinear_",
        {},
        S.Bilinear(),
        weights=(BILINEAR_KERNEL,),
        takes_layout=False,
        takes_seed=False,
    ),
    Function("init_custom", "init_", {"scheme": TorchTestMixture()}, TorchTestMixture()),
    Function("init_he_normal", "init_", {"scheme": S.HeNormal()}, S.HeNormal()),
]
RANDOM_FUNCTIONS = [f for f in FUNCTIONS if isinstance(f.scheme, oneinit.RandomScheme)]
FAN_FUNCTIONS = [f for f in RANDOM_FUNCTIONS if f.scheme.uses_fans]


def function_weight_cases() -> list[Any]:
    return [
        pytest.param(function, weight, id=f"{function.id}-{weight.id}")
        for function in FUNCTIONS
        for weight in function.weights
    ]


def core_values(torch: ModuleType, function: Function, weight: Weight, seed: int, key: str) -> Any:
    """The core's values for this function and weight, as a torch tensor."""
    if function.takes_layout:
        layout, groups = weight.core_layout, weight.groups
    else:  # torch's usual layout for the rank; dirac_ takes groups
        layout = "conv_out_in" if len(weight.shape) >= 3 else "dense_out_in"
        groups = weight.groups if function.name == "dirac_" else 1
    values = function.scheme.sample(
        weight.shape,
        seed=seed if function.takes_seed else 0,
        key=key if function.takes_seed else 0,
        layout=layout,
        groups=groups,
    )
    return torch.from_numpy(np.array(values, dtype=np.float32))


def distribution_of(function: Function, weight: Weight) -> Any:
    scheme = function.scheme
    assert isinstance(scheme, oneinit.RandomScheme)
    return scheme.distribution_for(weight.fans() if scheme.uses_fans else None)


# --------------------------------------------------------------------------------------------
# Imports.


def _imported_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print(' '.join(sorted(sys.modules)))"
    output = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout
    return set(output.split())


def test_adapter_imports_torch_and_no_other_framework(torch: ModuleType) -> None:
    modules = _imported_after("import oneinit.adapters.torch")
    assert "torch" in modules
    assert not modules & {"keras", "tensorflow", "paddle", "mxnet", "jax", "scipy"}


def test_rules_import_no_framework() -> None:
    modules = _imported_after("import oneinit.core.rules")
    assert not modules & {"torch", "keras", "tensorflow", "paddle", "mxnet", "jax"}


def test_surface_is_complete(oit: ModuleType) -> None:
    names = (
        "glorot_uniform_ glorot_normal_ he_uniform_ he_normal_ lecun_uniform_ lecun_normal_ "
        "variance_scaling_ uniform_ normal_ trunc_normal_ constant_ zeros_ ones_ orthogonal_ "
        "delta_orthogonal_ eye_ dirac_ sparse_ bilinear_ xavier_uniform_ xavier_normal_ "
        "kaiming_uniform_ kaiming_normal_ init_ init_fn initialize calculate_gain"
    ).split()
    missing = [name for name in names if not callable(getattr(oit, name, None))]
    assert not missing
    assert oit.kaiming_normal_ is oit.he_normal_ and oit.xavier_uniform_ is oit.glorot_uniform_
    assert oit.calculate_gain("leaky_relu", math.sqrt(5)) == oneinit.calculate_gain(
        "leaky_relu", math.sqrt(5)
    )


# --------------------------------------------------------------------------------------------
# Values with a seed: the core's, bit for bit.


@pytest.mark.parametrize(("function", "weight"), function_weight_cases())
def test_seeded_values_equal_core_sample(
    torch: ModuleType, oit: ModuleType, function: Function, weight: Weight
) -> None:
    tensor = torch.empty(weight.shape)
    function(oit, tensor, weight, seed=7, key="layer.weight")
    expected = core_values(torch, function, weight, seed=7, key="layer.weight")
    assert torch.equal(tensor, expected)


@pytest.mark.gpu
@pytest.mark.parametrize("dtype", ["float32", "bfloat16", "float16"])
@pytest.mark.parametrize(("function", "weight"), function_weight_cases())
def test_seeded_values_on_device_equal_cpu(
    torch: ModuleType, oit: ModuleType, cuda: str, function: Function, weight: Weight, dtype: str
) -> None:
    torch_dtype = getattr(torch, dtype)
    on_device = torch.empty(weight.shape, device=cuda, dtype=torch_dtype)
    function(oit, on_device, weight, seed=11, key=3)
    assert on_device.device.type == "cuda" and on_device.dtype == torch_dtype
    on_host = torch.empty(weight.shape, dtype=torch_dtype)
    function(oit, on_host, weight, seed=11, key=3)
    assert torch.equal(on_device.cpu(), on_host)


def test_seeded_bias_takes_layer_fans(torch: ModuleType, oit: ModuleType) -> None:
    fans = Fans(fan_in=96, fan_out=32)
    scheme = oneinit.HeUniform(negative_slope=math.sqrt(5), nonlinearity="leaky_relu")
    bias = oit.init_(torch.empty(32), scheme, seed=5, key="fc.bias", fans=fans)
    expected = scheme.sample((32,), seed=5, key="fc.bias", fans=fans)
    assert torch.equal(bias, torch.from_numpy(np.array(expected)))
    assert float(bias.abs().max()) <= 1 / math.sqrt(96)


def test_seeded_same_key_same_values_other_key_other_values(
    torch: ModuleType, oit: ModuleType
) -> None:
    a = oit.he_normal_(torch.empty(64, 32), seed=1, key="a")
    b = oit.he_normal_(torch.empty(64, 32), seed=1, key="a")
    c = oit.he_normal_(torch.empty(64, 32), seed=1, key="c")
    d = oit.he_normal_(torch.empty(64, 32), seed=2, key="a")
    assert torch.equal(a, b) and not torch.equal(a, c) and not torch.equal(a, d)
    assert torch.equal(
        oit.he_normal_(torch.empty(64, 32), seed=1, key=oneinit.key_from_name("a")), a
    )


@pytest.mark.parametrize("dtype", ["float64", "float32"], ids=["float64", "float32"])
def test_seeded_noncontiguous_and_float64(torch: ModuleType, oit: ModuleType, dtype: str) -> None:
    scheme = oneinit.GlorotUniform()
    storage = torch.empty(40, 48, dtype=getattr(torch, dtype))
    view = storage.T  # (48, 40), not contiguous
    oit.glorot_uniform_(view, seed=3, key="k")
    expected = scheme.sample((48, 40), seed=3, key="k", layout="dense_out_in")
    assert torch.equal(view, torch.from_numpy(np.array(expected)).to(view.dtype))


# --------------------------------------------------------------------------------------------
# Native fills: the core's distribution, torch's RNG.


@pytest.mark.parametrize("function", [pytest.param(f, id=f.id) for f in RANDOM_FUNCTIONS])
def test_native_fill_follows_core_distribution(
    torch: ModuleType, oit: ModuleType, device: str, function: Function
) -> None:
    weight = Weight("big", (1024, 1024))
    tensor = torch.empty(weight.shape, device=device)
    generator = torch.Generator(device).manual_seed(1234)
    function(oit, tensor, weight, generator=generator)
    assert tensor.device.type == device and tensor.dtype == torch.float32
    assert_distribution(torch, tensor, distribution_of(function, weight))


BIG_WEIGHTS = [
    Weight("linear", (512, 384)),
    Weight("conv_grouped", (256, 16, 5, 5), groups=4),
    Weight("depthwise", (256, 1, 7, 7), groups=256),
    Weight("conv_transpose_grouped", (128, 64, 5, 5), "conv_transpose", groups=4),
    Weight("conv3d", (64, 16, 3, 3, 3)),
]


@pytest.mark.parametrize(
    ("function", "weight"),
    [
        pytest.param(f, w, id=f"{f.id}-{w.id}")
        for f in FAN_FUNCTIONS
        if f.name != "init_"
        for w in BIG_WEIGHTS
    ],
)
def test_native_fill_uses_core_fans_for_layout(
    torch: ModuleType, oit: ModuleType, function: Function, weight: Weight
) -> None:
    tensor = torch.empty(weight.shape)
    function(oit, tensor, weight, generator=torch.Generator().manual_seed(99))
    distribution = distribution_of(function, weight)
    x = as_numpy(tensor)
    assert_inside(x, distribution)
    mean, std = moments_of(distribution)
    assert_moments(x, mean, std)


def test_native_fill_honours_generator_and_global_seed(torch: ModuleType, oit: ModuleType) -> None:
    fill = oit.trunc_normal_
    a = fill(torch.empty(1000), generator=torch.Generator().manual_seed(5))
    b = fill(torch.empty(1000), generator=torch.Generator().manual_seed(5))
    assert torch.equal(a, b)
    torch.manual_seed(17)
    c = oit.he_normal_(torch.empty(30, 20))
    torch.manual_seed(17)
    d = oit.he_normal_(torch.empty(30, 20))
    assert torch.equal(c, d)


def test_native_fill_uses_torch_own_kernels(torch: ModuleType, oit: ModuleType) -> None:
    """The native uniform is torch's ``uniform_`` on the core's bounds (same generator state)."""
    bound = oneinit.HeUniform().distribution_for(Fans(2048, 64)).high
    ours = oit.he_uniform_(torch.empty(64, 2048), generator=torch.Generator().manual_seed(0))
    theirs = torch.empty(64, 2048).uniform_(
        -bound, bound, generator=torch.Generator().manual_seed(0)
    )
    assert torch.allclose(ours, theirs, rtol=0, atol=4 * bound * 2**-24)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize(
    "function",
    [pytest.param(f, id=f.id) for f in RANDOM_FUNCTIONS if f.name != "init_"],
)
def test_reduced_precision_native_stays_inside_core_bounds(
    torch: ModuleType, oit: ModuleType, device: str, dtype: str, function: Function
) -> None:
    weight = Weight("big", (512, 512))
    tensor = torch.empty(weight.shape, dtype=getattr(torch, dtype), device=device)
    function(oit, tensor, weight, generator=torch.Generator(device).manual_seed(8))
    assert tensor.dtype == getattr(torch, dtype) and tensor.device.type == device
    distribution = distribution_of(function, weight)
    x = as_numpy(tensor)
    assert_inside(x, distribution)
    mean, std = moments_of(distribution)
    assert_moments(x, mean, std, slack=2.0**-7)  # bf16 rounding: half an ulp of 2**-8


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize(
    "function",
    [pytest.param(f, id=f.id) for f in RANDOM_FUNCTIONS if f.name != "init_"],
)
def test_reduced_precision_seeded_is_core_cast_once(
    torch: ModuleType, oit: ModuleType, dtype: str, function: Function
) -> None:
    weight = (
        Weight("conv_transpose", (96, 16, 3, 3), "conv_transpose", groups=3)
        if function.takes_layout
        else Weight("linear", (384, 40))
    )
    torch_dtype = getattr(torch, dtype)
    tensor = torch.empty(weight.shape, dtype=torch_dtype)
    function(oit, tensor, weight, seed=4, key="w")
    cast = core_values(torch, function, weight, seed=4, key="w").to(torch_dtype)
    # The core's float32 values cast once (to nearest, ties to even), as every framework casts
    # them: the same values everywhere, and no value leaves a bound by more than the rounding.
    assert torch.equal(tensor, cast)
    distribution = distribution_of(function, weight)
    if isinstance(distribution, UniformDistribution) or distribution.truncated:
        x = as_numpy(tensor)
        half = torch.finfo(torch_dtype).eps / 2  # half an ulp, relative
        assert x.min() >= distribution.low - half * abs(distribution.low)
        assert x.max() <= distribution.high + half * abs(distribution.high)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_reduced_precision_truncated_normal_tight_bounds(
    torch: ModuleType, oit: ModuleType, device: str, dtype: str
) -> None:
    """Bounds that are not representable: values never round outside them."""
    tensor = torch.empty(1 << 20, dtype=getattr(torch, dtype), device=device)
    oit.trunc_normal_(
        tensor,
        mean=0.0,
        std=0.1,
        a=-0.1001,
        b=0.1001,
        generator=torch.Generator(device).manual_seed(0),
    )
    x = as_numpy(tensor)
    assert x.min() >= -0.1001 and x.max() <= 0.1001
    assert x.max() > 0.09  # the bounds are reached, not clamped away
    assert (x == x.max()).mean() < 0.01  # no pile of clamped values at the bound
    view = torch.empty(512, 256, dtype=getattr(torch, dtype), device=device).T  # strided
    oit.trunc_normal_(view, mean=0.05, std=0.1, a=-0.1001, b=0.1001)
    y = as_numpy(view)
    assert y.min() >= -0.1001 and y.max() <= 0.1001 and y.max() > 0.09


# --------------------------------------------------------------------------------------------
# Structured and user-defined schemes without a seed.


def test_native_orthogonal_is_orthogonal_per_block(
    torch: ModuleType, oit: ModuleType, device: str
) -> None:
    lstm_hh = torch.empty(4 * 32, 32, device=device)
    oit.orthogonal_(lstm_hh, gain=1.5, blocks=4, generator=torch.Generator(device).manual_seed(0))
    for gate in lstm_hh.double().cpu().split(32):
        assert torch.allclose(gate @ gate.T, 2.25 * torch.eye(32, dtype=torch.float64), atol=1e-4)
    wide = oit.orthogonal_(torch.empty(16, 8, 3, device=device))
    flat = wide.double().cpu().reshape(16, -1)
    assert torch.allclose(flat @ flat.T, torch.eye(16, dtype=torch.float64), atol=1e-4)


def test_native_orthogonal_conv_transpose_rows_are_output_units(
    torch: ModuleType, oit: ModuleType
) -> None:
    weight = torch.empty(12, 8, 3, 3)  # ConvTranspose2d(12, 24, 3, groups=3)
    oit.orthogonal_(weight, layout="conv_transpose", groups=3)
    canonical = oneinit.to_canonical(weight.numpy(), "conv_transpose", groups=3)
    rows = canonical.reshape(24, -1).astype(np.float64)
    assert np.allclose(rows @ rows.T, np.eye(24), atol=1e-5)


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda t: t.empty(40, 24), id="sparse"),
        pytest.param(lambda t: t.empty(16, 8, 3, 3), id="delta_orthogonal"),
        pytest.param(lambda t: t.empty(16, 16), id="custom"),
    ],
)
def test_seedless_structured_and_custom_follow_the_generator(
    torch: ModuleType, oit: ModuleType, make: Callable[[Any], Any]
) -> None:
    shape = tuple(make(torch).shape)
    fill = {
        2: (lambda t, g: oit.sparse_(t, 0.25, generator=g))
        if shape == (40, 24)
        else (lambda t, g: oit.init_(t, TorchTestMixture(), generator=g)),
        4: lambda t, g: oit.delta_orthogonal_(t, generator=g),
    }[len(shape)]
    a = fill(make(torch), torch.Generator().manual_seed(3))
    b = fill(make(torch), torch.Generator().manual_seed(3))
    c = fill(make(torch), torch.Generator().manual_seed(4))
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_custom_scheme_fills_a_vector_as_the_core(torch: ModuleType, oit: ModuleType) -> None:
    bias = oit.init_(torch.empty(64), TorchTestMixture(), seed=3, key="fc.bias")
    core = TorchTestMixture().sample((64,), seed=3, key="fc.bias")  # fans=None, as the core
    assert torch.equal(bias, torch.from_numpy(core))
    drawn = oit.init_(torch.empty(64), TorchTestMixture(), generator=torch.Generator())
    assert ((drawn == 0) | ((drawn.abs() >= 5) & (drawn.abs() <= 10))).all()


def test_gate_bias_is_deterministic_on_recurrent_biases(torch: ModuleType, oit: ModuleType) -> None:
    lstm = torch.nn.LSTM(4, 6)
    rules = Rules(
        Rule(oneinit.GateBias(1.0, gate=1, gates=4), slot="bias_ih"),
        Rule(oneinit.Zeros(), role="bias"),
        Rule(None),
    )
    state = torch.get_rng_state()
    oit.initialize(lstm, rules, strict=True)  # no seed: still the core's values, no RNG draw
    assert torch.equal(torch.get_rng_state(), state)
    forget = torch.tensor([0.0] * 6 + [1.0] * 6 + [0.0] * 12)
    assert torch.equal(lstm.bias_ih_l0.detach(), forget) and (lstm.bias_hh_l0 == 0).all()
    keras = torch.nn.LSTM(4, 6)
    oit.initialize(keras, profile="keras", seed=0, strict=True)  # unit_forget_bias
    assert torch.equal(keras.bias_ih_l0.detach(), forget)


def test_seedless_sparse_has_exact_zeros_per_column(torch: ModuleType, oit: ModuleType) -> None:
    weight = oit.sparse_(torch.empty(40, 24), 0.25, std=0.5)
    assert ((weight == 0).sum(dim=0) == 10).all()


# --------------------------------------------------------------------------------------------
# Tensor semantics.


@pytest.mark.parametrize("seed", [None, 0], ids=["native", "seeded"])
@pytest.mark.parametrize(
    "function", [pytest.param(f, id=f.id) for f in FUNCTIONS if LINEAR in f.weights]
)
def test_parameter_stays_a_leaf_with_requires_grad(
    torch: ModuleType, oit: ModuleType, function: Function, seed: int | None
) -> None:
    for requires_grad in (True, False):
        parameter = torch.nn.Parameter(torch.empty(LINEAR.shape), requires_grad=requires_grad)
        result = function(oit, parameter, LINEAR, seed=seed)
        assert result is parameter and parameter.is_leaf
        assert parameter.requires_grad is requires_grad and parameter.grad_fn is None
        with torch.no_grad():
            function(oit, parameter, LINEAR, seed=seed)
        assert parameter.is_leaf


@pytest.mark.parametrize("function", [pytest.param(f, id=f.id) for f in FUNCTIONS])
def test_meta_tensors_are_left_as_they_are(
    torch: ModuleType, oit: ModuleType, function: Function
) -> None:
    weight = function.weights[0]
    tensor = torch.empty(weight.shape, device="meta")
    assert function(oit, tensor, weight).is_meta
    assert function(oit, tensor, weight, seed=1).is_meta


def test_zero_element_tensor_is_a_no_op(torch: ModuleType, oit: ModuleType) -> None:
    empty = torch.empty(0, 16)
    assert oit.he_normal_(empty) is empty
    assert oit.glorot_uniform_(empty, seed=0) is empty


# --------------------------------------------------------------------------------------------
# Errors.


def _int_tensor(torch: ModuleType) -> Any:
    return torch.zeros(4, 4, dtype=torch.int64)


ERRORS: list[Any] = [
    pytest.param(
        lambda t, o: o.he_normal_(_int_tensor(t)),
        TypeError,
        r"floating-point.*Received: tensor.dtype=torch.int64",
        id="integer_tensor",
    ),
    pytest.param(
        lambda t, o: o.uniform_(t.zeros(3, dtype=t.bool)),
        TypeError,
        "floating-point",
        id="bool_tensor",
    ),
    pytest.param(
        lambda t, o: o.normal_(t.zeros(3, dtype=t.complex64)),
        TypeError,
        "floating-point",
        id="complex_tensor",
    ),
    pytest.param(lambda t, o: o.he_uniform_([[0.0]]), TypeError, "torch.Tensor", id="not_a_tensor"),
    pytest.param(
        lambda t, o: o.he_uniform_(t.empty(10)),
        ValueError,
        r"at least 2 dimensions.*Received: tensor.shape=\(10,\)",
        id="vector_fans",
    ),
    pytest.param(
        lambda t, o: o.glorot_normal_(t.empty(())), ValueError, "at least 2", id="scalar_fans"
    ),
    pytest.param(
        lambda t, o: o.orthogonal_(t.empty(10)),
        ValueError,
        "at least 2 dimensions",
        id="orthogonal_vector",
    ),
    pytest.param(
        lambda t, o: o.eye_(t.empty(3, 3, 3)), ValueError, "exactly 2 dimensions", id="eye_3d"
    ),
    pytest.param(lambda t, o: o.dirac_(t.empty(3, 3)), ValueError, "dimensions", id="dirac_2d"),
    pytest.param(
        lambda t, o: o.delta_orthogonal_(t.empty(4, 8, 3)),
        ValueError,
        "in_per_group <= out",
        id="delta_orthogonal_wide",
    ),
    pytest.param(
        lambda t, o: o.bilinear_(t.empty(4, 4, 3, 5)),
        ValueError,
        "square",
        id="bilinear_not_square",
    ),
    pytest.param(lambda t, o: o.sparse_(t.empty(4, 4), 1.5), ValueError, "sparsity", id="sparsity"),
    pytest.param(
        lambda t, o: o.he_normal_(t.empty(4, 4), mode="fan_sideways"),
        ValueError,
        "mode must be one of",
        id="mode",
    ),
    pytest.param(
        lambda t, o: o.he_normal_(t.empty(4, 4), nonlinearity="bogus"),
        ValueError,
        "bogus",
        id="nonlinearity",
    ),
    pytest.param(
        lambda t, o: o.uniform_(t.empty(4), 1.0, 0.0), ValueError, "low < high", id="uniform_bounds"
    ),
    pytest.param(
        lambda t, o: o.normal_(t.empty(4), std=-1.0), ValueError, "std", id="negative_std"
    ),
    pytest.param(
        lambda t, o: o.he_normal_(t.empty(4, 4), seed=-1), ValueError, "seed", id="negative_seed"
    ),
    pytest.param(
        lambda t, o: o.he_normal_(t.empty(4, 4), seed=True), TypeError, "seed", id="bool_seed"
    ),
    pytest.param(
        lambda t, o: o.he_normal_(t.empty(4, 4), seed=1, key=2.5), TypeError, "key", id="float_key"
    ),
    pytest.param(
        lambda t, o: o.he_normal_(t.empty(4, 4), generator=1),
        TypeError,
        "generator",
        id="generator_type",
    ),
    pytest.param(
        lambda t, o: o.he_normal_(t.empty(4, 4), layout="sideways"),
        ValueError,
        "Unknown layout",
        id="layout_name",
    ),
    pytest.param(
        lambda t, o: o.he_normal_(t.empty(4, 4), layout="conv_transpose"),
        ValueError,
        "at least 3 dimensions",
        id="layout_rank",
    ),
    pytest.param(
        lambda t, o: o.he_normal_(t.empty(8, 3, 3), groups=3),
        ValueError,
        "divisible by groups",
        id="groups",
    ),
    pytest.param(
        lambda t, o: o.he_normal_(t.empty(8, 3, 3), groups=0),
        ValueError,
        "groups",
        id="groups_zero",
    ),
    pytest.param(
        lambda t, o: o.he_normal_(t.empty(4, 4), fan_convention="caffe"),
        ValueError,
        "fan_convention",
        id="fan_convention",
    ),
    pytest.param(
        lambda t, o: o.orthogonal_(t.empty(6, 4), blocks=4),
        ValueError,
        "divisible by blocks",
        id="blocks",
    ),
    pytest.param(
        lambda t, o: o.init_(t.empty(4, 4), "HeNormal"),
        TypeError,
        "oneinit scheme",
        id="scheme_type",
    ),
    pytest.param(
        lambda t, o: o.he_normal_(t.empty(4, 4, device="meta"), groups=3),
        ValueError,
        "divisible by groups",
        id="meta_still_validated",
    ),
    pytest.param(
        lambda t, o: o.initialize(t.nn.Linear(2, 2)),
        ValueError,
        "Nothing to apply",
        id="initialize_nothing",
    ),
    pytest.param(
        lambda t, o: o.initialize(t.nn.Linear(2, 2), "HeNormal"),
        TypeError,
        "scheme_or_rules",
        id="initialize_scheme_type",
    ),
    pytest.param(
        lambda t, o: o.initialize(t.nn.LayerNorm(2), Rule(oneinit.HeNormal(), role="bias")),
        ValueError,
        r"needs fans, but parameter 'bias' \(layer_norm",
        id="rule_needs_fans",
    ),
    pytest.param(
        lambda t, o: o.initialize(t.nn.Linear(2, 2), profile="caffe"),
        ValueError,
        "Unknown profile",
        id="profile",
    ),
    pytest.param(
        lambda t, o: o.initialize(t.empty(2, 2), oneinit.Zeros()),
        TypeError,
        "torch.nn.Module",
        id="initialize_not_a_module",
    ),
    pytest.param(
        lambda t, o: o.initialize(t.nn.Linear(2, 2), [Rule(oneinit.Orthogonal(), role="bias")]),
        ValueError,
        r"'bias'.*at least 2 dimensions",
        id="rule_shape_names_parameter",
    ),
]


@pytest.mark.parametrize(("call", "error", "match"), ERRORS)
def test_errors_are_clear(
    torch: ModuleType, oit: ModuleType, call: Callable[..., Any], error: type, match: str
) -> None:
    with pytest.raises(error, match=match):
        call(torch, oit)


def test_generator_on_another_device(torch: ModuleType, oit: ModuleType, cuda: str) -> None:
    with pytest.raises(ValueError, match="generator on the tensor's device"):
        oit.he_normal_(torch.empty(4, 4, device=cuda), generator=torch.Generator())


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        pytest.param({"role": "kernel"}, ValueError, "role must be among", id="role"),
        pytest.param({"kind": "dense"}, ValueError, "kind must be among", id="kind"),
        pytest.param({"regex": "("}, ValueError, "regular expression", id="regex"),
        pytest.param({"rank": "2"}, TypeError, "rank", id="rank"),
        pytest.param({"fans": "mine"}, ValueError, "fans must be", id="fans"),
    ],
)
def test_rule_errors(kwargs: dict[str, Any], error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        Rule(oneinit.Zeros(), **kwargs)
    with pytest.raises(TypeError, match="oneinit scheme"):
        Rule("zeros")  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# Layer kinds: layouts and fans.


@dataclass(frozen=True)
class Layer:
    id: str
    make: Callable[[Any], Any]
    #: Correct fans of the layer's weights, by parameter name.
    fans: dict[str, tuple[int, int]] = dataclasses.field(default_factory=dict)


LAYERS = [
    Layer("linear", lambda nn: nn.Linear(16, 32), {"weight": (16, 32)}),
    Layer("conv1d", lambda nn: nn.Conv1d(16, 32, 3), {"weight": (48, 96)}),
    Layer("conv2d", lambda nn: nn.Conv2d(16, 32, 3), {"weight": (144, 288)}),
    Layer("conv3d", lambda nn: nn.Conv3d(16, 32, 3), {"weight": (432, 864)}),
    Layer("conv2d_grouped", lambda nn: nn.Conv2d(16, 32, 3, groups=4), {"weight": (36, 72)}),
    Layer("depthwise", lambda nn: nn.Conv2d(16, 16, 3, groups=16), {"weight": (9, 9)}),
    Layer("conv_transpose1d", lambda nn: nn.ConvTranspose1d(16, 32, 3), {"weight": (48, 96)}),
    Layer("conv_transpose2d", lambda nn: nn.ConvTranspose2d(16, 32, 3), {"weight": (144, 288)}),
    Layer("conv_transpose3d", lambda nn: nn.ConvTranspose3d(16, 32, 3), {"weight": (432, 864)}),
    Layer(
        "conv_transpose2d_grouped",
        lambda nn: nn.ConvTranspose2d(16, 32, 3, groups=4),
        {"weight": (36, 72)},
    ),
    Layer("embedding", lambda nn: nn.Embedding(1000, 64), {"weight": (1000, 64)}),
    Layer("lstm", lambda nn: nn.LSTM(20, 50), {"weight_ih_l0": (20, 50), "weight_hh_l0": (50, 50)}),
    Layer("gru", lambda nn: nn.GRU(20, 50), {"weight_ih_l0": (20, 50), "weight_hh_l0": (50, 50)}),
    Layer("rnn", lambda nn: nn.RNN(20, 50), {"weight_ih_l0": (20, 50), "weight_hh_l0": (50, 50)}),
    Layer(
        "lstm_cell", lambda nn: nn.LSTMCell(20, 50), {"weight_ih": (20, 50), "weight_hh": (50, 50)}
    ),
    Layer(
        "multihead_attention",
        lambda nn: nn.MultiheadAttention(64, 4),
        {"in_proj_weight": (64, 64), "out_proj.weight": (64, 64)},
    ),
    Layer(
        "multihead_attention_kdim",
        lambda nn: nn.MultiheadAttention(64, 4, kdim=32, vdim=16),
        {"q_proj_weight": (64, 64), "k_proj_weight": (32, 64), "v_proj_weight": (16, 64)},
    ),
]


@pytest.mark.parametrize("layer", [pytest.param(layer, id=layer.id) for layer in LAYERS])
def test_layer_fans_are_correct(torch: ModuleType, oit: ModuleType, layer: Layer) -> None:
    report = oit.initialize(layer.make(torch.nn), oneinit.HeNormal(), dry_run=True)
    for name, (fan_in, fan_out) in layer.fans.items():
        fans = report[name].fans
        assert fans is not None and (fans.fan_in, fans.fan_out) == (fan_in, fan_out)


@pytest.mark.parametrize("layer", [pytest.param(layer, id=layer.id) for layer in LAYERS])
def test_layer_fans_with_torch_convention_equal_torch(
    torch: ModuleType, oit: ModuleType, layer: Layer
) -> None:
    module = layer.make(torch.nn)
    report = oit.initialize(module, oneinit.HeNormal(), fan_convention="torch", dry_run=True)
    for name, parameter in module.named_parameters():
        if parameter.ndim < 2:
            continue
        fans = report[name].fans
        assert fans is not None
        expected = torch.nn.init._calculate_fan_in_and_fan_out(parameter)
        assert (fans.fan_in, fans.fan_out) == expected


@pytest.mark.parametrize("layer", [pytest.param(layer, id=layer.id) for layer in LAYERS])
def test_layer_native_std_matches_report(torch: ModuleType, oit: ModuleType, layer: Layer) -> None:
    module = layer.make(torch.nn)
    report = oit.initialize(module, oneinit.HeUniform(), generator=torch.Generator().manual_seed(0))
    for name, parameter in module.named_parameters():
        row = report[name]
        if row.scheme.startswith("HeUniform"):
            bound = math.sqrt(3.0) * row.expected_std
            assert float(parameter.detach().abs().max()) <= bound
            assert float(parameter.detach().abs().max()) >= bound * (1 - 40.0 / parameter.numel())
        else:
            assert (parameter == 0).all()


def test_layer_seeded_conv_transpose_equals_core(torch: ModuleType, oit: ModuleType) -> None:
    layer = torch.nn.ConvTranspose2d(12, 24, 3, groups=3)
    oit.initialize(layer, oneinit.GlorotNormal(), seed=9)
    expected = oneinit.GlorotNormal().sample(
        (12, 8, 3, 3), layout="conv_transpose_in_out", groups=3, seed=9, key="weight"
    )
    assert torch.equal(layer.weight, torch.from_numpy(np.array(expected)))
    assert (layer.bias == 0).all()


@pytest.mark.parametrize("seed", [None, 5], ids=["native", "seeded"])
def test_embedding_padding_row_stays_zero(
    torch: ModuleType, oit: ModuleType, seed: int | None
) -> None:
    embedding = torch.nn.Embedding(100, 16, padding_idx=7)
    oit.initialize(embedding, oneinit.Normal(0.0, 1.0), seed=seed)
    assert (embedding.weight[7] == 0).all() and (embedding.weight[6] != 0).all()
    net = torch.nn.Sequential(torch.nn.Embedding(50, 8, padding_idx=0))
    net.apply(oit.init_fn(embedding=oneinit.Uniform(1.0, 2.0)))
    assert (net[0].weight[0] == 0).all() and (net[0].weight[1:] >= 1).all()


def test_recurrent_per_gate_option(torch: ModuleType, oit: ModuleType) -> None:
    hidden = 16
    per_gate = torch.nn.LSTM(8, hidden)
    per_gate.apply(oit.init_fn(oneinit.GlorotUniform(), recurrent=oneinit.Orthogonal()))
    for gate in per_gate.weight_hh_l0.detach().double().split(hidden):
        assert torch.allclose(gate @ gate.T, torch.eye(hidden, dtype=torch.float64), atol=1e-5)
    whole = torch.nn.LSTM(8, hidden)
    whole.apply(oit.init_fn(recurrent=oneinit.Orthogonal(), per_gate=False))
    stacked = whole.weight_hh_l0.detach().double()
    assert torch.allclose(stacked.T @ stacked, torch.eye(hidden, dtype=torch.float64), atol=1e-5)
    gate = stacked[:hidden]
    assert not torch.allclose(gate @ gate.T, torch.eye(hidden, dtype=torch.float64), atol=1e-2)


def test_attention_in_proj_is_three_matrices(torch: ModuleType, oit: ModuleType) -> None:
    attention = torch.nn.MultiheadAttention(32, 4)
    oit.initialize(attention, oneinit.Orthogonal(), seed=0)
    for block in attention.in_proj_weight.detach().double().split(32):
        assert torch.allclose(block @ block.T, torch.eye(32, dtype=torch.float64), atol=1e-5)
    assert (attention.in_proj_bias == 0).all() and (attention.out_proj.bias == 0).all()


def test_norm_layers_default_to_one_and_zero(torch: ModuleType, oit: ModuleType) -> None:
    nn = torch.nn
    net = nn.Sequential(
        nn.BatchNorm2d(4), nn.LayerNorm(4), nn.GroupNorm(2, 4), nn.InstanceNorm1d(4, affine=True)
    )
    for parameter in net.parameters():
        with torch.no_grad():
            parameter.fill_(3.0)
    net.apply(oit.init_fn(oneinit.HeNormal()))
    for name, parameter in net.named_parameters():
        assert (parameter == (1.0 if name.endswith("weight") else 0.0)).all(), name
    net.apply(oit.init_fn(norm_weight=oneinit.Constant(0.5), norm_bias=None))
    assert (net[0].weight == 0.5).all() and (net[0].bias == 0.0).all()


# --------------------------------------------------------------------------------------------
# init_fn and net.apply.


def _model(torch: ModuleType) -> Any:
    nn = torch.nn
    return nn.Sequential(
        nn.Conv2d(3, 8, 3),
        nn.BatchNorm2d(8),
        nn.ReLU(),
        nn.ConvTranspose2d(8, 4, 3, groups=2),
        nn.Flatten(),
        nn.Linear(4 * 8 * 8, 10),
    )


def test_init_fn_keys_by_call_order(torch: ModuleType, oit: ModuleType) -> None:
    a, b, c = _model(torch), _model(torch), _model(torch)
    a.apply(oit.init_fn(oneinit.HeNormal(), bias=oneinit.Zeros(), seed=0))
    b.apply(oit.init_fn(oneinit.HeNormal(), bias=oneinit.Zeros(), seed=0))
    reused = oit.init_fn(oneinit.HeNormal(), bias=oneinit.Zeros(), seed=0)
    c.apply(reused)
    c.apply(reused)  # a second pass draws new values
    for (name, pa), pb, pc in zip(
        a.named_parameters(), b.parameters(), c.parameters(), strict=True
    ):
        assert torch.equal(pa, pb), name
        if name.endswith("weight") and not name.startswith("1."):
            assert not torch.equal(pa, pc), name


def test_init_fn_with_names_equals_initialize(torch: ModuleType, oit: ModuleType) -> None:
    rules = Rules(
        Rule(oneinit.Ones(), role="norm"),
        Rule(oneinit.Orthogonal(), kind="conv_transpose", role="weight"),
        Rule(oneinit.LecunNormal(), role="weight"),
        Rule(oneinit.HeUniform(), role="bias"),
    )
    a, b = _model(torch), _model(torch)
    oit.initialize(a, rules, seed=21, strict=True)
    fn = oit.init_fn(rules, seed=21)
    for name, module in b.named_modules():
        fn(module=module, name=name)  # as timm's named_apply calls it
    for (name, pa), pb in zip(a.named_parameters(), b.parameters(), strict=True):
        assert torch.equal(pa, pb), name
    assert [row.name for row in fn.report] == [name for name, _ in a.named_parameters()]


def test_init_fn_leaves_unmatched_parameters(torch: ModuleType, oit: ModuleType) -> None:
    net = _model(torch)
    before = {name: p.detach().clone() for name, p in net.named_parameters()}
    fn = oit.init_fn(oneinit.HeNormal(), norm_weight=None, norm_bias=None)
    net.apply(fn)
    for name, parameter in net.named_parameters():
        is_layer_weight = name.endswith("weight") and not name.startswith("1.")
        assert torch.equal(parameter, before[name]) is not is_layer_weight, name
    assert set(fn.report.unmatched) == {
        "Conv2d[0].bias",
        "ConvTranspose2d[3].bias",
        "Linear[5].bias",
    }


# --------------------------------------------------------------------------------------------
# initialize: rules, reports, keys.


class Block:
    """A model with named submodules (built by a fixture-free factory)."""

    @staticmethod
    def make(torch: ModuleType, extra: bool = False) -> Any:
        nn = torch.nn
        model = nn.Module()
        model.encoder = nn.Linear(8, 16)
        if extra:
            model.inserted = nn.Linear(16, 16)
        model.decoder = nn.Linear(16, 4)
        model.scale = nn.Parameter(torch.full((4,), 7.0))
        return model


def test_initialize_keys_by_name_so_inserting_a_layer_changes_nothing(
    torch: ModuleType, oit: ModuleType
) -> None:
    plain, grown = Block.make(torch), Block.make(torch, extra=True)
    oit.initialize(plain, oneinit.GlorotUniform(), seed=3)
    oit.initialize(grown, oneinit.GlorotUniform(), seed=3)
    for name in ("encoder.weight", "decoder.weight"):
        assert torch.equal(plain.get_parameter(name), grown.get_parameter(name))
    expected = oneinit.GlorotUniform().sample(
        (16, 8), seed=3, key="encoder.weight", layout="dense_out_in"
    )
    assert torch.equal(plain.encoder.weight, torch.from_numpy(np.array(expected)))


def test_initialize_report_and_unmatched(torch: ModuleType, oit: ModuleType) -> None:
    model = Block.make(torch)
    report = oit.initialize(model, oneinit.HeNormal(), seed=0)
    assert report.unmatched == ["scale"] and (model.scale == 7.0).all()
    row = report["encoder.weight"]
    assert (row.shape, row.kind, row.layout, row.status) == (
        (16, 8),
        "linear",
        "dense_out_in",
        "initialized",
    )
    assert row.fans == Fans(8, 16)
    assert row.expected_std == pytest.approx(math.sqrt(2.0 / 8))
    text = str(report)
    assert "encoder.weight" in text and "unmatched (left as they were): scale" in text
    assert text.splitlines()[0].split() == [
        "name",
        "shape",
        "kind",
        "layout",
        "fans",
        "scheme",
        "std",
        "rule",
    ]
    with pytest.raises(ValueError, match=r"strict=True.*scale \(unmatched\)"):
        oit.initialize(model, oneinit.HeNormal(), strict=True)
    full = oit.initialize(
        model,
        Rules(Rule(oneinit.Ones(), name="scale")) + Rules.from_scheme(oneinit.HeNormal()),
        strict=True,
    )
    assert full.unmatched == [] and (model.scale == 1.0).all()


def test_initialize_rules_first_match_and_criteria(torch: ModuleType, oit: ModuleType) -> None:
    nn = torch.nn
    model = nn.Module()
    model.body = nn.Sequential(nn.Linear(8, 8), nn.Linear(8, 8))
    model.head = nn.Linear(8, 2)
    model.rnn = nn.GRU(8, 8)
    rules = Rules(
        Rule(oneinit.Constant(1.0), name="body.*.weight"),  # fnmatch, whole name
        Rule(oneinit.Constant(2.0), regex=r"head\."),  # regex, searched
        Rule(oneinit.Constant(3.0), role="recurrent"),
        Rule(oneinit.Constant(4.0), kind="gru", slot="weight_ih"),
        Rule(oneinit.Constant(5.0), rank=1, kind="gru"),
        Rule(None, role="bias"),  # keep
        Rule(oneinit.Constant(9.0)),  # catch-all, never reached
    )
    before = model.body[0].bias.detach().clone()
    report = oit.initialize(model, rules, strict=True)
    assert (model.body[0].weight == 1).all() and (model.body[1].weight == 1).all()
    assert (model.head.weight == 2).all() and (model.head.bias == 2).all()
    assert (model.rnn.weight_hh_l0 == 3).all() and (model.rnn.weight_ih_l0 == 4).all()
    assert (model.rnn.bias_ih_l0 == 5).all()
    assert torch.equal(model.body[0].bias, before)
    assert report["body.0.bias"].status == "kept"
    assert report["head.bias"].rule == "#2 regex=head\\."


def test_initialize_profile_as_fallback(torch: ModuleType, oit: ModuleType) -> None:
    lstm = torch.nn.LSTM(8, 16)
    report = oit.initialize(
        lstm, Rule(oneinit.Orthogonal(), role="recurrent"), profile="torch", strict=True
    )
    assert report["weight_hh_l0"].scheme == "Orthogonal()"
    assert report["weight_ih_l0"].rule.startswith("#5 kind=rnn|lstm|gru")
    assert float(lstm.weight_ih_l0.detach().abs().max()) <= 1 / math.sqrt(16)


def test_initialize_tied_weights_once(torch: ModuleType, oit: ModuleType) -> None:
    nn = torch.nn
    model = nn.Module()
    model.embed = nn.Embedding(32, 8)
    model.head = nn.Linear(8, 32, bias=False)
    model.head.weight = model.embed.weight
    report = oit.initialize(model, Rule(oneinit.Constant(0.5), role="weight"), strict=True)
    assert [row.name for row in report] == ["embed.weight"] and (model.head.weight == 0.5).all()


def test_initialize_dry_run_writes_nothing(torch: ModuleType, oit: ModuleType) -> None:
    model = _model(torch)
    before = [p.detach().clone() for p in model.parameters()]
    report = oit.initialize(model, oneinit.HeNormal(), seed=0, dry_run=True)
    assert {row.status for row in report} == {"planned"}
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))


def test_initialize_seeded_is_reproducible(torch: ModuleType, oit: ModuleType, device: str) -> None:
    a, b = _model(torch).to(device), _model(torch).to(device)
    oit.initialize(a, oneinit.HeNormal(), seed=1)
    oit.initialize(b, oneinit.HeNormal(), seed=1)
    assert all(torch.equal(x, y) for x, y in zip(a.parameters(), b.parameters(), strict=True))
    oit.initialize(b, oneinit.HeNormal(), seed=2)
    assert not torch.equal(a[0].weight, b[0].weight)
    c = _model(torch).to(device)
    oit.initialize(c, oneinit.HeNormal(), generator=torch.Generator(device).manual_seed(0))
    d = _model(torch).to(device)
    oit.initialize(d, oneinit.HeNormal(), generator=torch.Generator(device).manual_seed(0))
    assert all(torch.equal(x, y) for x, y in zip(c.parameters(), d.parameters(), strict=True))
    assert all(p.device.type == device for p in c.parameters())


def test_initialize_meta_then_to_empty(torch: ModuleType, oit: ModuleType, device: str) -> None:
    with torch.device("meta"):
        model = _model(torch)
    report = oit.initialize(model, oneinit.HeNormal(), seed=4)
    assert report.unfilled == [name for name, _ in model.named_parameters()]
    assert {row.status for row in report} == {"meta"}
    with pytest.raises(ValueError, match=r"meta.*to_empty"):
        oit.initialize(model, oneinit.HeNormal(), strict=True)
    model.to_empty(device=device)
    report = oit.initialize(model, oneinit.HeNormal(), seed=4, strict=True)
    assert {row.status for row in report} == {"initialized"}
    reference = _model(torch)
    oit.initialize(reference, oneinit.HeNormal(), seed=4)
    for (name, p), q in zip(model.named_parameters(), reference.parameters(), strict=True):
        assert p.device.type == device and torch.equal(p.cpu(), q), name


# Creating a lazy module warns that lazy modules are experimental; that warning is torch's.
@pytest.mark.filterwarnings("ignore:Lazy modules are a new feature:UserWarning")
def test_initialize_lazy_parameters(torch: ModuleType, oit: ModuleType) -> None:
    model = torch.nn.Sequential(torch.nn.LazyLinear(4))
    report = oit.initialize(model, oneinit.HeNormal())
    assert report.unfilled == ["0.weight", "0.bias"]
    with pytest.raises(ValueError, match="lazy"):
        oit.initialize(model, oneinit.HeNormal(), strict=True)
    model(torch.zeros(2, 6))
    report = oit.initialize(model, oneinit.HeNormal(), strict=True)
    assert report["0.weight"].fans == Fans(6, 4)


# --------------------------------------------------------------------------------------------
# initialize(names=...): canonical names for rules, reports and keys.


class Tagger:
    """Embedding, LSTM and a head, each under a torch name that differs from its canonical one."""

    @staticmethod
    def make(torch: ModuleType) -> Any:
        nn = torch.nn
        model = nn.Module()
        model.embed = nn.Embedding(40, 8)
        model.rnn = nn.LSTM(8, 6)
        model.head = nn.Linear(6, 3)
        return model


#: Canonical names for three of the tagger's parameters (the others keep torch's).
TAGGER_NAMES = {
    "embed.weight": "tagger.embed.weight",
    "rnn.weight_ih_l0": "tagger.lstm.weight_ih",
    "rnn.weight_hh_l0": "tagger.lstm.weight_hh",
}


def test_initialize_names_are_the_keys_and_the_report(torch: ModuleType, oit: ModuleType) -> None:
    model = Tagger.make(torch)
    rules = Rules(Rule(oneinit.Orthogonal(), role="recurrent")) + Rules.from_scheme(
        oneinit.GlorotUniform()
    )
    report = oit.initialize(model, rules, seed=5, names=TAGGER_NAMES, strict=True)
    assert [row.name for row in report] == [
        "tagger.embed.weight",
        "tagger.lstm.weight_ih",
        "tagger.lstm.weight_hh",
        "rnn.bias_ih_l0",  # not in the mapping: torch's name
        "rnn.bias_hh_l0",
        "head.weight",
        "head.bias",
    ]
    assert "tagger.lstm.weight_hh" in str(report) and "rnn.weight_hh_l0" not in str(report)
    glorot, orthogonal = oneinit.GlorotUniform(), oneinit.Orthogonal()
    stored = {  # the core's value under the canonical key, in torch's storage layout
        "tagger.embed.weight": (model.embed.weight, glorot, "embedding", 1),
        "tagger.lstm.weight_ih": (model.rnn.weight_ih_l0, glorot, "dense_out_in", 4),
        "tagger.lstm.weight_hh": (model.rnn.weight_hh_l0, orthogonal, "dense_out_in", 4),
        "head.weight": (model.head.weight, glorot, "dense_out_in", 1),  # its own name and key
    }
    for key, (param, scheme, layout, blocks) in stored.items():
        shape = tuple(param.shape)
        expected = scheme.sample(shape, seed=5, key=key, layout=layout, blocks=blocks)
        assert torch.equal(param.detach(), torch.from_numpy(np.array(expected))), key
    # The same call without names keys by torch's names: other values.
    plain = Tagger.make(torch)
    oit.initialize(plain, rules, seed=5)
    assert not torch.equal(plain.rnn.weight_hh_l0, model.rnn.weight_hh_l0)
    assert torch.equal(plain.head.weight, model.head.weight)


def test_initialize_names_rules_match_canonical_names(torch: ModuleType, oit: ModuleType) -> None:
    model = Tagger.make(torch)
    rules = Rules(
        Rule(oneinit.Constant(1.0), name="rnn.weight_ih_l0"),  # torch's name: no longer matches
        Rule(oneinit.Constant(2.0), name="tagger.lstm.*"),
        Rule(oneinit.Constant(3.0), regex=r"^tagger\.embed\."),
        Rule(oneinit.Constant(4.0)),
    )
    report = oit.initialize(model, rules, names=TAGGER_NAMES, strict=True)
    assert (model.rnn.weight_ih_l0 == 2).all() and (model.rnn.weight_hh_l0 == 2).all()
    assert (model.embed.weight == 3).all() and (model.head.weight == 4).all()
    assert report["tagger.lstm.weight_ih"].rule == "#2 name=tagger.lstm.*"


def test_initialize_names_callable_equals_mapping(torch: ModuleType, oit: ModuleType) -> None:
    by_mapping, by_callable = Tagger.make(torch), Tagger.make(torch)
    a = oit.initialize(by_mapping, oneinit.HeNormal(), seed=2, names=TAGGER_NAMES)
    b = oit.initialize(by_callable, oneinit.HeNormal(), seed=2, names=TAGGER_NAMES.get)
    assert [row.name for row in a] == [row.name for row in b]
    for (name, pa), pb in zip(by_mapping.named_parameters(), by_callable.parameters(), strict=True):
        assert torch.equal(pa, pb), name


def test_initialize_names_shared_parameter_once(torch: ModuleType, oit: ModuleType) -> None:
    nn = torch.nn
    model = nn.Module()
    model.embed = nn.Embedding(32, 8)
    model.head = nn.Linear(8, 32, bias=False)
    model.head.weight = model.embed.weight
    for alias in ("embed.weight", "head.weight"):  # either of its torch names
        report = oit.initialize(model, oneinit.GlorotUniform(), seed=1, names={alias: "tied"})
        assert [row.name for row in report] == ["tied"]
    expected = oneinit.GlorotUniform().sample((32, 8), seed=1, key="tied", layout="embedding")
    assert torch.equal(model.head.weight.detach(), torch.from_numpy(np.array(expected)))
    two = r"shared parameter 'embed.weight' \(also 'head.weight'\) more than one name"
    with pytest.raises(ValueError, match=two):
        oit.initialize(
            model, oneinit.GlorotUniform(), names={"embed.weight": "a", "head.weight": "b"}
        )


def test_initialize_names_errors(torch: ModuleType, oit: ModuleType) -> None:
    """names= is checked by the core's canonical_names, on torch's names, before any fill."""
    model = Tagger.make(torch)
    scheme = oneinit.HeNormal()
    fresh = model.head.weight.detach().clone()
    errors: list[tuple[Any, type[Exception], str]] = [
        ({"rnn.weight_ih": "x"}, ValueError, r"does not have: 'rnn.weight_ih'\. Its .* 'embed"),
        ({"embed.weight": "head.weight"}, ValueError, r"share the canonical name 'head.weight'"),
        ({"head.weight": "a", "head.bias": "a"}, ValueError, r"'a': 'head.weight' and 'head.b"),
        ([("embed.weight", "x")], TypeError, r"names must be a mapping.*names of type list"),
        ({0: "x"}, TypeError, r"names must map parameter names \(str\)"),
        ({"embed.weight": 3}, TypeError, r"Received: names\['embed.weight'\]=3"),
        (lambda name: b"x", TypeError, r"Received: names\['embed.weight'\]=b'x'"),
    ]
    for names, error, match in errors:
        with pytest.raises(error, match=match):
            oit.initialize(model, scheme, seed=0, names=names)
    assert torch.equal(model.head.weight, fresh)  # every error comes before the first fill
    wide = torch.nn.Sequential(*[torch.nn.Linear(2, 2) for _ in range(10)])
    with pytest.raises(ValueError, match=r"'5\.bias', \.\.\. \(8 more\)\. Received"):
        oit.initialize(wide, scheme, names={"10.weight": "x"})  # 20 names: the list is cut


# --------------------------------------------------------------------------------------------
# Rule(ignore="blocks"): the scheme sees the stacked gates as one matrix.


def test_rule_ignoring_blocks_makes_one_orthogonal_matrix(
    torch: ModuleType, oit: ModuleType
) -> None:
    hidden = 16
    eye = torch.eye(hidden, dtype=torch.float64)
    for seed in (None, 0):  # native and portable
        whole = torch.nn.LSTM(8, hidden)
        rule = Rule(oneinit.Orthogonal(), role="recurrent", ignore="blocks")
        report = oit.initialize(whole, rule, seed=seed)
        stacked = whole.weight_hh_l0.detach().double()  # canonical (4H, H)
        assert torch.allclose(stacked.T @ stacked, eye, atol=1e-5)
        gate = stacked[:hidden]
        assert not torch.allclose(gate @ gate.T, eye, atol=1e-2)
        assert report["weight_hh_l0"].rule == "#1 role=recurrent ignore=blocks"
        per_gate = torch.nn.LSTM(8, hidden)
        oit.initialize(per_gate, Rule(oneinit.Orthogonal(), role="recurrent"), seed=seed)
        for block in per_gate.weight_hh_l0.detach().double().split(hidden):
            assert torch.allclose(block @ block.T, eye, atol=1e-5)
    expected = oneinit.Orthogonal().sample((4 * hidden, hidden), seed=0, key="weight_hh_l0")
    assert torch.equal(whole.weight_hh_l0.detach(), torch.from_numpy(np.array(expected)))


# --------------------------------------------------------------------------------------------
# profile="torch": torch's own default initialization, statistically.


def _profile_layers() -> list[Any]:
    def nn_layer(factory: Callable[[Any], Any], name: str) -> Any:
        return pytest.param(factory, id=name)

    return [
        nn_layer(lambda nn: nn.Linear(1024, 2048), "linear"),
        nn_layer(lambda nn: nn.Conv1d(64, 128, 5), "conv1d"),
        nn_layer(lambda nn: nn.Conv2d(64, 256, 3), "conv2d"),
        nn_layer(lambda nn: nn.Conv3d(16, 64, 3), "conv3d"),
        nn_layer(lambda nn: nn.Conv2d(64, 256, 3, groups=8), "conv2d_grouped"),
        nn_layer(lambda nn: nn.Conv2d(128, 128, 5, groups=128), "depthwise"),
        nn_layer(lambda nn: nn.ConvTranspose2d(64, 256, 3), "conv_transpose2d"),
        nn_layer(lambda nn: nn.ConvTranspose2d(256, 64, 3, groups=4), "conv_transpose2d_grouped"),
        nn_layer(lambda nn: nn.ConvTranspose1d(64, 128, 4), "conv_transpose1d"),
        nn_layer(lambda nn: nn.Embedding(4000, 64, padding_idx=3), "embedding"),
        nn_layer(lambda nn: nn.LSTM(64, 256, num_layers=2), "lstm"),
        nn_layer(lambda nn: nn.LSTM(64, 256, proj_size=32, bidirectional=True), "lstm_proj"),
        nn_layer(lambda nn: nn.GRU(64, 256), "gru"),
        nn_layer(lambda nn: nn.RNN(64, 256, nonlinearity="relu"), "rnn"),
        nn_layer(lambda nn: nn.LSTMCell(64, 256), "lstm_cell"),
        nn_layer(lambda nn: nn.GRUCell(64, 256), "gru_cell"),
        nn_layer(lambda nn: nn.MultiheadAttention(256, 8, add_bias_kv=True), "attention"),
        nn_layer(lambda nn: nn.MultiheadAttention(256, 8, kdim=128, vdim=64), "attention_kdim"),
        nn_layer(lambda nn: nn.BatchNorm2d(64), "batch_norm"),
        nn_layer(lambda nn: nn.LayerNorm(64), "layer_norm"),
        nn_layer(lambda nn: nn.GroupNorm(8, 64), "group_norm"),
        nn_layer(lambda nn: nn.InstanceNorm2d(64, affine=True), "instance_norm"),
        nn_layer(lambda nn: nn.PReLU(8), "prelu"),
        nn_layer(
            lambda nn: nn.TransformerEncoderLayer(128, 4, dim_feedforward=512), "transformer_layer"
        ),
    ]


@pytest.mark.parametrize("make", _profile_layers())
def test_profile_torch_matches_torch_default_init(
    torch: ModuleType, oit: ModuleType, make: Callable[[Any], Any]
) -> None:
    torch.manual_seed(0)
    theirs = make(torch.nn)
    ours = make(torch.nn)
    report = oit.initialize(
        ours, profile="torch", generator=torch.Generator().manual_seed(1), strict=True
    )
    for (name, a), b in zip(theirs.named_parameters(), ours.parameters(), strict=True):
        x, y = as_numpy(a), as_numpy(b)
        if np.all(x == x[0]):
            assert np.all(y == x[0]), name
            continue
        padding = getattr(theirs, "padding_idx", None)
        if padding is not None:
            assert (b[padding] == 0).all()
            keep = np.ones(a.shape[0], dtype=bool)
            keep[padding] = False
            x, y = as_numpy(a[keep]), as_numpy(b[keep])
        assert ks_two_sample(x, y) <= ks_two_sample_bound(x.size, y.size), name
        expected = report[name].expected_std
        assert expected is not None
        assert abs(float(x.std()) - expected) <= 6 * expected / math.sqrt(x.size) + 1e-3 * expected


def test_profile_rules_are_framework_free() -> None:
    from oneinit.core.rules import get_profile

    rules = get_profile("torch")
    assert all(rule.fan_convention is None for rule in rules)  # correct fans: portable


# --------------------------------------------------------------------------------------------
# GPU: the native fill happens on the device.


def _native_fills(torch: ModuleType, oit: ModuleType) -> dict[str, Callable[[Any, Any], Any]]:
    return {
        "uniform": lambda t, g: oit.glorot_uniform_(t, generator=g),
        "normal": lambda t, g: oit.he_normal_(t, generator=g),
        "trunc_normal": lambda t, g: oit.trunc_normal_(t, std=0.5, generator=g),
        "variance_scaling": lambda t, g: oit.variance_scaling_(t, generator=g),
        "constant": lambda t, g: oit.constant_(t, 0.5),
    }


NATIVE = ["uniform", "normal", "trunc_normal", "variance_scaling", "constant"]


@pytest.mark.gpu
@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
@pytest.mark.parametrize("fill", NATIVE)
# The profiler may warn that some CUPTI features are unavailable in a container; that warning
# is about the profiler, not the code under test.
@pytest.mark.filterwarnings("ignore::UserWarning")
def test_native_fill_on_device_without_host_copies(
    torch: ModuleType, oit: ModuleType, cuda: str, fill: str, dtype: str
) -> None:
    from torch.profiler import ProfilerActivity, profile

    do = _native_fills(torch, oit)[fill]
    tensor = torch.empty(1024, 1024, device=cuda, dtype=getattr(torch, dtype))
    generator = torch.Generator(cuda).manual_seed(0)
    do(tensor, generator)  # warm-up: kernels loaded, host-side constants cached
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    allocated = torch.cuda.memory_allocated()
    with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
        torch.cuda.set_sync_debug_mode("error")  # any device-to-host synchronization raises
        try:
            do(tensor, generator)
        finally:
            torch.cuda.set_sync_debug_mode(0)
        torch.cuda.synchronize()
    extra = torch.cuda.max_memory_allocated() - allocated
    names = [event.name for event in prof.events()]
    copies = [name for name in names if "memcpy" in name.lower()]
    assert not copies, copies
    kernels = [e for e in prof.events() if str(e.device_type).endswith("CUDA")]
    assert kernels, "the fill ran no kernel on the device"
    assert tensor.device.type == "cuda" and tensor.dtype == getattr(torch, dtype)
    if dtype == "float32":
        assert extra == 0  # in place: no temporaries at all (no float64 ones either)
    else:
        assert extra <= 4 * tensor.numel()  # at most one float32 work buffer


@pytest.mark.gpu
def test_initialize_on_device_model(torch: ModuleType, oit: ModuleType, cuda: str) -> None:
    with torch.device("meta"):
        model = torch.nn.TransformerEncoderLayer(64, 4, dim_feedforward=128)
    model.to_empty(device=cuda)
    report = oit.initialize(
        model, profile="torch", generator=torch.Generator(cuda).manual_seed(0), strict=True
    )
    assert {row.status for row in report} == {"initialized"}
    assert all(p.device.type == "cuda" and torch.isfinite(p).all() for p in model.parameters())


@pytest.mark.gpu
@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
@pytest.mark.parametrize("layout", [None, "conv_transpose"], ids=["canonical", "conv_transpose"])
# See test_native_fill_on_device_without_host_copies.
@pytest.mark.filterwarnings("ignore::UserWarning")
def test_seeded_fill_copies_once_to_device(
    torch: ModuleType, oit: ModuleType, cuda: str, dtype: str, layout: str | None
) -> None:
    from torch.profiler import ProfilerActivity, profile

    tensor = torch.empty(256, 64, 3, 3, device=cuda, dtype=getattr(torch, dtype))
    oit.glorot_uniform_(tensor, layout=layout, seed=0)  # warm-up
    torch.cuda.synchronize()
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        oit.glorot_uniform_(tensor, layout=layout, seed=1)
        torch.cuda.synchronize()
    copies = [e.name for e in prof.events() if "memcpy htod" in e.name.lower()]
    assert len(copies) == 1, copies
    on_host = torch.empty(tensor.shape, dtype=tensor.dtype)
    assert torch.equal(tensor.cpu(), oit.glorot_uniform_(on_host, layout=layout, seed=1))
