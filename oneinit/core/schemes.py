"""Schemes: small immutable specs of the values a weight gets, given its fans.

A scheme answers, for a weight of a given storage shape and :class:`~oneinit.core.fans.Layout`:

- **what distribution** its elements follow (:meth:`RandomScheme.distribution_for`), with the
  exact numbers a framework needs to fill natively: bounds for uniforms, std and truncation (with
  units) for normals; or the constant (:attr:`ConstantScheme.value`);
- **which values**, portably (:meth:`Scheme.sample`): the same seed and key give the same float32
  values on every framework and device, generated in the canonical layout
  ``(out, in / groups, *kernel)`` and transposed into storage.

Conventions (the same in every adapter):

- ``gain`` multiplies the **standard deviation**; Keras/JAX ``scale`` multiplies the **variance**
  (``scale = gain**2``).
- Variance scaling: ``var = scale / max(1, fan)`` with ``fan`` chosen by ``mode``:
  ``uniform`` is U(+-sqrt(3 var)); ``normal`` is **untruncated** N(0, var) (papers, torch,
  Paddle, MXNet, JAX); ``truncated_normal`` is the Keras/JAX form: N(0, sigma**2) truncated to
  +-2 sigma with ``sigma = sqrt(var) / 0.87962566103423978``, so the variance is still ``var``
  (0.8796... is the std of N(0, 1) truncated to [-2, 2]). Keras calls the untruncated normal
  ``"untruncated_normal"`` (accepted here as an alias) and silently reads ``"normal"`` as
  truncated; oneinit's ``"normal"`` is untruncated, like JAX's.
- Truncation bounds carry their units: ``units="std"`` (multiples of the std, Keras/JAX) or
  ``"absolute"`` (values, torch ``trunc_normal_`` and Paddle ``TruncatedNormal``).

Schemes compare by value, hash, and round-trip through plain JSON types with
:meth:`Scheme.to_config` / :func:`scheme_from_config`.
"""

from __future__ import annotations

import dataclasses
import importlib
import math
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from . import structured
from ._xp import Array, Namespace, astype
from .fans import (
    Fans,
    Layout,
    canonical_shape,
    compute_fans,
    from_canonical,
    get_layout,
    to_canonical,
)
from .gains import calculate_gain
from .random import (
    Distribution,
    NormalDistribution,
    Stream,
    UniformDistribution,
    key_from_name,
    truncated_standard_normal_std,
)

__all__ = [
    "Assign",
    "Bilinear",
    "Constant",
    "ConstantScheme",
    "CustomScheme",
    "DeltaOrthogonal",
    "Dirac",
    "FunctionScheme",
    "GateBias",
    "Generator",
    "GlorotNormal",
    "GlorotUniform",
    "HeNormal",
    "HeUniform",
    "Identity",
    "KaimingNormal",
    "KaimingUniform",
    "LecunNormal",
    "LecunUniform",
    "Normal",
    "Ones",
    "Orthogonal",
    "RandomScheme",
    "Scheme",
    "Sparse",
    "TruncatedNormal",
    "Uniform",
    "VarianceScaling",
    "XavierNormal",
    "XavierUniform",
    "Zeros",
    "scheme_from_config",
]

#: Std of N(0, 1) truncated to [-2, 2]: sqrt(1 - 4 phi(2) / (Phi(2) - Phi(-2))).
TRUNCATED_NORMAL_STD_2SIGMA = truncated_standard_normal_std(-2.0, 2.0)  # 0.87962566103423978

_MODES = ("fan_in", "fan_out", "fan_avg", "fan_geo_avg")
_DISTRIBUTIONS = ("uniform", "normal", "truncated_normal")
_DISTRIBUTION_ALIASES = {"untruncated_normal": "normal"}


# --------------------------------------------------------------------------------------------
# Validation helpers: built-in error types, message = what is wrong, what is allowed, Received.


def _finite(name: str, value: Any, *, minimum: float | None = None, strict: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number. Received: {name}={value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{name} must be finite. Received: {name}={number}")
    if minimum is not None and (number < minimum or (strict and value == minimum)):
        relation = ">" if strict else ">="
        raise ValueError(f"{name} must be {relation} {minimum}. Received: {name}={number}")
    return number


def _choice(
    name: str, value: Any, allowed: Sequence[str], aliases: dict[str, str] | None = None
) -> str:
    value = (aliases or {}).get(value, value)
    if value not in allowed:
        listed = ", ".join(repr(a) for a in (*allowed, *(aliases or {})))
        raise ValueError(f"{name} must be one of {listed}. Received: {name}={value!r}")
    return str(value)


def _set(obj: Any, name: str, value: Any) -> None:
    object.__setattr__(obj, name, value)  # normalizing a field of a frozen dataclass


# --------------------------------------------------------------------------------------------
# The base class.


@dataclass(frozen=True)
class Scheme:
    """Base of every scheme: immutable, compared by value, serializable.

    Subclasses are frozen dataclasses; their fields are their whole configuration. A subclass
    is registered under its class name for :func:`scheme_from_config` (user subclasses too).
    """

    _registry: ClassVar[dict[str, type[Scheme]]] = {}
    #: Whether the values depend on the weight's fans (adapters then need the layout).
    uses_fans: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        existing = Scheme._registry.get(cls.__name__)
        if existing is not None and existing.__qualname__ != cls.__qualname__:
            raise TypeError(
                f"A scheme named {cls.__name__!r} is already registered "
                f"({existing.__module__}.{existing.__qualname__}); choose another class name."
            )
        Scheme._registry[cls.__name__] = cls

    # -- configuration -------------------------------------------------------------------

    def to_config(self) -> dict[str, Any]:
        """Plain JSON types: ``{"scheme": <class name>, <field>: <value>, ...}``."""
        config: dict[str, Any] = {"scheme": type(self).__name__}
        for field in dataclasses.fields(self):
            config[field.name] = getattr(self, field.name)
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Scheme:
        """The scheme :meth:`to_config` described (the class named in it, or ``cls``)."""
        return scheme_from_config(
            {"scheme": cls.__name__, **config} if "scheme" not in config else config
        )

    # -- values ----------------------------------------------------------------------------

    def sample(
        self,
        shape: Sequence[int],
        *,
        seed: int,
        key: int | str = 0,
        layout: str | Layout = "canonical",
        groups: int = 1,
        blocks: int = 1,
        fan_convention: str = "oneinit",
        fans: Fans | None = None,
        dtype: Any = None,
        xp: Namespace = np,
    ) -> Array:
        """Portable values for a weight stored as ``shape`` in ``layout``.

        Element ``i`` of the canonical ``(out, in / groups, *kernel)`` array takes the ``i``-th
        value of the stream ``(seed, key)`` (a string key is hashed with
        :func:`~oneinit.core.random.key_from_name`); the result is transposed into storage.

        Parameters
        ----------
        shape, layout, groups, blocks, fan_convention
            The weight; see :func:`~oneinit.core.fans.compute_fans`.
        seed, key
            The stream.
        fans
            Fans to use instead of computing them (e.g. a bias initialized from its layer's
            fan_in).
        dtype
            Floating dtype of the result (default float32). Values are always drawn in float32
            and cast once, so every framework and precision sees the same draws.
        xp
            Array namespace.
        """
        layout = get_layout(layout)
        dims = tuple(shape)
        stream = Stream(seed, _as_key(key))
        if len(dims) < layout.min_ndim and layout.name == "canonical":
            # Vectors and scalars (biases): storage is canonical; fan-based schemes need `fans`.
            values = self.sample_canonical(dims, stream, fans=fans, xp=xp)
            return _cast(values, dtype, xp)
        cshape = canonical_shape(dims, layout, groups=groups)
        if fans is None and self.uses_fans:
            fans = compute_fans(
                dims, layout, groups=groups, blocks=blocks, fan_convention=fan_convention
            )
        values = self.sample_canonical(
            cshape, stream, fans=fans, groups=groups, blocks=blocks, xp=xp
        )
        values = from_canonical(values, dims, layout, groups=groups, xp=xp)
        return _cast(values, dtype, xp)

    def sample_canonical(
        self,
        shape: tuple[int, ...],
        stream: Stream,
        *,
        fans: Fans | None,
        groups: int = 1,
        blocks: int = 1,
        xp: Namespace = np,
    ) -> Array:
        """float32 values in the canonical layout ``shape``; subclasses implement it."""
        raise NotImplementedError


def _as_key(key: int | str) -> int:
    if isinstance(key, str):
        return key_from_name(key)
    return key


def _cast(values: Array, dtype: Any, xp: Namespace) -> Array:
    if dtype is None:
        return values
    if xp is np:
        kind = np.dtype(dtype).kind
        if kind != "f":
            raise TypeError(
                "Initializers fill floating-point tensors only. "
                f"Received: dtype={np.dtype(dtype).name}"
            )
    return astype(values, dtype, xp)


# --------------------------------------------------------------------------------------------
# Constants.


@dataclass(frozen=True)
class ConstantScheme(Scheme):
    """Every element equals :attr:`value`."""

    value: float = 0.0

    def __post_init__(self) -> None:
        _set(self, "value", _finite("value", self.value))

    def sample_canonical(
        self,
        shape: tuple[int, ...],
        stream: Stream,
        *,
        fans: Fans | None,
        groups: int = 1,
        blocks: int = 1,
        xp: Namespace = np,
    ) -> Array:
        return xp.full(shape, self.value, dtype=xp.float32)


@dataclass(frozen=True)
class Constant(ConstantScheme):
    """All elements ``value`` (torch ``constant_``, Keras/Paddle/MXNet ``Constant``)."""


@dataclass(frozen=True)
class Zeros(ConstantScheme):
    """All zeros."""

    value: float = dataclasses.field(default=0.0, init=False)

    def to_config(self) -> dict[str, Any]:
        return {"scheme": "Zeros"}


@dataclass(frozen=True)
class Ones(ConstantScheme):
    """All ones."""

    value: float = dataclasses.field(default=1.0, init=False)

    def to_config(self) -> dict[str, Any]:
        return {"scheme": "Ones"}


# --------------------------------------------------------------------------------------------
# Independent random elements.


@dataclass(frozen=True)
class RandomScheme(Scheme):
    """Independent, identically distributed elements; :meth:`distribution_for` says how."""

    def distribution_for(self, fans: Fans | None) -> Distribution:
        """The distribution of every element of a weight with these fans."""
        raise NotImplementedError

    def sample_canonical(
        self,
        shape: tuple[int, ...],
        stream: Stream,
        *,
        fans: Fans | None,
        groups: int = 1,
        blocks: int = 1,
        xp: Namespace = np,
    ) -> Array:
        return stream.sample(self.distribution_for(fans), shape, xp=xp)


@dataclass(frozen=True)
class Uniform(RandomScheme):
    """U(low, high), in value units (torch ``uniform_(a, b)``; MXNet ``Uniform(s)`` is (-s, s))."""

    low: float = 0.0
    high: float = 1.0

    def __post_init__(self) -> None:
        _set(self, "low", _finite("low", self.low))
        _set(self, "high", _finite("high", self.high))
        if not self.low < self.high:
            raise ValueError(
                f"Uniform needs low < high. Received: low={self.low}, high={self.high}"
            )

    def distribution_for(self, fans: Fans | None) -> UniformDistribution:
        return UniformDistribution(self.low, self.high)


@dataclass(frozen=True)
class Normal(RandomScheme):
    """N(mean, std**2), untruncated."""

    mean: float = 0.0
    std: float = 1.0

    def __post_init__(self) -> None:
        _set(self, "mean", _finite("mean", self.mean))
        _set(self, "std", _finite("std", self.std, minimum=0.0))

    def distribution_for(self, fans: Fans | None) -> NormalDistribution:
        return NormalDistribution(self.mean, self.std)


@dataclass(frozen=True)
class TruncatedNormal(RandomScheme):
    """N(mean, std**2) restricted to ``[lower, upper]``, sampled exactly (inverse CDF).

    ``units="std"``: bounds are multiples of ``std`` around ``mean`` (Keras, JAX, timm
    ``trunc_normal_tf_``). ``units="absolute"``: bounds are values (torch ``trunc_normal_(a, b)``,
    Paddle ``TruncatedNormal``), so ``std=0.02`` with bounds +-2 is effectively untruncated.
    ``std`` is the parent's; the values' own std is smaller (0.8796 std for +-2 sigma).
    """

    mean: float = 0.0
    std: float = 1.0
    lower: float = -2.0
    upper: float = 2.0
    units: str = "std"

    def __post_init__(self) -> None:
        _set(self, "mean", _finite("mean", self.mean))
        _set(self, "std", _finite("std", self.std, minimum=0.0, strict=True))
        _set(self, "lower", float(self.lower))
        _set(self, "upper", float(self.upper))
        _set(self, "units", _choice("units", self.units, ("std", "absolute")))
        if math.isnan(self.lower) or math.isnan(self.upper) or not self.lower < self.upper:
            raise ValueError(
                f"TruncatedNormal needs lower < upper. Received: lower={self.lower}, "
                f"upper={self.upper}"
            )
        dist = self.distribution_for(None)
        mass = 0.5 * (math.erf(dist.upper / math.sqrt(2)) - math.erf(dist.lower / math.sqrt(2)))
        if mass < 1e-6:
            raise ValueError(
                "TruncatedNormal needs bounds holding at least 1e-6 of the probability (float32 "
                f"cannot resolve less). Received: lower={self.lower}, upper={self.upper}, "
                f"units={self.units!r}, mean={self.mean}, std={self.std}"
            )

    def distribution_for(self, fans: Fans | None) -> NormalDistribution:
        if self.units == "std":
            return NormalDistribution(self.mean, self.std, self.lower, self.upper)
        return NormalDistribution(
            self.mean,
            self.std,
            (self.lower - self.mean) / self.std,
            (self.upper - self.mean) / self.std,
        )


def _he_gain(nonlinearity: str, negative_slope: float) -> float:
    return calculate_gain(nonlinearity, negative_slope if nonlinearity == "leaky_relu" else None)


# Field checks shared by VarianceScaling and its presets, by field name.
_VARIANCE_SCALING_CHECKS: dict[str, Callable[[Any], Any]] = {
    "scale": lambda v: _finite("scale", v, minimum=0.0, strict=True),
    "gain": lambda v: _finite("gain", v, minimum=0.0, strict=True),
    "negative_slope": lambda v: _finite("negative_slope", v),
    "mode": lambda v: _choice("mode", v, _MODES),
    "distribution": lambda v: _choice("distribution", v, _DISTRIBUTIONS, _DISTRIBUTION_ALIASES),
}


@dataclass(frozen=True)
class _VarianceScalingBase(RandomScheme):
    """``var = scale / max(1, fan)``; the common part of VarianceScaling and its presets.

    Subclasses say which fan (:attr:`fan_mode`), which family (:attr:`distribution_name`) and
    the variance multiplier (:attr:`variance_scale`, ``gain**2``).
    """

    uses_fans: ClassVar[bool] = True
    #: The distribution families a preset may take (the *Normal presets take no uniform).
    _families: ClassVar[tuple[str, ...]] = _DISTRIBUTIONS

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            check = _VARIANCE_SCALING_CHECKS.get(field.name)
            if check is not None:
                _set(self, field.name, check(getattr(self, field.name)))
        if self.distribution_name not in self._families:
            allowed = ", ".join(repr(f) for f in self._families)
            raise ValueError(
                f"{type(self).__name__} takes distribution {allowed}. "
                f"Received: distribution={self.distribution_name!r}"
            )
        if hasattr(self, "nonlinearity"):
            _he_gain(self.nonlinearity, getattr(self, "negative_slope", 0.0))  # validates

    @property
    def variance_scale(self) -> float:
        raise NotImplementedError

    @property
    def fan_mode(self) -> str:
        return str(getattr(self, "mode", "fan_in"))

    @property
    def distribution_name(self) -> str:
        return str(getattr(self, "distribution", "uniform"))

    def distribution_for(self, fans: Fans | None) -> Distribution:
        if fans is None:
            raise ValueError(
                f"{type(self).__name__} depends on the weight's fans; pass a shape with at least "
                "2 dimensions and its layout, or fans=Fans(fan_in, fan_out). Received: fans=None"
            )
        # Keras clamps the fan at 1; it only matters for empty tensors (a zero fan).
        variance = self.variance_scale / max(1.0, fans.fan(self.fan_mode))
        if self.distribution_name == "uniform":
            bound = math.sqrt(3.0 * variance)
            return UniformDistribution(-bound, bound)
        if self.distribution_name == "normal":
            return NormalDistribution(0.0, math.sqrt(variance))
        return NormalDistribution(0.0, math.sqrt(variance) / TRUNCATED_NORMAL_STD_2SIGMA, -2.0, 2.0)


@dataclass(frozen=True)
class VarianceScaling(_VarianceScalingBase):
    """Keras/JAX ``VarianceScaling``: ``var = scale / fan`` (see the module docstring).

    Parameters
    ----------
    scale
        Multiplier of the variance (``gain**2``), > 0.
    mode
        ``"fan_in"``, ``"fan_out"``, ``"fan_avg"`` or ``"fan_geo_avg"``.
    distribution
        ``"uniform"``, ``"normal"`` (untruncated; alias ``"untruncated_normal"``) or
        ``"truncated_normal"`` (+-2 sigma, variance-preserving).
    """

    scale: float = 1.0
    mode: str = "fan_in"
    distribution: str = "truncated_normal"

    @property
    def variance_scale(self) -> float:
        return self.scale


@dataclass(frozen=True)
class GlorotUniform(_VarianceScalingBase):
    """Glorot & Bengio (2010): U(+-gain sqrt(6 / (fan_in + fan_out))). Alias ``XavierUniform``."""

    gain: float = 1.0

    @property
    def variance_scale(self) -> float:
        return self.gain**2

    @property
    def fan_mode(self) -> str:
        return "fan_avg"


@dataclass(frozen=True)
class GlorotNormal(_VarianceScalingBase):
    """N(0, gain**2 * 2 / (fan_in + fan_out)), untruncated by default. Alias ``XavierNormal``.

    ``distribution="truncated_normal"`` gives the Keras/JAX form (same variance, +-2 sigma).
    """

    gain: float = 1.0
    distribution: str = "normal"
    _families: ClassVar[tuple[str, ...]] = ("normal", "truncated_normal")

    @property
    def variance_scale(self) -> float:
        return self.gain**2

    @property
    def fan_mode(self) -> str:
        return "fan_avg"


@dataclass(frozen=True)
class HeUniform(_VarianceScalingBase):
    """He et al. (2015): U(+-gain sqrt(3 / fan)), ``gain = calculate_gain(nonlinearity,
    negative_slope)``; torch ``kaiming_uniform_``. Alias ``KaimingUniform``.
    """

    negative_slope: float = 0.0
    mode: str = "fan_in"
    nonlinearity: str = "relu"

    @property
    def variance_scale(self) -> float:
        return _he_gain(self.nonlinearity, self.negative_slope) ** 2


@dataclass(frozen=True)
class HeNormal(_VarianceScalingBase):
    """He et al. (2015): N(0, gain**2 / fan), untruncated by default; torch ``kaiming_normal_``.
    Alias ``KaimingNormal``. ``distribution="truncated_normal"`` gives Keras/JAX ``HeNormal``.
    """

    negative_slope: float = 0.0
    mode: str = "fan_in"
    nonlinearity: str = "relu"
    distribution: str = "normal"
    _families: ClassVar[tuple[str, ...]] = ("normal", "truncated_normal")

    @property
    def variance_scale(self) -> float:
        return _he_gain(self.nonlinearity, self.negative_slope) ** 2


@dataclass(frozen=True)
class LecunUniform(_VarianceScalingBase):
    """LeCun (1998): U(+-sqrt(3 / fan_in))."""

    @property
    def variance_scale(self) -> float:
        return 1.0


@dataclass(frozen=True)
class LecunNormal(_VarianceScalingBase):
    """N(0, 1 / fan_in), untruncated by default (the SELU paper's init);
    ``distribution="truncated_normal"`` gives Keras/JAX ``LecunNormal``.
    """

    distribution: str = "normal"
    _families: ClassVar[tuple[str, ...]] = ("normal", "truncated_normal")

    @property
    def variance_scale(self) -> float:
        return 1.0


# Framework spellings of the same schemes.
XavierUniform = GlorotUniform
XavierNormal = GlorotNormal
KaimingUniform = HeUniform
KaimingNormal = HeNormal


# --------------------------------------------------------------------------------------------
# Structured values.


@dataclass(frozen=True)
class Orthogonal(Scheme):
    """Haar-random orthogonal rows (out units) in canonical layout, times ``gain``.

    With ``blocks > 1`` (stacked recurrent gates, fused QKV) each block of output rows is
    orthogonal on its own. See :func:`oneinit.core.structured.orthogonal`.
    """

    gain: float = 1.0

    def __post_init__(self) -> None:
        _set(self, "gain", _finite("gain", self.gain, minimum=0.0))

    def sample_canonical(
        self,
        shape: tuple[int, ...],
        stream: Stream,
        *,
        fans: Fans | None,
        groups: int = 1,
        blocks: int = 1,
        xp: Namespace = np,
    ) -> Array:
        return structured.orthogonal(shape, stream, self.gain, blocks=blocks, xp=xp)


@dataclass(frozen=True)
class DeltaOrthogonal(Scheme):
    """Zeros except an orthogonal (out, in) matrix at the kernel centre (Xiao et al. 2018)."""

    gain: float = 1.0

    def __post_init__(self) -> None:
        _set(self, "gain", _finite("gain", self.gain, minimum=0.0))

    def sample_canonical(
        self,
        shape: tuple[int, ...],
        stream: Stream,
        *,
        fans: Fans | None,
        groups: int = 1,
        blocks: int = 1,
        xp: Namespace = np,
    ) -> Array:
        return structured.delta_orthogonal(shape, stream, self.gain, xp=xp)


@dataclass(frozen=True)
class Identity(Scheme):
    """``gain`` times the (possibly rectangular) identity; 2-D weights (torch ``eye_``)."""

    gain: float = 1.0

    def __post_init__(self) -> None:
        _set(self, "gain", _finite("gain", self.gain, minimum=0.0))

    def sample_canonical(
        self,
        shape: tuple[int, ...],
        stream: Stream,
        *,
        fans: Fans | None,
        groups: int = 1,
        blocks: int = 1,
        xp: Namespace = np,
    ) -> Array:
        return structured.identity(shape, self.gain, xp=xp)


@dataclass(frozen=True)
class Dirac(Scheme):
    """The identity convolution (torch ``dirac_``, Paddle ``Dirac``), per group, times ``gain``."""

    gain: float = 1.0

    def __post_init__(self) -> None:
        _set(self, "gain", _finite("gain", self.gain, minimum=0.0))

    def sample_canonical(
        self,
        shape: tuple[int, ...],
        stream: Stream,
        *,
        fans: Fans | None,
        groups: int = 1,
        blocks: int = 1,
        xp: Namespace = np,
    ) -> Array:
        # The canonical layout already holds in/groups; dirac's groups split the out axis.
        return structured.dirac(shape, groups, self.gain, xp=xp)


@dataclass(frozen=True)
class Sparse(Scheme):
    """N(0, std**2) with ``ceil(sparsity * out)`` zeros in every input column (torch ``sparse_``).

    The zeros are chosen from the same seed, so they too are the same in every framework.
    """

    sparsity: float = 0.1
    std: float = 0.01

    def __post_init__(self) -> None:
        _set(self, "sparsity", _finite("sparsity", self.sparsity))
        _set(self, "std", _finite("std", self.std, minimum=0.0))
        if not 0.0 <= self.sparsity < 1.0:
            raise ValueError(f"sparsity must be in [0, 1). Received: sparsity={self.sparsity}")

    def sample_canonical(
        self,
        shape: tuple[int, ...],
        stream: Stream,
        *,
        fans: Fans | None,
        groups: int = 1,
        blocks: int = 1,
        xp: Namespace = np,
    ) -> Array:
        return structured.sparse(shape, stream, self.sparsity, self.std, xp=xp)


@dataclass(frozen=True)
class Bilinear(Scheme):
    """The bilinear upsampling kernel for transposed convolutions (correct, unlike Paddle's)."""

    def sample_canonical(
        self,
        shape: tuple[int, ...],
        stream: Stream,
        *,
        fans: Fans | None,
        groups: int = 1,
        blocks: int = 1,
        xp: Namespace = np,
    ) -> Array:
        return structured.bilinear(shape, xp=xp)


# --------------------------------------------------------------------------------------------
# Given values.


@dataclass(frozen=True, eq=False)
class Assign(Scheme):
    """Places given values into any framework's storage layout.

    ``values`` are given in ``layout`` (default the canonical ``(out, in / groups, *kernel)``)
    with ``groups``; :meth:`sample` writes them into the target storage layout, so weights
    exported from torch (``layout="dense_out_in"``) land transposed in a Keras Dense kernel.
    """

    values: Any = None
    layout: str | Layout = "canonical"
    groups: int = 1
    canonical_values: np.ndarray = dataclasses.field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.values is None:
            raise ValueError(
                "Assign needs values (an array or nested lists). Received: values=None"
            )
        array = np.array(self.values, dtype=np.float32)
        if not np.all(np.isfinite(array)):
            raise ValueError("Assign values must be finite. Received: values with NaN or inf")
        array.setflags(write=False)
        _set(self, "values", array)
        layout = get_layout(self.layout)
        # Presets are kept by name; a custom layout (e.g. Layout.einsum) as the object.
        _set(self, "layout", layout.name if isinstance(layout.to_config(), str) else layout)
        _set(self, "canonical_values", np.asarray(to_canonical(array, layout, groups=self.groups)))

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Assign)
            and (self.layout, self.groups) == (other.layout, other.groups)
            and self.values.shape == other.values.shape
            and bool(np.array_equal(self.values, other.values))
        )

    def __hash__(self) -> int:
        return hash((self.layout, self.groups, self.values.shape, self.values.tobytes()))

    def to_config(self) -> dict[str, Any]:
        return {
            "scheme": "Assign",
            "values": self.values.tolist(),
            "layout": get_layout(self.layout).to_config(),
            "groups": self.groups,
        }

    def sample_canonical(
        self,
        shape: tuple[int, ...],
        stream: Stream,
        *,
        fans: Fans | None,
        groups: int = 1,
        blocks: int = 1,
        xp: Namespace = np,
    ) -> Array:
        values = self.canonical_values
        if tuple(values.shape) != tuple(shape):
            raise ValueError(
                f"Assign holds values of canonical shape {values.shape}, but the weight's "
                f"canonical shape is {shape}. Received: shape={shape}"
            )
        return xp.asarray(values)


# --------------------------------------------------------------------------------------------
# User-defined schemes.


class Generator:
    """Random arrays for user-defined schemes, from the portable stream.

    Draw ``n`` (0, 1, 2, ... in call order) uses the stream's child ``"draw{n}"``, so a scheme
    that makes the same calls gets the same values everywhere. ``xp`` is the array namespace to
    compute with.
    """

    def __init__(self, stream: Stream, xp: Namespace = np) -> None:
        self.stream = stream
        self.xp = xp
        self._draws = 0

    def _next(self) -> Stream:
        stream = self.stream.child(f"draw{self._draws}")
        self._draws += 1
        return stream

    def uniform(self, shape: Sequence[int], low: float = 0.0, high: float = 1.0) -> Array:
        """float32 U(low, high) of ``shape``."""
        return Uniform(low, high).sample_canonical(
            tuple(shape), self._next(), fans=None, xp=self.xp
        )

    def normal(self, shape: Sequence[int], mean: float = 0.0, std: float = 1.0) -> Array:
        """float32 N(mean, std**2) of ``shape``."""
        return Normal(mean, std).sample_canonical(tuple(shape), self._next(), fans=None, xp=self.xp)

    def truncated_normal(
        self,
        shape: Sequence[int],
        mean: float = 0.0,
        std: float = 1.0,
        lower: float = -2.0,
        upper: float = 2.0,
    ) -> Array:
        """float32 N(mean, std**2) truncated to ``[lower, upper]`` standard deviations."""
        scheme = TruncatedNormal(mean, std, lower, upper, "std")
        return scheme.sample_canonical(tuple(shape), self._next(), fans=None, xp=self.xp)


@dataclass(frozen=True)
class CustomScheme(Scheme):
    """Base for user-defined schemes: implement :meth:`draw` once, get it in every adapter.

    Example: "U(5, 10) with probability 1/4, 0 with 1/2, U(-10, -5) with 1/4":

    >>> import oneinit
    >>> class Mixture(oneinit.CustomScheme):
    ...     def draw(self, shape, fans, generator):
    ...         xp = generator.xp
    ...         choice = generator.uniform(shape)
    ...         magnitude = generator.uniform(shape, 5.0, 10.0)
    ...         zero = xp.zeros(shape, dtype=xp.float32)
    ...         return xp.where(choice < 0.25, magnitude, xp.where(choice < 0.75, zero, -magnitude))
    >>> w = Mixture().sample((64, 32), seed=0)
    >>> bool(((w == 0) | ((abs(w) >= 5) & (abs(w) <= 10))).all())
    True

    Fields of the subclass (a frozen dataclass when decorated ``@dataclass(frozen=True)``) are
    its configuration. ``fans`` is the weight's :class:`~oneinit.core.fans.Fans`, or None
    for vectors and scalars (biases) sampled without ``fans=``.
    """

    uses_fans: ClassVar[bool] = True

    def draw(self, shape: tuple[int, ...], fans: Fans | None, generator: Generator) -> Array:
        """float32 values of the canonical ``shape`` (out, in / groups, *kernel)."""
        raise NotImplementedError

    def sample_canonical(
        self,
        shape: tuple[int, ...],
        stream: Stream,
        *,
        fans: Fans | None,
        groups: int = 1,
        blocks: int = 1,
        xp: Namespace = np,
    ) -> Array:
        values = self.draw(shape, fans, Generator(stream, xp))
        if tuple(values.shape) != tuple(shape):
            raise ValueError(
                f"{type(self).__name__}.draw must return an array of the shape it was given. "
                f"Received: shape={tuple(values.shape)}, expected {tuple(shape)}"
            )
        return astype(values, xp.float32, xp)


@dataclass(frozen=True)
class FunctionScheme(CustomScheme):
    """A user-defined scheme from a function ``fn(shape, fans, generator) -> array``.

    ``function`` is the import path ``"module:qualified_name"`` so the scheme serializes;
    build it with :meth:`wrap`.
    """

    function: str = ""

    def __post_init__(self) -> None:
        self.resolve()

    @classmethod
    def wrap(cls, fn: Callable[..., Array]) -> FunctionScheme:
        """The scheme of a module-level function (lambdas and closures cannot be serialized)."""
        path = f"{fn.__module__}:{fn.__qualname__}"
        if "<" in fn.__qualname__:
            raise ValueError(
                "FunctionScheme needs a module-level function so it can be serialized; wrap a "
                f"lambda or closure in a CustomScheme subclass instead. Received: fn={path}"
            )
        return cls(path)

    def resolve(self) -> Callable[..., Array]:
        module_name, _, qualname = self.function.partition(":")
        if not module_name or not qualname:
            raise ValueError(
                "function must be an import path 'module:name'. "
                f"Received: function={self.function!r}"
            )
        target: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            target = getattr(target, part)
        if not callable(target):
            raise TypeError(f"function must name a callable. Received: function={self.function!r}")
        return target  # type: ignore[no-any-return]

    def draw(self, shape: tuple[int, ...], fans: Fans | None, generator: Generator) -> Array:
        return self.resolve()(shape, fans, generator)


@dataclass(frozen=True)
class GateBias(CustomScheme):
    """A recurrent bias of stacked gates: ``value`` on gate ``gate``, zeros elsewhere.

    Keras's LSTM ``unit_forget_bias=True`` is ``GateBias(1.0, gate=1, gates=4)`` (gates i, f,
    c, o: the forget gate is the second block). Deterministic: the seed changes nothing.

    >>> GateBias(1.0, gate=1, gates=4).sample((8,), seed=0)
    array([0., 0., 1., 1., 0., 0., 0., 0.], dtype=float32)
    """

    value: float = 1.0
    gate: int = 1
    gates: int = 4
    uses_fans: ClassVar[bool] = False

    def __post_init__(self) -> None:
        for what in ("gate", "gates"):
            number = getattr(self, what)
            if isinstance(number, bool) or not isinstance(number, int) or number < 0:
                raise ValueError(f"{what} must be a non-negative int. Received: {what}={number!r}")
        if not 0 <= self.gate < self.gates:
            raise ValueError(
                f"gate must index one of the {self.gates} gates (0 to {self.gates - 1}). "
                f"Received: gate={self.gate}"
            )
        if not math.isfinite(self.value):
            raise ValueError(f"value must be finite. Received: value={self.value!r}")

    def draw(self, shape: tuple[int, ...], fans: Fans | None, generator: Generator) -> Array:
        if len(shape) != 1 or shape[0] % self.gates:
            raise ValueError(
                f"GateBias fills a vector of {self.gates} stacked gates: its length must be a "
                f"multiple of {self.gates}. Received: shape={shape}"
            )
        xp = generator.xp
        width = shape[0] // self.gates
        index = xp.arange(shape[0])
        inside = (index >= self.gate * width) & (index < (self.gate + 1) * width)
        return xp.where(
            inside,
            xp.full(shape, self.value, dtype=xp.float32),
            xp.zeros(shape, dtype=xp.float32),
        )


# --------------------------------------------------------------------------------------------
# Configuration.


def scheme_from_config(config: dict[str, Any]) -> Scheme:
    """The scheme described by ``config`` (the output of :meth:`Scheme.to_config`)."""
    if not isinstance(config, dict) or "scheme" not in config:
        raise ValueError(
            "A scheme config is a dict with a 'scheme' key naming the class. "
            f"Received: config={config!r}"
        )
    params = dict(config)
    name = params.pop("scheme")
    cls = Scheme._registry.get(name)
    if cls is None:
        allowed = ", ".join(sorted(Scheme._registry))
        raise ValueError(f"Unknown scheme. Allowed: {allowed}. Received: scheme={name!r}")
    return cls(**params)
