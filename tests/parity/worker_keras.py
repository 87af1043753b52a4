"""The Keras 3 worker of the parity suite: builds spec.py's models and layers, dumps them.

    KERAS_BACKEND=tensorflow python tests/parity/worker_keras.py REQUEST.json OUTDIR

Runs in the Keras venv only (never in a process with paddle or mxnet). Keras is channels last:
the NCHW inputs of :func:`spec.model_inputs` are transposed to NHWC and the outputs back, and
every weight is dumped in the canonical layout (``oneinit.to_canonical`` from Keras's storage
layout, then reshaped where the canonical shape flattens axes: an ``EinsumDense`` kernel
``(E, heads, head_dim)`` becomes ``(heads * head_dim, E)``, rows head-major as torch's).

Keras's layers differ from the canonical ones in two places, both declared in spec.ABSENT: an
LSTM has one bias (torch's ``bias_ih`` + ``bias_hh``; dumped as ``bias_ih``) and
MultiHeadAttention has separate q/k/v biases (``(heads, head_dim)`` each, no ``in_proj_bias``).
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import numpy as np

import oneinit
from oneinit.adapters import keras as oik

sys.path.insert(0, str(Path(__file__).parent))
import driver
import spec

#: A weight's storage layout and convolution groups (None: a vector, stored as it is).
Storage = tuple[str | oneinit.Layout | None, int]


# --------------------------------------------------------------------------------------------
# Models: one builder and one mapping {Keras variable path: canonical name} per model.


def build_mlp() -> keras.Model:
    x = keras.Input((20,), name="x")
    mid = keras.layers.Dense(32, name="mid")  # called twice: one set of variables
    h = keras.layers.Dense(32, activation="tanh", name="fc1")(x)
    h = keras.layers.Activation("tanh")(mid(mid(h)))
    return keras.Model(x, keras.layers.Dense(10, name="fc2")(h), name="mlp")


def build_cnn() -> keras.Model:
    x = keras.Input((12, 12, 8), name="x")  # NHWC
    h = keras.layers.Conv2D(16, 3, padding="same", activation="relu", name="conv")(x)
    h = keras.layers.Conv2D(16, 3, padding="same", groups=4, activation="relu", name="grouped")(h)
    h = keras.layers.DepthwiseConv2D(3, padding="same", activation="relu", name="depthwise")(h)
    y = keras.layers.Conv2DTranspose(8, 2, strides=2, name="up")(h)
    return keras.Model(x, y, name="cnn")


def build_seq() -> keras.Model:
    tokens = keras.Input((7,), dtype="int64", name="tokens")
    h = keras.layers.Embedding(50, 16, name="embed")(tokens)
    # Gates i, f, c, o (torch's i, f, g, o), recurrent activation sigmoid: torch's LSTM; the
    # layer returns the last step.
    h = keras.layers.LSTM(24, name="lstm")(h)
    return keras.Model(tokens, keras.layers.Dense(5, name="head")(h), name="seq")


def build_attn() -> keras.Model:
    query = keras.Input((5, 16), name="query")
    memory = keras.Input((6, 12), name="memory")
    attention = keras.layers.MultiHeadAttention(num_heads=4, key_dim=4, name="attn")
    return keras.Model([query, memory], attention(query, memory), name="attn")  # value = memory


MODEL_BUILDERS: dict[str, Callable[[], keras.Model]] = {
    "mlp": build_mlp,
    "cnn": build_cnn,
    "seq": build_seq,
    "attn": build_attn,
}

#: Each model's variables: Keras path -> canonical name.
NAMES: dict[str, dict[str, str]] = {
    "mlp": {
        f"{layer}/{variable}": f"mlp.{layer}.{slot}"
        for layer in ("fc1", "mid", "fc2")
        for variable, slot in (("kernel", "weight"), ("bias", "bias"))
    },
    "cnn": {
        f"{layer}/{variable}": f"cnn.{layer}.{slot}"
        for layer in ("conv", "grouped", "depthwise", "up")
        for variable, slot in (("kernel", "weight"), ("bias", "bias"))
    },
    "seq": {
        "embed/embeddings": "seq.embed.weight",
        "lstm/lstm_cell/kernel": "seq.lstm.weight_ih",
        "lstm/lstm_cell/recurrent_kernel": "seq.lstm.weight_hh",
        "lstm/lstm_cell/bias": "seq.lstm.bias_ih",  # Keras's one bias: bias_ih + bias_hh
        "head/kernel": "seq.head.weight",
        "head/bias": "seq.head.bias",
    },
    "attn": {
        f"attn/{keras_part}/{variable}": f"attn.{part}_{slot}"
        for keras_part, part in (
            ("query", "q_proj"),
            ("key", "k_proj"),
            ("value", "v_proj"),
            ("attention_output", "out_proj"),
        )
        for variable, slot in (("kernel", "weight"), ("bias", "bias"))
    },
}

_QKV = oneinit.Layout.einsum((0,), (1, 2))  # "abc,cde->abde": (E_in, heads, head_dim)
#: Keras's storage layout of each canonical weight (every other parameter is a vector).
STORAGE: dict[str, Storage] = {
    "mlp.fc1.weight": ("dense_in_out", 1),
    "mlp.mid.weight": ("dense_in_out", 1),
    "mlp.fc2.weight": ("dense_in_out", 1),
    "cnn.conv.weight": ("conv_k_in_out", 1),
    "cnn.grouped.weight": ("conv_k_in_out", 4),  # (3, 3, in / groups, out)
    "cnn.depthwise.weight": ("depthwise_k_in_mult", 16),  # (3, 3, 16, multiplier 1)
    "cnn.up.weight": ("conv_transpose_k_out_in", 1),  # (2, 2, out, in)
    "seq.embed.weight": ("embedding", 1),
    "seq.lstm.weight_ih": ("dense_in_out", 1),  # (in, 4H), gates along the columns
    "seq.lstm.weight_hh": ("dense_in_out", 1),
    "seq.head.weight": ("dense_in_out", 1),
    "attn.q_proj_weight": (_QKV, 1),
    "attn.k_proj_weight": (_QKV, 1),
    "attn.v_proj_weight": (_QKV, 1),
    "attn.out_proj_weight": (oneinit.Layout.einsum((0, 1), (2,)), 1),  # "abcd,cde->abe"
}


def to_numpy(tensor: Any) -> np.ndarray:
    return np.asarray(keras.ops.convert_to_numpy(tensor))


def canonical(values: np.ndarray, storage: Storage, shape: tuple[int, ...]) -> np.ndarray:
    """Keras's stored ``values`` in the canonical layout and ``shape`` (dtype unchanged)."""
    layout, groups = storage
    if layout is not None:
        values = oneinit.to_canonical(values, layout, groups=groups)
    return np.reshape(values, shape)  # flattens EinsumDense axes and (heads, head_dim) biases


def model_params(model_name: str, model: keras.Model) -> dict[str, np.ndarray]:
    """Every variable of ``model``, canonical name -> canonical values."""
    params = {p.name: p for p in spec.MODELS[model_name].params}
    names = NAMES[model_name]
    variables = {v.path: v for v in model.weights}
    if set(variables) != set(names):
        raise RuntimeError(
            f"{model_name}: Keras built variables {sorted(variables)}, the mapping names "
            f"{sorted(names)}"
        )
    return {
        names[path]: canonical(
            to_numpy(variable),
            STORAGE.get(names[path], (None, 1)),
            params[names[path]].shape,
        )
        for path, variable in variables.items()
    }


def forward(model_name: str, model: keras.Model) -> np.ndarray:
    """The model's output on spec.model_inputs, channels first like the inputs."""
    inputs = spec.model_inputs(model_name)
    if model_name == "cnn":
        y = model(np.transpose(inputs["x"], (0, 2, 3, 1)), training=False)
        return np.transpose(to_numpy(y), (0, 3, 1, 2))
    ordered = [inputs[tensor.name] for tensor in model.inputs]
    return to_numpy(model(ordered if len(ordered) > 1 else ordered[0], training=False))


# --------------------------------------------------------------------------------------------
# Layer cases.


Weights = dict[str, tuple[Any, Storage]]  # slot -> (Keras variable, storage)


def dense_layer(s: dict[str, int], dtype: str, initializers: dict[str, Any]) -> tuple[Any, Weights]:
    layer = keras.layers.Dense(s["out"], dtype=dtype, **initializers)
    layer.build((None, s["in"]))
    return layer, {"weight": (layer.kernel, ("dense_in_out", 1))}


def conv_layer(s: dict[str, int], dtype: str, initializers: dict[str, Any]) -> tuple[Any, Weights]:
    layer = keras.layers.Conv2D(
        s["out"], s["kernel"], groups=s["groups"], dtype=dtype, **initializers
    )
    layer.build((None, None, None, s["in"]))
    return layer, {"weight": (layer.kernel, ("conv_k_in_out", s["groups"]))}


def depthwise_layer(
    s: dict[str, int], dtype: str, initializers: dict[str, Any]
) -> tuple[Any, Weights]:
    multiplier = s["out"] // s["in"]
    layer = keras.layers.DepthwiseConv2D(
        s["kernel"], depth_multiplier=multiplier, dtype=dtype, **initializers
    )
    layer.build((None, None, None, s["in"]))
    # Keras 3.15 names the depthwise kernel "kernel"; earlier 3.x "depthwise_kernel".
    kernel = layer.depthwise_kernel if hasattr(layer, "depthwise_kernel") else layer.kernel
    return layer, {"weight": (kernel, ("depthwise_k_in_mult", s["groups"]))}


def conv_transpose_layer(
    s: dict[str, int], dtype: str, initializers: dict[str, Any]
) -> tuple[Any, Weights]:
    layer = keras.layers.Conv2DTranspose(s["out"], s["kernel"], dtype=dtype, **initializers)
    layer.build((None, None, None, s["in"]))
    return layer, {"weight": (layer.kernel, ("conv_transpose_k_out_in", 1))}


def embedding_layer(
    s: dict[str, int], dtype: str, initializers: dict[str, Any]
) -> tuple[Any, Weights]:
    layer = keras.layers.Embedding(s["num"], s["dim"], dtype=dtype, **initializers)
    layer.build((None, None))
    return layer, {"weight": (layer.embeddings, ("embedding", 1))}


def lstm_layer(s: dict[str, int], dtype: str, initializers: dict[str, Any]) -> tuple[Any, Weights]:
    layer = keras.layers.LSTM(s["hidden"], dtype=dtype, **initializers)
    layer.build((None, None, s["in"]))
    return layer, {
        "weight_ih": (layer.cell.kernel, ("dense_in_out", 1)),
        "weight_hh": (layer.cell.recurrent_kernel, ("dense_in_out", 1)),
    }


#: Each layer case's builder and the constructor arguments that take its weights' initializers.
CASE_BUILDERS: dict[str, tuple[Callable[..., tuple[Any, Weights]], tuple[str, ...]]] = {
    "dense": (dense_layer, ("kernel_initializer",)),
    "dense_bf16": (dense_layer, ("kernel_initializer",)),
    "conv2d": (conv_layer, ("kernel_initializer",)),
    "grouped_conv2d": (conv_layer, ("kernel_initializer",)),
    "depthwise_conv2d": (depthwise_layer, ("depthwise_initializer",)),
    "conv_transpose2d": (conv_transpose_layer, ("kernel_initializer",)),
    "embedding": (embedding_layer, ("embeddings_initializer",)),
    "lstm": (lstm_layer, ("kernel_initializer", "recurrent_initializer")),
}


def build_case_layer(
    layer: spec.Layer, own: Callable[[], Any] | None = None
) -> tuple[Any, Weights]:
    """``layer`` built natively with ``layer.dtype`` weights; ``own()`` (if given) makes the
    initializer of each weight, passed at construction.
    """
    build, arguments = CASE_BUILDERS[layer.name]
    initializers = {} if own is None else {argument: own() for argument in arguments}
    return build(layer.settings, layer.dtype, initializers)


#: oneinit presets with a Keras class of the same name (Keras's *Normal ones are truncated).
KERAS_PRESETS: dict[type[oneinit.Scheme], str] = {
    oneinit.GlorotUniform: "GlorotUniform",
    oneinit.GlorotNormal: "GlorotNormal",
    oneinit.HeUniform: "HeUniform",
    oneinit.HeNormal: "HeNormal",
    oneinit.LecunUniform: "LecunUniform",
    oneinit.LecunNormal: "LecunNormal",
}
FAN_SCHEMES = (oneinit.VarianceScaling, *KERAS_PRESETS)


def own_initializer(scheme: oneinit.Scheme) -> tuple[str, dict[str, Any]] | str:
    """Keras's own initializer of the same name as ``(class name, arguments)``, or why none.

    Keras's fan rule and defaults apply: its normal presets are truncated at +-2 std, and a
    preset with parameters Keras's class lacks (HeNormal with mode="fan_out") is Keras's
    VarianceScaling with the same scale and mode, and the preset's (truncated) normal.
    """
    if isinstance(scheme, spec.SignedBandMixture):
        return "a user-defined oneinit scheme (spec.SignedBandMixture): Keras has none"
    if isinstance(scheme, FAN_SCHEMES):
        preset = KERAS_PRESETS.get(type(scheme))
        if preset is not None and _without_variant(scheme) == _without_variant(type(scheme)()):
            return preset, {}
        if scheme.fan_mode not in ("fan_in", "fan_out", "fan_avg"):
            return f"Keras's VarianceScaling has no mode={scheme.fan_mode!r}"
        family = scheme.distribution_name
        if family == "normal":  # untruncated in oneinit; Keras's presets truncate
            preset_variant = not isinstance(scheme, oneinit.VarianceScaling)
            family = "truncated_normal" if preset_variant else "untruncated_normal"
        return "VarianceScaling", {
            "scale": round(scheme.variance_scale, 12),  # 2.0, not 2.0000000000000004
            "mode": scheme.fan_mode,
            "distribution": family,
        }
    if isinstance(scheme, oneinit.TruncatedNormal):
        lower, upper = scheme.lower, scheme.upper
        if scheme.units == "absolute":
            lower, upper = (lower - scheme.mean) / scheme.std, (upper - scheme.mean) / scheme.std
        if (lower, upper) != (-2.0, 2.0):
            return f"Keras's TruncatedNormal cuts at mean +- 2 stddev only, not {scheme}"
        return "TruncatedNormal", {"mean": scheme.mean, "stddev": scheme.std}
    if isinstance(scheme, oneinit.Uniform):
        return "RandomUniform", {"minval": scheme.low, "maxval": scheme.high}
    if isinstance(scheme, oneinit.Normal):
        return "RandomNormal", {"mean": scheme.mean, "stddev": scheme.std}
    if isinstance(scheme, oneinit.Orthogonal):
        return "Orthogonal", {"gain": scheme.gain}
    return f"Keras has no initializer for {type(scheme).__name__}"


def _without_variant(scheme: oneinit.Scheme) -> dict[str, Any]:
    """The scheme's parameters except the normal variant (Keras's own class decides it)."""
    return {k: v for k, v in scheme.to_config().items() if k != "distribution"}


def case_built(layer: spec.Layer, built: Any, weights: Weights) -> driver.Built:
    names = {variable.path: slot for slot, (variable, _) in weights.items()}
    return driver.Built(built, names, lambda: case_values(layer, weights))


def case_layer(layer: spec.Layer) -> driver.Built:
    return case_built(layer, *build_case_layer(layer))


def own(scheme: oneinit.Scheme, layer: spec.Layer, global_seed: int) -> driver.Own:
    """Keras's own initializer of ``scheme``'s name on ``layer``, given at construction as a
    Keras user gives it (seeded with ``global_seed``).
    """
    found = own_initializer(scheme)
    if isinstance(found, str):
        return {"own": None, "own_note": found}, None
    class_name, arguments = found
    arguments = {**arguments, "seed": global_seed}
    call = f"keras.initializers.{class_name}({_arguments(arguments)})"
    own_class = functools.partial(getattr(keras.initializers, class_name), **arguments)
    try:
        built, weights = build_case_layer(layer, own_class)
    except Exception as error:  # Keras's initializer itself fails (e.g. QR in bfloat16)
        first_line = str(error).strip().splitlines()[0]
        note = f"{call} fails on {layer.description}: {type(error).__name__}: {first_line}"
        return {"own": None, "own_note": note}, None
    arguments_given = CASE_BUILDERS[layer.name][1]
    entry = {"own": ", ".join(f"{a}={call}" for a in arguments_given), "own_note": None}
    return entry, case_built(layer, built, weights)


def _arguments(arguments: dict[str, Any]) -> str:
    return ", ".join(f"{name}={value!r}" for name, value in arguments.items())


def case_values(layer: spec.Layer, weights: Weights) -> dict[str, np.ndarray]:
    shapes = {p.slot: p.shape for p in layer.params}
    return {
        slot: canonical(to_numpy(variable), storage, shapes[slot])
        for slot, (variable, storage) in weights.items()
    }


def _version() -> str:
    backend = keras.backend.backend()
    backend_version = getattr(sys.modules.get(backend), "__version__", "unknown")  # imported
    return f"keras {keras.__version__}, {backend} {backend_version}"


FRAMEWORK = driver.Framework(
    name="keras",
    version=_version(),
    description=__doc__.splitlines()[0],
    set_seed=keras.utils.set_random_seed,
    models=MODEL_BUILDERS,
    names=NAMES,
    initialize=oik.initialize,
    params=model_params,
    forward=forward,
    case_layer=case_layer,
    own=own,
)


# --------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    driver.run(FRAMEWORK, argv)


if __name__ == "__main__":
    main()
