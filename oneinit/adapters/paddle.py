"""PaddlePaddle adapter: every oneinit scheme as a ``paddle.nn.initializer.Initializer``.

The core decides (fans, gains, bounds, truncation, portable values); this module reads a
parameter's shape, dtype and place and writes the Paddle way, in dygraph (the default), in static
PIR programs, in legacy static programs, and deferred under ``paddle.LazyGuard``.

>>> import paddle
>>> import oneinit
>>> from oneinit.adapters import paddle as oip
>>> linear = paddle.nn.Linear(256, 512, weight_attr=paddle.ParamAttr(initializer=oip.HeNormal()))
>>> conv = paddle.nn.Conv2D(16, 32, 3)
>>> oip.GlorotUniform(seed=0)(conv.weight)                         # re-initialize in place
>>> report = oip.initialize(conv, oneinit.HeNormal(), seed=0)      # layer-aware, portable

Two ways to fill
----------------
- ``seed=None`` (native): Paddle's own generator on the parameter's place (``paddle.seed`` and a
  static program's ``random_seed`` apply), with the numbers the core computed
  (:meth:`~oneinit.RandomScheme.distribution_for`). Uniforms and normals fill in place;
  truncated normals use Paddle's exact inverse-CDF kernel (bounds in value units) and are then
  clamped to the bounds rounded inward, so no value lies outside them in any dtype. float16 and
  bfloat16 parameters are sampled in float32 and cast once. Structured schemes (orthogonal,
  sparse, user-defined) take a seed drawn from Paddle's CPU generator and are computed by the
  core; identity-like ones (Dirac, Identity, Bilinear, Assign) have no randomness at all.
- ``seed=int`` (portable): the core's values (:meth:`~oneinit.Scheme.sample`), the same in every
  framework, transposed into Paddle's storage layout. **Call n** (0, 1, 2, ... counted per
  initializer instance) uses the stream key ``(key + n) mod 2**64`` (``key`` defaults to 0; a
  string key is hashed with :func:`oneinit.key_from_name` first), so one instance passed to many
  layers gives each its own values and a model built twice in the same order is identical.
  :func:`initialize` keys each parameter by its structured name instead
  (``key_from_name("encoder.0.weight")``), or by the canonical name its ``names=`` gives it:
  adding a layer leaves the others' values unchanged unless it renumbers them (a layer
  inserted into a ``Sequential`` shifts the indices after it; ``names=`` pins them).

Layouts
-------
Paddle stores ``Linear`` as ``(in, out)``, ``Conv*D`` as ``(out, in/groups, *k)``,
``Conv*DTranspose`` as ``(in, out/groups, *k)`` and RNN weights as ``(gates * H, in)``. A bare
parameter gets Paddle's rank rule (2-D: ``"dense_in_out"``, 3-D and more: ``"conv_out_in"``,
vectors: fans ``(n, n)``); ``layout=`` names another (``"conv_transpose_in_out"``,
``"recurrent_out_in"`` with ``blocks=`` gates, ...). :func:`initialize` and :func:`init_fn`
know each layer's, and give biases their layer's fans.

Names
-----
Paddle's spellings keep Paddle's signatures and defaults (``XavierUniform(fan_in, fan_out,
gain)``, ``KaimingNormal(fan_in, negative_slope, nonlinearity, mode)``, ``Uniform(low=-1,
high=1)``, ``TruncatedNormal(mean, std, a, b)`` with **absolute** ``a, b``); the shared
vocabulary (``GlorotUniform``, ``HeNormal``, ``LecunNormal``, ``VarianceScaling``,
``DeltaOrthogonal``, ``Identity``, ``Sparse``, ...) keeps the core's. Every class takes the
keyword-only fill options of :class:`Initializer`.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import re
import warnings
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np

try:
    with warnings.catch_warnings():
        # paddle.utils.cpp_extension warns at import when the ccache build tool is absent:
        # noise for anyone who only initializes weights.
        warnings.filterwarnings("ignore", message="No ccache found", category=UserWarning)
        import paddle
except ImportError as _error:  # pragma: no cover - exercised only without paddle
    raise ImportError(
        'oneinit.adapters.paddle needs PaddlePaddle: pip install "oneinit[paddle]"'
    ) from _error

from paddle import _C_ops
from paddle.base import core as _paddle_core
from paddle.base.framework import _current_expected_place, in_dygraph_mode, in_pir_mode
from paddle.nn.initializer.assign import NumpyArrayInitializer as _PaddleArray
from paddle.nn.initializer.constant import ConstantInitializer as _PaddleConstant
from paddle.nn.initializer.initializer import Initializer as _PaddleInitializer
from paddle.nn.initializer.normal import NormalInitializer as _PaddleNormal
from paddle.nn.initializer.normal import TruncatedNormalInitializer as _PaddleTruncatedNormal
from paddle.nn.initializer.uniform import UniformInitializer as _PaddleUniform

from ..core import schemes as _schemes
from ..core.fans import (
    FAN_CONVENTIONS,
    Fans,
    Layout,
    canonical_shape,
    compute_fans,
    from_canonical,
    get_layout,
)
from ..core.random import NormalDistribution, UniformDistribution, key_from_name
from ..core.rules import (
    NORM_KINDS,
    RECURRENT_GATES,
    Assignment,
    Geometry,
    Names,
    ParamInfo,
    Report,
    ReportRow,
    Rule,
    Rules,
    as_rules,
    canonical_names,
    get_profile,
)
from ..core.schemes import ConstantScheme, RandomScheme, Scheme

__all__ = [
    "Assign",
    "Bilinear",
    "Constant",
    "DeltaOrthogonal",
    "Dirac",
    "GlorotNormal",
    "GlorotUniform",
    "HeNormal",
    "HeUniform",
    "Identity",
    "InitFn",
    "Initializer",
    "KaimingNormal",
    "KaimingUniform",
    "LecunNormal",
    "LecunUniform",
    "Normal",
    "Ones",
    "Orthogonal",
    "Sparse",
    "TruncatedNormal",
    "Uniform",
    "VarianceScaling",
    "XavierNormal",
    "XavierUniform",
    "Zeros",
    "default_layout",
    "describe",
    "init_fn",
    "initialize",
]

_KEY_SPACE = 2**64
_LOW_PRECISION = ("float16", "bfloat16")
_FLOATS = ("float16", "bfloat16", "float32", "float64")


# --------------------------------------------------------------------------------------------
# Argument checks: built-in error types, message = what is wrong, what is allowed, Received.


def _check_seed(seed: Any) -> int | None:
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be None or an int. Received: seed={seed!r}")
    if not 0 <= int(seed) < _KEY_SPACE:
        raise ValueError(f"seed must satisfy 0 <= seed < 2**64. Received: seed={seed}")
    return int(seed)


def _check_key(key: Any) -> int:
    if key is None:
        return 0
    if isinstance(key, str):
        return key_from_name(key)
    if isinstance(key, bool) or not isinstance(key, (int, np.integer)):
        raise TypeError(f"key must be None, an int or a str. Received: key={key!r}")
    if not 0 <= int(key) < _KEY_SPACE:
        raise ValueError(f"key must satisfy 0 <= key < 2**64. Received: key={key}")
    return int(key)


def _check_count(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be a positive int. Received: {name}={value!r}")
    if value < 1:
        raise ValueError(f"{name} must be a positive int. Received: {name}={value!r}")
    return int(value)


def _check_fan(name: str, value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be None or a positive number. Received: {name}={value!r}")
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be None or a positive number. Received: {name}={value!r}")
    return float(value)


def _check_bool(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False. Received: {name}={value!r}")
    return value


def _check_convention(fan_convention: Any) -> str:
    if fan_convention not in FAN_CONVENTIONS:
        allowed = ", ".join(repr(c) for c in FAN_CONVENTIONS)
        raise ValueError(
            f"fan_convention must be one of {allowed}. Received: fan_convention={fan_convention!r}"
        )
    return str(fan_convention)


# --------------------------------------------------------------------------------------------
# Paddle facts: dtypes, places, modes.


def _dtype_name(dtype: Any) -> str:
    """``"float32"`` for paddle.float32 (PIR/dygraph DataType) and VarType.FP32 (legacy)."""
    return str(dtype).rsplit(".", 1)[-1].lower()


def _check_float(dtype: Any) -> str:
    name = _dtype_name(dtype)
    if name not in _FLOATS:
        raise TypeError(
            "oneinit initializers fill floating-point parameters (float16, bfloat16, float32, "
            f"float64). Received: dtype={name}"
        )
    return name


def _is_materialized(var: Any) -> bool:
    """Whether a dygraph tensor holds memory (a ParamAttr or lazy parameter does not yet)."""
    return bool(var._is_initialized())


def _expected_place() -> Any:
    """Where Paddle creates tensors now (the current device)."""
    return _current_expected_place()  # type: ignore[no-untyped-call]


def _place(var: Any) -> Any:
    """The parameter's place, or where Paddle would create it (``var.place`` is undefined for a
    parameter being created through ``ParamAttr``)."""
    if in_dygraph_mode() and var.place._type():
        return var.place
    return _expected_place()


def default_layout(shape: Iterable[int]) -> str | None:
    """Paddle's rank rule: ``"dense_in_out"`` for 2-D, ``"conv_out_in"`` for more, None for
    vectors and scalars (whose fans Paddle's rule reads as ``(n, n)`` and ``(1, 1)``).

    >>> default_layout((256, 512)), default_layout((32, 16, 3, 3)), default_layout((8,))
    ('dense_in_out', 'conv_out_in', None)
    """
    ndim = len(tuple(shape))
    if ndim == 2:
        return "dense_in_out"
    if ndim >= 3:
        return "conv_out_in"
    return None


# --------------------------------------------------------------------------------------------
# Bounds in the parameter's dtype.


def _round_inward(value: float, toward: float, dtype: str) -> float:
    """``value`` rounded to ``dtype`` on the side of ``toward`` (so clamping to it never moves a
    value outside ``value``). bfloat16 is float32 with the low 16 mantissa bits dropped."""
    if not math.isfinite(value) or dtype == "float64":
        return value
    up = toward > value
    if dtype in ("float32", "float16", "bfloat16"):
        kind = np.float16 if dtype == "float16" else np.float32
        rounded = kind(value)
        if up and float(rounded) < value:
            rounded = np.nextafter(rounded, kind(np.inf))
        elif not up and float(rounded) > value:
            rounded = np.nextafter(rounded, kind(-np.inf))
        if dtype != "bfloat16":
            return float(rounded)
        bits = int(np.array(rounded, dtype=np.float32).view(np.uint32))
        truncated = bits & 0xFFFF0000  # toward zero
        if truncated == bits:
            return float(rounded)
        toward_zero = np.array(truncated, dtype=np.uint32).view(np.float32)
        away = np.array(truncated + 0x10000, dtype=np.uint32).view(np.float32)
        below, above = (toward_zero, away) if rounded > 0 else (away, toward_zero)
        return float(above if up else below)
    raise TypeError(f"No float dtype named {dtype!r}.")  # unreachable: dtypes are checked first


# --------------------------------------------------------------------------------------------
# Native values: Paddle's generator, the core's numbers.


def _program_seed(block: Any) -> int:
    """The seed Paddle's own initializers pass: the program's ``random_seed`` (0: global RNG)."""
    program = getattr(block, "program", None)
    return int(getattr(program, "random_seed", 0) or 0)


def _native_tensor(
    distribution: UniformDistribution | NormalDistribution | float,
    shape: list[int],
    dtype: str,
    seed: int,
    place: Any,
) -> Any:
    """A new tensor (dygraph) or value (PIR) of ``distribution`` (a float: a constant).

    float16/bfloat16 are drawn in float32 and cast once, after clamping to the bounds rounded
    inward in the target dtype (rounding to nearest could otherwise cross a bound).
    """
    if isinstance(distribution, float):
        return _C_ops.full(shape, distribution, getattr(paddle, dtype), place)
    work = "float32" if dtype in _LOW_PRECISION else dtype
    work_dtype = getattr(paddle, work)
    clamp = dtype in _LOW_PRECISION
    if isinstance(distribution, UniformDistribution):
        low = _round_inward(distribution.low, distribution.high, work)
        high = _round_inward(distribution.high, distribution.low, work)
        out = _C_ops.uniform(shape, work_dtype, low, high, seed, place)
        center = distribution.mean
    elif not distribution.truncated:
        out = _C_ops.gaussian(shape, distribution.mean, distribution.std, seed, work_dtype, place)
        clamp, center = False, distribution.mean
    else:
        # Paddle's kernel is an exact inverse CDF on value-unit bounds; the clamp only absorbs
        # rounding at the bounds (never seen on the CPU build), on every device, for ~1% time.
        out = _C_ops.truncated_gaussian_random(
            shape, distribution.mean, distribution.std, seed, distribution.low,
            distribution.high, work_dtype, place,
        )  # fmt: skip
        clamp, center = True, distribution.mean
    if clamp:
        low = _round_inward(distribution.low, center, dtype)
        high = _round_inward(distribution.high, center, dtype)
        out = out.clip_(low, high) if in_dygraph_mode() else paddle.clip(out, low, high)
    if work != dtype:
        out = paddle.cast(out, getattr(paddle, dtype))
    return out


def _fill_in_place(var: Any, distribution: Any, seed: int) -> bool:
    """Fill a materialized float32/float64 dygraph tensor in place: no new allocation, and views
    of its memory (the flat weight an RNN shares with its parameters) see the values."""
    with paddle.no_grad():
        if isinstance(distribution, float):
            var.fill_(distribution)
            return True
        if isinstance(distribution, UniformDistribution):
            dtype = _dtype_name(var.dtype)
            low = _round_inward(distribution.low, distribution.high, dtype)
            high = _round_inward(distribution.high, distribution.low, dtype)
            var.uniform_(low, high, seed)
            return True
        if not distribution.truncated:
            paddle.tensor.random.gaussian_(var, distribution.mean, distribution.std, seed)
            return True
        dtype = _dtype_name(var.dtype)
        # Paddle's kernel written into var's memory (the eager op takes out=; its stubs omit it).
        _C_ops.truncated_gaussian_random(  # type: ignore[call-arg]
            list(var.shape), distribution.mean, distribution.std, seed, distribution.low,
            distribution.high, var.dtype, var.place, out=var,
        )  # fmt: skip
        low = _round_inward(distribution.low, distribution.mean, dtype)
        high = _round_inward(distribution.high, distribution.mean, dtype)
        var.clip_(low, high)  # see _native_tensor
        return True


def _write(var: Any, tensor: Any) -> None:
    """Put a dygraph ``tensor`` into ``var``: copy into its memory if it has some (keeps views
    and the identity of the storage), else hand ``tensor``'s memory over, as Paddle does."""
    if _is_materialized(var):
        with paddle.no_grad():
            paddle.assign(tensor, output=var)
    else:
        if not tensor.is_contiguous():
            tensor = tensor.contiguous()
        tensor._share_underline_tensor_to(var)


class _PaddleArrays:
    """The two array functions the core's :func:`~oneinit.from_canonical` needs, in Paddle: the
    layout transpose then runs in Paddle (a strided view, copied once where it is written)."""

    @staticmethod
    def reshape(x: Any, shape: Iterable[int]) -> Any:
        return paddle.reshape(x, list(shape))

    @staticmethod
    def permute_dims(x: Any, axes: Iterable[int]) -> Any:
        return paddle.transpose(x, list(axes))


@dataclasses.dataclass(frozen=True)
class _HostValues:
    """Portable values from the core, in the canonical layout of a weight of ``shape``."""

    canonical: np.ndarray
    shape: tuple[int, ...]
    layout: Layout | None
    groups: int

    def storage(self) -> np.ndarray:
        """The values in storage layout, on the host (for static programs)."""
        if self.layout is None:
            return self.canonical
        return np.asarray(
            from_canonical(self.canonical, self.shape, self.layout, groups=self.groups)
        )

    def tensor(self, dtype: str, place: Any) -> Any:
        """A dygraph tensor of the values in storage layout on ``place``, cast once to
        ``dtype`` (possibly a strided view)."""
        if place.is_cpu_place():
            values = self.canonical
            if not (values.flags.writeable and values.flags.c_contiguous):
                values = np.array(values)  # held by a scheme (Assign): the parameter gets a copy
            tensor = paddle.utils.dlpack.from_dlpack(values)  # no copy: the array is ours
        else:
            tensor = paddle.to_tensor(self.canonical, place=place)
        if self.layout is not None:
            tensor = from_canonical(
                tensor, self.shape, self.layout, groups=self.groups, xp=_PaddleArrays
            )
        if _dtype_name(tensor.dtype) != dtype:
            tensor = paddle.cast(tensor, getattr(paddle, dtype))
        return tensor


# --------------------------------------------------------------------------------------------
# The initializer.


class Initializer(_PaddleInitializer):
    """Any oneinit scheme as a Paddle initializer.

    Use it in ``paddle.ParamAttr(initializer=...)``, in
    ``paddle.nn.initializer.set_global_initializer(...)``, or call it on a parameter to
    re-initialize it in place. It works in dygraph, in static programs (PIR and legacy), and
    under ``paddle.LazyGuard`` (deferred until ``param.initialize()``, like Paddle's own).

    Parameters
    ----------
    scheme
        A :class:`oneinit.Scheme` (``oneinit.HeNormal()``, a ``CustomScheme`` subclass, ...).
    seed
        None: Paddle's generator (see the module docstring); an int in ``[0, 2**64)``: the
        core's portable values, call n using stream key ``(key + n) mod 2**64``.
    key
        Base stream key, an int or a name (hashed with :func:`oneinit.key_from_name`).
    layout
        Storage layout of the parameters this initializer fills (a :data:`oneinit.LAYOUTS`
        name, alias or :class:`oneinit.Layout`); default: Paddle's rank rule
        (:func:`default_layout`).
    groups, blocks
        Convolution groups and stacked blocks (RNN gates, fused projections); see
        :func:`oneinit.compute_fans`.
    fan_convention
        ``"oneinit"`` (correct fans) or a framework's own rule on the raw shape (``"paddle"``
        reproduces Paddle's ``Initializer._compute_fans``).
    fans
        :class:`oneinit.Fans` to use instead of computing them (a bias from its layer's fans).

    Examples
    --------
    >>> import paddle, oneinit
    >>> from oneinit.adapters import paddle as oip
    >>> init = oip.Initializer(oneinit.HeNormal(distribution="truncated_normal"), seed=7)
    >>> linear = paddle.nn.Linear(64, 32, weight_attr=paddle.ParamAttr(initializer=init))
    >>> ref = oneinit.HeNormal(distribution="truncated_normal").sample(
    ...     (64, 32), seed=7, key=0, layout="dense_in_out")
    >>> bool((linear.weight.numpy() == ref).all())
    True
    """

    def __init__(
        self,
        scheme: Scheme,
        *,
        seed: int | None = None,
        key: int | str | None = None,
        layout: str | Layout | None = None,
        groups: int = 1,
        blocks: int = 1,
        fan_convention: str = "oneinit",
        fans: Fans | None = None,
    ) -> None:
        super().__init__()
        if not isinstance(scheme, Scheme):
            raise TypeError(
                "scheme must be a oneinit scheme such as oneinit.HeNormal(). "
                f"Received: scheme={scheme!r}"
            )
        if fans is not None and not isinstance(fans, Fans):
            raise TypeError(f"fans must be None or a oneinit.Fans. Received: fans={fans!r}")
        self.scheme = scheme
        self.seed = _check_seed(seed)
        self.key = _check_key(key)
        self.layout = None if layout is None else get_layout(layout)
        self.groups = _check_count("groups", groups)
        self.blocks = _check_count("blocks", blocks)
        self.fan_convention = _check_convention(fan_convention)
        self.fans = fans
        self._fan_overrides: dict[str, float] = {}
        self._calls = itertools.count()

    def __deepcopy__(self, memo: dict[int, Any]) -> Initializer:
        # Paddle deep-copies a ParamAttr (and its initializer) for every parameter it creates.
        # A copy would restart the call counter, so same-shaped layers sharing one seeded
        # initializer would get identical weights (Keras's trap). The configuration is
        # immutable, so every copy is this object.
        return self

    def __copy__(self) -> Initializer:
        return self

    def __repr__(self) -> str:
        options = [f"seed={self.seed}"] if self.seed is not None else []
        if self.layout is not None:
            options.append(f"layout={self.layout.name!r}")
        return f"{type(self).__name__}({self.scheme!r}{''.join(', ' + o for o in options)})"

    # -- what a parameter gets ---------------------------------------------------------------

    def geometry(self, shape: Iterable[int]) -> tuple[Layout | None, Fans | None]:
        """The layout and fans (None where the scheme needs none) for a parameter of
        ``shape``."""
        dims = tuple(int(d) for d in shape)
        if self.layout is not None:
            layout: Layout | None = self.layout
        else:
            name = default_layout(dims)
            layout = None if name is None else get_layout(name)
        if not self.scheme.uses_fans:
            return layout, self.fans
        if self.fans is not None:
            fans = self.fans
        elif self.fan_convention != "oneinit":
            fans = compute_fans(dims, fan_convention=self.fan_convention)
        elif layout is None:
            # A vector has no fans of its own; Paddle's rule reads it as (n, n) (a scalar as
            # (1, 1)). It also keeps a global fan-based initializer working on the 1-D buffers
            # Paddle creates (an RNN's flat weight). initialize() gives biases their layer's.
            fans = compute_fans(dims, fan_convention="paddle")
        else:
            fans = compute_fans(dims, layout, groups=self.groups, blocks=self.blocks)
        if self._fan_overrides:
            fans = dataclasses.replace(fans, **self._fan_overrides)  # type: ignore[arg-type]
        return layout, fans

    def _next_key(self) -> int:
        return (self.key + next(self._calls)) % _KEY_SPACE

    # -- Paddle's entry point ------------------------------------------------------------------

    def forward(self, var: Any, block: Any = None) -> Any:
        """Fill ``var``: in place in dygraph (returns None); the initial value in PIR; the
        initializing op in a legacy static program."""
        shape = [int(d) for d in var.shape]
        dtype = _check_float(var.dtype)
        block = self._check_block(block)
        if math.prod(shape) == 0:
            return self._emit(var, block, 0.0, dtype, seed=0)  # nothing to draw
        layout, fans = self.geometry(shape)
        scheme = self.scheme
        if isinstance(scheme, ConstantScheme):
            return self._emit(var, block, float(scheme.value), dtype, seed=0)
        if self.seed is None and isinstance(scheme, RandomScheme):
            distribution = scheme.distribution_for(fans)
            return self._emit(var, block, distribution, dtype, _program_seed(block))
        if self.seed is not None:
            seed, key = self.seed, self._next_key()
        else:
            # Structured schemes have no Paddle kernel: a fresh seed from Paddle's generator
            # (so paddle.seed applies) drives the core's construction.
            seed, key = int(_paddle_core.default_cpu_generator().random()), 0
        # The core's values in the canonical layout (float32; float64 for float64 parameters);
        # the transpose into storage is the core's from_canonical, run in Paddle.
        canonical = (
            tuple(shape) if layout is None else canonical_shape(shape, layout, groups=self.groups)
        )
        values = scheme.sample(
            canonical,
            seed=seed,
            key=key,
            groups=self.groups,
            blocks=self.blocks,
            fans=fans,
            dtype=np.float64 if dtype == "float64" else None,
        )
        host = _HostValues(values, tuple(shape), layout, self.groups)
        return self._emit(var, block, host, dtype, seed=0)

    def _emit(self, var: Any, block: Any, what: Any, dtype: str, seed: int) -> Any:
        """Write ``what`` (a distribution, a constant or host values) the way the mode wants."""
        if isinstance(what, np.ndarray):
            what = _HostValues(what, what.shape, None, 1)
        if in_dygraph_mode():
            if isinstance(what, _HostValues):
                _write(var, what.tensor(dtype, _place(var)))
                return None
            if _is_materialized(var) and dtype not in _LOW_PRECISION:
                if _fill_in_place(var, what, seed):
                    return None
            _write(var, _native_tensor(what, list(var.shape), dtype, seed, _place(var)))
            return None
        if isinstance(what, _HostValues):
            what = what.storage()
        if in_pir_mode():
            if isinstance(what, np.ndarray):
                return _PaddleArray(what).forward(var, block)
            return _native_tensor(what, list(var.shape), dtype, seed, _expected_place())
        return _legacy_initializer(what).forward(var, block)


def _legacy_initializer(what: Any) -> _PaddleInitializer:
    """Legacy (non-PIR) static programs append ops to the block: Paddle's own kernels do it."""
    if isinstance(what, np.ndarray):
        return _PaddleArray(what)
    if isinstance(what, float):
        return _PaddleConstant(what)
    if isinstance(what, UniformDistribution):
        return _PaddleUniform(what.low, what.high)
    if not what.truncated:
        return _PaddleNormal(what.mean, what.std)
    return _PaddleTruncatedNormal(what.mean, what.std, 0, what.low, what.high)


# --------------------------------------------------------------------------------------------
# One class per scheme: the shared vocabulary, and Paddle's spellings with Paddle's signatures.


class GlorotUniform(Initializer):
    """:class:`oneinit.GlorotUniform`: U(+-gain sqrt(6 / (fan_in + fan_out)))."""

    def __init__(self, gain: float = 1.0, **options: Any) -> None:
        super().__init__(_schemes.GlorotUniform(gain=gain), **options)


class GlorotNormal(Initializer):
    """:class:`oneinit.GlorotNormal`: N(0, gain**2 * 2 / (fan_in + fan_out)), untruncated unless
    ``distribution="truncated_normal"``."""

    def __init__(self, gain: float = 1.0, distribution: str = "normal", **options: Any) -> None:
        super().__init__(_schemes.GlorotNormal(gain=gain, distribution=distribution), **options)


class HeUniform(Initializer):
    """:class:`oneinit.HeUniform`: U(+-gain sqrt(3 / fan)), gain from the nonlinearity."""

    def __init__(
        self,
        negative_slope: float = 0.0,
        mode: str = "fan_in",
        nonlinearity: str = "relu",
        **options: Any,
    ) -> None:
        super().__init__(
            _schemes.HeUniform(negative_slope=negative_slope, mode=mode, nonlinearity=nonlinearity),
            **options,
        )


class HeNormal(Initializer):
    """:class:`oneinit.HeNormal`: N(0, gain**2 / fan), untruncated unless
    ``distribution="truncated_normal"``."""

    def __init__(
        self,
        negative_slope: float = 0.0,
        mode: str = "fan_in",
        nonlinearity: str = "relu",
        distribution: str = "normal",
        **options: Any,
    ) -> None:
        super().__init__(
            _schemes.HeNormal(
                negative_slope=negative_slope,
                mode=mode,
                nonlinearity=nonlinearity,
                distribution=distribution,
            ),
            **options,
        )


class LecunUniform(Initializer):
    """:class:`oneinit.LecunUniform`: U(+-sqrt(3 / fan_in))."""

    def __init__(self, **options: Any) -> None:
        super().__init__(_schemes.LecunUniform(), **options)


class LecunNormal(Initializer):
    """:class:`oneinit.LecunNormal`: N(0, 1 / fan_in), untruncated unless
    ``distribution="truncated_normal"``."""

    def __init__(self, distribution: str = "normal", **options: Any) -> None:
        super().__init__(_schemes.LecunNormal(distribution=distribution), **options)


class VarianceScaling(Initializer):
    """:class:`oneinit.VarianceScaling`: var = scale / fan (Keras/JAX)."""

    def __init__(
        self,
        scale: float = 1.0,
        mode: str = "fan_in",
        distribution: str = "truncated_normal",
        **options: Any,
    ) -> None:
        super().__init__(
            _schemes.VarianceScaling(scale=scale, mode=mode, distribution=distribution), **options
        )


def _set_overrides(init: Initializer, fan_in: Any, fan_out: Any) -> None:
    """Paddle's ``fan_in=``/``fan_out=`` replace the computed fans."""
    for name, value in (("fan_in", fan_in), ("fan_out", fan_out)):
        checked = _check_fan(name, value)
        if checked is not None:
            init._fan_overrides[name] = checked


class XavierUniform(GlorotUniform):
    """Paddle's ``XavierUniform(fan_in=None, fan_out=None, gain=1.0)``: :class:`GlorotUniform`
    with optional fan overrides."""

    def __init__(
        self,
        fan_in: float | None = None,
        fan_out: float | None = None,
        gain: float = 1.0,
        name: str | None = None,
        **options: Any,
    ) -> None:
        super().__init__(gain, **options)
        _set_overrides(self, fan_in, fan_out)


class XavierNormal(GlorotNormal):
    """Paddle's ``XavierNormal(fan_in=None, fan_out=None, gain=1.0)``: :class:`GlorotNormal`
    (untruncated) with optional fan overrides."""

    def __init__(
        self,
        fan_in: float | None = None,
        fan_out: float | None = None,
        gain: float = 1.0,
        name: str | None = None,
        **options: Any,
    ) -> None:
        super().__init__(gain, **options)
        _set_overrides(self, fan_in, fan_out)


def _check_kaiming(fan_in: Any, mode: str) -> None:
    if mode == "fan_out" and fan_in is not None:
        raise ValueError(
            "fan_in overrides the fan of mode='fan_in' only; drop it for mode='fan_out'. "
            f"Received: fan_in={fan_in!r}, mode={mode!r}"
        )


class KaimingUniform(HeUniform):
    """Paddle's ``KaimingUniform(fan_in=None, negative_slope=0.0, nonlinearity='relu',
    mode='fan_in')``: :class:`HeUniform` with an optional fan_in override."""

    def __init__(
        self,
        fan_in: float | None = None,
        negative_slope: float = 0.0,
        nonlinearity: str = "relu",
        mode: str = "fan_in",
        name: str | None = None,
        **options: Any,
    ) -> None:
        _check_kaiming(fan_in, mode)
        super().__init__(negative_slope, mode, nonlinearity, **options)
        _set_overrides(self, fan_in, None)


class KaimingNormal(HeNormal):
    """Paddle's ``KaimingNormal(fan_in=None, negative_slope=0.0, nonlinearity='relu',
    mode='fan_in')``: :class:`HeNormal` (untruncated) with an optional fan_in override."""

    def __init__(
        self,
        fan_in: float | None = None,
        negative_slope: float = 0.0,
        nonlinearity: str = "relu",
        mode: str = "fan_in",
        name: str | None = None,
        **options: Any,
    ) -> None:
        _check_kaiming(fan_in, mode)
        super().__init__(negative_slope, mode, nonlinearity, **options)
        _set_overrides(self, fan_in, None)


class Uniform(Initializer):
    """U(low, high) in value units; Paddle's defaults (-1, 1)."""

    def __init__(
        self, low: float = -1.0, high: float = 1.0, name: str | None = None, **options: Any
    ) -> None:
        super().__init__(_schemes.Uniform(low=low, high=high), **options)


class Normal(Initializer):
    """N(mean, std**2), untruncated; Paddle's defaults (0, 1)."""

    def __init__(
        self, mean: float = 0.0, std: float = 1.0, name: str | None = None, **options: Any
    ) -> None:
        super().__init__(_schemes.Normal(mean=mean, std=std), **options)


class TruncatedNormal(Initializer):
    """N(mean, std**2) restricted to ``[a, b]``: Paddle's signature, ``a, b`` in value units
    (``units="absolute"``, as Paddle and torch) unless ``units="std"`` (Keras/JAX)."""

    def __init__(
        self,
        mean: float = 0.0,
        std: float = 1.0,
        a: float = -2.0,
        b: float = 2.0,
        name: str | None = None,
        *,
        units: str = "absolute",
        **options: Any,
    ) -> None:
        scheme = _schemes.TruncatedNormal(mean=mean, std=std, lower=a, upper=b, units=units)
        super().__init__(scheme, **options)


class Constant(Initializer):
    """Every element ``value``."""

    def __init__(self, value: float = 0.0, name: str | None = None, **options: Any) -> None:
        super().__init__(_schemes.Constant(value=value), **options)


class Zeros(Initializer):
    """All zeros."""

    def __init__(self, **options: Any) -> None:
        super().__init__(_schemes.Zeros(), **options)


class Ones(Initializer):
    """All ones."""

    def __init__(self, **options: Any) -> None:
        super().__init__(_schemes.Ones(), **options)


class Orthogonal(Initializer):
    """:class:`oneinit.Orthogonal`: orthonormal output rows (per block), times ``gain``."""

    def __init__(self, gain: float = 1.0, name: str | None = None, **options: Any) -> None:
        super().__init__(_schemes.Orthogonal(gain=gain), **options)


class DeltaOrthogonal(Initializer):
    """:class:`oneinit.DeltaOrthogonal`: an orthogonal matrix at the kernel centre."""

    def __init__(self, gain: float = 1.0, **options: Any) -> None:
        super().__init__(_schemes.DeltaOrthogonal(gain=gain), **options)


class Identity(Initializer):
    """:class:`oneinit.Identity`: ``gain`` times the (rectangular) identity in canonical
    ``(out, in)`` terms (so the transpose of ``eye`` in a Linear's ``(in, out)`` storage)."""

    def __init__(self, gain: float = 1.0, **options: Any) -> None:
        super().__init__(_schemes.Identity(gain=gain), **options)


class Dirac(Initializer):
    """Paddle's ``Dirac(groups=1)``: the identity convolution per group, times ``gain``."""

    def __init__(
        self, groups: int = 1, name: str | None = None, *, gain: float = 1.0, **options: Any
    ) -> None:
        super().__init__(_schemes.Dirac(gain=gain), groups=groups, **options)


class Sparse(Initializer):
    """:class:`oneinit.Sparse`: N(0, std**2) with a fraction ``sparsity`` of each input column
    zero."""

    def __init__(self, sparsity: float = 0.1, std: float = 0.01, **options: Any) -> None:
        super().__init__(_schemes.Sparse(sparsity=sparsity, std=std), **options)


class Bilinear(Initializer):
    """The bilinear upsampling kernel (correct; Paddle's own is not under Python 3)."""

    def __init__(self, name: str | None = None, **options: Any) -> None:
        super().__init__(_schemes.Bilinear(), **options)


class Assign(Initializer):
    """Given values. With ``value_layout=None`` they are in the parameter's storage layout and
    copied as they are (Paddle's ``Assign``); with a layout they are read in it and transposed
    into the parameter's (``value_layout="dense_out_in"`` for a weight exported from torch)."""

    def __init__(
        self,
        value: Any,
        name: str | None = None,
        *,
        value_layout: str | Layout | None = None,
        groups: int = 1,
        **options: Any,
    ) -> None:
        if isinstance(value, paddle.Tensor):
            value = value.numpy()
        values = np.array(value, dtype=np.float32)  # a copy: later changes to value do not leak
        values.setflags(write=False)
        self._storage_values = values if value_layout is None else None
        source: str | Layout
        if value_layout is None:
            # The core's Assign holds matrices and kernels; a vector is kept as one row there
            # and copied as it is here.
            source = default_layout(values.shape) or "canonical"
            held = values if values.ndim >= 2 else values.reshape(1, -1)
        else:
            source, held = value_layout, values
        scheme = _schemes.Assign(values=held, layout=source, groups=groups)
        super().__init__(scheme, groups=groups, **options)

    def forward(self, var: Any, block: Any = None) -> Any:
        values = self._storage_values
        if values is None:
            return super().forward(var, block)
        shape = tuple(int(d) for d in var.shape)
        if values.shape != shape:
            raise ValueError(
                "Assign needs values of the parameter's shape (or value_layout= to transpose "
                f"them). Received: values.shape={values.shape}, parameter shape={shape}"
            )
        dtype = _check_float(var.dtype)
        fresh = values.astype(np.float64 if dtype == "float64" else np.float32)  # a new array
        return self._emit(var, self._check_block(block), fresh, dtype, seed=0)


# --------------------------------------------------------------------------------------------
# Whole models.

_RNN_NAME = re.compile(r"^(weight_ih|weight_hh|bias_ih|bias_hh)_l(\d+)(_reverse)?$")
_ATTENTION_PROJECTIONS = ("q_proj", "k_proj", "v_proj", "out_proj")


def _layer_classes(*names: str) -> tuple[type, ...]:
    return tuple(getattr(paddle.nn, n) for n in names if hasattr(paddle.nn, n))


_CONV = _layer_classes("Conv1D", "Conv2D", "Conv3D")
_RNN_BASE: type = paddle.nn.layer.rnn.RNNBase
_CONV_TRANSPOSE = _layer_classes("Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose")
_NORMS: tuple[tuple[tuple[type, ...], str], ...] = (
    (
        _layer_classes("BatchNorm", "BatchNorm1D", "BatchNorm2D", "BatchNorm3D", "SyncBatchNorm"),
        "batch_norm",
    ),
    (_layer_classes("LayerNorm"), "layer_norm"),
    (_layer_classes("GroupNorm"), "group_norm"),
    (_layer_classes("InstanceNorm1D", "InstanceNorm2D", "InstanceNorm3D"), "instance_norm"),
    (_layer_classes("RMSNorm"), "rms_norm"),
)
_RNN_KINDS: tuple[tuple[tuple[type, ...], str], ...] = (
    (_layer_classes("LSTM", "LSTMCell"), "lstm"),
    (_layer_classes("GRU", "GRUCell"), "gru"),
    (_layer_classes("SimpleRNN", "SimpleRNNCell"), "rnn"),
)


def _kind_of(layer: Any, kinds: tuple[tuple[tuple[type, ...], str], ...]) -> str | None:
    for classes, kind in kinds:
        if classes and isinstance(layer, classes):
            return kind
    return None


def _direct_parameters(layer: Any) -> Iterator[tuple[str, Any]]:
    for local, param in layer._parameters.items():
        if param is not None:
            yield local, param


@dataclasses.dataclass(frozen=True)
class _Entry:
    """A parameter, its description, and how to fill it."""

    param: Any
    info: ParamInfo
    padding_idx: int | None = None


def _describe_layer(
    layer: Any, prefix: str, parent: Any = None, attribute: str = "", *, per_gate: bool = True
) -> Iterator[_Entry]:
    """The direct parameters of ``layer`` (named ``prefix.local``), described for the rules."""
    params = dict(_direct_parameters(layer))

    def name(local: str) -> str:
        return f"{prefix}.{local}" if prefix else local

    if isinstance(layer, paddle.nn.Linear):
        weight = params.get("weight")
        geometry = None if weight is None else Geometry(tuple(weight.shape), "dense_in_out")
        in_attention = isinstance(parent, paddle.nn.MultiHeadAttention) and (
            attribute in _ATTENTION_PROJECTIONS
        )
        kind = "multihead_attention" if in_attention else "linear"
        for local, param in params.items():
            slot = f"{attribute}_{local}" if in_attention else local
            if local == "weight":
                info = ParamInfo(
                    name(local),
                    tuple(param.shape),
                    kind=kind,
                    roles={"weight"},
                    slot=slot,
                    layout="dense_in_out",
                )
            else:
                info = ParamInfo(
                    name(local),
                    tuple(param.shape),
                    kind=kind,
                    roles={"bias"},
                    slot=slot,
                    layer=geometry,
                )
            yield _Entry(param, info)
        return
    if isinstance(layer, _CONV + _CONV_TRANSPOSE):
        transposed = isinstance(layer, _CONV_TRANSPOSE)
        layout = "conv_transpose_in_out" if transposed else "conv_out_in"
        kind = "conv_transpose" if transposed else "conv"
        groups = int(getattr(layer, "_groups", 1) or 1)
        weight = params.get("weight")
        geometry = None if weight is None else Geometry(tuple(weight.shape), layout, groups)
        for local, param in params.items():
            if local == "weight":
                info = ParamInfo(
                    name(local),
                    tuple(param.shape),
                    kind=kind,
                    roles={"weight"},
                    layout=layout,
                    groups=groups,
                )
            else:
                info = ParamInfo(
                    name(local), tuple(param.shape), kind=kind, roles={"bias"}, layer=geometry
                )
            yield _Entry(param, info)
        return
    if isinstance(layer, paddle.nn.Embedding):
        padding = getattr(layer, "_padding_idx", None)  # None, or normalized to >= 0
        row = None if padding is None or int(padding) < 0 else int(padding)
        for local, param in params.items():
            info = ParamInfo(
                name(local),
                tuple(param.shape),
                kind="embedding",
                roles={"weight", "embedding"},
                layout="embedding",
            )
            yield _Entry(param, info, row)
        return
    rnn_kind = _kind_of(layer, _RNN_KINDS)
    if rnn_kind is not None:
        yield from _describe_recurrent(params, name, rnn_kind, per_gate)
        return
    norm_kind = _kind_of(layer, _NORMS)
    if norm_kind is not None:
        for local, param in params.items():
            if local in ("_mean", "_variance"):
                continue  # running statistics: buffers in every other framework
            bias = local == "bias"
            info = ParamInfo(
                name(local),
                tuple(param.shape),
                kind=norm_kind,
                roles={"norm", "bias"} if bias else {"norm"},
                slot="bias" if bias else "weight",
            )
            yield _Entry(param, info)
        return
    if isinstance(layer, paddle.nn.PReLU):
        for local, param in params.items():
            yield _Entry(
                param,
                ParamInfo(
                    name(local),
                    tuple(param.shape),
                    kind="prelu",
                    roles={"activation"},
                    slot="weight",
                ),
            )
        return
    for local, param in params.items():
        shape = tuple(param.shape)
        yield _Entry(param, ParamInfo(name(local), shape, layout=default_layout(shape)))


def _describe_recurrent(
    params: dict[str, Any], name: Callable[[str], str], kind: str, per_gate: bool
) -> Iterator[_Entry]:
    """RNN layers hold ``weight_ih_l0[_reverse]``...; cells ``weight_ih``, ``weight_hh``,
    ``bias_ih``, ``bias_hh`` and, for projected LSTMs, ``weight_ho`` (stored ``(H, P)``)."""
    gates = RECURRENT_GATES[kind] if per_gate else 1
    for local, param in params.items():
        match = _RNN_NAME.match(local)
        slot, suffix = (match.group(1), local[len(match.group(1)) :]) if match else (local, "")
        recurrent_weight = params.get(f"weight_hh{suffix}")
        layer = None
        if recurrent_weight is not None:
            layer = Geometry(tuple(recurrent_weight.shape), "recurrent_out_in", blocks=gates)
        shape = tuple(param.shape)
        if slot in ("weight_ih", "weight_hh"):
            roles = {"weight", "recurrent"} if slot == "weight_hh" else {"weight"}
            info = ParamInfo(
                name(local),
                shape,
                kind=kind,
                roles=roles,
                slot=slot,
                layout="recurrent_out_in",
                blocks=gates,
                layer=layer,
            )
        elif slot == "weight_ho":  # the LSTM projection h @ weight_ho: (H, P) = (in, out)
            info = ParamInfo(
                name(local),
                shape,
                kind=kind,
                roles={"weight", "recurrent"},
                slot="weight_hr",
                layout="dense_in_out",
                layer=layer,
            )
        elif slot in ("bias_ih", "bias_hh"):
            info = ParamInfo(name(local), shape, kind=kind, roles={"bias"}, slot=slot, layer=layer)
        else:
            info = ParamInfo(name(local), shape, kind=kind, layout=default_layout(shape))
        yield _Entry(param, info)


def describe(model: Any, *, per_gate: bool = True) -> list[ParamInfo]:
    """Every parameter of a ``paddle.nn.Layer`` as :func:`initialize` sees it: structured name
    (as in ``named_parameters``), shape, layer kind, roles, slot, layout, groups and blocks.

    >>> import paddle
    >>> from oneinit.adapters import paddle as oip
    >>> for p in oip.describe(paddle.nn.GRU(4, 8)):
    ...     print(p.name, p.kind, p.layout, p.geometry.blocks)
    weight_ih_l0 gru recurrent_out_in 3
    weight_hh_l0 gru recurrent_out_in 3
    bias_ih_l0 gru None 1
    bias_hh_l0 gru None 1
    """
    return [entry.info for entry in _walk(model, _check_bool("per_gate", per_gate))]


def _walk(model: Any, per_gate: bool = True) -> list[_Entry]:
    if not isinstance(model, paddle.nn.Layer):
        raise TypeError(f"model must be a paddle.nn.Layer. Received: model={type(model)!r}")
    parents: dict[str, tuple[Any, str]] = {}
    entries: list[_Entry] = []
    seen: set[int] = set()
    for prefix, layer in model.named_sublayers(include_self=True):
        for child_name, _ in layer.named_children():
            parents[f"{prefix}.{child_name}" if prefix else child_name] = (layer, child_name)
        parent, attribute = parents.get(prefix, (None, ""))
        for entry in _describe_layer(layer, prefix, parent, attribute, per_gate=per_gate):
            if id(entry.param) in seen:  # shared (tied) parameters: their first name wins
                continue
            seen.add(id(entry.param))
            entries.append(entry)
    return entries


def _as_rules(scheme_or_rules: Any, profile: str | None) -> Rules:
    if isinstance(scheme_or_rules, Initializer):
        raise TypeError(
            "initialize takes a oneinit scheme or rules, not an adapter initializer; pass its "
            f".scheme. Received: scheme_or_rules={scheme_or_rules!r}"
        )
    return as_rules(scheme_or_rules, profile)


def _apply_names(model: Any, entries: list[_Entry], names: Names | None) -> list[_Entry]:
    """``entries`` under the canonical names ``names`` gives: rules match them, the report
    shows them, and portable values are keyed by them."""
    if names is None:
        return entries
    # A shared parameter has one own name (the first path to it) and may be named under any
    # path named_parameters(remove_duplicate=False) gives it (an RNN's weight_ih_l0 is also
    # its cell's 0.cell.weight_ih).
    paths = {id(entry.param): [entry.info.name] for entry in entries}
    for path, param in model.named_parameters(remove_duplicate=False):
        own = paths.get(id(param))
        if own is not None and path not in own:
            own.append(path)
    renamed = []
    for entry, name in zip(entries, canonical_names(list(paths.values()), names), strict=True):
        if name != entry.info.name:
            entry = dataclasses.replace(entry, info=entry.info.renamed(name))
        renamed.append(entry)
    return renamed


def _fill_entry(entry: _Entry, assignment: Assignment, seed: int | None) -> str:
    """Fill one parameter by its assignment (keyed by its name under a seed); its status."""
    info = entry.info
    if assignment.scheme is None:  # pragma: no cover - callers fill matched parameters only
        raise ValueError(f"No scheme for parameter {info.name!r}.")
    init = Initializer(
        assignment.scheme,
        seed=seed,
        key=info.name,
        layout=info.layout,
        groups=info.geometry.groups,
        # A rule may read stacked gates as one matrix (ignore="blocks"): the assignment's
        # blocks, not the layer's, shape structured schemes (one orthogonal matrix or one per
        # gate).
        blocks=assignment.blocks,
        fans=assignment.fans,
    )
    param = entry.param
    padding = entry.padding_idx

    def fill(target: Any, block: Any = None) -> None:
        init.forward(target, block)
        if padding is not None:
            with paddle.no_grad():
                target[padding] = 0.0  # the padding row stays zero, as torch keeps it

    if not _is_materialized(param) and getattr(param, "_init_func", None) is not None:
        # Built under paddle.LazyGuard: defer like Paddle's own initializers do.
        init._lazy_init(param, None)
        param.set_init_func(fill)
        return "lazy"
    fill(param)
    return "initialized"


def initialize(
    model: Any,
    scheme_or_rules: Scheme | Rules | Rule | Iterable[Rule] | None = None,
    *,
    seed: int | None = None,
    profile: str | None = None,
    per_gate: bool = True,
    fan_convention: str = "oneinit",
    dry_run: bool = False,
    names: Names | None = None,
) -> Report:
    """Initialize every parameter of a ``paddle.nn.Layer`` (dygraph) by layer-aware rules.

    Parameters
    ----------
    model
        The layer; every sublayer's parameters are described by :func:`describe` (Linear,
        Conv1D/2D/3D and their transposes, grouped and depthwise, Embedding, SimpleRNN/LSTM/GRU
        and their cells, MultiHeadAttention, the norms, PReLU).
    scheme_or_rules
        A scheme (weights get it, biases zeros, norm scales ones:
        :meth:`oneinit.core.rules.Rules.from_scheme`), or :class:`~oneinit.core.rules.Rules` /
        a list of :class:`~oneinit.core.rules.Rule` (first match wins).
    seed
        None: Paddle's generator. An int: portable values, each parameter keyed by its
        structured name (``key_from_name("0.weight")``), or by its canonical name under
        ``names``.
    profile
        A framework's default initialization (``"torch"``) as fallback rules after
        ``scheme_or_rules``.
    per_gate
        Read recurrent weights as one block per gate (fans of one gate; orthogonal per gate).
        False reads the stacked ``(gates * H, in)`` matrix as one.
    fan_convention
        ``"oneinit"`` or a framework's own fan rule, for rules that do not name one.
    dry_run
        Plan only: fill nothing (statuses ``"planned"``).
    names
        Canonical names: a mapping ``{own name: canonical name}`` (own names as the report
        shows them without ``names``; a shared parameter may be named under any of its
        paths, once) or a callable ``own name -> canonical name | None``. A canonical name
        replaces the own one everywhere: in what rules match (``Rule(name=...)``,
        ``regex=``), in the report, and as the portable stream key
        (``key_from_name(canonical name)``). Parameters it leaves out keep their own names; a
        mapping may name only existing parameters, and two parameters may not share a name.

    Returns
    -------
    oneinit.core.rules.Report
        One row per parameter. Parameters built under ``paddle.LazyGuard`` are deferred (status
        ``"lazy"``): ``param.initialize()`` fills them with the planned scheme.

    Examples
    --------
    >>> import paddle, oneinit
    >>> from oneinit.adapters import paddle as oip
    >>> from oneinit.core.rules import Rule, Rules
    >>> net = paddle.nn.Sequential(paddle.nn.Conv2D(3, 8, 3), paddle.nn.LSTM(8, 16))
    >>> rules = Rules(Rule(oneinit.Orthogonal(), role="recurrent"),
    ...               Rule(oneinit.Zeros(), role="bias"), Rule(oneinit.HeNormal()))
    >>> report = oip.initialize(net, rules, seed=0)
    >>> report["1.weight_hh_l0"].scheme, report["0.weight"].fans
    ('Orthogonal()', Fans(fan_in=27, fan_out=72, receptive_field=9))
    """
    if not in_dygraph_mode():
        raise RuntimeError(
            "initialize walks a dygraph model; in a static program pass oneinit initializers "
            "through paddle.ParamAttr or set_global_initializer. Received: static mode"
        )
    _check_bool("dry_run", dry_run)
    seed = _check_seed(seed)
    rules = _as_rules(scheme_or_rules, profile)
    convention = _check_convention(fan_convention)
    entries = _apply_names(model, _walk(model, _check_bool("per_gate", per_gate)), names)
    plan = rules.plan([e.info for e in entries], fan_convention=convention)
    statuses: dict[str, str] = {}
    for entry, assignment in zip(entries, plan, strict=True):
        if dry_run or assignment.scheme is None:
            continue
        statuses[entry.info.name] = _fill_entry(entry, assignment, seed)
    return Report.from_plan(plan, statuses)


_ONES, _ZEROS = _schemes.Ones(), _schemes.Zeros()


class InitFn:
    """What :func:`init_fn` returns: ``fn(layer)`` initializes the layer's own parameters.

    ``model.apply(fn)`` calls it on every sublayer, children before their parent. ``fn(layer,
    name)`` keys portable values by the qualified name ``name``, exactly as :func:`initialize`
    does; plain ``apply`` keys them by call order and class (``"Conv2D[0].weight"`` for the
    first layer visited), so a fresh ``init_fn`` applied to a model built twice gives the same
    values. An RNN layer's parameters are its cells': the cells (visited first) fill them.
    Parameters no rule matches are left as they are; :attr:`report` lists what was done.
    """

    def __init__(
        self, rules: Rules, *, seed: int | None, per_gate: bool, fan_convention: str
    ) -> None:
        self.rules = rules
        self.seed = seed
        self.per_gate = per_gate
        self.fan_convention = fan_convention
        self._calls = 0
        self._rows: list[ReportRow] = []

    @property
    def report(self) -> Report:
        """Every parameter this function has seen so far."""
        return Report(tuple(self._rows))

    def __call__(self, layer: Any, name: str | None = None) -> None:
        call = self._calls
        self._calls += 1
        if isinstance(layer, _RNN_BASE):
            return
        prefix = name if name is not None else f"{type(layer).__name__}[{call}]"
        for entry in _describe_layer(layer, prefix, per_gate=self.per_gate):
            assignment = self.rules.assign(entry.info, fan_convention=self.fan_convention)
            status = "unmatched" if not assignment.matched else "kept"
            if assignment.scheme is not None:
                status = _fill_entry(entry, assignment, self.seed)
            self._rows.append(ReportRow.from_assignment(assignment, status))


def init_fn(
    weight: Scheme | Rules | Rule | Iterable[Rule] | None = None,
    bias: Scheme | None = None,
    *,
    recurrent: Scheme | None = None,
    embedding: Scheme | None = None,
    norm_weight: Scheme | None = _ONES,
    norm_bias: Scheme | None = _ZEROS,
    profile: str | None = None,
    seed: int | None = None,
    per_gate: bool = True,
    fan_convention: str = "oneinit",
) -> InitFn:
    """A function for ``model.apply(...)`` that initializes each layer with its layout (the
    torch adapter's ``init_fn``, for Paddle layers).

    Parameters
    ----------
    weight
        Scheme of every weight (dense and conv kernels, recurrent weights, attention
        projections, embedding tables), or :class:`~oneinit.core.rules.Rules` / a list of
        :class:`~oneinit.core.rules.Rule` tried first.
    bias
        Scheme of the layers' biases (None: left as they are); fan-based schemes use the fans
        of the layer's weight.
    recurrent, embedding
        Schemes for recurrent (hidden-to-hidden) weights and embedding tables instead of
        ``weight``.
    norm_weight, norm_bias
        Norm layers' scale and shift (default 1 and 0; None leaves them).
    profile
        ``"torch"``: torch's defaults for what the arguments above leave unset.
    seed, per_gate, fan_convention
        As in :func:`initialize`.

    ``Layer.apply`` shows each layer alone, so a MultiHeadAttention's projections are plain
    Linear layers here (use :func:`initialize` for the attention rules).

    >>> import paddle, oneinit
    >>> from oneinit.adapters import paddle as oip
    >>> net = paddle.nn.Sequential(paddle.nn.Conv2D(3, 8, 3), paddle.nn.ReLU(),
    ...                            paddle.nn.Conv2DTranspose(8, 3, 3))
    >>> fn = oip.init_fn(oneinit.HeNormal(), bias=oneinit.Zeros())
    >>> _ = net.apply(fn)
    >>> [(row.name, row.fans.fan_in) for row in fn.report if row.fans is not None]
    [('Conv2D[0].weight', 27), ('Conv2DTranspose[2].weight', 72)]
    """
    rules = Rules()
    if weight is not None and not isinstance(weight, Scheme):
        rules = _as_rules(weight, None)
        weight = None
    rules = rules + Rules(
        Rule(norm_bias, kind=NORM_KINDS, role="bias"), Rule(norm_weight, kind=NORM_KINDS)
    )
    if recurrent is not None:
        rules = rules + Rule(recurrent, role="recurrent")
    if embedding is not None:
        rules = rules + Rule(embedding, role="embedding")
    if bias is not None:
        rules = rules + Rule(bias, role="bias")
    if weight is not None:
        rules = rules + Rule(weight, role="weight")
    if profile is not None:
        rules = rules + get_profile(profile)
    return InitFn(
        rules,
        seed=_check_seed(seed),
        per_gate=_check_bool("per_gate", per_gate),
        fan_convention=_check_convention(fan_convention),
    )
