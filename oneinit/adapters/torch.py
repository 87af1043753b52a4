"""PyTorch adapter: oneinit schemes as ``torch.nn.init``-style functions and layer-aware model init.

Every fan, gain, bound and portable value comes from the core; this module reads a tensor's
shape, dtype and device, asks the core, and writes the torch way: in place, outside autograd
(as under ``torch.no_grad()``), returning the tensor (a Parameter stays a leaf with its
``requires_grad``).

Two ways to fill (DESIGN.md section 5):

- ``seed=None`` (default): torch's own RNG on the tensor's device, honouring ``generator=``
  (``torch.manual_seed`` applies), with the distribution the core computed: ``uniform_``,
  ``normal_``, and for truncated normals an exact inverse-CDF transform (``uniform_`` on the
  image of the bounds, ``erfinv_``, scale; no rejection loop, no host round trip).
- ``seed=int``: portable values, equal bit for bit to ``scheme.sample(shape, seed=seed,
  key=key, layout=...)`` (float32) in torch's storage layout, on every device. A CPU float32
  tensor whose storage is the canonical layout receives them in its own memory (no copy);
  otherwise they are made once on the host and copied once to the tensor.

Keys: the functions take ``key=`` (default 0); the same ``seed`` and ``key`` always give the same
values, so give different tensors different keys (a string such as the parameter's name is
hashed). :func:`initialize` keys every parameter by its qualified name, so inserting a named
layer does not change the others; ``names=`` gives parameters canonical names (and keys)
instead.

>>> import torch, oneinit
>>> import oneinit.adapters.torch as oit
>>> conv = torch.nn.ConvTranspose2d(16, 32, 3)
>>> w = oit.he_normal_(conv.weight, layout="conv_transpose", seed=0, key="up.weight")
>>> ref = oneinit.HeNormal().sample((16, 32, 3, 3), layout="conv_transpose", seed=0,
...                                 key="up.weight")
>>> bool((w == torch.from_numpy(ref)).all()), w.is_leaf, w.requires_grad
(True, True, True)
"""

from __future__ import annotations

import dataclasses
import functools
import math
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np

try:
    import torch
    from torch import nn
except ImportError as error:  # pragma: no cover - exercised only without torch
    raise ImportError(
        'oneinit.adapters.torch needs PyTorch: pip install "oneinit[torch]"'
    ) from error

from ..core.fans import Fans, Layout, canonical_shape, compute_fans, from_canonical, get_layout
from ..core.gains import calculate_gain
from ..core.random import NormalDistribution, Stream, UniformDistribution, key_from_name
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
from ..core.schemes import (
    Assign,
    Bilinear,
    Constant,
    ConstantScheme,
    CustomScheme,
    DeltaOrthogonal,
    Dirac,
    GateBias,
    GlorotNormal,
    GlorotUniform,
    HeNormal,
    HeUniform,
    Identity,
    LecunNormal,
    LecunUniform,
    Normal,
    Ones,
    Orthogonal,
    RandomScheme,
    Scheme,
    Sparse,
    TruncatedNormal,
    Uniform,
    VarianceScaling,
    Zeros,
)

__all__ = [
    "InitFn",
    "Report",
    "Rule",
    "Rules",
    "bilinear_",
    "calculate_gain",
    "constant_",
    "delta_orthogonal_",
    "describe",
    "dirac_",
    "eye_",
    "glorot_normal_",
    "glorot_uniform_",
    "he_normal_",
    "he_uniform_",
    "init_",
    "init_fn",
    "initialize",
    "kaiming_normal_",
    "kaiming_uniform_",
    "lecun_normal_",
    "lecun_uniform_",
    "normal_",
    "ones_",
    "orthogonal_",
    "sparse_",
    "trunc_normal_",
    "uniform_",
    "variance_scaling_",
    "xavier_normal_",
    "xavier_uniform_",
    "zeros_",
]

Tensor = torch.Tensor
Key = int | str

#: Layouts whose storage order is the canonical ``(out, in / groups, *kernel)`` one, so
#: portable values can be written straight into the tensor's memory.
_CANONICAL_STORAGE = frozenset({"canonical", "dense_out_in", "conv_out_in"})
#: Schemes whose values do not depend on the seed: filled from the core on any path.
_DETERMINISTIC = (Identity, Dirac, Bilinear, Assign, GateBias)
#: Elements per float32 work buffer for reduced-precision truncated normals (64 MiB).
_CHUNK = 1 << 24
#: Truncation bounds (in standard deviations) beyond which N(0, 1) has mass 2 Phi(-6) = 2e-9,
#: below what float32 samplers resolve (the core's inverse-CDF reaches 5.42): a truncated
#: normal with both bounds this far out is sampled as the untruncated one.
_BEYOND_REACH = 6.0


class _TorchNamespace:
    """The two array-API functions the core's layout transforms need, for torch tensors."""

    @staticmethod
    def reshape(x: Tensor, shape: Sequence[int]) -> Tensor:
        return torch.reshape(x, tuple(shape))

    @staticmethod
    def permute_dims(x: Tensor, axes: Sequence[int]) -> Tensor:
        return x.permute(tuple(axes))


_TORCH = _TorchNamespace()


# --------------------------------------------------------------------------------------------
# Checks. Messages: what is wrong, what is allowed, then ``Received: name=value``.


def _check_tensor(function: str, tensor: Any) -> Tensor:
    if not isinstance(tensor, torch.Tensor):
        raise TypeError(
            f"{function} fills a torch.Tensor in place. Received: tensor of type "
            f"{type(tensor).__name__}"
        )
    if not tensor.is_floating_point():
        raise TypeError(
            f"{function} fills floating-point tensors (float16, bfloat16, float32, float64); "
            f"integer, bool and complex tensors have no such distribution. "
            f"Received: tensor.dtype={tensor.dtype}"
        )
    return tensor


def _check_generator(function: str, generator: Any, tensor: Tensor) -> None:
    if not isinstance(generator, torch.Generator):
        raise TypeError(
            f"{function} takes generator=torch.Generator(device) or None. "
            f"Received: generator={generator!r}"
        )
    if generator.device.type != tensor.device.type and not tensor.is_meta:
        raise ValueError(
            f"{function} needs a generator on the tensor's device ({tensor.device.type}). "
            f"Received: generator.device={generator.device}"
        )


def _check_word(name: str, value: Any) -> int:
    """An int in [0, 2**64) (a seed or a key); the core's Stream says what is wrong."""
    if type(value) is int and 0 <= value < 1 << 64:
        return value
    if name == "seed":
        Stream(value, 0)
    else:
        Stream(0, value)
    return int(value)


def _stream_key(key: Key) -> int:
    if isinstance(key, str):
        return key_from_name(key)
    return _check_word("key", key)


def _layout_for(function: str, ndim: int, layout: str | Layout | None) -> Layout | None:
    """The tensor's layout: the one named, or torch's usual one for its rank."""
    if layout is not None:
        chosen = get_layout(layout)
        if ndim < chosen.min_ndim:
            raise ValueError(
                f"{function}: layout {chosen.name!r} needs a tensor with at least "
                f"{chosen.min_ndim} dimensions. Received: tensor.ndim={ndim}"
            )
        return chosen
    if ndim >= 3:
        return get_layout("conv_out_in")
    if ndim == 2:
        return get_layout("dense_out_in")
    return None


# --------------------------------------------------------------------------------------------
# Plans: everything a fill needs that depends only on the scheme and the tensor's shape and
# dtype, computed once (by the core) and cached, so a fill costs little more than torch's.


@dataclass(frozen=True)
class _Plan:
    layout: Layout | None
    canonical: tuple[int, ...]  # canonical shape (the storage shape of vectors)
    in_storage: bool  # storage order is the canonical order
    fans: Fans | None
    distribution: UniformDistribution | NormalDistribution | None
    #: The native fill: ("fill", value), ("uniform", low, high), ("normal", mean, std),
    #: ("normal_clamp", mean, std, low, high), ("truncated", u_low, u_high, scale, mean, low,
    #: high), ("orthogonal",), ("core",) (the core's values, seed from torch's RNG) or
    #: ("core_fixed",) (the core's values do not depend on the seed).
    native: tuple[Any, ...]
    empty: bool


def _plan(
    function: str,
    scheme: Scheme,
    shape: tuple[int, ...],
    dtype: torch.dtype,
    layout: str | Layout | None,
    groups: int,
    blocks: int,
    fan_convention: str,
    fans: Fans | None,
) -> _Plan:
    args = (function, scheme, shape, dtype, layout, groups, blocks, fan_convention, fans)
    try:
        return _cached_plan(*args)
    except TypeError:  # an unhashable argument (or a real error, which this repeats)
        return _make_plan(*args)


def _make_plan(
    function: str,
    scheme: Scheme,
    shape: tuple[int, ...],
    dtype: torch.dtype,
    layout: str | Layout | None,
    groups: int,
    blocks: int,
    fan_convention: str,
    fans: Fans | None,
) -> _Plan:
    if not isinstance(scheme, Scheme):
        raise TypeError(
            f"{function} takes a oneinit scheme (e.g. oneinit.HeNormal()). "
            f"Received: scheme={scheme!r}"
        )
    chosen = _layout_for(function, len(shape), layout)
    elementwise = isinstance(scheme, (RandomScheme, ConstantScheme))
    # A user-defined scheme takes any shape (its draw says what it cannot fill); on a vector
    # without fans= it gets fans=None, as from the core's sample.
    vector_custom = chosen is None and isinstance(scheme, CustomScheme)
    if chosen is None and not elementwise and not vector_custom:
        if not (fans is not None and scheme.uses_fans and not isinstance(scheme, _DETERMINISTIC)):
            raise ValueError(
                f"{function} ({type(scheme).__name__}) needs a tensor with at least 2 "
                f"dimensions. Received: tensor.shape={shape}"
            )
    canonical = shape if chosen is None else canonical_shape(shape, chosen, groups=groups)
    if math.prod(shape) == 0:  # nothing to fill (torch warns and does the same)
        return _Plan(chosen, canonical, True, None, None, ("fill", 0.0), True)
    if fans is None and scheme.uses_fans and not vector_custom:
        if chosen is None and fan_convention == "oneinit":
            raise ValueError(
                f"{function} ({type(scheme).__name__}) computes fans, which need a tensor with "
                "at least 2 dimensions; for a bias pass fans= (e.g. the fans of its layer's "
                f"weight). Received: tensor.shape={shape}"
            )
        fans = compute_fans(
            shape,
            chosen or "canonical",
            groups=groups,
            blocks=blocks,
            fan_convention=fan_convention,
        )
    distribution = scheme.distribution_for(fans) if isinstance(scheme, RandomScheme) else None
    native: tuple[Any, ...]
    if isinstance(scheme, ConstantScheme):
        native = ("fill", scheme.value)
    elif distribution is not None:
        native = _native_op(distribution, dtype)
    elif isinstance(scheme, Orthogonal) and chosen is not None:
        _check_blocks(canonical[0], blocks)
        native = ("orthogonal",)
    else:
        native = ("core_fixed",) if isinstance(scheme, _DETERMINISTIC) else ("core",)
    in_storage = chosen is None or chosen.name in _CANONICAL_STORAGE
    return _Plan(chosen, canonical, in_storage, fans, distribution, native, False)


_cached_plan = functools.lru_cache(maxsize=1024)(_make_plan)


def _check_blocks(rows: int, blocks: int) -> None:
    if isinstance(blocks, bool) or not isinstance(blocks, int) or blocks < 1:
        raise ValueError(f"blocks must be a positive int. Received: blocks={blocks!r}")
    if rows % blocks:
        raise ValueError(
            f"orthogonal needs the output units ({rows}) to be divisible by blocks. "
            f"Received: blocks={blocks}"
        )


# --------------------------------------------------------------------------------------------
# The generic fill.


def _fill(
    function: str,
    tensor: Tensor,
    scheme: Scheme,
    *,
    generator: torch.Generator | None,
    seed: int | None,
    key: Key,
    layout: str | Layout | None,
    groups: int,
    blocks: int,
    fan_convention: str,
    fans: Fans | None,
) -> Tensor:
    """Validate everything, then fill ``tensor`` with ``scheme`` (the body of every function).

    Writes to a tensor that requires grad go through ``tensor.detach()``: in place, outside
    autograd, as under ``torch.no_grad()`` (the version counter is shared), with less
    overhead.
    """
    if not isinstance(tensor, torch.Tensor) or not tensor.is_floating_point():
        _check_tensor(function, tensor)
    if generator is not None:
        _check_generator(function, generator, tensor)
    if seed is not None:
        seed = _check_word("seed", seed)
    stream_key = _stream_key(key)
    plan = _plan(
        function,
        scheme,
        tuple(tensor.shape),
        tensor.dtype,
        layout,
        groups,
        blocks,
        fan_convention,
        fans,
    )
    if plan.empty or tensor.is_meta:
        return tensor  # nothing to write (meta tensors have no storage, as in torch.nn.init)
    target = tensor.detach() if tensor.requires_grad else tensor
    if seed is None:
        kind = plan.native[0]
        if kind == "orthogonal":
            assert isinstance(scheme, Orthogonal)
            _native_orthogonal(target, scheme, plan, groups, blocks, generator)
            return tensor
        if kind == "core":
            seed = _draw_seed(target, generator)
        elif kind == "core_fixed":
            seed = 0
        else:
            _native(target, plan.native, generator)
            return tensor
    _portable(target, scheme, plan, groups=groups, blocks=blocks, stream=Stream(seed, stream_key))
    return tensor


def _draw_seed(tensor: Tensor, generator: torch.Generator | None) -> int:
    """A portable seed from torch's RNG (the generator's, else the tensor device's)."""
    device = generator.device if generator is not None else tensor.device
    drawn = torch.randint(0, 2**63 - 1, (1,), generator=generator, device=device)
    return int(drawn.item())


# --------------------------------------------------------------------------------------------
# Native fills: torch's RNG on the tensor's device.


@functools.lru_cache(maxsize=4096)
def _inward(value: float, toward: float, dtype: torch.dtype) -> float:
    """``value`` rounded to ``dtype``, stepped once toward ``toward`` if rounding moved it out.

    Bounds handed to torch are representable in the tensor's dtype and inside the core's
    bounds, so values cast once to the dtype stay inside them.
    """
    rounded = torch.tensor(value, dtype=torch.float64).to(dtype)
    result = float(rounded)
    if (toward > value and result < value) or (toward < value and result > value):
        target = torch.tensor(toward, dtype=torch.float64).to(dtype)
        result = float(torch.nextafter(rounded, target))
    return result


def _finite_bounds(
    distribution: UniformDistribution | NormalDistribution, dtype: torch.dtype
) -> tuple[float | None, float | None]:
    """The distribution's bounds, rounded inward to ``dtype`` (None for an unbounded side)."""
    low, high = distribution.low, distribution.high
    middle = distribution.mean
    return (
        _inward(low, middle, dtype) if math.isfinite(low) else None,
        _inward(high, middle, dtype) if math.isfinite(high) else None,
    )


def _native_op(
    distribution: UniformDistribution | NormalDistribution, dtype: torch.dtype
) -> tuple[Any, ...]:
    """The torch calls (and their arguments) that draw ``distribution`` into ``dtype``."""
    if isinstance(distribution, UniformDistribution):
        low = _inward(distribution.low, distribution.high, dtype)
        high = _inward(distribution.high, distribution.low, dtype)
        if low < high:
            # torch draws in float32 (or float64) and casts once; both ends are representable.
            return ("uniform", low, high)
        return ("fill", _inward(distribution.mean, distribution.mean, dtype))  # < one step wide
    if not distribution.truncated:
        return ("normal", distribution.mean, distribution.std)
    bounded_low, bounded_high = _finite_bounds(distribution, dtype)
    finfo = torch.finfo(dtype)
    clamp_low = finfo.min if bounded_low is None else bounded_low
    clamp_high = finfo.max if bounded_high is None else bounded_high
    lower, upper = distribution.lower, distribution.upper
    if lower <= -_BEYOND_REACH and upper >= _BEYOND_REACH:
        # Bounds beyond any float32 normal sampler's reach (torch.nn.init.trunc_normal_'s
        # a, b = -+2 absolute at std=0.02, say): the truncation is not observable, so torch's
        # own normal_ is the distribution; the clamp only guards the bounds and moves an
        # expected 2e-9 of the values.
        return ("normal_clamp", distribution.mean, distribution.std, clamp_low, clamp_high)
    # Inverse CDF: x = mean + std * sqrt(2) * erfinv(u), u uniform on [erf(a / sqrt(2)),
    # erf(b / sqrt(2))] (a, b the core's bounds in standard deviations), is N(mean, std**2)
    # restricted to the bounds. u stays strictly inside (-1, 1) in the working precision, so
    # |z| <= 5.4 untruncated, as the core's own transform.
    work = torch.float64 if dtype == torch.float64 else torch.float32
    u_low = math.erf(lower / math.sqrt(2.0)) if math.isfinite(lower) else -1.0
    u_high = math.erf(upper / math.sqrt(2.0)) if math.isfinite(upper) else 1.0
    below_one = _inward(1.0 - 2.0**-60, 0.0, work)
    u_low = max(_inward(u_low, u_high, work), -below_one)
    u_high = min(_inward(u_high, u_low, work), below_one)
    scale = distribution.std * math.sqrt(2.0)
    return ("truncated", u_low, u_high, scale, distribution.mean, clamp_low, clamp_high)


def _native(target: Tensor, op: tuple[Any, ...], generator: torch.Generator | None) -> None:
    kind = op[0]
    if kind == "uniform":
        target.uniform_(op[1], op[2], generator=generator)
    elif kind == "normal":
        target.normal_(op[1], op[2], generator=generator)
    elif kind == "fill":
        target.fill_(op[1])
    elif kind == "normal_clamp":
        target.normal_(op[1], op[2], generator=generator)
        target.clamp_(op[3], op[4])
    else:
        _native_truncated(target, op, generator)


def _native_truncated(
    target: Tensor, op: tuple[Any, ...], generator: torch.Generator | None
) -> None:
    """Exact truncated normal by inverse CDF, on the tensor's device (see :func:`_native_op`).

    The final clamp only absorbs float rounding at the bounds (a few ulp); its bounds are
    representable in the tensor's dtype, so values stay inside after the single cast of a
    reduced-precision tensor, which is sampled through a float32 buffer.
    """
    _, u_low, u_high, scale, mean, clamp_low, clamp_high = op
    if target.dtype in (torch.float32, torch.float64):
        target.uniform_(u_low, u_high, generator=generator)
        target.erfinv_()
        target.mul_(scale)
        if mean != 0.0:
            target.add_(mean)
        target.clamp_(clamp_low, clamp_high)
        return

    def transform(buffer: Tensor, out: Tensor) -> None:
        # float32 up to the last operation, which computes in float32 and writes the
        # reduced dtype: one cast. The bounds are representable in that dtype, so the clamp
        # after the cast keeps every value inside them.
        buffer.uniform_(u_low, u_high, generator=generator)
        buffer.erfinv_()
        if mean != 0.0:
            buffer.mul_(scale)
            torch.add(buffer, mean, out=out)
        else:
            torch.mul(buffer, scale, out=out)
        out.clamp_(clamp_low, clamp_high)

    if not target.is_contiguous():
        buffer = torch.empty(target.shape, dtype=torch.float32, device=target.device)
        values = torch.empty_like(target, memory_format=torch.contiguous_format)
        transform(buffer, values)
        target.copy_(values)
        return
    flat = target.view(-1)
    count = flat.numel()
    buffer = torch.empty(min(count, _CHUNK), dtype=torch.float32, device=target.device)
    for start in range(0, count, _CHUNK):
        size = min(_CHUNK, count - start)
        transform(buffer[:size], flat[start : start + size])


def _native_orthogonal(
    target: Tensor,
    scheme: Orthogonal,
    plan: _Plan,
    groups: int,
    blocks: int,
    generator: torch.Generator | None,
) -> None:
    """The core's Haar construction (``structured.orthogonal``) with torch ops on the device.

    Each block of ``rows = out / blocks`` canonical rows: an N(0, 1) matrix from torch's RNG,
    made tall, reduced QR, columns times sign(diag R), transposed back, times ``gain``; then
    placed into storage by the core's ``from_canonical``.
    """
    assert plan.layout is not None
    cshape = plan.canonical
    rows_total, cols = cshape[0], math.prod(cshape[1:])
    rows = rows_total // blocks
    work = torch.float64 if target.dtype == torch.float64 else torch.float32
    canonical = torch.empty((rows_total, cols), dtype=work, device=target.device)
    for j in range(blocks):
        gaussian = torch.empty((rows, cols), dtype=work, device=target.device)
        gaussian.normal_(0.0, 1.0, generator=generator)
        wide = rows < cols
        q, r = torch.linalg.qr(gaussian.T if wide else gaussian)
        diagonal = torch.diagonal(r)
        q.mul_(torch.where(diagonal < 0, -scheme.gain, scheme.gain).to(work))
        canonical[j * rows : (j + 1) * rows] = q.T if wide else q
    shape = tuple(target.shape)
    values = from_canonical(canonical.view(cshape), shape, plan.layout, groups=groups, xp=_TORCH)
    target.copy_(values)


# --------------------------------------------------------------------------------------------
# Portable fills: the core's values, in torch's storage layout.


def _portable(
    target: Tensor, scheme: Scheme, plan: _Plan, *, groups: int, blocks: int, stream: Stream
) -> None:
    distribution = plan.distribution
    cshape = plan.canonical
    if distribution is not None and plan.in_storage:
        if (
            target.device.type == "cpu"
            and target.dtype in (torch.float32, torch.float64)
            and target.is_contiguous()
        ):
            stream.sample(distribution, cshape, out=target.numpy())  # into the tensor: no copy
            return
        pinned = target.device.type == "cuda"
        buffer = torch.empty(cshape, dtype=torch.float32, pin_memory=pinned)
        stream.sample(distribution, cshape, out=buffer.numpy())
        target.copy_(buffer, non_blocking=pinned)  # pinned host memory outlives the copy
    else:
        canonical = np.asarray(
            scheme.sample_canonical(cshape, stream, fans=plan.fans, groups=groups, blocks=blocks)
        )
        if not (
            canonical.dtype == np.float32
            and canonical.flags.c_contiguous
            and canonical.flags.writeable
        ):
            canonical = np.array(canonical, dtype=np.float32)  # e.g. Assign's read-only values
        values = torch.from_numpy(canonical)
        if not plan.in_storage:
            assert plan.layout is not None
            values = from_canonical(
                values, tuple(target.shape), plan.layout, groups=groups, xp=_TORCH
            )
        target.copy_(values)


# --------------------------------------------------------------------------------------------
# The nn.init-style functions.


def _construct(cls: Any, *args: Any) -> Scheme:
    scheme: Scheme = cls(*args)
    return scheme


_cached_scheme = functools.lru_cache(maxsize=256, typed=True)(_construct)


def _scheme(cls: type[Scheme], *args: Any) -> Scheme:
    """``cls(*args)``, validated once per distinct arguments."""
    try:
        return _cached_scheme(cast(Any, cls), *args)
    except TypeError:  # unhashable arguments: the scheme itself says what is wrong
        return cls(*args)


def init_(
    tensor: Tensor,
    scheme: Scheme,
    generator: torch.Generator | None = None,
    *,
    seed: int | None = None,
    key: Key = 0,
    layout: str | Layout | None = None,
    groups: int = 1,
    blocks: int = 1,
    fan_convention: str = "oneinit",
    fans: Fans | None = None,
) -> Tensor:
    """Fill ``tensor`` in place with any oneinit ``scheme``; returns ``tensor``.

    Parameters
    ----------
    tensor
        A floating-point tensor (float16, bfloat16, float32, float64) on any device; a
        Parameter stays a leaf and keeps its ``requires_grad``. Meta tensors are validated and
        left as they are (they have no storage), as ``torch.nn.init`` does.
    scheme
        A core scheme (``oneinit.HeNormal()``, ``oneinit.Orthogonal(gain=2)``, a
        ``CustomScheme``...).
    generator
        torch RNG for ``seed=None``; on the tensor's device.
    seed
        None: torch's RNG on the tensor's device (``generator`` or the device's default, so
        ``torch.manual_seed`` applies). An int: portable values from the core, equal to
        ``scheme.sample(tuple(tensor.shape), seed=seed, key=key, layout=..., groups=...,
        blocks=..., fans=...)`` bit for bit (float32; reduced precisions get them cast once).
    key
        Stream key for ``seed=int`` (an int, or a string hashed by ``oneinit.key_from_name``).
        The same seed and key give the same values: use one key per tensor.
    layout
        Where the tensor keeps its outputs, inputs and kernel (a ``oneinit.Layout`` or a preset
        name). Default: torch's usual layout for the rank, ``"dense_out_in"`` for 2-D
        (``Linear``) and ``"conv_out_in"`` for 3-D and more (``Conv``). Name
        ``"conv_transpose"`` for a ``ConvTranspose`` weight (torch stores it ``(in,
        out / groups, *k)``; torch's own functions read its fans swapped).
    groups, blocks
        Convolution groups; matrices stacked along the output axis (4 LSTM gates, fused QKV).
    fan_convention
        ``"oneinit"`` (correct fans) or a framework's own rule, e.g. ``"torch"`` to reproduce
        ``torch.nn.init``'s fans bug for bug.
    fans
        Fans to use instead of computing them (e.g. a bias scaled by its layer's fan_in).

    Notes
    -----
    Structured schemes with ``seed=None``: ``Orthogonal`` is built on the device with torch's
    RNG and QR; the deterministic ones (``Identity``, ``Dirac``, ``Bilinear``, ``Assign``,
    ``GateBias``) take the core's values; ``DeltaOrthogonal``, ``Sparse`` and user-defined
    schemes draw a portable seed from torch's RNG (``generator`` honoured; one scalar read from
    the device) and take the core's values for it. User-defined schemes fill vectors too (with
    ``fans=None`` unless given, as the core's ``sample``).

    Examples
    --------
    >>> import torch, oneinit
    >>> import oneinit.adapters.torch as oit
    >>> w = oit.init_(torch.empty(256, 128), oneinit.HeUniform(), seed=0, key="fc.weight")
    >>> float(w.abs().max()) <= (6 / 128) ** 0.5
    True
    """
    return _fill(
        "init_",
        tensor,
        scheme,
        generator=generator,
        seed=seed,
        key=key,
        layout=layout,
        groups=groups,
        blocks=blocks,
        fan_convention=fan_convention,
        fans=fans,
    )


def _named(
    function: str,
    tensor: Tensor,
    scheme: Scheme,
    generator: torch.Generator | None,
    seed: int | None,
    key: Key,
    layout: str | Layout | None,
    groups: int,
    blocks: int,
    fan_convention: str,
    fans: Fans | None = None,
) -> Tensor:
    return _fill(
        function,
        tensor,
        scheme,
        generator=generator,
        seed=seed,
        key=key,
        layout=layout,
        groups=groups,
        blocks=blocks,
        fan_convention=fan_convention,
        fans=fans,
    )


_ONES, _ZEROS, _BILINEAR, _LECUN_UNIFORM = Ones(), Zeros(), Bilinear(), LecunUniform()


def glorot_uniform_(
    tensor: Tensor,
    gain: float = 1.0,
    generator: torch.Generator | None = None,
    *,
    seed: int | None = None,
    key: Key = 0,
    layout: str | Layout | None = None,
    groups: int = 1,
    blocks: int = 1,
    fan_convention: str = "oneinit",
) -> Tensor:
    """U(+-gain sqrt(6 / (fan_in + fan_out))) (``oneinit.GlorotUniform``); alias
    ``xavier_uniform_`` with torch's arguments. Other arguments: :func:`init_`.
    """
    scheme = _scheme(GlorotUniform, gain)
    return _named(
        "glorot_uniform_",
        tensor,
        scheme,
        generator,
        seed,
        key,
        layout,
        groups,
        blocks,
        fan_convention,
    )


def glorot_normal_(
    tensor: Tensor,
    gain: float = 1.0,
    generator: torch.Generator | None = None,
    *,
    distribution: str = "normal",
    seed: int | None = None,
    key: Key = 0,
    layout: str | Layout | None = None,
    groups: int = 1,
    blocks: int = 1,
    fan_convention: str = "oneinit",
) -> Tensor:
    """N(0, gain**2 * 2 / (fan_in + fan_out)), untruncated (``oneinit.GlorotNormal``); alias
    ``xavier_normal_``. ``distribution="truncated_normal"`` gives the Keras/JAX form.
    """
    scheme = _scheme(GlorotNormal, gain, distribution)
    return _named(
        "glorot_normal_",
        tensor,
        scheme,
        generator,
        seed,
        key,
        layout,
        groups,
        blocks,
        fan_convention,
    )


def he_uniform_(
    tensor: Tensor,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: torch.Generator | None = None,
    *,
    seed: int | None = None,
    key: Key = 0,
    layout: str | Layout | None = None,
    groups: int = 1,
    blocks: int = 1,
    fan_convention: str = "oneinit",
) -> Tensor:
    """U(+-gain sqrt(3 / fan)), ``gain = calculate_gain(nonlinearity, a)``
    (``oneinit.HeUniform``); alias ``kaiming_uniform_`` with torch's arguments and defaults
    (``a=0`` with ``"leaky_relu"`` is the ReLU gain sqrt(2)).
    """
    scheme = _scheme(HeUniform, a, mode, nonlinearity)
    return _named(
        "he_uniform_",
        tensor,
        scheme,
        generator,
        seed,
        key,
        layout,
        groups,
        blocks,
        fan_convention,
    )


def he_normal_(
    tensor: Tensor,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: torch.Generator | None = None,
    *,
    distribution: str = "normal",
    seed: int | None = None,
    key: Key = 0,
    layout: str | Layout | None = None,
    groups: int = 1,
    blocks: int = 1,
    fan_convention: str = "oneinit",
) -> Tensor:
    """N(0, gain**2 / fan), untruncated (``oneinit.HeNormal``); alias ``kaiming_normal_``.
    ``distribution="truncated_normal"`` gives Keras's ``HeNormal``.
    """
    scheme = _scheme(HeNormal, a, mode, nonlinearity, distribution)
    return _named(
        "he_normal_",
        tensor,
        scheme,
        generator,
        seed,
        key,
        layout,
        groups,
        blocks,
        fan_convention,
    )


def lecun_uniform_(
    tensor: Tensor,
    generator: torch.Generator | None = None,
    *,
    seed: int | None = None,
    key: Key = 0,
    layout: str | Layout | None = None,
    groups: int = 1,
    blocks: int = 1,
    fan_convention: str = "oneinit",
) -> Tensor:
    """U(+-sqrt(3 / fan_in)) (``oneinit.LecunUniform``)."""
    return _named(
        "lecun_uniform_",
        tensor,
        _LECUN_UNIFORM,
        generator,
        seed,
        key,
        layout,
        groups,
        blocks,
        fan_convention,
    )


def lecun_normal_(
    tensor: Tensor,
    generator: torch.Generator | None = None,
    *,
    distribution: str = "normal",
    seed: int | None = None,
    key: Key = 0,
    layout: str | Layout | None = None,
    groups: int = 1,
    blocks: int = 1,
    fan_convention: str = "oneinit",
) -> Tensor:
    """N(0, 1 / fan_in), untruncated (``oneinit.LecunNormal``); ``distribution=
    "truncated_normal"`` gives Keras's and timm's ``lecun_normal``.
    """
    scheme = _scheme(LecunNormal, distribution)
    return _named(
        "lecun_normal_",
        tensor,
        scheme,
        generator,
        seed,
        key,
        layout,
        groups,
        blocks,
        fan_convention,
    )


def variance_scaling_(
    tensor: Tensor,
    scale: float = 1.0,
    mode: str = "fan_in",
    distribution: str = "truncated_normal",
    generator: torch.Generator | None = None,
    *,
    seed: int | None = None,
    key: Key = 0,
    layout: str | Layout | None = None,
    groups: int = 1,
    blocks: int = 1,
    fan_convention: str = "oneinit",
) -> Tensor:
    """Keras/JAX variance scaling, ``var = scale / fan`` (``oneinit.VarianceScaling``):
    ``"truncated_normal"`` (+-2 sigma, variance-preserving; the default, as in Keras),
    ``"normal"`` (untruncated) or ``"uniform"``.
    """
    scheme = _scheme(VarianceScaling, scale, mode, distribution)
    return _named(
        "variance_scaling_",
        tensor,
        scheme,
        generator,
        seed,
        key,
        layout,
        groups,
        blocks,
        fan_convention,
    )


def uniform_(
    tensor: Tensor,
    a: float = 0.0,
    b: float = 1.0,
    generator: torch.Generator | None = None,
    *,
    seed: int | None = None,
    key: Key = 0,
    layout: str | Layout | None = None,
    groups: int = 1,
    blocks: int = 1,
) -> Tensor:
    """U(a, b) in value units (``oneinit.Uniform``), as ``torch.nn.init.uniform_``."""
    return _named(
        "uniform_",
        tensor,
        _scheme(Uniform, a, b),
        generator,
        seed,
        key,
        layout,
        groups,
        blocks,
        "oneinit",
    )


def normal_(
    tensor: Tensor,
    mean: float = 0.0,
    std: float = 1.0,
    generator: torch.Generator | None = None,
    *,
    seed: int | None = None,
    key: Key = 0,
    layout: str | Layout | None = None,
    groups: int = 1,
    blocks: int = 1,
) -> Tensor:
    """N(mean, std**2) (``oneinit.Normal``), as ``torch.nn.init.normal_``."""
    return _named(
        "normal_",
        tensor,
        _scheme(Normal, mean, std),
        generator,
        seed,
        key,
        layout,
        groups,
        blocks,
        "oneinit",
    )


def trunc_normal_(
    tensor: Tensor,
    mean: float = 0.0,
    std: float = 1.0,
    a: float = -2.0,
    b: float = 2.0,
    generator: torch.Generator | None = None,
    *,
    units: str = "absolute",
    seed: int | None = None,
    key: Key = 0,
    layout: str | Layout | None = None,
    groups: int = 1,
    blocks: int = 1,
) -> Tensor:
    """N(mean, std**2) restricted to ``[a, b]`` (``oneinit.TruncatedNormal``), exact.

    The bounds are **absolute** values by default, as in ``torch.nn.init.trunc_normal_`` (so
    ``std=0.02`` with ``a, b = -2, 2`` is effectively untruncated); ``units="std"`` reads them
    in standard deviations around the mean, as Keras, JAX and timm's ``trunc_normal_tf_`` do.
    """
    scheme = _scheme(TruncatedNormal, mean, std, a, b, units)
    return _named(
        "trunc_normal_",
        tensor,
        scheme,
        generator,
        seed,
        key,
        layout,
        groups,
        blocks,
        "oneinit",
    )


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Every element ``val`` (``oneinit.Constant``), as ``torch.nn.init.constant_``."""
    return _named("constant_", tensor, _scheme(Constant, val), None, None, 0, None, 1, 1, "oneinit")


def zeros_(tensor: Tensor) -> Tensor:
    """All zeros (``oneinit.Zeros``)."""
    return _named("zeros_", tensor, _ZEROS, None, None, 0, None, 1, 1, "oneinit")


def ones_(tensor: Tensor) -> Tensor:
    """All ones (``oneinit.Ones``)."""
    return _named("ones_", tensor, _ONES, None, None, 0, None, 1, 1, "oneinit")


def orthogonal_(
    tensor: Tensor,
    gain: float = 1.0,
    generator: torch.Generator | None = None,
    *,
    seed: int | None = None,
    key: Key = 0,
    layout: str | Layout | None = None,
    groups: int = 1,
    blocks: int = 1,
) -> Tensor:
    """Haar-random (semi-)orthogonal output rows times ``gain`` (``oneinit.Orthogonal``).

    ``blocks=4`` on an LSTM weight makes each gate orthogonal on its own. With ``seed=None``
    the matrix is built on the tensor's device with torch's RNG and QR (as
    ``torch.nn.init.orthogonal_``); with a seed it is the core's.
    """
    return _named(
        "orthogonal_",
        tensor,
        _scheme(Orthogonal, gain),
        generator,
        seed,
        key,
        layout,
        groups,
        blocks,
        "oneinit",
    )


def delta_orthogonal_(
    tensor: Tensor,
    gain: float = 1.0,
    generator: torch.Generator | None = None,
    *,
    seed: int | None = None,
    key: Key = 0,
    layout: str | Layout | None = None,
    groups: int = 1,
) -> Tensor:
    """Zeros except an orthogonal (out, in) matrix at the kernel centre
    (``oneinit.DeltaOrthogonal``); 3-D to 5-D tensors with in <= out.
    """
    return _named(
        "delta_orthogonal_",
        tensor,
        _scheme(DeltaOrthogonal, gain),
        generator,
        seed,
        key,
        layout,
        groups,
        1,
        "oneinit",
    )


def eye_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    """``gain`` times the (rectangular) identity of a 2-D tensor (``oneinit.Identity``)."""
    return _named("eye_", tensor, _scheme(Identity, gain), None, None, 0, None, 1, 1, "oneinit")


def dirac_(tensor: Tensor, groups: int = 1, gain: float = 1.0) -> Tensor:
    """The identity convolution of a 3-D to 5-D ``(out, in / groups, *k)`` tensor, per group
    (``oneinit.Dirac``), as ``torch.nn.init.dirac_``.
    """
    return _named("dirac_", tensor, _scheme(Dirac, gain), None, None, 0, None, groups, 1, "oneinit")


def sparse_(
    tensor: Tensor,
    sparsity: float,
    std: float = 0.01,
    generator: torch.Generator | None = None,
    *,
    seed: int | None = None,
    key: Key = 0,
) -> Tensor:
    """N(0, std**2) with ``ceil(sparsity * rows)`` zeros per column of a 2-D tensor
    (``oneinit.Sparse``). Unlike torch's, the zeros follow ``generator`` too.
    """
    return _named(
        "sparse_",
        tensor,
        _scheme(Sparse, sparsity, std),
        generator,
        seed,
        key,
        None,
        1,
        1,
        "oneinit",
    )


def bilinear_(tensor: Tensor) -> Tensor:
    """The bilinear-upsampling kernel in every (out, in) slot of a 4-D tensor with a square
    kernel (``oneinit.Bilinear``), for ``ConvTranspose2d`` upsampling.
    """
    return _named("bilinear_", tensor, _BILINEAR, None, None, 0, None, 1, 1, "oneinit")


# torch's spellings, with torch's argument names.
xavier_uniform_ = glorot_uniform_
xavier_normal_ = glorot_normal_
kaiming_uniform_ = he_uniform_
kaiming_normal_ = he_normal_


# --------------------------------------------------------------------------------------------
# Layers: what each parameter of a module is.

_RNN_PARAMETER = re.compile(r"^(weight|bias)_(ih|hh|hr)(_l\d+)?(_reverse)?$")
_MHA_PROJECTIONS = ("q_proj_weight", "k_proj_weight", "v_proj_weight")


def _norm_kind(module: nn.Module) -> str | None:
    if isinstance(module, nn.modules.instancenorm._InstanceNorm):
        return "instance_norm"
    if isinstance(module, nn.modules.batchnorm._BatchNorm):
        return "batch_norm"
    if isinstance(module, nn.LayerNorm):
        return "layer_norm"
    if isinstance(module, nn.GroupNorm):
        return "group_norm"
    rms_norm = getattr(nn, "RMSNorm", None)
    if rms_norm is not None and isinstance(module, rms_norm):
        return "rms_norm"
    return None


def _recurrent_kind(module: nn.Module) -> str | None:
    if isinstance(module, nn.RNNBase):
        return {"LSTM": "lstm", "GRU": "gru"}.get(module.mode, "rnn")
    if isinstance(module, nn.LSTMCell):
        return "lstm"
    if isinstance(module, nn.GRUCell):
        return "gru"
    if isinstance(module, nn.RNNCellBase):
        return "rnn"
    return None


def _geometry_of(
    module: nn.Module, attr: str, layout: str, groups: int = 1, blocks: int = 1
) -> Geometry | None:
    """The geometry of ``module.<attr>`` read in ``layout``, if it is a real tensor."""
    weight = getattr(module, attr, None)
    if (
        not isinstance(weight, torch.Tensor)
        or nn.parameter.is_lazy(weight)
        or weight.ndim < get_layout(layout).min_ndim
    ):
        return None
    return Geometry(tuple(weight.shape), layout, groups, blocks)


def _by_rank(ndim: int) -> str | None:
    return "conv_out_in" if ndim >= 3 else ("dense_out_in" if ndim == 2 else None)


def _param_info(
    module: nn.Module, attr: str, param: Tensor, name: str, per_gate: bool
) -> ParamInfo:
    """Describe one direct parameter of ``module`` (kind, roles, slot, layout, layer)."""
    shape = tuple(param.shape)
    ndim = len(shape)
    if math.prod(shape) == 0:
        ndim = -1  # no fans: a layout is pointless for an empty tensor
    recurrent = _recurrent_kind(module)
    norm = _norm_kind(module)

    def info(kind: str, roles: Iterable[str], slot: str | None = None, **kw: Any) -> ParamInfo:
        if ndim < 0:
            kw.pop("layout", None)
        return ParamInfo(name, shape, kind=kind, roles=roles, slot=slot or attr, **kw)

    if isinstance(module, nn.modules.linear.NonDynamicallyQuantizableLinear):
        # MultiheadAttention's out_proj: torch initializes its bias to zero.
        if attr == "weight" and ndim == 2:
            return info("multihead_attention", {"weight"}, "out_proj_weight", layout="dense_out_in")
        if attr == "bias":
            layer = _geometry_of(module, "weight", "dense_out_in")
            return info("multihead_attention", {"bias"}, "out_proj_bias", layer=layer)
    elif isinstance(module, nn.Linear):
        if attr == "weight" and ndim == 2:
            return info("linear", {"weight"}, layout="dense_out_in")
        if attr == "bias":
            return info("linear", {"bias"}, layer=_geometry_of(module, "weight", "dense_out_in"))
    elif isinstance(module, nn.modules.conv._ConvNd):
        transposed = isinstance(module, nn.modules.conv._ConvTransposeNd)
        kind = "conv_transpose" if transposed else "conv"
        layout = "conv_transpose_in_out" if transposed else "conv_out_in"
        groups = int(module.groups)
        if attr == "weight" and ndim >= 3:
            return info(kind, {"weight"}, layout=layout, groups=groups)
        if attr == "bias":
            return info(kind, {"bias"}, layer=_geometry_of(module, "weight", layout, groups))
    elif isinstance(module, (nn.Embedding, nn.EmbeddingBag)):
        if attr == "weight" and ndim == 2:
            return info("embedding", {"weight", "embedding"}, layout="embedding")
    elif recurrent is not None:
        match = _RNN_PARAMETER.match(attr)
        if match is not None:
            part, which, layer_index, reverse = match.groups()
            suffix = (layer_index or "") + (reverse or "")
            gates = RECURRENT_GATES[recurrent]
            # The layer's fans (for biases and torch's U(+-1/sqrt(hidden))): the recurrent
            # weight read per gate.
            layer = _geometry_of(module, f"weight_hh{suffix}", "recurrent_out_in", 1, gates)
            slot = f"{part}_{which}"
            if part == "bias":
                return info(recurrent, {"bias"}, slot, layer=layer)
            if ndim == 2:
                roles = {"weight"} if which == "ih" else {"weight", "recurrent"}
                if which == "hr":  # LSTM projection (proj_size, hidden): one matrix
                    return info(recurrent, roles, slot, layout="dense_out_in", layer=layer)
                blocks = gates if per_gate else 1
                return info(
                    recurrent, roles, slot, layout="recurrent_out_in", blocks=blocks, layer=layer
                )
    elif isinstance(module, nn.MultiheadAttention):
        if module.in_proj_weight is not None:
            layer = _geometry_of(module, "in_proj_weight", "dense_out_in", 1, 3)
        else:
            layer = _geometry_of(module, "q_proj_weight", "dense_out_in")
        if attr == "in_proj_weight" and ndim == 2:
            # Q, K and V stacked: three matrices (fans and orthogonality per block).
            return info("multihead_attention", {"weight"}, layout="dense_out_in", blocks=3)
        if attr in _MHA_PROJECTIONS and ndim == 2:
            return info("multihead_attention", {"weight"}, layout="dense_out_in", layer=layer)
        if attr in ("in_proj_bias", "bias_k", "bias_v"):
            return info("multihead_attention", {"bias"}, layer=layer)
    elif norm is not None:
        if attr == "weight":
            return info(norm, {"norm"})
        if attr == "bias":
            return info(norm, {"norm", "bias"})
    elif isinstance(module, nn.PReLU):
        if attr == "weight":
            return info("prelu", {"activation"})
    # Anything else: a weight matrix or kernel by its name and rank, a bias by its name, else
    # "other" (only a name pattern or a kind selects it).
    kind = "other"
    layout_by_rank = _by_rank(ndim)
    if attr.endswith("weight") and layout_by_rank is not None:
        return info(kind, {"weight"}, layout=layout_by_rank)
    if attr.endswith("bias"):
        weight = getattr(module, "weight", None)
        layer_layout = _by_rank(weight.ndim) if isinstance(weight, torch.Tensor) else None
        layer = None if layer_layout is None else _geometry_of(module, "weight", layer_layout)
        return info(kind, {"bias"}, layer=layer)
    return info(kind, {"other"}, layout=layout_by_rank)


@dataclass(frozen=True)
class _Entry:
    """A parameter found while walking a model."""

    name: str
    param: Tensor
    info: ParamInfo | None  # None for a lazy (shape-less) parameter
    padding_idx: int | None = None
    own: str | None = None  # torch's name, where ``names=`` gave a canonical one


def _entry_label(entry: _Entry) -> str:
    return f"{entry.name!r}" if entry.own is None else f"{entry.name!r} ({entry.own})"


def _entries(module: nn.Module, prefix: str, per_gate: bool) -> Iterator[_Entry]:
    """The direct parameters of ``module``, described."""
    for attr, param in module.named_parameters(recurse=False):
        name = f"{prefix}.{attr}" if prefix else attr
        if nn.parameter.is_lazy(param):
            yield _Entry(name, param, None)
            continue
        info = _param_info(module, attr, param, name, per_gate)
        padding = None
        if info.kind == "embedding" and attr == "weight":
            padding = getattr(module, "padding_idx", None)
        yield _Entry(name, param, info, padding)


def _walk(module: nn.Module, per_gate: bool) -> list[_Entry]:
    """Every parameter of ``module`` once (a shared one under its first name)."""
    if not isinstance(module, nn.Module):
        raise TypeError(
            f"initialize takes a torch.nn.Module. Received: module of type {type(module).__name__}"
        )
    seen: set[int] = set()
    entries = []
    for prefix, sub in module.named_modules():
        for entry in _entries(sub, prefix, per_gate):
            if id(entry.param) in seen:
                continue
            seen.add(id(entry.param))
            entries.append(entry)
    return entries


def describe(module: nn.Module, *, per_gate: bool = True) -> list[ParamInfo]:
    """How :func:`initialize` reads each parameter of ``module``: kind, roles, slot, layout.

    Lazy (not yet materialized) parameters are left out.
    """
    return [entry.info for entry in _walk(module, per_gate) if entry.info is not None]


# --------------------------------------------------------------------------------------------
# Whole models.

RulesLike = Scheme | Rules | Rule | Sequence[Rule]


def _as_rules(scheme_or_rules: RulesLike | None, profile: str | None) -> Rules:
    return as_rules(scheme_or_rules, profile)


def _fill_entry(
    entry: _Entry,
    assignment: Assignment,
    *,
    seed: int | None,
    key: str,
    generator: torch.Generator | None,
) -> None:
    info = entry.info
    assert info is not None and assignment.scheme is not None
    geometry = info.geometry
    try:
        _fill(
            "initialize",
            entry.param,
            assignment.scheme,
            generator=generator,
            seed=seed,
            key=key,
            layout=geometry.layout,
            groups=geometry.groups,
            blocks=assignment.blocks,  # 1 where the rule ignores the stacked blocks
            fan_convention=assignment.fan_convention,
            fans=assignment.fans,
        )
    except (TypeError, ValueError) as error:
        where = f"Parameter {_entry_label(entry)} (rule {assignment.rule_label})"
        raise type(error)(f"{where}: {error}") from error
    if entry.padding_idx is not None and not entry.param.is_meta:
        with torch.no_grad():
            entry.param[entry.padding_idx].fill_(0.0)


def _status(entry: _Entry, assignment: Assignment) -> str:
    if not assignment.matched:
        return "unmatched"
    if assignment.scheme is None:
        return "kept"
    return "meta" if entry.param.is_meta else "initialized"


def _lazy_row(entry: _Entry) -> ReportRow:
    return ReportRow(entry.name, (), "other", None, None, None, "-", None, "lazy", "-")


def _apply_names(module: nn.Module, entries: list[_Entry], names: Names | None) -> list[_Entry]:
    """``entries`` under the canonical names ``names`` gives (rules, report and keys use them)."""
    if names is None:
        return entries
    # A shared parameter may be named under any of its torch names (its walked one first).
    paths = {id(entry.param): [entry.name] for entry in entries}
    for name, param in module.named_parameters(remove_duplicate=False):
        own = paths.get(id(param))
        if own is not None and name not in own:
            own.append(name)
    renamed = []
    for entry, name in zip(entries, canonical_names(list(paths.values()), names), strict=True):
        if name != entry.name:
            info = None if entry.info is None else entry.info.renamed(name)
            entry = dataclasses.replace(entry, name=name, info=info, own=entry.name)
        renamed.append(entry)
    return renamed


def initialize(
    module: nn.Module,
    scheme_or_rules: RulesLike | None = None,
    *,
    seed: int | None = None,
    profile: str | None = None,
    generator: torch.Generator | None = None,
    strict: bool = False,
    per_gate: bool = True,
    fan_convention: str = "oneinit",
    dry_run: bool = False,
    names: Names | None = None,
) -> Report:
    """Initialize every parameter of ``module`` by rules; returns a :class:`Report`.

    Parameters
    ----------
    module
        Any ``torch.nn.Module``. Each parameter is read with its layer's layout: Linear,
        Conv (grouped, depthwise), ConvTranspose (its ``(in, out / groups, *k)`` storage, with
        correct fans), Embedding (the ``padding_idx`` row stays zero), RNN/LSTM/GRU and their
        cells (gates as blocks), MultiheadAttention (``in_proj_weight`` as three matrices; its
        ``out_proj`` bias is an attention bias), norms and PReLU.
    scheme_or_rules
        A scheme: weights get it, biases zeros, norm scales ones (``Rules.from_scheme``). Or a
        :class:`Rule`, a list of them, or :class:`Rules`: the first rule that matches a
        parameter (by role, layer kind, slot, name pattern or rank) gives its scheme.
    seed
        None: torch's RNG on each parameter's device. An int: portable values, each
        parameter keyed by its qualified name (``oneinit.key_from_name(name)``), or by its
        canonical name under ``names=``.
    profile
        ``"torch"``: torch's own default initialization of each layer kind, as a fallback after
        the rules (alone, it re-draws torch's defaults).
    generator
        torch RNG for ``seed=None``.
    strict
        Raise ``ValueError`` (before filling anything) if a parameter matches no rule or
        cannot be filled (meta or lazy). Otherwise such parameters are left as they are and
        listed in ``report.unmatched`` / ``report.unfilled``.
    per_gate
        Read stacked recurrent weights as one matrix per gate (fans, orthogonality); False
        reads the whole stacked matrix, as Keras does for orthogonal recurrent kernels.
    fan_convention
        ``"oneinit"`` or a framework's rule (``"torch"``) for every rule that names none.
    dry_run
        Plan and report without writing.
    names
        Canonical names: a mapping ``{torch name: canonical name}`` (it may name only existing
        parameters; a shared one under any of its names) or a callable ``torch name ->
        canonical name | None``. A canonical name replaces torch's everywhere: in what rules
        match (``Rule(name=...)``, ``regex=``), in the report, and as the portable key.
        Parameters it leaves out keep their torch names; two parameters may not share one.

    Meta tensors have no storage: they are reported (status ``"meta"``) and left; after
    ``module.to_empty(device=...)`` a second call fills them.

    Examples
    --------
    >>> import torch, oneinit
    >>> import oneinit.adapters.torch as oit
    >>> net = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.LayerNorm(16))
    >>> report = oit.initialize(net, oneinit.HeNormal(), seed=0)
    >>> print(report)
    name      shape    kind        layout        fans     scheme      std  rule
    0.weight  (16, 8)  linear      dense_out_in  (8, 16)  HeNormal()  0.5  #3 role=weight
    0.bias    (16,)    linear      -             -        Zeros()     0    #1 role=bias
    1.weight  (16,)    layer_norm  -             -        Ones()      0    #2 role=norm
    1.bias    (16,)    layer_norm  -             -        Zeros()     0    #1 role=bias
    4 parameters, 176 values: 4 initialized
    """
    rules = _as_rules(scheme_or_rules, profile)
    if seed is not None:
        Stream(seed, 0)  # validates
    entries = _apply_names(module, _walk(module, per_gate), names)
    plan: list[tuple[_Entry, Assignment | None]] = []
    for entry in entries:
        if entry.info is None:
            plan.append((entry, None))
        else:
            plan.append((entry, rules.assign(entry.info, fan_convention=fan_convention)))
    rows: list[ReportRow] = []
    for entry, assignment in plan:
        if assignment is None:
            rows.append(_lazy_row(entry))
            continue
        status = _status(entry, assignment)
        if dry_run and status == "initialized":
            status = "planned"
        rows.append(ReportRow.from_assignment(assignment, status))
    report = Report(tuple(rows))
    if strict and (report.unmatched or report.unfilled):
        problems = [
            f"{row.name} ({row.status})"
            for row in rows
            if row.status in ("unmatched", "meta", "lazy")
        ]
        raise ValueError(
            "initialize(strict=True) fills every parameter, but some matched no rule or "
            "cannot be filled (meta: call module.to_empty(device=...) first; lazy: run a "
            "forward pass first). Received: " + ", ".join(problems)
        )
    if dry_run:
        return report
    for (entry, assignment), row in zip(plan, rows, strict=True):
        if assignment is None or row.status != "initialized":
            continue
        _fill_entry(entry, assignment, seed=seed, key=entry.name, generator=generator)
    return report


class InitFn:
    """What :func:`init_fn` returns: ``fn(module)`` initializes the module's own parameters.

    ``net.apply(fn)`` calls it on every module. ``fn(module, name)`` (as timm's
    ``named_apply`` calls it) keys portable values by the qualified names, exactly as
    :func:`initialize` does; plain ``net.apply`` keys them by call order and class
    (``"Conv2d[0].weight"`` for the first module visited), so a fresh ``init_fn`` applied to a
    model built twice gives the same values, and one instance reused on a second model gives
    it new ones. Parameters no rule matches are left as they are; :attr:`report` lists what
    was done.
    """

    def __init__(
        self,
        rules: Rules,
        *,
        seed: int | None,
        generator: torch.Generator | None,
        per_gate: bool,
        fan_convention: str,
    ) -> None:
        self.rules = rules
        self.seed = seed
        self.generator = generator
        self.per_gate = per_gate
        self.fan_convention = fan_convention
        self._calls = 0
        self._rows: list[ReportRow] = []

    @property
    def report(self) -> Report:
        """Every parameter this function has seen so far."""
        return Report(tuple(self._rows))

    def __call__(self, module: nn.Module, name: str | None = None) -> None:
        call = self._calls
        self._calls += 1
        # Without a name, the module is known by its class and the order of the calls.
        prefix = name if name is not None else f"{type(module).__name__}[{call}]"
        for entry in _entries(module, prefix, self.per_gate):
            if entry.info is None:
                self._rows.append(_lazy_row(entry))
                continue
            assignment = self.rules.assign(entry.info, fan_convention=self.fan_convention)
            status = _status(entry, assignment)
            self._rows.append(ReportRow.from_assignment(assignment, status))
            if status != "initialized":
                continue
            _fill_entry(entry, assignment, seed=self.seed, key=entry.name, generator=self.generator)


def init_fn(
    weight: RulesLike | None = None,
    bias: Scheme | None = None,
    *,
    recurrent: Scheme | None = None,
    embedding: Scheme | None = None,
    norm_weight: Scheme | None = _ONES,
    norm_bias: Scheme | None = _ZEROS,
    profile: str | None = None,
    seed: int | None = None,
    generator: torch.Generator | None = None,
    per_gate: bool = True,
    fan_convention: str = "oneinit",
) -> InitFn:
    """A function for ``net.apply`` that initializes each module with its layer's layout.

    Parameters
    ----------
    weight
        Scheme of every weight (dense and conv kernels, recurrent weights, attention
        projections, embedding tables), or :class:`Rules` / a list of :class:`Rule` tried
        first.
    bias
        Scheme of the layers' biases (None: left as they are). Fan-based schemes use the fans
        of the layer's weight.
    recurrent, embedding
        Schemes for recurrent (hidden-to-hidden) weights and embedding tables instead of
        ``weight``.
    norm_weight, norm_bias
        Norm layers' scale and shift (default 1 and 0; None leaves them).
    profile
        ``"torch"``: torch's defaults for what the arguments above leave unset.
    seed, generator, per_gate, fan_convention
        As in :func:`initialize`.

    Examples
    --------
    >>> import torch, oneinit
    >>> import oneinit.adapters.torch as oit
    >>> net = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.ReLU(),
    ...                           torch.nn.ConvTranspose2d(8, 3, 3))
    >>> fn = oit.init_fn(oneinit.HeNormal(), bias=oneinit.Zeros())
    >>> _ = net.apply(fn)
    >>> [(row.name, row.fans.fan_in) for row in fn.report if row.fans is not None]
    [('Conv2d[0].weight', 27), ('ConvTranspose2d[2].weight', 72)]
    """
    rules = Rules()
    if isinstance(weight, (Rules, Rule, list, tuple)):
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
        if not isinstance(weight, Scheme):
            raise TypeError(
                "weight must be a oneinit scheme, a Rule, Rules or a list of Rule. "
                f"Received: weight={weight!r}"
            )
        rules = rules + Rule(weight, role="weight")
    if profile is not None:
        rules = rules + get_profile(profile)
    if seed is not None:
        Stream(seed, 0)  # validates
    return InitFn(
        rules, seed=seed, generator=generator, per_gate=per_gate, fan_convention=fan_convention
    )
