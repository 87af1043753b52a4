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
(numpy by default). Large numpy fills run in chunks of ``CHUNK`` elements on a thread pool, so
the only full-size allocation is the float32 output.
"""

from __future__ import annotations

import hashlib
import math
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

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

#: Elements generated per unit of work: big enough to amortize numpy's per-call overhead
#: (2**13 runs at half speed), small enough that temporaries stay a few MiB per thread.
CHUNK = 1 << 17
#: Below this many elements a numpy fill runs on the calling thread only.
_THREADED_MIN = 1 << 20


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
    c0, c1, c2, c3 = (xp.asarray(c, dtype=xp.uint64, copy=True) for c in counter)
    words = (c0, c1, c2, c3)
    return _philox_rounds(words, key, xp)


def _philox_rounds(
    counter: tuple[Array, Array, Array, Array], key: tuple[int, int], xp: Namespace
) -> tuple[Array, Array, Array, Array]:
    """Philox4x32-10 that overwrites its counter arrays (numpy allocates nothing per round)."""
    k0, k1 = key[0] & _MASK32, key[1] & _MASK32
    m0 = xp.asarray(_PHILOX_M0, dtype=xp.uint64)
    m1 = xp.asarray(_PHILOX_M1, dtype=xp.uint64)
    low = xp.asarray(_MASK32, dtype=xp.uint64)
    c0, c1, c2, c3 = counter
    spare0, spare1 = xp.empty_like(c0), xp.empty_like(c0)
    for _ in range(10):
        c0 *= m0  # product p0
        c2 *= m1  # product p1
        new0 = _high_words(c2, spare0, xp)
        new0 ^= c1
        new0 ^= xp.asarray(k0, dtype=xp.uint64)
        new2 = _high_words(c0, spare1, xp)
        new2 ^= c3
        new2 ^= xp.asarray(k1, dtype=xp.uint64)
        c2 &= low
        c0 &= low
        (c0, c1, c2, c3), (spare0, spare1) = (new0, c2, new2, c0), (c1, c3)
        k0 = (k0 + _PHILOX_W0) & _MASK32
        k1 = (k1 + _PHILOX_W1) & _MASK32
    return c0, c1, c2, c3


def _high_words(product: Array, spare: Array, xp: Namespace) -> Array:
    """``product >> 32``, written into ``spare`` when the namespace allows (numpy)."""
    if xp is np:
        return np.right_shift(product, np.uint64(32), out=spare)
    return product >> xp.asarray(32, dtype=xp.uint64)


def _check_word64(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int. Received: {name}={value!r}")
    if not 0 <= int(value) < 2**64:
        raise ValueError(f"{name} must satisfy 0 <= {name} < 2**64. Received: {name}={value}")
    return int(value)


def _block_words(seed: int, key: int, block: Array, xp: Namespace) -> Array:
    """The four Philox words of each block index in ``block``, stacked as ``(4, *block.shape)``."""
    low = xp.asarray(_MASK32, dtype=xp.uint64)
    counter = (
        block & low,
        block >> xp.asarray(32, dtype=xp.uint64),
        xp.full(block.shape, key & _MASK32, dtype=xp.uint64),
        xp.full(block.shape, key >> 32, dtype=xp.uint64),
    )
    return xp.stack(_philox_rounds(counter, (seed & _MASK32, seed >> 32), xp))


def _contiguous(
    seed: int, key: int, start: int, count: int, transform: Callable[[Array], Array], xp: Namespace
) -> Array:
    """``transform`` applied to the words of elements ``start .. start + count - 1``, in order.

    The transform runs lane-major on the ``(4, blocks)`` words; the interleave to element order
    happens once, on its result.
    """
    first, last = start // 4, (start + count + 3) // 4
    words = _block_words(seed, key, xp.arange(first, last, dtype=xp.uint64), xp)
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
    out = words[3, ...]
    for j in (2, 1, 0):
        out = xp.where(lane == xp.asarray(j, dtype=xp.uint64), words[j, ...], out)
    return out


def symmetric_uniform(bits: Array, xp: Namespace = np) -> Array:
    """float32 ``t = (2 * (b >> 8) + 1 - 2**24) * 2**-24`` in (-1, 1), exact (step 2 above)."""
    top24 = astype(bits >> xp.asarray(8, dtype=bits.dtype), xp.float32, xp)
    return top24 * xp.asarray(2.0**-23, dtype=xp.float32) - xp.asarray(
        1.0 - 2.0**-24, dtype=xp.float32
    )


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


def _polynomial(coefficients: tuple[float, ...], x: Array, xp: Namespace) -> Array:
    """Horner evaluation in float32, lowest-degree coefficient first."""
    acc = x * xp.asarray(coefficients[-1], dtype=xp.float32)
    acc += xp.asarray(coefficients[-2], dtype=xp.float32)
    for c in reversed(coefficients[:-2]):
        acc *= x
        acc += xp.asarray(c, dtype=xp.float32)
    return acc


def _frexp(v: Array, xp: Namespace) -> tuple[Array, Array]:
    """Mantissa in [0.5, 1) and exponent (float32) of positive normal float32 ``v``, exactly."""
    if xp is np:
        mantissa, exponent = np.frexp(v)
        return mantissa, exponent.astype(np.float32)
    # The array API has no frexp: scale by powers of two (exact) by binary search on the
    # exponent. v lies in [2**-64, 1] here.
    exponent = xp.zeros(v.shape, dtype=xp.float32)
    for step in (32, 16, 8, 4, 2, 1):
        small = v < xp.asarray(2.0**-step, dtype=xp.float32)
        v = xp.where(small, v * xp.asarray(2.0**step, dtype=xp.float32), v)
        exponent = exponent - astype(small, xp.float32, xp) * xp.asarray(float(step), dtype=xp.float32)
    # Now v is in [0.5, 1] ... except v == 1 exactly, which frexp writes as 0.5 * 2**1.
    one = v == xp.asarray(1.0, dtype=xp.float32)
    v = xp.where(one, xp.asarray(0.5, dtype=xp.float32), v)
    exponent = xp.where(one, exponent + 1, exponent)
    return v, exponent


def _log(v: Array, xp: Namespace) -> Array:
    """Natural log of positive float32 ``v`` from basic operations (Cephes logf)."""
    mantissa, exponent = _frexp(v, xp)
    small = mantissa < xp.asarray(0.70710677, dtype=xp.float32)
    mantissa = xp.where(small, mantissa + mantissa, mantissa)
    exponent = exponent - astype(small, xp.float32, xp)
    x = mantissa - xp.asarray(1.0, dtype=xp.float32)
    z = x * x
    y = _polynomial(_LOGF_P, x, xp) * x * z
    y = y + exponent * xp.asarray(_LN2_LOW, dtype=xp.float32)
    y = y - xp.asarray(0.5, dtype=xp.float32) * z
    return x + y + exponent * xp.asarray(_LN2_HIGH, dtype=xp.float32)


def _rational(num: tuple[float, ...], den: tuple[float, ...], r: Array, xp: Namespace) -> Array:
    return _polynomial(num, r, xp) / _polynomial(den, r, xp)


def normal_quantile(q: Array, xp: Namespace = np) -> Array:
    """``Phi^-1(q + 1/2)`` for float32 ``q`` in (-1/2, 1/2): AS 241 PPND7 in float32.

    Taking ``q = p - 1/2`` rather than ``p`` keeps full relative precision in both tails.
    ``|q|`` is held to at most ``1/2 - 2**-25``, the largest a 24-bit uniform gives, so
    ``|z| <= 5.42`` and PPND7's third region (``|z| > 5.3`` sigma... beyond ``r > 5``) is never
    reached.
    """
    shape = q.shape
    q = xp.reshape(q, (-1,))
    r = xp.asarray(0.180625, dtype=xp.float32) - q * q
    z = q * _rational(_PPND7_CENTRAL_NUM, _PPND7_CENTRAL_DEN, r, xp)
    # The tails (|q| > 0.425, 15% of values) are compacted so that their longer formula runs
    # on them alone.
    tail = xp.abs(q) > xp.asarray(0.425, dtype=xp.float32)
    (where,) = xp.nonzero(tail)
    if where.shape[0] == 0:
        return xp.reshape(z, shape)
    q_tail = xp.take(q, where)
    distance = xp.asarray(0.5, dtype=xp.float32) - xp.abs(q_tail)  # min(p, 1 - p), exact
    distance = xp.maximum(distance, xp.asarray(2.0**-25, dtype=xp.float32))
    r = xp.sqrt(-_log(distance, xp)) - xp.asarray(1.6, dtype=xp.float32)
    value = _rational(_PPND7_TAIL_NUM, _PPND7_TAIL_DEN, r, xp) * xp.sign(q_tail)
    if xp is np:
        z[where] = value  # integer scatter: twice as fast as a boolean one
    else:
        z[tail] = value
    return xp.reshape(z, shape)


# --------------------------------------------------------------------------------------------
# Distributions: the exact numbers a native fill needs, and the portable transform.


def _float32_inward(value: float, toward: float) -> np.float32:
    """``value`` rounded to float32, moved one step toward ``toward`` if rounding moved it out."""
    rounded = np.float32(value)
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
        t = symmetric_uniform(bits, xp)
        half = (self.high - self.low) / 2.0
        mid = (self.high + self.low) / 2.0
        value = t * xp.asarray(half, dtype=xp.float32)
        if mid == 0.0:
            return value
        value = value + xp.asarray(mid, dtype=xp.float32)
        low = _float32_inward(self.low, self.high)
        high = _float32_inward(self.high, self.low)
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
        t = symmetric_uniform(bits, xp)
        if self.truncated:
            q_low, q_high = _phi_cdf_centered(self.lower), _phi_cdf_centered(self.upper)
            q = t * xp.asarray((q_high - q_low) / 2.0, dtype=xp.float32) + xp.asarray(
                (q_high + q_low) / 2.0, dtype=xp.float32
            )
        else:
            q = t * xp.asarray(0.5, dtype=xp.float32)
        z = normal_quantile(q, xp)
        value = z * xp.asarray(self.std, dtype=xp.float32)
        if self.mean != 0.0:
            value = value + xp.asarray(self.mean, dtype=xp.float32)
        if self.truncated:
            low = _float32_inward(self.low, self.mean) if math.isfinite(self.low) else -np.inf
            high = _float32_inward(self.high, self.mean) if math.isfinite(self.high) else np.inf
            value = xp.clip(value, xp.asarray(low, dtype=xp.float32), xp.asarray(high, dtype=xp.float32))
        return value


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


Distribution = UniformDistribution | NormalDistribution


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
        count = out.shape[0]

        def work(start: int) -> None:
            stop = min(start + CHUNK, count)
            out[start:stop] = self._values(distribution, offset + start, stop - start, np)

        starts = range(0, count, CHUNK)
        threads = _num_threads()
        if count < _THREADED_MIN or threads == 1:
            for start in starts:
                work(start)
            return
        with ThreadPoolExecutor(max_workers=threads) as pool:
            for _ in pool.map(work, starts):
                pass
