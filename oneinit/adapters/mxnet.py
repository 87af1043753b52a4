"""oneinit for MXNet Gluon: every scheme as a registered ``mx.init.Initializer``.

>>> import mxnet as mx
>>> import oneinit
>>> from oneinit.adapters import mxnet as oim
>>> net = mx.gluon.nn.Dense(4, in_units=3)
>>> net.initialize(oim.HeNormal(seed=0))
>>> report = oim.initialize(net, oneinit.GlorotUniform(), seed=0)   # layer-aware, whole model
>>> report["weight"].fans
Fans(fan_in=3, fan_out=4, receptive_field=1)

Three ways in, one set of numbers (the core computes fans, bounds and portable values; this
module only reads an array's shape, dtype and context and writes it the MXNet way):

- **Initializers** (``oim.HeNormal()``, ``oim.Initializer(scheme)``): pass them wherever MXNet
  takes an initializer (``net.initialize(...)``, ``weight_initializer=...``,
  ``mx.sym.Variable(init=...)``, ``Module.init_params``). They are registered as
  ``"oneinit_<name>"`` (``"oneinit_henormal"``), so ``dumps()`` and :func:`mxnet.init.create`
  round-trip and symbol JSON resolves them; the prefix keeps them apart from MXNet's own
  ``"uniform"``, ``"normal"``, ``"orthogonal"``, ... A bare array's fans follow MXNet's rule,
  ``(out, in, *kernel)`` storage; ``layout=`` names another (``"conv_transpose_in_out"`` with
  ``groups=``, ``"recurrent_out_in"`` with ``blocks=`` gates).
- :class:`Rules`: ``(regex, scheme)`` pairs, the first pattern **searched** in the parameter
  name wins; unlike ``mx.init.Mixed`` the matched scheme is applied whatever the name's suffix.
- :func:`initialize`: walks a Gluon block, knows each layer (Dense, Conv*D, Conv*DTranspose,
  grouped convs, Embedding, RNN/LSTM/GRU layers and cells, the norms, PReLU), applies a scheme or
  :class:`oneinit.core.rules.Rules` by role, kind, slot or name, and returns the
  :class:`oneinit.core.rules.Report`.

Suffix dispatch. MXNet routes an initializer call by the parameter name in some paths and not in
others (Gluon: always ``_init_weight``; ``Mixed``, ``Load``, the symbol API: ``..._bias`` to
``_init_bias`` = zeros, ``..._gamma`` to ones, and so on). A oneinit initializer overrides every
one of those hooks, so the scheme it was given is what the array gets, in every path. A
parameter's own initializer (``bias_initializer="zeros"``, a ``Variable``'s ``init``) still wins
over a global one, as in MXNet.

Randomness.

- ``seed=None`` (native): ``mx.nd.random.uniform/normal(..., out=arr)`` on the array's own
  context, with the core's bounds and std; ``mx.random.seed`` applies. Truncated normals are
  exact (inverse CDF: a uniform on the truncation interval in erf space, then
  ``mx.nd.erfinv``), with no host round trip. Structured schemes (orthogonal, dirac, sparse,
  ...) take the core's values under a seed drawn from MXNet's RNG.
- ``seed=int`` (portable): the core's values, bit for bit the same as in every other adapter,
  computed on the host in the canonical layout and written into MXNet's storage layout. The
  ``n``-th array (``n = 0, 1, 2, ...``) an initializer instance fills uses stream key ``n``,
  i.e. ``scheme.sample(arr.shape, seed=seed, key=n, layout=...)``, so one instance used for
  several layers gives them different values and a model built twice with a fresh instance is
  identical. :func:`initialize` keys each parameter by its structured name instead
  (``"0.weight"``, ``"encoder.l0_i2h_weight"``: the attribute path, free of Gluon's global name
  counters), or by the canonical name its ``names=`` argument gives it, so adding a named
  layer leaves the others' values unchanged.
"""

from __future__ import annotations

import dataclasses
import inspect
import itertools
import json
import math
import re
import warnings
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ..core import rules as _rules
from ..core import schemes as _schemes
from ..core.fans import FAN_CONVENTIONS, Fans, Layout, compute_fans, get_layout
from ..core.random import NormalDistribution, UniformDistribution

try:
    with warnings.catch_warnings():
        # MXNet 1.9.1 touches numpy aliases and distutils that numpy 1.23 and Python 3.11
        # deprecate; those warnings come from MXNet's own modules and say nothing to users.
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"mxnet(\.|$)")
        import mxnet as mx
except ImportError as error:  # pragma: no cover - exercised only without MXNet
    raise ImportError(
        'oneinit.adapters.mxnet needs MXNet 1.9 (with numpy < 1.24): pip install "oneinit[mxnet]"'
    ) from error

__all__ = [
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
    "KaimingNormal",
    "KaimingUniform",
    "LecunNormal",
    "LecunUniform",
    "Normal",
    "Ones",
    "Orthogonal",
    "Rules",
    "Sparse",
    "TruncatedNormal",
    "Uniform",
    "VarianceScaling",
    "XavierNormal",
    "XavierUniform",
    "Zeros",
    "describe",
    "fill",
    "initialize",
]

#: Prefix of every registry name, so none can collide with MXNet's own initializers.
REGISTRY_PREFIX = "oneinit_"

_NDArray = mx.nd.NDArray
#: How MXNet 1.9 spells bfloat16 to numpy (``mx.nd.zeros(..., dtype=...)``, ``block.cast``).
_BFLOAT16 = np.dtype([("bfloat16", np.uint16)])


# --------------------------------------------------------------------------------------------
# Checks. Messages: what is wrong, what is allowed, then "Received: name=value".


def _check_array(arr: Any) -> None:
    if not isinstance(arr, _NDArray):
        raise TypeError(f"Expected an mx.nd.NDArray to fill. Received: arr={type(arr).__name__}")
    if np.dtype(arr.dtype) == _BFLOAT16:
        raise TypeError(
            "MXNet 1.9's bfloat16 arrays cannot be filled: its random operators write float16, "
            "float32 and float64 only, and numpy has no bfloat16 to hold portable values. "
            "Initialize the parameters in float32, then cast the block (MXNet's cast to "
            "bfloat16 truncates). Received: dtype=bfloat16"
        )
    if np.dtype(arr.dtype).kind != "f":
        raise TypeError(
            "Initializers fill floating-point arrays only. "
            f"Received: dtype={np.dtype(arr.dtype).name}"
        )
    if arr.stype != "default":
        raise TypeError(f"oneinit fills dense arrays only. Received: stype={arr.stype!r}")


def _check_scheme(scheme: Any) -> _schemes.Scheme:
    if isinstance(scheme, dict):
        return _schemes.scheme_from_config(scheme)
    if not isinstance(scheme, _schemes.Scheme):
        raise TypeError(
            "scheme must be a oneinit scheme (e.g. oneinit.HeNormal()) or its to_config() "
            f"dict. Received: scheme={scheme!r}"
        )
    return scheme


def _check_count(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int. Received: {name}={value!r}")
    if value < 1:
        raise ValueError(f"{name} must be a positive int. Received: {name}={value!r}")
    return int(value)


def _check_seed(seed: Any) -> int | None:
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an int or None. Received: seed={seed!r}")
    if not 0 <= seed < 2**64:
        raise ValueError(f"seed must be in [0, 2**64). Received: seed={seed!r}")
    return int(seed)


def _check_convention(fan_convention: Any) -> str:
    if fan_convention not in FAN_CONVENTIONS:
        allowed = ", ".join(repr(c) for c in FAN_CONVENTIONS)
        raise ValueError(
            f"fan_convention must be one of {allowed}. Received: fan_convention={fan_convention!r}"
        )
    return str(fan_convention)


def _default_layout(ndim: int) -> str | None:
    """MXNet's own rule (``Xavier``): ``(out, in, *kernel)``; vectors have no fans."""
    if ndim >= 3:
        return "conv_out_in"
    if ndim == 2:
        return "dense_out_in"
    return None


# --------------------------------------------------------------------------------------------
# Filling one array.


@dataclass(frozen=True)
class _Placement:
    """How an array's storage reads in core terms: layout (None for vectors), groups, blocks.

    ``channels_last``: the storage is a channels-first ``layout`` with its axis 1 moved last
    (Gluon convolutions with ``layout="NHWC"`` store ``(out, *k, in/groups)``); fans and values
    are computed for the channels-first shape and the values moved into place.
    """

    layout: str | Layout | None
    groups: int = 1
    blocks: int = 1
    channels_last: bool = False

    def core_shape(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        if self.channels_last and len(shape) >= 3:
            return (shape[0], shape[-1], *shape[1:-1])
        return shape

    def fans(self, shape: tuple[int, ...], fan_convention: str) -> Fans | None:
        if self.layout is None:
            return None
        return compute_fans(
            self.core_shape(shape),
            self.layout,
            groups=self.groups,
            blocks=self.blocks,
            fan_convention=fan_convention,
        )


def _erf_interval(dist: NormalDistribution, dtype: Any) -> tuple[float, float]:
    """``[erf(lower / sqrt 2), erf(upper / sqrt 2)]``: the truncation interval of ``dist`` in
    the space where ``sqrt(2) * erfinv(u)`` is a standard normal, kept one step of ``dtype``
    inside (-1, 1) so that ``erfinv`` stays finite (the tail reach is then that of the core's
    portable normal, 5.42 sigma in float32).
    """
    margin = float(np.finfo(dtype).epsneg)
    low = math.erf(dist.lower / math.sqrt(2.0)) if math.isfinite(dist.lower) else -1.0
    high = math.erf(dist.upper / math.sqrt(2.0)) if math.isfinite(dist.upper) else 1.0
    return max(low, -1.0 + margin), min(high, 1.0 - margin)


def _draw_native(arr: Any, dist: UniformDistribution | NormalDistribution) -> None:
    """Fill ``arr`` in place with MXNet's RNG on its own context."""
    shape = arr.shape
    if isinstance(dist, UniformDistribution):
        mx.nd.random.uniform(dist.low, dist.high, shape, out=arr)
        return
    if not dist.truncated:
        mx.nd.random.normal(dist.mean, dist.std, shape, out=arr)
        return
    # Inverse CDF: u ~ U(erf(a / sqrt 2), erf(b / sqrt 2)), z = sqrt(2) erfinv(u) ~ N(0, 1)
    # restricted to [a, b] exactly; no rejection, no clamping of the distribution.
    low, high = _erf_interval(dist, arr.dtype)
    mx.nd.random.uniform(low, high, shape, out=arr)
    mx.nd.erfinv(arr, out=arr)
    arr *= dist.std * math.sqrt(2.0)
    if dist.mean != 0.0:
        arr += dist.mean
    # Rounding in erfinv can step past a bound by an ulp; keep the exact bounds.
    bounds = (dist.low, dist.high)
    if all(math.isfinite(b) for b in bounds):
        mx.nd.clip(arr, *bounds, out=arr)


def _seed_from_mxnet() -> int:
    """A 62-bit portable seed drawn from MXNet's CPU generator (``mx.random.seed`` applies)."""
    words = mx.nd.random.randint(0, 2**31 - 1, shape=(2,), dtype="int64", ctx=mx.cpu())
    high, low = (int(w) for w in words.asnumpy())
    return (high << 31) | low


def _fill_array(
    arr: Any,
    scheme: _schemes.Scheme,
    *,
    placement: _Placement,
    fans: Fans | None,
    seed: int | None,
    key: int | str,
) -> None:
    """Write ``scheme``'s values into ``arr``; ``fans`` already computed (None: none needed)."""
    _check_array(arr)
    if seed is None:
        if isinstance(scheme, _schemes.ConstantScheme):
            arr[:] = scheme.value
            return
        if isinstance(scheme, _schemes.RandomScheme):
            # NumPy-mode arrays reach the legacy random operators through their legacy view.
            _draw_native(_legacy(arr), scheme.distribution_for(fans))
            return
        seed = _seed_from_mxnet()  # structured and user-defined schemes: core values
    shape = tuple(arr.shape)
    core_shape = placement.core_shape(shape)
    values = scheme.sample(
        core_shape,
        seed=seed,
        key=key,
        layout="canonical" if placement.layout is None else placement.layout,
        groups=placement.groups,
        blocks=placement.blocks,
        fans=fans,
        dtype=np.dtype(arr.dtype),
    )
    if core_shape != shape:
        values = np.ascontiguousarray(np.moveaxis(values, 1, -1))
    # Through an operator, not ``arr[:] = values``: after a forward pass oneDNN may hold the
    # array in its own blocked layout, which a synchronous host copy refuses.
    staged = mx.nd.array(values, ctx=arr.context, dtype=values.dtype)
    staged.copyto(_legacy(arr))


def _legacy(arr: Any) -> Any:
    """The legacy NDArray view of a NumPy-mode array (the same memory), or ``arr``."""
    return arr.as_nd_ndarray() if isinstance(arr, mx.np.ndarray) else arr


def _fans_for(
    scheme: _schemes.Scheme,
    shape: tuple[int, ...],
    placement: _Placement,
    fan_convention: str,
    name: str,
) -> Fans | None:
    if placement.layout is None:
        if scheme.uses_fans:
            raise ValueError(
                f"{type(scheme).__name__} depends on the weight's fans, which a "
                f"{len(shape)}-d array does not have. Give biases and other vectors a scheme "
                "of their own (oim.Rules([(r'bias$', oneinit.Zeros()), ...]) or "
                "oim.initialize(net, ...), which takes a bias's fans from its layer). "
                f"Received: name={name!r}, shape={shape}"
            )
        return None
    try:
        return placement.fans(shape, fan_convention)
    except ValueError as error:
        if scheme.uses_fans:
            raise ValueError(f"{error} (parameter {name!r})") from None
        return None


def fill(
    arr: Any,
    scheme: _schemes.Scheme,
    *,
    seed: int | None = None,
    key: int | str = 0,
    layout: str | Layout | None = None,
    groups: int = 1,
    blocks: int = 1,
    fan_convention: str = "oneinit",
    fans: Fans | None = None,
) -> Any:
    """Fill the NDArray ``arr`` in place with ``scheme``'s values and return it.

    Parameters
    ----------
    arr
        A floating-point ``mx.nd.NDArray`` on any context.
    scheme
        A oneinit scheme.
    seed, key
        ``seed=None`` fills with MXNet's RNG on ``arr.context``; an int gives the core's portable
        values of stream ``(seed, key)`` (a str key is hashed with :func:`oneinit.key_from_name`).
    layout, groups, blocks, fan_convention
        How to read the storage shape (:func:`oneinit.compute_fans`); ``layout=None`` follows
        MXNet's rule, ``(out, in, *kernel)``.
    fans
        Fans to use instead (e.g. a bias initialized from its layer's fan_in).

    Examples
    --------
    >>> import mxnet as mx, oneinit
    >>> from oneinit.adapters import mxnet as oim
    >>> w = oim.fill(mx.nd.zeros((16, 8, 3, 3)), oneinit.HeUniform(), seed=0)
    >>> bool((w.abs() <= (6 / (8 * 9)) ** 0.5).min())
    True
    """
    scheme = _check_scheme(scheme)
    _check_array(arr)
    seed = _check_seed(seed)
    placement = _Placement(
        _default_layout(arr.ndim) if layout is None else get_layout(layout),
        _check_count("groups", groups),
        _check_count("blocks", blocks),
    )
    if fans is None:
        fans = _fans_for(scheme, tuple(arr.shape), placement, _check_convention(fan_convention), "")
    _fill_array(arr, scheme, placement=placement, fans=fans, seed=seed, key=key)
    return arr


# --------------------------------------------------------------------------------------------
# Initializers.

#: Every hook MXNet's suffix dispatch may call (mx.init.Initializer.__call__, _legacy_init).
_HOOKS = (
    "_init_weight",
    "_init_bias",
    "_init_gamma",
    "_init_beta",
    "_init_default",
    "_init_zero",
    "_init_one",
    "_init_bilinear",
    "_init_loc_bias",
    "_init_quantized_weight",
    "_init_quantized_bias",
)


class _Base(mx.init.Initializer):  # type: ignore[misc]
    """A oneinit MXNet initializer: every dispatch hook applies the same :meth:`_fill`."""

    registry_name: ClassVar[str] = REGISTRY_PREFIX + "base"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._calls = itertools.count()

    def dumps(self) -> str:
        """``'["oneinit_<name>", {kwargs}]'``, which :func:`mxnet.init.create` resolves."""
        return json.dumps([self.registry_name, self._kwargs])

    def __call__(self, desc: Any, arr: Any) -> None:
        if isinstance(desc, mx.init.InitDesc):
            if desc.global_init is None:
                desc.global_init = self
            if desc.attrs.get("__init__"):
                # The parameter's own initializer wins over a global one, as in MXNet.
                super().__call__(desc, arr)
                return
        elif not isinstance(desc, str):
            raise TypeError(
                f"Expected a parameter name (str or mx.init.InitDesc). Received: desc={desc!r}"
            )
        # Plain names come from Mixed and Load: no suffix dispatch, no deprecation detour.
        self._fill(str(desc), arr)
        self._verbose_print(desc, self.registry_name, arr)

    def _fill(self, name: str, arr: Any) -> None:
        raise NotImplementedError

    def _next_key(self) -> int:
        return next(self._calls)

    # MXNet's suffix dispatch: whichever hook it picks, the array gets this initializer's
    # scheme (never the zeros or ones of the base class).
    def _init_weight(self, name: Any, arr: Any) -> None:
        self._fill(str(name), arr)

    def _init_bias(self, name: Any, arr: Any) -> None:
        self._fill(str(name), arr)

    def _init_gamma(self, name: Any, arr: Any) -> None:
        self._fill(str(name), arr)

    def _init_beta(self, name: Any, arr: Any) -> None:
        self._fill(str(name), arr)

    def _init_default(self, name: Any, arr: Any) -> None:
        self._fill(str(name), arr)

    def _init_zero(self, name: Any, arr: Any) -> None:
        self._fill(str(name), arr)

    def _init_one(self, name: Any, arr: Any) -> None:
        self._fill(str(name), arr)

    def _init_bilinear(self, name: Any, arr: Any) -> None:
        self._fill(str(name), arr)

    def _init_loc_bias(self, name: Any, arr: Any) -> None:
        self._fill(str(name), arr)

    def _init_quantized_weight(self, name: Any, arr: Any) -> None:
        self._fill(str(name), arr)

    def _init_quantized_bias(self, name: Any, arr: Any) -> None:
        self._fill(str(name), arr)


#: The options every initializer takes besides its scheme (kept out of the scheme's fields).
_OPTIONS = ("layout", "groups", "blocks", "fan_convention", "seed")


class Initializer(_Base):
    """Any oneinit scheme as an MXNet initializer.

    Parameters
    ----------
    scheme
        A oneinit scheme, or its ``to_config()`` dict.
    layout
        How to read the storage shape of the arrays it fills (a :data:`oneinit.LAYOUTS` preset
        such as ``"conv_transpose_in_out"``); default MXNet's rule: ``(out, in, *kernel)``.
    groups, blocks
        Convolution groups; matrices stacked along the output axis (4 for LSTM gates).
    fan_convention
        ``"oneinit"`` (correct fans) or a framework's own rule (``"mxnet"``, ...).
    seed
        None: MXNet's RNG (``mx.random.seed`` applies); an int: the core's portable values,
        the ``n``-th filled array with stream key ``n``.

    Examples
    --------
    >>> import mxnet as mx, oneinit
    >>> from oneinit.adapters import mxnet as oim
    >>> init = oim.Initializer(oneinit.HeNormal(mode="fan_out"), seed=0)
    >>> mx.init.create(init.dumps()) == init
    True
    """

    registry_name: ClassVar[str] = REGISTRY_PREFIX + "initializer"

    def __init__(
        self,
        scheme: _schemes.Scheme | dict[str, Any],
        *,
        layout: str | Layout | dict[str, Any] | None = None,
        groups: int = 1,
        blocks: int = 1,
        fan_convention: str = "oneinit",
        seed: int | None = None,
    ) -> None:
        self.scheme = _check_scheme(scheme)
        layout_obj = None if layout is None else get_layout(layout)
        self.layout: Layout | None = layout_obj
        self.groups = _check_count("groups", groups)
        self.blocks = _check_count("blocks", blocks)
        self.fan_convention = _check_convention(fan_convention)
        self.seed = _check_seed(seed)
        options: dict[str, Any] = {}
        if layout_obj is not None:
            options["layout"] = layout_obj.to_config()
        for option, value, default in (
            ("groups", self.groups, 1),
            ("blocks", self.blocks, 1),
            ("fan_convention", self.fan_convention, "oneinit"),
            ("seed", self.seed, None),
        ):
            if value != default:
                options[option] = value
        super().__init__(**self._scheme_kwargs(), **options)

    def _scheme_kwargs(self) -> dict[str, Any]:
        return {"scheme": self.scheme.to_config()}

    def __repr__(self) -> str:
        label = _rules.scheme_label(self.scheme)  # "HeNormal(mode='fan_out')"
        if type(self) is not Initializer:  # the class names the scheme: keep its arguments
            label = label[label.index("(") + 1 : -1]
        options = [f"{k}={v!r}" for k, v in self._kwargs.items() if k in _OPTIONS]
        return f"{type(self).__name__}({', '.join(p for p in (label, *options) if p)})"

    def placement(self, ndim: int) -> _Placement:
        """How an array of ``ndim`` dimensions is read (layout, groups, blocks)."""
        layout = _default_layout(ndim) if self.layout is None else self.layout
        return _Placement(layout, self.groups, self.blocks)

    def _fill(self, name: str, arr: Any) -> None:
        _check_array(arr)
        placement = self.placement(arr.ndim)
        fans = _fans_for(self.scheme, tuple(arr.shape), placement, self.fan_convention, name)
        key = 0 if self.seed is None else self._next_key()
        _fill_array(arr, self.scheme, placement=placement, fans=fans, seed=self.seed, key=key)


class _SchemeInitializer(Initializer):
    """One scheme class as an initializer class: the scheme's fields, then the options."""

    scheme_class: ClassVar[type[_schemes.Scheme]]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        options = {k: kwargs.pop(k) for k in _OPTIONS if k in kwargs}
        super().__init__(self.scheme_class(*args, **kwargs), **options)

    def _scheme_kwargs(self) -> dict[str, Any]:
        config = self.scheme.to_config()
        config.pop("scheme")
        return config


def _scheme_initializer(scheme_class: type[_schemes.Scheme]) -> type[_SchemeInitializer]:
    """The registered initializer class of ``scheme_class`` (same name, same fields)."""
    name = scheme_class.__name__
    cls = type(
        name,
        (_SchemeInitializer,),
        {
            "__module__": __name__,
            "__qualname__": name,
            "__doc__": (
                f"``oneinit.{name}`` as an MXNet initializer, registered as "
                f"``{REGISTRY_PREFIX + name.lower()!r}``.\n\n"
                f"Takes the fields of :class:`oneinit.{name}` and the options of "
                ":class:`Initializer` (``layout``, ``groups``, ``blocks``, ``fan_convention``, "
                f"``seed``).\n\n{inspect.cleandoc(scheme_class.__doc__ or '')}"
            ),
            "scheme_class": scheme_class,
            "registry_name": REGISTRY_PREFIX + name.lower(),
        },
    )
    fields = [
        p.replace(kind=inspect.Parameter.POSITIONAL_OR_KEYWORD)
        for p in inspect.signature(scheme_class).parameters.values()
    ]
    options = [
        p for p in inspect.signature(Initializer.__init__).parameters.values() if p.name in _OPTIONS
    ]
    cls.__signature__ = inspect.Signature([*fields, *options])  # type: ignore[attr-defined]
    return cls


def _register(cls: type[_Base], *names: str) -> None:
    for name in names:
        mx.init.alias(name)(cls)


GlorotUniform = _scheme_initializer(_schemes.GlorotUniform)
GlorotNormal = _scheme_initializer(_schemes.GlorotNormal)
HeUniform = _scheme_initializer(_schemes.HeUniform)
HeNormal = _scheme_initializer(_schemes.HeNormal)
LecunUniform = _scheme_initializer(_schemes.LecunUniform)
LecunNormal = _scheme_initializer(_schemes.LecunNormal)
VarianceScaling = _scheme_initializer(_schemes.VarianceScaling)
TruncatedNormal = _scheme_initializer(_schemes.TruncatedNormal)
Uniform = _scheme_initializer(_schemes.Uniform)
Normal = _scheme_initializer(_schemes.Normal)
Constant = _scheme_initializer(_schemes.Constant)
Zeros = _scheme_initializer(_schemes.Zeros)
Ones = _scheme_initializer(_schemes.Ones)
Orthogonal = _scheme_initializer(_schemes.Orthogonal)
DeltaOrthogonal = _scheme_initializer(_schemes.DeltaOrthogonal)
Identity = _scheme_initializer(_schemes.Identity)
Dirac = _scheme_initializer(_schemes.Dirac)
Sparse = _scheme_initializer(_schemes.Sparse)
Bilinear = _scheme_initializer(_schemes.Bilinear)
# Framework spellings of the same initializers (the registry knows both names).
XavierUniform = GlorotUniform
XavierNormal = GlorotNormal
KaimingUniform = HeUniform
KaimingNormal = HeNormal

_SCHEME_INITIALIZERS: tuple[type[_SchemeInitializer], ...] = (
    GlorotUniform,
    GlorotNormal,
    HeUniform,
    HeNormal,
    LecunUniform,
    LecunNormal,
    VarianceScaling,
    TruncatedNormal,
    Uniform,
    Normal,
    Constant,
    Zeros,
    Ones,
    Orthogonal,
    DeltaOrthogonal,
    Identity,
    Dirac,
    Sparse,
    Bilinear,
)
_register(Initializer, Initializer.registry_name)
for _cls in _SCHEME_INITIALIZERS:
    _register(_cls, _cls.registry_name)
_register(GlorotUniform, REGISTRY_PREFIX + "xavieruniform")
_register(GlorotNormal, REGISTRY_PREFIX + "xaviernormal")
_register(HeUniform, REGISTRY_PREFIX + "kaiminguniform")
_register(HeNormal, REGISTRY_PREFIX + "kaimingnormal")


# --------------------------------------------------------------------------------------------
# Rules: a Mixed that applies what it matched.


def _rule_target(target: Any) -> _schemes.Scheme | Any:
    """A scheme or an MXNet initializer from what a rule (or its JSON) names."""
    if isinstance(target, _schemes.Scheme | mx.init.Initializer):
        return target
    if isinstance(target, dict) and "scheme" in target:
        return _schemes.scheme_from_config(target)
    if isinstance(target, str | list):
        return mx.init.create(json.dumps(target) if isinstance(target, list) else target)
    raise TypeError(
        f"A rule maps a pattern to a oneinit scheme or an mx.init.Initializer. Received: {target!r}"
    )


def _target_config(target: Any) -> Any:
    if isinstance(target, _schemes.Scheme):
        return target.to_config()
    return json.loads(target.dumps())


class Rules(_Base):
    """``(pattern, scheme)`` pairs: the first pattern found in a parameter's name decides.

    Like ``mx.init.Mixed``, but the matched scheme is what the array gets, whatever the name's
    suffix (``Mixed(['.*bias'], [mx.init.Constant(0.5)])`` gives zeros; this gives 0.5), and the
    patterns are **searched** (:func:`re.search`) in the name, so ``r"bias$"`` matches
    ``"dense0_bias"``; anchor with ``^`` for a prefix match. A name no pattern matches raises.

    Parameters
    ----------
    rules
        ``(regex, target)`` pairs; a target is a oneinit scheme (filled with this object's
        ``seed``, the array read by MXNet's rule) or any ``mx.init.Initializer`` (a oneinit one
        keeps its own options; MXNet's own get their ``_init_weight``, never a suffix hook).
    seed
        None: MXNet's RNG; an int: the core's portable values, the ``n``-th array this object
        fills with a scheme using stream key ``n``.
    fan_convention
        For the schemes given directly.

    Examples
    --------
    >>> import mxnet as mx, oneinit
    >>> from oneinit.adapters import mxnet as oim
    >>> init = oim.Rules([(r"bias$", oneinit.Constant(0.1)), (r".*", oneinit.HeNormal())])
    >>> bias = mx.nd.zeros((4,))
    >>> init("dense0_bias", bias)
    >>> bias.asnumpy()
    array([0.1, 0.1, 0.1, 0.1], dtype=float32)
    """

    registry_name: ClassVar[str] = REGISTRY_PREFIX + "rules"

    def __init__(
        self,
        rules: Iterable[Sequence[Any]],
        *,
        seed: int | None = None,
        fan_convention: str = "oneinit",
    ) -> None:
        if isinstance(rules, str | bytes | dict) or not isinstance(rules, Iterable):
            raise TypeError(
                f"rules must be a list of (pattern, scheme) pairs. Received: rules={rules!r}"
            )
        self.rules: list[tuple[re.Pattern[str], Any]] = []
        for rule in rules:
            if isinstance(rule, str | bytes) or len(rule) != 2 or not isinstance(rule[0], str):
                raise TypeError(
                    f"Each rule is a (pattern, scheme) pair with a str pattern. Received: {rule!r}"
                )
            try:
                pattern = re.compile(rule[0])
            except re.error as error:
                raise ValueError(
                    f"pattern is not a valid regular expression ({error}). "
                    f"Received: pattern={rule[0]!r}"
                ) from None
            self.rules.append((pattern, _rule_target(rule[1])))
        self.seed = _check_seed(seed)
        self.fan_convention = _check_convention(fan_convention)
        kwargs: dict[str, Any] = {"rules": [[p.pattern, _target_config(t)] for p, t in self.rules]}
        if self.seed is not None:
            kwargs["seed"] = self.seed
        if self.fan_convention != "oneinit":
            kwargs["fan_convention"] = self.fan_convention
        super().__init__(**kwargs)

    def __repr__(self) -> str:
        return f"Rules({[(p.pattern, t) for p, t in self.rules]!r}, seed={self.seed!r})"

    def target(self, name: str) -> Any:
        """The scheme or initializer of the first rule whose pattern is found in ``name``."""
        for pattern, target in self.rules:
            if pattern.search(name):
                return target
        patterns = ", ".join(repr(p.pattern) for p, _ in self.rules)
        raise ValueError(
            f"No rule matches this parameter (patterns: {patterns}); add a catch-all rule "
            f"such as ('.*', scheme) last. Received: name={name!r}"
        )

    def _fill(self, name: str, arr: Any) -> None:
        target = self.target(name)
        if isinstance(target, _Base):
            target._fill(name, arr)
        elif isinstance(target, mx.init.Initializer):
            target._init_weight(mx.init.InitDesc(name, global_init=self), arr)
        else:
            _check_array(arr)
            placement = _Placement(_default_layout(arr.ndim))
            fans = _fans_for(target, tuple(arr.shape), placement, self.fan_convention, name)
            key = 0 if self.seed is None else self._next_key()
            _fill_array(arr, target, placement=placement, fans=fans, seed=self.seed, key=key)


_register(Rules, Rules.registry_name)


# --------------------------------------------------------------------------------------------
# initialize(net, ...): every Gluon layer known by its kind.

_RNN_PARAM = re.compile(r"^(?:([lr])(\d+)_)?(i2h|h2h|h2r)_(weight|bias)$")
_RNN_SLOTS = {
    ("i2h", "weight"): "weight_ih",
    ("h2h", "weight"): "weight_hh",
    ("h2r", "weight"): "weight_hr",
    ("i2h", "bias"): "bias_ih",
    ("h2h", "bias"): "bias_hh",
}
_NORMS: tuple[tuple[str, str], ...] = (
    ("BatchNorm", "batch_norm"),
    ("BatchNormReLU", "batch_norm"),
    ("SyncBatchNorm", "batch_norm"),
    ("LayerNorm", "layer_norm"),
    ("GroupNorm", "group_norm"),
    ("InstanceNorm", "instance_norm"),
)
#: Running statistics: state, not learned; initialize() leaves them to their own initializer.
_STATE_NAMES = ("running_mean", "running_var", "moving_mean", "moving_var")


def _shape_known(shape: Any) -> bool:
    return shape is not None and all(int(d) > 0 for d in shape)


@dataclass(frozen=True)
class _Spec:
    """One Gluon parameter as the core sees it; shapes are read when needed (deferred init)."""

    name: str
    param: Any
    kind: str
    roles: tuple[str, ...]
    slot: str
    placement: _Placement
    layer: tuple[Any, _Placement] | None = None  # the parameter and placement of its weight

    def info(self) -> _rules.ParamInfo:
        shape = tuple(int(d) for d in self.param.shape)
        layer = None
        if self.layer is not None:
            weight, placement = self.layer
            layer = _geometry(tuple(int(d) for d in weight.shape), placement)
        return _rules.ParamInfo(
            self.name,
            self.placement.core_shape(shape),
            kind=self.kind,
            roles=self.roles,
            slot=self.slot,
            layout=None if self.placement.layout is None else _layout_name(self.placement),
            groups=self.placement.groups,
            blocks=self.placement.blocks,
            layer=layer,
        )


def _layout_name(placement: _Placement) -> str:
    layout = placement.layout
    return layout if isinstance(layout, str) else get_layout(layout).name  # type: ignore[arg-type]


def _geometry(shape: tuple[int, ...], placement: _Placement) -> _rules.Geometry:
    return _rules.Geometry(
        placement.core_shape(shape),
        None if placement.layout is None else _layout_name(placement),
        placement.groups,
        placement.blocks,
    )


def _named_blocks(block: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """``(attribute path, block)`` for ``block`` and its descendants, parents first."""
    yield prefix, block
    for name, child in block._children.items():
        yield from _named_blocks(child, f"{prefix}{name}.")


def _conv_specs(block: Any, prefix: str, params: dict[str, Any]) -> list[_Spec]:
    options = block._kwargs
    transposed = block._op_name == "Deconvolution"
    placement = _Placement(
        "conv_transpose_in_out" if transposed else "conv_out_in",
        int(options.get("num_group", 1)),
        channels_last=str(options.get("layout", "NC")).endswith("C"),
    )
    kind = "conv_transpose" if transposed else "conv"
    return _weight_bias_specs(prefix, params, kind, placement)


def _weight_bias_specs(
    prefix: str,
    params: dict[str, Any],
    kind: str,
    placement: _Placement,
    roles: tuple[str, ...] = ("weight",),
) -> list[_Spec]:
    specs = []
    weight = params.get("weight")
    if weight is not None:
        specs.append(_Spec(prefix + "weight", weight, kind, roles, "weight", placement))
    bias = params.get("bias")
    if bias is not None:
        layer = None if weight is None else (weight, placement)
        specs.append(_Spec(prefix + "bias", bias, kind, ("bias",), "bias", _Placement(None), layer))
    return specs


def _recurrent_specs(block: Any, prefix: str, params: dict[str, Any], kind: str) -> list[_Spec]:
    gates = _rules.RECURRENT_GATES[kind]
    parsed = {}
    for attr, param in params.items():
        match = _RNN_PARAM.match(attr)
        if match is None:
            continue
        direction, layer, part, what = match.groups()
        parsed[attr] = ((direction or "", layer or ""), part, what, param)
    recurrent = {
        group: (param, _Placement("dense_out_in", blocks=gates))
        for group, part, what, param in parsed.values()
        if (part, what) == ("h2h", "weight")
    }
    specs = []
    for attr, (group, part, what, param) in parsed.items():
        slot = _RNN_SLOTS[(part, what)]
        if what == "bias":
            specs.append(
                _Spec(
                    prefix + attr,
                    param,
                    kind,
                    ("bias",),
                    slot,
                    _Placement(None),
                    recurrent.get(group),
                )
            )
            continue
        roles = ("weight", "recurrent") if part == "h2h" else ("weight",)
        placement = _Placement("dense_out_in", blocks=gates if part != "h2r" else 1)
        # The layer's geometry is its recurrent weight's: per-gate fan_out = hidden size.
        specs.append(
            _Spec(prefix + attr, param, kind, roles, slot, placement, recurrent.get(group))
        )
    return specs


def _recurrent_kind(block: Any) -> str | None:
    mode = getattr(block, "_mode", None)
    if isinstance(mode, str) and hasattr(block, "_gates"):  # rnn.RNN / LSTM / GRU layers
        return {"rnn_relu": "rnn", "rnn_tanh": "rnn", "lstm": "lstm", "gru": "gru"}.get(mode)
    for cls in type(block).__mro__:
        if cls.__module__.startswith("mxnet.gluon") and cls.__name__ in (
            "RNNCell",
            "LSTMCell",
            "GRUCell",
            "LSTMPCell",
        ):
            return {"RNNCell": "rnn", "GRUCell": "gru"}.get(cls.__name__, "lstm")
    return None


def _norm_kind(block: Any) -> str | None:
    names = {cls.__name__ for cls in type(block).__mro__ if cls.__module__.startswith("mxnet")}
    for name, kind in _NORMS:
        if name in names:
            return kind
    return None


def _block_specs(block: Any, prefix: str) -> list[_Spec]:
    """The parameters a block registers itself (not its children's), described."""
    params = dict(block._reg_params)
    nn = mx.gluon.nn
    specs: list[_Spec] = []
    if isinstance(block, nn.Dense):
        specs = _weight_bias_specs(prefix, params, "linear", _Placement("dense_out_in"))
    elif isinstance(block, nn.Embedding):
        specs = _weight_bias_specs(
            prefix, params, "embedding", _Placement("embedding"), ("weight", "embedding")
        )
    elif hasattr(block, "_op_name") and block._op_name in ("Convolution", "Deconvolution"):
        specs = _conv_specs(block, prefix, params)
    elif (kind := _recurrent_kind(block)) is not None:
        specs = _recurrent_specs(block, prefix, params, kind)
    elif (kind := _norm_kind(block)) is not None:
        for attr, param in params.items():
            if attr == "gamma":
                specs.append(
                    _Spec(prefix + attr, param, kind, ("norm",), "weight", _Placement(None))
                )
            elif attr == "beta":
                specs.append(
                    _Spec(prefix + attr, param, kind, ("norm", "bias"), "bias", _Placement(None))
                )
    elif isinstance(block, nn.PReLU):
        specs = [
            _Spec(prefix + attr, p, "prelu", ("activation",), "weight", _Placement(None))
            for attr, p in params.items()
        ]
    described = {id(s.param) for s in specs}
    for attr, param in params.items():
        if id(param) not in described and attr not in _STATE_NAMES:
            placement = _Placement(_default_layout(len(param.shape or ())))
            specs.append(_Spec(prefix + attr, param, "other", ("other",), attr, placement))
    return specs


def _state_params(block: Any) -> list[Any]:
    return [p for attr, p in block._reg_params.items() if attr in _STATE_NAMES]


def describe(net: Any) -> list[_rules.ParamInfo]:
    """Every learned parameter of ``net`` as :class:`oneinit.core.rules.ParamInfo`, in order.

    Names are attribute paths (``"0.weight"``, ``"encoder.l0_i2h_weight"``), the keys of the
    portable values under :func:`initialize`. Running statistics are not listed.
    """
    return [spec.info() for spec in _specs(net)[0]]


def _specs(net: Any) -> tuple[list[_Spec], list[Any]]:
    if not isinstance(net, mx.gluon.Block):
        raise TypeError(f"Expected a Gluon Block. Received: net={type(net).__name__}")
    specs: list[_Spec] = []
    states: list[Any] = []
    seen: set[int] = set()
    for prefix, block in _named_blocks(net):
        for spec in _block_specs(block, prefix):
            if id(spec.param) not in seen:  # shared parameters are filled once
                seen.add(id(spec.param))
                specs.append(spec)
        for param in _state_params(block):
            if id(param) not in seen:
                seen.add(id(param))
                states.append(param)
    # Parameters a block created without an attribute: named by Gluon, its prefix removed.
    for full_name, param in net.collect_params().items():
        if id(param) not in seen:
            seen.add(id(param))
            name = full_name[len(net.prefix) :] if full_name.startswith(net.prefix) else full_name
            if name.endswith(_STATE_NAMES):
                states.append(param)
                continue
            placement = _Placement(_default_layout(len(param.shape or ())))
            specs.append(_Spec(name, param, "other", ("other",), name, placement))
    return specs, states


def _as_rules(scheme_or_rules: Any, profile: str | None) -> _rules.Rules:
    if isinstance(scheme_or_rules, Rules):
        raise TypeError(
            "oim.Rules is an MXNet initializer for net.initialize(...) and matches MXNet's "
            "parameter names; initialize() takes a oneinit scheme or oneinit.core.rules.Rules. "
            f"Received: scheme_or_rules={scheme_or_rules!r}"
        )
    return _rules.as_rules(scheme_or_rules, profile)


class _ParamInitializer(_Base):
    """The initializer one parameter gets from :func:`initialize`: it decides at fill time, so
    deferred parameters are planned with the shapes of the first forward pass.
    """

    registry_name: ClassVar[str] = REGISTRY_PREFIX + "parameter"

    def __init__(
        self, spec: _Spec, rules: _rules.Rules, seed: int | None, fan_convention: str
    ) -> None:
        super().__init__()
        self.spec, self.rules, self.seed, self.fan_convention = spec, rules, seed, fan_convention

    def _fill(self, name: str, arr: Any) -> None:
        assignment = self.rules.assign(self.spec.info(), fan_convention=self.fan_convention)
        if assignment.scheme is None:  # pragma: no cover - initialize() never hands these over
            raise ValueError(f"No scheme for parameter {self.spec.name!r}.")
        placement = self.spec.placement if assignment.param.layout else _Placement(None)
        _fill_array(
            arr,
            assignment.scheme,
            # A rule may read stacked gates as one matrix (ignore="blocks"): its blocks, not
            # the layer's, shape structured schemes (one orthogonal matrix or one per gate).
            placement=dataclasses.replace(placement, blocks=assignment.blocks),
            fans=assignment.fans,
            seed=self.seed,
            key=self.spec.name,
        )


@dataclass(frozen=True)
class _PendingAssignment(_rules.Assignment):
    """The assignment of a parameter whose shape is not known yet: no fans, no std."""

    @property
    def expected_std(self) -> float | None:
        return None


def _pending_assignment(
    info: _rules.ParamInfo, rules: _rules.Rules, fan_convention: str
) -> _rules.Assignment:
    found = rules.resolve(info)
    rule, index = (None, None) if found is None else (found[1], found[0])
    return _PendingAssignment(info, rule, index, None, None, fan_convention)


def initialize(
    net: Any,
    scheme_or_rules: _schemes.Scheme | _rules.Rule | _rules.Rules | None = None,
    seed: int | None = None,
    *,
    profile: str | None = None,
    fan_convention: str = "oneinit",
    ctx: Any = None,
    names: _rules.Names | None = None,
) -> _rules.Report:
    """Initialize every parameter of a Gluon block by its layer kind, role and name.

    Parameters
    ----------
    net
        A ``mx.gluon.Block``; initialized or not, with deferred shapes or not.
    scheme_or_rules
        A scheme (weights get it, biases zeros, norm scales ones:
        :meth:`oneinit.core.rules.Rules.from_scheme`), a :class:`~oneinit.core.rules.Rule` or
        :class:`~oneinit.core.rules.Rules`.
    seed
        None: MXNet's RNG; an int: the core's portable values, each parameter keyed by its
        structured name (``"0.weight"``) or the canonical name ``names`` gives it, the same
        values as any adapter gives that name.
    profile
        A framework's own default initialization (:data:`oneinit.core.rules.PROFILES`), as a
        fallback after ``scheme_or_rules``.
    fan_convention
        ``"oneinit"`` (correct fans: transposed and grouped convolutions, gates) or a
        framework's own rule.
    ctx
        Context(s) for parameters not initialized yet (default: the current context);
        initialized ones stay where they are.
    names
        Canonical names: a mapping or a callable from a parameter's own name (its attribute
        path, as the report shows it without ``names``) to the name rules match, the report
        shows and, under a seed, the portable stream key (``oneinit.key_from_name(name)``).
        Parameters it leaves out (or for which the callable returns None) keep their own
        name. A mapping may only name existing parameters; two parameters may not get the
        same name.

    Returns
    -------
    oneinit.core.rules.Report
        One row per parameter: ``"initialized"``; ``"lazy"`` for a deferred parameter (shape
        unknown until the first forward pass, when it is filled by the same rules);
        ``"unmatched"`` or ``"kept"``, left to their own MXNet initializer. Running statistics
        (BatchNorm ``running_mean/var``) are state, not listed, and keep their own initializer.

    Examples
    --------
    >>> import mxnet as mx, oneinit
    >>> from oneinit.adapters import mxnet as oim
    >>> net = mx.gluon.nn.HybridSequential()
    >>> net.add(mx.gluon.nn.Conv2D(8, 3, in_channels=4, groups=2), mx.gluon.nn.Dense(10))
    >>> report = oim.initialize(net, oneinit.HeNormal(), seed=0)
    >>> report["0.weight"].fans, report["1.weight"].status
    (Fans(fan_in=18, fan_out=36, receptive_field=9), 'lazy')
    """
    rules = _as_rules(scheme_or_rules, profile)
    seed = _check_seed(seed)
    fan_convention = _check_convention(fan_convention)
    specs, states = _specs(net)
    # names= renames by own names; a shared parameter is named by its first path only.
    canonical = _rules.canonical_names([[spec.name] for spec in specs], names)
    specs = [
        spec if name == spec.name else dataclasses.replace(spec, name=name)
        for spec, name in zip(specs, canonical, strict=True)
    ]
    assignments: list[_rules.Assignment] = []
    statuses: dict[str, str] = {}
    with mx.autograd.pause():
        for spec in specs:
            param = spec.param
            info = spec.info()
            known = _shape_known(param.shape)
            if known:
                assignment = rules.assign(info, fan_convention=fan_convention)
            else:
                assignment = _pending_assignment(info, rules, fan_convention)
            assignments.append(assignment)
            if assignment.scheme is None:
                if param._data is None and not param._deferred_init:
                    param.initialize(ctx=ctx)  # its own initializer, as net.initialize() would
                continue
            initializer = _ParamInitializer(spec, rules, seed, fan_convention)
            if param._data is not None:
                arrays = param.list_data()
                initializer._fill(spec.name, arrays[0])  # on its own context
                for other in arrays[1:]:
                    arrays[0].copyto(other)
            else:
                contexts = ctx if ctx is not None else _deferred_contexts(param)
                param.initialize(init=initializer, ctx=contexts, force_reinit=True)
            statuses[info.name] = "initialized" if param._data is not None else "lazy"
        for param in states:
            if param._data is None and not param._deferred_init:
                param.initialize(ctx=ctx)
    return _rules.Report.from_plan(assignments, statuses)


def _deferred_contexts(param: Any) -> Any:
    """The contexts an earlier ``initialize`` asked for, if the parameter is still deferred."""
    if param._deferred_init:
        return param._deferred_init[1]
    return None
