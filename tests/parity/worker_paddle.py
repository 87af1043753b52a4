"""The parity suite's PaddlePaddle worker: ``python tests/parity/worker_paddle.py REQUEST OUT``.

Builds :data:`spec.MODELS` and :data:`spec.LAYERS` natively in Paddle (dygraph, CPU),
initializes them through ``oneinit.adapters.paddle`` and writes ``OUT/paddle.npz`` and
``OUT/paddle.json`` as ``spec.py`` describes. Run it with the paddle venv's python only (never in
a process that imports TensorFlow).

Paddle stores a Linear weight ``(in, out)``, a Conv2D weight ``(out, in/g, k, k)``, a
Conv2DTranspose weight ``(in, out/g, k, k)`` and an LSTM's stacked gates (i, f, c, o: torch's
order) ``(4H, in)``; every dumped parameter is converted to the canonical layout with
:func:`oneinit.to_canonical`. An LSTM's parameters are also reachable through its cell
(``lstm.0.cell.weight_ih``) and are coalesced into one flat buffer that its kernel reads; they
are the same tensors, dumped once under the LSTM's own names.
"""

from __future__ import annotations

import contextlib
import math
import sys
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import driver
import spec

import oneinit
from oneinit.adapters import paddle as oip

with warnings.catch_warnings():  # Paddle warns at import that ccache (a build tool) is absent
    warnings.filterwarnings("ignore", message="No ccache found", category=UserWarning)
    import paddle

nn = paddle.nn


# --------------------------------------------------------------------------------------------
# Reference models (spec.MODELS), one class each, and their canonical names.


class MLP(nn.Layer):
    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(20, 32)
        self.mid = nn.Linear(32, 32)
        self.fc2 = nn.Linear(32, 10)

    def forward(self, x: Any) -> Any:
        hidden = paddle.tanh(self.fc1(x))
        hidden = paddle.tanh(self.mid(self.mid(hidden)))  # one layer, called twice
        return self.fc2(hidden)


class CNN(nn.Layer):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2D(8, 16, 3, padding=1)
        self.grouped = nn.Conv2D(16, 16, 3, padding=1, groups=4)
        self.depthwise = nn.Conv2D(16, 16, 3, padding=1, groups=16)
        self.up = nn.Conv2DTranspose(16, 8, 2, stride=2)

    def forward(self, x: Any) -> Any:  # NCHW, Paddle's default
        x = nn.functional.relu(self.conv(x))
        x = nn.functional.relu(self.grouped(x))
        x = nn.functional.relu(self.depthwise(x))
        return self.up(x)


class Seq(nn.Layer):
    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(50, 16)
        self.lstm = nn.LSTM(16, 24)  # batch first (time_major=False)
        self.head = nn.Linear(24, 5)

    def forward(self, tokens: Any) -> Any:
        outputs, _ = self.lstm(self.embed(tokens))
        return self.head(outputs[:, -1])


class Attn(nn.Layer):
    def __init__(self) -> None:
        super().__init__()
        self.attn = nn.MultiHeadAttention(16, 4, kdim=12, vdim=12, dropout=0.0)

    def forward(self, query: Any, memory: Any) -> Any:
        return self.attn(query, memory, memory)


MODELS: dict[str, Callable[[], nn.Layer]] = {"mlp": MLP, "cnn": CNN, "seq": Seq, "attn": Attn}

#: Paddle's parameter name -> canonical name, per model.
NAMES: dict[str, dict[str, str]] = {
    "mlp": {
        f"{layer}.{slot}": f"mlp.{layer}.{slot}"
        for layer in ("fc1", "mid", "fc2")
        for slot in ("weight", "bias")
    },
    "cnn": {
        f"{layer}.{slot}": f"cnn.{layer}.{slot}"
        for layer in ("conv", "grouped", "depthwise", "up")
        for slot in ("weight", "bias")
    },
    "seq": {
        "embed.weight": "seq.embed.weight",
        "lstm.weight_ih_l0": "seq.lstm.weight_ih",
        "lstm.weight_hh_l0": "seq.lstm.weight_hh",
        "lstm.bias_ih_l0": "seq.lstm.bias_ih",
        "lstm.bias_hh_l0": "seq.lstm.bias_hh",
        "head.weight": "seq.head.weight",
        "head.bias": "seq.head.bias",
    },
    "attn": {
        f"attn.{proj}.{slot}": f"attn.{proj}_{slot}"
        for proj in ("q_proj", "k_proj", "v_proj", "out_proj")
        for slot in ("weight", "bias")
    },
}


# --------------------------------------------------------------------------------------------
# Layer cases (spec.LAYERS): one builder per layer, the constructor keywords that take a weight
# initializer, and the slot names of its weights.

LAYERS: dict[str, Callable[..., nn.Layer]] = {
    "dense": lambda s, **attrs: nn.Linear(s["in"], s["out"], **attrs),
    "conv2d": lambda s, **attrs: nn.Conv2D(
        s["in"], s["out"], s["kernel"], groups=s["groups"], **attrs
    ),
    "conv_transpose2d": lambda s, **attrs: nn.Conv2DTranspose(
        s["in"], s["out"], s["kernel"], groups=s["groups"], **attrs
    ),
    "embedding": lambda s, **attrs: nn.Embedding(s["num"], s["dim"], **attrs),
    "lstm": lambda s, **attrs: nn.LSTM(s["in"], s["hidden"], **attrs),
}
#: spec layer name -> builder above (bf16 parameters come from the default dtype).
BUILDER = {
    "dense": "dense",
    "dense_bf16": "dense",
    "conv2d": "conv2d",
    "grouped_conv2d": "conv2d",
    "depthwise_conv2d": "conv2d",  # Conv2D(64, 128, 5, groups=64)
    "conv_transpose2d": "conv_transpose2d",
    "embedding": "embedding",
    "lstm": "lstm",
}
WEIGHT_ATTRS = {"lstm": ("weight_ih_attr", "weight_hh_attr")}  # others: ("weight_attr",)
SLOTS = {"lstm": {"weight_ih_l0": "weight_ih", "weight_hh_l0": "weight_hh"}}  # others: weight


def build_layer(layer: spec.Layer, initializer: Any = None) -> nn.Layer:
    """The layer of a case, its weights given ``initializer`` at construction (None: Paddle's
    default)."""
    builder = BUILDER[layer.name]
    attrs = {}
    if initializer is not None:
        keywords = WEIGHT_ATTRS.get(builder, ("weight_attr",))
        attrs = {k: paddle.ParamAttr(initializer=initializer) for k in keywords}
    with default_dtype(layer.dtype):
        return LAYERS[builder](layer.settings, **attrs)


@contextlib.contextmanager
def default_dtype(dtype: str) -> Iterator[None]:
    previous = paddle.get_default_dtype()
    paddle.set_default_dtype(dtype)
    try:
        yield
    finally:
        paddle.set_default_dtype(previous)


# --------------------------------------------------------------------------------------------
# Paddle's own initializer of the same name (``own`` mode).


Own = tuple[str | None, dict[str, Any], str | None]


def missing(why: str) -> Own:
    return None, {}, why


def own_initializer(scheme: oneinit.Scheme) -> Own:
    """(class in ``paddle.nn.initializer``, its arguments, None) for ``scheme``, or (None, {},
    why Paddle has none)."""
    name = type(scheme).__name__
    distribution = getattr(scheme, "distribution", "normal")
    if name == "LecunNormal" and distribution == "truncated_normal":
        return missing(
            "Paddle has no LecunNormal; KaimingNormal(nonlinearity='linear') is only its "
            "untruncated form"
        )
    if name == "VarianceScaling" and distribution == "truncated_normal":
        return missing(
            "Paddle has no VarianceScaling and no truncated fan-scaled normal; XavierNormal and "
            "KaimingNormal are untruncated"
        )
    if distribution == "truncated_normal":  # GlorotNormal, HeNormal
        return missing(f"Paddle's counterpart of {name} is untruncated")
    if name in ("GlorotUniform", "GlorotNormal"):
        return f"Xavier{name[6:]}", {"gain": scheme.gain}, None
    if name in ("HeUniform", "HeNormal"):
        kwargs = {"nonlinearity": scheme.nonlinearity, "mode": scheme.mode}
        if scheme.nonlinearity == "leaky_relu":
            kwargs["negative_slope"] = scheme.negative_slope
        return f"Kaiming{name[2:]}", kwargs, None
    if name in ("LecunUniform", "LecunNormal"):  # gain 1 on fan_in
        return f"Kaiming{name[5:]}", {"nonlinearity": "linear", "mode": "fan_in"}, None
    if name == "VarianceScaling":
        kind = "Uniform" if distribution == "uniform" else "Normal"
        if scheme.mode == "fan_avg":
            return f"Xavier{kind}", {"gain": math.sqrt(scheme.scale)}, None
        gains = {1.0: "linear", 2.0: "relu"}  # Kaiming's gain comes from a nonlinearity
        if scheme.mode in ("fan_in", "fan_out") and scheme.scale in gains:
            kwargs = {"nonlinearity": gains[scheme.scale], "mode": scheme.mode}
            return f"Kaiming{kind}", kwargs, None
        return missing(f"Paddle has no VarianceScaling({scheme.scale}, {scheme.mode!r})")
    if name == "TruncatedNormal":  # Paddle's a, b are absolute
        scale, offset = (scheme.std, scheme.mean) if scheme.units == "std" else (1.0, 0.0)
        bounds = {"a": offset + scheme.lower * scale, "b": offset + scheme.upper * scale}
        return name, {"mean": scheme.mean, "std": scheme.std, **bounds}, None
    if name == "Normal":
        return name, {"mean": scheme.mean, "std": scheme.std}, None
    if name == "Uniform":
        return name, {"low": scheme.low, "high": scheme.high}, None
    if name == "Orthogonal":
        return name, {"gain": scheme.gain}, None
    return missing(f"Paddle has no initializer like {scheme!r} (a user-defined scheme)")


def call_text(name: str, kwargs: dict[str, Any], layer: spec.Layer) -> str:
    arguments = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
    initializer = f"paddle.ParamAttr(initializer=paddle.nn.initializer.{name}({arguments}))"
    keywords = WEIGHT_ATTRS.get(BUILDER[layer.name], ("weight_attr",))
    return ", ".join(f"{k}={initializer}" for k in keywords)


# --------------------------------------------------------------------------------------------
# Dumping: parameters in the canonical layout.


def storage_layout(layer: nn.Layer) -> tuple[str, int]:
    """How ``layer`` stores its matrices and kernels: (layout, groups)."""
    if isinstance(layer, nn.Linear):
        return "dense_in_out", 1
    if isinstance(layer, nn.Conv2DTranspose):
        return "conv_transpose_in_out", layer._groups
    if isinstance(layer, nn.Conv2D):
        return "conv_out_in", layer._groups
    if isinstance(layer, nn.Embedding):
        return "embedding", 1
    if isinstance(layer, nn.LSTM):
        return "recurrent_out_in", 1
    raise TypeError(f"No storage layout known for {type(layer).__name__}.")


def canonical_params(model: nn.Layer, names: dict[str, str]) -> dict[str, np.ndarray]:
    """Every parameter ``names`` maps, by canonical name, in the canonical layout (float32)."""
    arrays = {}
    for prefix, layer in model.named_sublayers(include_self=True):
        for local, param in layer._parameters.items():
            own = f"{prefix}.{local}" if prefix else local
            if param is None or own not in names:
                continue  # an LSTM cell's view of its parent's parameters, or unnamed
            values = param.astype("float32").numpy()
            if values.ndim >= 2:
                layout, groups = storage_layout(layer)
                values = oneinit.to_canonical(values, layout, groups=groups)
            arrays[names[own]] = np.ascontiguousarray(values)
    return arrays


def model_params(model: str, built: nn.Layer) -> dict[str, np.ndarray]:
    arrays = canonical_params(built, NAMES[model])
    expected = {p.name: p.shape for p in spec.MODELS[model].params}
    wanted = spec.expected_names(model, FRAMEWORK.name)
    if set(arrays) != wanted or any(arrays[n].shape != expected[n] for n in arrays):
        got = {n: a.shape for n, a in arrays.items()}
        raise RuntimeError(f"{model}: dumped {got}, the spec wants {sorted(wanted)}")
    return arrays


def forward(model: str, built: nn.Layer) -> np.ndarray:
    built.eval()
    inputs = {k: paddle.to_tensor(v) for k, v in spec.model_inputs(model).items()}
    with paddle.no_grad():
        return built(**inputs).numpy()


# --------------------------------------------------------------------------------------------
# The layer cases, for the driver.


def case_built(layer: spec.Layer, built: nn.Layer) -> driver.Built:
    slots = SLOTS.get(layer.name, {"weight": "weight"})
    return driver.Built(built, slots, lambda: canonical_params(built, slots))


def case_layer(layer: spec.Layer) -> driver.Built:
    return case_built(layer, build_layer(layer))


def own(scheme: oneinit.Scheme, layer: spec.Layer, global_seed: int) -> driver.Own:
    """Paddle's own initializer of ``scheme``'s name, given at construction."""
    name, kwargs, note = own_initializer(scheme)
    if name is None:
        return {"own": None, "own_note": note}, None
    try:
        built = build_layer(layer, getattr(paddle.nn.initializer, name)(**kwargs))
    except RuntimeError as error:  # a Paddle kernel missing for this dtype
        reason = str(error).strip().splitlines()[0]
        note = f"{call_text(name, kwargs, layer)} fails in Paddle: {reason}"
        return {"own": None, "own_note": note}, None
    return {"own": call_text(name, kwargs, layer), "own_note": note}, case_built(layer, built)


FRAMEWORK = driver.Framework(
    name="paddle",
    version=paddle.__version__,
    description=__doc__.splitlines()[0],
    set_seed=paddle.seed,
    models=MODELS,
    names=NAMES,
    initialize=oip.initialize,
    params=model_params,
    forward=forward,
    case_layer=case_layer,
    own=own,
)


def main(argv: list[str] | None = None) -> None:
    paddle.set_device("cpu")
    driver.run(FRAMEWORK, argv)


if __name__ == "__main__":
    main()
