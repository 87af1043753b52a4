"""The parity suite's shared contract: reference models, layers, schemes, rules and the dump format.

Imported by every framework worker (``tests/parity/worker_<framework>.py``, each in its own
venv) and by the comparison (``tests/parity/test_parity.py``, ``tests/parity/report.py``), so it
needs only numpy and oneinit's core.

Canonical form
--------------
Every parameter has one **canonical name** (``"cnn.up.weight"``: model, layer, neutral slot) and
is exchanged in the core's canonical layout ``(out, in / groups, *kernel)`` as float32 (bf16
values upcast exactly). Activations are exchanged batch first and channels first (NCHW): a
worker transposes its inputs and outputs where its framework stores them otherwise.

Dump format
-----------
A worker reads a request (:func:`read_request`) and writes ``<out>/<framework>.npz`` plus
``<out>/<framework>.json``. Array keys:

- ``model/<model>/param/<canonical name>``: values after ``initialize(model, PARITY_RULES,
  seed=SEED, names=...)``;
- ``model/<model>/output``: the forward output on :func:`model_inputs`;
- ``profile/<profile>/<canonical name>``: values after ``initialize(model, profile=<profile>)``
  without a seed (the framework's global seed fixed to ``GLOBAL_SEED`` first);
- ``default/<canonical name>``: the values the framework's own layers start with;
- ``case/<index>/<mode>/<slot>``: layer cases (:data:`LAYERS`), ``mode`` one of ``seeded``
  (``initialize(layer, scheme, seed)``), ``unseeded`` (``initialize(layer, scheme)``) and
  ``own`` (the framework's own initializer of the same name, when it has one).

The JSON holds ``framework``, ``version``, ``reports`` (``str(report)`` per model),
``names`` (framework name -> canonical name, per model), ``skipped`` (``{what: reason}`` for
models, profiles or cases the framework cannot build), and ``cases``: a list, per request case,
of ``{"own": "the call made" | null, "own_note": str | null}``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import oneinit
from oneinit import CustomScheme, Fans, Generator, Stream, UniformDistribution, key_from_name
from oneinit.core.fans import canonical_shape
from oneinit.core.rules import Geometry, ParamInfo, Rule, Rules

FRAMEWORKS = ("torch", "keras", "paddle", "mxnet")
PROFILES = FRAMEWORKS
SEED = 0  # the portable seed of the value-parity run
GLOBAL_SEED = 1234  # each framework's global seed before any unseeded fill (never flaky)
INPUT_SEED = 20261123  # the core stream the fixed model inputs come from


# --------------------------------------------------------------------------------------------
# A user-defined scheme: the same values in every framework under a seed.


@dataclass(frozen=True)
class SignedBandMixture(CustomScheme):
    """U(low, high) w.p. p_band, 0 w.p. 1 - 2 p_band, U(-high, -low) w.p. p_band."""

    p_band: float = 0.25
    low: float = 0.05
    high: float = 0.15

    def draw(self, shape: tuple[int, ...], fans: Fans | None, generator: Generator) -> Any:
        xp = generator.xp
        choice = generator.uniform(shape)
        magnitude = generator.uniform(shape, self.low, self.high)
        zero = xp.zeros(shape, dtype=xp.float32)
        upper = 1.0 - self.p_band
        return xp.where(choice < self.p_band, magnitude, xp.where(choice < upper, zero, -magnitude))

    def cdf(self, x: np.ndarray) -> np.ndarray:
        """The mixture's CDF (for the statistical tests)."""
        x = np.asarray(x, dtype=np.float64)
        width = self.high - self.low
        band = np.clip((x - self.low) / width, 0.0, 1.0)
        negative = np.clip((x + self.high) / width, 0.0, 1.0)
        zero = (x >= 0).astype(np.float64)
        return self.p_band * negative + (1 - 2 * self.p_band) * zero + self.p_band * band


# --------------------------------------------------------------------------------------------
# The rules of the value-parity run: one list, applied unchanged in all four frameworks.

PARITY_RULES = Rules(
    # Keras's LSTM has one bias (= torch's bias_ih + bias_hh): the second bias stays zero.
    Rule(oneinit.Zeros(), slot="bias_hh"),
    # torch keeps the q/k/v biases in one (3E,) vector; the others have three (E,) vectors.
    Rule(oneinit.Zeros(), kind="multihead_attention", role="bias"),
    Rule(oneinit.Orthogonal(), role="recurrent"),
    Rule(SignedBandMixture(), name="mlp.fc2.weight"),  # a user-defined scheme, by name
    Rule(oneinit.TruncatedNormal(std=0.5), kind="embedding"),
    Rule(oneinit.Normal(std=0.1), rank=1),  # every other vector
    Rule(oneinit.GlorotUniform(), rank=2),  # every other matrix
    Rule(oneinit.HeNormal(mode="fan_out"), kind="conv_transpose"),
    Rule(oneinit.HeNormal(), rank=4),  # every other kernel
)


# --------------------------------------------------------------------------------------------
# Reference models: their canonical parameters (as torch would store them, with a layout).


@dataclass(frozen=True)
class Param:
    """A canonical parameter, declared by its torch-style storage and layout."""

    name: str
    storage: tuple[int, ...]
    kind: str
    roles: tuple[str, ...]
    layout: str | None = None
    groups: int = 1
    blocks: int = 1
    layer: str | None = None  # canonical name of the layer weight whose fans a vector takes

    @property
    def shape(self) -> tuple[int, ...]:
        """The canonical shape."""
        if self.layout is None:
            return self.storage
        return canonical_shape(self.storage, self.layout, groups=self.groups)

    @property
    def slot(self) -> str:
        return self.name.rsplit(".", 1)[-1]


@dataclass(frozen=True)
class Model:
    """A reference model: its inputs (name -> shape, dtype) and its canonical parameters.

    ``shared`` names layers called more than once (their parameters exist once).
    """

    name: str
    description: str
    inputs: dict[str, tuple[tuple[int, ...], str]]
    params: tuple[Param, ...]
    output: tuple[int, ...]
    shared: tuple[str, ...] = field(default=())


def _dense(prefix: str, out: int, inp: int, kind: str = "linear") -> tuple[Param, ...]:
    return (
        Param(f"{prefix}.weight", (out, inp), kind, ("weight",), "dense_out_in"),
        Param(f"{prefix}.bias", (out,), kind, ("bias",), layer=f"{prefix}.weight"),
    )


def _conv(prefix: str, out: int, inp: int, k: int, groups: int = 1) -> tuple[Param, ...]:
    return (
        Param(
            f"{prefix}.weight",
            (out, inp // groups, k, k),
            "conv",
            ("weight",),
            "conv_out_in",
            groups,
        ),
        Param(f"{prefix}.bias", (out,), "conv", ("bias",), layer=f"{prefix}.weight"),
    )


MODELS: dict[str, Model] = {
    "mlp": Model(
        "mlp",
        "fc2(tanh(mid(mid(tanh(fc1(x)))))): fc1 20->32, mid 32->32 (one layer called twice, "
        "one parameter set), fc2 32->10",
        {"x": ((4, 20), "float32")},
        (*_dense("mlp.fc1", 32, 20), *_dense("mlp.mid", 32, 32), *_dense("mlp.fc2", 10, 32)),
        (4, 10),
        shared=("mlp.mid",),
    ),
    "cnn": Model(
        "cnn",
        "NCHW 8x12x12: conv 8->16 3x3 pad 1, relu; grouped 16->16 g=4 3x3 pad 1, relu; depthwise "
        "16 ch 3x3 pad 1 (groups 16), relu; up: transposed 16->8 2x2 stride 2 -> 8x24x24",
        {"x": ((2, 8, 12, 12), "float32")},
        (
            *_conv("cnn.conv", 16, 8, 3),
            *_conv("cnn.grouped", 16, 16, 3, groups=4),
            *_conv("cnn.depthwise", 16, 16, 3, groups=16),
            Param(
                "cnn.up.weight",
                (16, 8, 2, 2),
                "conv_transpose",
                ("weight",),
                "conv_transpose_in_out",
            ),
            Param("cnn.up.bias", (8,), "conv_transpose", ("bias",), layer="cnn.up.weight"),
        ),
        (2, 8, 24, 24),
    ),
    "seq": Model(
        "seq",
        "tokens (2, 7) of 50 -> embed 50x16 -> LSTM 16->24 (batch first, gates i,f,g,o) -> "
        "head 24->5 on the last step",
        {"tokens": ((2, 7), "int64")},
        (
            Param("seq.embed.weight", (50, 16), "embedding", ("weight", "embedding"), "embedding"),
            Param(
                "seq.lstm.weight_ih",
                (96, 16),
                "lstm",
                ("weight",),
                "dense_out_in",
                blocks=4,
                layer="seq.lstm.weight_hh",
            ),
            Param(
                "seq.lstm.weight_hh",
                (96, 24),
                "lstm",
                ("weight", "recurrent"),
                "dense_out_in",
                blocks=4,
                layer="seq.lstm.weight_hh",
            ),
            Param("seq.lstm.bias_ih", (96,), "lstm", ("bias",), layer="seq.lstm.weight_hh"),
            Param("seq.lstm.bias_hh", (96,), "lstm", ("bias",), layer="seq.lstm.weight_hh"),
            *_dense("seq.head", 5, 24),
        ),
        (2, 5),
    ),
    "attn": Model(
        "attn",
        "cross-attention, 4 heads: query (2, 5, 16) attends to memory (2, 6, 12); "
        "E = 16, kdim = vdim = 12, no dropout",
        {"query": ((2, 5, 16), "float32"), "memory": ((2, 6, 12), "float32")},
        (
            Param(
                "attn.q_proj_weight", (16, 16), "multihead_attention", ("weight",), "dense_out_in"
            ),
            Param(
                "attn.k_proj_weight", (16, 12), "multihead_attention", ("weight",), "dense_out_in"
            ),
            Param(
                "attn.v_proj_weight", (16, 12), "multihead_attention", ("weight",), "dense_out_in"
            ),
            Param(
                "attn.in_proj_bias",
                (48,),
                "multihead_attention",
                ("bias",),
                layer="attn.q_proj_weight",
            ),  # torch only
            Param(
                "attn.q_proj_bias",
                (16,),
                "multihead_attention",
                ("bias",),
                layer="attn.q_proj_weight",
            ),
            Param(
                "attn.k_proj_bias",
                (16,),
                "multihead_attention",
                ("bias",),
                layer="attn.k_proj_weight",
            ),
            Param(
                "attn.v_proj_bias",
                (16,),
                "multihead_attention",
                ("bias",),
                layer="attn.v_proj_weight",
            ),
            Param(
                "attn.out_proj_weight", (16, 16), "multihead_attention", ("weight",), "dense_out_in"
            ),
            Param(
                "attn.out_proj_bias",
                (16,),
                "multihead_attention",
                ("bias",),
                layer="attn.out_proj_weight",
            ),
        ),
        (2, 5, 16),
    ),
}


#: Canonical parameters a framework's layers do not have (so its dumps leave them out).
ABSENT: dict[str, frozenset[str]] = {
    "torch": frozenset({"attn.q_proj_bias", "attn.k_proj_bias", "attn.v_proj_bias"}),
    "keras": frozenset({"seq.lstm.bias_hh", "attn.in_proj_bias"}),
    "paddle": frozenset({"attn.in_proj_bias"}),
    "mxnet": frozenset({"attn.in_proj_bias"}),
}


def expected_names(model: str, framework: str) -> set[str]:
    """The canonical names ``framework``'s build of ``model`` must dump."""
    return {p.name for p in MODELS[model].params} - ABSENT[framework]


def param_infos(model: str) -> list[ParamInfo]:
    """The canonical :class:`ParamInfo` of each parameter of ``model`` (canonical layout)."""
    return _infos(MODELS[model].params)


def core_values(infos: list[ParamInfo], rules: Rules, seed: int) -> dict[str, np.ndarray]:
    """The core's seeded float32 values of canonical parameters: what every adapter must give."""
    values = {}
    for assignment in rules.plan(infos):
        param = assignment.param
        if assignment.scheme is None:
            continue
        values[param.name] = assignment.scheme.sample(
            param.shape,
            seed=seed,
            key=param.name,
            groups=param.geometry.groups,
            blocks=assignment.blocks,
            fans=assignment.fans,
        )
    return values


def model_values(model: str, seed: int = SEED) -> dict[str, np.ndarray]:
    """The core's values for every canonical parameter of ``model`` under :data:`PARITY_RULES`."""
    return core_values(param_infos(model), PARITY_RULES, seed)


def _infos(params: tuple[Param, ...]) -> list[ParamInfo]:
    by_name = {p.name: p for p in params}
    infos = []
    for p in params:
        layer = None
        if p.layer is not None:
            owner = by_name[p.layer]
            layer = Geometry(owner.shape, "canonical", owner.groups, owner.blocks)
        infos.append(
            ParamInfo(
                p.name,
                p.shape,
                kind=p.kind,
                roles=p.roles,
                slot=p.slot,
                layout=None if p.layout is None else "canonical",
                groups=p.groups,
                blocks=p.blocks,
                layer=layer,
            )
        )
    return infos


def layer_infos(layer: Layer) -> list[ParamInfo]:
    """The canonical :class:`ParamInfo` of a layer case's weights (named by slot)."""
    return _infos(layer.params)


def layer_values(scheme: oneinit.Scheme, layer: Layer, seed: int) -> dict[str, np.ndarray]:
    """The core's values of a layer case: ``scheme`` on every weight, keyed by its slot."""
    return core_values(layer_infos(layer), Rules(Rule(scheme)), seed)


def model_inputs(model: str) -> dict[str, np.ndarray]:
    """The fixed inputs of ``model``: core streams, so every framework reads the same numbers."""
    inputs = {}
    for name, (shape, dtype) in MODELS[model].inputs.items():
        stream = Stream(INPUT_SEED, key_from_name(f"input.{model}.{name}"))
        if dtype == "int64":
            u = stream.sample(UniformDistribution(0.0, 1.0), shape)
            inputs[name] = np.minimum((u.astype(np.float64) * 50).astype(np.int64), 49)
        else:
            inputs[name] = stream.sample(UniformDistribution(-1.0, 1.0), shape)
    return inputs


# --------------------------------------------------------------------------------------------
# Layer cases: one layer, one scheme (the statistical matrix and the report).


@dataclass(frozen=True)
class Layer:
    """A single layer for the statistical matrix and the report.

    ``params`` are the weights a scheme is applied to (biases are left out), declared like a
    model's. ``dtype`` is the parameter dtype.
    """

    name: str
    description: str
    params: tuple[Param, ...]
    dtype: str = "float32"
    settings: dict[str, int] = field(default_factory=dict)


LAYERS: dict[str, Layer] = {
    "dense": Layer(
        "dense",
        "Dense/Linear 128 -> 256",
        (Param("weight", (256, 128), "linear", ("weight",), "dense_out_in"),),
        settings={"in": 128, "out": 256},
    ),
    "dense_bf16": Layer(
        "dense_bf16",
        "Dense/Linear 128 -> 256, bfloat16 parameters",
        (Param("weight", (256, 128), "linear", ("weight",), "dense_out_in"),),
        dtype="bfloat16",
        settings={"in": 128, "out": 256},
    ),
    "conv2d": Layer(
        "conv2d",
        "Conv2D 32 -> 64, 3x3",
        (Param("weight", (64, 32, 3, 3), "conv", ("weight",), "conv_out_in"),),
        settings={"in": 32, "out": 64, "kernel": 3, "groups": 1},
    ),
    "grouped_conv2d": Layer(
        "grouped_conv2d",
        "Conv2D 32 -> 64, 3x3, groups 4",
        (Param("weight", (64, 8, 3, 3), "conv", ("weight",), "conv_out_in", 4),),
        settings={"in": 32, "out": 64, "kernel": 3, "groups": 4},
    ),
    "depthwise_conv2d": Layer(
        "depthwise_conv2d",
        "depthwise Conv2D, 64 channels x multiplier 2, 5x5 (groups 64)",
        (Param("weight", (128, 1, 5, 5), "conv", ("weight",), "conv_out_in", 64),),
        settings={"in": 64, "out": 128, "kernel": 5, "groups": 64},
    ),
    "conv_transpose2d": Layer(
        "conv_transpose2d",
        "transposed Conv2D 32 -> 64, 4x4",
        (Param("weight", (32, 64, 4, 4), "conv_transpose", ("weight",), "conv_transpose_in_out"),),
        settings={"in": 32, "out": 64, "kernel": 4, "groups": 1},
    ),
    "embedding": Layer(
        "embedding",
        "Embedding 500 x 32",
        (Param("weight", (500, 32), "embedding", ("weight", "embedding"), "embedding"),),
        settings={"num": 500, "dim": 32},
    ),
    "lstm": Layer(
        "lstm",
        "LSTM 32 -> 64 (gates i, f, g, o stacked: 4 blocks)",
        (
            Param(
                "weight_ih",
                (256, 32),
                "lstm",
                ("weight",),
                "dense_out_in",
                blocks=4,
                layer="weight_hh",
            ),
            Param(
                "weight_hh",
                (256, 64),
                "lstm",
                ("weight", "recurrent"),
                "dense_out_in",
                blocks=4,
                layer="weight_hh",
            ),
        ),
        settings={"in": 32, "hidden": 64},
    ),
}

#: The schemes of the statistical matrix (every scheme x every layer x every framework).
MATRIX_SCHEMES: tuple[oneinit.Scheme, ...] = (
    oneinit.GlorotUniform(),
    oneinit.GlorotNormal(),
    oneinit.HeUniform(),
    oneinit.HeNormal(),
    oneinit.HeNormal(mode="fan_out"),
    oneinit.LecunNormal(distribution="truncated_normal"),
    oneinit.TruncatedNormal(std=0.02),
    oneinit.VarianceScaling(scale=0.5, mode="fan_avg", distribution="truncated_normal"),
    oneinit.Uniform(-0.1, 0.1),
    oneinit.Orthogonal(gain=1.0),
    SignedBandMixture(),
)

#: The report's default cases: the ones where the frameworks' own initializers differ most.
REPORT_DEFAULTS: tuple[tuple[oneinit.Scheme, str], ...] = (
    (oneinit.HeNormal(), "conv_transpose2d"),
    (oneinit.GlorotUniform(), "depthwise_conv2d"),
    (oneinit.TruncatedNormal(std=0.02), "dense_bf16"),
    (oneinit.Orthogonal(), "lstm"),
)


def case_key(index: int, mode: str, slot: str) -> str:
    return f"case/{index}/{mode}/{slot}"


# --------------------------------------------------------------------------------------------
# Requests: what the parity session asks every worker to dump.


def scheme_config(scheme: oneinit.Scheme) -> dict[str, Any]:
    """A JSON description of a scheme; the mixture (defined here) by its class name."""
    if isinstance(scheme, SignedBandMixture):
        return {"scheme": "SignedBandMixture"}
    return scheme.to_config()


def scheme_from(config: dict[str, Any]) -> oneinit.Scheme:
    if config.get("scheme") == "SignedBandMixture":
        return SignedBandMixture()
    return oneinit.scheme_from_config(config)


def write_request(
    path: Path,
    cases: list[tuple[oneinit.Scheme, str]],
    *,
    seed: int = SEED,
    models: bool = True,
    profiles: bool = True,
) -> None:
    request = {
        "seed": seed,
        "global_seed": GLOBAL_SEED,
        "models": models,
        "profiles": profiles,
        "cases": [{"scheme": scheme_config(s), "layer": layer} for s, layer in cases],
    }
    path.write_text(json.dumps(request, indent=1))


@dataclass(frozen=True)
class Request:
    seed: int
    global_seed: int
    models: bool
    profiles: bool
    cases: tuple[tuple[oneinit.Scheme, Layer], ...]


def read_request(path: Path | str) -> Request:
    raw = json.loads(Path(path).read_text())
    cases = tuple((scheme_from(c["scheme"]), LAYERS[c["layer"]]) for c in raw["cases"])
    return Request(raw["seed"], raw["global_seed"], raw["models"], raw["profiles"], cases)


def write_dump(
    out: Path | str, framework: str, arrays: dict[str, Any], meta: dict[str, Any]
) -> None:
    """Write a worker's ``<framework>.npz`` (float arrays as float32) and ``<framework>.json``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    converted = {}
    for key, value in arrays.items():
        array = np.asarray(value)
        converted[key] = array if array.dtype.kind in "iub" else upcast(array)
    np.savez(out / f"{framework}.npz", **converted)
    (out / f"{framework}.json").write_text(json.dumps({"framework": framework, **meta}, indent=1))


def upcast(values: np.ndarray) -> np.ndarray:
    """float32 values of any float array (bf16 and fp16 upcast exactly)."""
    return np.asarray(values, dtype=np.float32)


def ulp_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distance between float32 arrays in units in the last place (0 for equal values)."""
    ia = np.asarray(a, dtype=np.float32).view(np.int32).astype(np.int64)
    ib = np.asarray(b, dtype=np.float32).view(np.int32).astype(np.int64)
    ia = np.where(ia < 0, -(ia & 0x7FFFFFFF), ia)  # monotone integer order of the floats
    ib = np.where(ib < 0, -(ib & 0x7FFFFFFF), ib)
    return np.abs(ia - ib)


__all__ = [
    "ABSENT",
    "FRAMEWORKS",
    "GLOBAL_SEED",
    "LAYERS",
    "MATRIX_SCHEMES",
    "MODELS",
    "PARITY_RULES",
    "PROFILES",
    "REPORT_DEFAULTS",
    "SEED",
    "Layer",
    "Model",
    "Param",
    "Request",
    "SignedBandMixture",
    "case_key",
    "core_values",
    "expected_names",
    "layer_infos",
    "layer_values",
    "model_inputs",
    "model_values",
    "param_infos",
    "read_request",
    "scheme_config",
    "scheme_from",
    "ulp_distance",
    "upcast",
    "write_dump",
    "write_request",
]
