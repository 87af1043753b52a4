"""Tests of ``oneinit.adapters.keras`` on the backend ``KERAS_BACKEND`` selects.

The same file runs in the tensorflow, jax and torch sessions. Nothing here imports keras at
collection: the ``keras`` fixture imports it, and a missing keras fails the test with the install
line (it never skips).

What is proved (DESIGN.md section 7):

- fans and bounds come from the core for every Keras layer kind, and the core's
  ``fan_convention="keras"`` equals Keras's own ``compute_fans``;
- native fills (``seed=None``) follow the core's distribution: exact bounds, moments and
  Kolmogorov-Smirnov distance within tolerances derived from the sample size (fixed seeds);
- portable fills (``seed=int``) equal the core's ``sample`` bit for bit, after the layout
  transpose, call ``n`` using key ``n``;
- every initializer survives get_config/from_config, serialization, string lookup, and
  save-and-reload of a ``.keras`` file (in this process and in a fresh one);
- ``initialize`` reads every layer kind with its layout and fills it by rules;
- bad arguments fail with messages that name the argument (``Received: name=...``).
"""

from __future__ import annotations

import importlib
import json
import math
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import reduce
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

import oneinit
from oneinit.core.rules import Rule, Rules

REPO_ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    # TensorFlow's EagerTensor.__array__ predates numpy 2's ``copy=`` keyword, so numpy warns
    # on every keras.ops.convert_to_numpy under the tensorflow backend: framework noise.
    pytest.mark.filterwarnings(
        "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
    ),
]


# --------------------------------------------------------------------------------------------
# Fixtures and helpers.


@pytest.fixture(scope="session")
def keras() -> ModuleType:
    """The ``keras`` module (the backend is ``KERAS_BACKEND``'s)."""
    try:
        return importlib.import_module("keras")
    except ImportError as error:  # a missing framework fails the run, it never silently skips
        pytest.fail(f'this test needs keras: pip install "oneinit[keras]" ({error})')


@pytest.fixture(scope="session")
def oik(keras: ModuleType) -> ModuleType:
    """The Keras adapter, ``oneinit.adapters.keras``."""
    return importlib.import_module("oneinit.adapters.keras")


@pytest.fixture
def seeded(keras: ModuleType) -> None:
    """Keras's global seeding fixed, so native fills are the same on every run."""
    keras.utils.set_random_seed(1234)


def numpy(keras: ModuleType, tensor: Any) -> np.ndarray:
    return np.asarray(keras.ops.convert_to_numpy(tensor))


def skip_without_float64(keras: ModuleType) -> None:
    """JAX has float64 only with JAX_ENABLE_X64 (otherwise it warns and truncates)."""
    if keras.backend.backend() == "jax":
        import jax

        if not jax.config.read("jax_enable_x64"):
            pytest.skip("JAX without JAX_ENABLE_X64 has no float64")


def keras_compute_fans(shape: tuple[int, ...], **axes: Any) -> tuple[int, int]:
    """Keras's own fan rule (its private helper: the reference the core must reproduce)."""
    from keras.src.initializers.random_initializers import compute_fans

    fan_in, fan_out = compute_fans(shape, **axes)
    return int(fan_in), int(fan_out)


def build_layer(keras: ModuleType, spec: LayerSpec, **initializers: Any) -> Any:
    layer = getattr(keras.layers, spec.layer)(**spec.kwargs, **initializers)
    if spec.layer == "MultiHeadAttention":
        x = np.zeros((2, 5, *spec.input), dtype="float32")
        layer(x, x)
    else:
        layer.build((None, *spec.input))
    return layer


def variable(layer: Any, path: str) -> Any:
    return reduce(getattr, path.split("."), layer)


# --------------------------------------------------------------------------------------------
# Every Keras layer kind: its weight, the layout oneinit reads it in, and the right fans.
# Sizes: in = 16 channels, out = 32, 3x3 kernels, LSTM input 20 with H = 50, vocabulary 1000.


@dataclass(frozen=True)
class LayerSpec:
    layer: str
    kwargs: dict[str, Any]
    input: tuple[int, ...]
    variable: str  # attribute path of the weight in the built layer
    argument: str  # the layer's initializer argument for it
    layout: str | None  # the adapter's layout option for this weight (None: Keras's by rank)
    core_layout: str | None  # the same layout, as the core names it (None: einsum axes)
    fans: tuple[int, int]  # the right (fan_in, fan_out)
    kind: str
    slot: str
    groups: int = 1
    blocks: int = 1
    axes: tuple[tuple[int, ...], tuple[int, ...]] | None = None  # EinsumDense (in, out)
    roles: frozenset[str] = field(default=frozenset({"weight"}))


LAYER_KINDS = [
    LayerSpec(
        "Dense",
        {"units": 32},
        (16,),
        "kernel",
        "kernel_initializer",
        None,
        "dense_in_out",
        (16, 32),
        "linear",
        "weight",
    ),
    LayerSpec(
        "Conv1D",
        {"filters": 32, "kernel_size": 3},
        (10, 16),
        "kernel",
        "kernel_initializer",
        None,
        "conv_k_in_out",
        (48, 96),
        "conv",
        "weight",
    ),
    LayerSpec(
        "Conv2D",
        {"filters": 32, "kernel_size": 3},
        (8, 8, 16),
        "kernel",
        "kernel_initializer",
        None,
        "conv_k_in_out",
        (144, 288),
        "conv",
        "weight",
    ),
    LayerSpec(
        "Conv3D",
        {"filters": 32, "kernel_size": 3},
        (6, 6, 6, 16),
        "kernel",
        "kernel_initializer",
        "conv",
        "conv_k_in_out",
        (432, 864),
        "conv",
        "weight",
    ),
    # groups=4: fan_in = 16/4 * 9; fan_out = one group's 32/4 outputs * 9 (Keras: all 32).
    LayerSpec(
        "Conv2D",
        {"filters": 32, "kernel_size": 3, "groups": 4},
        (8, 8, 16),
        "kernel",
        "kernel_initializer",
        None,
        "conv_k_in_out",
        (36, 72),
        "conv",
        "weight",
        groups=4,
    ),
    # Transposed: stored (*k, out, in); Keras's own rule swaps the fans.
    LayerSpec(
        "Conv1DTranspose",
        {"filters": 32, "kernel_size": 3},
        (10, 16),
        "kernel",
        "kernel_initializer",
        "conv_transpose",
        "conv_transpose_k_out_in",
        (48, 96),
        "conv_transpose",
        "weight",
    ),
    LayerSpec(
        "Conv2DTranspose",
        {"filters": 32, "kernel_size": 3},
        (8, 8, 16),
        "kernel",
        "kernel_initializer",
        "conv_transpose",
        "conv_transpose_k_out_in",
        (144, 288),
        "conv_transpose",
        "weight",
    ),
    LayerSpec(
        "Conv3DTranspose",
        {"filters": 32, "kernel_size": 3},
        (6, 6, 6, 16),
        "kernel",
        "kernel_initializer",
        "conv_transpose",
        "conv_transpose_k_out_in",
        (432, 864),
        "conv_transpose",
        "weight",
    ),
    # Depthwise: each output sees one input channel: fan_in = kernel size (Keras: * channels).
    LayerSpec(
        "DepthwiseConv1D",
        {"kernel_size": 3, "depth_multiplier": 2},
        (10, 16),
        "kernel",
        "depthwise_initializer",
        "depthwise",
        "depthwise_k_in_mult",
        (3, 6),
        "conv",
        "weight",
    ),
    LayerSpec(
        "DepthwiseConv2D",
        {"kernel_size": 3},
        (8, 8, 16),
        "kernel",
        "depthwise_initializer",
        "depthwise",
        "depthwise_k_in_mult",
        (9, 9),
        "conv",
        "weight",
    ),
    LayerSpec(
        "SeparableConv2D",
        {"filters": 32, "kernel_size": 3, "depth_multiplier": 2},
        (8, 8, 16),
        "depthwise_kernel",
        "depthwise_initializer",
        "depthwise",
        "depthwise_k_in_mult",
        (9, 18),
        "conv",
        "depthwise_weight",
    ),
    LayerSpec(
        "SeparableConv2D",
        {"filters": 32, "kernel_size": 3, "depth_multiplier": 2},
        (8, 8, 16),
        "pointwise_kernel",
        "pointwise_initializer",
        None,
        "conv_k_in_out",
        (32, 32),
        "conv",
        "pointwise_weight",
    ),
    LayerSpec(
        "Embedding",
        {"input_dim": 1000, "output_dim": 64},
        (),
        "embeddings",
        "embeddings_initializer",
        "embedding",
        "embedding",
        (1000, 64),
        "embedding",
        "weight",
        roles=frozenset({"weight", "embedding"}),
    ),
    # Recurrent: gates stacked on the output axis; fan_out is one gate's.
    LayerSpec(
        "LSTM",
        {"units": 50},
        (7, 20),
        "cell.kernel",
        "kernel_initializer",
        None,
        "dense_in_out",
        (20, 50),
        "lstm",
        "weight_ih",
        blocks=4,
    ),
    LayerSpec(
        "LSTM",
        {"units": 50},
        (7, 20),
        "cell.recurrent_kernel",
        "recurrent_initializer",
        "recurrent",
        "dense_in_out",
        (50, 50),
        "lstm",
        "weight_hh",
        blocks=4,
        roles=frozenset({"weight", "recurrent"}),
    ),
    LayerSpec(
        "GRU",
        {"units": 50},
        (7, 20),
        "cell.kernel",
        "kernel_initializer",
        None,
        "dense_in_out",
        (20, 50),
        "gru",
        "weight_ih",
        blocks=3,
    ),
    LayerSpec(
        "GRU",
        {"units": 50},
        (7, 20),
        "cell.recurrent_kernel",
        "recurrent_initializer",
        None,
        "dense_in_out",
        (50, 50),
        "gru",
        "weight_hh",
        blocks=3,
        roles=frozenset({"weight", "recurrent"}),
    ),
    LayerSpec(
        "SimpleRNN",
        {"units": 50},
        (7, 20),
        "cell.recurrent_kernel",
        "recurrent_initializer",
        None,
        "dense_in_out",
        (50, 50),
        "rnn",
        "weight_hh",
        roles=frozenset({"weight", "recurrent"}),
    ),
    # Attention: EinsumDense kernels with the axes of their equation.
    LayerSpec(
        "MultiHeadAttention",
        {"num_heads": 4, "key_dim": 16},
        (64,),
        "query_dense.kernel",
        "kernel_initializer",
        None,
        None,
        (64, 64),
        "multihead_attention",
        "q_proj_weight",
        axes=((0,), (1, 2)),
    ),
    LayerSpec(
        "MultiHeadAttention",
        {"num_heads": 4, "key_dim": 16},
        (64,),
        "output_dense.kernel",
        "kernel_initializer",
        None,
        None,
        (64, 64),
        "multihead_attention",
        "out_proj_weight",
        axes=((0, 1), (2,)),
    ),
]
LAYER_IDS = [
    f"{s.layer}-{s.variable.rsplit('.', 1)[-1]}" + (f"-g{s.groups}" if s.groups > 1 else "")
    for s in LAYER_KINDS
]


@pytest.mark.parametrize("spec", LAYER_KINDS, ids=LAYER_IDS)
def test_core_keras_convention_equals_keras_compute_fans(
    keras: ModuleType, spec: LayerSpec
) -> None:
    shape = tuple(int(d) for d in variable(build_layer(keras, spec), spec.variable).shape)
    expected = oneinit.compute_fans(shape, fan_convention="keras")
    assert (expected.fan_in, expected.fan_out) == keras_compute_fans(shape)
    if spec.axes is not None:  # what EinsumDense makes Keras compute
        ours = oneinit.compute_fans(shape, oneinit.Layout.einsum(*spec.axes))
        keras_fans = keras_compute_fans(shape, input_axes=spec.axes[0], output_axes=spec.axes[1])
        assert (ours.fan_in, ours.fan_out) == keras_fans


@pytest.mark.parametrize("spec", LAYER_KINDS, ids=LAYER_IDS)
def test_layer_fans_and_layout(keras: ModuleType, oik: ModuleType, spec: LayerSpec) -> None:
    layer = build_layer(keras, spec)
    weight = variable(layer, spec.variable)
    shape = tuple(int(d) for d in weight.shape)
    infos = {info.name: info for info in oik.describe(layer)}
    info = infos[weight.path]
    assert (info.kind, info.slot, info.roles) == (spec.kind, spec.slot, spec.roles)
    assert (info.geometry.groups, info.geometry.blocks) == (spec.groups, spec.blocks)
    if spec.core_layout is not None:
        assert info.layout == spec.core_layout
    fans = info.geometry.fans()
    assert (fans.fan_in, fans.fan_out) == spec.fans
    # An initializer given the same layout computes the same fans.
    init = oik.HeUniform(
        layout=spec.layout,
        groups=spec.groups,
        blocks=spec.blocks,
        input_axes=spec.axes and spec.axes[0],
        output_axes=spec.axes and spec.axes[1],
    )
    assert (init.fans(shape).fan_in, init.fans(shape).fan_out) == spec.fans


@pytest.mark.parametrize("spec", LAYER_KINDS, ids=LAYER_IDS)
def test_native_bound_in_layer(
    keras: ModuleType, oik: ModuleType, seeded: None, spec: LayerSpec
) -> None:
    """He uniform filled by Keras: |w| <= sqrt(6 / fan_in), the fan_in of the table above."""
    init = oik.HeUniform(layout=spec.layout, groups=spec.groups, blocks=spec.blocks)
    weight = numpy(
        keras, variable(build_layer(keras, spec, **{spec.argument: init}), spec.variable)
    )
    bound = math.sqrt(6.0 / spec.fans[0])  # computed here, not by the core
    axes = {} if spec.axes is None else {"input_axes": spec.axes[0], "output_axes": spec.axes[1]}
    as_used = oik.HeUniform(layout=spec.layout, groups=spec.groups, blocks=spec.blocks, **axes)
    assert as_used.distribution_for(weight.shape).high == pytest.approx(bound, rel=1e-15)
    assert np.abs(weight.astype(np.float64)).max() <= bound
    # The bound is reached: P(max|w| < (1 - t) bound) = (1 - t)**n <= 1e-9 for this t.
    n = weight.size
    assert np.abs(weight).max() >= bound * 1e-9 ** (1.0 / n)


# --------------------------------------------------------------------------------------------
# Native fills: the core's distribution, on the backend's RNG.


@dataclass(frozen=True)
class NativeCase:
    make: Callable[[ModuleType], Any]
    shape: tuple[int, ...]


NATIVE_CASES = {
    "glorot_uniform": NativeCase(lambda oik: oik.GlorotUniform(), (512, 512)),
    "he_uniform_conv_transpose": NativeCase(
        lambda oik: oik.HeUniform(layout="conv_transpose"), (5, 5, 128, 96)
    ),
    "he_normal": NativeCase(lambda oik: oik.HeNormal(), (512, 512)),
    "he_normal_truncated": NativeCase(
        lambda oik: oik.HeNormal(distribution="truncated_normal"), (3, 3, 128, 256)
    ),
    "lecun_normal_depthwise": NativeCase(
        lambda oik: oik.LecunNormal(layout="depthwise"), (3, 3, 256, 128)
    ),
    "variance_scaling_fan_out_uniform": NativeCase(
        lambda oik: oik.VarianceScaling(scale=0.5, mode="fan_out", distribution="uniform"),
        (300, 900),
    ),
    "random_uniform_asymmetric": NativeCase(
        lambda oik: oik.RandomUniform(minval=-0.3, maxval=0.7), (512, 512)
    ),
    "random_normal": NativeCase(lambda oik: oik.RandomNormal(mean=0.5, stddev=2.0), (512, 512)),
    "truncated_normal_keras": NativeCase(lambda oik: oik.TruncatedNormal(), (512, 512)),
    "truncated_normal_asymmetric": NativeCase(
        lambda oik: oik.TruncatedNormal(mean=0.1, stddev=0.2, lower=-1.0, upper=3.0), (512, 512)
    ),
    "truncated_normal_absolute": NativeCase(
        lambda oik: oik.TruncatedNormal(stddev=0.02, lower=-0.01, upper=0.05, units="absolute"),
        (512, 512),
    ),
    "truncated_normal_one_sided": NativeCase(
        lambda oik: oik.TruncatedNormal(stddev=1.0, lower=0.0, upper=math.inf), (512, 512)
    ),
}


def _phi(x: np.ndarray | float) -> np.ndarray:
    from math import erf

    return 0.5 * (1.0 + np.vectorize(erf)(np.asarray(x, dtype=np.float64) / math.sqrt(2.0)))


def theory(distribution: Any) -> tuple[float, float, float, Callable[[np.ndarray], np.ndarray]]:
    """(mean, std, fourth central moment, CDF) of a core distribution."""
    if isinstance(distribution, oneinit.UniformDistribution):
        a, b = distribution.low, distribution.high
        width = b - a
        return (
            (a + b) / 2,
            width / math.sqrt(12),
            width**4 / 80,
            lambda x: np.clip((x - a) / width, 0, 1),
        )
    mean, std = distribution.mean, distribution.std
    if not distribution.truncated:
        return mean, std, 3 * std**4, lambda x: _phi((x - mean) / std)
    lo, hi = distribution.lower, distribution.upper
    p_lo, p_hi = float(_phi(lo)), float(_phi(hi))
    # Moments of the truncated normal by quadrature on a fine grid (host float64).
    z = np.linspace(max(lo, -12.0), min(hi, 12.0), 400_001)
    density = np.exp(-0.5 * z**2)
    density /= np.trapezoid(density, z) if hasattr(np, "trapezoid") else np.trapz(density, z)
    integrate = np.trapezoid if hasattr(np, "trapezoid") else np.trapz
    z_mean = integrate(z * density, z)
    z_var = integrate((z - z_mean) ** 2 * density, z)
    z_m4 = integrate((z - z_mean) ** 4 * density, z)

    def cdf(x: np.ndarray) -> np.ndarray:
        return np.clip((_phi((x - mean) / std) - p_lo) / (p_hi - p_lo), 0, 1)

    return mean + std * z_mean, std * math.sqrt(z_var), std**4 * z_m4, cdf


@pytest.mark.parametrize("case", list(NATIVE_CASES.values()), ids=list(NATIVE_CASES))
def test_native_statistics(
    keras: ModuleType, oik: ModuleType, seeded: None, case: NativeCase
) -> None:
    init = case.make(oik)
    values = numpy(keras, init(case.shape)).astype(np.float64).ravel()
    distribution = init.distribution_for(case.shape)
    mean, std, m4, cdf = theory(distribution)
    n = values.size
    # Exact bounds (uniform and truncated).
    low = getattr(distribution, "low", -math.inf)
    high = getattr(distribution, "high", math.inf)
    assert values.min() >= low and values.max() <= high
    # Moments: 6 standard errors of the sample mean and of the sample std.
    assert abs(values.mean() - mean) <= 6 * std / math.sqrt(n)
    std_error = math.sqrt((m4 - std**4) / n) / (2 * std)
    assert abs(values.std() - std) <= 6 * std_error
    # Kolmogorov-Smirnov distance below its critical value at alpha = 1e-6; the float32
    # values are discrete, so the ECDF is compared on both sides of each step.
    ordered = np.sort(values)
    theoretical = cdf(ordered)
    above = np.arange(1, n + 1) / n - theoretical
    below = theoretical - np.arange(0, n) / n
    distance = max(above.max(), below.max())
    assert distance <= math.sqrt(math.log(2 / 1e-6) / (2 * n))


@pytest.mark.parametrize("scheme", ["uniform", "truncated"], ids=["uniform", "truncated"])
def test_native_bounds_hold_at_scale(
    keras: ModuleType, oik: ModuleType, seeded: None, scheme: str
) -> None:
    """2**22 values, bounds whose float32 rounding goes outward: none falls outside."""
    # fan_in 144: the uniform bound sqrt(6/144) = 0.20412414523..., which float32 rounds up.
    shape = (3, 3, 16, 29_128)
    if scheme == "uniform":
        init = oik.HeUniform()
    else:
        init = oik.HeNormal(distribution="truncated_normal")
    values = numpy(keras, init(shape)).astype(np.float64)
    distribution = init.distribution_for(shape)
    assert values.min() >= distribution.low and values.max() <= distribution.high


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_native_uniform_bounds_handed_to_keras_are_inside(
    keras: ModuleType, oik: ModuleType, monkeypatch: pytest.MonkeyPatch, dtype: str
) -> None:
    """keras.random.uniform gets bounds representable in the dtype and inside the core's."""
    seen: dict[str, float] = {}
    uniform = keras.random.uniform

    def spy(shape: Any, minval: float, maxval: float, **kwargs: Any) -> Any:
        seen.update(minval=minval, maxval=maxval)
        return uniform(shape, minval=minval, maxval=maxval, **kwargs)

    if dtype == "float64":
        skip_without_float64(keras)
    monkeypatch.setattr(keras.random, "uniform", spy)
    init = oik.HeUniform()  # bound sqrt(6/144): every one of these dtypes rounds it outward
    init((3, 3, 16, 8), dtype=dtype)
    distribution = init.distribution_for((3, 3, 16, 8))
    kind = {"float16": np.float16, "float32": np.float32, "float64": np.float64}[dtype]
    for name in ("minval", "maxval"):
        assert float(kind(seen[name])) == seen[name]  # representable
    assert distribution.low <= seen["minval"] < seen["maxval"] <= distribution.high
    if dtype != "float64":
        assert seen["maxval"] < distribution.high  # it was rounded inward, not outward


def test_native_calls_differ_and_follow_global_seed(keras: ModuleType, oik: ModuleType) -> None:
    keras.utils.set_random_seed(7)
    first = oik.HeNormal()
    a, b = numpy(keras, first((64, 64))), numpy(keras, first((64, 64)))
    assert not np.array_equal(a, b)  # the generator advances per call
    keras.utils.set_random_seed(7)
    again = oik.HeNormal()
    assert np.array_equal(numpy(keras, again((64, 64))), a)


def test_native_shared_instance_gives_layers_different_values(
    keras: ModuleType, oik: ModuleType, seeded: None
) -> None:
    init = oik.GlorotUniform()
    model = keras.Sequential(
        [
            keras.Input((32,)),
            keras.layers.Dense(32, kernel_initializer=init),
            keras.layers.Dense(32, kernel_initializer=init),
        ]
    )
    first, second = (numpy(keras, layer.kernel) for layer in model.layers)
    assert not np.array_equal(first, second)


@pytest.mark.parametrize(
    ("shape", "layout", "blocks"),
    [
        pytest.param((64, 64), None, 1, id="dense-square"),
        pytest.param((3, 3, 16, 32), None, 1, id="conv"),
        pytest.param((50, 200), "recurrent", 4, id="lstm-recurrent-per-gate"),
        pytest.param((3, 3, 32, 16), "conv_transpose", 1, id="conv-transpose"),
    ],
)
def test_native_orthogonal(
    keras: ModuleType,
    oik: ModuleType,
    seeded: None,
    shape: tuple[int, ...],
    layout: str | None,
    blocks: int,
) -> None:
    gain = 1.5
    init = oik.Orthogonal(gain=gain, layout=layout, blocks=blocks)
    values = numpy(keras, init(shape)).astype(np.float64)
    core_layout = init.layout_for(shape)
    canonical = oneinit.to_canonical(values, core_layout)
    rows = canonical.reshape(canonical.shape[0], -1)
    for block in np.split(rows, blocks, axis=0):
        small = min(block.shape)
        gram = block @ block.T if block.shape[0] == small else block.T @ block
        np.testing.assert_allclose(gram, gain**2 * np.eye(small), atol=1e-5)


@pytest.mark.parametrize(
    ("make", "shape"),
    [
        pytest.param(lambda oik: oik.DeltaOrthogonal(), (3, 3, 16, 32), id="delta-orthogonal"),
        pytest.param(lambda oik: oik.Sparse(sparsity=0.25), (40, 30), id="sparse"),
    ],
)
def test_native_structured_draws_a_seed(
    keras: ModuleType,
    oik: ModuleType,
    seeded: None,
    make: Callable[[ModuleType], Any],
    shape: tuple[int, ...],
) -> None:
    """Schemes built by the core get their seed from the initializer's generator."""
    init = make(oik)
    a, b = numpy(keras, init(shape)), numpy(keras, init(shape))
    assert a.shape == shape and not np.array_equal(a, b)
    if isinstance(init, oik.Sparse):
        zeros_per_column = (a == 0).sum(axis=1)  # storage (in, out): out is the last axis
        assert (zeros_per_column == math.ceil(0.25 * 30)).all()


# --------------------------------------------------------------------------------------------
# Portable fills: the core's values, bit for bit.


@dataclass(frozen=True)
class KerasTestMixture(oneinit.CustomScheme):
    """U(5, 10) w.p. 1/4, 0 w.p. 1/2, U(-10, -5) w.p. 1/4 (module level, so it serializes)."""

    def draw(self, shape: tuple[int, ...], fans: Any, generator: oneinit.Generator) -> Any:
        xp = generator.xp
        choice = generator.uniform(shape)
        magnitude = generator.uniform(shape, 5.0, 10.0)
        zero = xp.zeros(shape, dtype=xp.float32)
        return xp.where(choice < 0.25, magnitude, xp.where(choice < 0.75, zero, -magnitude))


@dataclass(frozen=True)
class PortableCase:
    make: Callable[[ModuleType, int], Any]  # (oik, seed) -> initializer
    scheme: oneinit.Scheme
    shape: tuple[int, ...]
    core_layout: str | oneinit.Layout | None  # None: a vector
    groups: int = 1
    blocks: int = 1


PORTABLE_CASES = {
    "glorot_uniform": PortableCase(
        lambda oik, s: oik.GlorotUniform(gain=2.0, seed=s),
        oneinit.GlorotUniform(gain=2.0),
        (16, 32),
        "dense_in_out",
    ),
    "glorot_normal": PortableCase(
        lambda oik, s: oik.GlorotNormal(seed=s), oneinit.GlorotNormal(), (16, 32), "dense_in_out"
    ),
    "he_uniform": PortableCase(
        lambda oik, s: oik.HeUniform(nonlinearity="leaky_relu", negative_slope=0.2, seed=s),
        oneinit.HeUniform(nonlinearity="leaky_relu", negative_slope=0.2),
        (3, 3, 16, 32),
        "conv_k_in_out",
    ),
    "he_normal_truncated_conv_transpose": PortableCase(
        lambda oik, s: oik.HeNormal(
            distribution="truncated_normal", layout="conv_transpose", seed=s
        ),
        oneinit.HeNormal(distribution="truncated_normal"),
        (3, 3, 32, 16),
        "conv_transpose_k_out_in",
    ),
    "lecun_uniform_depthwise": PortableCase(
        lambda oik, s: oik.LecunUniform(layout="depthwise", seed=s),
        oneinit.LecunUniform(),
        (3, 3, 16, 2),
        "depthwise_k_in_mult",
    ),
    "lecun_normal": PortableCase(
        lambda oik, s: oik.LecunNormal(seed=s), oneinit.LecunNormal(), (3, 16, 32), "conv_k_in_out"
    ),
    "variance_scaling_grouped": PortableCase(
        lambda oik, s: oik.VarianceScaling(scale=2.0, mode="fan_avg", groups=4, seed=s),
        oneinit.VarianceScaling(scale=2.0, mode="fan_avg"),
        (3, 3, 4, 32),
        "conv_k_in_out",
        groups=4,
    ),
    "random_uniform_embedding": PortableCase(
        lambda oik, s: oik.RandomUniform(layout="embedding", seed=s),
        oneinit.Uniform(-0.05, 0.05),
        (100, 16),
        "embedding",
    ),
    "random_normal_vector": PortableCase(
        lambda oik, s: oik.RandomNormal(mean=1.0, stddev=0.5, seed=s),
        oneinit.Normal(1.0, 0.5),
        (32,),
        None,
    ),
    "truncated_normal": PortableCase(
        lambda oik, s: oik.TruncatedNormal(
            stddev=0.02, lower=-0.03, upper=0.01, units="absolute", seed=s
        ),
        oneinit.TruncatedNormal(std=0.02, lower=-0.03, upper=0.01, units="absolute"),
        (16, 32),
        "dense_in_out",
    ),
    "constant": PortableCase(
        lambda oik, s: oik.Constant(value=0.25, seed=s),
        oneinit.Constant(0.25),
        (16, 32),
        "dense_in_out",
    ),
    "zeros": PortableCase(lambda oik, s: oik.Zeros(seed=s), oneinit.Zeros(), (8,), None),
    "ones": PortableCase(lambda oik, s: oik.Ones(seed=s), oneinit.Ones(), (8, 4), "dense_in_out"),
    "orthogonal_conv": PortableCase(
        lambda oik, s: oik.Orthogonal(gain=1.5, seed=s),
        oneinit.Orthogonal(1.5),
        (3, 3, 16, 32),
        "conv_k_in_out",
    ),
    "orthogonal_per_gate": PortableCase(
        lambda oik, s: oik.Orthogonal(layout="recurrent", blocks=4, seed=s),
        oneinit.Orthogonal(),
        (50, 200),
        "dense_in_out",
        blocks=4,
    ),
    "glorot_uniform_per_gate": PortableCase(
        lambda oik, s: oik.GlorotUniform(blocks=3, seed=s),
        oneinit.GlorotUniform(),
        (20, 150),
        "dense_in_out",
        blocks=3,
    ),
    "delta_orthogonal": PortableCase(
        lambda oik, s: oik.DeltaOrthogonal(seed=s),
        oneinit.DeltaOrthogonal(),
        (3, 3, 16, 32),
        "conv_k_in_out",
    ),
    "identity": PortableCase(
        lambda oik, s: oik.Identity(gain=2.0, seed=s),
        oneinit.Identity(2.0),
        (16, 24),
        "dense_in_out",
    ),
    "dirac_grouped": PortableCase(
        lambda oik, s: oik.Dirac(groups=2, seed=s),
        oneinit.Dirac(),
        (3, 3, 8, 16),
        "conv_k_in_out",
        groups=2,
    ),
    "sparse": PortableCase(
        lambda oik, s: oik.Sparse(sparsity=0.3, stddev=0.1, seed=s),
        oneinit.Sparse(0.3, 0.1),
        (40, 30),
        "dense_in_out",
    ),
    "bilinear": PortableCase(
        lambda oik, s: oik.Bilinear(layout="conv_transpose", seed=s),
        oneinit.Bilinear(),
        (4, 4, 8, 8),
        "conv_transpose_k_out_in",
    ),
    "einsum_axes": PortableCase(
        lambda oik, s: oik.HeNormal(input_axes=[0], output_axes=[1, 2], seed=s),
        oneinit.HeNormal(),
        (64, 4, 16),
        oneinit.Layout.einsum((0,), (1, 2)),
    ),
    "generic_custom_scheme": PortableCase(
        lambda oik, s: oik.Initializer(KerasTestMixture(), seed=s),
        KerasTestMixture(),
        (16, 32),
        "dense_in_out",
    ),
}


def core_sample(case: PortableCase, seed: int, key: int) -> np.ndarray:
    return np.asarray(
        case.scheme.sample(
            case.shape,
            seed=seed,
            key=key,
            layout=case.core_layout or "canonical",
            groups=case.groups,
            blocks=case.blocks,
        )
    )


@pytest.mark.parametrize("case", list(PORTABLE_CASES.values()), ids=list(PORTABLE_CASES))
def test_portable_equals_core_per_call(
    keras: ModuleType, oik: ModuleType, case: PortableCase
) -> None:
    """Call n of a seeded initializer equals the core's sample with key n, bit for bit."""
    seed = 20240601
    init = case.make(oik, seed)
    for key in range(3):
        got = numpy(keras, init(case.shape, dtype="float32"))
        assert got.dtype == np.float32
        np.testing.assert_array_equal(got, core_sample(case, seed, key))


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float64"])
def test_portable_dtype_is_one_cast_of_float32(
    keras: ModuleType, oik: ModuleType, dtype: str
) -> None:
    if dtype == "float64":
        skip_without_float64(keras)
    values = oneinit.HeNormal().sample((3, 3, 16, 32), layout="conv_k_in_out", seed=5)
    got = oik.HeNormal(seed=5)((3, 3, 16, 32), dtype=dtype)
    assert keras.backend.standardize_dtype(got.dtype) == dtype
    expected = keras.ops.cast(keras.ops.convert_to_tensor(values), dtype)
    np.testing.assert_array_equal(
        numpy(keras, keras.ops.cast(got, "float32")),
        numpy(keras, keras.ops.cast(expected, "float32")),
    )


@pytest.mark.parametrize(
    ("layer", "kwargs", "input_shape", "torch_shape", "to_keras"),
    [
        pytest.param("Dense", {"units": 32}, (16,), (32, 16), (1, 0), id="dense"),
        pytest.param(
            "Conv2D",
            {"filters": 32, "kernel_size": 3},
            (8, 8, 16),
            (32, 16, 3, 3),
            (2, 3, 1, 0),
            id="conv2d",
        ),
        pytest.param(
            "Conv2DTranspose",
            {"filters": 32, "kernel_size": 3},
            (8, 8, 16),
            (16, 32, 3, 3),
            (2, 3, 1, 0),
            id="conv2d-transpose",
        ),
    ],
)
def test_portable_layer_equals_torch_layout_transposed(
    keras: ModuleType,
    oik: ModuleType,
    layer: str,
    kwargs: dict[str, Any],
    input_shape: tuple[int, ...],
    torch_shape: tuple[int, ...],
    to_keras: tuple[int, ...],
) -> None:
    """A Keras kernel holds the values torch's layer gets from the same seed, transposed."""
    transposed = layer.endswith("Transpose")
    init = oik.HeNormal(seed=11, layout="conv_transpose" if transposed else None)
    built = getattr(keras.layers, layer)(**kwargs, kernel_initializer=init)
    built.build((None, *input_shape))
    torch_layout = (
        "conv_transpose_in_out"
        if transposed
        else ("dense_out_in" if len(torch_shape) == 2 else "conv_out_in")
    )
    torch_values = oneinit.HeNormal().sample(torch_shape, layout=torch_layout, seed=11)
    np.testing.assert_array_equal(numpy(keras, built.kernel), np.transpose(torch_values, to_keras))


def test_portable_model_built_twice_is_identical_and_layers_differ(
    keras: ModuleType, oik: ModuleType
) -> None:
    def build() -> Any:
        init = oik.GlorotUniform(seed=3)
        return keras.Sequential(
            [
                keras.Input((32,)),
                keras.layers.Dense(32, kernel_initializer=init),
                keras.layers.Dense(32, kernel_initializer=init),
            ]
        )

    first, second = build(), build()
    a = [numpy(keras, layer.kernel) for layer in first.layers]
    b = [numpy(keras, layer.kernel) for layer in second.layers]
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], a[1])
    reference = oneinit.GlorotUniform().sample((32, 32), layout="dense_in_out", seed=3, key=1)
    np.testing.assert_array_equal(a[1], reference)


def test_portable_attention_projections_take_keys_in_build_order(
    keras: ModuleType, oik: ModuleType
) -> None:
    """MultiHeadAttention copies its initializer per projection; the copies share the counter."""
    attention = keras.layers.MultiHeadAttention(
        num_heads=4, key_dim=16, kernel_initializer=oik.GlorotUniform(seed=9)
    )
    x = np.zeros((2, 5, 64), dtype="float32")
    attention(x, x)
    parts = [
        ("query_dense", (0,), (1, 2)),
        ("key_dense", (0,), (1, 2)),
        ("value_dense", (0,), (1, 2)),
        ("output_dense", (0, 1), (2,)),
    ]
    for key, (part, in_axes, out_axes) in enumerate(parts):
        kernel = getattr(attention, part).kernel
        reference = oneinit.GlorotUniform().sample(
            tuple(kernel.shape), layout=oneinit.Layout.einsum(in_axes, out_axes), seed=9, key=key
        )
        np.testing.assert_array_equal(numpy(keras, kernel), reference)


def test_native_attention_projections_differ(
    keras: ModuleType, oik: ModuleType, seeded: None
) -> None:
    attention = keras.layers.MultiHeadAttention(
        num_heads=2, key_dim=8, kernel_initializer=oik.HeNormal()
    )
    x = np.zeros((2, 5, 16), dtype="float32")
    attention(x, x)
    assert not np.array_equal(
        numpy(keras, attention.query_dense.kernel), numpy(keras, attention.key_dense.kernel)
    )


def test_einsum_dense_gets_its_axes(keras: ModuleType, oik: ModuleType) -> None:
    """EinsumDense hands its axes to oneinit initializers (they are VarianceScaling)."""
    assert issubclass(oik.Zeros, keras.initializers.VarianceScaling)
    init = oik.HeUniform(seed=1)
    first = keras.layers.EinsumDense(
        "abc,cde->abde", output_shape=(None, 4, 8), kernel_initializer=init
    )
    second = keras.layers.EinsumDense(
        "abc,cde->abde", output_shape=(None, 4, 8), kernel_initializer=init
    )
    first.build((None, 3, 16))
    second.build((None, 3, 16))
    layout = oneinit.Layout.einsum((0,), (1, 2))
    for key, layer in enumerate((first, second)):
        reference = oneinit.HeUniform().sample((16, 4, 8), layout=layout, seed=1, key=key)
        np.testing.assert_array_equal(numpy(keras, layer.kernel), reference)
    assert init.input_axes is None  # the layer's copy got the axes, the original is unchanged


# --------------------------------------------------------------------------------------------
# Configuration, serialization, registration, save and reload.

#: Every class with non-default arguments (and a seed), and a layer it suits.
EVERY_INITIALIZER: dict[str, tuple[Callable[[ModuleType], Any], str]] = {
    "GlorotUniform": (lambda oik: oik.GlorotUniform(gain=2.0, seed=1), "dense"),
    "GlorotNormal": (lambda oik: oik.GlorotNormal(distribution="truncated_normal"), "dense"),
    "HeUniform": (lambda oik: oik.HeUniform(mode="fan_out", nonlinearity="tanh"), "conv"),
    "HeNormal": (
        lambda oik: oik.HeNormal(negative_slope=0.1, nonlinearity="leaky_relu", seed=2),
        "conv",
    ),
    "LecunUniform": (lambda oik: oik.LecunUniform(fan_convention="keras"), "dense"),
    "LecunNormal": (lambda oik: oik.LecunNormal(seed=3), "dense"),
    "VarianceScaling": (
        lambda oik: oik.VarianceScaling(scale=0.5, mode="fan_geo_avg", distribution="uniform"),
        "dense",
    ),
    "RandomUniform": (lambda oik: oik.RandomUniform(minval=-1.0, maxval=2.0, seed=4), "dense"),
    "RandomNormal": (lambda oik: oik.RandomNormal(mean=0.1, stddev=0.2), "embedding"),
    "TruncatedNormal": (
        lambda oik: oik.TruncatedNormal(stddev=0.02, lower=-1.0, upper=1.0, units="absolute"),
        "dense",
    ),
    "Constant": (lambda oik: oik.Constant(value=0.5), "bias"),
    "Zeros": (lambda oik: oik.Zeros(), "bias"),
    "Ones": (lambda oik: oik.Ones(), "bias"),
    "Orthogonal": (lambda oik: oik.Orthogonal(gain=1.2, blocks=4, seed=5), "recurrent"),
    "DeltaOrthogonal": (lambda oik: oik.DeltaOrthogonal(gain=0.9), "conv"),
    "Identity": (lambda oik: oik.Identity(gain=0.5), "dense"),
    "Dirac": (lambda oik: oik.Dirac(), "conv"),
    "Sparse": (lambda oik: oik.Sparse(sparsity=0.2, stddev=0.05, seed=6), "dense"),
    "Bilinear": (lambda oik: oik.Bilinear(layout="conv_transpose"), "conv_transpose"),
    "Initializer": (
        lambda oik: oik.Initializer(oneinit.HeUniform(), layout="dense", seed=7),
        "dense",
    ),
    "InitializerCustom": (lambda oik: oik.Initializer(KerasTestMixture(), seed=8), "dense"),
    "InitializerSeedGenerator": (
        lambda oik: oik.Initializer(
            oneinit.Normal(0.0, 0.1), seed=__import__("keras").random.SeedGenerator(3)
        ),
        "dense",
    ),
}


def model_with(keras: ModuleType, init: Any, where: str) -> Any:
    """A small model whose weights use ``init`` (built, so its weights exist)."""
    if where == "dense":
        layer = keras.layers.Dense(12, kernel_initializer=init)
        inputs = keras.Input((12,))
    elif where == "bias":
        layer = keras.layers.Dense(12, bias_initializer=init)
        inputs = keras.Input((12,))
    elif where == "conv":
        layer = keras.layers.Conv2D(12, 3, kernel_initializer=init)
        inputs = keras.Input((6, 6, 8))
    elif where == "conv_transpose":
        layer = keras.layers.Conv2DTranspose(8, 4, strides=2, kernel_initializer=init)
        inputs = keras.Input((6, 6, 8))
    elif where == "embedding":
        layer = keras.layers.Embedding(50, 12, embeddings_initializer=init)
        inputs = keras.Input((7,), dtype="int32")
    else:
        layer = keras.layers.LSTM(12, recurrent_initializer=init)
        inputs = keras.Input((5, 8))
    return keras.Model(inputs, layer(inputs))


def initializers_of(model: Any, oik: ModuleType) -> list[Any]:
    found = []
    for layer in model._flatten_layers(include_self=False, recursive=True):
        for name, value in vars(layer).items():
            if name.endswith("initializer") and isinstance(value, oik.Initializer):
                found.append(value)
    return found


@pytest.mark.parametrize("name", list(EVERY_INITIALIZER))
def test_config_round_trip(keras: ModuleType, oik: ModuleType, name: str) -> None:
    init = EVERY_INITIALIZER[name][0](oik)
    config = init.get_config()
    rebuilt = type(init).from_config(config)
    assert rebuilt.scheme == init.scheme
    assert rebuilt.get_config() == config
    serialized = keras.saving.serialize_keras_object(init)
    assert serialized["registered_name"] == f"oneinit>{type(init).__name__}"
    json.dumps(serialized)  # what a .keras file stores
    restored = keras.saving.deserialize_keras_object(json.loads(json.dumps(serialized)))
    assert type(restored) is type(init) and restored.scheme == init.scheme


def test_config_uses_keras_distribution_names(oik: ModuleType) -> None:
    assert oik.HeNormal().get_config()["distribution"] == "untruncated_normal"
    assert oik.HeNormal().scheme.distribution == "normal"  # the core's name
    assert oik.VarianceScaling().get_config()["distribution"] == "truncated_normal"


@pytest.mark.parametrize("name", list(EVERY_INITIALIZER))
def test_save_and_reload(keras: ModuleType, oik: ModuleType, tmp_path: Path, name: str) -> None:
    make, where = EVERY_INITIALIZER[name]
    model = model_with(keras, make(oik), where)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.models.load_model(path)  # no custom_objects: registered on import
    before, after = initializers_of(model, oik), initializers_of(loaded, oik)
    assert [type(i) for i in after] == [type(i) for i in before] and after
    for old, new in zip(before, after, strict=True):
        assert new.scheme == old.scheme
        old_config, new_config = old.get_config(), new.get_config()
        if isinstance(old_config["seed"], keras.random.SeedGenerator):
            assert isinstance(new_config.pop("seed"), keras.random.SeedGenerator)
            old_config.pop("seed")
        assert new_config == old_config
    for old, new in zip(model.weights, loaded.weights, strict=True):
        np.testing.assert_array_equal(numpy(keras, old), numpy(keras, new))


def test_reload_in_a_fresh_process(keras: ModuleType, oik: ModuleType, tmp_path: Path) -> None:
    """A new interpreter that imports the adapter reloads every initializer, no custom_objects;
    one that does not fails loudly (it never silently takes Keras's class of the same name).
    """
    paths = []
    for name, (make, where) in EVERY_INITIALIZER.items():
        if name.startswith("InitializerCustom"):
            continue  # its scheme class lives in this test module
        path = tmp_path / f"{name}.keras"
        model_with(keras, make(oik), where).save(path)
        paths.append(str(path))
    probe = (
        "import sys, json, keras\n"
        "{imports}"
        "names = []\n"
        "for path in json.loads(sys.argv[1]):\n"
        "    try:\n"
        "        model = keras.models.load_model(path)\n"
        "    except Exception as error:\n"
        "        names.append('error: ' + type(error).__name__)\n"
        "        continue\n"
        "    for layer in model._flatten_layers(include_self=False, recursive=True):\n"
        "        for attr, value in sorted(vars(layer).items()):\n"
        "            if attr.endswith('initializer') and type(value).__module__ == "
        "'oneinit.adapters.keras':\n"
        "                names.append(type(value).__name__)\n"
        "print(json.dumps(names))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
    results = {}
    for label, imports in (("with", "import oneinit.adapters.keras\n"), ("without", "")):
        run = subprocess.run(
            [
                sys.executable,
                "-W",
                "ignore",
                "-c",
                probe.format(imports=imports),
                json.dumps(paths),
            ],
            capture_output=True,
            text=True,
            env=env,
            cwd=REPO_ROOT,
            check=False,
            timeout=300,
        )
        assert run.returncode == 0, run.stderr[-3000:]
        results[label] = json.loads(run.stdout.strip().splitlines()[-1])
    expected = [
        type(make(oik)).__name__
        for name, (make, _) in EVERY_INITIALIZER.items()
        if not name.startswith("InitializerCustom")
    ]
    assert sorted(results["with"]) == sorted(expected)
    assert all(entry == "error: TypeError" for entry in results["without"])


def test_string_lookup_after_registration(keras: ModuleType, oik: ModuleType) -> None:
    assert isinstance(keras.initializers.get("oneinit>HeNormal"), oik.HeNormal)
    layer = keras.layers.Dense(
        8, kernel_initializer="oneinit>Orthogonal", bias_initializer="oneinit>Ones"
    )
    layer.build((None, 8))
    assert isinstance(layer.kernel_initializer, oik.Orthogonal)
    kernel = numpy(keras, layer.kernel).astype(np.float64)
    np.testing.assert_allclose(kernel.T @ kernel, np.eye(8), atol=1e-5)
    np.testing.assert_array_equal(numpy(keras, layer.bias), np.ones(8, dtype=np.float32))


def test_aliases_are_the_same_classes(oik: ModuleType) -> None:
    assert oik.XavierUniform is oik.GlorotUniform and oik.KaimingNormal is oik.HeNormal
    assert oik.XavierNormal is oik.GlorotNormal and oik.KaimingUniform is oik.HeUniform


def test_constants_fill_any_dtype_without_a_generator(keras: ModuleType, oik: ModuleType) -> None:
    init = oik.Constant(value=3.0)
    values = init((4, 5), dtype="int32")
    assert keras.backend.standardize_dtype(values.dtype) == "int32"
    assert (numpy(keras, values) == 3).all()
    assert init._generator is None  # no Keras variable was made for a constant


def test_empty_shape_gives_an_empty_tensor(keras: ModuleType, oik: ModuleType) -> None:
    assert numpy(keras, oik.HeNormal()((0, 8))).shape == (0, 8)
    assert numpy(keras, oik.HeNormal(seed=1)((3, 0, 8))).shape == (3, 0, 8)


def test_keras_fan_convention_reproduces_keras(keras: ModuleType, oik: ModuleType) -> None:
    """fan_convention='keras' gives Keras's own (wrong) depthwise bound; also vector fans."""
    shape = (3, 3, 16, 1)
    ours = oik.HeUniform(fan_convention="keras").distribution_for(shape)
    theirs = keras.initializers.HeUniform()
    assert ours.high == pytest.approx(math.sqrt(6.0 / keras_compute_fans(shape)[0]), rel=1e-15)
    assert isinstance(theirs, keras.initializers.VarianceScaling)
    assert oik.HeUniform(fan_convention="keras").fans((12,)) == oneinit.Fans(12, 12, 1)


# --------------------------------------------------------------------------------------------
# Errors: what is wrong, what is allowed, ``Received: name=value``.

ERRORS = {
    "normal_is_ambiguous": (
        lambda oik: oik.HeNormal(distribution="normal"),
        ValueError,
        r"ambiguous.*Received: distribution='normal'",
    ),
    "vs_normal_is_ambiguous": (
        lambda oik: oik.VarianceScaling(distribution="normal"),
        ValueError,
        r"Received: distribution='normal'",
    ),
    "bad_distribution": (
        lambda oik: oik.GlorotNormal(distribution="uniform"),
        ValueError,
        r"Received: distribution='uniform'",
    ),
    "negative_seed": (lambda oik: oik.HeNormal(seed=-1), ValueError, r"Received: seed=-1"),
    "string_seed": (lambda oik: oik.HeNormal(seed="1"), TypeError, r"Received: seed='1'"),
    "bool_seed": (lambda oik: oik.HeNormal(seed=True), TypeError, r"Received: seed=True"),
    "huge_seed": (lambda oik: oik.HeNormal(seed=2**64), ValueError, r"Received: seed="),
    "unknown_layout": (
        lambda oik: oik.HeNormal(layout="nope"),
        ValueError,
        r"Allowed: .*conv_transpose.*Received: layout='nope'",
    ),
    "zero_groups": (lambda oik: oik.HeNormal(groups=0), ValueError, r"Received: groups=0"),
    "float_blocks": (lambda oik: oik.HeNormal(blocks=1.5), TypeError, r"Received: blocks=1.5"),
    "fan_convention": (
        lambda oik: oik.HeNormal(fan_convention="pytorch"),
        ValueError,
        r"Received: fan_convention='pytorch'",
    ),
    "one_axis_list": (
        lambda oik: oik.HeNormal(input_axes=[0]),
        ValueError,
        r"go together.*Received: input_axes=\[0\], output_axes=None",
    ),
    "axes_not_ints": (
        lambda oik: oik.HeNormal(input_axes=["a"], output_axes=[1]),
        TypeError,
        r"Received: input_axes=\['a'\]",
    ),
    "bad_mode": (lambda oik: oik.HeUniform(mode="avg"), ValueError, r"Received: mode='avg'"),
    "negative_scale": (
        lambda oik: oik.VarianceScaling(scale=-1.0),
        ValueError,
        r"Received: scale=-1.0",
    ),
    "minval_above_maxval": (
        lambda oik: oik.RandomUniform(minval=1.0, maxval=0.0),
        ValueError,
        r"Received: low=1.0, high=0.0",
    ),
    "bad_units": (
        lambda oik: oik.TruncatedNormal(units="sigma"),
        ValueError,
        r"Received: units='sigma'",
    ),
    "bad_nonlinearity": (lambda oik: oik.HeNormal(nonlinearity="swishy"), ValueError, r"swishy"),
    "not_a_scheme": (
        lambda oik: oik.Initializer("HeNormal"),
        TypeError,
        r"Received: scheme='HeNormal'",
    ),
    "positional_seed": (lambda oik: oik.GlorotUniform(42), TypeError, r"positional"),
    "fans_of_a_vector": (
        lambda oik: oik.HeNormal()((16,)),
        ValueError,
        r"fan_convention='keras'.*Received: shape=\(16,\)",
    ),
    "orthogonal_vector": (
        lambda oik: oik.Orthogonal()((16,)),
        ValueError,
        r"at least 2 dimensions. Received: shape=\(16,\)",
    ),
    "random_int_dtype": (
        lambda oik: oik.HeNormal()((4, 4), dtype="int32"),
        TypeError,
        r"Received: dtype=int32",
    ),
    "layout_rank": (
        lambda oik: oik.HeNormal(layout="conv_transpose")((4, 4)),
        ValueError,
        r"Received: shape=\(4, 4\)",
    ),
    "groups_do_not_divide": (
        lambda oik: oik.HeNormal(groups=3)((3, 3, 4, 32)),
        ValueError,
        r"Received: groups=3",
    ),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_errors(oik: ModuleType, name: str) -> None:
    make, error, message = ERRORS[name]
    with pytest.raises(error, match=message):
        make(oik)


# --------------------------------------------------------------------------------------------
# initialize(): whole models.


def every_kind_model(keras: ModuleType) -> Any:
    """A functional model with one layer of every kind initialize() knows."""
    image = keras.Input((8, 8, 4))
    x = keras.layers.Conv2D(8, 3, padding="same")(image)
    x = keras.layers.Conv2D(8, 3, padding="same", groups=2)(x)
    x = keras.layers.DepthwiseConv2D(3, padding="same")(x)
    x = keras.layers.SeparableConv2D(8, 3, padding="same")(x)
    x = keras.layers.Conv2DTranspose(4, 3, padding="same")(x)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.GroupNormalization(2)(x)
    x = keras.layers.Reshape((64, 4))(x)
    x = keras.layers.Conv1D(6, 3, padding="same")(x)
    x = keras.layers.LSTM(6, return_sequences=True)(x)
    x = keras.layers.GRU(6, return_sequences=True)(x)
    x = keras.layers.SimpleRNN(6, return_sequences=True)(x)
    x = keras.layers.MultiHeadAttention(2, 4)(x, x)
    x = keras.layers.LayerNormalization()(x)
    x = keras.layers.RMSNormalization()(x)
    x = keras.layers.EinsumDense("abc,cd->abd", output_shape=(None, 5), bias_axes="d")(x)
    x = keras.layers.PReLU(shared_axes=[1])(x)
    tokens = keras.Input((7,), dtype="int32")
    y = keras.layers.Embedding(30, 5)(tokens)
    y = keras.layers.Dense(5)(y)
    return keras.Model([image, tokens], [x, y])


#: (kind, slot, core layout or einsum axes, fans) of every weight, by Keras variable name and
#: owning layer class.
EXPECTED = {
    ("Conv2D", "kernel", 1): ("conv", "weight", "conv_k_in_out", (36, 72)),
    ("Conv2D", "kernel", 2): ("conv", "weight", "conv_k_in_out", (36, 36)),
    ("DepthwiseConv2D", "kernel", 1): ("conv", "weight", "depthwise_k_in_mult", (9, 9)),
    ("SeparableConv2D", "depthwise_kernel", 1): (
        "conv",
        "depthwise_weight",
        "depthwise_k_in_mult",
        (9, 9),
    ),
    ("SeparableConv2D", "pointwise_kernel", 1): (
        "conv",
        "pointwise_weight",
        "conv_k_in_out",
        (8, 8),
    ),
    ("Conv2DTranspose", "kernel", 1): (
        "conv_transpose",
        "weight",
        "conv_transpose_k_out_in",
        (72, 36),
    ),
    ("Conv1D", "kernel", 1): ("conv", "weight", "conv_k_in_out", (12, 18)),
    ("LSTMCell", "kernel", 1): ("lstm", "weight_ih", "dense_in_out", (6, 6)),
    ("LSTMCell", "recurrent_kernel", 1): ("lstm", "weight_hh", "dense_in_out", (6, 6)),
    ("GRUCell", "kernel", 1): ("gru", "weight_ih", "dense_in_out", (6, 6)),
    ("GRUCell", "recurrent_kernel", 1): ("gru", "weight_hh", "dense_in_out", (6, 6)),
    ("SimpleRNNCell", "kernel", 1): ("rnn", "weight_ih", "dense_in_out", (6, 6)),
    ("SimpleRNNCell", "recurrent_kernel", 1): ("rnn", "weight_hh", "dense_in_out", (6, 6)),
    ("EinsumDense", "kernel", 1): ("linear", "weight", ((0,), (1,)), (6, 5)),
    ("Embedding", "embeddings", 1): ("embedding", "weight", "embedding", (30, 5)),
    ("Dense", "kernel", 1): ("linear", "weight", "dense_in_out", (5, 5)),
}


def test_initialize_reads_every_layer_kind(keras: ModuleType, oik: ModuleType) -> None:
    model = every_kind_model(keras)
    infos = oik.describe(model)
    names = [info.name for info in infos]
    assert len(names) == len(set(names))
    assert not any("moving_" in name for name in names)  # statistics are not parameters
    owners: dict[int, Any] = {}
    for layer in model._flatten_layers(include_self=False, recursive=True):
        for weight in layer._trainable_variables + layer._non_trainable_variables:
            owners[id(weight)] = layer
    by_path = {weight.path: weight for weight in model.weights}
    attention = next(
        layer for layer in model.layers if isinstance(layer, keras.layers.MultiHeadAttention)
    )
    projections = {
        id(attention.query_dense): "q_proj",
        id(attention.key_dense): "k_proj",
        id(attention.value_dense): "v_proj",
        id(attention.output_dense): "out_proj",
    }
    seen: dict[tuple[str, str], int] = {}
    for info in infos:
        owner_layer = owners[id(by_path[info.name])]
        owner = type(owner_layer).__name__
        variable_name = info.name.rsplit("/", 1)[-1]
        if id(owner_layer) in projections:
            part = projections[id(owner_layer)]
            assert info.kind == "multihead_attention"
            assert info.slot == f"{part}_{'weight' if variable_name == 'kernel' else 'bias'}"
            if variable_name == "kernel":
                fans = info.geometry.fans()
                assert (fans.fan_in, fans.fan_out) == (6, 8) if part != "out_proj" else (8, 6)
            continue
        count = seen[(owner, variable_name)] = seen.get((owner, variable_name), 0) + 1
        expected = EXPECTED.get((owner, variable_name, count))
        if expected is not None:
            kind, slot, layout, fans = expected
            assert (info.kind, info.slot) == (kind, slot), info.name
            if isinstance(layout, tuple):
                assert info.layout == oneinit.Layout.einsum(*layout)
            else:
                assert info.layout == layout, info.name
            got = info.geometry.fans()
            assert (got.fan_in, got.fan_out) == fans, info.name
        elif variable_name in ("gamma", "scale"):
            assert "norm" in info.roles and info.slot == "weight"
        elif variable_name == "beta":
            assert {"norm", "bias"} <= info.roles and info.slot == "bias"
        elif variable_name == "alpha":
            assert info.kind == "prelu" and info.roles == {"activation"}
        else:
            assert variable_name == "bias" and info.roles == {"bias"}, info.name


def test_initialize_portable_values_and_report(keras: ModuleType, oik: ModuleType) -> None:
    model = every_kind_model(keras)
    moving = {w.path: numpy(keras, w) for w in model.weights if "moving_" in w.path}
    rules = Rules(Rule(oneinit.Orthogonal(), role="recurrent")) + Rules.from_scheme(
        oneinit.HeNormal()
    )
    report = oik.initialize(model, rules, seed=42)
    infos = {info.name: info for info in oik.describe(model)}
    assert report.unmatched == [name for name in infos if name.endswith("/alpha")]
    for row in report:
        assert row.status == ("unmatched" if row.name.endswith("alpha") else "initialized")
    # Every kernel equals the core's sample keyed by its position (recomputed from the walk).
    entries = {entry.name: entry for entry in oik._walk(model, True)}
    for name, info in infos.items():
        if report[name].status != "initialized" or info.layout is None:
            continue
        geometry = info.geometry
        layout = geometry.layout
        scheme = oneinit.Orthogonal() if "recurrent" in info.roles else oneinit.HeNormal()
        reference = scheme.sample(
            info.shape,
            seed=42,
            key=entries[name].key,
            layout=layout,
            groups=geometry.groups,
            blocks=geometry.blocks,
        )
        np.testing.assert_array_equal(numpy(keras, by_path(model)[name]), reference)
    for path, before in moving.items():  # left alone
        np.testing.assert_array_equal(numpy(keras, by_path(model)[path]), before)
    gammas = [w for w in model.weights if w.path.endswith(("gamma", "scale"))]
    assert gammas and all((numpy(keras, w) == 1).all() for w in gammas)


def by_path(model: Any) -> dict[str, Any]:
    return {weight.path: weight for weight in model.weights}


def test_initialize_keys_by_position_so_a_rebuilt_model_is_identical(
    keras: ModuleType, oik: ModuleType
) -> None:
    def build() -> Any:
        model = keras.Sequential([keras.layers.Dense(16), keras.layers.LSTM(8)])
        model.build((None, 4, 16))
        return model

    first, second = build(), build()
    assert first.weights[0].path != second.weights[0].path  # Keras numbered them anew
    for model in (first, second):
        oik.initialize(model, oneinit.GlorotUniform(), seed=1)
    for a, b in zip(first.weights, second.weights, strict=True):
        np.testing.assert_array_equal(numpy(keras, a), numpy(keras, b))
    kernel = oneinit.GlorotUniform().sample((16, 16), layout="dense_in_out", seed=1, key="0.kernel")
    np.testing.assert_array_equal(numpy(keras, first.weights[0]), kernel)
    lstm = oneinit.GlorotUniform().sample(
        (8, 32), layout="dense_in_out", seed=1, blocks=4, key="1.0.recurrent_kernel"
    )
    np.testing.assert_array_equal(numpy(keras, first.layers[1].cell.recurrent_kernel), lstm)
    oik.initialize(second, oneinit.GlorotUniform(), seed=1, key_by="path")
    path = second.weights[0].path
    by_name = oneinit.GlorotUniform().sample((16, 16), layout="dense_in_out", seed=1, key=path)
    np.testing.assert_array_equal(numpy(keras, second.weights[0]), by_name)


@pytest.mark.parametrize("per_gate", [True, False], ids=["per-gate", "whole-matrix"])
@pytest.mark.parametrize("seed", [None, 3], ids=["native", "portable"])
def test_initialize_orthogonal_recurrent_kernels(
    keras: ModuleType, oik: ModuleType, seeded: None, per_gate: bool, seed: int | None
) -> None:
    layer = keras.layers.LSTM(16)
    layer.build((None, 5, 8))
    rules = Rules(Rule(oneinit.Orthogonal(), role="recurrent"), Rule(oneinit.Zeros()))
    oik.initialize(layer, rules, seed=seed, per_gate=per_gate)
    recurrent = numpy(keras, layer.cell.recurrent_kernel).astype(np.float64)  # (16, 64)
    if per_gate:
        for gate in np.split(recurrent, 4, axis=1):
            np.testing.assert_allclose(gate.T @ gate, np.eye(16), atol=1e-5)
    else:
        np.testing.assert_allclose(recurrent @ recurrent.T, np.eye(16), atol=1e-5)
        gate = recurrent[:, :16]
        assert not np.allclose(gate.T @ gate, np.eye(16), atol=1e-2)
    assert (numpy(keras, layer.cell.kernel) == 0).all()


@pytest.mark.parametrize("seed", [None, 3], ids=["native", "portable"])
def test_initialize_rule_ignoring_blocks_gives_one_orthogonal_matrix_over_all_gates(
    keras: ModuleType, oik: ModuleType, seeded: None, seed: int | None
) -> None:
    """``ignore="blocks"``: one orthogonal canonical (4H, H) matrix; without it, one per gate."""
    layer = keras.layers.LSTM(16)
    layer.build((None, 5, 8))
    whole = Rules(Rule(oneinit.Orthogonal(), role="recurrent", ignore="blocks"), Rule(None))
    oik.initialize(layer, whole, seed=seed)
    canonical = oneinit.to_canonical(numpy(keras, layer.cell.recurrent_kernel), "dense_in_out")
    canonical = canonical.astype(np.float64)  # (64, 16): gates i, f, c, o stacked
    np.testing.assert_allclose(canonical.T @ canonical, np.eye(16), atol=1e-5)
    gate = canonical[:16]
    assert not np.allclose(gate.T @ gate, np.eye(16), atol=1e-2)
    if seed is not None:
        core = oneinit.Orthogonal().sample((64, 16), seed=seed, key="0.recurrent_kernel")
        np.testing.assert_array_equal(canonical, core)
    per_gate = Rules(Rule(oneinit.Orthogonal(), role="recurrent"), Rule(None))
    oik.initialize(layer, per_gate, seed=seed)
    canonical = oneinit.to_canonical(numpy(keras, layer.cell.recurrent_kernel), "dense_in_out")
    for gate in np.split(canonical.astype(np.float64), 4, axis=0):
        np.testing.assert_allclose(gate.T @ gate, np.eye(16), atol=1e-5)


# --------------------------------------------------------------------------------------------
# Canonical names: names= renames variables for rules, the report and the portable key.


def named_model(keras: ModuleType) -> Any:
    """A functional model with a Dense layer called twice and an LSTM (auto-named layers)."""
    tokens = keras.Input((6, 4))
    shared = keras.layers.Dense(4)
    x = shared(shared(tokens))
    x = keras.layers.LSTM(8)(x)
    return keras.Model(tokens, keras.layers.Dense(3)(x))


def paths(model: Any) -> dict[str, Any]:
    """Variable path -> variable, in the order initialize walks them."""
    return {weight.path: weight for weight in model.weights}


def test_initialize_names_key_the_values_like_the_core(keras: ModuleType, oik: ModuleType) -> None:
    model = named_model(keras)
    shared, lstm, head = (layer for layer in model.layers[1:])
    names = {
        shared.kernel.path: "enc.fc.weight",
        lstm.cell.kernel.path: "enc.lstm.weight_ih",
        lstm.cell.recurrent_kernel.path: "enc.lstm.weight_hh",
    }
    report = oik.initialize(model, oneinit.GlorotUniform(), seed=11, names=names)
    rows = [row.name for row in report]
    assert rows[:1] + rows[2:4] == ["enc.fc.weight", "enc.lstm.weight_ih", "enc.lstm.weight_hh"]
    assert rows.count("enc.fc.weight") == 1  # the Dense called twice: one variable, one row
    assert shared.bias.path in rows and head.kernel.path in rows  # the others keep their paths
    scheme = oneinit.GlorotUniform()
    expected = {
        "enc.fc.weight": (shared.kernel, (4, 4), 1),
        "enc.lstm.weight_ih": (lstm.cell.kernel, (32, 4), 4),
        "enc.lstm.weight_hh": (lstm.cell.recurrent_kernel, (32, 8), 4),
    }
    for canonical, (variable, shape, blocks) in expected.items():
        core = scheme.sample(shape, seed=11, key=canonical, blocks=blocks)
        got = oneinit.to_canonical(numpy(keras, variable), "dense_in_out")
        np.testing.assert_array_equal(got, core, err_msg=canonical)
    # Not renamed: the position key, as without names.
    core = scheme.sample((3, 8), seed=11, key="2.kernel")
    np.testing.assert_array_equal(numpy(keras, head.kernel).T, core)
    # key_by="path" keys only the variables names= leaves alone by their paths.
    oik.initialize(model, oneinit.GlorotUniform(), seed=11, names=names, key_by="path")
    core = scheme.sample((4, 4), seed=11, key="enc.fc.weight")
    np.testing.assert_array_equal(numpy(keras, shared.kernel).T, core)
    core = scheme.sample((3, 8), seed=11, key=head.kernel.path)
    np.testing.assert_array_equal(numpy(keras, head.kernel).T, core)


def test_initialize_rules_match_canonical_names(keras: ModuleType, oik: ModuleType) -> None:
    model = named_model(keras)
    head = model.layers[-1]
    kernel_path = head.kernel.path

    def canonical(path: str) -> str | None:  # a callable: None keeps the Keras path
        return "head.weight" if path == kernel_path else None

    rules = Rules(
        Rule(oneinit.Constant(0.5), name="head.*"),
        Rule(oneinit.Ones(), regex=r"^head\."),
        Rule(oneinit.Constant(2.0), name=kernel_path),  # the Keras path no longer matches
        Rule(oneinit.Zeros()),
    )
    report = oik.initialize(model, rules, names=canonical)
    assert report["head.weight"].rule.startswith("#1 ")
    assert report[head.bias.path].rule.startswith("#4 ")
    assert (numpy(keras, head.kernel) == np.float32(0.5)).all()
    assert (numpy(keras, head.bias) == 0).all()
    report = oik.initialize(model, Rules(rules[1], rules[3]), names={kernel_path: "head.weight"})
    assert report["head.weight"].rule.startswith("#1 regex")
    assert (numpy(keras, head.kernel) == 1).all()
    info = oik.describe(model)[-2]
    assert info.name == kernel_path  # describe and the model itself are unchanged


NAMES_ERRORS = {
    "unknown": (
        lambda paths: {paths[0]: "a", "missing/kernel": "b"},
        ValueError,
        r"names maps parameters the model does not have: 'missing/kernel'\. "
        r"Its parameters are: '.*kernel', '.*bias'",
    ),
    "same_name": (
        lambda paths: {paths[0]: "fc.weight", paths[1]: "fc.weight"},
        ValueError,
        r"share the canonical name 'fc.weight': '.*kernel' and '.*bias'",
    ),
    "same_as_a_kept_path": (
        lambda paths: {paths[1]: paths[0]},
        ValueError,
        r"share the canonical name '.*kernel'",
    ),
    "not_a_mapping": (
        lambda paths: ["fc.weight"],
        TypeError,
        r"names must be a mapping .*Received: names of type list",
    ),
    "key_not_a_str": (
        lambda paths: {0: "fc.weight"},
        TypeError,
        r"names must map parameter names \(str\).*Received: names with keys .*0",
    ),
    "value_not_a_str": (
        lambda paths: {paths[0]: 3},
        TypeError,
        r"non-empty str .*Received: names\['.*kernel'\]=3",
    ),
    "callable_gives_empty": (
        lambda paths: lambda path: "",
        TypeError,
        r"non-empty str .*Received: names\['.*kernel'\]=''",
    ),
}


@pytest.mark.parametrize("name", list(NAMES_ERRORS))
def test_initialize_names_errors(keras: ModuleType, oik: ModuleType, name: str) -> None:
    make, error, message = NAMES_ERRORS[name]
    model = keras.Sequential([keras.layers.Dense(3)])
    model.build((None, 4))
    before = [numpy(keras, w) for w in model.weights]
    with pytest.raises(error, match=message):
        oik.initialize(model, oneinit.HeNormal(), seed=0, names=make(list(paths(model))))
    for a, w in zip(before, model.weights, strict=True):  # nothing written
        np.testing.assert_array_equal(a, numpy(keras, w))


def test_initialize_names_truncates_a_long_list_of_allowed_names(
    keras: ModuleType, oik: ModuleType
) -> None:
    model = keras.Sequential([keras.layers.Dense(2) for _ in range(10)])  # 20 variables
    model.build((None, 2))
    with pytest.raises(ValueError, match=r"Its parameters are: [^.]*, \.\.\. \(8 more\)\."):
        oik.initialize(model, oneinit.HeNormal(), names={"nope": "x"})


def test_initialize_native_bounds_and_layer_fans_for_biases(
    keras: ModuleType, oik: ModuleType, seeded: None
) -> None:
    """torch's bias rule U(+-1/sqrt(fan_in)) takes the layer's fan_in, natively."""
    model = keras.Sequential([keras.layers.Conv2DTranspose(64, 3), keras.layers.Dense(48)])
    model.build((None, 6, 6, 32))
    torch_bias = oneinit.HeUniform(negative_slope=math.sqrt(5.0), nonlinearity="leaky_relu")
    rules = Rules(Rule(torch_bias, role="bias"), Rule(oneinit.HeUniform(), role="weight"))
    oik.initialize(model, rules)
    conv, dense = model.layers
    # Transposed conv 32 -> 64, 3x3: fan_in = 32 * 9 (Keras's own rule would say 64 * 9).
    assert np.abs(numpy(keras, conv.kernel)).max() <= math.sqrt(6.0 / (32 * 9))
    assert np.abs(numpy(keras, conv.kernel)).max() > math.sqrt(6.0 / (64 * 9))
    assert np.abs(numpy(keras, conv.bias)).max() <= 1 / math.sqrt(32 * 9)
    assert np.abs(numpy(keras, dense.bias)).max() <= 1 / math.sqrt(64)


def test_initialize_dry_run_strict_and_profile(
    keras: ModuleType, oik: ModuleType, seeded: None
) -> None:
    model = keras.Sequential([keras.layers.Dense(8), keras.layers.PReLU()])
    model.build((None, 4))
    before = [numpy(keras, w) for w in model.weights]
    report = oik.initialize(model, oneinit.HeNormal(), seed=0, dry_run=True)
    assert {row.status for row in report} == {"planned", "unmatched"}
    for a, w in zip(before, model.weights, strict=True):
        np.testing.assert_array_equal(a, numpy(keras, w))
    with pytest.raises(ValueError, match=r"matched no rule. Received: .*alpha"):
        oik.initialize(model, oneinit.HeNormal(), strict=True)
    report = oik.initialize(model, profile="torch", seed=0)
    assert report.unmatched == []
    kernel, bias, alpha = (numpy(keras, w) for w in model.weights)
    assert np.abs(kernel).max() <= 1 / math.sqrt(4) and np.abs(bias).max() <= 1 / math.sqrt(4)
    assert (alpha == np.float32(0.25)).all()


INITIALIZE_ERRORS = {
    "unbuilt": (
        lambda keras: keras.Sequential([keras.layers.Dense(3)]),
        oneinit.HeNormal(),
        {},
        ValueError,
        r"Received: model.built=False",
    ),
    "not_a_layer": (
        lambda keras: object(),
        oneinit.HeNormal(),
        {},
        TypeError,
        r"Received: model of type object",
    ),
    "not_rules": (None, "HeNormal", {}, TypeError, r"Received: scheme_or_rules='HeNormal'"),
    "nothing": (None, None, {}, ValueError, r"Received: scheme_or_rules=None, profile=None"),
    "seed": (None, oneinit.HeNormal(), {"seed": -1}, ValueError, r"Received: seed=-1"),
    "key_by": (
        None,
        oneinit.HeNormal(),
        {"key_by": "name"},
        ValueError,
        r"Received: key_by='name'",
    ),
    "profile": (None, None, {"profile": "caffe"}, ValueError, r"Received: profile='caffe'"),
    "scheme_fails_on_a_weight": (
        None,
        oneinit.DeltaOrthogonal(),
        {},
        ValueError,
        r"variable '.*kernel'.*needs a tensor|variable '.*kernel'",
    ),
}


@pytest.mark.parametrize("name", list(INITIALIZE_ERRORS))
def test_initialize_errors(keras: ModuleType, oik: ModuleType, name: str) -> None:
    make, rules, kwargs, error, message = INITIALIZE_ERRORS[name]
    if make is None:
        model = keras.Sequential([keras.layers.Dense(3)])
        model.build((None, 4))
    else:
        model = make(keras)
    with pytest.raises(error, match=message):
        oik.initialize(model, rules, **kwargs)


def test_adapter_imports_no_other_framework(keras: ModuleType) -> None:
    probe = (
        "import json, sys\n"
        "import oneinit.adapters.keras\n"
        "print(json.dumps(sorted({name.split('.')[0] for name in sys.modules})))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
    run = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", probe],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO_ROOT,
        check=False,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    loaded = set(json.loads(run.stdout.strip().splitlines()[-1]))
    assert "keras" in loaded
    assert not loaded & {"paddle", "mxnet"}
    assert "oneinit.adapters.torch" not in run.stdout
