"""``python -m oneinit explain``: what a scheme means for one layer, in oneinit and each framework.

For a scheme and a layer (kind, channels, kernel, groups) it prints the fans, gain, bound or std
and truncation oneinit uses; next to them, each framework's storage shape and what that
framework's own initializer of the same name gives for the same layer (its own fan rule and its
own variant of the distribution); and the statistics of a seeded sample.

Example::

    python -m oneinit explain --scheme HeNormal --layer conv_transpose2d --in 16 --out 32
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .core.fans import Fans, compute_fans
from .core.random import Distribution, UniformDistribution
from .core.schemes import RandomScheme, Scheme, scheme_from_config

FRAMEWORKS = ("torch", "keras", "paddle", "mxnet")
LAYER_KINDS = (
    "dense",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
    "depthwise1d",
    "depthwise2d",
    "depthwise3d",
    "embedding",
    "lstm",
    "gru",
    "rnn",
)
_GATES = {"lstm": 4, "gru": 3, "rnn": 1}


@dataclasses.dataclass(frozen=True)
class Storage:
    """How one framework stores the layer's weight."""

    shape: tuple[int, ...]
    layout: str
    groups: int = 1
    blocks: int = 1


def storage(
    framework: str, layer: str, cin: int, cout: int, kernel: int, groups: int
) -> Storage | None:
    """The weight's storage in ``framework`` (None where the framework has no such layer).

    ``layer`` is a kind of :data:`LAYER_KINDS`; ``cin``/``cout`` are channels (features; for an
    embedding the vocabulary and the dimension; for recurrent layers input size and hidden size).
    """
    channels_last = framework == "keras"
    if layer == "dense":
        return (
            Storage((cin, cout), "dense_in_out")
            if framework in ("keras", "paddle")
            else Storage((cout, cin), "dense_out_in")
        )
    if layer == "embedding":
        return Storage((cin, cout), "embedding")
    if layer in _GATES:
        gates = _GATES[layer]
        if channels_last:
            return Storage((cin, gates * cout), "recurrent_in_out", blocks=gates)
        return Storage((gates * cout, cin), "recurrent_out_in", blocks=gates)
    ndim = int(layer[-2])
    k = (kernel,) * ndim
    if layer.startswith("depthwise"):
        if cout % cin:
            raise ValueError(
                f"A depthwise layer needs out divisible by in (the channel multiplier). "
                f"Received: in={cin}, out={cout}"
            )
        if channels_last:
            return Storage((*k, cin, cout // cin), "depthwise_k_in_mult")
        return Storage((cout, 1, *k), "conv_out_in", groups=cin)
    if layer.startswith("conv_transpose"):
        if channels_last:
            return None if groups > 1 else Storage((*k, cout, cin), "conv_transpose_k_out_in")
        return Storage((cin, cout // groups, *k), "conv_transpose_in_out", groups=groups)
    if channels_last:
        return Storage((*k, cin // groups, cout), "conv_k_in_out", groups=groups)
    return Storage((cout, cin // groups, *k), "conv_out_in", groups=groups)


# What each framework's own initializer of the same name is, as a oneinit scheme config change:
# Keras (and JAX) truncate the normals of the Glorot/He/LeCun presets.
_OWN_NAMES = {
    "GlorotUniform": {
        "torch": "xavier_uniform_",
        "keras": "GlorotUniform",
        "paddle": "XavierUniform",
        "mxnet": "Xavier('uniform', 'avg', 3)",
    },
    "GlorotNormal": {
        "torch": "xavier_normal_",
        "keras": "GlorotNormal",
        "paddle": "XavierNormal",
        "mxnet": "Xavier('gaussian', 'avg', 1)",
    },
    "HeUniform": {
        "torch": "kaiming_uniform_",
        "keras": "HeUniform",
        "paddle": "KaimingUniform",
        "mxnet": "Xavier('uniform', 'in', 6)",
    },
    "HeNormal": {
        "torch": "kaiming_normal_",
        "keras": "HeNormal",
        "paddle": "KaimingNormal",
        "mxnet": "Xavier('gaussian', 'in', 2)",
    },
    "LecunUniform": {
        "torch": "kaiming_uniform_(nonlinearity='linear')",
        "keras": "LecunUniform",
        "paddle": "KaimingUniform(nonlinearity='linear')",
        "mxnet": "Xavier('uniform', 'in', 3)",
    },
    "LecunNormal": {
        "torch": "kaiming_normal_(nonlinearity='linear')",
        "keras": "LecunNormal",
        "paddle": "KaimingNormal(nonlinearity='linear')",
        "mxnet": "Xavier('gaussian', 'in', 1)",
    },
    "VarianceScaling": {"torch": "-", "keras": "VarianceScaling", "paddle": "-", "mxnet": "-"},
}


def framework_variant(scheme: Scheme, framework: str) -> Scheme:
    """The scheme as ``framework``'s own initializer of that name defines it."""
    config = scheme.to_config()
    if framework == "keras" and config.get("distribution") == "normal":
        config["distribution"] = "truncated_normal"  # Keras reads every *Normal as truncated
    return scheme_from_config(config)


def describe(distribution: Distribution) -> str:
    """A one-line description with units."""
    if isinstance(distribution, UniformDistribution):
        if distribution.low == -distribution.high:
            return f"U(+-{distribution.high:.6g})"
        return f"U({distribution.low:.6g}, {distribution.high:.6g})"
    text = f"N({distribution.mean:.6g}, std={distribution.std:.6g})"
    if distribution.truncated:
        text += (
            f" truncated to [{distribution.lower:.6g}, {distribution.upper:.6g}] std"
            f" = [{distribution.low:.6g}, {distribution.high:.6g}],"
            f" actual std {distribution.actual_std:.6g}"
        )
    return text


def actual_std(distribution: Distribution) -> float:
    if isinstance(distribution, UniformDistribution):
        return distribution.std
    return distribution.actual_std


def cdf(distribution: Distribution, x: np.ndarray) -> np.ndarray:
    """The distribution's CDF at ``x`` (float64)."""
    x = np.asarray(x, dtype=np.float64)
    if isinstance(distribution, UniformDistribution):
        return np.clip((x - distribution.low) / (distribution.high - distribution.low), 0.0, 1.0)
    erf = np.frompyfunc(math.erf, 1, 1)
    z = (x - distribution.mean) / distribution.std
    phi = 0.5 * (1.0 + erf(z / math.sqrt(2.0)).astype(np.float64))
    lower = 0.5 * (1.0 + math.erf(distribution.lower / math.sqrt(2.0)))
    upper = 0.5 * (1.0 + math.erf(distribution.upper / math.sqrt(2.0)))
    return np.clip((phi - lower) / (upper - lower), 0.0, 1.0)


def ks_distance(distribution: Distribution, sample: np.ndarray) -> float:
    """Kolmogorov-Smirnov distance between a sample and the distribution."""
    x = np.sort(np.asarray(sample, dtype=np.float64).ravel())
    n = x.size
    f = cdf(distribution, x)
    return float(max(np.max(np.arange(1, n + 1) / n - f), np.max(f - np.arange(n) / n)))


def ks_critical(n: int, alpha: float = 1e-3) -> float:
    """Asymptotic KS critical value: sqrt(-ln(alpha / 2) / 2) / sqrt(n)."""
    return math.sqrt(-math.log(alpha / 2.0) / 2.0) / math.sqrt(n)


def _fans_text(fans: Fans | None) -> str:
    return "-" if fans is None else f"({fans.fan_in}, {fans.fan_out})"


def explain(
    scheme: Scheme, layer: str, cin: int, cout: int, kernel: int = 3, groups: int = 1, seed: int = 0
) -> str:
    """The report as text."""
    lines = [
        f"scheme: {scheme!r}",
        f"layer:  {layer}  in={cin} out={cout} kernel={kernel} groups={groups}",
        "",
    ]
    reference = storage("torch", layer, cin, cout, kernel, groups)
    assert reference is not None  # torch has every layer kind listed
    fans = compute_fans(
        reference.shape, reference.layout, groups=reference.groups, blocks=reference.blocks
    )
    distribution = scheme.distribution_for(fans) if isinstance(scheme, RandomScheme) else None
    lines.append(
        f"oneinit, in every framework: fans (fan_in, fan_out) = {_fans_text(fans)}, "
        f"receptive field {fans.receptive_field}"
    )
    if distribution is not None:
        gain = getattr(scheme, "gain", None)
        if gain is None and hasattr(scheme, "variance_scale"):
            gain = math.sqrt(scheme.variance_scale)
        if gain is not None:
            lines.append(f"  gain (multiplies the std) = {gain:.6g}")
        lines.append(f"  distribution: {describe(distribution)}")
    lines.append("")
    columns = [
        ("framework", "<10"),
        ("storage shape", "<18"),
        ("layout", "<24"),
        ("oneinit fans", "<13"),
        ("own rule fans", "<15"),
        ("own initializer", "<38"),
        ("own std", ">9"),
        ("/ oneinit", ">9"),
    ]
    header = " ".join(format(name, spec) for name, spec in columns)
    lines += [header, "-" * len(header)]
    for framework in FRAMEWORKS:
        where = storage(framework, layer, cin, cout, kernel, groups)
        if where is None:
            lines.append(f"{framework:<10} (no such layer)")
            continue
        ours = compute_fans(where.shape, where.layout, groups=where.groups, blocks=where.blocks)
        try:
            own = compute_fans(where.shape, fan_convention=framework)
        except (ValueError, ZeroDivisionError):
            own = None
        own_name = _OWN_NAMES.get(type(scheme).__name__, {}).get(framework, type(scheme).__name__)
        own_std = ratio = "-"
        if distribution is not None and own is not None and scheme.uses_fans:
            theirs = framework_variant(scheme, framework).distribution_for(own)  # type: ignore[attr-defined]
            own_std = f"{actual_std(theirs):.5g}"
            ratio = f"{actual_std(theirs) / actual_std(distribution):.3f}"
        mark = (
            "" if own is None or (own.fan_in, own.fan_out) == (ours.fan_in, ours.fan_out) else " x"
        )
        lines.append(
            f"{framework:<10} {where.shape!s:<18} {where.layout:<24} {_fans_text(ours):<13} "
            f"{_fans_text(own) + mark:<15} {own_name:<38} {own_std:>9} {ratio:>9}"
        )
    lines.append("  (x: the framework's own rule gives other fans for this layer)")
    if distribution is not None:
        values = scheme.sample(
            reference.shape,
            seed=seed,
            key="explain",
            layout=reference.layout,
            groups=reference.groups,
            blocks=reference.blocks,
        )
        n = values.size
        lines += [
            "",
            f"seeded sample (seed={seed}, {n} values): mean {values.mean():.5g}, "
            f"std {values.std():.5g} (theory {actual_std(distribution):.5g}), "
            f"min {values.min():.5g}, max {values.max():.5g}",
            f"  Kolmogorov-Smirnov distance to the theory {ks_distance(distribution, values):.4f} "
            f"(critical value at alpha=1e-3: {ks_critical(n):.4f})",
        ]
    return "\n".join(lines)


def _parse_value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m oneinit explain", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--scheme", default="HeNormal", help="scheme class name, e.g. HeNormal")
    parser.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="scheme parameter, e.g. --param mode=fan_out (repeatable)",
    )
    parser.add_argument("--layer", default="conv_transpose2d", choices=LAYER_KINDS)
    parser.add_argument(
        "--in", dest="cin", type=int, default=16, help="input channels / features / vocabulary"
    )
    parser.add_argument(
        "--out", dest="cout", type=int, default=32, help="output channels / features / hidden size"
    )
    parser.add_argument("--kernel", type=int, default=3)
    parser.add_argument("--groups", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    params = {}
    for item in args.param:
        name, sep, value = item.partition("=")
        if not sep:
            parser.error(f"--param takes NAME=VALUE. Received: {item!r}")
        params[name] = _parse_value(value)
    try:
        scheme = scheme_from_config({"scheme": args.scheme, **params})
        print(explain(scheme, args.layer, args.cin, args.cout, args.kernel, args.groups, args.seed))
    except (TypeError, ValueError) as error:
        parser.error(str(error))
    return 0
