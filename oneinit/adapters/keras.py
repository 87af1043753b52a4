"""Keras 3 adapter: oneinit schemes as serializable ``keras.initializers`` and layer-aware init.

Every fan, gain, bound and portable value comes from the core; this module reads the shape and
dtype Keras passes, asks the core, and builds the tensor with ``keras.ops`` / ``keras.random``
only, so it runs on every Keras backend (``KERAS_BACKEND``: tensorflow, jax, torch).

Two ways to fill (DESIGN.md section 5):

- ``seed=None`` (default): ``keras.random`` on the backend's device, driven by one
  ``keras.random.SeedGenerator`` per initializer that advances on every call (so, unlike Keras's
  own unseeded initializers, one instance shared by two layers gives them different values;
  ``keras.utils.set_random_seed`` makes it reproducible). Uniforms are ``keras.random.uniform``
  with the core's bounds; normals ``keras.random.normal`` with the core's std; truncated normals
  ``keras.random.truncated_normal`` for the +-2 sigma case (except on the torch backend, whose
  truncation leaks), otherwise an exact inverse CDF: ``mean + std * sqrt(2) * erfinv(u)`` with
  ``u`` uniform on ``[erf(a / sqrt(2)), erf(b / sqrt(2))]``. Orthogonal values are built on the
  device (QR of a ``keras.random.normal`` matrix); the other structured schemes are built by the
  core from a seed drawn from the generator.
- ``seed=int``: portable values, equal bit for bit to the core's ``scheme.sample(shape,
  seed=seed, key=n, layout=...)`` (float32, then cast once to the variable's dtype), the same as
  every other oneinit adapter produces. **Call n of an initializer (n = 0, 1, 2, ...) uses stream
  key n**, so the first call equals the core's default ``key=0``, a model built twice from fresh
  initializers with the same seed is identical, and one instance shared by several layers gives
  each its own values.

Keras passes only a shape, so the layout is Keras's for the rank: ``(in, out)`` for 2-D
(``"dense"``), ``(*kernel, in, out)`` for 3-D and more (``"conv"``). ``layout=`` names another:
``"conv_transpose"`` for ``Conv*Transpose`` kernels ``(*kernel, out, in)``, ``"depthwise"`` for
``DepthwiseConv*`` kernels ``(*kernel, in, multiplier)`` (where Keras's own fan-in is too large by
the channel count), ``"embedding"``, or any core preset. ``EinsumDense`` (and so
``MultiHeadAttention``) passes its ``input_axes``/``output_axes`` to every oneinit initializer,
which is why they subclass ``keras.initializers.VarianceScaling``.

>>> import keras, oneinit
>>> from oneinit.adapters import keras as oik
>>> layer = keras.layers.Conv2DTranspose(32, 3, kernel_initializer=oik.HeNormal(
...     layout="conv_transpose", seed=0))
>>> layer.build((None, 8, 8, 16))
>>> ref = oneinit.HeNormal().sample((3, 3, 32, 16), layout="conv_transpose_k_out_in", seed=0)
>>> bool(keras.ops.all(layer.kernel == ref))
True
"""

from __future__ import annotations

import dataclasses
import math
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypedDict

import numpy as np

try:
    import keras
except ImportError as error:  # pragma: no cover - exercised only without keras
    raise ImportError(
        'oneinit.adapters.keras needs Keras 3: pip install "oneinit[keras]"'
    ) from error
if not keras.__version__.startswith("3."):  # pragma: no cover - Keras 2 / tf.keras
    raise ImportError(
        'oneinit.adapters.keras needs Keras 3: pip install "oneinit[keras]". '
        f"Received: keras.__version__={keras.__version__!r}"
    )

from ..core import schemes as _schemes
from ..core.fans import (
    FAN_CONVENTIONS,
    LAYOUTS,
    Fans,
    Layout,
    canonical_shape,
    compute_fans,
    from_canonical,
    get_layout,
)
from ..core.random import NormalDistribution, Stream, UniformDistribution
from ..core.rules import (
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
)
from ..core.schemes import (
    ConstantScheme,
    CustomScheme,
    RandomScheme,
    Scheme,
    scheme_from_config,
)

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = [
    "KERAS_LAYOUTS",
    "Bilinear",
    "Constant",
    "DeltaOrthogonal",
    "Dirac",
    "GlorotNormal",
    "GlorotUniform",
    "HeNormal",
    "HeUniform",
    "Identity",
    "Initializer",
    "InitializerOptions",
    "KaimingNormal",
    "KaimingUniform",
    "LecunNormal",
    "LecunUniform",
    "Ones",
    "Orthogonal",
    "RandomNormal",
    "RandomUniform",
    "Sparse",
    "TruncatedNormal",
    "VarianceScaling",
    "XavierNormal",
    "XavierUniform",
    "Zeros",
    "describe",
    "initialize",
]

Tensor = Any  # a tensor of the active Keras backend

#: Keras's spellings of the layouts of its layers (they win over the core's torch-first aliases:
#: here ``"conv"`` is Keras's ``(*kernel, in, out)``, not torch's ``(out, in, *kernel)``).
KERAS_LAYOUTS: dict[str, str] = {
    "dense": "dense_in_out",
    "conv": "conv_k_in_out",
    "conv_transpose": "conv_transpose_k_out_in",
    "depthwise": "depthwise_k_in_mult",
    "embedding": "embedding",
    "recurrent": "dense_in_out",  # (in or hidden, gates * hidden); pass blocks=gates
}
_DETERMINISTIC = (_schemes.Identity, _schemes.Dirac, _schemes.Bilinear, _schemes.Assign)
#: The largest float32 below 1 is 1 - 2**-24: the uniform of the inverse CDF stays inside
#: (-1, 1), so erfinv stays finite (|z| <= 5.3, about the reach of float32 normals).
_BELOW_ONE = 1.0 - 2.0**-24


# --------------------------------------------------------------------------------------------
# Layouts, seeds and argument checks.


def _layout(layout: str | Layout | dict[str, Any]) -> Layout:
    """A layout by Keras spelling, core preset name, :meth:`Layout.to_config` dict, or itself."""
    if isinstance(layout, str):
        layout = KERAS_LAYOUTS.get(layout, layout)
    try:
        return get_layout(layout)
    except ValueError:
        allowed = ", ".join(sorted(set(KERAS_LAYOUTS) | set(LAYOUTS)))
        raise ValueError(
            f"Unknown layout. Allowed: {allowed}. Received: layout={layout!r}"
        ) from None
    except TypeError as error:
        raise TypeError(f"Invalid layout ({error}). Received: layout={layout!r}") from None


def _default_layout(ndim: int) -> Layout | None:
    """Keras's layout for a bare shape: ``(in, out)`` for 2-D, ``(*kernel, in, out)`` above."""
    if ndim >= 3:
        return LAYOUTS["conv_k_in_out"]
    if ndim == 2:
        return LAYOUTS["dense_in_out"]
    return None  # vectors and scalars: no fans of their own


def _positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be a positive int. Received: {name}={value!r}")
    if value < 1:
        raise ValueError(f"{name} must be a positive int. Received: {name}={value!r}")
    return int(value)


def _axes(name: str, value: Any) -> tuple[int, ...] | None:
    if value is None:
        return None
    try:
        axes = tuple(value)
    except TypeError:
        raise TypeError(f"{name} must be a list of ints. Received: {name}={value!r}") from None
    if any(isinstance(a, bool) or not isinstance(a, (int, np.integer)) for a in axes):
        raise TypeError(f"{name} must be a list of ints. Received: {name}={value!r}")
    return tuple(int(a) for a in axes)


def _fan_convention(value: Any) -> str:
    if value not in FAN_CONVENTIONS:
        allowed = ", ".join(repr(c) for c in FAN_CONVENTIONS)
        raise ValueError(
            f"fan_convention must be one of {allowed}. Received: fan_convention={value!r}"
        )
    return str(value)


class _Counter:
    """Calls of one initializer (shared with its EinsumDense clones); thread-safe."""

    def __init__(self) -> None:
        self._next = 0
        self._lock = threading.Lock()

    def take(self) -> int:
        with self._lock:
            value = self._next
            self._next += 1
        return value


class _PortableSeed(int):
    """An int seed that carries its initializer's call counter.

    ``EinsumDense`` rebuilds a ``VarianceScaling`` initializer from ``get_config()`` with
    ``config["seed"] = initializer.seed``; handing it this int lets the rebuilt one share the
    counter, so two EinsumDense layers sharing one initializer still get different keys.
    """

    counter: _Counter

    def __new__(cls, value: int, counter: _Counter) -> _PortableSeed:
        seed = super().__new__(cls, value)
        seed.counter = counter
        return seed

    def __reduce__(self) -> tuple[Any, ...]:
        return (int, (int(self),))  # pickles and copies as a plain int


def _check_seed(seed: Any) -> int | keras.random.SeedGenerator | None:
    """None, a portable int seed in [0, 2**64), or a ``keras.random.SeedGenerator``."""
    if seed is None or isinstance(seed, keras.random.SeedGenerator):
        return seed
    if isinstance(seed, dict):  # a serialized SeedGenerator, as get_config writes it
        return _check_seed(keras.saving.deserialize_keras_object(seed))
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(
            "seed must be None (keras.random, advanced per call), an int (portable values) or "
            f"a keras.random.SeedGenerator. Received: seed={seed!r}"
        )
    if not 0 <= int(seed) < 2**64:
        raise ValueError(f"seed must be an int in [0, 2**64). Received: seed={seed!r}")
    return int(seed)


def _check_distribution(value: Any) -> str:
    """Keras's distribution names to the core's; Keras's ambiguous ``"normal"`` is refused."""
    if value == "normal":
        raise ValueError(
            "distribution='normal' is ambiguous: Keras reads it as a truncated normal, oneinit "
            "and torch as an untruncated one. Use 'untruncated_normal' (N(0, var), the default "
            "of the *Normal presets) or 'truncated_normal' (Keras's form, +-2 std, variance "
            "preserved). Received: distribution='normal'"
        )
    return str(value)


def _keras_distribution(value: str) -> str:
    """The core's distribution name in Keras's terms (explicit about truncation)."""
    return "untruncated_normal" if value == "normal" else value


# --------------------------------------------------------------------------------------------
# Filling: one function for initializers and initialize().


class _KerasNamespace:
    """The two array functions ``from_canonical`` needs, as ``keras.ops``."""

    @staticmethod
    def reshape(x: Tensor, shape: Sequence[int]) -> Tensor:
        return keras.ops.reshape(x, tuple(shape))

    @staticmethod
    def permute_dims(x: Tensor, axes: Sequence[int]) -> Tensor:
        return keras.ops.transpose(x, tuple(axes))


_KERAS_OPS = _KerasNamespace()


def _values(
    scheme: Scheme,
    shape: tuple[int, ...],
    dtype: Any,
    *,
    layout: Layout | None,
    groups: int,
    blocks: int,
    fan_convention: str,
    fans: Fans | None,
    seed: int | None,
    key: int | str,
    generator: keras.random.SeedGenerator | None,
    where: str,
) -> Tensor:
    """A tensor of ``shape`` and ``dtype`` holding ``scheme``'s values in ``layout``.

    ``seed`` int: the core's portable values for ``(seed, key)``. ``seed`` None: native values
    from ``generator``. ``fans`` (e.g. a bias's layer fans) replaces the weight's own.
    """
    dtype = keras.backend.standardize_dtype(dtype)
    if math.prod(shape) == 0:
        return keras.ops.zeros(shape, dtype=dtype)  # nothing to draw; fans are undefined
    if isinstance(scheme, ConstantScheme):
        return keras.ops.full(shape, scheme.value, dtype=dtype)
    if not keras.backend.is_float_dtype(dtype):
        raise TypeError(f"{where} fills floating-point tensors only. Received: dtype={dtype}")
    if layout is None and not isinstance(scheme, (RandomScheme, CustomScheme)):
        raise ValueError(
            f"{where} needs a weight with at least 2 dimensions. Received: shape={shape}"
        )
    if fans is None and scheme.uses_fans:
        if layout is None and fan_convention == "oneinit" and not isinstance(scheme, CustomScheme):
            raise ValueError(
                f"{where} depends on the weight's fans, which a "
                f"{len(shape)}-D shape does not have. Use it on a kernel, use initialize() "
                "(a bias then takes its layer's fans), or pass fan_convention='keras' for "
                f"Keras's rule (fan_in = fan_out = n). Received: shape={shape}"
            )
        if layout is not None or fan_convention != "oneinit":
            fans = compute_fans(
                shape,
                layout or "canonical",
                groups=groups,
                blocks=blocks,
                fan_convention=fan_convention,
            )
    elif layout is not None:
        canonical_shape(shape, layout, groups=groups)  # validates the groups against the shape
    if seed is None:
        if isinstance(scheme, RandomScheme):
            return _native(scheme.distribution_for(fans), shape, dtype, generator)
        if isinstance(scheme, _schemes.Orthogonal) and layout is not None:
            return _native_orthogonal(scheme, shape, dtype, layout, groups, blocks, generator)
        seed = 0 if isinstance(scheme, _DETERMINISTIC) else _draw_seed(generator)
    values = scheme.sample(
        shape,
        seed=seed,
        key=key,
        layout=layout or "canonical",
        groups=groups,
        blocks=blocks,
        fans=fans,
    )
    return keras.ops.cast(keras.ops.convert_to_tensor(np.asarray(values)), dtype)


def _draw_seed(generator: keras.random.SeedGenerator | None) -> int:
    """A portable 62-bit seed drawn with ``keras.random`` (two 31-bit words)."""
    words = keras.random.randint((2,), 0, 2**31 - 1, dtype="int32", seed=generator)
    # int() of a scalar tensor works on every backend (convert_to_numpy on tensorflow warns
    # under numpy 2).
    return (int(words[0]) << 31) | int(words[1])


_NUMPY_FLOATS = {"float16": np.float16, "float32": np.float32, "float64": np.float64}


def _inward(value: float, toward: float, dtype: str) -> float:
    """``value`` rounded to ``dtype``, stepped once toward ``toward`` if rounding moved it out.

    Keras rounds the bounds it is given to the tensor's dtype; rounded outward, the values
    could fall half an ulp outside the core's bounds. bfloat16 has no numpy type: its bounds are
    rounded as float32 (the cast to bfloat16 may still round them outward).
    """
    kind = _NUMPY_FLOATS.get(dtype, np.float32)
    rounded = kind(value)
    exact = float(rounded)  # compared as Python floats: numpy 2 would compare in float32
    if (toward > value and exact < value) or (toward < value and exact > value):
        rounded = np.nextafter(rounded, kind(toward))
    return float(rounded)


def _native(
    distribution: UniformDistribution | NormalDistribution | Any,
    shape: tuple[int, ...],
    dtype: str,
    generator: keras.random.SeedGenerator | None,
) -> Tensor:
    if isinstance(distribution, UniformDistribution):
        low, high = distribution.low, distribution.high
        return keras.random.uniform(
            shape,
            minval=_inward(low, high, dtype),
            maxval=_inward(high, low, dtype),
            dtype=dtype,
            seed=generator,
        )
    if not isinstance(distribution, NormalDistribution):  # pragma: no cover - core invariant
        raise TypeError(f"Unknown distribution. Received: {distribution!r}")
    if not distribution.truncated:
        return keras.random.normal(
            shape, mean=distribution.mean, stddev=distribution.std, dtype=dtype, seed=generator
        )
    two_sigma = (distribution.lower, distribution.upper) == (-2.0, 2.0)
    if two_sigma and distribution.mean == 0.0 and keras.backend.backend() != "torch":
        # Exact +-2 std truncation on tensorflow, jax and numpy (the torch backend keeps ~4e-6
        # of its values beyond the bounds: frameworks.md quirk Q4). The std is rounded inward
        # so that z * std stays inside the bounds for |z| <= 2.
        return keras.random.truncated_normal(
            shape,
            mean=0.0,
            stddev=_inward(distribution.std, 0.0, dtype),
            dtype=dtype,
            seed=generator,
        )
    return _native_truncated(distribution, shape, dtype, generator)


def _native_truncated(
    distribution: NormalDistribution,
    shape: tuple[int, ...],
    dtype: str,
    generator: keras.random.SeedGenerator | None,
) -> Tensor:
    """Exact truncated normal by inverse CDF (any bounds, any backend).

    ``x = mean + std * sqrt(2) * erfinv(u)``, ``u`` uniform on ``[erf(a / sqrt(2)),
    erf(b / sqrt(2))]`` (``a``, ``b`` the bounds in standard deviations), is N(mean, std**2)
    restricted to ``[a, b]``: no rejection and no clamping of the distribution. The final clip
    only absorbs float32 rounding at the bounds. Computed in float32, cast once.
    """
    lower, upper = distribution.lower, distribution.upper
    u_low = math.erf(lower / math.sqrt(2.0)) if math.isfinite(lower) else -1.0
    u_high = math.erf(upper / math.sqrt(2.0)) if math.isfinite(upper) else 1.0
    u_low, u_high = max(u_low, -_BELOW_ONE), min(u_high, _BELOW_ONE)
    u = keras.random.uniform(shape, minval=u_low, maxval=u_high, dtype="float32", seed=generator)
    x = keras.ops.erfinv(u) * (distribution.std * math.sqrt(2.0))
    if distribution.mean != 0.0:
        x = x + distribution.mean
    low, high = distribution.low, distribution.high
    if math.isfinite(low):
        x = keras.ops.maximum(x, _inward(low, distribution.mean, "float32"))
    if math.isfinite(high):
        x = keras.ops.minimum(x, _inward(high, distribution.mean, "float32"))
    return keras.ops.cast(x, dtype)


def _native_orthogonal(
    scheme: _schemes.Orthogonal,
    shape: tuple[int, ...],
    dtype: str,
    layout: Layout,
    groups: int,
    blocks: int,
    generator: keras.random.SeedGenerator | None,
) -> Tensor:
    """The core's Haar construction (``structured.orthogonal``) with ``keras.ops`` on device.

    Each block of ``out / blocks`` canonical rows: an N(0, 1) matrix, made tall, reduced QR,
    columns times sign(diag R), transposed back, times ``gain``; placed into storage by the
    core's ``from_canonical``.
    """
    cshape = canonical_shape(shape, layout, groups=groups)
    rows_total, cols = cshape[0], math.prod(cshape[1:])
    if rows_total % blocks:
        raise ValueError(
            f"Orthogonal needs the output units ({rows_total}) to be divisible by blocks. "
            f"Received: blocks={blocks}"
        )
    rows = rows_total // blocks
    pieces = []
    for _ in range(blocks):
        gaussian = keras.random.normal((rows, cols), dtype="float32", seed=generator)
        wide = rows < cols
        q, r = keras.ops.qr(keras.ops.transpose(gaussian) if wide else gaussian, mode="reduced")
        signs = keras.ops.where(keras.ops.diagonal(r) < 0, -scheme.gain, scheme.gain)
        q = q * keras.ops.cast(signs, "float32")
        pieces.append(keras.ops.transpose(q) if wide else q)
    canonical = pieces[0] if blocks == 1 else keras.ops.concatenate(pieces, axis=0)
    canonical = keras.ops.reshape(canonical, cshape)
    values = from_canonical(canonical, shape, layout, groups=groups, xp=_KERAS_OPS)
    return keras.ops.cast(values, dtype)


# --------------------------------------------------------------------------------------------
# Initializers.


class InitializerOptions(TypedDict, total=False):
    """Keyword arguments every oneinit Keras initializer takes (see :class:`Initializer`)."""

    seed: int | keras.random.SeedGenerator | dict[str, Any] | None
    layout: str | Layout | dict[str, Any] | None
    groups: int
    blocks: int
    fan_convention: str
    input_axes: Sequence[int] | None
    output_axes: Sequence[int] | None


def _register(cls: type[Initializer]) -> type[Initializer]:
    """Register under ``"oneinit>ClassName"`` so saved models reload without custom_objects."""
    registered: type[Initializer] = keras.saving.register_keras_serializable(package="oneinit")(cls)
    return registered


@_register
class Initializer(keras.initializers.VarianceScaling):  # type: ignore[misc]
    """Any oneinit scheme as a Keras initializer.

    The presets below (``HeNormal``, ``Orthogonal``, ...) are this class with the scheme built
    from Keras-style arguments; ``Initializer(scheme)`` takes any core scheme, user-defined
    :class:`oneinit.CustomScheme` subclasses included. Every class subclasses
    ``keras.initializers.VarianceScaling`` only so that ``EinsumDense`` and
    ``MultiHeadAttention`` hand it their ``input_axes``/``output_axes``: fans, orthogonal
    flattening and the portable element order then follow the einsum equation.

    Parameters
    ----------
    scheme
        A core scheme (``oneinit.HeNormal()``) or its ``to_config()`` dict.
    seed
        None: ``keras.random`` with a ``SeedGenerator`` that advances per call (global seeding
        applies). An int in ``[0, 2**64)``: the core's portable values, call ``n`` of this
        initializer using stream key ``n``. A ``keras.random.SeedGenerator``: native values
        from it.
    layout
        How to read the shape Keras passes: ``"dense"`` ``(in, out)``, ``"conv"``
        ``(*k, in, out)``, ``"conv_transpose"`` ``(*k, out, in)``, ``"depthwise"``
        ``(*k, in, multiplier)``, ``"embedding"``, ``"recurrent"``, a core preset name or a
        :class:`oneinit.Layout`. Default: ``"dense"`` for 2-D, ``"conv"`` for 3-D and more;
        vectors have none.
    groups
        Convolution groups (Keras ``Conv*(groups=g)``): fan_out counts one group's outputs.
    blocks
        Matrices stacked along the output axis: 4 for an LSTM's ``(in, 4H)`` kernels, 3 for a
        GRU's; fans and orthogonality are per block (per gate).
    fan_convention
        ``"oneinit"`` (correct fans) or ``"keras"`` (Keras's own ``compute_fans``, bug for bug;
        it also gives vectors fans ``(n, n)``), or another framework's rule.
    input_axes, output_axes
        Explicit fan axes, as ``EinsumDense`` passes them; they take precedence over
        ``layout``.

    Examples
    --------
    >>> import keras, oneinit
    >>> from oneinit.adapters import keras as oik
    >>> init = oik.Initializer(oneinit.HeUniform(nonlinearity="leaky_relu", negative_slope=0.1))
    >>> layer = keras.layers.Dense(64, kernel_initializer=init)
    >>> layer.build((None, 32))
    >>> bound = init.distribution_for((32, 64)).high          # sqrt(6 / (1 + 0.1**2) / 32)
    >>> bool(keras.ops.max(keras.ops.abs(layer.kernel)) <= bound), round(bound, 4)
    (True, 0.4309)
    """

    def __init__(self, scheme: Scheme | dict[str, Any], **options: Unpack[InitializerOptions]):
        if isinstance(scheme, dict):
            scheme = scheme_from_config(scheme)
        if not isinstance(scheme, Scheme):
            raise TypeError(
                "scheme must be a oneinit scheme (e.g. oneinit.HeNormal()) or its to_config() "
                f"dict. Received: scheme={scheme!r}"
            )
        self.scheme = scheme
        self._configure(**options)

    def _configure(
        self,
        seed: Any = None,
        layout: str | Layout | dict[str, Any] | None = None,
        groups: int = 1,
        blocks: int = 1,
        fan_convention: str = "oneinit",
        input_axes: Sequence[int] | None = None,
        output_axes: Sequence[int] | None = None,
    ) -> None:
        inherited = seed if isinstance(seed, _PortableSeed) else None
        seed = _check_seed(seed)
        self._layout = None if layout is None else _layout(layout)
        self._layout_config = None if self._layout is None else self._layout.to_config()
        self.groups = _positive_int("groups", groups)
        self.blocks = _positive_int("blocks", blocks)
        self.fan_convention = _fan_convention(fan_convention)
        self.input_axes = _axes("input_axes", input_axes)
        self.output_axes = _axes("output_axes", output_axes)
        if (self.input_axes is None) != (self.output_axes is None):
            raise ValueError(
                "input_axes and output_axes go together (EinsumDense passes both). Received: "
                f"input_axes={input_axes!r}, output_axes={output_axes!r}"
            )
        self._init_seed: Any = seed
        self._portable: _PortableSeed | None = None
        self._generator: keras.random.SeedGenerator | None = None
        if isinstance(seed, int):
            counter = inherited.counter if inherited is not None else _Counter()
            self._portable = _PortableSeed(seed, counter)
        else:
            self._generator = seed

    @property
    def seed(self) -> _PortableSeed | keras.random.SeedGenerator:
        """The int seed (portable values), or the ``SeedGenerator`` of native values.

        With ``seed=None`` the generator is made on first use (constants never need one),
        seeded from Python's ``random``, which ``keras.utils.set_random_seed`` seeds. Keras's
        own unseeded initializers instead fix one seed at construction and repeat their values
        on every call.
        """
        if self._portable is not None:
            return self._portable
        if self._generator is None:
            self._generator = keras.random.SeedGenerator()
        return self._generator

    # -- what a call does -----------------------------------------------------------------

    @property
    def layout(self) -> Layout | None:
        """The layout given (``layout=`` or the einsum axes), or None for Keras's by rank."""
        if self.input_axes is not None and self.output_axes is not None:
            return Layout.einsum(self.input_axes, self.output_axes)
        return self._layout

    def layout_for(self, shape: Sequence[int]) -> Layout | None:
        """The layout a call with ``shape`` reads it in (None for vectors and scalars)."""
        chosen = self.layout
        return chosen if chosen is not None else _default_layout(len(tuple(shape)))

    def fans(self, shape: Sequence[int]) -> Fans:
        """The fans a call with ``shape`` uses (from the core's ``compute_fans``)."""
        shape = tuple(int(d) for d in shape)
        layout = self.layout_for(shape)
        if layout is None and self.fan_convention == "oneinit":
            raise ValueError(
                f"A {len(shape)}-D shape has no fans; pass fan_convention='keras' for Keras's "
                f"rule. Received: shape={shape}"
            )
        return compute_fans(
            shape,
            layout or "canonical",
            groups=self.groups,
            blocks=self.blocks,
            fan_convention=self.fan_convention,
        )

    def distribution_for(self, shape: Sequence[int]) -> UniformDistribution | NormalDistribution:
        """The distribution of every element for ``shape`` (random schemes only)."""
        if not isinstance(self.scheme, RandomScheme):
            raise TypeError(
                f"{type(self.scheme).__name__} is not an i.i.d. random scheme. "
                f"Received: scheme={self.scheme!r}"
            )
        fans = self.fans(shape) if self.scheme.uses_fans else None
        distribution = self.scheme.distribution_for(fans)
        assert isinstance(distribution, (UniformDistribution, NormalDistribution))
        return distribution

    def __call__(self, shape: Sequence[int], dtype: Any = None) -> Tensor:
        """A tensor of ``shape`` and ``dtype`` (default ``keras.config.floatx()``)."""
        dims = tuple(int(d) for d in shape)
        generator = None
        if self._portable is not None:
            seed: int | None = int(self._portable)
            key = self._portable.counter.take()
        else:
            seed, key = None, 0
            if not isinstance(self.scheme, ConstantScheme):
                generator = self.seed
        return _values(
            self.scheme,
            dims,
            dtype,
            layout=self.layout_for(dims),
            groups=self.groups,
            blocks=self.blocks,
            fan_convention=self.fan_convention,
            fans=None,
            seed=seed,
            key=key,
            generator=generator,
            where=type(self).__name__,
        )

    # -- configuration ----------------------------------------------------------------------

    def _options_config(self) -> dict[str, Any]:
        return {
            # The seed as given, live: the int carries this initializer's call counter and a
            # SeedGenerator its state, so the copies Keras makes from the config
            # (MultiHeadAttention per projection, EinsumDense per axes) continue this
            # initializer's stream instead of repeating it. keras.saving writes them as an int
            # and a SeedGenerator config; a reloaded model starts afresh.
            "seed": self._portable if self._portable is not None else self._init_seed,
            "layout": self._layout_config,
            "groups": self.groups,
            "blocks": self.blocks,
            "fan_convention": self.fan_convention,
            "input_axes": None if self.input_axes is None else list(self.input_axes),
            "output_axes": None if self.output_axes is None else list(self.output_axes),
        }

    def get_config(self) -> dict[str, Any]:
        """The constructor's arguments; ``from_config(get_config())`` rebuilds the initializer.

        Everything is a JSON type except a ``SeedGenerator`` seed, which ``keras.saving``
        serializes. A rebuilt seeded initializer continues the call counter of this one (so
        Keras's internal copies do not repeat values); one loaded from a file starts at 0.
        """
        return {"scheme": self.scheme.to_config(), **self._options_config()}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Initializer:
        return cls(**config)

    def __repr__(self) -> str:
        config = self.get_config()
        defaults = {
            "seed": None,
            "layout": None,
            "groups": 1,
            "blocks": 1,
            "fan_convention": "oneinit",
            "input_axes": None,
            "output_axes": None,
        }
        parts = [
            f"{name}={value!r}"
            for name, value in config.items()
            if name not in defaults or value != defaults[name]
        ]
        return f"{type(self).__name__}({', '.join(parts)})"


class _Preset(Initializer):
    """A preset: the scheme's fields under Keras's argument names (``_ARGUMENTS``)."""

    #: Keras argument name -> core field name.
    _ARGUMENTS: ClassVar[dict[str, str]] = {}

    def get_config(self) -> dict[str, Any]:
        config = {}
        for argument, field in self._ARGUMENTS.items():
            value = getattr(self.scheme, field)
            config[argument] = _keras_distribution(value) if field == "distribution" else value
        return {**config, **self._options_config()}


@_register
class GlorotUniform(_Preset):
    """Glorot uniform: U(+-gain sqrt(6 / (fan_in + fan_out))); Keras's ``GlorotUniform``.

    Examples
    --------
    >>> import keras
    >>> from oneinit.adapters import keras as oik
    >>> dense = keras.layers.Dense(64, kernel_initializer=oik.GlorotUniform(seed=0))
    """

    _ARGUMENTS: ClassVar[dict[str, str]] = {"gain": "gain"}

    def __init__(self, *, gain: float = 1.0, **options: Unpack[InitializerOptions]) -> None:
        super().__init__(_schemes.GlorotUniform(gain=gain), **options)


@_register
class GlorotNormal(_Preset):
    """Glorot normal: N(0, gain**2 * 2 / (fan_in + fan_out)), **untruncated** by default.

    ``distribution="truncated_normal"`` gives Keras's own ``GlorotNormal`` (+-2 std, the same
    variance).
    """

    _ARGUMENTS: ClassVar[dict[str, str]] = {"gain": "gain", "distribution": "distribution"}

    def __init__(
        self,
        *,
        gain: float = 1.0,
        distribution: str = "untruncated_normal",
        **options: Unpack[InitializerOptions],
    ) -> None:
        scheme = _schemes.GlorotNormal(gain=gain, distribution=_check_distribution(distribution))
        super().__init__(scheme, **options)


@_register
class HeUniform(_Preset):
    """He uniform: U(+-gain sqrt(3 / fan)), ``gain = calculate_gain(nonlinearity,
    negative_slope)`` (sqrt(2) for relu); Keras's ``HeUniform`` with the defaults.
    """

    _ARGUMENTS: ClassVar[dict[str, str]] = {
        "negative_slope": "negative_slope",
        "mode": "mode",
        "nonlinearity": "nonlinearity",
    }

    def __init__(
        self,
        *,
        negative_slope: float = 0.0,
        mode: str = "fan_in",
        nonlinearity: str = "relu",
        **options: Unpack[InitializerOptions],
    ) -> None:
        scheme = _schemes.HeUniform(
            negative_slope=negative_slope, mode=mode, nonlinearity=nonlinearity
        )
        super().__init__(scheme, **options)


@_register
class HeNormal(_Preset):
    """He normal: N(0, gain**2 / fan), **untruncated** by default (torch ``kaiming_normal_``).

    ``distribution="truncated_normal"`` gives Keras's own ``HeNormal``.

    Examples
    --------
    >>> import keras
    >>> from oneinit.adapters import keras as oik
    >>> conv = keras.layers.Conv2D(32, 3, kernel_initializer=oik.HeNormal())
    >>> conv.build((None, 28, 28, 16))
    >>> oik.HeNormal().distribution_for((3, 3, 16, 32)).std        # sqrt(2 / (3 * 3 * 16))
    0.11785113019775793
    """

    _ARGUMENTS: ClassVar[dict[str, str]] = {
        "negative_slope": "negative_slope",
        "mode": "mode",
        "nonlinearity": "nonlinearity",
        "distribution": "distribution",
    }

    def __init__(
        self,
        *,
        negative_slope: float = 0.0,
        mode: str = "fan_in",
        nonlinearity: str = "relu",
        distribution: str = "untruncated_normal",
        **options: Unpack[InitializerOptions],
    ) -> None:
        scheme = _schemes.HeNormal(
            negative_slope=negative_slope,
            mode=mode,
            nonlinearity=nonlinearity,
            distribution=_check_distribution(distribution),
        )
        super().__init__(scheme, **options)


@_register
class LecunUniform(_Preset):
    """LeCun uniform: U(+-sqrt(3 / fan_in)); Keras's ``LecunUniform``."""

    def __init__(self, **options: Unpack[InitializerOptions]) -> None:
        super().__init__(_schemes.LecunUniform(), **options)


@_register
class LecunNormal(_Preset):
    """LeCun normal: N(0, 1 / fan_in), **untruncated** by default (the SELU paper's);
    ``distribution="truncated_normal"`` gives Keras's own ``LecunNormal``.
    """

    _ARGUMENTS: ClassVar[dict[str, str]] = {"distribution": "distribution"}

    def __init__(
        self, *, distribution: str = "untruncated_normal", **options: Unpack[InitializerOptions]
    ) -> None:
        super().__init__(
            _schemes.LecunNormal(distribution=_check_distribution(distribution)), **options
        )


@_register
class VarianceScaling(_Preset):
    """Keras's ``VarianceScaling``: ``var = scale / max(1, fan)`` with the core's fans.

    ``distribution``: ``"truncated_normal"`` (default, as Keras: +-2 std, variance preserved),
    ``"untruncated_normal"`` or ``"uniform"``; ``"normal"`` is refused as ambiguous. ``mode``
    also takes ``"fan_geo_avg"`` (JAX).
    """

    _ARGUMENTS: ClassVar[dict[str, str]] = {
        "scale": "scale",
        "mode": "mode",
        "distribution": "distribution",
    }

    def __init__(
        self,
        *,
        scale: float = 1.0,
        mode: str = "fan_in",
        distribution: str = "truncated_normal",
        **options: Unpack[InitializerOptions],
    ) -> None:
        scheme = _schemes.VarianceScaling(
            scale=scale, mode=mode, distribution=_check_distribution(distribution)
        )
        super().__init__(scheme, **options)


@_register
class RandomUniform(_Preset):
    """U(minval, maxval) in value units; Keras's ``RandomUniform`` (default +-0.05)."""

    _ARGUMENTS: ClassVar[dict[str, str]] = {"minval": "low", "maxval": "high"}

    def __init__(
        self, *, minval: float = -0.05, maxval: float = 0.05, **options: Unpack[InitializerOptions]
    ) -> None:
        super().__init__(_schemes.Uniform(low=minval, high=maxval), **options)


@_register
class RandomNormal(_Preset):
    """N(mean, stddev**2), untruncated; Keras's ``RandomNormal`` (default stddev 0.05)."""

    _ARGUMENTS: ClassVar[dict[str, str]] = {"mean": "mean", "stddev": "std"}

    def __init__(
        self, *, mean: float = 0.0, stddev: float = 0.05, **options: Unpack[InitializerOptions]
    ) -> None:
        super().__init__(_schemes.Normal(mean=mean, std=stddev), **options)


@_register
class TruncatedNormal(_Preset):
    """N(mean, stddev**2) restricted to ``[lower, upper]``, sampled exactly.

    ``units="std"`` (default): bounds in multiples of ``stddev`` around ``mean``, as Keras's own
    ``TruncatedNormal`` (+-2; the values' std is then 0.8796 * stddev, no correction).
    ``units="absolute"``: bounds are values, as torch ``trunc_normal_(a, b)``.
    """

    _ARGUMENTS: ClassVar[dict[str, str]] = {
        "mean": "mean",
        "stddev": "std",
        "lower": "lower",
        "upper": "upper",
        "units": "units",
    }

    def __init__(
        self,
        *,
        mean: float = 0.0,
        stddev: float = 0.05,
        lower: float = -2.0,
        upper: float = 2.0,
        units: Literal["std", "absolute"] = "std",
        **options: Unpack[InitializerOptions],
    ) -> None:
        scheme = _schemes.TruncatedNormal(
            mean=mean, std=stddev, lower=lower, upper=upper, units=units
        )
        super().__init__(scheme, **options)


@_register
class Constant(_Preset):
    """Every element ``value`` (a scalar); any dtype."""

    _ARGUMENTS: ClassVar[dict[str, str]] = {"value": "value"}

    def __init__(self, *, value: float = 0.0, **options: Unpack[InitializerOptions]) -> None:
        super().__init__(_schemes.Constant(value=value), **options)


@_register
class Zeros(_Preset):
    """All zeros; any dtype."""

    def __init__(self, **options: Unpack[InitializerOptions]) -> None:
        super().__init__(_schemes.Zeros(), **options)


@_register
class Ones(_Preset):
    """All ones; any dtype."""

    def __init__(self, **options: Unpack[InitializerOptions]) -> None:
        super().__init__(_schemes.Ones(), **options)


@_register
class Orthogonal(_Preset):
    """Haar-random orthogonal output filters times ``gain``; Keras's ``Orthogonal``.

    The canonical ``(out, in * kernel)`` matrix has orthonormal rows (or columns when taller
    than wide), so in Keras's layouts each output unit's filter is orthonormal, as Keras's own.
    ``blocks=4`` on an LSTM ``recurrent_initializer`` makes **each gate** orthogonal (Keras's own
    makes only the whole ``(H, 4H)`` matrix orthogonal).
    """

    _ARGUMENTS: ClassVar[dict[str, str]] = {"gain": "gain"}

    def __init__(self, *, gain: float = 1.0, **options: Unpack[InitializerOptions]) -> None:
        super().__init__(_schemes.Orthogonal(gain=gain), **options)


@_register
class DeltaOrthogonal(_Preset):
    """Zeros except an orthogonal ``(out, in)`` matrix at the kernel centre (k // 2), times
    ``gain`` (Xiao et al. 2018); conv kernels with ``in <= out``.
    """

    _ARGUMENTS: ClassVar[dict[str, str]] = {"gain": "gain"}

    def __init__(self, *, gain: float = 1.0, **options: Unpack[InitializerOptions]) -> None:
        super().__init__(_schemes.DeltaOrthogonal(gain=gain), **options)


@_register
class Identity(_Preset):
    """``gain`` times the (possibly rectangular) identity; 2-D kernels; Keras's ``Identity``."""

    _ARGUMENTS: ClassVar[dict[str, str]] = {"gain": "gain"}

    def __init__(self, *, gain: float = 1.0, **options: Unpack[InitializerOptions]) -> None:
        super().__init__(_schemes.Identity(gain=gain), **options)


@_register
class Dirac(_Preset):
    """The identity convolution per group (torch ``dirac_``) times ``gain``: centre k // 2."""

    _ARGUMENTS: ClassVar[dict[str, str]] = {"gain": "gain"}

    def __init__(self, *, gain: float = 1.0, **options: Unpack[InitializerOptions]) -> None:
        super().__init__(_schemes.Dirac(gain=gain), **options)


@_register
class Sparse(_Preset):
    """N(0, stddev**2) with ``ceil(sparsity * out)`` zeros per input column (torch ``sparse_``)."""

    _ARGUMENTS: ClassVar[dict[str, str]] = {"sparsity": "sparsity", "stddev": "std"}

    def __init__(
        self, *, sparsity: float = 0.1, stddev: float = 0.01, **options: Unpack[InitializerOptions]
    ) -> None:
        super().__init__(_schemes.Sparse(sparsity=sparsity, std=stddev), **options)


@_register
class Bilinear(_Preset):
    """The bilinear-upsampling kernel for ``Conv2DTranspose`` (``layout="conv_transpose"``)."""

    def __init__(self, **options: Unpack[InitializerOptions]) -> None:
        super().__init__(_schemes.Bilinear(), **options)


# Framework spellings of the same classes (serialized under the names above).
XavierUniform = GlorotUniform
XavierNormal = GlorotNormal
KaimingUniform = HeUniform
KaimingNormal = HeNormal


# --------------------------------------------------------------------------------------------
# Layers: what each weight of a Keras layer is.


def _geometry(
    shape: tuple[int, ...], layout: Layout | None, groups: int = 1, blocks: int = 1
) -> Geometry:
    """A preset by name (as reports show it); an einsum layout as the Layout itself."""
    named: str | Layout | None = layout
    if layout is not None and LAYOUTS.get(layout.name) == layout:
        named = layout.name
    return Geometry(shape, named, groups, blocks)


@dataclass(frozen=True)
class _Slot:
    """How one variable of a known layer is read."""

    slot: str
    roles: frozenset[str]
    layout: Layout | None = None
    groups: int = 1
    blocks: int = 1


def _slot(
    slot: str,
    roles: Iterable[str],
    layout: str | Layout | None = None,
    groups: int = 1,
    blocks: int = 1,
) -> _Slot:
    chosen = None if layout is None else get_layout(layout)
    return _Slot(slot, frozenset(roles), chosen, groups, blocks)


@dataclass(frozen=True)
class _LayerPlan:
    """A known layer: its kind, its variables by name, and which one gives biases their fans."""

    kind: str
    slots: dict[str, _Slot]
    main: str | None = None
    skip: frozenset[str] = frozenset()  # statistics, not parameters (BatchNorm moving stats)


_KERNEL_BIAS = ("kernel", "bias")


def _einsum_layout(equation: str) -> Layout:
    """The kernel's axes from an EinsumDense equation, by Keras's own rule: a kernel axis whose
    letter is in the output is an output axis, every other one an input axis.
    """
    inputs, output = equation.replace(" ", "").split("->")
    kernel = inputs.split(",")[1]
    out_axes = tuple(i for i, letter in enumerate(kernel) if letter in output)
    in_axes = tuple(i for i, letter in enumerate(kernel) if letter not in output)
    return Layout.einsum(in_axes, out_axes)


def _dense_like(kind: str, layout: str | Layout, prefix: str = "") -> _LayerPlan:
    weight, bias = (f"{prefix}_weight", f"{prefix}_bias") if prefix else ("weight", "bias")
    return _LayerPlan(
        kind,
        {"kernel": _slot(weight, {"weight"}, layout), "bias": _slot(bias, {"bias"})},
        main="kernel",
    )


_MHA_PARTS = {
    "query_dense": "q_proj",
    "key_dense": "k_proj",
    "value_dense": "v_proj",
    "output_dense": "out_proj",
}
_NORMS: tuple[tuple[str, str], ...] = (
    ("BatchNormalization", "batch_norm"),
    ("LayerNormalization", "layer_norm"),
    ("GroupNormalization", "group_norm"),
    ("RMSNormalization", "rms_norm"),
)
_CONV = ("Conv1D", "Conv2D", "Conv3D")
_CONV_TRANSPOSE = ("Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose")
_DEPTHWISE = ("DepthwiseConv1D", "DepthwiseConv2D")
_SEPARABLE = ("SeparableConv1D", "SeparableConv2D")
_CELLS = (("LSTMCell", "lstm"), ("GRUCell", "gru"), ("SimpleRNNCell", "rnn"))


def _is(layer: Any, names: Iterable[str]) -> bool:
    classes = tuple(getattr(keras.layers, name) for name in names if hasattr(keras.layers, name))
    return isinstance(layer, classes)


def _layer_plan(layer: Any, context: str | None, per_gate: bool) -> _LayerPlan | None:
    """How to read ``layer``'s own variables (None: unknown layer)."""
    if context is not None:  # an EinsumDense projection of a MultiHeadAttention
        return _dense_like("multihead_attention", _einsum_layout(layer.equation), context)
    if isinstance(layer, keras.layers.EinsumDense):
        return _dense_like("linear", _einsum_layout(layer.equation))
    if isinstance(layer, keras.layers.Dense):
        return _dense_like("linear", "dense_in_out")
    if _is(layer, _CONV_TRANSPOSE):
        return _dense_like("conv_transpose", "conv_transpose_k_out_in")
    if _is(layer, _DEPTHWISE):
        # Keras 3.15 names the variable "kernel"; earlier 3.x "depthwise_kernel".
        depthwise = _slot("weight", {"weight"}, "depthwise_k_in_mult")
        main = "depthwise_kernel" if hasattr(layer, "depthwise_kernel") else "kernel"
        return _LayerPlan(
            "conv",
            {"kernel": depthwise, "depthwise_kernel": depthwise, "bias": _slot("bias", {"bias"})},
            main=main,
        )
    if _is(layer, _SEPARABLE):
        return _LayerPlan(
            "conv",
            {
                "depthwise_kernel": _slot("depthwise_weight", {"weight"}, "depthwise_k_in_mult"),
                "pointwise_kernel": _slot("pointwise_weight", {"weight"}, "conv_k_in_out"),
                "bias": _slot("bias", {"bias"}),
            },
            main="pointwise_kernel",
        )
    if _is(layer, _CONV):
        groups = int(getattr(layer, "groups", 1) or 1)
        return _LayerPlan(
            "conv",
            {
                "kernel": _slot("weight", {"weight"}, "conv_k_in_out", groups),
                "bias": _slot("bias", {"bias"}),
            },
            main="kernel",
        )
    if isinstance(layer, keras.layers.Embedding):
        return _LayerPlan(
            "embedding", {"embeddings": _slot("weight", {"weight", "embedding"}, "embedding")}
        )
    for name, kind in _CELLS:
        if _is(layer, (name,)):
            gates = RECURRENT_GATES[kind]
            blocks = gates if per_gate else 1
            return _LayerPlan(
                kind,
                {
                    "kernel": _slot("weight_ih", {"weight"}, "dense_in_out", 1, blocks),
                    "recurrent_kernel": _slot(
                        "weight_hh", {"weight", "recurrent"}, "dense_in_out", 1, blocks
                    ),
                    "bias": _slot("bias", {"bias"}),
                },
                main="recurrent_kernel",
            )
    for name, kind in _NORMS:
        if _is(layer, (name,)):
            scale = "scale" if kind == "rms_norm" else "gamma"
            return _LayerPlan(
                kind,
                {scale: _slot("weight", {"norm"}), "beta": _slot("bias", {"norm", "bias"})},
                skip=frozenset({"moving_mean", "moving_variance"}),
            )
    if isinstance(layer, keras.layers.PReLU):
        return _LayerPlan("prelu", {"alpha": _slot("weight", {"activation"})})
    if isinstance(layer, keras.layers.Normalization):  # adapted statistics, not parameters
        return _LayerPlan("other", {}, skip=frozenset({"mean", "variance", "count"}))
    return None


@dataclass(frozen=True)
class _Entry:
    """A variable found while walking a model."""

    name: str  # Keras's variable path ("sequential/dense/kernel"), or the canonical name
    key: str  # the portable stream key: positions of the layers, then the variable's name
    variable: Any
    info: ParamInfo
    own: str | None = None  # Keras's variable path, where ``names=`` gave a canonical name

    @property
    def label(self) -> str:
        return repr(self.name) if self.own is None else f"{self.name!r} ({self.own})"


def _children(layer: Any) -> list[Any]:
    # Keras 3 has no public per-layer child list for every layer type; _flatten_layers is the
    # one Keras itself uses (model.layers, weights, summary). InputLayers hold nothing and
    # appear only in some build paths, so they are left out of the positions.
    children = layer._flatten_layers(include_self=False, recursive=False)
    return [c for c in children if not isinstance(c, keras.layers.InputLayer)]


def _entries(
    layer: Any, plan: _LayerPlan | None, own: list[Any], position: str
) -> Iterator[_Entry]:
    by_name = {variable.name: variable for variable in own}
    layer_geometry = None
    if plan is not None and plan.main is not None and plan.main in by_name:
        main = plan.slots[plan.main]
        main_shape = tuple(int(d) for d in by_name[plan.main].shape)
        blocks = main.blocks if main.blocks > 1 else RECURRENT_GATES.get(plan.kind, 1)
        layer_geometry = _geometry(main_shape, main.layout, main.groups, blocks)
    for variable in own:
        name = variable.name
        if plan is not None and name in plan.skip:
            continue
        shape = tuple(int(d) for d in variable.shape)
        kind = "other" if plan is None else plan.kind
        spec = None if plan is None else plan.slots.get(name)
        if spec is None:  # unknown: a kernel or bias by name and rank, else "other"
            default = _default_layout(len(shape))
            if name.endswith("kernel") and default is not None:
                spec = _Slot(name, frozenset({"weight"}), default)
            elif name.endswith("bias"):
                spec = _Slot(name, frozenset({"bias"}))
            else:
                spec = _Slot(name, frozenset({"other"}))
        layout = spec.layout
        if math.prod(shape) == 0 or (layout is not None and len(shape) < layout.min_ndim):
            layout = None
        geometry = _geometry(shape, layout, spec.groups, spec.blocks)
        info = ParamInfo(
            variable.path,
            shape,
            kind=kind,
            roles=spec.roles,
            slot=spec.slot,
            layout=geometry.layout,
            groups=spec.groups,
            blocks=spec.blocks,
            layer=layer_geometry,
        )
        yield _Entry(variable.path, f"{position}{name}", variable, info)


def _walk(model: Any, per_gate: bool) -> list[_Entry]:
    """Every weight of ``model`` once (a shared one under its first position)."""
    if not isinstance(model, keras.layers.Layer):
        raise TypeError(
            f"initialize takes a Keras model or layer. Received: model of type "
            f"{type(model).__name__}"
        )
    if not model.built:
        raise ValueError(
            "initialize needs a built model: call it on data, or model.build(input_shape), "
            "first. Received: model.built=False"
        )
    seen_layers: set[int] = set()
    seen_variables: set[int] = set()
    entries: list[_Entry] = []

    def visit(layer: Any, position: str, context: str | None) -> None:
        if id(layer) in seen_layers:
            return
        seen_layers.add(id(layer))
        children = _children(layer)
        inner = {id(v) for child in children for v in child.weights}
        own = [v for v in layer.weights if id(v) not in inner and id(v) not in seen_variables]
        seen_variables.update(id(v) for v in own)
        entries.extend(_entries(layer, _layer_plan(layer, context, per_gate), own, position))
        parts = {}
        if isinstance(layer, keras.layers.MultiHeadAttention):
            parts = {id(getattr(layer, attr)): part for attr, part in _MHA_PARTS.items()}
        for index, child in enumerate(children):
            visit(child, f"{position}{index}.", parts.get(id(child)))

    visit(model, "", None)
    return entries


def describe(model: Any, *, per_gate: bool = True) -> list[ParamInfo]:
    """How :func:`initialize` reads each weight of a built ``model``: kind, roles, slot, layout.

    BatchNormalization's moving statistics and Normalization's adapted statistics are not
    parameters and are left out.
    """
    return [entry.info for entry in _walk(model, per_gate)]


# --------------------------------------------------------------------------------------------
# Whole models.

RulesLike = Scheme | Rules | Rule | Sequence[Rule]


def _as_rules(scheme_or_rules: RulesLike | Initializer | None, profile: str | None) -> Rules:
    if isinstance(scheme_or_rules, Initializer):
        return as_rules(scheme_or_rules.scheme, profile)
    return as_rules(scheme_or_rules, profile)


def _fill_entry(
    entry: _Entry,
    assignment: Assignment,
    *,
    seed: int | None,
    key: str,
    generator: keras.random.SeedGenerator | None,
) -> None:
    info = entry.info
    scheme = assignment.scheme
    assert scheme is not None
    geometry = info.geometry
    layout = None if geometry.layout is None else get_layout(geometry.layout)
    where = (
        f"initialize: variable {entry.label} (rule {assignment.rule_label}): "
        f"{type(scheme).__name__}"
    )
    try:
        values = _values(
            scheme,
            info.shape,
            entry.variable.dtype,
            layout=layout,
            groups=geometry.groups,
            blocks=assignment.blocks,  # 1 where the rule reads stacked gates as one matrix
            fan_convention=assignment.fan_convention,
            fans=assignment.fans,
            seed=seed,
            key=key,
            generator=generator,
            where=where,
        )
    except (TypeError, ValueError) as error:
        if str(error).startswith(where):
            raise
        raise type(error)(f"{where}: {error}") from error
    entry.variable.assign(values)


def _apply_names(entries: list[_Entry], names: Names | None) -> list[_Entry]:
    """``entries`` under the canonical names ``names`` gives: rules, report and key use them.

    A Keras variable has one path (a shared layer holds one set of variables), so each
    entry's own names are just its path.
    """
    if names is None:
        return entries
    renamed = []
    for entry, name in zip(
        entries, canonical_names([[e.name] for e in entries], names), strict=True
    ):
        if name != entry.name:
            entry = dataclasses.replace(
                entry, name=name, key=name, info=entry.info.renamed(name), own=entry.name
            )
        renamed.append(entry)
    return renamed


def initialize(
    model: Any,
    scheme_or_rules: RulesLike | Initializer | None = None,
    *,
    seed: int | None = None,
    profile: str | None = None,
    strict: bool = False,
    per_gate: bool = True,
    fan_convention: str = "oneinit",
    key_by: Literal["position", "path"] = "position",
    dry_run: bool = False,
    names: Names | None = None,
) -> Report:
    """Initialize every weight of a built Keras ``model`` (or layer) by rules; returns a
    :class:`~oneinit.core.rules.Report`.

    Parameters
    ----------
    model
        A built ``keras.Model`` or layer. Each weight is read with its layer's layout: Dense,
        EinsumDense (axes from its equation), Conv1D/2D/3D (grouped too), Conv*Transpose
        (``(*k, out, in)``, correct fans), DepthwiseConv (fan_in = kernel size), SeparableConv,
        Embedding, LSTM/GRU/SimpleRNN cells (gates as blocks), MultiHeadAttention (its query,
        key, value and output projections), BatchNormalization, LayerNormalization,
        GroupNormalization, RMSNormalization and PReLU. Moving statistics are not parameters
        and are left alone.
    scheme_or_rules
        A scheme (or a oneinit Keras initializer): weights get it, biases zeros, norm scales
        ones (``Rules.from_scheme``). Or a :class:`Rule`, a list of them, or :class:`Rules`:
        the first that matches a weight (by role, layer kind, slot, name pattern or rank) gives
        its scheme. Names are Keras's variable paths (``"sequential/dense/kernel"``); slots
        are neutral (``"weight"``, ``"bias"``, ``"weight_ih"``, ``"weight_hh"``,
        ``"q_proj_weight"``, ...).
    seed
        None: ``keras.random`` (a fresh ``SeedGenerator``; global seeding applies). An int:
        the core's portable values, each weight keyed as ``key_by`` says.
    profile
        A framework's default initialization as a fallback after the rules (``"torch"``,
        ``"keras"``, ``"paddle"`` or ``"mxnet"``).
    strict
        Raise ``ValueError`` (before filling anything) if a weight matches no rule.
    per_gate
        Read the stacked gates of recurrent kernels as one matrix each (fans, orthogonality);
        False reads the whole ``(in, gates * H)`` matrix, as Keras does.
    fan_convention
        ``"oneinit"`` or a framework's rule (``"keras"``) for every rule that names none.
    key_by
        ``"position"`` (default): the key of a weight is its layers' positions from the model,
        then its name (``"2.0.recurrent_kernel"``: the cell of the third layer), so a model
        built twice gets the same values although Keras numbers its auto-named layers anew.
        ``"path"``: Keras's variable path, stable when you name your layers. A variable that
        ``names`` renames is keyed by its canonical name either way.
    dry_run
        Plan and report without writing.
    names
        Canonical names: a mapping ``{Keras variable path: canonical name}`` (it may name only
        variables of the model) or a callable ``path -> canonical name | None``. A canonical
        name replaces the path everywhere: in what rules match (``Rule(name=...)``,
        ``regex=``), in the report, and as the portable key (``oneinit.key_from_name(name)``),
        so the values equal every other adapter's for that name. Variables it leaves out keep
        their path and their ``key_by`` key; two variables may not share a name.

    Examples
    --------
    >>> import keras, oneinit
    >>> from oneinit.adapters import keras as oik
    >>> model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, name="fc"),
    ...                           keras.layers.LayerNormalization(name="norm")], name="net")
    >>> print(oik.initialize(model, oneinit.HeNormal(), seed=0))
    name            shape    kind        layout        fans     scheme      std  rule
    net/fc/kernel   (8, 16)  linear      dense_in_out  (8, 16)  HeNormal()  0.5  #3 role=weight
    net/fc/bias     (16,)    linear      -             -        Zeros()     0    #1 role=bias
    net/norm/gamma  (16,)    layer_norm  -             -        Ones()      0    #2 role=norm
    net/norm/beta   (16,)    layer_norm  -             -        Zeros()     0    #1 role=bias
    4 parameters, 176 values: 4 initialized
    """
    rules = _as_rules(scheme_or_rules, profile)
    if seed is not None:
        Stream(seed, 0)  # validates: an int in [0, 2**64)
    if key_by not in ("position", "path"):
        raise ValueError(f"key_by must be 'position' or 'path'. Received: key_by={key_by!r}")
    _fan_convention(fan_convention)
    entries = _apply_names(_walk(model, per_gate), names)
    plan = [rules.assign(entry.info, fan_convention=fan_convention) for entry in entries]
    rows = []
    for assignment in plan:
        if not assignment.matched:
            status = "unmatched"
        elif assignment.scheme is None:
            status = "kept"
        else:
            status = "planned" if dry_run else "initialized"
        rows.append(ReportRow.from_assignment(assignment, status))
    report = Report(tuple(rows))
    if strict and report.unmatched:
        raise ValueError(
            "initialize(strict=True) fills every weight, but some matched no rule. "
            "Received: " + ", ".join(report.unmatched)
        )
    if dry_run:
        return report
    generator = keras.random.SeedGenerator() if seed is None else None
    for entry, assignment, row in zip(entries, plan, rows, strict=True):
        if row.status != "initialized":
            continue
        key = entry.key if key_by == "position" else entry.name
        _fill_entry(entry, assignment, seed=seed, key=key, generator=generator)
    return report
