"""Portable counter-based random numbers: Philox4x32-10 and its float32 transforms.

Every value oneinit draws under a seed is a pure function of three integers, so any framework,
device or shard can compute it alone and get the same bits.

Specification
-------------
Inputs: a seed ``s`` and a stream key ``k`` (both ``0 <= x < 2**64``) and an element index ``i``
(the element's C-order position in the tensor's canonical layout).

1. **Bits.** Block ``j = i // 4`` and lane ``l = i % 4``. Philox4x32-10 (Salmon et al., SC'11;
   the Random123 reference, as in cuRAND, numpy and JAX) with the 64-bit key
   ``(s mod 2**32, s // 2**32)`` maps the 128-bit counter
   ``(j mod 2**32, j // 2**32, k mod 2**32, k // 2**32)`` to four 32-bit words; element ``i``
   takes word ``l``. Call it ``b``.
2. **Symmetric uniform.** ``t = (2 * (b >> 8) + 1 - 2**24) * 2**-24``: the odd multiples of
   ``2**-24`` in ``(-1, 1)``, 2**24 equally likely values, symmetric about 0, never 0 or +-1.
   It is exact in float32.
3. **Uniform(low, high)** is ``mid + half * t`` in float32 with ``mid = (low + high) / 2`` and
   ``half = (high - low) / 2``, then kept inside ``[low, high]`` (float32 rounding of
   ``mid + half * t`` can land one ulp outside; for ``low = -high``, the Glorot/He case, it
   never does and the value is exactly ``high * t``).
4. **Normal(mean, std)**, optionally truncated to ``[lower, upper]`` standard deviations, is an
   inverse-CDF transform, so one ``t`` gives one value and truncation is exact (no rejection, no
   clamping of the distribution):
   ``q = qmid + qhalf * t`` with ``qlo = Phi(lower) - 1/2``, ``qhi = Phi(upper) - 1/2``
   (``Phi`` the standard normal CDF, computed in float64 on the host and rounded to float32),
   ``z = PPND7(q + 1/2)``, value ``mean + std * z``. Untruncated, ``q = t / 2`` exactly, so
   ``|z| <= Phi^-1(1 - 2**-25) = 5.42``, the same tail reach as JAX's float32 normal.
   PPND7 is Wichura's algorithm AS 241 (Applied Statistics 37, 1988), single-precision version
   (relative error below 3.6e-7 here). Its logarithm is the Cephes ``logf`` polynomial on the
   mantissa, so the transform uses only ``+ - * /``, ``sqrt`` and exponent extraction: IEEE
   operations that round the same way everywhere. A truncated value is finally kept inside the
   float32 bounds, which only absorbs PPND7's approximation error at the bounds (below 4e-7 sigma).

Consequences: the same (seed, key) gives the same float32 bits under numpy 1.23 and 2.x, on any
CPU, and in any framework that implements these steps with its own integer and float32 ops; any
slice of a tensor generated alone equals that slice of the whole (``index`` below).

Everything here is written against the Python array API standard: ``xp`` is the array namespace
(numpy by default). Each kernel (Philox rounds, transforms) is written once: every operation that
makes a new array names a scratch buffer, which other namespaces ignore (they allocate) and a numpy
fill takes from its worker's workspace. Large numpy fills run in chunks of ``CHUNK`` elements on
a few threads, each with one workspace reused by all its chunks, so a fill allocates its float32
output and about 5 MiB per thread; per chunk, only the index array of the normal tails.
"""

from __future__ import annotations

import hashlib
import math
import operator
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._xp import Array, Namespace, astype, concat, permute_dims

__all__ = [
    "CHUNK",
    "NormalDistribution",
    "Stream",
    "UniformDistribution",
    "key_from_name",
    "philox4x32_10",
    "random_bits",
]

_MASK32 = 0xFFFFFFFF
_PHILOX_M0 = 0xD2511F53
_PHILOX_M1 = 0xCD9E8D57
_PHILOX_W0 = 0x9E3779B9  # golden ratio
_PHILOX_W1 = 0xBB67AE85  # sqrt(3) - 1

#: Elements generated per unit of work. Each numpy call then spans 2**16 Philox blocks (or
#: 2**18 values), long enough that threads seldom wait for each other's Python glue (with
#: 2**15-element chunks two threads ran slower than one) while a worker's workspace, about 20
#: bytes per element of a chunk, stays near 5 MiB.
CHUNK = 1 << 18
#: Below this many elements a numpy fill runs on the calling thread only.
_THREADED_MIN = 1 << 20


# --------------------------------------------------------------------------------------------
# Scratch space: one definition of each kernel, with or without reusable buffers.


class _Scratch:
    """Where a kernel puts the arrays it makes: here nowhere, so every operation allocates.

    Kernels pass ``out=scratch.get(name, dtype, count)`` to each operation that makes a new
    array, and ``out=scratch.reuse(array)`` to one that may overwrite its operand. This class
    answers ``None`` to both, which the operations below read as "return a new array": the
    right thing for any array namespace and any shape. :class:`_Workspace` answers with numpy
    buffers instead.
    """

    def get(self, name: str, dtype: Any, count: int) -> Array | None:
        return None

    def reuse(self, array: Array) -> Array | None:
        return None

    def take(self, count: int) -> Array | None:
        """A uint64 array of ``count`` elements for a Philox word, or None: allocate."""
        return None

    def give(self, array: Array) -> None:
        """Hand back an array from :meth:`take` that is no longer needed."""


_ALLOCATE = _Scratch()


class _Workspace(_Scratch):
    """One worker thread's numpy buffers, made on first use and reused by every chunk it fills.

    Allocating the temporaries of each chunk afresh hands tens of bytes per element back to the
    C allocator after every chunk; glibc returns such memory to the system, and faulting it in
    again cost more than the arithmetic on the (virtualized) machines we measured.

    Buffers are byte arrays by name, viewed as whatever dtype is asked for. The Philox words of
    a chunk (:meth:`take`) live in the buffers that the normal transform uses, "q", "r" and
    "den", two words per buffer: the words are dead once interleaved into the chunk's output,
    before any transform starts. A worker then holds about 20 bytes per element of a chunk.
    """

    _WORD_HOSTS = ("q", "r", "den")

    def __init__(self, elements: int) -> None:
        self._blocks = -(-elements // 4)
        # Buffers grow in steps of an eighth of a float32 chunk (in bytes), so that the
        # variable-size buffers of the normal tails are reallocated a few times at most.
        self._granule = 4 * (4 * self._blocks) // 8
        self._buffers: dict[str, np.ndarray] = {}
        self._arange = np.arange(0, dtype=np.uint64)
        self._words: list[np.ndarray] = []  # every Philox word buffer, each of _blocks words
        self._free_words: list[np.ndarray] = []
        self._lent: dict[int, np.ndarray] = {}  # id of an array from take() -> its word buffer

    def get(self, name: str, dtype: Any, count: int) -> np.ndarray:
        """``count`` elements of ``dtype`` in the buffer ``name`` (contents undefined)."""
        dtype = np.dtype(dtype)
        size = count * dtype.itemsize
        buffer = self._buffers.get(name)
        if buffer is None or buffer.shape[0] < size:
            capacity = -(-max(size, 1) // self._granule) * self._granule
            buffer = self._buffers[name] = np.empty(capacity, dtype=np.uint8)
        return buffer[:size].view(dtype)

    def reuse(self, array: Array) -> Array:
        return array

    def take(self, count: int) -> np.ndarray:
        if not self._free_words:
            hosts = len(self._WORD_HOSTS)
            index = len(self._words)
            if index < 2 * hosts:
                host = self.get(self._WORD_HOSTS[index // 2], np.uint64, 2 * self._blocks)
                word = host.reshape(2, self._blocks)[index % 2]
            else:
                word = np.empty(self._blocks, dtype=np.uint64)
            self._words.append(word)
            self._free_words.append(word)
        word = self._free_words.pop()
        lent = word[:count]
        self._lent[id(lent)] = word
        return lent

    def give(self, array: Array) -> None:
        self._free_words.append(self._lent.pop(id(array)))

    def release_words(self) -> None:
        """Hand back every Philox word buffer (a new chunk starts)."""
        self._free_words = list(self._words)
        self._lent.clear()

    def arange(self, count: int) -> np.ndarray:
        """``0 .. count - 1`` as uint64, computed once."""
        if self._arange.shape[0] < count:
            self._arange = np.arange(count, dtype=np.uint64)
        return self._arange[:count]


# Elementwise operations. ``out`` is a numpy buffer (write there, return it) or None (return a
# new array of the operands' namespace).


def _mul(a: Array, b: Array, out: Array | None) -> Array:
    return a * b if out is None else np.multiply(a, b, out=out)


def _sub(a: Array, b: Array, out: Array | None) -> Array:
    return a - b if out is None else np.subtract(a, b, out=out)


def _shift_right(a: Array, b: Array, out: Array | None) -> Array:
    return a >> b if out is None else np.right_shift(a, b, out=out)


def _negative(a: Array, out: Array | None) -> Array:
    return -a if out is None else np.negative(a, out=out)


def _abs(a: Array, xp: Namespace, out: Array | None) -> Array:
    return xp.abs(a) if out is None else np.abs(a, out=out)


def _sqrt(a: Array, xp: Namespace, out: Array | None) -> Array:
    return xp.sqrt(a) if out is None else np.sqrt(a, out=out)


def _copysign(a: Array, b: Array, xp: Namespace, out: Array | None) -> Array:
    return xp.copysign(a, b) if out is None else np.copysign(a, b, out=out)


def _bitwise_and(a: Array, b: Array, out: Array | None) -> Array:
    return a & b if out is None else np.bitwise_and(a, b, out=out)


def _astype(a: np.ndarray, dtype: Any, out: np.ndarray | None) -> np.ndarray:
    """numpy only: ``a`` converted to ``dtype``."""
    if out is None:
        return a.astype(dtype)
    np.copyto(out, a, casting="same_kind")
    return out


def _maximum(a: Array, b: Array, xp: Namespace, out: Array | None) -> Array:
    return xp.maximum(a, b) if out is None else np.maximum(a, b, out=out)


def _clip(a: Array, low: Array, high: Array, xp: Namespace, out: Array | None) -> Array:
    return xp.clip(a, low, high) if out is None else np.clip(a, low, high, out=out)


def _greater(a: Array, b: Array, out: Array | None) -> Array:
    return a > b if out is None else np.greater(a, b, out=out)


def _less_float32(a: Array, b: Array, xp: Namespace, out: Array | None) -> Array:
    """``a < b`` as float32 1.0 / 0.0."""
    return astype(a < b, xp.float32, xp) if out is None else np.less(a, b, out=out)


def _take(a: Array, index: Array, xp: Namespace, out: Array | None) -> Array:
    return xp.take(a, index) if out is None else np.take(a, index, out=out)


def _uint64(value: int, xp: Namespace) -> Array:
    return np.uint64(value) if xp is np else xp.asarray(value, dtype=xp.uint64)


def _float32(value: float | np.floating[Any], xp: Namespace) -> Array:
    return np.float32(value) if xp is np else xp.asarray(value, dtype=xp.float32)


# --------------------------------------------------------------------------------------------
# Philox4x32-10.


def philox4x32_10(
    counter: tuple[Array, Array, Array, Array], key: tuple[int, int], xp: Namespace = np
) -> tuple[Array, Array, Array, Array]:
    """Apply the Philox4x32-10 bijection to arrays of counters.

    Parameters
    ----------
    counter
        Four ``uint64`` arrays of one shape, each holding 32-bit words (values below 2**32).
        Using uint64 lets the 32x32-bit products be exact without any wrap-around.
    key
        The two 32-bit key words.
    xp
        Array namespace.

    Returns
    -------
    tuple of four uint64 arrays holding the 32-bit output words.
    """
    c0, c1, c2, c3 = (_copy_uint64(c, xp) for c in counter)
    return _philox_rounds((c0, c1, c2, c3), key, xp)


def _copy_uint64(x: Array, xp: Namespace) -> Array:
    """A uint64 copy that the rounds may overwrite (numpy 1.x ``asarray`` has no ``copy``)."""
    if xp is np:
        return np.array(x, dtype=np.uint64)
    return xp.asarray(x, dtype=xp.uint64, copy=True)


def _philox_rounds(
    counter: tuple[Array | int, Array | int, Array | int, Array | int],
    key: tuple[int, int],
    xp: Namespace,
    scratch: _Scratch = _ALLOCATE,
) -> tuple[Array, Array, Array, Array]:
    """Philox4x32-10 that overwrites its counter arrays.

    A word may also be a Python int, the same for every counter (the key words, and within a
    chunk the high block word): it stays an int for as long as the rounds allow, so that the
    first three rounds do 18 array operations instead of 30. Each array operation either
    updates an operand in place or takes a buffer from ``scratch``, and hands the buffer of a
    consumed operand back, so a workspace serves every chunk with five buffers.
    """
    k0, k1 = int(key[0]) & _MASK32, int(key[1]) & _MASK32
    c0, c1, c2, c3 = counter
    for _ in range(10):
        c0 = _word_mul(c0, _PHILOX_M0, xp)  # product p0
        c2 = _word_mul(c2, _PHILOX_M1, xp)  # product p1
        new0 = _word_xor3(_word_high(c2, xp, scratch), c1, k0, xp, scratch)
        new2 = _word_xor3(_word_high(c0, xp, scratch), c3, k1, xp, scratch)
        c0, c1, c2, c3 = new0, _word_low(c2, xp), new2, _word_low(c0, xp)
        k0 = (k0 + _PHILOX_W0) & _MASK32
        k1 = (k1 + _PHILOX_W1) & _MASK32
    return c0, c1, c2, c3


# Philox word operations on uint64 arrays holding 32-bit words, or on Python ints. Each
# consumes its operands: arrays are updated in place and returned.


def _word_mul(a: Array | int, factor: int, xp: Namespace) -> Array | int:
    """The exact 64-bit product (both factors are below 2**32)."""
    if isinstance(a, int):
        return a * factor
    a *= _uint64(factor, xp)
    return a


def _word_low(a: Array | int, xp: Namespace) -> Array | int:
    if isinstance(a, int):
        return a & _MASK32
    a &= _uint64(_MASK32, xp)
    return a


def _word_high(a: Array | int, xp: Namespace, scratch: _Scratch) -> Array | int:
    """``a >> 32`` into a new array (``a`` is still needed)."""
    if isinstance(a, int):
        return a >> 32
    return _shift_right(a, _uint64(32, xp), scratch.take(math.prod(a.shape)))


def _word_xor3(
    a: Array | int, b: Array | int, k: int, xp: Namespace, scratch: _Scratch
) -> Array | int:
    """``a ^ b ^ k``, combining Python ints first so that an int costs no array operation."""
    if isinstance(a, int):
        return _word_xor(a ^ k, b, xp, scratch)
    return _word_xor(a, _word_xor(b, k, xp, scratch), xp, scratch)


def _word_xor(a: Array | int, b: Array | int, xp: Namespace, scratch: _Scratch) -> Array | int:
    if isinstance(a, int):
        if isinstance(b, int):
            return a ^ b
        a, b = b, a
    if isinstance(b, int):
        a ^= _uint64(b, xp)
        return a
    a ^= b
    scratch.give(b)
    return a


def _check_word64(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int. Received: {name}={value!r}")
    if not 0 <= int(value) < 2**64:
        raise ValueError(f"{name} must satisfy 0 <= {name} < 2**64. Received: {name}={value}")
    return int(value)


def _block_words(
    seed: int, key: int, block: Array, xp: Namespace, scratch: _Scratch = _ALLOCATE
) -> tuple[Array, Array, Array, Array]:
    """The four Philox words of each block index in the uint64 array ``block`` (overwritten)."""
    high = _shift_right(block, _uint64(32, xp), scratch.take(math.prod(block.shape)))
    block &= _uint64(_MASK32, xp)
    return _philox_blocks(seed, key, block, high, xp, scratch)


def _philox_blocks(
    seed: int, key: int, low: Array, high: Array | int, xp: Namespace, scratch: _Scratch
) -> tuple[Array, Array, Array, Array]:
    """Step 1 of the specification for blocks ``j = low + 2**32 * high`` (``low`` overwritten)."""
    seed, key = int(seed), int(key)  # Python ints, also for numpy integer seeds and keys
    counter = (low, high, key & _MASK32, key >> 32)
    return _philox_rounds(counter, (seed & _MASK32, seed >> 32), xp, scratch)


def _contiguous(
    seed: int, key: int, start: int, count: int, transform: Callable[[Array], Array], xp: Namespace
) -> Array:
    """``transform`` applied to the words of elements ``start .. start + count - 1``, in order.

    The transform runs lane-major on the ``(4, blocks)`` words; the interleave to element order
    happens once, on its result.
    """
    first, last = start // 4, (start + count + 3) // 4
    words = xp.stack(_block_words(seed, key, xp.arange(first, last, dtype=xp.uint64), xp))
    values = xp.reshape(permute_dims(transform(words), (1, 0), xp), (-1,))
    offset = start - 4 * first
    return values[offset : offset + count]


def random_bits(
    seed: int, key: int, index: Array | tuple[int, int], xp: Namespace = np
) -> Array:
    """The 32-bit words ``b(seed, key, i)`` for element indices ``i``, as uint64.

    ``index`` is either an integer array of element indices (any shape; the result has that
    shape) or a contiguous range ``(start, count)``, which computes each Philox block once.
    """
    seed = _check_word64("seed", seed)
    key = _check_word64("key", key)
    if isinstance(index, tuple):
        start, count = index
        return _contiguous(seed, key, start, count, lambda words: words, xp)
    index = astype(index, xp.uint64, xp)
    words = _block_words(seed, key, index >> xp.asarray(2, dtype=xp.uint64), xp)
    lane = index & xp.asarray(3, dtype=xp.uint64)
    out = words[3]
    for j in (2, 1, 0):
        out = xp.where(lane == xp.asarray(j, dtype=xp.uint64), words[j], out)
    return out


def symmetric_uniform(bits: Array, xp: Namespace = np) -> Array:
    """float32 ``t = (2 * (b >> 8) + 1 - 2**24) * 2**-24`` in (-1, 1), exact (step 2 above)."""
    return _symmetric(_top24(bits, xp), 1.0, xp, None)


def _top24(bits: Array, xp: Namespace) -> Array:
    """``b >> 8`` as float32 (exact: below 2**24)."""
    return astype(bits >> xp.asarray(8, dtype=bits.dtype), xp.float32, xp)


def _symmetric(top: Array, scale: float, xp: Namespace, out: Array | None) -> Array:
    """``scale * t`` from float32 ``top = b >> 8``; exact for ``scale`` a power of two.

    ``top * (2**-23 * scale)`` only changes the exponent of an integer below 2**24, and the
    difference with ``(1 - 2**-24) * scale`` is representable, so neither step rounds.
    """
    t = _mul(top, _float32(2.0**-23 * scale, xp), out)
    t -= _float32((1.0 - 2.0**-24) * scale, xp)
    return t


# --------------------------------------------------------------------------------------------
# The inverse normal CDF in float32 basic operations.

# AS 241 PPND7 coefficients, highest degree last.
_PPND7_CENTRAL_NUM = (3.3871327179, 50.434271938, 159.29113202, 59.109374720)
_PPND7_CENTRAL_DEN = (1.0, 17.895169469, 78.757757664, 67.187563600)
_PPND7_TAIL_NUM = (1.4234372777, 2.7568153900, 1.3067284816, 0.17023821103)
_PPND7_TAIL_DEN = (1.0, 0.73700164250, 0.12021132975)
# Cephes logf: log(1 + x) = x - x**2 / 2 + x**3 * P(x) for sqrt(1/2) <= 1 + x < sqrt(2).
_LOGF_P = (
    3.3333331174e-1,
    -2.4999993993e-1,
    2.0000714765e-1,
    -1.6668057665e-1,
    1.4249322787e-1,
    -1.2420140846e-1,
    1.1676998740e-1,
    -1.1514610310e-1,
    7.0376836292e-2,
)
_LN2_HIGH = 0.693359375  # ln 2 split so that exponent * _LN2_HIGH is exact in float32
_LN2_LOW = -2.12194440e-4


def _polynomial(
    coefficients: tuple[float, ...], x: Array, xp: Namespace, out: Array | None
) -> Array:
    """Horner evaluation in float32, lowest-degree coefficient first."""
    acc = _mul(x, _float32(coefficients[-1], xp), out)
    acc += _float32(coefficients[-2], xp)
    for c in reversed(coefficients[:-2]):
        acc *= x
        acc += _float32(c, xp)
    return acc


def _frexp(v: Array, xp: Namespace, scratch: _Scratch) -> tuple[Array, Array]:
    """Mantissa in [0.5, 1) and exponent (float32) of positive normal float32 ``v``, exactly."""
    count = math.prod(v.shape)
    if xp is np:
        # From the IEEE layout, as np.frexp would give but in a quarter of its time: a positive
        # normal v has bits (exponent + 126) << 23 | fraction, and its mantissa is the fraction
        # under the biased exponent 126.
        # With a workspace the exponent overwrites v.
        bits = v.view(np.int32)
        fraction = _bitwise_and(
            bits, np.int32(0x007FFFFF), scratch.get("log_mantissa", np.int32, count)
        )
        fraction |= np.int32(0x3F000000)
        biased = _shift_right(bits, np.int32(23), scratch.reuse(bits))
        biased -= np.int32(126)
        return fraction.view(np.float32), _astype(biased, np.float32, scratch.reuse(v))
    # The array API has no frexp: scale by powers of two (exact) by binary search on the
    # exponent. v lies in [2**-64, 1] here.
    exponent = xp.zeros(v.shape, dtype=xp.float32)
    for step in (32, 16, 8, 4, 2, 1):
        small = v < xp.asarray(2.0**-step, dtype=xp.float32)
        v = xp.where(small, v * xp.asarray(2.0**step, dtype=xp.float32), v)
        step_size = xp.asarray(float(step), dtype=xp.float32)
        exponent = exponent - astype(small, xp.float32, xp) * step_size
    # Now v is in [0.5, 1] ... except v == 1 exactly, which frexp writes as 0.5 * 2**1.
    one = v == xp.asarray(1.0, dtype=xp.float32)
    v = xp.where(one, xp.asarray(0.5, dtype=xp.float32), v)
    exponent = xp.where(one, exponent + 1, exponent)
    return v, exponent


def _log(v: Array, xp: Namespace, scratch: _Scratch) -> Array:
    """Natural log of positive normal float32 ``v`` from basic operations (Cephes logf)."""
    count = math.prod(v.shape)
    mantissa, exponent = _frexp(v, xp, scratch)
    # Below sqrt(1/2) the mantissa doubles and the exponent drops by one; with small = 1.0 or
    # 0.0, mantissa * (small + 1) and exponent - small do exactly that.
    small = _less_float32(
        mantissa, _float32(0.70710677, xp), xp, scratch.get("log_small", np.float32, count)
    )
    exponent -= small
    small += _float32(1.0, xp)
    mantissa *= small
    x = _sub(mantissa, _float32(1.0, xp), scratch.reuse(mantissa))
    z = _mul(x, x, scratch.get("log_square", np.float32, count))
    y = _polynomial(_LOGF_P, x, xp, scratch.get("log_poly", np.float32, count))
    y *= x
    y *= z
    y += _mul(exponent, _float32(_LN2_LOW, xp), scratch.get("log_small", np.float32, count))
    z *= _float32(0.5, xp)
    y -= z
    x += y
    exponent *= _float32(_LN2_HIGH, xp)
    x += exponent
    return x


def _rational(
    num: tuple[float, ...],
    den: tuple[float, ...],
    r: Array,
    xp: Namespace,
    out: Array | None,
    spare: Array | None,
) -> Array:
    """``num(r) / den(r)`` into ``out``, with ``spare`` for the denominator."""
    ratio = _polynomial(num, r, xp, out)
    ratio /= _polynomial(den, r, xp, spare)
    return ratio


def normal_quantile(q: Array, xp: Namespace = np) -> Array:
    """``Phi^-1(q + 1/2)`` for float32 ``q`` in (-1/2, 1/2): AS 241 PPND7 in float32.

    Taking ``q = p - 1/2`` rather than ``p`` keeps full relative precision in both tails.
    ``|q|`` is held to at most ``1/2 - 2**-25``, the largest a 24-bit uniform gives, so
    ``|z| <= 5.42`` and PPND7's third region (``|z| > 5.3`` sigma... beyond ``r > 5``) is never
    reached.
    """
    return _normal_quantile(q, xp, _ALLOCATE, None)


def _normal_quantile(q: Array, xp: Namespace, scratch: _Scratch, out: Array | None) -> Array:
    """:func:`normal_quantile` into ``out``, its intermediates in ``scratch``.

    Workspace buffers: "r" and "den" (full size), "log_*" (tails only).
    """
    shape = q.shape
    q = xp.reshape(q, (-1,))
    count = q.shape[0]
    r = _mul(q, q, scratch.get("r", np.float32, count))
    r = _sub(_float32(0.180625, xp), r, scratch.reuse(r))
    z = _rational(
        _PPND7_CENTRAL_NUM, _PPND7_CENTRAL_DEN, r, xp, out, scratch.get("den", np.float32, count)
    )
    z *= q
    # The tails (|q| > 0.425, 15% of values) are compacted so that their longer formula runs
    # on them alone. "r" and "den" are free again.
    magnitude = _abs(q, xp, scratch.get("r", np.float32, count))
    tail = _greater(magnitude, _float32(0.425, xp), scratch.get("den", np.bool_, count))
    (where,) = xp.nonzero(tail)
    tails = where.shape[0]
    if tails == 0:
        return xp.reshape(z, shape)
    q_tail = _take(q, where, xp, scratch.get("r", np.float32, tails))
    distance = _abs(q_tail, xp, scratch.get("den", np.float32, tails))
    distance = _sub(_float32(0.5, xp), distance, scratch.reuse(distance))  # min(p, 1 - p), exact
    distance = _maximum(distance, _float32(2.0**-25, xp), xp, scratch.reuse(distance))
    r = _log(distance, xp, scratch)
    r = _negative(r, scratch.reuse(r))
    r = _sqrt(r, xp, scratch.reuse(r))
    r -= _float32(1.6, xp)
    value = _rational(
        _PPND7_TAIL_NUM,
        _PPND7_TAIL_DEN,
        r,
        xp,
        scratch.get("log_small", np.float32, tails),
        scratch.get("log_square", np.float32, tails),
    )
    value = _copysign(value, q_tail, xp, scratch.reuse(value))  # value > 0: times sign(q)
    if xp is np:
        z[where] = value  # integer scatter: twice as fast as a boolean one
    else:
        z[tail] = value
    return xp.reshape(z, shape)


# --------------------------------------------------------------------------------------------
# Distributions: the exact numbers a native fill needs, and the portable transform.


def _float32_inward(value: float, toward: float) -> np.float32:
    """``value`` rounded to float32, moved one step toward ``toward`` if rounding moved it out."""
    rounded: np.float32 = np.float32(value)
    if (toward > value and float(rounded) < value) or (toward < value and float(rounded) > value):
        rounded = np.nextafter(rounded, np.float32(toward), dtype=np.float32)
    return rounded


@dataclass(frozen=True)
class UniformDistribution:
    """U(low, high). ``low`` and ``high`` are values (absolute units)."""

    low: float
    high: float

    @property
    def std(self) -> float:
        """Standard deviation ``(high - low) / sqrt(12)``."""
        return (self.high - self.low) / math.sqrt(12.0)

    @property
    def mean(self) -> float:
        return (self.low + self.high) / 2.0

    def from_bits(self, bits: Array, xp: Namespace = np) -> Array:
        """float32 values from Philox words (step 3 of the module specification)."""
        return _uniform_values(self, _top24(bits, xp), xp, None)


def _uniform_values(
    dist: UniformDistribution, top: Array, xp: Namespace, out: Array | None
) -> Array:
    """Step 3 from ``top = b >> 8`` (see :func:`_symmetric`), into ``out`` when given."""
    half = (dist.high - dist.low) / 2.0
    mid = (dist.high + dist.low) / 2.0
    value = _symmetric(top, 1.0, xp, out)
    if np.float32(half) != 1.0:  # multiplying by 1 changes nothing
        value *= _float32(half, xp)
    if mid == 0.0:
        return value
    value += _float32(mid, xp)
    low = _float32_inward(dist.low, dist.high)
    high = _float32_inward(dist.high, dist.low)
    if xp is np:
        return _clip(value, low, high, xp, out)
    return xp.clip(value, xp.asarray(low), xp.asarray(high))


@dataclass(frozen=True)
class NormalDistribution:
    """N(mean, std**2), optionally truncated to ``[lower, upper]`` in **standard deviations**.

    ``lower``/``upper`` are in sigma units (``-inf``/``inf`` for no truncation); the absolute
    bounds are :attr:`low` and :attr:`high`. ``std`` is the std of the *untruncated* parent; the
    std of the values themselves is :attr:`actual_std`.
    """

    mean: float
    std: float
    lower: float = -math.inf
    upper: float = math.inf

    @property
    def truncated(self) -> bool:
        return math.isfinite(self.lower) or math.isfinite(self.upper)

    @property
    def low(self) -> float:
        """Lower bound in value units (``-inf`` when untruncated)."""
        return self.mean + self.std * self.lower if math.isfinite(self.lower) else -math.inf

    @property
    def high(self) -> float:
        """Upper bound in value units (``inf`` when untruncated)."""
        return self.mean + self.std * self.upper if math.isfinite(self.upper) else math.inf

    @property
    def actual_std(self) -> float:
        """Standard deviation of the (possibly truncated) distribution."""
        return self.std * truncated_standard_normal_std(self.lower, self.upper)

    @property
    def actual_mean(self) -> float:
        a, b = self.lower, self.upper
        mass = _phi_cdf(b) - _phi_cdf(a)
        return self.mean + self.std * (_phi_pdf(a) - _phi_pdf(b)) / mass

    def from_bits(self, bits: Array, xp: Namespace = np) -> Array:
        """float32 values from Philox words (step 4 of the module specification)."""
        return _normal_values(self, _top24(bits, xp), xp, _ALLOCATE, None)


def _normal_values(
    dist: NormalDistribution, top: Array, xp: Namespace, scratch: _Scratch, out: Array | None
) -> Array:
    """Step 4 from ``top = b >> 8`` (see :func:`_symmetric`), into ``out`` when given."""
    count = math.prod(top.shape)
    if dist.truncated:
        q_low, q_high = _phi_cdf_centered(dist.lower), _phi_cdf_centered(dist.upper)
        q = _symmetric(top, 1.0, xp, scratch.get("q", np.float32, count))
        q *= _float32((q_high - q_low) / 2.0, xp)
        q += _float32((q_high + q_low) / 2.0, xp)
    else:
        q = _symmetric(top, 0.5, xp, scratch.get("q", np.float32, count))  # t / 2, exactly
    value = _normal_quantile(q, xp, scratch, out)
    if np.float32(dist.std) != 1.0:  # multiplying by 1 changes nothing
        value *= _float32(dist.std, xp)
    if dist.mean != 0.0:
        value += _float32(dist.mean, xp)
    if dist.truncated:
        low = _float32_inward(dist.low, dist.mean) if math.isfinite(dist.low) else -np.inf
        high = _float32_inward(dist.high, dist.mean) if math.isfinite(dist.high) else np.inf
        value = _clip(value, _float32(low, xp), _float32(high, xp), xp, out)
    return value


Distribution = UniformDistribution | NormalDistribution


def _transform(
    dist: Distribution, top: Array, xp: Namespace, scratch: _Scratch, out: Array | None
) -> Array:
    if isinstance(dist, UniformDistribution):
        return _uniform_values(dist, top, xp, out)
    return _normal_values(dist, top, xp, scratch, out)


def _phi_cdf(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def _phi_cdf_centered(x: float) -> float:
    """``Phi(x) - 1/2`` without cancellation."""
    return 0.5 * math.erf(x / math.sqrt(2.0))


def _phi_pdf(x: float) -> float:
    return math.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi) if math.isfinite(x) else 0.0


def truncated_standard_normal_std(lower: float, upper: float) -> float:
    """Std of N(0, 1) restricted to ``[lower, upper]``: 0.87962566103423978 for [-2, 2]."""
    mass = _phi_cdf(upper) - _phi_cdf(lower)
    la = lower * _phi_pdf(lower) if math.isfinite(lower) else 0.0
    ub = upper * _phi_pdf(upper) if math.isfinite(upper) else 0.0
    mean = (_phi_pdf(lower) - _phi_pdf(upper)) / mass
    return math.sqrt(1.0 + (la - ub) / mass - mean * mean)



# --------------------------------------------------------------------------------------------
# Streams: a seed and a key, and chunked sampling.


def key_from_name(name: str) -> int:
    """A 64-bit stream key from a name: the first 8 bytes of BLAKE2b(name), little-endian.

    Parameters take their key from their canonical name, so inserting a layer does not change
    the values of the others.
    """
    return int.from_bytes(hashlib.blake2b(name.encode("utf-8"), digest_size=8).digest(), "little")


def _num_threads() -> int:
    env = os.environ.get("ONEINIT_NUM_THREADS")
    if env:
        return max(1, int(env))
    return max(1, min(os.cpu_count() or 1, 8))


@dataclass(frozen=True)
class Stream:
    """A portable random stream: the values of element ``i`` depend only on (seed, key, i)."""

    seed: int
    key: int = 0

    def __post_init__(self) -> None:
        _check_word64("seed", self.seed)
        _check_word64("key", self.key)

    def child(self, label: str | int) -> Stream:
        """An independent stream derived from this one (same seed, key hashed with ``label``)."""
        return Stream(self.seed, key_from_name(f"{self.key}/{label}"))

    def bits(self, index: Array | tuple[int, int], xp: Namespace = np) -> Array:
        return random_bits(self.seed, self.key, index, xp)

    def sample(
        self,
        distribution: Distribution,
        shape: tuple[int, ...],
        *,
        offset: int = 0,
        xp: Namespace = np,
        out: np.ndarray | None = None,
    ) -> Array:
        """float32 array of ``shape``: element ``i`` (C order) is value ``offset + i``.

        numpy fills run chunk by chunk (and on several threads when large) straight into the
        output, or into ``out`` (a C-contiguous numpy array of ``shape``, e.g. the memory of a
        CPU tensor; any float dtype) when given. Other namespaces concatenate chunks.
        """
        count = math.prod(shape)
        if out is not None:
            if tuple(out.shape) != tuple(shape) or not out.flags.c_contiguous:
                raise ValueError(
                    "out must be a C-contiguous array of the requested shape. "
                    f"Received: out.shape={tuple(out.shape)}, shape={tuple(shape)}"
                )
            self._fill_numpy(distribution, out.reshape(-1), offset)
            return out
        if xp is np:
            flat = np.empty(count, dtype=np.float32)
            self._fill_numpy(distribution, flat, offset)
            return flat.reshape(shape)
        chunks = [
            self._values(distribution, offset + a, min(CHUNK, count - a), xp)
            for a in range(0, count, CHUNK)
        ]
        flat = concat(chunks, 0, xp) if chunks else xp.zeros((0,), dtype=xp.float32)
        return xp.reshape(flat, shape)

    def sample_at(
        self, distribution: Distribution, index: Array, xp: Namespace = np
    ) -> Array:
        """float32 values of the elements with the given flat indices (any shape)."""
        return distribution.from_bits(self.bits(index, xp), xp)

    def _values(
        self, distribution: Distribution, start: int, count: int, xp: Namespace
    ) -> Array:
        return _contiguous(
            self.seed, self.key, start, count, lambda bits: distribution.from_bits(bits, xp), xp
        )

    def _fill_numpy(self, distribution: Distribution, out: np.ndarray, offset: int) -> None:
        _fill_numpy(self.seed, self.key, distribution, out, offset)


def _fill_numpy(
    seed: int, key: int, distribution: Distribution, out: np.ndarray, offset: int
) -> None:
    """Write elements ``offset .. offset + len(out) - 1`` into the 1-d array ``out``.

    Work is split into chunks of ``CHUNK // 4`` whole Philox blocks; ``threads`` workers take
    chunks in turn, each with its own :class:`_Workspace`.
    """
    count = out.shape[0]
    if count == 0:
        return
    offset = operator.index(offset)  # a Python int, also for numpy integers
    first, last = offset // 4, (offset + count + 3) // 4
    step = CHUNK // 4
    pending = iter(range(first, last, step))
    lock = threading.Lock()

    def work() -> None:
        workspace = _Workspace(4 * step)
        while True:
            with lock:
                start = next(pending, None)
            if start is None:
                return
            _fill_blocks(
                seed, key, distribution, start, min(start + step, last), out, offset, workspace
            )

    threads = 1 if count < _THREADED_MIN else min(_num_threads(), -(-(last - first) // step))
    if threads == 1:
        work()
        return
    with ThreadPoolExecutor(max_workers=threads - 1) as pool:
        helpers = [pool.submit(work) for _ in range(threads - 1)]
        work()
        for helper in helpers:
            helper.result()


def _fill_blocks(
    seed: int,
    key: int,
    distribution: Distribution,
    first: int,
    last: int,
    out: np.ndarray,
    offset: int,
    workspace: _Workspace,
) -> None:
    """The elements of Philox blocks ``first .. last - 1`` that fall inside ``out``."""
    blocks = last - first
    workspace.release_words()
    if first >> 32 == (last - 1) >> 32:  # the high word of the block index is one int
        low = workspace.take(blocks)
        np.add(workspace.arange(blocks), np.uint64(first & _MASK32), out=low)
        words = _philox_blocks(seed, key, low, first >> 32, np, workspace)
    else:
        block = np.add(workspace.arange(blocks), np.uint64(first), out=workspace.take(blocks))
        words = _block_words(seed, key, block, np, workspace)
    begin = 4 * first - offset  # position in `out` of the first element of block `first`
    end = begin + 4 * blocks
    direct = 0 <= begin and end <= out.shape[0] and out.dtype == np.float32
    values = out[begin:end] if direct else workspace.get("values", np.float32, 4 * blocks)
    # The words, interleaved into element order as uint32 in the memory of `values`; then
    # b >> 8 there, and its conversion to float32 there (exact: below 2**24; np.copyto
    # converts in place without a temporary).
    bits = values.view(np.uint32)
    lanes = bits.reshape(blocks, 4)
    for lane, word in enumerate(words):
        np.copyto(lanes[:, lane], word, casting="unsafe")  # 32-bit words: nothing is lost
    bits >>= np.uint32(8)
    np.copyto(values, bits.view(np.int32), casting="same_kind")
    _transform(distribution, values, np, workspace, values)
    if direct:
        return
    inside = slice(max(begin, 0), min(end, out.shape[0]))
    out[inside] = values[inside.start - begin : inside.stop - begin]
