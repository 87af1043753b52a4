"""The MXNet adapter: registry and serialization, dispatch paths, fans, statistics, bit equality.

Runs in the ``mxnet`` nox session (MXNet 1.9.1, numpy 1.23.5). Collection imports no framework:
the ``mx`` fixture imports MXNet through the adapter, and layers are built inside the tests.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import oneinit
from oneinit.core.rules import Rule, Rules

pytestmark = [
    # MXNet 1.9.1 touches numpy aliases and distutils deprecated under numpy 1.23 / Python 3.11
    # when it is imported; the adapter silences them, this covers an import from elsewhere.
    pytest.mark.filterwarnings(r"ignore::DeprecationWarning:mxnet(\..*)?"),
]

SEED = 20240607


@pytest.fixture(scope="module")
def oim() -> Any:
    from oneinit.adapters import mxnet as adapter

    return adapter


@pytest.fixture(scope="module")
def mx(oim: Any) -> Any:
    import mxnet

    return mxnet


@pytest.fixture
def mx_seeded(mx: Any) -> Any:
    mx.random.seed(SEED)
    return mx


def _bits(values: Any) -> np.ndarray:
    array = values.asnumpy() if hasattr(values, "asnumpy") else np.asarray(values)
    return array.view(np.uint16 if array.dtype == np.float16 else f"u{array.dtype.itemsize}")


def _named(block: Any, prefix: str = "") -> dict[str, Any]:
    """Parameters by attribute path ("0.weight", "l0_i2h_weight"), as initialize() names them."""
    named = {prefix + attr: param for attr, param in block._reg_params.items()}
    for name, child in block._children.items():
        named.update(_named(child, f"{prefix}{name}."))
    return named


def _assert_bit_equal(actual: Any, expected: Any) -> None:
    actual_bits, expected_bits = _bits(actual), _bits(expected)
    assert actual_bits.shape == expected_bits.shape
    assert actual_bits.dtype == expected_bits.dtype
    assert np.array_equal(actual_bits, expected_bits)


# --------------------------------------------------------------------------------------------
# Gluon layers: storage shape, how the adapter should read it, and the right fans.
# in=16, out=32, 3x3 kernels, groups=4, LSTM input 20 hidden 50, vocabulary 1000 x 64
# (frameworks.md section 2.2).


def _dense(mx: Any) -> Any:
    return mx.gluon.nn.Dense(32, in_units=16)


def _conv1d(mx: Any) -> Any:
    return mx.gluon.nn.Conv1D(32, 3, in_channels=16)


def _conv2d(mx: Any) -> Any:
    return mx.gluon.nn.Conv2D(32, 3, in_channels=16)


def _conv3d(mx: Any) -> Any:
    return mx.gluon.nn.Conv3D(32, 3, in_channels=16)


def _conv2d_nhwc(mx: Any) -> Any:
    return mx.gluon.nn.Conv2D(32, 3, in_channels=16, layout="NHWC")


def _grouped(mx: Any) -> Any:
    return mx.gluon.nn.Conv2D(32, 3, in_channels=16, groups=4)


def _depthwise(mx: Any) -> Any:
    return mx.gluon.nn.Conv2D(16, 3, in_channels=16, groups=16)


def _transpose1d(mx: Any) -> Any:
    return mx.gluon.nn.Conv1DTranspose(32, 3, in_channels=16)


def _transpose2d(mx: Any) -> Any:
    return mx.gluon.nn.Conv2DTranspose(32, 3, in_channels=16)


def _transpose2d_grouped(mx: Any) -> Any:
    return mx.gluon.nn.Conv2DTranspose(32, 3, in_channels=16, groups=4)


def _transpose3d(mx: Any) -> Any:
    return mx.gluon.nn.Conv3DTranspose(32, 3, in_channels=16)


def _embedding(mx: Any) -> Any:
    return mx.gluon.nn.Embedding(1000, 64)


def _lstm(mx: Any) -> Any:
    return mx.gluon.rnn.LSTM(50, input_size=20)


def _gru(mx: Any) -> Any:
    return mx.gluon.rnn.GRU(50, input_size=20)


def _rnn(mx: Any) -> Any:
    return mx.gluon.rnn.RNN(50, input_size=20)


def _lstm_cell(mx: Any) -> Any:
    return mx.gluon.rnn.LSTMCell(50, input_size=20)


# (id, builder, parameter, storage shape, kind, layout, groups, blocks, oneinit fans)
LAYERS: list[
    tuple[str, Callable[[Any], Any], str, tuple[int, ...], str, str, int, int, tuple[int, int]]
] = [
    ("dense", _dense, "weight", (32, 16), "linear", "dense_out_in", 1, 1, (16, 32)),
    ("conv1d", _conv1d, "weight", (32, 16, 3), "conv", "conv_out_in", 1, 1, (48, 96)),
    ("conv2d", _conv2d, "weight", (32, 16, 3, 3), "conv", "conv_out_in", 1, 1, (144, 288)),
    ("conv3d", _conv3d, "weight", (32, 16, 3, 3, 3), "conv", "conv_out_in", 1, 1, (432, 864)),
    ("conv2d_grouped", _grouped, "weight", (32, 4, 3, 3), "conv", "conv_out_in", 4, 1, (36, 72)),
    ("conv2d_depthwise", _depthwise, "weight", (16, 1, 3, 3), "conv", "conv_out_in", 16, 1, (9, 9)),
    (
        "conv1d_transpose",
        _transpose1d,
        "weight",
        (16, 32, 3),
        "conv_transpose",
        "conv_transpose_in_out",
        1,
        1,
        (48, 96),
    ),
    (
        "conv2d_transpose",
        _transpose2d,
        "weight",
        (16, 32, 3, 3),
        "conv_transpose",
        "conv_transpose_in_out",
        1,
        1,
        (144, 288),
    ),
    (
        "conv2d_transpose_grouped",
        _transpose2d_grouped,
        "weight",
        (16, 8, 3, 3),
        "conv_transpose",
        "conv_transpose_in_out",
        4,
        1,
        (36, 72),
    ),
    (
        "conv3d_transpose",
        _transpose3d,
        "weight",
        (16, 32, 3, 3, 3),
        "conv_transpose",
        "conv_transpose_in_out",
        1,
        1,
        (432, 864),
    ),
    ("embedding", _embedding, "weight", (1000, 64), "embedding", "embedding", 1, 1, (1000, 64)),
    ("lstm_i2h", _lstm, "l0_i2h_weight", (200, 20), "lstm", "dense_out_in", 1, 4, (20, 50)),
    ("lstm_h2h", _lstm, "l0_h2h_weight", (200, 50), "lstm", "dense_out_in", 1, 4, (50, 50)),
    ("gru_i2h", _gru, "l0_i2h_weight", (150, 20), "gru", "dense_out_in", 1, 3, (20, 50)),
    ("gru_h2h", _gru, "l0_h2h_weight", (150, 50), "gru", "dense_out_in", 1, 3, (50, 50)),
    ("rnn_i2h", _rnn, "l0_i2h_weight", (50, 20), "rnn", "dense_out_in", 1, 1, (20, 50)),
    ("lstm_cell_h2h", _lstm_cell, "h2h_weight", (200, 50), "lstm", "dense_out_in", 1, 4, (50, 50)),
]
LAYER_PARAMS = [pytest.param(*layer[1:], id=layer[0]) for layer in LAYERS]


@pytest.mark.parametrize(
    ("build", "param", "shape", "kind", "layout", "groups", "blocks", "fans"), LAYER_PARAMS
)
def test_initialize_reads_each_layer_with_the_core_fans(
    mx: Any,
    oim: Any,
    build: Any,
    param: str,
    shape: Any,
    kind: str,
    layout: str,
    groups: int,
    blocks: int,
    fans: tuple[int, int],
) -> None:
    layer = build(mx)
    report = oim.initialize(layer, oneinit.HeUniform(), seed=0)
    row = report[param]
    assert row.shape == shape
    assert row.kind == kind
    assert row.layout == layout
    expected = oneinit.compute_fans(shape, layout, groups=groups, blocks=blocks)
    assert (row.fans.fan_in, row.fans.fan_out) == fans == (expected.fan_in, expected.fan_out)
    assert row.status == "initialized"


@pytest.mark.parametrize(
    ("build", "param", "shape", "kind", "layout", "groups", "blocks", "fans"), LAYER_PARAMS
)
def test_native_fill_passes_the_core_bound_to_mxnet(
    mx: Any,
    oim: Any,
    monkeypatch: pytest.MonkeyPatch,
    build: Any,
    param: str,
    shape: Any,
    kind: str,
    layout: str,
    groups: int,
    blocks: int,
    fans: tuple[int, int],
) -> None:
    calls = _record(mx, monkeypatch, "uniform")
    layer = build(mx)
    oim.initialize(layer, Rules(Rule(oneinit.GlorotUniform(), role="weight")), seed=None)
    core = oneinit.compute_fans(shape, layout, groups=groups, blocks=blocks)
    bound = oneinit.GlorotUniform().distribution_for(core).high
    assert (-bound, bound, shape) in calls


@pytest.mark.parametrize(
    ("build", "param", "shape", "kind", "layout", "groups", "blocks", "fans"), LAYER_PARAMS
)
@pytest.mark.parametrize("factor", ["in", "out", "avg"])
def test_mxnet_fan_convention_equals_mxnet_xavier(
    mx: Any,
    oim: Any,
    monkeypatch: pytest.MonkeyPatch,
    build: Any,
    param: str,
    shape: Any,
    kind: str,
    layout: str,
    groups: int,
    blocks: int,
    fans: tuple[int, int],
    factor: str,
) -> None:
    calls = _record(mx, monkeypatch, "uniform")
    mx.init.Xavier("uniform", factor, 3.0)(mx.init.InitDesc("w_weight"), mx.nd.zeros(shape))
    ((_, xavier_bound, _),) = calls
    mode = {"in": "fan_in", "out": "fan_out", "avg": "fan_avg"}[factor]
    scheme = oneinit.VarianceScaling(1.0, mode, "uniform")
    report = oim.initialize(build(mx), Rule(scheme, role="weight"), fan_convention="mxnet")
    row = report[param]
    assert row.fans == oneinit.compute_fans(shape, fan_convention="mxnet")
    assert scheme.distribution_for(row.fans).high == pytest.approx(xavier_bound, rel=1e-14)


def _record(mx: Any, monkeypatch: pytest.MonkeyPatch, what: str) -> list[Any]:
    """Record ``(a, b, shape)`` of every ``mx.nd.random.<what>`` call (MXNet's and ours)."""
    calls: list[Any] = []
    original = getattr(mx.nd.random, what)

    def recording(a: float, b: float, shape: Any = None, **kwargs: Any) -> Any:
        out = kwargs.get("out")
        calls.append((a, b, tuple(out.shape) if out is not None else tuple(shape)))
        return original(a, b, shape, **kwargs)

    monkeypatch.setattr(mx.nd.random, what, recording)
    monkeypatch.setattr(mx.random, what, recording)
    return calls


def test_bias_fans_come_from_the_layer_weight(mx: Any, oim: Any) -> None:
    report = oim.initialize(_transpose2d(mx), None, seed=0, profile="torch")
    assert report["bias"].fans == oneinit.compute_fans((16, 32, 3, 3), "conv_transpose_in_out")
    assert report["bias"].fans_from == "layer"


def test_channels_last_conv_has_the_fans_and_values_of_channels_first(mx: Any, oim: Any) -> None:
    first, last = _conv2d(mx), _conv2d_nhwc(mx)
    assert last.weight.shape == (32, 3, 3, 16)
    rows = [oim.initialize(layer, oneinit.HeNormal(), seed=5)["weight"] for layer in (first, last)]
    assert rows[0].fans == rows[1].fans
    moved = np.moveaxis(first.weight.data().asnumpy(), 1, -1)
    _assert_bit_equal(last.weight.data(), moved)


# --------------------------------------------------------------------------------------------
# Registry and serialization.

EXAMPLES: list[tuple[str, dict[str, Any]]] = [
    ("GlorotUniform", {"gain": 2.0}),
    ("GlorotNormal", {"distribution": "truncated_normal"}),
    ("HeUniform", {"mode": "fan_out"}),
    ("HeNormal", {"negative_slope": 0.1, "nonlinearity": "leaky_relu"}),
    ("LecunUniform", {}),
    ("LecunNormal", {}),
    ("VarianceScaling", {"scale": 0.5, "mode": "fan_avg", "distribution": "uniform"}),
    ("TruncatedNormal", {"std": 0.02, "lower": -2.0, "upper": 2.0, "units": "absolute"}),
    ("Uniform", {"low": -0.07, "high": 0.07}),
    ("Normal", {"std": 0.01}),
    ("Constant", {"value": 0.25}),
    ("Zeros", {}),
    ("Ones", {}),
    ("Orthogonal", {"gain": 1.5}),
    ("DeltaOrthogonal", {}),
    ("Identity", {"gain": 0.5}),
    ("Dirac", {}),
    ("Sparse", {"sparsity": 0.25}),
    ("Bilinear", {}),
]
SHAPES = {"Identity": (6, 6), "Sparse": (8, 4), "Bilinear": (4, 1, 4, 4)}


@pytest.mark.parametrize(("name", "kwargs"), [pytest.param(*e, id=e[0]) for e in EXAMPLES])
def test_dumps_and_create_round_trip(mx: Any, oim: Any, name: str, kwargs: dict[str, Any]) -> None:
    init = getattr(oim, name)(**kwargs, seed=3)
    dumped = init.dumps()
    registry_name, _ = json.loads(dumped)
    assert registry_name == "oneinit_" + name.lower()
    again = mx.init.create(dumped)
    assert type(again) is type(init)
    assert again == init
    assert again.scheme == getattr(oneinit, name)(**kwargs)
    shape = SHAPES.get(name, (8, 4, 3, 3))
    first, second = mx.nd.zeros(shape), mx.nd.zeros(shape)
    init(mx.init.InitDesc("a_weight"), first)
    again(mx.init.InitDesc("a_weight"), second)
    _assert_bit_equal(first, second)


def test_generic_initializer_round_trips_any_scheme(mx: Any, oim: Any) -> None:
    scheme = oneinit.Assign([[1.0, 2.0], [3.0, 4.0]], layout="dense_in_out")
    init = oim.Initializer(scheme, layout="dense_out_in", seed=1)
    again = mx.init.create(init.dumps())
    assert type(again) is oim.Initializer and again.scheme == scheme
    arr = mx.nd.zeros((2, 2))
    again(mx.init.InitDesc("w_weight"), arr)
    assert arr.asnumpy().tolist() == [[1.0, 3.0], [2.0, 4.0]]


def test_registry_names_cannot_collide_with_mxnet(mx: Any, oim: Any) -> None:
    registry = mx.registry.get_registry(mx.init.Initializer)
    ours = {name: cls for name, cls in registry.items() if cls.__module__ == oim.__name__}
    assert len(ours) >= len(EXAMPLES) + 2
    assert all(name.startswith("oneinit_") for name in ours)
    for name in ("uniform", "normal", "constant", "orthogonal", "bilinear", "zeros", "ones"):
        assert registry[name].__module__ == "mxnet.initializer"
    assert mx.init.create("oneinit_kaimingnormal") == oim.HeNormal()


def test_symbol_json_resolves_the_initializer(mx: Any, oim: Any) -> None:
    weight = mx.sym.Variable("fc_weight", init=oim.HeNormal(mode="fan_out", seed=9))
    loaded = mx.sym.load_json(weight.tojson())
    init = mx.init.create(loaded.attr("__init__"))
    assert init == oim.HeNormal(mode="fan_out", seed=9)


def test_repr_names_the_scheme_and_options(oim: Any) -> None:
    assert repr(oim.HeNormal(mode="fan_out", seed=0)) == "HeNormal(mode='fan_out', seed=0)"
    assert repr(oim.Initializer(oneinit.Ones(), groups=2)) == "Initializer(Ones(), groups=2)"


# --------------------------------------------------------------------------------------------
# Dispatch: every path MXNet has gives the scheme's values, never zeros or ones.

NAMES = [
    "fc_weight",
    "fc_bias",
    "bn_gamma",
    "bn_beta",
    "bn_moving_mean",
    "bn_moving_var",
    "bn_running_mean",
    "upsampling0_weight",
    "stn_loc_bias",
    "q_min",
    "q_max",
    "act_alpha",
]


def _gluon_own(mx: Any, init: Any, name: str, arr: Any) -> None:
    param = mx.gluon.Parameter(name, shape=arr.shape, init=init)
    param.initialize(ctx=mx.cpu())
    arr[:] = param.data()


def _gluon_global(mx: Any, init: Any, name: str, arr: Any) -> None:
    param = mx.gluon.Parameter(name, shape=arr.shape)
    param.initialize(default_init=init, ctx=mx.cpu())
    arr[:] = param.data()


PATHS: dict[str, Callable[[Any, Any, str, Any], None]] = {
    "gluon_own_init": _gluon_own,
    "gluon_global_init": _gluon_global,
    "initdesc_suffix": lambda mx, init, name, arr: init(mx.init.InitDesc(name), arr),
    "initdesc_attr": lambda mx, init, name, arr: mx.init.Uniform()(
        mx.init.InitDesc(name, {"__init__": init.dumps()}), arr
    ),
    "legacy_name": lambda mx, init, name, arr: init(name, arr),
    "mixed": lambda mx, init, name, arr: mx.init.Mixed([".*"], [init])(name, arr),
    "load_default": lambda mx, init, name, arr: mx.init.Load({}, default_init=init)(name, arr),
}


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("path", list(PATHS))
def test_every_dispatch_path_applies_the_scheme(mx: Any, oim: Any, path: str, name: str) -> None:
    arr = mx.nd.zeros((6,))
    PATHS[path](mx, oim.Constant(0.5), name, arr)
    assert arr.asnumpy().tolist() == [0.5] * 6


@pytest.mark.parametrize("path", list(PATHS))
def test_every_dispatch_path_gives_the_seeded_values(mx: Any, oim: Any, path: str) -> None:
    arr = mx.nd.zeros((6, 4))
    PATHS[path](mx, oim.GlorotUniform(seed=1), "fc_bias", arr)
    _assert_bit_equal(arr, oneinit.GlorotUniform().sample((6, 4), seed=1, key=0, layout="linear"))


def test_mxnet_mixed_gives_zeros_where_rules_give_the_scheme(mx: Any, oim: Any) -> None:
    """The MXNet quirk (frameworks.md Q19) this adapter exists to avoid, still present."""
    theirs, ours = mx.nd.ones((4,)), mx.nd.ones((4,))
    with pytest.warns(DeprecationWarning, match="deprecated"):
        mx.init.Mixed([".*bias"], [mx.init.Constant(0.5)])("fc_bias", theirs)
    oim.Rules([(r".*bias", oneinit.Constant(0.5))])("fc_bias", ours)
    assert theirs.asnumpy().tolist() == [0.0] * 4
    assert ours.asnumpy().tolist() == [0.5] * 4


def test_rules_first_match_wins_and_mxnet_initializers_get_their_weight_rule(
    mx: Any, oim: Any
) -> None:
    rules = oim.Rules(
        [
            (r"i2h_bias$", mx.init.LSTMBias(forget_bias=1.0)),
            (r"bias$", mx.init.Constant(0.5)),
            (r"gamma$", oim.Ones()),
            (r".*", oneinit.HeNormal()),
        ]
    )
    lstm_bias, bias, gamma = mx.nd.zeros((8,)), mx.nd.zeros((3,)), mx.nd.zeros((3,))
    rules(mx.init.InitDesc("lstm0_l0_i2h_bias"), lstm_bias)
    rules(mx.init.InitDesc("dense0_bias"), bias)
    rules("bn_gamma", gamma)
    assert lstm_bias.asnumpy().tolist() == [0, 0, 1, 1, 0, 0, 0, 0]
    assert bias.asnumpy().tolist() == [0.5] * 3
    assert gamma.asnumpy().tolist() == [1.0] * 3


def test_rules_with_a_seed_advance_the_key_per_array(mx: Any, oim: Any) -> None:
    rules = oim.Rules([(r".*", oneinit.HeNormal())], seed=4)
    first, second = mx.nd.zeros((5, 3)), mx.nd.zeros((5, 3))
    rules("a_weight", first)
    rules("b_weight", second)
    for key, arr in enumerate((first, second)):
        _assert_bit_equal(arr, oneinit.HeNormal().sample((5, 3), seed=4, key=key, layout="linear"))


def test_rules_round_trip_through_dumps(mx: Any, oim: Any) -> None:
    rules = oim.Rules(
        [(r"bias$", mx.init.Constant(0.5)), (r".*", oneinit.HeNormal(mode="fan_out"))], seed=2
    )
    again = mx.init.create(rules.dumps())
    assert type(again) is oim.Rules and again == rules
    assert isinstance(again.target("x_bias"), mx.init.Constant)
    assert again.target("x_weight") == oneinit.HeNormal(mode="fan_out")


def test_module_api_init_params_applies_rules(mx: Any, oim: Any) -> None:
    data = mx.sym.Variable("data")
    net = mx.sym.FullyConnected(data, num_hidden=4, name="fc")
    module = mx.mod.Module(net, data_names=["data"], label_names=None, context=mx.cpu())
    module.bind(data_shapes=[("data", (2, 3))], for_training=False)
    rules = oim.Rules([(r"bias$", oneinit.Constant(0.5)), (r".*", oneinit.HeNormal())], seed=0)
    module.init_params(initializer=rules)
    args, _ = module.get_params()
    assert args["fc_bias"].asnumpy().tolist() == [0.5] * 4
    # Module visits its parameters by sorted name: fc_bias (key 0), then fc_weight (key 1).
    _assert_bit_equal(
        args["fc_weight"], oneinit.HeNormal().sample((4, 3), seed=0, key=1, layout="linear")
    )


# --------------------------------------------------------------------------------------------
# Gluon net.initialize: deferred shapes, context lists, per-call keys.


def test_net_initialize_with_deferred_shapes_and_a_context_list(mx: Any, oim: Any) -> None:
    net = mx.gluon.nn.HybridSequential()
    net.add(mx.gluon.nn.Dense(8), mx.gluon.nn.Dense(4))
    contexts = [mx.cpu(0), mx.cpu(1)]
    net.initialize(oim.HeNormal(seed=7), ctx=contexts, force_reinit=True)
    net(mx.nd.ones((2, 5), ctx=mx.cpu(0)))
    for key, (attr, shape) in enumerate((("0.weight", (8, 5)), ("1.weight", (4, 8)))):
        param = _named(net)[attr]
        expected = oneinit.HeNormal().sample(shape, seed=7, key=key, layout="linear")
        for ctx in contexts:
            _assert_bit_equal(param.data(ctx), expected)
    bias = _named(net)["0.bias"]
    assert bias.data().asnumpy().tolist() == [0.0] * 8  # its own initializer ("zeros") wins


def test_one_seeded_instance_gives_different_layers_different_values(mx: Any, oim: Any) -> None:
    net = mx.gluon.nn.HybridSequential()
    net.add(mx.gluon.nn.Dense(6, in_units=6), mx.gluon.nn.Dense(6, in_units=6))
    net.initialize(oim.Normal(seed=0))
    first, second = (layer.weight.data().asnumpy() for layer in net)
    assert not np.array_equal(first, second)


def test_net_initialize_native_fill_follows_mx_random_seed(mx: Any, oim: Any) -> None:
    values = []
    for _ in range(2):
        mx.random.seed(11)
        layer = mx.gluon.nn.Dense(16, in_units=8)
        layer.initialize(oim.TruncatedNormal(std=0.3), force_reinit=True)
        values.append(layer.weight.data().asnumpy())
    _assert_bit_equal(values[0], values[1])


def test_weight_initializer_argument_with_layout(mx: Any, oim: Any) -> None:
    init = oim.HeUniform(layout="conv_transpose_in_out", groups=4, seed=2)
    layer = mx.gluon.nn.Conv2DTranspose(32, 3, in_channels=16, groups=4, weight_initializer=init)
    layer.initialize()
    expected = oneinit.HeUniform().sample(
        (16, 8, 3, 3), seed=2, key=0, layout="conv_transpose_in_out", groups=4
    )
    _assert_bit_equal(layer.weight.data(), expected)


# --------------------------------------------------------------------------------------------
# Statistics of native fills: exact bounds, moments and a KS distance, with tolerances from the
# sample size (6 standard errors; KS at alpha = 1e-9), fixed seeds.

STAT_SHAPE = (1024, 1024)  # fans (1024, 1024)
N = math.prod(STAT_SHAPE)
STAT_SCHEMES = [
    pytest.param(oneinit.GlorotUniform(), id="glorot_uniform"),
    pytest.param(oneinit.HeUniform(), id="he_uniform"),
    pytest.param(oneinit.HeNormal(), id="he_normal"),
    pytest.param(oneinit.GlorotNormal(distribution="truncated_normal"), id="glorot_truncated"),
    pytest.param(oneinit.LecunNormal(distribution="truncated_normal"), id="lecun_truncated"),
    pytest.param(oneinit.VarianceScaling(2.0, "fan_avg", "truncated_normal"), id="vs_truncated"),
    pytest.param(oneinit.TruncatedNormal(0.1, 0.5, -1.0, 3.0), id="truncated_asymmetric"),
    pytest.param(oneinit.TruncatedNormal(0.0, 0.02, -2.0, 2.0, "absolute"), id="truncated_abs"),
    pytest.param(oneinit.TruncatedNormal(0.0, 1.0, -math.inf, 0.5), id="truncated_one_sided"),
    pytest.param(oneinit.Uniform(-0.07, 0.07), id="uniform"),
    pytest.param(oneinit.Normal(0.5, 0.01), id="normal"),
]


def _cdf(dist: Any, x: np.ndarray) -> np.ndarray:
    erf = np.vectorize(math.erf)
    if isinstance(dist, oneinit.UniformDistribution):
        return np.clip((x - dist.low) / (dist.high - dist.low), 0.0, 1.0)
    phi = lambda z: 0.5 * (1.0 + erf(np.asarray(z, dtype=np.float64) / math.sqrt(2.0)))  # noqa: E731
    z = (x - dist.mean) / dist.std
    lo, hi = phi(dist.lower), phi(dist.upper)
    return np.clip((phi(z) - lo) / (hi - lo), 0.0, 1.0)


@pytest.mark.parametrize("scheme", STAT_SCHEMES)
def test_native_fill_statistics(mx_seeded: Any, oim: Any, scheme: Any) -> None:
    mx = mx_seeded
    arr = oim.fill(mx.nd.zeros(STAT_SHAPE), scheme)
    values = arr.asnumpy().astype(np.float64).ravel()
    dist = scheme.distribution_for(oneinit.compute_fans(STAT_SHAPE, "dense_out_in"))
    if isinstance(dist, oneinit.UniformDistribution):
        mean, std = dist.mean, dist.std
        low, high = dist.low, dist.high
    else:
        mean, std = dist.actual_mean, dist.actual_std
        low, high = dist.low, dist.high
    assert values.min() >= np.float32(low) and values.max() <= np.float32(high)
    assert abs(values.mean() - mean) <= 6 * std / math.sqrt(N)
    # sd of the sample std is std * sqrt((kurtosis - 1) / (4 n)) <= std / sqrt(2 n) here.
    assert abs(values.std() - std) <= 6 * std / math.sqrt(2 * N)
    grid = np.quantile(values, np.linspace(0.005, 0.995, 199))
    empirical = np.searchsorted(np.sort(values), grid, side="right") / N
    assert np.max(np.abs(empirical - _cdf(dist, grid))) <= math.sqrt(math.log(2 / 1e-9) / (2 * N))


def test_native_truncated_normal_uses_erfinv_without_host_round_trip(
    mx: Any, oim: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(mx.nd.NDArray, "asnumpy", _forbidden)
    arr = mx.nd.zeros((64, 64))
    oim.fill(arr, oneinit.HeNormal(distribution="truncated_normal"))
    monkeypatch.undo()
    bound = (
        oneinit.HeNormal(distribution="truncated_normal")
        .distribution_for(oneinit.compute_fans((64, 64), "dense_out_in"))
        .high
    )
    assert 0 < np.abs(arr.asnumpy()).max() <= np.float32(bound)


def _forbidden(*args: Any) -> None:
    raise AssertionError("a native fill copied to the host")


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_native_fill_keeps_the_dtype(mx_seeded: Any, oim: Any, dtype: str) -> None:
    arr = oim.fill(
        mx_seeded.nd.zeros((256, 256), dtype=dtype),
        oneinit.GlorotNormal(distribution="truncated_normal"),
    )
    assert arr.dtype == np.dtype(dtype)
    assert np.isfinite(arr.asnumpy()).all()


@pytest.mark.parametrize("scheme", [pytest.param(oneinit.HeNormal(distribution="truncated_normal"),
                                                  id="truncated"),
                                     pytest.param(oneinit.GlorotUniform(), id="uniform")])
def test_numpy_mode_arrays_are_filled(mx: Any, oim: Any, scheme: Any) -> None:
    mx.npx.set_np()
    try:
        layer = mx.gluon.nn.Dense(8, in_units=4, weight_initializer=oim.Initializer(scheme))
        layer.initialize()
        values = layer.weight.data()
        assert isinstance(values, mx.np.ndarray)
        bound = scheme.distribution_for(oneinit.compute_fans((8, 4), "linear")).high
        assert 0 < float(abs(values).max()) <= np.float32(bound)
    finally:
        mx.npx.reset_np()


def test_native_structured_scheme_is_orthogonal_and_follows_mx_seed(mx: Any, oim: Any) -> None:
    results = []
    for _ in range(2):
        mx.random.seed(3)
        results.append(oim.fill(mx.nd.zeros((32, 64)), oneinit.Orthogonal()).asnumpy())
    _assert_bit_equal(results[0], results[1])
    gram = results[0].astype(np.float64) @ results[0].T.astype(np.float64)
    assert np.abs(gram - np.eye(32)).max() < 1e-5


# --------------------------------------------------------------------------------------------
# Portable values: bit for bit the core's, after the layout transpose.

VALUE_SCHEMES: list[tuple[str, oneinit.Scheme]] = [
    ("glorot_uniform", oneinit.GlorotUniform()),
    ("he_normal", oneinit.HeNormal()),
    ("lecun_truncated", oneinit.LecunNormal(distribution="truncated_normal")),
    ("orthogonal", oneinit.Orthogonal()),
    ("sparse", oneinit.Sparse(0.3)),  # 2-D weights only
    ("dirac", oneinit.Dirac()),  # convolutions only
    ("constant", oneinit.Constant(0.5)),
]
VALUE_CASES = [
    pytest.param(scheme, *layer[1:], id=f"{name}-{layer[0]}")
    for name, scheme in VALUE_SCHEMES
    for layer in LAYERS
    if not (name == "sparse" and len(layer[3]) != 2)
    and not (name == "dirac" and (len(layer[3]) < 3 or layer[4] == "conv_transpose"))
]


@pytest.mark.parametrize(
    ("scheme", "build", "param", "shape", "kind", "layout", "groups", "blocks", "fans"),
    VALUE_CASES,
)
def test_initialize_values_equal_the_core_sample_in_canonical_layout(
    mx: Any,
    oim: Any,
    scheme: Any,
    build: Any,
    param: str,
    shape: Any,
    kind: str,
    layout: str,
    groups: int,
    blocks: int,
    fans: tuple[int, int],
) -> None:
    layer = build(mx)
    oim.initialize(layer, Rule(scheme, role="weight"), seed=SEED)
    stored = _named(layer)[param].data().asnumpy()
    core_fans = oneinit.compute_fans(shape, layout, groups=groups, blocks=blocks)
    canonical = oneinit.canonical_shape(shape, layout, groups=groups)
    expected = scheme.sample(
        canonical, seed=SEED, key=param, fans=core_fans, groups=groups, blocks=blocks
    )
    _assert_bit_equal(oneinit.to_canonical(stored, layout, groups=groups), expected)


@pytest.mark.parametrize("dtype", ["float16", "float64"])
def test_portable_values_are_cast_once(mx: Any, oim: Any, dtype: str) -> None:
    layer = mx.gluon.nn.Dense(8, in_units=4, dtype=dtype)
    oim.initialize(layer, oneinit.HeNormal(), seed=1)
    expected = oneinit.HeNormal().sample((8, 4), seed=1, key="weight", layout="linear", dtype=dtype)
    _assert_bit_equal(layer.weight.data(), expected)


def test_fill_equals_core_sample(mx: Any, oim: Any) -> None:
    arr = oim.fill(
        mx.nd.zeros((16, 8, 3, 3)),
        oneinit.GlorotNormal(),
        seed=3,
        key="k",
        layout="conv_transpose",
        groups=2,
    )
    expected = oneinit.GlorotNormal().sample(
        (16, 8, 3, 3), seed=3, key="k", layout="conv_transpose", groups=2
    )
    _assert_bit_equal(arr, expected)


# --------------------------------------------------------------------------------------------
# initialize(): the whole model and its report.


def _model(mx: Any) -> Any:
    nn = mx.gluon.nn
    net = nn.HybridSequential()
    net.add(
        nn.Conv2D(8, 3, in_channels=3),
        nn.BatchNorm(in_channels=8),
        nn.PReLU(),
        nn.Dense(5, in_units=8 * 6 * 6),
        nn.LayerNorm(in_channels=5),
    )
    return net


def test_initialize_report_and_roles(mx: Any, oim: Any) -> None:
    net = _model(mx)
    report = oim.initialize(net, oneinit.HeNormal(), seed=0)
    assert [row.name for row in report] == [
        "0.weight",
        "0.bias",
        "1.gamma",
        "1.beta",
        "2.alpha",
        "3.weight",
        "3.bias",
        "4.gamma",
        "4.beta",
    ]
    assert report.unmatched == ["2.alpha"]
    params = _named(net)
    assert params["2.alpha"].data().asnumpy().tolist() == [0.25]  # its own initializer
    for name, value in (("0.bias", 0.0), ("1.gamma", 1.0), ("1.beta", 0.0), ("4.gamma", 1.0)):
        assert set(params[name].data().asnumpy().tolist()) == {value}
    bn = net[1]
    assert set(bn.running_var.data().asnumpy().tolist()) == {1.0}  # state, not touched
    assert "3.weight" in str(report) and report["3.weight"].status == "initialized"


def test_initialize_twice_built_models_are_identical(mx: Any, oim: Any) -> None:
    first, second = _model(mx), _model(mx)  # Gluon's global name counters differ
    assert first[0].weight.name != second[0].weight.name
    for net in (first, second):
        oim.initialize(net, oneinit.GlorotUniform(), seed=42)
    for a, b in zip(first.collect_params().values(), second.collect_params().values(), strict=True):
        _assert_bit_equal(a.data(), b.data())


def test_initialize_fills_initialized_parameters_in_place_on_every_context(
    mx: Any, oim: Any
) -> None:
    layer = mx.gluon.nn.Dense(6, in_units=4)
    layer.initialize(ctx=[mx.cpu(0), mx.cpu(1)])
    arrays = layer.weight.list_data()
    oim.initialize(layer, oneinit.HeUniform(), seed=8)
    assert layer.weight.list_data()[0] is arrays[0]
    expected = oneinit.HeUniform().sample((6, 4), seed=8, key="weight", layout="linear")
    for arr in arrays:
        _assert_bit_equal(arr, expected)


@pytest.mark.parametrize("seed", [None, 3], ids=["native", "portable"])
@pytest.mark.parametrize(
    "scheme",
    [pytest.param(oneinit.HeNormal(distribution="truncated_normal"), id="truncated"),
     pytest.param(oneinit.Orthogonal(), id="orthogonal"),
     pytest.param(oneinit.Constant(0.5), id="constant")],
)
def test_initialize_after_a_forward_pass(mx: Any, oim: Any, scheme: Any, seed: Any) -> None:
    """oneDNN keeps conv weights in its own layout after a forward pass; refilling works."""
    layer = _conv2d(mx)
    layer.initialize()
    layer(mx.nd.ones((1, 16, 8, 8))).wait_to_read()
    oim.initialize(layer, Rule(scheme, role="weight"), seed=seed)
    values = layer.weight.data().asnumpy()
    if seed is not None:
        expected = scheme.sample((32, 16, 3, 3), seed=seed, key="weight", layout="conv")
        _assert_bit_equal(values, expected)
    elif isinstance(scheme, oneinit.Constant):
        assert set(values.ravel().tolist()) == {0.5}
    else:
        assert np.isfinite(values).all() and values.std() > 0


def test_initialize_deferred_parameters_are_filled_at_the_first_forward(mx: Any, oim: Any) -> None:
    net = mx.gluon.nn.HybridSequential()
    net.add(mx.gluon.nn.Dense(4), mx.gluon.nn.BatchNorm())
    report = oim.initialize(net, oneinit.HeNormal(), seed=6)
    assert report["0.weight"].status == "lazy" and report["0.weight"].fans is None
    net(mx.nd.ones((2, 7)))
    weight = _named(net)["0.weight"]
    expected = oneinit.HeNormal().sample((4, 7), seed=6, key="0.weight", layout="linear")
    _assert_bit_equal(weight.data(), expected)


def test_initialize_recurrent_rule_gives_orthogonal_gates(mx: Any, oim: Any) -> None:
    rules = Rules(
        Rule(oneinit.Orthogonal(), role="recurrent"),
        Rule(oneinit.GlorotUniform(), role="weight"),
        Rule(oneinit.Zeros(), role="bias"),
    )
    layer = _lstm(mx)
    report = oim.initialize(layer, rules, seed=1)
    assert report["l0_h2h_weight"].rule.startswith("#1")
    weight = layer.l0_h2h_weight.data().asnumpy().astype(np.float64)
    for gate in np.split(weight, 4):
        assert np.abs(gate @ gate.T - np.eye(50)).max() < 1e-5


def test_initialize_shared_parameters_once(mx: Any, oim: Any) -> None:
    net = mx.gluon.nn.HybridSequential()
    first = mx.gluon.nn.Dense(4, in_units=4)
    net.add(first, mx.gluon.nn.Dense(4, in_units=4, params=first.collect_params()))
    report = oim.initialize(net, oneinit.HeNormal(), seed=0)
    assert [row.name for row in report] == ["0.weight", "0.bias"]


@pytest.mark.parametrize("seed", [None, SEED], ids=["native", "portable"])
@pytest.mark.parametrize("ignore", [None, "blocks"], ids=["per_gate", "whole"])
def test_rule_ignoring_blocks_gives_one_orthogonal_matrix_over_all_gates(
    mx_seeded: Any, oim: Any, ignore: Any, seed: Any
) -> None:
    mx = mx_seeded
    layer = mx.gluon.rnn.LSTM(8, input_size=5)  # h2h stored (4H, H) = (32, 8): canonical
    orthogonal = Rule(oneinit.Orthogonal(), role="recurrent", ignore=ignore)
    rules = Rules(orthogonal, Rule(oneinit.Zeros()))
    oim.initialize(layer, rules, seed=seed)
    weight = layer.l0_h2h_weight.data().asnumpy().astype(np.float64)
    gates = np.split(weight, 4)
    gate_error = max(np.abs(g @ g.T - np.eye(8)).max() for g in gates)
    whole_error = np.abs(weight.T @ weight - np.eye(8)).max()
    if ignore is None:  # each (H, H) gate orthogonal, so the columns have norm 2
        assert gate_error < 1e-5 and whole_error > 1
    else:  # the columns of the whole (4H, H) matrix orthonormal; no gate is
        assert whole_error < 1e-5 and gate_error > 0.1
    if seed is not None:
        expected = oneinit.Orthogonal().sample(
            (32, 8), seed=seed, key="l0_h2h_weight", blocks=1 if ignore else 4
        )
        _assert_bit_equal(layer.l0_h2h_weight.data(), expected)


# --------------------------------------------------------------------------------------------
# names=: canonical names for rules, the report and the portable keys.

#: Own names (attribute paths) of _names_model -> canonical names; "1.l0_*_bias", "2.bias" kept.
CANONICAL = {
    "0.weight": "embed.weight",
    "1.l0_i2h_weight": "lstm.weight_ih",
    "1.l0_h2h_weight": "lstm.weight_hh",
    "2.weight": "head.weight",
}


def _names_model(mx: Any) -> Any:
    net = mx.gluon.nn.HybridSequential()
    net.add(
        mx.gluon.nn.Embedding(10, 4),
        mx.gluon.rnn.LSTM(6, input_size=4),
        mx.gluon.nn.Dense(3, in_units=6),
    )
    return net


#: Every parameter random, biases included, so each one's stream key shows in its values.
NAMES_RULES = Rules(Rule(oneinit.Normal(std=0.1), role="bias"), Rule(oneinit.GlorotUniform()))


@pytest.mark.parametrize(
    "names",
    [pytest.param(CANONICAL, id="mapping"), pytest.param(CANONICAL.get, id="callable")],
)
def test_names_key_the_values_and_name_the_report_rows(mx: Any, oim: Any, names: Any) -> None:
    net = _names_model(mx)
    report = oim.initialize(net, NAMES_RULES, seed=SEED, names=names)
    assert [row.name for row in report] == [
        "embed.weight",
        "lstm.weight_ih",
        "lstm.weight_hh",
        "1.l0_i2h_bias",
        "1.l0_h2h_bias",
        "head.weight",
        "2.bias",
    ]
    assert "head.weight" in str(report) and "2.weight" not in str(report)
    params = _named(net)
    for own, key, shape, layout, blocks in [
        ("0.weight", "embed.weight", (10, 4), "embedding", 1),
        ("1.l0_i2h_weight", "lstm.weight_ih", (24, 4), "dense_out_in", 4),
        ("1.l0_h2h_weight", "lstm.weight_hh", (24, 6), "dense_out_in", 4),
        ("2.weight", "head.weight", (3, 6), "dense_out_in", 1),
    ]:
        values = params[own].data()
        expected = oneinit.GlorotUniform().sample(
            shape, seed=SEED, key=key, layout=layout, blocks=blocks
        )
        _assert_bit_equal(values, expected)
        own_key = oneinit.GlorotUniform().sample(
            shape, seed=SEED, key=own, layout=layout, blocks=blocks
        )
        assert not np.array_equal(values.asnumpy(), own_key)
    # Parameters the names leave out keep their own name as their key.
    for own, size in (("1.l0_i2h_bias", 24), ("2.bias", 3)):
        expected = oneinit.Normal(std=0.1).sample((size,), seed=SEED, key=own)
        _assert_bit_equal(params[own].data(), expected)


def test_name_rules_match_the_canonical_names(mx: Any, oim: Any) -> None:
    net = _names_model(mx)
    rules = Rules(
        Rule(oneinit.Constant(0.5), name="head.weight"),
        Rule(oneinit.Constant(0.25), regex=r"^lstm\.weight_"),
        Rule(oneinit.Constant(0.75), name="2.weight"),  # the own name: no longer matches
        Rule(oneinit.Zeros()),
    )
    report = oim.initialize(net, rules, names=CANONICAL)
    params = _named(net)
    assert set(params["2.weight"].data().asnumpy().ravel().tolist()) == {0.5}
    for own in ("1.l0_i2h_weight", "1.l0_h2h_weight"):
        assert set(params[own].data().asnumpy().ravel().tolist()) == {0.25}
    assert report["head.weight"].rule.startswith("#1")
    assert report["lstm.weight_hh"].rule.startswith("#2")
    assert report["embed.weight"].rule.startswith("#4")


def test_names_of_a_shared_layer_name_its_one_parameter_set(mx: Any, oim: Any) -> None:
    net = mx.gluon.nn.HybridSequential()
    first = mx.gluon.nn.Dense(4, in_units=4)
    net.add(first, mx.gluon.nn.Dense(4, in_units=4, params=first.collect_params()))
    names = {"0.weight": "mid.weight", "0.bias": "mid.bias"}
    report = oim.initialize(net, oneinit.HeNormal(), seed=0, names=names)
    assert [row.name for row in report] == ["mid.weight", "mid.bias"]
    expected = oneinit.HeNormal().sample((4, 4), seed=0, key="mid.weight", layout="linear")
    _assert_bit_equal(net[1].weight.data(), expected)
    with pytest.raises(ValueError, match=r"'1\.weight'"):  # the second path is not a parameter
        oim.initialize(net, oneinit.HeNormal(), seed=0, names={"1.weight": "mid.weight"})


def test_names_key_a_deferred_parameter_at_its_first_forward(mx: Any, oim: Any) -> None:
    net = mx.gluon.nn.HybridSequential()
    net.add(mx.gluon.nn.Dense(4))
    report = oim.initialize(net, oneinit.HeNormal(), seed=6, names={"0.weight": "fc.weight"})
    assert report["fc.weight"].status == "lazy"
    net(mx.nd.ones((2, 7)))
    expected = oneinit.HeNormal().sample((4, 7), seed=6, key="fc.weight", layout="linear")
    _assert_bit_equal(net[0].weight.data(), expected)


def test_names_errors_name_the_parameters(mx: Any, oim: Any) -> None:
    """names= is checked by the core's canonical_names, on the attribute paths."""
    net = _names_model(mx)
    unknown = r"does not have: 'dense0_weight'\. Its parameters are: '0\.weight', '1\.l0_i2h"
    with pytest.raises(ValueError, match=unknown):
        oim.initialize(net, oneinit.HeNormal(), names={"dense0_weight": "fc.weight"})
    twice = {"0.weight": "head.weight", "2.weight": "head.weight"}
    with pytest.raises(ValueError, match=r"'head\.weight': '0\.weight' and '2\.weight'"):
        oim.initialize(net, oneinit.HeNormal(), names=twice)
    with pytest.raises(TypeError, match=r"names\['0\.weight'\]=3"):
        oim.initialize(net, oneinit.HeNormal(), names={"0.weight": 3})
    with pytest.raises(TypeError, match=r"names must map parameter names \(str\)"):
        oim.initialize(net, oneinit.HeNormal(), names={0: "fc.weight"})
    with pytest.raises(TypeError, match="names must be a mapping"):
        oim.initialize(net, oneinit.HeNormal(), names=["embed.weight"])


# --------------------------------------------------------------------------------------------
# Errors: built-in types, a message ending in "Received: ...".

ERRORS = [
    ("not_a_scheme", lambda mx, oim: oim.Initializer("he_normal"), TypeError),
    ("bad_layout", lambda mx, oim: oim.HeNormal(layout="nchw"), ValueError),
    ("bad_groups", lambda mx, oim: oim.HeNormal(groups=0), ValueError),
    ("bool_seed", lambda mx, oim: oim.HeNormal(seed=True), TypeError),
    ("negative_seed", lambda mx, oim: oim.HeNormal(seed=-1), ValueError),
    ("bad_convention", lambda mx, oim: oim.HeNormal(fan_convention="caffe"), ValueError),
    ("bad_scheme_field", lambda mx, oim: oim.HeNormal(mode="fan_sideways"), ValueError),
    ("fans_of_a_vector", lambda mx, oim: oim.HeNormal()("fc_bias", mx.nd.zeros((4,))), ValueError),
    (
        "integer_array",
        lambda mx, oim: oim.Ones()("x_weight", mx.nd.zeros((2, 2), dtype="int32")),
        TypeError,
    ),
    ("not_an_array", lambda mx, oim: oim.fill(np.zeros((2, 2)), oneinit.Ones()), TypeError),
    (
        "bfloat16_array",
        lambda mx, oim: oim.fill(
            mx.nd.zeros((2, 2), dtype=np.dtype([("bfloat16", np.uint16)])), oneinit.Ones()
        ),
        TypeError,
    ),
    ("rules_bad_pattern", lambda mx, oim: oim.Rules([("(", oneinit.Ones())]), ValueError),
    ("rules_bad_target", lambda mx, oim: oim.Rules([(".*", 3.0)]), TypeError),
    ("rules_not_pairs", lambda mx, oim: oim.Rules(".*"), TypeError),
    (
        "rules_unmatched",
        lambda mx, oim: oim.Rules([("bias$", oneinit.Ones())])("fc_weight", mx.nd.zeros((2, 2))),
        ValueError,
    ),
    ("initialize_not_a_block", lambda mx, oim: oim.initialize(object(), oneinit.Ones()), TypeError),
    (
        "initialize_mx_rules",
        lambda mx, oim: oim.initialize(_dense(mx), oim.Rules([(".*", oneinit.Ones())])),
        TypeError,
    ),
    ("initialize_nothing", lambda mx, oim: oim.initialize(_dense(mx)), ValueError),
]


@pytest.mark.parametrize(("make", "error"), [pytest.param(e[1], e[2], id=e[0]) for e in ERRORS])
def test_errors_say_what_was_received(mx: Any, oim: Any, make: Any, error: type) -> None:
    with pytest.raises(error, match="Received: "):
        make(mx, oim)


# --------------------------------------------------------------------------------------------
# Imports.


def test_importing_the_adapter_imports_no_other_framework() -> None:
    code = (
        "import sys, oneinit.adapters.mxnet; "
        "print(sorted(m for m in ('torch', 'tensorflow', 'keras', 'paddle', 'jax') "
        "if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-W", "error", "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"
