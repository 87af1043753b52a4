"""Tests for oneinit.adapters.paddle (run in the ``paddle`` nox session, never beside TensorFlow).

- Fans and bounds come from the core for every Paddle layer kind, and the core's
  ``fan_convention="paddle"`` equals Paddle's own ``Initializer._compute_fans``.
- Native fills (Paddle's generator) are tested statistically with fixed seeds: bounds exactly;
  the mean and the std within ``Z`` standard errors derived from the sample size; the
  Kolmogorov-Smirnov distance within the DKW bound at ``KS_ALPHA``. The expected numbers follow
  the *correct* fans, which differ from Paddle's own rule by 2x or more for transposed,
  grouped and recurrent weights: far beyond the tolerances.
- Seeded fills equal the core's sample bit for bit after the layout transpose, in dygraph, in a
  static PIR program and in a legacy static program.
- Bad arguments raise built-in errors whose message ends in ``Received: ...``.

Collecting this file imports no framework: a session fixture imports the adapter and Paddle
when the first test runs (a missing Paddle fails the run; it never skips). The fixtures live
here, not in the shared conftest.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import math
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import oneinit
from oneinit.core.fans import Fans, compute_fans
from oneinit.core.random import NormalDistribution, UniformDistribution, key_from_name
from oneinit.core.rules import Rule, Rules

REPO_ROOT = Path(__file__).resolve().parents[2]
Z = 6.0  # standard errors allowed for sample means and standard deviations
KS_ALPHA = 1e-9  # DKW: P(KS distance > eps) <= 2 exp(-2 n eps**2) = KS_ALPHA
SQRT2 = math.sqrt(2.0)
_erf = np.frompyfunc(math.erf, 1, 1)


# --------------------------------------------------------------------------------------------
# Fixtures and helpers.

# Paddle and the adapter, bound by the session fixture below when the first test runs (so
# collecting this file imports no framework); tests and layer factories use these names.
paddle: Any = None
oip: Any = None


@pytest.fixture(scope="session", autouse=True)
def _paddle() -> Any:
    """Import the adapter (it imports Paddle, without its ccache warning), then Paddle."""
    global paddle, oip
    try:
        adapter = importlib.import_module("oneinit.adapters.paddle")  # first: it imports Paddle
        module = importlib.import_module("paddle")
    except ImportError as error:  # a missing backend fails the run, it never silently skips
        pytest.fail(f'this test needs paddle: pip install "oneinit[paddle]" ({error})')
    paddle, oip = module, adapter
    return module


@pytest.fixture(autouse=True)
def _dygraph_and_seed(_paddle: Any) -> Iterator[None]:
    """Every test starts in dygraph with float32 defaults and a fixed global seed."""
    paddle.disable_static()
    paddle.set_default_dtype("float32")
    paddle.seed(20240601)
    yield
    paddle.disable_static()
    paddle.set_default_dtype("float32")
    paddle.nn.initializer.set_global_initializer(None, None)


@contextlib.contextmanager
def static_program(legacy: bool = False) -> Iterator[tuple[Any, Any]]:
    """(main, startup) programs in static mode, PIR or legacy, with a fresh scope."""
    paddle.enable_static()
    guard = paddle.pir_utils.OldIrGuard() if legacy else contextlib.nullcontext()
    try:
        with guard, paddle.static.scope_guard(paddle.static.Scope()):
            main, startup = paddle.static.Program(), paddle.static.Program()
            with paddle.static.program_guard(main, startup):
                yield main, startup
    finally:
        paddle.disable_static()


def run_startup(startup: Any, *params: Any) -> list[np.ndarray]:
    """Run a startup program and read the parameters' initial values."""
    paddle.static.Executor(paddle.CPUPlace()).run(startup)
    scope = paddle.static.global_scope()
    return [np.array(scope.find_var(p.name).get_tensor()) for p in params]


def values(tensor: Any) -> np.ndarray:
    """A parameter's values as float64 (float16/bfloat16 too)."""
    return np.asarray(tensor.astype("float32").numpy(), dtype=np.float64)


def cdf(distribution: UniformDistribution | NormalDistribution, x: np.ndarray) -> np.ndarray:
    if isinstance(distribution, UniformDistribution):
        width = distribution.high - distribution.low
        return np.clip((x - distribution.low) / width, 0.0, 1.0)

    lower, upper = distribution.lower, distribution.upper
    low = 0.5 * math.erfc(-lower / SQRT2)
    high = 0.5 * math.erfc(-upper / SQRT2)
    z = (np.asarray(x, dtype=np.float64) - distribution.mean) / distribution.std
    phi = 0.5 * (1.0 + _erf(z / SQRT2).astype(np.float64))
    return np.clip((phi - low) / (high - low), 0.0, 1.0)


def assert_follows(
    sample: np.ndarray, distribution: UniformDistribution | NormalDistribution, dtype: str
) -> None:
    """Bounds exactly; mean, std and KS distance within tolerances from the sample size."""
    x = np.sort(np.asarray(sample, dtype=np.float64).ravel())
    n = x.size
    if isinstance(distribution, UniformDistribution):
        low, high, mean, std = (
            distribution.low,
            distribution.high,
            distribution.mean,
            distribution.std,
        )
    else:
        low, high = distribution.low, distribution.high
        mean, std = distribution.actual_mean, distribution.actual_std
    assert low <= x[0] and x[-1] <= high, (x[0], x[-1], low, high)
    # Kurtosis k <= 3 (normal; uniform and truncated normals are lighter-tailed): the sample
    # std's relative standard error sqrt((k - 1) / (4 n)) is at most sqrt(1 / (2 n)).
    assert abs(x.mean() - mean) <= Z * std / math.sqrt(n)
    resolution = {"float16": 2.0**-11, "bfloat16": 2.0**-8}.get(dtype, 0.0)
    assert abs(x.std() / std - 1.0) <= Z / math.sqrt(2.0 * n) + resolution
    if math.isfinite(low) and math.isfinite(high):
        # The sample reaches within 20 / n of the bound's mass: misses with probability e**-20.
        assert cdf(distribution, np.array([x[0]]))[0] <= 20.0 / n + resolution
        assert cdf(distribution, np.array([x[-1]]))[0] >= 1.0 - 20.0 / n - resolution
    if not resolution:
        grid = np.arange(1, n + 1) / n
        theory = cdf(distribution, x)
        distance = max(np.max(grid - theory), np.max(theory - (grid - 1.0 / n)))
        assert distance <= math.sqrt(math.log(2.0 / KS_ALPHA) / (2.0 * n))


# --------------------------------------------------------------------------------------------
# Layer kinds: Paddle's storage layouts and the correct fans written out by hand.

LAYERS: dict[str, tuple[Callable[[], Any], str, str, Fans]] = {
    # id: (factory, parameter name, expected oneinit layout, expected oneinit fans)
    "linear": (lambda: paddle.nn.Linear(48, 80), "weight", "dense_in_out", Fans(48, 80, 1)),
    "conv1d": (lambda: paddle.nn.Conv1D(16, 32, 5), "weight", "conv_out_in", Fans(80, 160, 5)),
    "conv2d": (lambda: paddle.nn.Conv2D(16, 32, 3), "weight", "conv_out_in", Fans(144, 288, 9)),
    "conv3d": (lambda: paddle.nn.Conv3D(8, 12, 3), "weight", "conv_out_in", Fans(216, 324, 27)),
    "conv2d_grouped": (
        lambda: paddle.nn.Conv2D(16, 32, 3, groups=4),
        "weight",
        "conv_out_in",
        Fans(36, 72, 9),
    ),
    "conv2d_depthwise": (
        lambda: paddle.nn.Conv2D(32, 32, 3, groups=32),
        "weight",
        "conv_out_in",
        Fans(9, 9, 9),
    ),
    "conv1d_transpose": (
        lambda: paddle.nn.Conv1DTranspose(16, 32, 4),
        "weight",
        "conv_transpose_in_out",
        Fans(64, 128, 4),
    ),
    "conv2d_transpose": (
        lambda: paddle.nn.Conv2DTranspose(16, 32, 3),
        "weight",
        "conv_transpose_in_out",
        Fans(144, 288, 9),
    ),
    "conv2d_transpose_grouped": (
        lambda: paddle.nn.Conv2DTranspose(16, 32, 3, groups=4),
        "weight",
        "conv_transpose_in_out",
        Fans(36, 72, 9),
    ),
    "conv3d_transpose": (
        lambda: paddle.nn.Conv3DTranspose(8, 4, 2),
        "weight",
        "conv_transpose_in_out",
        Fans(64, 32, 8),
    ),
    "embedding": (lambda: paddle.nn.Embedding(1000, 64), "weight", "embedding", Fans(1000, 64)),
    "simple_rnn_ih": (
        lambda: paddle.nn.SimpleRNN(20, 50),
        "weight_ih_l0",
        "recurrent_out_in",
        Fans(20, 50),
    ),
    "lstm_ih": (lambda: paddle.nn.LSTM(20, 50), "weight_ih_l0", "recurrent_out_in", Fans(20, 50)),
    "lstm_hh": (lambda: paddle.nn.LSTM(20, 50), "weight_hh_l0", "recurrent_out_in", Fans(50, 50)),
    "gru_hh": (lambda: paddle.nn.GRU(20, 50), "weight_hh_l0", "recurrent_out_in", Fans(50, 50)),
    "mha_q_proj": (
        lambda: paddle.nn.MultiHeadAttention(64, 4),
        "q_proj.weight",
        "dense_in_out",
        Fans(64, 64),
    ),
}
LAYER_IDS = list(LAYERS)


def build(layer_id: str) -> tuple[Any, Any, oneinit.core.rules.ParamInfo]:
    """The layer, its parameter under test, and the parameter as initialize() describes it."""
    factory, name, _, _ = LAYERS[layer_id]
    layer = factory()
    param = dict(layer.named_parameters())[name]
    info = {p.name: p for p in oip.describe(layer)}[name]
    return layer, param, info


@pytest.mark.parametrize("layer_id", LAYER_IDS)
def test_fans_from_the_core_for_each_layer_kind(layer_id: str) -> None:
    _, _, layout, expected = LAYERS[layer_id]
    _, param, info = build(layer_id)
    assert info.geometry.fans() == expected
    assert oneinit.get_layout(info.layout) == oneinit.get_layout(layout)
    init = oip.Initializer(
        oneinit.HeNormal(),
        layout=info.layout,
        groups=info.geometry.groups,
        blocks=info.geometry.blocks,
    )
    assert init.geometry(param.shape)[1] == expected


@pytest.mark.parametrize("layer_id", LAYER_IDS)
def test_paddle_convention_equals_paddles_own_compute_fans(layer_id: str) -> None:
    _, param, _ = build(layer_id)
    fan_in, fan_out = paddle.nn.initializer.Initializer()._compute_fans(param)
    fans = compute_fans(tuple(param.shape), fan_convention="paddle")
    assert (fans.fan_in, fans.fan_out) == (int(fan_in), int(fan_out))
    init = oip.Initializer(oneinit.HeNormal(), fan_convention="paddle")
    assert init.geometry(param.shape)[1] == fans


def test_vectors_take_paddles_rule_unless_given_fans() -> None:
    bias = paddle.nn.Linear(3, 40).bias
    assert oip.HeUniform().geometry(bias.shape) == (None, Fans(40, 40))
    assert oip.HeUniform(fans=Fans(3, 40)).geometry(bias.shape) == (None, Fans(3, 40))
    oip.HeUniform()(bias)
    assert abs(values(bias)).max() <= math.sqrt(6.0 / 40.0)


def test_global_initializer_reaches_paddles_own_buffers() -> None:
    # LSTM creates a 1-D flat weight through create_parameter, which the global weight
    # initializer replaces; a fan-based scheme must accept it.
    paddle.nn.initializer.set_global_initializer(oip.GlorotUniform(seed=0), oip.Zeros())
    lstm = paddle.nn.LSTM(8, 16)
    paddle.nn.initializer.set_global_initializer(None, None)
    assert abs(values(lstm.weight_ih_l0)).max() <= math.sqrt(6.0 / (64 + 8))


@pytest.mark.parametrize("convention", ["oneinit", "paddle"])
@pytest.mark.parametrize("layer_id", LAYER_IDS)
def test_native_bounds_for_each_layer_kind(layer_id: str, convention: str) -> None:
    """The uniform bound is the core's, exactly, for the layer's fans (or Paddle's rule)."""
    _, param, info = build(layer_id)
    scheme = oneinit.HeUniform()
    init = oip.Initializer(
        scheme,
        layout=info.layout,
        groups=info.geometry.groups,
        blocks=info.geometry.blocks,
        fan_convention=convention,
    )
    init(param)
    fans = info.geometry.fans(convention)
    bound = scheme.distribution_for(fans).high
    w = np.abs(values(param))
    assert w.max() <= bound
    assert w.max() >= bound * (1.0 - 20.0 / w.size)  # misses with probability e**-20
    if convention == "paddle":  # Paddle's own KaimingUniform draws from the same interval
        own = paddle.create_parameter(list(param.shape), "float32")
        paddle.nn.initializer.KaimingUniform()(own)
        assert np.abs(values(own)).max() <= np.float32(bound)


@pytest.mark.parametrize(
    ("shape", "layout"),
    [
        pytest.param((64, 32), "dense_in_out", id="2d"),
        pytest.param((8, 4, 3), "conv_out_in", id="3d"),
        pytest.param((8, 4, 3, 3), "conv_out_in", id="4d"),
        pytest.param((8,), None, id="1d"),
        pytest.param((), None, id="0d"),
    ],
)
def test_default_layout_follows_paddles_rank_rule(shape: tuple[int, ...], layout: str) -> None:
    assert oip.default_layout(shape) == layout


# --------------------------------------------------------------------------------------------
# Native fills: Paddle's generator with the core's numbers.

NATIVE_CASES = [
    # (id, adapter initializer or scheme, layer id)
    ("he_normal_conv2d", oneinit.HeNormal(), "conv2d"),
    ("he_uniform_conv2d_grouped", oneinit.HeUniform(), "conv2d_grouped"),
    ("glorot_uniform_linear", oneinit.GlorotUniform(), "linear"),
    ("glorot_normal_embedding", oneinit.GlorotNormal(), "embedding"),
    (
        "lecun_truncated_conv2d_transpose",
        oneinit.LecunNormal(distribution="truncated_normal"),
        "conv2d_transpose",
    ),
    ("variance_scaling_lstm_hh", oneinit.VarianceScaling(2.0, "fan_avg"), "lstm_hh"),
    ("he_uniform_fan_out_depthwise", oneinit.HeUniform(mode="fan_out"), "conv2d_depthwise"),
    ("uniform_linear", oneinit.Uniform(-0.3, 0.2), "linear"),
    ("normal_conv3d", oneinit.Normal(0.5, 0.02), "conv3d"),
    (
        "truncated_absolute_linear",
        oneinit.TruncatedNormal(0.01, 0.05, -0.04, 0.09, units="absolute"),
        "linear",
    ),
    ("truncated_std_one_sided", oneinit.TruncatedNormal(0.0, 1.0, 1.0, 3.0), "conv1d"),
]


def _large(layer_id: str) -> Any:
    """Big enough layers for the statistics (about 2**17 to 2**19 values)."""
    return {
        "conv2d": lambda: paddle.nn.Conv2D(128, 256, 3),
        "conv2d_grouped": lambda: paddle.nn.Conv2D(256, 512, 3, groups=4),
        "linear": lambda: paddle.nn.Linear(384, 640),
        "embedding": lambda: paddle.nn.Embedding(4096, 64),
        "conv2d_transpose": lambda: paddle.nn.Conv2DTranspose(128, 256, 3),
        "lstm_hh": lambda: paddle.nn.LSTM(64, 256),
        "conv2d_depthwise": lambda: paddle.nn.Conv2D(4096, 4096, 5, groups=4096),
        "conv3d": lambda: paddle.nn.Conv3D(32, 64, 3),
        "conv1d": lambda: paddle.nn.Conv1D(256, 256, 3),
    }[layer_id]()


def _main_weight(layer: Any) -> tuple[Any, oneinit.core.rules.ParamInfo]:
    info = next(p for p in oip.describe(layer) if p.layout is not None)
    return dict(layer.named_parameters())[info.name], info


@pytest.mark.parametrize(
    ("scheme", "layer_id"), [pytest.param(s, layer, id=i) for i, s, layer in NATIVE_CASES]
)
def test_native_fill_follows_the_cores_distribution(scheme: Any, layer_id: str) -> None:
    layer = _large(layer_id)
    param, info = _main_weight(layer)
    report = oip.initialize(layer, Rules(Rule(scheme, name=info.name)))
    assert report[info.name].status == "initialized"
    distribution = scheme.distribution_for(info.geometry.fans())
    assert_follows(values(param), distribution, "float32")


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float64"])
@pytest.mark.parametrize(
    "scheme",
    [
        pytest.param(oneinit.TruncatedNormal(0.0, 0.1, -0.1, 0.15, units="absolute"), id="trunc"),
        pytest.param(oneinit.HeUniform(), id="he_uniform"),
        pytest.param(oneinit.HeNormal(), id="he_normal"),
    ],
)
def test_native_fill_in_low_and_double_precision(scheme: Any, dtype: str) -> None:
    layer = paddle.nn.Linear(512, 512).to(dtype=dtype)
    oip.Initializer(scheme)(layer.weight)
    assert str(layer.weight.dtype) == f"paddle.{dtype}"
    distribution = scheme.distribution_for(Fans(512, 512))
    assert_follows(values(layer.weight), distribution, dtype)


@pytest.mark.parametrize("seed", [pytest.param(None, id="native"), pytest.param(0, id="seeded")])
@pytest.mark.parametrize(
    "scheme",
    [
        pytest.param(oneinit.HeNormal(distribution="truncated_normal"), id="truncated"),
        pytest.param(oneinit.HeNormal(), id="normal"),
        pytest.param(oneinit.GlorotUniform(), id="uniform"),
        pytest.param(oneinit.Orthogonal(), id="orthogonal"),
    ],
)
def test_fills_are_in_place_and_reproducible(scheme: Any, seed: int | None) -> None:
    lstm = paddle.nn.LSTM(16, 32)
    flat = lstm._flat_weight[0]
    pointers = [p.data_ptr() for p in lstm.parameters()]
    paddle.seed(5)
    rules = Rules(Rule(scheme, role="weight"), Rule(oneinit.HeUniform(), role="bias"))
    oip.initialize(lstm, rules, seed=seed)
    first = [p.numpy().copy() for p in lstm.parameters()]
    assert [p.data_ptr() for p in lstm.parameters()] == pointers
    # The RNN's flat weight (cuDNN's view of the parameters) sees the new values.
    np.testing.assert_array_equal(flat.numpy()[: first[0].size], first[0].ravel())
    paddle.seed(5)
    oip.initialize(lstm, rules, seed=seed)
    for before, param in zip(first, lstm.parameters(), strict=True):
        np.testing.assert_array_equal(before, param.numpy())


def test_parameters_never_alias_the_initializers_values() -> None:
    values = np.ones((4, 3), dtype=np.float32)
    for init in (oip.Assign(values), oip.Assign(values.T, value_layout="dense_out_in")):
        first = paddle.nn.Linear(4, 3, weight_attr=paddle.ParamAttr(initializer=init))
        with paddle.no_grad():
            first.weight.scale_(5.0)
        second = paddle.nn.Linear(4, 3, weight_attr=paddle.ParamAttr(initializer=init))
        assert np.all(second.weight.numpy() == 1.0)
    assert np.all(values == 1.0)


def test_native_fill_uses_the_static_programs_random_seed() -> None:
    def build_once() -> np.ndarray:
        with static_program() as (_, startup):
            startup.random_seed = 77
            linear = paddle.nn.Linear(
                64, 64, weight_attr=paddle.ParamAttr(initializer=oip.HeUniform())
            )
            (weight,) = run_startup(startup, linear.weight)
        return weight

    np.testing.assert_array_equal(build_once(), build_once())


def test_structured_schemes_without_seed_follow_paddle_seed() -> None:
    first, second = paddle.nn.Linear(32, 32), paddle.nn.Linear(32, 32)
    paddle.seed(11)
    oip.Orthogonal()(first.weight)
    paddle.seed(11)
    oip.Orthogonal()(second.weight)
    np.testing.assert_array_equal(first.weight.numpy(), second.weight.numpy())
    w = values(first.weight)
    np.testing.assert_allclose(w @ w.T, np.eye(32), atol=1e-5)


# --------------------------------------------------------------------------------------------
# Portable fills: the core's values, transposed into Paddle's storage.

SEEDED_SCHEMES = [
    pytest.param(oneinit.HeNormal(), id="he_normal"),
    pytest.param(oneinit.GlorotUniform(), id="glorot_uniform"),
    pytest.param(oneinit.LecunNormal(distribution="truncated_normal"), id="lecun_truncated"),
    pytest.param(oneinit.TruncatedNormal(0.0, 0.02, -0.04, 0.04, "absolute"), id="trunc_abs"),
    pytest.param(oneinit.Orthogonal(gain=1.5), id="orthogonal"),
    pytest.param(oneinit.Constant(0.5), id="constant"),
]
SPARSE = oneinit.Sparse(0.25, 0.1)  # matrices only (torch's sparse_ is 2-D too)
MATRIX_LAYERS = ["linear", "lstm_ih", "embedding", "mha_q_proj"]
KERNEL_LAYERS = ["conv2d_grouped", "conv2d_transpose_grouped", "conv3d", "conv1d_transpose"]
SEEDED_CASES = [
    pytest.param(scheme.values[0], layer, id=f"{scheme.id}-{layer}")
    for scheme in SEEDED_SCHEMES
    for layer in MATRIX_LAYERS + KERNEL_LAYERS
] + [pytest.param(SPARSE, layer, id=f"sparse-{layer}") for layer in MATRIX_LAYERS]


@pytest.mark.parametrize(("scheme", "layer_id"), SEEDED_CASES)
def test_seeded_fill_equals_the_cores_sample(scheme: Any, layer_id: str) -> None:
    _, param, info = build(layer_id)
    init = oip.Initializer(
        scheme,
        seed=3,
        key="w",
        layout=info.layout,
        groups=info.geometry.groups,
        blocks=info.geometry.blocks,
    )
    init(param)
    expected = scheme.sample(
        tuple(param.shape),
        seed=3,
        key="w",
        layout=info.layout,
        groups=info.geometry.groups,
        blocks=info.geometry.blocks,
    )
    np.testing.assert_array_equal(param.numpy(), expected)


def test_seeded_linear_is_the_transpose_of_the_canonical_out_in_matrix() -> None:
    linear = paddle.nn.Linear(48, 80)
    oip.GlorotUniform(seed=9)(linear.weight)
    canonical = oneinit.GlorotUniform().sample((80, 48), seed=9, key=0)  # (out, in)
    np.testing.assert_array_equal(linear.weight.numpy(), canonical.T)


def test_seeded_conv_transpose_keeps_each_groups_block() -> None:
    conv = paddle.nn.Conv2DTranspose(8, 6, 3, groups=2)  # storage (in, out/g, k, k)
    oip.HeNormal(seed=1, layout="conv_transpose", groups=2)(conv.weight)
    canonical = oneinit.HeNormal().sample(
        (6, 4, 3, 3), seed=1, key=0, fans=compute_fans((8, 3, 3, 3), "conv_transpose", groups=2)
    )  # (out, in/g, k, k)
    stored = conv.weight.numpy()
    for g in range(2):  # storage [g*4:(g+1)*4, :] holds canonical [g*3:(g+1)*3, :] transposed
        np.testing.assert_array_equal(
            stored[4 * g : 4 * (g + 1)], canonical[3 * g : 3 * (g + 1)].transpose(1, 0, 2, 3)
        )


@pytest.mark.parametrize("scheme", [*SEEDED_SCHEMES, pytest.param(SPARSE, id="sparse")])
def test_seeded_fill_through_param_attr_and_per_call_keys(scheme: Any) -> None:
    init = oip.Initializer(scheme, seed=21, key=100)
    first = paddle.nn.Linear(24, 40, weight_attr=paddle.ParamAttr(initializer=init))
    second = paddle.nn.Linear(24, 40, weight_attr=paddle.ParamAttr(initializer=init))
    for call, linear in enumerate((first, second)):
        expected = scheme.sample((24, 40), seed=21, key=100 + call, layout="dense_in_out")
        np.testing.assert_array_equal(linear.weight.numpy(), expected)


@pytest.mark.parametrize("legacy", [pytest.param(False, id="pir"), pytest.param(True, id="legacy")])
@pytest.mark.parametrize("scheme", SEEDED_SCHEMES)
def test_seeded_fill_in_a_static_program(scheme: Any, legacy: bool) -> None:
    with static_program(legacy) as (_, startup):
        x = paddle.static.data("x", [None, 24], "float32")
        weight_attr = paddle.ParamAttr(initializer=oip.Initializer(scheme, seed=5))
        conv_attr = paddle.ParamAttr(
            initializer=oip.Initializer(scheme, seed=5, layout="conv_transpose", groups=2)
        )
        linear = paddle.nn.Linear(24, 40, weight_attr=weight_attr)
        conv = paddle.nn.Conv2DTranspose(8, 6, 3, groups=2, weight_attr=conv_attr)
        linear(x)
        weight, kernel = run_startup(startup, linear.weight, conv.weight)
    np.testing.assert_array_equal(
        weight, scheme.sample((24, 40), seed=5, key=0, layout="dense_in_out")
    )
    np.testing.assert_array_equal(
        kernel, scheme.sample((8, 3, 3, 3), seed=5, key=0, layout="conv_transpose", groups=2)
    )


@pytest.mark.parametrize("legacy", [pytest.param(False, id="pir"), pytest.param(True, id="legacy")])
def test_native_fill_in_a_static_program(legacy: bool) -> None:
    with static_program(legacy) as (_, startup):
        attr = paddle.ParamAttr(initializer=oip.HeNormal(distribution="truncated_normal"))
        conv = paddle.nn.Conv2D(64, 128, 3, weight_attr=attr)
        (kernel,) = run_startup(startup, conv.weight)
    distribution = oneinit.HeNormal(distribution="truncated_normal").distribution_for(
        Fans(576, 1152)
    )
    assert_follows(kernel, distribution, "float32")


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float64"])
def test_seeded_fill_casts_the_float32_values_once(dtype: str) -> None:
    linear = paddle.nn.Linear(32, 16).to(dtype=dtype)
    oip.HeNormal(seed=4)(linear.weight)
    expected = oneinit.HeNormal().sample((32, 16), seed=4, key=0, layout="dense_in_out")
    np.testing.assert_array_equal(
        linear.weight.numpy(), paddle.to_tensor(expected).astype(dtype).numpy()
    )


def test_seeded_fill_in_a_pir_program_in_float16() -> None:
    paddle.set_default_dtype("float16")
    with static_program() as (_, startup):
        attr = paddle.ParamAttr(initializer=oip.HeUniform(seed=2))
        linear = paddle.nn.Linear(16, 8, weight_attr=attr)
        (weight,) = run_startup(startup, linear.weight)
    expected = oneinit.HeUniform().sample((16, 8), seed=2, key=0, layout="dense_in_out")
    np.testing.assert_array_equal(weight, expected.astype(np.float16))


def test_custom_scheme_with_a_seed() -> None:
    @dataclass(frozen=True)
    class PaddleTestMixture(oneinit.CustomScheme):
        def draw(self, shape: Any, fans: Any, generator: Any) -> Any:
            return generator.uniform(shape, -1.0, 1.0) * (1.0 / math.sqrt(fans.fan_in))

    linear = paddle.nn.Linear(30, 20)
    oip.Initializer(PaddleTestMixture(), seed=8)(linear.weight)
    expected = PaddleTestMixture().sample((30, 20), seed=8, key=0, layout="dense_in_out")
    np.testing.assert_array_equal(linear.weight.numpy(), expected)


# --------------------------------------------------------------------------------------------
# Paddle's spellings and the structured schemes.


def test_paddle_spellings_keep_paddles_signatures() -> None:
    weight = paddle.nn.Linear(100, 300).weight
    cases = [
        (oip.XavierUniform(None, None, 2.0), oneinit.GlorotUniform(gain=2.0), Fans(100, 300)),
        (oip.XavierUniform(fan_in=10, fan_out=30), oneinit.GlorotUniform(), Fans(10, 30)),
        (oip.XavierNormal(fan_in=50), oneinit.GlorotNormal(), Fans(50, 300)),
        (oip.KaimingUniform(25), oneinit.HeUniform(), Fans(25, 300)),
        (
            oip.KaimingNormal(None, 0.1, "leaky_relu", "fan_out"),
            oneinit.HeNormal(negative_slope=0.1, nonlinearity="leaky_relu", mode="fan_out"),
            Fans(100, 300),
        ),
    ]
    for init, scheme, fans in cases:
        assert init.scheme == scheme
        assert init.geometry(weight.shape)[1] == fans
    assert oip.Uniform().scheme == oneinit.Uniform(-1.0, 1.0)
    assert oip.Normal().scheme == oneinit.Normal(0.0, 1.0)
    assert oip.TruncatedNormal(0.0, 0.02).scheme == oneinit.TruncatedNormal(
        0.0, 0.02, -2.0, 2.0, units="absolute"
    )
    assert oip.TruncatedNormal(0.0, 0.02, units="std").scheme.units == "std"
    assert isinstance(oip.KaimingNormal(), oip.HeNormal)
    assert isinstance(oip.XavierUniform(), paddle.nn.initializer.Initializer)


def test_xavier_fan_override_reaches_the_native_bound() -> None:
    linear = paddle.nn.Linear(256, 256)
    oip.XavierUniform(fan_in=6, fan_out=6)(linear.weight)  # bound sqrt(6 / (6 + 6))
    assert abs(values(linear.weight)).max() <= math.sqrt(0.5)
    assert abs(values(linear.weight)).max() > 0.99 * math.sqrt(0.5)


@pytest.mark.parametrize(
    ("make", "in_channels", "check"),
    [
        pytest.param(
            lambda: oip.Dirac(groups=2),
            4,
            lambda w: np.array_equal(w[:, :, 1, 1], np.vstack([np.eye(4)] * 2)),
            id="dirac_groups",
        ),
        pytest.param(
            lambda: oip.DeltaOrthogonal(seed=1),
            8,
            lambda w: np.allclose(w[:, :, 1, 1] @ w[:, :, 1, 1].T, np.eye(8), atol=1e-5),
            id="delta_orthogonal",
        ),
        pytest.param(lambda: oip.Constant(0.25), 8, lambda w: np.all(w == 0.25), id="constant"),
        pytest.param(lambda: oip.Zeros(), 8, lambda w: not w.any(), id="zeros"),
        pytest.param(lambda: oip.Ones(), 8, lambda w: np.all(w == 1), id="ones"),
    ],
)
def test_structured_conv_kernels(
    make: Callable[[], Any], in_channels: int, check: Callable[[np.ndarray], bool]
) -> None:
    conv = paddle.nn.Conv2D(in_channels, 8, 3)
    make()(conv.weight)
    assert check(conv.weight.numpy())


def test_identity_is_the_canonical_identity() -> None:
    linear = paddle.nn.Linear(4, 6)  # (in, out) storage; canonical (out, in) = eye(6, 4)
    oip.Identity(gain=2.0)(linear.weight)
    np.testing.assert_array_equal(linear.weight.numpy(), 2.0 * np.eye(6, 4).T)


def test_bilinear_is_the_upsampling_kernel() -> None:
    conv = paddle.nn.Conv2DTranspose(3, 3, 4, groups=3)
    oip.Bilinear(layout="conv_transpose", groups=3)(conv.weight)
    row = np.array([0.25, 0.75, 0.75, 0.25])
    np.testing.assert_allclose(conv.weight.numpy()[0, 0], np.outer(row, row), rtol=1e-6)


def test_assign_copies_storage_values_or_transposes_from_a_layout() -> None:
    torch_style = np.arange(12, dtype=np.float32).reshape(3, 4)  # (out=3, in=4)
    linear = paddle.nn.Linear(4, 3)
    oip.Assign(torch_style.T)(linear.weight)
    np.testing.assert_array_equal(linear.weight.numpy(), torch_style.T)
    oip.Assign(torch_style, value_layout="dense_out_in")(linear.weight)
    np.testing.assert_array_equal(linear.weight.numpy(), torch_style.T)
    oip.Assign([1.0, 2.0, 3.0])(linear.bias)
    np.testing.assert_array_equal(linear.bias.numpy(), [1.0, 2.0, 3.0])


def test_per_gate_orthogonal_recurrent_weights() -> None:
    for layer, gates in ((paddle.nn.LSTM(8, 16), 4), (paddle.nn.GRU(8, 16), 3)):
        rules = Rules(Rule(oneinit.Orthogonal(), role="recurrent"), Rule(oneinit.HeNormal()))
        oip.initialize(layer, rules, seed=0)
        weight = values(layer.weight_hh_l0)  # (gates * H, H)
        for g in range(gates):
            block = weight[16 * g : 16 * (g + 1)]
            np.testing.assert_allclose(block @ block.T, np.eye(16), atol=1e-5)


# --------------------------------------------------------------------------------------------
# ParamAttr, set_global_initializer, LazyGuard.


def test_set_global_initializer() -> None:
    paddle.nn.initializer.set_global_initializer(oip.HeNormal(seed=0), oip.Zeros())
    linear = paddle.nn.Linear(32, 64)
    conv = paddle.nn.Conv2D(8, 16, 3, bias_attr=paddle.ParamAttr(initializer=oip.Ones()))
    paddle.nn.initializer.set_global_initializer(None, None)
    np.testing.assert_array_equal(
        linear.weight.numpy(), oneinit.HeNormal().sample((32, 64), seed=0, key=0, layout="dense")
    )
    np.testing.assert_array_equal(
        conv.weight.numpy(), oneinit.HeNormal().sample((16, 8, 3, 3), seed=0, key=1, layout="conv")
    )
    assert not linear.bias.numpy().any()
    assert np.all(conv.bias.numpy() == 1.0)  # an explicit ParamAttr wins


def test_lazy_guard_defers_like_paddles_own() -> None:
    init = oip.GlorotUniform(seed=6)
    with paddle.LazyGuard():
        linear = paddle.nn.Linear(16, 32, weight_attr=paddle.ParamAttr(initializer=init))
    assert not linear.weight._is_initialized()
    for param in linear.parameters():
        param.initialize()
    np.testing.assert_array_equal(
        linear.weight.numpy(), oneinit.GlorotUniform().sample((16, 32), seed=6, layout="dense")
    )


def test_initialize_defers_lazy_parameters() -> None:
    with paddle.LazyGuard():
        net = paddle.nn.Sequential(paddle.nn.Linear(8, 4), paddle.nn.Embedding(6, 4, padding_idx=2))
    report = oip.initialize(net, oneinit.HeUniform(), seed=1)
    assert report.with_status("lazy") == ["0.weight", "0.bias", "1.weight"]
    for param in net.parameters():
        param.initialize()
    expected = oneinit.HeUniform().sample((8, 4), seed=1, key="0.weight", layout="dense")
    np.testing.assert_array_equal(net[0].weight.numpy(), expected)
    assert not net[1].weight.numpy()[2].any()


# --------------------------------------------------------------------------------------------
# initialize() and init_fn().


def _model() -> Any:
    return paddle.nn.Sequential(
        paddle.nn.Conv2D(3, 8, 3, groups=1),
        paddle.nn.BatchNorm2D(8),
        paddle.nn.PReLU(),
        paddle.nn.Conv2DTranspose(8, 4, 3, groups=2),
        paddle.nn.LSTM(12, 16, direction="bidirect"),
        paddle.nn.MultiHeadAttention(16, 2),
        paddle.nn.Embedding(20, 16, padding_idx=0),
        paddle.nn.LayerNorm(16),
        paddle.nn.GroupNorm(2, 4),
        paddle.nn.InstanceNorm2D(4),
        paddle.nn.GRUCell(4, 6),
    )


def test_initialize_describes_every_layer_kind() -> None:
    rows = {p.name: p for p in oip.describe(_model())}
    expected = {
        "0.weight": ("conv", {"weight"}, "weight"),
        "1.weight": ("batch_norm", {"norm"}, "weight"),
        "1.bias": ("batch_norm", {"norm", "bias"}, "bias"),
        "2._weight": ("prelu", {"activation"}, "weight"),
        "3.weight": ("conv_transpose", {"weight"}, "weight"),
        "4.weight_hh_l0_reverse": ("lstm", {"weight", "recurrent"}, "weight_hh"),
        "4.bias_ih_l0": ("lstm", {"bias"}, "bias_ih"),
        "5.q_proj.weight": ("multihead_attention", {"weight"}, "q_proj_weight"),
        "5.out_proj.bias": ("multihead_attention", {"bias"}, "out_proj_bias"),
        "6.weight": ("embedding", {"weight", "embedding"}, "weight"),
        "7.weight": ("layer_norm", {"norm"}, "weight"),
        "8.bias": ("group_norm", {"norm", "bias"}, "bias"),
        "9.scale": ("instance_norm", {"norm"}, "weight"),
        "10.weight_hh": ("gru", {"weight", "recurrent"}, "weight_hh"),
    }
    for name, (kind, roles, slot) in expected.items():
        assert (rows[name].kind, set(rows[name].roles), rows[name].slot) == (kind, roles, slot)
    assert "1._mean" not in rows and "1._variance" not in rows  # running statistics
    assert rows["3.weight"].geometry.groups == 2
    assert rows["4.weight_ih_l0"].geometry.blocks == 4
    assert rows["10.weight_ih"].geometry.blocks == 3
    assert rows["4.bias_hh_l0"].layer is not None
    assert rows["4.bias_hh_l0"].layer.fans() == Fans(16, 16)


def test_initialize_with_a_seed_keys_by_structured_name() -> None:
    model = _model()
    report = oip.initialize(model, oneinit.HeNormal(), seed=12)
    params = dict(model.named_parameters())
    for info in oip.describe(model):
        if info.layout is None:
            continue
        expected = oneinit.HeNormal().sample(
            info.shape,
            seed=12,
            key=key_from_name(info.name),
            layout=info.layout,
            groups=info.geometry.groups,
            blocks=info.geometry.blocks,
        )
        if info.kind == "embedding":
            expected[0] = 0.0  # padding_idx
        np.testing.assert_array_equal(params[info.name].numpy(), expected, err_msg=info.name)
    assert report.with_status("unmatched") == ["2._weight"]
    assert report["1.weight"].status == "initialized"
    assert np.all(params["1.weight"].numpy() == 1.0) and not params["1.bias"].numpy().any()
    assert report["4.weight_ih_l0"].expected_std == pytest.approx(math.sqrt(2.0 / 12.0))


def test_initialize_is_reproducible_and_independent_of_other_layers() -> None:
    small = paddle.nn.Sequential(paddle.nn.Linear(4, 4), paddle.nn.Linear(4, 8))
    big = paddle.nn.Sequential(
        paddle.nn.Linear(4, 4), paddle.nn.Linear(4, 8), paddle.nn.Linear(8, 2)
    )
    oip.initialize(small, oneinit.GlorotUniform(), seed=3)
    oip.initialize(big, oneinit.GlorotUniform(), seed=3)
    np.testing.assert_array_equal(small[1].weight.numpy(), big[1].weight.numpy())


def test_initialize_rules_profiles_and_dry_run() -> None:
    model = _model()
    before = {n: p.numpy().copy() for n, p in model.named_parameters()}
    report = oip.initialize(model, profile="torch", dry_run=True)
    assert set(report.with_status("planned")) >= {"0.weight", "4.weight_ih_l0", "5.q_proj.weight"}
    for name, param in model.named_parameters():
        np.testing.assert_array_equal(before[name], param.numpy())
    rules = Rules(Rule(None, kind="conv"), Rule(oneinit.LecunNormal(), role="weight"))
    report = oip.initialize(model, rules)
    assert report["0.weight"].status == "kept"
    np.testing.assert_array_equal(before["0.weight"], model[0].weight.numpy())
    report = oip.initialize(model, profile="torch", seed=0)
    assert report["2._weight"].status == "initialized"
    assert np.all(model[2]._weight.numpy() == 0.25)
    q = values(model[5].q_proj.weight)
    assert abs(q).max() <= math.sqrt(6.0 / 32.0)  # GlorotUniform on (16, 16)


# --------------------------------------------------------------------------------------------
# initialize(names=...): canonical names replace Paddle's in rules, the report and the keys.


def _named_model() -> Any:
    """A model with a nested layer, a Sequential, a convolution and an LSTM."""

    class Encoder(paddle.nn.Layer):
        def __init__(self) -> None:
            super().__init__()
            self.proj = paddle.nn.Linear(6, 8)
            self.body = paddle.nn.Sequential(paddle.nn.Conv2D(2, 4, 3), paddle.nn.LSTM(4, 5))

    return Encoder()


CANONICAL = {
    "proj.weight": "enc.fc.weight",
    "body.0.weight": "enc.conv.weight",
    "body.1.weight_ih_l0": "enc.lstm.weight_ih",
    "body.1.weight_hh_l0": "enc.lstm.weight_hh",
}


def test_names_key_portable_values_by_canonical_name() -> None:
    model = _named_model()
    scheme = oneinit.GlorotUniform()
    report = oip.initialize(model, scheme, seed=5, names=CANONICAL)
    params = dict(model.named_parameters())
    storage = {  # canonical name: (Paddle's parameter, its layout, blocks)
        "enc.fc.weight": (params["proj.weight"], "dense_in_out", 1),
        "enc.conv.weight": (params["body.0.weight"], "conv_out_in", 1),
        "enc.lstm.weight_ih": (params["body.1.weight_ih_l0"], "recurrent_out_in", 4),
        "enc.lstm.weight_hh": (params["body.1.weight_hh_l0"], "recurrent_out_in", 4),
    }
    for name, (param, layout, blocks) in storage.items():
        canonical = oneinit.to_canonical(param.numpy(), layout)
        expected = scheme.sample(
            canonical.shape, seed=5, key=name, blocks=blocks, fans=report[name].fans
        )
        np.testing.assert_array_equal(canonical, expected, err_msg=name)
    # The rename is visible in the report; unnamed parameters keep Paddle's names (and keys).
    rows = [row.name for row in report]
    assert rows == [
        "enc.fc.weight",
        "proj.bias",
        "enc.conv.weight",
        "body.0.bias",
        "enc.lstm.weight_ih",
        "enc.lstm.weight_hh",
        "body.1.bias_ih_l0",
        "body.1.bias_hh_l0",
    ]
    assert report["enc.lstm.weight_hh"].kind == "lstm"
    assert report["enc.lstm.weight_hh"].fans == Fans(5, 5)  # the layer's geometry is kept
    plain = _named_model()
    oip.initialize(plain, scheme, seed=5)
    np.testing.assert_array_equal(plain.body[0].bias.numpy(), model.body[0].bias.numpy())
    assert not np.array_equal(plain.proj.weight.numpy(), model.proj.weight.numpy())


def test_names_rules_match_canonical_names_and_callables_may_keep_names() -> None:
    model = _named_model()
    rules = Rules(
        Rule(oneinit.Constant(6.0), slot="bias_hh"),  # the slot stays the layer's
        Rule(oneinit.Constant(2.0), name="enc.fc.*"),
        Rule(oneinit.Constant(3.0), regex=r"^enc\.lstm\.weight_hh$"),
        Rule(oneinit.Constant(4.0), name="proj.*"),  # Paddle's name: only proj.bias keeps it
        Rule(oneinit.Zeros()),
    )

    given = {**CANONICAL, "body.1.bias_hh_l0": "enc.lstm.second_bias"}

    def canonical(own: str) -> str | None:
        return given.get(own)  # None: keep Paddle's name

    report = oip.initialize(model, rules, names=canonical)
    assert np.all(model.proj.weight.numpy() == 2.0)
    assert np.all(model.proj.bias.numpy() == 4.0)
    assert np.all(model.body[1].weight_hh_l0.numpy() == 3.0)
    assert not model.body[1].weight_ih_l0.numpy().any()
    assert np.all(model.body[1].bias_hh_l0.numpy() == 6.0)
    assert report["enc.fc.weight"].rule.startswith("#2")
    assert report["body.0.bias"].status == "initialized"


def test_names_of_shared_parameters() -> None:
    first, second = paddle.nn.Linear(4, 4), paddle.nn.Linear(4, 4)
    second.weight = first.weight  # tied
    net = paddle.nn.Sequential(first, paddle.nn.Tanh(), first, second)  # first called twice
    report = oip.initialize(net, oneinit.HeUniform(), seed=2, names={"3.weight": "tied.weight"})
    assert [row.name for row in report] == ["tied.weight", "0.bias", "3.bias"]  # each once
    expected = oneinit.HeUniform().sample((4, 4), seed=2, key="tied.weight")
    np.testing.assert_array_equal(second.weight.numpy().T, expected)
    # An RNN's parameters are also its cell's: either path names them.
    lstm = paddle.nn.LSTM(3, 4)
    report = oip.initialize(lstm, oneinit.Zeros(), names={"0.cell.weight_hh": "lstm.weight_hh"})
    assert [row.name for row in report][:2] == ["weight_ih_l0", "lstm.weight_hh"]


#: names= is checked by the core's canonical_names; one or two cases per error it raises.
NAME_ERRORS: list[tuple[str, Any, type[Exception], str]] = [
    (
        "unknown",
        {"proj.weight": "a", "proj.kernel": "b"},
        ValueError,
        r"does not have: 'proj\.kernel'\. Its parameters are: 'proj\.weight', 'proj\.bias'",
    ),
    (
        "same_name",
        {"proj.weight": "w", "body.0.weight": "w"},
        ValueError,
        "share the canonical name 'w': 'proj.weight' and 'body.0.weight'",
    ),
    (
        "shared_two_names",
        {"body.1.weight_ih_l0": "a", "body.1.0.cell.weight_ih": "b"},
        ValueError,
        r"shared parameter 'body\.1\.weight_ih_l0' \(also 'body\.1\.0\.cell\.weight_ih'\) more",
    ),
    ("type", ["proj.weight"], TypeError, "names must be a mapping"),
    ("key_type", {0: "a"}, TypeError, r"names must map parameter names \(str\)"),
    ("value_type", {"proj.weight": 1}, TypeError, r"names\['proj.weight'\]=1"),
    ("callable_value", lambda own: 1.5, TypeError, r"names\['proj.weight'\]=1\.5"),
]


@pytest.mark.parametrize(
    ("names", "error", "match"), [pytest.param(n, e, m, id=i) for i, n, e, m in NAME_ERRORS]
)
def test_names_errors(names: Any, error: type[Exception], match: str) -> None:
    model = _named_model()
    before = model.proj.weight.numpy().copy()
    with pytest.raises(error, match=match):
        oip.initialize(model, oneinit.HeNormal(), seed=0, names=names)
    np.testing.assert_array_equal(model.proj.weight.numpy(), before)  # nothing was filled


def test_a_rule_ignoring_blocks_makes_one_orthogonal_matrix_over_all_gates() -> None:
    hidden = 6
    whole = paddle.nn.LSTM(3, hidden)
    rules = Rules(
        Rule(oneinit.Orthogonal(), role="recurrent", ignore="blocks"), Rule(oneinit.Zeros())
    )
    oip.initialize(whole, rules, seed=0)
    w = values(whole.weight_hh_l0)  # canonical (4H, H): the storage is already (out, in)
    np.testing.assert_allclose(w.T @ w, np.eye(hidden), atol=1e-5)  # orthonormal columns
    gate = w[:hidden]
    assert np.abs(gate @ gate.T - np.eye(hidden)).max() > 0.1  # a block alone is not
    expected = oneinit.Orthogonal().sample((4 * hidden, hidden), seed=0, key="weight_hh_l0")
    np.testing.assert_array_equal(whole.weight_hh_l0.numpy(), expected)
    per_gate = paddle.nn.LSTM(3, hidden)
    oip.initialize(per_gate, Rules(Rule(oneinit.Orthogonal(), role="recurrent")), seed=0)
    w = values(per_gate.weight_hh_l0)
    for g in range(4):
        block = w[hidden * g : hidden * (g + 1)]
        np.testing.assert_allclose(block @ block.T, np.eye(hidden), atol=1e-5)


def test_init_fn_with_layer_apply() -> None:
    net = paddle.nn.Sequential(
        paddle.nn.Linear(6, 8),
        paddle.nn.LSTM(8, 4),
        paddle.nn.Conv1DTranspose(2, 4, 3, groups=2),
        paddle.nn.LayerNorm(4),
    )
    fn = oip.init_fn(oneinit.HeUniform(), bias=oneinit.Constant(0.5), seed=2)
    net.apply(fn)
    report = fn.report
    names = [row.name for row in report]
    # apply visits children first: Linear, the LSTM's cell, its RNN wrapper, the LSTM, ...
    assert names[:2] == ["Linear[0].weight", "Linear[0].bias"]
    assert names[2:6] == [
        f"LSTMCell[1].{n}" for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
    ]
    assert len(report) == 10 and report.with_status("initialized") == names
    assert np.all(net[0].bias.numpy() == 0.5) and np.all(net[1].bias_hh_l0.numpy() == 0.5)
    assert np.all(net[3].weight.numpy() == 1.0) and not net[3].bias.numpy().any()
    expected = oneinit.HeUniform().sample((6, 8), seed=2, key="Linear[0].weight", layout="dense")
    np.testing.assert_array_equal(net[0].weight.numpy(), expected)
    lstm_row = report["LSTMCell[1].weight_ih"]
    assert lstm_row.kind == "lstm" and lstm_row.fans == Fans(8, 4)
    conv_row = next(row for row in report if row.kind == "conv_transpose" and row.layout)
    assert conv_row.fans == compute_fans((2, 2, 3), "conv_transpose", groups=2)


def test_init_fn_with_names_keys_like_initialize() -> None:
    first, second = paddle.nn.Linear(4, 8), paddle.nn.Linear(4, 8)
    oip.initialize(first, oneinit.GlorotUniform(), seed=1)
    oip.init_fn(oneinit.GlorotUniform(), seed=1)(second, "")
    np.testing.assert_array_equal(first.weight.numpy(), second.weight.numpy())
    fn = oip.init_fn(Rules(Rule(oneinit.Orthogonal(), role="recurrent")), oneinit.Zeros())
    lstm = paddle.nn.LSTM(4, 4)
    lstm.apply(fn)
    assert report_statuses(fn.report) == {"initialized": 3, "unmatched": 1}  # weight_ih


def report_statuses(report: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for row in report:
        counts[row.status] = counts.get(row.status, 0) + 1
    return counts


def test_initialize_float16_model() -> None:
    paddle.set_default_dtype("float16")
    net = paddle.nn.Sequential(paddle.nn.Linear(64, 64), paddle.nn.LayerNorm(64))
    oip.initialize(net, oneinit.GlorotNormal(distribution="truncated_normal"))
    bound = oneinit.GlorotNormal(distribution="truncated_normal").distribution_for(Fans(64, 64))
    assert abs(values(net[0].weight)).max() <= bound.high
    assert str(net[0].weight.dtype) == "paddle.float16"


# --------------------------------------------------------------------------------------------
# Errors.

ERRORS: list[tuple[str, Callable[[], Any], type[Exception]]] = [
    ("scheme_type", lambda: oip.Initializer("he_normal"), TypeError),  # type: ignore[arg-type]
    ("seed_negative", lambda: oip.HeNormal(seed=-1), ValueError),
    ("seed_bool", lambda: oip.HeNormal(seed=True), TypeError),
    ("seed_float", lambda: oip.HeNormal(seed=1.5), TypeError),
    ("key_type", lambda: oip.HeNormal(key=1.5), TypeError),
    ("layout_name", lambda: oip.HeNormal(layout="dense_sideways"), ValueError),
    ("groups_zero", lambda: oip.HeNormal(groups=0), ValueError),
    ("blocks_type", lambda: oip.HeNormal(blocks="4"), TypeError),
    ("fan_convention", lambda: oip.HeNormal(fan_convention="caffe"), ValueError),
    ("fans_type", lambda: oip.HeNormal(fans=(3, 4)), TypeError),
    ("kaiming_fan_in_with_fan_out", lambda: oip.KaimingNormal(8, mode="fan_out"), ValueError),
    ("xavier_fan_negative", lambda: oip.XavierUniform(fan_in=-3), ValueError),
    ("mode", lambda: oip.HeNormal(mode="fan_sideways"), ValueError),
    ("nonlinearity", lambda: oip.KaimingUniform(nonlinearity="no_such_activation"), ValueError),
    ("uniform_bounds", lambda: oip.Uniform(1.0, -1.0), ValueError),
    ("truncated_units", lambda: oip.TruncatedNormal(units="sigma"), ValueError),
    (
        "integer_parameter",
        lambda: oip.HeNormal()(paddle.zeros([3, 4], dtype="int32")),
        TypeError,
    ),
    (
        "assign_shape",
        lambda: oip.Assign(np.ones((2, 2)))(paddle.nn.Linear(3, 4).weight),
        ValueError,
    ),
    ("initialize_model", lambda: oip.initialize(object(), oneinit.HeNormal()), TypeError),
    ("initialize_nothing", lambda: oip.initialize(paddle.nn.Linear(2, 2)), ValueError),
    (
        "initialize_adapter_object",
        lambda: oip.initialize(paddle.nn.Linear(2, 2), oip.HeNormal()),
        TypeError,
    ),
    (
        "initialize_seed",
        lambda: oip.initialize(paddle.nn.Linear(2, 2), oneinit.HeNormal(), seed=2**64),
        ValueError,
    ),
    (
        "initialize_profile",
        lambda: oip.initialize(paddle.nn.Linear(2, 2), profile="caffe"),
        ValueError,
    ),
    ("init_fn_weight", lambda: oip.init_fn("he_normal"), TypeError),  # type: ignore[arg-type]
    ("per_gate", lambda: oip.describe(paddle.nn.LSTM(2, 2), per_gate=1), TypeError),
]


@pytest.mark.parametrize(("make", "error"), [pytest.param(m, e, id=i) for i, m, e in ERRORS])
def test_bad_arguments_raise_clear_errors(make: Callable[[], Any], error: type) -> None:
    with pytest.raises(error, match="Received: "):
        make()


def test_initialize_refuses_static_mode() -> None:
    linear = paddle.nn.Linear(2, 2)
    paddle.enable_static()
    try:
        with pytest.raises(RuntimeError, match="Received: static mode"):
            oip.initialize(linear, oneinit.HeNormal())
    finally:
        paddle.disable_static()


# --------------------------------------------------------------------------------------------
# Imports.


def test_adapter_imports_paddle_and_no_other_framework() -> None:
    probe = (
        "import json, sys, warnings; warnings.simplefilter('ignore');"
        "import oneinit.adapters.paddle;"
        "print(json.dumps(sorted({n.split('.')[0] for n in sys.modules})))"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO_ROOT,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    loaded = set(json.loads(result.stdout.strip().splitlines()[-1]))
    assert "paddle" in loaded
    assert loaded & {"torch", "tensorflow", "keras", "mxnet", "jax"} == set()


@pytest.mark.gpu
def test_fills_on_the_gpu() -> None:
    if not (paddle.is_compiled_with_cuda() and paddle.device.cuda.device_count() > 0):
        pytest.skip("needs a CUDA build of Paddle and a GPU")
    paddle.set_device("gpu")
    try:
        attr = paddle.ParamAttr(initializer=oip.HeNormal())
        linear = paddle.nn.Linear(512, 512, weight_attr=attr)
        assert "gpu" in str(linear.weight.place).lower()
        oip.TruncatedNormal(0.0, 0.1, -0.1, 0.15)(linear.weight)
        w = values(linear.weight)
        assert -0.1 <= w.min() and w.max() <= 0.15
        oip.HeNormal(seed=3)(linear.weight)
        expected = oneinit.HeNormal().sample((512, 512), seed=3, key=0, layout="dense")
        np.testing.assert_array_equal(linear.weight.numpy(), expected)
    finally:
        paddle.set_device("cpu")
