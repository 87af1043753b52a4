"""Fans from explicit axes: where a weight's outputs, inputs and kernel are in its storage order.

Every framework stores weights differently (torch Linear ``(out, in)``, Keras Dense ``(in, out)``,
torch ConvTranspose ``(in, out/groups, *k)``, Keras DepthwiseConv ``(*k, in, multiplier)``, ...).
A :class:`Layout` names the axes, so fans never depend on guessing from the rank.

Definitions (the defaults, ``fan_convention="oneinit"``), for a layer with ``groups`` groups and
``blocks`` independent matrices stacked along the output axis (LSTM gates, fused QKV):

- receptive field ``rf`` = product of the kernel (spatial) dimensions, 1 for dense layers;
- ``fan_in``  = inputs summed into one output unit = (in_channels / groups) * rf;
- ``fan_out`` = outputs one input unit reaches = (out_channels / groups / blocks) * rf.

These are right for transposed convolutions (whose storage puts ``in`` first) and depthwise
convolutions (fan_in = rf), where every framework's own rule is wrong (reference: frameworks.md
section 2.2). ``fan_convention="torch" | "keras" | "paddle" | "mxnet" | "jax"`` instead applies
that framework's own rule to the storage shape, bug for bug, for parity with existing code.

The **canonical layout** is ``(out, in / groups, *kernel)`` with ``out`` counting all output units
(group-major, then block-major); portable values are generated in it and transposed into storage.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from ._xp import permute_dims

__all__ = [
    "FAN_CONVENTIONS",
    "LAYER_FAMILIES",
    "LAYOUTS",
    "Fans",
    "Layout",
    "canonical_shape",
    "compute_fans",
    "framework_fans",
    "framework_storage_shape",
    "from_canonical",
    "get_layout",
    "layout_groups",
    "to_canonical",
]

FanConvention = Literal["oneinit", "torch", "keras", "paddle", "mxnet", "jax"]
FAN_CONVENTIONS: tuple[str, ...] = ("oneinit", "torch", "keras", "paddle", "mxnet", "jax")


@dataclass(frozen=True)
class Fans:
    """``fan_in`` and ``fan_out`` of a weight, and its receptive field (kernel size)."""

    fan_in: int
    fan_out: int
    receptive_field: int = 1

    def fan(self, mode: str) -> float:
        """The fan a variance-scaling ``mode`` divides by.

        ``fan_in``, ``fan_out``, ``fan_avg`` = (fan_in + fan_out) / 2, ``fan_geo_avg`` =
        sqrt(fan_in * fan_out) (JAX).
        """
        if mode == "fan_in":
            return float(self.fan_in)
        if mode == "fan_out":
            return float(self.fan_out)
        if mode == "fan_avg":
            return (self.fan_in + self.fan_out) / 2.0
        if mode == "fan_geo_avg":
            return math.sqrt(self.fan_in * self.fan_out)
        raise ValueError(
            "mode must be one of 'fan_in', 'fan_out', 'fan_avg', 'fan_geo_avg'. "
            f"Received: mode={mode!r}"
        )


@dataclass(frozen=True)
class Layout:
    """Which storage axes hold a weight's outputs, inputs and groups; the rest is the kernel.

    Parameters
    ----------
    name
        Preset name (``"dense_out_in"``, ``"conv_transpose_in_out"``, ...).
    out_axes, in_axes
        Storage axes (negative counts from the end) whose product is the output (input) units.
    group_axes
        Axes that enumerate groups with one input each: Keras ``DepthwiseConv`` stores
        ``(*k, in, multiplier)``, so ``in`` is a group axis and ``multiplier`` the output axis.
    groups_on
        ``"out"`` when grouped channels are folded into the output axis (conv: ``(out, in/g, *k)``),
        ``"in"`` when folded into the input axis (torch ConvTranspose: ``(in, out/g, *k)``).
    min_ndim
        Fewest dimensions the layout accepts (the kernel axes are the remaining ones).
    """

    name: str
    out_axes: tuple[int, ...]
    in_axes: tuple[int, ...]
    group_axes: tuple[int, ...] = ()
    groups_on: Literal["out", "in"] = "out"
    min_ndim: int = 2

    def __post_init__(self) -> None:
        for name in ("out_axes", "in_axes", "group_axes"):
            object.__setattr__(self, name, tuple(int(a) for a in getattr(self, name)))

    def to_config(self) -> str | dict[str, Any]:
        """The preset name, or the fields of a custom layout as plain JSON types."""
        if LAYOUTS.get(self.name) == self:
            return self.name
        config = dataclasses.asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in config.items()}

    def axes(
        self, ndim: int
    ) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
        """Non-negative (out, in, group, kernel) axes for a tensor of ``ndim`` dimensions."""
        if ndim < self.min_ndim:
            raise ValueError(
                f"Layout {self.name!r} needs a tensor of at least {self.min_ndim} dimensions. "
                f"Received: ndim={ndim}"
            )
        named = [
            tuple(a % ndim for a in axes) for axes in (self.out_axes, self.in_axes, self.group_axes)
        ]
        used = [a for axes in named for a in axes]
        if len(set(used)) != len(used) or any(
            not -ndim <= a < ndim for a in self.out_axes + self.in_axes + self.group_axes
        ):
            raise ValueError(
                f"Layout {self.name!r} names overlapping or out-of-range axes for ndim={ndim}. "
                f"Received: out_axes={self.out_axes}, in_axes={self.in_axes}, "
                f"group_axes={self.group_axes}"
            )
        kernel = tuple(a for a in range(ndim) if a not in used)
        return named[0], named[1], named[2], kernel

    @classmethod
    def einsum(cls, in_axes: tuple[int, ...], out_axes: tuple[int, ...]) -> Layout:
        """A layout with explicit axes, as Keras ``EinsumDense`` passes them (no kernel axes)."""
        return cls(
            name=f"einsum_in{tuple(in_axes)}_out{tuple(out_axes)}",
            out_axes=tuple(out_axes),
            in_axes=tuple(in_axes),
            min_ndim=len(in_axes) + len(out_axes),
        )


_PRESETS = (
    Layout("canonical", out_axes=(0,), in_axes=(1,)),
    # dense / linear
    Layout("dense_out_in", out_axes=(0,), in_axes=(1,)),  # torch Linear, MXNet Dense
    Layout("dense_in_out", out_axes=(1,), in_axes=(0,)),  # Keras Dense, Paddle Linear
    # convolutions (any number of kernel axes)
    Layout("conv_out_in", out_axes=(0,), in_axes=(1,), min_ndim=3),  # torch, Paddle, MXNet
    Layout("conv_k_in_out", out_axes=(-1,), in_axes=(-2,), min_ndim=3),  # Keras
    Layout("conv_transpose_in_out", out_axes=(1,), in_axes=(0,), groups_on="in", min_ndim=3),
    Layout("conv_transpose_k_out_in", out_axes=(-2,), in_axes=(-1,), min_ndim=3),  # Keras
    Layout("depthwise_k_in_mult", out_axes=(-1,), in_axes=(), group_axes=(-2,), min_ndim=3),
    # embeddings: a lookup is a dense layer on one-hot inputs: in = vocabulary, out = features
    Layout("embedding", out_axes=(1,), in_axes=(0,)),
)
LAYOUTS: dict[str, Layout] = {layout.name: layout for layout in _PRESETS}
# Framework spellings of the same presets.
_ALIASES = {
    "linear": "dense_out_in",
    "dense": "dense_in_out",
    "conv": "conv_out_in",
    "conv_transpose": "conv_transpose_in_out",
    "keras_conv": "conv_k_in_out",
    "keras_conv_transpose": "conv_transpose_k_out_in",
    "depthwise": "depthwise_k_in_mult",
    "recurrent_out_in": "dense_out_in",  # torch/Paddle/MXNet (gates*H, in); pass blocks=gates
    "recurrent_in_out": "dense_in_out",  # Keras (in, gates*H); pass blocks=gates
}


def get_layout(layout: str | Layout | dict[str, Any]) -> Layout:
    """A :class:`Layout` from a preset name or alias, a :meth:`Layout.to_config` dict, or itself."""
    if isinstance(layout, Layout):
        return layout
    if isinstance(layout, dict):
        return Layout(**layout)
    name = _ALIASES.get(layout, layout)
    if name not in LAYOUTS:
        allowed = ", ".join(sorted(set(LAYOUTS) | set(_ALIASES)))
        raise ValueError(f"Unknown layout. Allowed: {allowed}. Received: layout={layout!r}")
    return LAYOUTS[name]


def _check_shape(shape: Any) -> tuple[int, ...]:
    try:
        dims = tuple(shape)
    except TypeError:
        raise TypeError(f"shape must be a sequence of ints. Received: shape={shape!r}") from None
    for d in dims:
        if isinstance(d, bool) or not isinstance(d, (int, np.integer)):
            raise TypeError(f"shape must contain ints. Received: shape={dims!r}")
        if d < 0:
            raise ValueError(f"shape must contain non-negative ints. Received: shape={dims!r}")
    return tuple(int(d) for d in dims)


def _check_positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int. Received: {name}={value!r}")
    if value < 1:
        raise ValueError(f"{name} must be a positive int. Received: {name}={value!r}")
    return int(value)


@dataclass(frozen=True)
class _Geometry:
    """Channel counts of a weight in canonical terms."""

    out_units: int  # all outputs
    in_per_group: int
    groups: int
    kernel: tuple[int, ...]


def _geometry(shape: tuple[int, ...], layout: Layout, groups: int) -> _Geometry:
    if len(shape) < layout.min_ndim:
        raise ValueError(
            f"Layout {layout.name!r} needs a shape with at least {layout.min_ndim} dimensions. "
            f"Received: shape={shape}, layout={layout.name!r}"
        )
    out_axes, in_axes, group_axes, kernel_axes = layout.axes(len(shape))
    out_dim = math.prod(shape[a] for a in out_axes)
    in_dim = math.prod(shape[a] for a in in_axes)
    kernel = tuple(shape[a] for a in kernel_axes)
    if group_axes:
        implied = math.prod(shape[a] for a in group_axes)
        if groups not in (1, implied):
            raise ValueError(
                f"Layout {layout.name!r} takes its groups from the shape ({implied}). "
                f"Received: groups={groups}, shape={shape}"
            )
        return _Geometry(implied * out_dim, in_dim, implied, kernel)
    if layout.groups_on == "in":
        if in_dim % groups:
            raise ValueError(
                f"The input axis ({in_dim}) of layout {layout.name!r} must be divisible by "
                f"groups. Received: groups={groups}, shape={shape}"
            )
        return _Geometry(out_dim * groups, in_dim // groups, groups, kernel)
    if out_dim % groups:
        raise ValueError(
            f"The output axis ({out_dim}) must be divisible by groups. "
            f"Received: groups={groups}, shape={shape}"
        )
    return _Geometry(out_dim, in_dim, groups, kernel)


def layout_groups(shape: Any, layout: str | Layout, groups: int = 1) -> int:
    """The groups of a weight: ``groups``, or those its layout reads off the shape (a Keras
    depthwise kernel (k, k, in, multiplier) has ``in`` groups).
    """
    return _geometry(_check_shape(shape), get_layout(layout), groups).groups


def canonical_shape(
    shape: Any, layout: str | Layout = "canonical", *, groups: int = 1
) -> tuple[int, ...]:
    """The canonical ``(out, in / groups, *kernel)`` shape of a weight stored as ``shape``."""
    g = _geometry(_check_shape(shape), get_layout(layout), _check_positive_int("groups", groups))
    return (g.out_units, g.in_per_group, *g.kernel)


def compute_fans(
    shape: Any,
    layout: str | Layout = "canonical",
    *,
    groups: int = 1,
    blocks: int = 1,
    fan_convention: str = "oneinit",
) -> Fans:
    """Fans of a weight stored as ``shape`` in ``layout``.

    Parameters
    ----------
    shape
        The storage shape.
    layout
        A :class:`Layout` or preset name (see :data:`LAYOUTS`).
    groups
        Convolution groups (a depthwise convolution has groups = channels).
    blocks
        Independent matrices stacked along the output axis (4 for LSTM gates, 3 for GRU gates
        and fused QKV projections); fan_out counts one block's outputs.
    fan_convention
        ``"oneinit"`` for the definitions in the module docstring, or a framework name to apply
        that framework's own rule to the storage shape (layout, groups and blocks are then
        ignored, as the framework ignores them).

    Examples
    --------
    >>> compute_fans((16, 32, 3, 3), "conv_transpose_in_out")   # torch ConvTranspose2d 16 -> 32
    Fans(fan_in=144, fan_out=288, receptive_field=9)
    >>> compute_fans((16, 32, 3, 3), fan_convention="torch")     # torch's own, swapped rule
    Fans(fan_in=288, fan_out=144, receptive_field=9)
    """
    dims = _check_shape(shape)
    if fan_convention != "oneinit":
        return _framework_fans(dims, fan_convention)
    groups = _check_positive_int("groups", groups)
    blocks = _check_positive_int("blocks", blocks)
    g = _geometry(dims, get_layout(layout), groups)
    if 0 in dims:
        raise ValueError(
            f"Fans are undefined for a tensor with a zero-size dimension. Received: shape={dims}"
        )
    if (g.out_units // g.groups) % blocks:
        raise ValueError(
            f"The outputs per group ({g.out_units // g.groups}) must be divisible by blocks. "
            f"Received: blocks={blocks}, shape={dims}"
        )
    rf = math.prod(g.kernel)
    return Fans(g.in_per_group * rf, g.out_units // g.groups // blocks * rf, rf)


def _framework_fans(shape: tuple[int, ...], convention: str) -> Fans:
    """Each framework's own rule on the raw storage shape (frameworks.md section 2.1)."""
    ndim = len(shape)
    if convention in ("torch", "mxnet"):
        if ndim < 2:
            raise ValueError(
                f"The {convention} fan rule needs at least 2 dimensions. Received: shape={shape}"
            )
        rf = math.prod(shape[2:])
        return Fans(shape[1] * rf, shape[0] * rf, rf)
    if convention in ("keras", "paddle"):
        if ndim == 0:
            return Fans(1, 1, 1)
        if ndim == 1:
            return Fans(shape[0], shape[0], 1)
        if ndim == 2:
            return Fans(shape[0], shape[1], 1)
        if convention == "keras":
            rf = math.prod(shape[:-2])
            return Fans(shape[-2] * rf, shape[-1] * rf, rf)
        rf = math.prod(shape[2:])
        return Fans(shape[1] * rf, shape[0] * rf, rf)
    if convention == "jax":
        if ndim < 2:
            raise ValueError(
                f"The jax fan rule needs at least 2 dimensions. Received: shape={shape}"
            )
        if 0 in shape:
            raise ZeroDivisionError(
                f"The jax fan rule divides by a zero dimension. Received: shape={shape}"
            )
        rf = math.prod(shape) // (shape[-2] * shape[-1])
        return Fans(shape[-2] * rf, shape[-1] * rf, rf)
    raise ValueError(
        f"fan_convention must be one of {', '.join(FAN_CONVENTIONS)}. "
        f"Received: fan_convention={convention!r}"
    )


#: The layer families whose storage each framework fixes (frameworks.md section 2.2).
LAYER_FAMILIES: tuple[str, ...] = (
    "dense",
    "conv",
    "depthwise",
    "conv_transpose",
    "embedding",
    "recurrent",
)


def framework_storage_shape(
    canonical: tuple[int, ...], family: str, framework: str, groups: int = 1
) -> tuple[int, ...]:
    """The shape ``framework`` stores a weight of canonical ``(out, in / groups, *kernel)`` shape
    in, for a layer of ``family`` (:data:`LAYER_FAMILIES`); "depthwise" is Keras's
    ``DepthwiseConv`` (kernel, in, multiplier), a grouped conv elsewhere.
    """
    out, per_group, *kernel = canonical
    k = tuple(kernel)
    channels_last = framework == "keras"
    if family in ("dense", "recurrent"):
        transposed = framework == "keras" or (framework == "paddle" and family == "dense")
        return (per_group, out) if transposed else (out, per_group)
    if family == "embedding":
        return (per_group, out)  # (vocabulary, dim) everywhere
    if family == "conv_transpose":
        inputs = per_group * groups
        return (*k, out, inputs) if channels_last else (inputs, out // groups, *k)
    if family == "depthwise" and channels_last:
        return (*k, groups, out // groups)
    if family in ("conv", "depthwise"):
        return (*k, per_group, out) if channels_last else (out, per_group, *k)
    allowed = ", ".join(repr(f) for f in LAYER_FAMILIES)
    raise ValueError(f"family must be one of {allowed}. Received: family={family!r}")


def framework_fans(
    canonical: tuple[int, ...], family: str, framework: str, groups: int = 1
) -> Fans:
    """The fans ``framework``'s own rule gives a layer of ``family``, read from the shape that
    framework stores it in: a framework's convention applied to any framework's layer.

    >>> framework_fans((32, 1, 3, 3), "depthwise", "keras", groups=16)   # (3, 3, 16, 2)
    Fans(fan_in=144, fan_out=18, receptive_field=9)
    >>> framework_fans((32, 4, 3, 3), "conv", "torch", groups=4)          # all outputs
    Fans(fan_in=36, fan_out=288, receptive_field=9)
    """
    if framework == "oneinit" or framework not in FAN_CONVENTIONS or framework == "jax":
        raise ValueError(
            "framework must be one of 'torch', 'keras', 'paddle', 'mxnet'. "
            f"Received: framework={framework!r}"
        )
    return _framework_fans(framework_storage_shape(canonical, family, framework, groups), framework)


def _canonical_permutation(
    shape: tuple[int, ...], layout: Layout, groups: int
) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """(split shape, permutation, canonical shape): canonical = reshape(permute(reshape(x)))."""
    groups = _check_positive_int("groups", groups)
    g = _geometry(shape, layout, groups)
    out_axes, in_axes, group_axes, kernel_axes = layout.axes(len(shape))
    canonical = (g.out_units, g.in_per_group, *g.kernel)
    if layout.groups_on == "in" and groups > 1:
        # (in, out/g, *k) -> (g, in/g, out/g, *k) -> (g, out/g, in/g, *k)
        if len(in_axes) != 1 or len(out_axes) != 1:
            raise ValueError(f"Grouped layout {layout.name!r} needs one input and one output axis.")
        (ia,), (oa,) = in_axes, out_axes
        split: list[int] = []
        positions: dict[int, list[int]] = {}
        for a in range(len(shape)):
            if a == ia:
                positions[a] = [len(split), len(split) + 1]
                split += [groups, shape[a] // groups]
            else:
                positions[a] = [len(split)]
                split.append(shape[a])
        grouped_perm = [positions[ia][0], positions[oa][0], positions[ia][1]]
        grouped_perm += [positions[a][0] for a in kernel_axes]
        return tuple(split), tuple(grouped_perm), canonical
    return shape, (*group_axes, *out_axes, *in_axes, *kernel_axes), canonical


def to_canonical(array: Any, layout: str | Layout, *, groups: int = 1, xp: Any = np) -> Any:
    """The canonical ``(out, in / groups, *kernel)`` array of a weight stored in ``layout``."""
    shape = _check_shape(array.shape)
    split, perm, canonical = _canonical_permutation(shape, get_layout(layout), groups)
    return xp.reshape(permute_dims(xp.reshape(array, split), perm, xp), canonical)


def from_canonical(
    array: Any, shape: Any, layout: str | Layout, *, groups: int = 1, xp: Any = np
) -> Any:
    """The storage array of ``shape`` in ``layout`` holding the canonical ``array``."""
    dims = _check_shape(shape)
    split, perm, canonical = _canonical_permutation(dims, get_layout(layout), groups)
    if tuple(array.shape) != canonical:
        raise ValueError(
            f"A weight of shape {dims} in layout {get_layout(layout).name!r} has canonical shape "
            f"{canonical}. Received: array.shape={tuple(array.shape)}"
        )
    inverse = tuple(int(i) for i in np.argsort(perm))
    permuted_shape = tuple(split[p] for p in perm)
    return xp.reshape(permute_dims(xp.reshape(array, permuted_shape), inverse, xp), dims)
