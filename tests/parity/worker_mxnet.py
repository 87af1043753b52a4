"""The MXNet Gluon worker of the parity suite: spec's models and layers built natively, dumped.

Usage (in the MXNet venv: MXNet 1.9.1, numpy 1.23.5)::

    python tests/parity/worker_mxnet.py REQUEST.json OUTDIR

writes ``OUTDIR/mxnet.npz`` and ``OUTDIR/mxnet.json`` as ``spec.py`` describes. Gluon stores every
weight of these models the way torch does (Dense ``(out, in)``, Conv2D ``(out, in / g, k, k)``,
Conv2DTranspose ``(in, out / g, k, k)``, Embedding ``(vocabulary, dim)``, LSTM ``l0_i2h_weight``
``(4H, in)`` with the gates i, f, c, o), so a parameter's storage is the ``storage`` of its
``spec.Param`` and ``oneinit.to_canonical`` with the spec's layout gives the canonical values.
Inputs and outputs are batch first and NCHW, as Gluon's defaults (the LSTM is built
``layout="NTC"``).
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

import driver
import spec

import oneinit
from oneinit.adapters import mxnet as oim  # imports MXNet without its import-time warnings

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    import mxnet as mx
    from mxnet.gluon import nn, rnn

SKIPPED_MODELS = {"attn": "Gluon 1.9 has no multi-head attention layer"}
#: Checked on MXNet 1.9.1 (CPU wheel): why the bfloat16 case is not built.
BFLOAT16_REASON = (
    "MXNet 1.9 cannot hold usable bfloat16 parameters on the CPU: after net.cast('bfloat16') "
    "its parameters cannot be created (numpy has no 'bfloat16' dtype); with MXNet's own "
    "np.dtype([('bfloat16', np.uint16)]) they are, but net.initialize() fails (MXNet's random "
    "operators write float16/32/64 only), oneinit refuses them (numpy cannot hold bfloat16 "
    "values), and a bfloat16 Dense forward fails in oneDNN on an AVX2 CPU ('could not create "
    "a primitive descriptor iterator')"
)


# --------------------------------------------------------------------------------------------
# Models: one builder each, and the map of their parameters' own names to canonical names.


class MLP(nn.HybridBlock):  # type: ignore[misc]
    """fc1 20->32, tanh, mid 32->32 called twice (one parameter set), tanh, fc2 32->10."""

    def __init__(self) -> None:
        super().__init__()
        with self.name_scope():
            self.fc1 = nn.Dense(32, in_units=20)
            self.mid = nn.Dense(32, in_units=32)
            self.fc2 = nn.Dense(10, in_units=32)

    def hybrid_forward(self, F: Any, x: Any) -> Any:
        h = F.tanh(self.fc1(x))
        h = F.tanh(self.mid(self.mid(h)))
        return self.fc2(h)


class CNN(nn.HybridBlock):  # type: ignore[misc]
    """NCHW 8x12x12: conv, grouped, depthwise (each 3x3 pad 1, relu), transposed 2x2 stride 2."""

    def __init__(self) -> None:
        super().__init__()
        with self.name_scope():
            self.conv = nn.Conv2D(16, 3, padding=1, in_channels=8)
            self.grouped = nn.Conv2D(16, 3, padding=1, groups=4, in_channels=16)
            self.depthwise = nn.Conv2D(16, 3, padding=1, groups=16, in_channels=16)
            self.up = nn.Conv2DTranspose(8, 2, strides=2, in_channels=16)

    def hybrid_forward(self, F: Any, x: Any) -> Any:
        h = F.relu(self.conv(x))
        h = F.relu(self.grouped(h))
        h = F.relu(self.depthwise(h))
        return self.up(h)


class Seq(nn.HybridBlock):  # type: ignore[misc]
    """tokens -> embed 50x16 -> LSTM 16->24 (batch first) -> head 24->5 on the last step."""

    def __init__(self) -> None:
        super().__init__()
        with self.name_scope():
            self.embed = nn.Embedding(50, 16)
            self.lstm = rnn.LSTM(24, input_size=16, layout="NTC")
            self.head = nn.Dense(5, in_units=24)

    def hybrid_forward(self, F: Any, tokens: Any) -> Any:
        steps = self.lstm(self.embed(tokens))  # (batch, time, 24)
        last = F.squeeze(F.slice_axis(steps, axis=1, begin=-1, end=None), axis=1)
        return self.head(last)


def _layer_names(model: str, layers: tuple[str, ...]) -> dict[str, str]:
    return {
        f"{layer}.{slot}": f"{model}.{layer}.{slot}"
        for layer in layers
        for slot in ("weight", "bias")
    }


MODELS: dict[str, tuple[Callable[[], Any], dict[str, str]]] = {
    "mlp": (MLP, _layer_names("mlp", ("fc1", "mid", "fc2"))),
    "cnn": (CNN, _layer_names("cnn", ("conv", "grouped", "depthwise", "up"))),
    "seq": (
        Seq,
        {
            "embed.weight": "seq.embed.weight",
            "lstm.l0_i2h_weight": "seq.lstm.weight_ih",
            "lstm.l0_h2h_weight": "seq.lstm.weight_hh",
            "lstm.l0_i2h_bias": "seq.lstm.bias_ih",
            "lstm.l0_h2h_bias": "seq.lstm.bias_hh",
            "head.weight": "seq.head.weight",
            "head.bias": "seq.head.bias",
        },
    ),
}


# --------------------------------------------------------------------------------------------
# Layer cases: one builder per layer; each returns the block and its weights' own -> slot names.


def _dense(s: dict[str, int]) -> tuple[Any, dict[str, str]]:
    return nn.Dense(s["out"], in_units=s["in"]), {"weight": "weight"}


def _conv(s: dict[str, int]) -> tuple[Any, dict[str, str]]:
    layer = nn.Conv2D(s["out"], s["kernel"], in_channels=s["in"], groups=s["groups"])
    return layer, {"weight": "weight"}


def _conv_transpose(s: dict[str, int]) -> tuple[Any, dict[str, str]]:
    layer = nn.Conv2DTranspose(s["out"], s["kernel"], in_channels=s["in"], groups=s["groups"])
    return layer, {"weight": "weight"}


def _embedding(s: dict[str, int]) -> tuple[Any, dict[str, str]]:
    return nn.Embedding(s["num"], s["dim"]), {"weight": "weight"}


def _lstm(s: dict[str, int]) -> tuple[Any, dict[str, str]]:
    layer = rnn.LSTM(s["hidden"], input_size=s["in"], layout="NTC")
    return layer, {"l0_i2h_weight": "weight_ih", "l0_h2h_weight": "weight_hh"}


LAYER_BUILDERS: dict[str, Callable[[dict[str, int]], tuple[Any, dict[str, str]]]] = {
    "dense": _dense,
    "dense_bf16": _dense,
    "conv2d": _conv,
    "grouped_conv2d": _conv,
    "depthwise_conv2d": _conv,  # MXNet has no depthwise layer: Conv2D with groups = channels
    "conv_transpose2d": _conv_transpose,
    "embedding": _embedding,
    "lstm": _lstm,
}


# --------------------------------------------------------------------------------------------
# MXNet's own initializer of a scheme's name, as an MXNet user writes it.

_FACTOR = {"fan_in": "in", "fan_out": "out", "fan_avg": "avg"}
#: The fan-based schemes: variance = variance_scale / fan(fan_mode), in distribution_name.
_VARIANCE_SCALING = (
    oneinit.VarianceScaling,
    oneinit.GlorotUniform,
    oneinit.GlorotNormal,
    oneinit.HeUniform,
    oneinit.HeNormal,
    oneinit.LecunUniform,
    oneinit.LecunNormal,
)

Own = tuple[Any, str | None, str | None]  # (initializer, the call as text, why there is none)


def own_initializer(scheme: oneinit.Scheme) -> Own:
    """MXNet's initializer of the same name and parameters, or None and the reason.

    MXNet's fan rule is torch's on the raw storage (``Xavier``: fan_in = shape[1] * k,
    fan_out = shape[0] * k), so it swaps a transposed conv's fans and reads the LSTM gates as
    one matrix; that is part of what ``own`` shows.
    """
    if isinstance(scheme, spec.SignedBandMixture):
        return None, None, "a user-defined scheme: MXNet has no initializer of that name"
    if isinstance(scheme, oneinit.Uniform):
        if scheme.low != -scheme.high:
            return None, None, "mx.init.Uniform(scale) is U(-scale, scale): no asymmetric range"
        return _own("Uniform", scale=scheme.high)
    if isinstance(scheme, oneinit.Normal):
        if scheme.mean != 0.0:
            return None, None, "mx.init.Normal(sigma) has mean 0"
        return _own("Normal", sigma=scheme.std)
    if isinstance(scheme, oneinit.TruncatedNormal):
        return None, None, "MXNet has no truncated normal initializer (mx.init.Normal is not)"
    if isinstance(scheme, oneinit.Orthogonal):
        # MXNet's default is rand_type='uniform' (the SVD of a uniform matrix); 'normal' takes
        # the SVD of a Gaussian one, over the whole stored matrix (all LSTM gates at once).
        return _own("Orthogonal", scale=scheme.gain, rand_type="normal")
    if isinstance(scheme, _VARIANCE_SCALING):
        return _variance_scaling(scheme)
    return None, None, f"MXNet has no initializer for {type(scheme).__name__}"


def _variance_scaling(scheme: Any) -> Own:
    family = scheme.distribution_name
    if family == "truncated_normal":
        lecun = " and no LeCun one" if "Lecun" in type(scheme).__name__ else ""
        note = (
            f"MXNet has no truncated normal initializer{lecun}; this {type(scheme).__name__} "
            "is truncated at +-2 sigma (mx.init.Xavier('gaussian', ...) is untruncated)"
        )
        return None, None, note
    factor = _FACTOR.get(scheme.fan_mode)
    if factor is None:
        return None, None, f"mx.init.Xavier has no factor_type for {scheme.fan_mode!r}"
    scale = scheme.variance_scale
    if isinstance(scheme, oneinit.HeNormal) and scheme.nonlinearity in ("relu", "leaky_relu"):
        # MXNet's He (MSRA) initializer: Xavier('gaussian', factor_type, 2 / (1 + slope**2)).
        slope = scheme.negative_slope if scheme.nonlinearity == "leaky_relu" else 0.0
        return _own("MSRAPrelu", factor_type=factor, slope=slope)
    # Xavier's magnitude: variance = magnitude / (3 fan) uniform, magnitude / fan gaussian.
    if family == "uniform":
        return _own("Xavier", rnd_type="uniform", factor_type=factor, magnitude=_short(3 * scale))
    return _own("Xavier", rnd_type="gaussian", factor_type=factor, magnitude=_short(scale))


def _short(value: float) -> float:
    """``value`` to 12 significant digits: 6.0, not the 6.000000000000002 of 3 * sqrt(2)**2."""
    return float(f"{value:.12g}")


def _own(name: str, **kwargs: Any) -> Own:
    arguments = ", ".join(f"{key}={value!r}" for key, value in kwargs.items())
    return getattr(mx.init, name)(**kwargs), f"layer.initialize(mx.init.{name}({arguments}))", None


# --------------------------------------------------------------------------------------------
# Dumping.


def seed_globally(seed: int) -> None:
    mx.random.seed(seed)
    np.random.seed(seed)


def named_params(block: Any, prefix: str = "") -> dict[str, Any]:
    """Parameters by attribute path (``"fc1.weight"``), the adapter's own names."""
    named = {prefix + attr: param for attr, param in block._reg_params.items()}
    for name, child in block._children.items():
        named.update(named_params(child, f"{prefix}{name}."))
    return named


def canonical_values(param: Any, declared: spec.Param) -> np.ndarray:
    """A parameter's values in the canonical layout (Gluon stores them as ``declared``)."""
    values = param.data().asnumpy()
    if values.shape != declared.storage:
        raise AssertionError(
            f"{declared.name}: Gluon stores {values.shape}, not {declared.storage}"
        )
    if declared.layout is None:
        return values
    return np.asarray(oneinit.to_canonical(values, declared.layout, groups=declared.groups))


def canonical_params(
    block: Any, names: dict[str, str], declared: tuple[spec.Param, ...]
) -> dict[str, np.ndarray]:
    """Each named parameter of ``block``: canonical name -> canonical values."""
    params = named_params(block)
    by_name = {p.name: p for p in declared}
    return {
        canonical: canonical_values(params[own], by_name[canonical])
        for own, canonical in names.items()
    }


def model_params(model: str, net: Any) -> dict[str, np.ndarray]:
    return canonical_params(net, MODELS[model][1], spec.MODELS[model].params)


def forward(model: str, net: Any) -> np.ndarray:
    # Gluon's Embedding takes float32 token ids (exact below 2**24).
    inputs = [mx.nd.array(x, dtype="float32") for x in spec.model_inputs(model).values()]
    return net(*inputs).asnumpy()


def default_model(model: str) -> Any:
    net = MODELS[model][0]()
    net.initialize()  # MXNet's own default: the global Uniform(0.07), biases zeros
    return net


def case_built(layer: spec.Layer, block: Any, slots: dict[str, str]) -> driver.Built:
    return driver.Built(block, slots, lambda: canonical_params(block, slots, layer.params))


def case_layer(layer: spec.Layer) -> driver.Built:
    return case_built(layer, *LAYER_BUILDERS[layer.name](layer.settings))


def own(scheme: oneinit.Scheme, layer: spec.Layer, global_seed: int) -> driver.Own:
    """MXNet's own initializer of ``scheme``'s name, as ``block.initialize(...)``."""
    initializer, call, note = own_initializer(scheme)
    entry = {"own": call, "own_note": note}
    if initializer is None:
        return entry, None
    block, slots = LAYER_BUILDERS[layer.name](layer.settings)
    block.initialize(initializer)
    return entry, case_built(layer, block, slots)


def skip_case(layer: spec.Layer) -> str | None:
    return BFLOAT16_REASON if layer.dtype == "bfloat16" else None


FRAMEWORK = driver.Framework(
    name="mxnet",
    version=mx.__version__,
    description=__doc__.splitlines()[0],
    set_seed=seed_globally,
    models={model: build for model, (build, _) in MODELS.items()},
    names={model: names for model, (_, names) in MODELS.items()},
    initialize=oim.initialize,
    params=model_params,
    forward=forward,
    case_layer=case_layer,
    own=own,
    default=default_model,
    skipped_models=SKIPPED_MODELS,
    skip_case=skip_case,
)


def main(argv: list[str] | None = None) -> int:
    driver.run(FRAMEWORK, argv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
