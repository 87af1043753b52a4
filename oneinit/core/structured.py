"""Structured initializations: orthogonal, delta-orthogonal, identity, dirac, sparse, bilinear.

Every function here builds a float32 array in the **canonical logical layout**
``(out, in_per_group, *kernel)``; adapters transpose it to a framework's storage layout. Random
constructions draw their Gaussian or uniform values from a portable :class:`~oneinit.core.random.
Stream`, so the same seed and key give the same values in every framework.

Everything is written against the Python array API standard: ``xp`` is the array namespace
(numpy by default, ``numpy>=1.23``). The few numpy 1.x gaps in the standard (``astype``,
``linalg.diagonal``, ``argsort(stable=...)``, ``concat``) are bridged by small helpers that use
the numpy spelling only when ``xp is numpy``. No function writes into an array in place, so
immutable array libraries (JAX) work too.

Orthogonal matrices are computed in float64 (QR) on ``xp``'s default device and rounded to float32
once, at the end, after the gain is applied.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import numpy as np

from ._xp import Array, Namespace, argsort_stable, astype, concat, diagonal
from .random import NormalDistribution, Stream, UniformDistribution

__all__ = [
    "bilinear",
    "delta_orthogonal",
    "dirac",
    "identity",
    "orthogonal",
    "sparse",
]

_STANDARD_NORMAL = NormalDistribution(0.0, 1.0)
_UNIT_UNIFORM = UniformDistribution(0.0, 1.0)


# --------------------------------------------------------------------------------------------
# Argument checks. Messages: what is wrong, what is allowed, then ``Received: name=value``.

_UNBOUNDED = 1 << 30  # max_ndim for "no upper limit on the number of dimensions"


def _check_shape(
    function: str, shape: Sequence[int], min_ndim: int, max_ndim: int, layout: str
) -> tuple[int, ...]:
    """Validate ``shape`` (a tuple or list of positive ints with ``min_ndim..max_ndim`` dims)."""
    if not isinstance(shape, (tuple, list)):
        raise TypeError(
            f"{function} needs shape as a tuple of ints {layout}. Received: shape={shape!r}"
        )
    for dim in shape:
        if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
            raise TypeError(
                f"{function} needs every dimension of shape to be an int, but got "
                f"{type(dim).__name__}. Received: shape={shape!r}"
            )
    dims = tuple(int(dim) for dim in shape)
    if not min_ndim <= len(dims) <= max_ndim:
        allowed = (
            f"at least {min_ndim}"
            if max_ndim == _UNBOUNDED
            else (f"exactly {min_ndim}" if min_ndim == max_ndim else f"{min_ndim} to {max_ndim}")
        )
        raise ValueError(
            f"{function} needs a shape with {allowed} dimensions {layout}, but it has "
            f"{len(dims)}. Received: shape={shape!r}"
        )
    if any(dim <= 0 for dim in dims):
        raise ValueError(
            f"{function} needs every dimension of shape to be positive (it cannot build an "
            f"empty or negative-size array). Received: shape={shape!r}"
        )
    return dims


def _check_nonnegative(function: str, name: str, value: float) -> float:
    """Validate a finite real ``value >= 0`` (a gain or a standard deviation)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{function} needs {name} to be a real number. Received: {name}={value!r}")
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(
            f"{function} needs {name} to be finite and >= 0. Received: {name}={value!r}"
        )
    return float(value)


def _check_count(function: str, name: str, value: int) -> int:
    """Validate an int ``value >= 1`` (a number of blocks or groups)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{function} needs {name} to be an int. Received: {name}={value!r}")
    if value < 1:
        raise ValueError(f"{function} needs {name} >= 1. Received: {name}={value!r}")
    return int(value)


def _check_stream(function: str, stream: Stream) -> Stream:
    if not isinstance(stream, Stream):
        raise TypeError(
            f"{function} needs stream to be a oneinit.core.random.Stream, e.g. "
            f"Stream(seed, key). Received: stream={stream!r}"
        )
    return stream


# --------------------------------------------------------------------------------------------
# Shared constructions.


def _haar_orthogonal(stream: Stream, rows: int, cols: int, xp: Namespace) -> Array:
    """A float64 ``(rows, cols)`` matrix with orthonormal rows (rows <= cols) or columns.

    torch ``orthogonal_``: ``A`` is an N(0, 1) matrix of shape ``(rows, cols)`` (element ``i``
    of ``stream`` at C-order position ``i``), transposed to be tall when ``rows < cols``;
    ``A = QR`` (reduced); ``Q D`` with ``D = diag(sign(diag R))`` is Haar-distributed; it is
    transposed back.
    """
    gaussian = astype(stream.sample(_STANDARD_NORMAL, (rows, cols), xp=xp), xp.float64, xp)
    tall = gaussian.T if rows < cols else gaussian
    q, r = xp.linalg.qr(tall)
    r_diagonal = diagonal(r, xp)
    # sign(diag R), except that a zero diagonal entry (probability 0) keeps its column instead
    # of zeroing it as torch's ``sign`` would.
    ones = xp.ones_like(r_diagonal)
    q = q * xp.where(r_diagonal < 0, -ones, ones)
    return q.T if rows < cols else q


def _at_kernel_centre(matrix: Array, kernel: tuple[int, ...], xp: Namespace) -> Array:
    """``(out, in, *kernel)`` zeros holding float32 ``matrix`` at index ``k // 2`` of each axis."""
    out, in_ = matrix.shape
    size = math.prod(kernel)
    centre = 0
    for k in kernel:  # C-order flat index of (k0 // 2, k1 // 2, ...)
        centre = centre * k + k // 2
    is_centre = xp.reshape(xp.arange(size) == centre, (1, 1, size))
    zero = xp.zeros((1, 1, 1), dtype=xp.float32)
    placed = xp.where(is_centre, xp.reshape(matrix, (out, in_, 1)), zero)
    return xp.reshape(placed, (out, in_, *kernel))


# --------------------------------------------------------------------------------------------
# Public constructions.


def orthogonal(
    shape: Sequence[int],
    stream: Stream,
    gain: float = 1.0,
    *,
    blocks: int = 1,
    xp: Namespace = np,
) -> Array:
    r"""A (semi-)orthogonal float32 array, Haar-distributed, scaled by ``gain``.

    The array is flattened to a matrix of ``rows = shape[0]`` (output units) by
    ``cols = prod(shape[1:])``, as torch and Paddle do (Keras and JAX flatten the other way,
    with columns = output units in their own layout; in each framework's native layout both
    give orthonormal output filters).

    Construction (torch ``orthogonal_``): draw :math:`A \in \mathbb{R}^{rows \times cols}` with
    i.i.d. :math:`N(0, 1)` entries from ``stream``; if :math:`rows < cols` work with
    :math:`A^\top` so the matrix is tall; take the reduced QR decomposition :math:`A = QR` in
    float64 and set :math:`Q \leftarrow Q\,\mathrm{diag}(\mathrm{sign}(R_{ii}))`, which makes
    :math:`Q` distributed according to the Haar measure (Mezzadri 2007); transpose back. The
    result :math:`W = \mathrm{gain} \cdot Q` satisfies

    .. math::

        W W^\top = \mathrm{gain}^2 I_{rows} \quad (rows \le cols), \qquad
        W^\top W = \mathrm{gain}^2 I_{cols} \quad (rows \ge cols).

    Each entry has mean 0 and variance :math:`\mathrm{gain}^2 / \max(rows, cols)`.

    Parameters
    ----------
    shape
        Canonical shape ``(out, in_per_group, *kernel)``, at least 2-D, all dimensions positive.
    stream
        Portable random stream giving the Gaussian matrix.
    gain
        Multiplies the orthogonal matrix (as Keras ``gain`` and JAX ``scale``, which here also
        multiply the matrix, not a variance). Finite and ``>= 0``.
    blocks
        Split the ``out`` rows into ``blocks`` equal consecutive blocks and make each block
        orthogonal on its own: block ``j`` is ``orthogonal((out // blocks, *shape[1:]),
        stream.child(f"block{j}"))``. Use it for stacked recurrent gates (LSTM ``4H``, GRU
        ``3H``) and fused QKV projections, where each gate or projection should be orthogonal
        as Flax does; Keras makes only the whole ``(H, 4H)`` matrix orthogonal, which leaves
        each gate non-orthogonal. With ``blocks=1`` the stream itself is used.
    xp
        Array namespace (numpy by default). Needs ``float64`` and ``linalg.qr``.

    Returns
    -------
    float32 array of ``shape``.

    Raises
    ------
    TypeError
        For a non-int dimension, non-real gain, non-int ``blocks`` or a non-Stream ``stream``.
    ValueError
        For fewer than 2 dimensions, a non-positive dimension, ``out`` not divisible by
        ``blocks``, or a negative or non-finite gain.

    Examples
    --------
    >>> from oneinit.core.random import Stream
    >>> w = orthogonal((4, 8), Stream(seed=0, key=1))
    >>> bool(np.allclose(w @ w.T, np.eye(4), atol=1e-6))
    True
    """
    function = "orthogonal"
    dims = _check_shape(function, shape, 2, _UNBOUNDED, "(out, in_per_group, *kernel)")
    _check_stream(function, stream)
    gain = _check_nonnegative(function, "gain", gain)
    blocks = _check_count(function, "blocks", blocks)
    rows, cols = dims[0], math.prod(dims[1:])
    if rows % blocks:
        raise ValueError(
            f"{function} needs shape[0] (the output units, {rows}) to be divisible by blocks. "
            f"Received: blocks={blocks}"
        )
    if blocks == 1:
        matrix = _haar_orthogonal(stream, rows, cols, xp)
    else:
        matrix = concat(
            [
                _haar_orthogonal(stream.child(f"block{j}"), rows // blocks, cols, xp)
                for j in range(blocks)
            ],
            0,
            xp,
        )
    return xp.reshape(astype(matrix * gain, xp.float32, xp), dims)


def delta_orthogonal(
    shape: Sequence[int], stream: Stream, gain: float = 1.0, *, xp: Namespace = np
) -> Array:
    r"""A convolution kernel that is zero except for an orthogonal matrix at the spatial centre.

    The delta-orthogonal initialization of Xiao et al. (2018), as JAX's ``delta_orthogonal``:
    for ``shape = (out, in, *kernel)``,

    .. math::

        W[:, :, c_1, \ldots, c_n] = \mathrm{gain} \cdot M, \qquad
        W = 0 \text{ elsewhere}, \qquad c_a = \lfloor k_a / 2 \rfloor,

    with :math:`M \in \mathbb{R}^{out \times in}` Haar-distributed with orthonormal columns
    (:math:`M^\top M = I_{in}`; needs ``in <= out``), drawn exactly as
    ``orthogonal((out, in), stream)``. The convolution then acts as an orthogonal map on the
    channels at every spatial position, so it preserves norms at initialization.

    The centre is ``k // 2`` as in torch and Paddle ``dirac_`` / ``Dirac``. JAX puts it at
    ``(k - 1) // 2``: the two agree for odd kernels and differ for even ones (``k = 4``: 2 vs 1),
    which matters for value parity with JAX only.

    Parameters
    ----------
    shape
        Canonical shape ``(out, in_per_group, *kernel)`` with 1 to 3 spatial dimensions
        (3-D to 5-D), all positive, ``in_per_group <= out``.
    stream
        Portable random stream giving the Gaussian matrix.
    gain
        Multiplies the orthogonal matrix; finite and ``>= 0``.
    xp
        Array namespace (numpy by default).

    Returns
    -------
    float32 array of ``shape``.

    Raises
    ------
    TypeError
        For a non-int dimension, a non-real gain or a non-Stream ``stream``.
    ValueError
        For a rank outside 3-5, a non-positive dimension, ``in_per_group > out``, or a negative
        or non-finite gain.
    """
    function = "delta_orthogonal"
    dims = _check_shape(function, shape, 3, 5, "(out, in_per_group, *kernel)")
    _check_stream(function, stream)
    gain = _check_nonnegative(function, "gain", gain)
    out, in_ = dims[0], dims[1]
    if in_ > out:
        raise ValueError(
            f"{function} needs in_per_group <= out (shape[1] <= shape[0]) so that the centre "
            f"matrix can have orthonormal columns. Received: shape={shape!r}"
        )
    matrix = astype(_haar_orthogonal(stream, out, in_, xp) * gain, xp.float32, xp)
    return _at_kernel_centre(matrix, dims[2:], xp)


def identity(shape: Sequence[int], gain: float = 1.0, *, xp: Namespace = np) -> Array:
    r"""``gain`` times the (possibly rectangular) identity matrix.

    :math:`W_{ij} = \mathrm{gain}` if :math:`i = j`, else 0, for ``shape = (out, in)``; as
    torch ``eye_`` (with ``gain = 1``) and Keras ``Identity(gain)``; Paddle has none.

    Parameters
    ----------
    shape
        ``(out, in)``, both positive.
    gain
        Value on the diagonal; finite and ``>= 0``.
    xp
        Array namespace (numpy by default).

    Returns
    -------
    float32 array of ``shape``.

    Raises
    ------
    TypeError
        For a non-int dimension or a non-real gain.
    ValueError
        For a shape that is not 2-D, a non-positive dimension, or a negative or non-finite gain.
    """
    function = "identity"
    rows, cols = _check_shape(function, shape, 2, 2, "(out, in)")
    gain = _check_nonnegative(function, "gain", gain)
    return astype(xp.eye(rows, cols, dtype=xp.float64) * gain, xp.float32, xp)


def dirac(shape: Sequence[int], groups: int = 1, gain: float = 1.0, *, xp: Namespace = np) -> Array:
    r"""A convolution kernel that passes each input channel through (torch ``dirac_``).

    For ``shape = (out, in, *kernel)`` and ``p = out / groups`` outputs per group:

    .. math::

        W[g p + d,\ d,\ c_1, \ldots, c_n] = \mathrm{gain}
        \quad \text{for } 0 \le g < \mathrm{groups},\ 0 \le d < \min(p, in),
        \qquad c_a = \lfloor k_a / 2 \rfloor,

    and 0 elsewhere; equivalently :math:`W[o, i, c] = \mathrm{gain}` iff :math:`o \bmod p = i`.
    With ``gain = 1`` it equals torch ``dirac_(t, groups)`` and Paddle ``Dirac(groups)``
    exactly (JAX-style ``(k - 1) // 2`` centres differ for even kernels; see
    :func:`delta_orthogonal`).

    Parameters
    ----------
    shape
        Canonical shape ``(out, in_per_group, *kernel)``, 3-D to 5-D, all positive.
    groups
        Number of groups; must divide ``out``.
    gain
        Value of the non-zero entries; finite and ``>= 0``.
    xp
        Array namespace (numpy by default).

    Returns
    -------
    float32 array of ``shape``.

    Raises
    ------
    TypeError
        For a non-int dimension or ``groups``, or a non-real gain.
    ValueError
        For a rank outside 3-5, a non-positive dimension, ``out`` not divisible by ``groups``,
        or a negative or non-finite gain.
    """
    function = "dirac"
    dims = _check_shape(function, shape, 3, 5, "(out, in_per_group, *kernel)")
    groups = _check_count(function, "groups", groups)
    gain = _check_nonnegative(function, "gain", gain)
    out, in_ = dims[0], dims[1]
    if out % groups:
        raise ValueError(
            f"{function} needs shape[0] (the output channels, {out}) to be divisible by "
            f"groups. Received: groups={groups}"
        )
    per_group = out // groups
    passes = xp.reshape(xp.arange(out) % per_group, (out, 1)) == xp.reshape(
        xp.arange(in_), (1, in_)
    )
    value = xp.full((1, 1), gain, dtype=xp.float32)
    matrix = xp.where(passes, value, xp.zeros((1, 1), dtype=xp.float32))
    return _at_kernel_centre(matrix, dims[2:], xp)


def sparse(
    shape: Sequence[int],
    stream: Stream,
    sparsity: float,
    std: float = 0.01,
    *,
    xp: Namespace = np,
) -> Array:
    r"""A sparse matrix: N(0, std\ :sup:`2`) values with a fixed number of zeros per column.

    torch ``sparse_`` (Martens 2010) on ``shape = (rows, cols) = (out, in)``: every entry is
    drawn from :math:`N(0, \mathrm{std}^2)` (``stream.child("values")``), then in every column
    exactly :math:`z = \lceil \mathrm{sparsity} \cdot rows \rceil` rows, chosen uniformly at
    random without replacement, are set to 0.

    The choice is portable and deterministic: each entry gets a uniform value from
    ``stream.child("mask")``; within each column the entries are ranked by that value (ties,
    which have probability about ``rows**2 / 2**25``, broken by the lower row index first) and
    the ``z`` lowest-ranked entries are zeroed. Every ``z``-subset of rows is equally likely
    (up to the tie rule). Unlike torch, the mask comes from the given stream, not a global RNG.

    Parameters
    ----------
    shape
        ``(out, in)``, both positive.
    stream
        Portable random stream; its children ``"values"`` and ``"mask"`` are used.
    sparsity
        Fraction of each column to zero, in ``[0, 1)``.
    std
        Standard deviation of the non-zero values (absolute units); finite and ``>= 0``.
    xp
        Array namespace (numpy by default).

    Returns
    -------
    float32 array of ``shape``.

    Raises
    ------
    TypeError
        For a non-int dimension, a non-real sparsity or std, or a non-Stream ``stream``.
    ValueError
        For a shape that is not 2-D, a non-positive dimension, sparsity outside ``[0, 1)``,
        or a negative or non-finite std.
    """
    function = "sparse"
    rows, cols = _check_shape(function, shape, 2, 2, "(out, in)")
    _check_stream(function, stream)
    if isinstance(sparsity, bool) or not isinstance(sparsity, numbers.Real):
        raise TypeError(
            f"{function} needs sparsity to be a real number. Received: sparsity={sparsity!r}"
        )
    if not 0 <= sparsity < 1:
        raise ValueError(
            f"{function} needs 0 <= sparsity < 1 (the fraction of each column set to zero). "
            f"Received: sparsity={sparsity!r}"
        )
    std = _check_nonnegative(function, "std", std)
    zeros_per_column = math.ceil(float(sparsity) * rows)
    values = stream.child("values").sample(NormalDistribution(0.0, std), (rows, cols), xp=xp)
    if zeros_per_column == 0:
        return values
    keys = stream.child("mask").sample(_UNIT_UNIFORM, (rows, cols), xp=xp)
    # rank[r, c] = position of row r when column c is sorted by key (stable: ties by row).
    rank = argsort_stable(argsort_stable(keys, 0, xp), 0, xp)
    return xp.where(rank < zeros_per_column, xp.zeros_like(values), values)


def bilinear(shape: Sequence[int], *, xp: Namespace = np) -> Array:
    r"""The bilinear-upsampling kernel, the same in every ``(out, in)`` slot (MXNet ``Bilinear``).

    For ``shape = (out, in, k, k)`` (Caffe's ``BilinearFiller``, MXNet ``Bilinear``):

    .. math::

        f = \lceil k / 2 \rceil, \qquad
        c = \frac{2f - 1 - (f \bmod 2)}{2f}, \qquad
        W[o, i, y, x] = \Bigl(1 - \Bigl|\frac{x}{f} - c\Bigr|\Bigr)
                        \Bigl(1 - \Bigl|\frac{y}{f} - c\Bigr|\Bigr).

    A transposed convolution with this kernel and stride ``f`` performs bilinear upsampling by
    ``f``; the kernel size meant for factor ``f`` is ``k = 2f - f % 2`` (4 for 2, 5 for 3), for
    which the kernel is symmetric. For ``k = 4`` each row is ``[.25 .75 .75 .25]`` times the
    same vector, e.g. the first row is ``[.0625 .1875 .1875 .0625]``. Other sizes follow the
    same formula (``k = 3`` gives the asymmetric ``[.25 .75 .75]`` per axis, as MXNet does).

    Paddle's ``Bilinear`` is broken under Python 3 (``/`` for ``//`` in the row index); this is
    the intended kernel. Values are computed in float64 and rounded to float32 once.

    Parameters
    ----------
    shape
        ``(out, in, k, k)``, all positive, with a square kernel.
    xp
        Array namespace (numpy by default).

    Returns
    -------
    float32 array of ``shape``.

    Raises
    ------
    TypeError
        For a non-int dimension.
    ValueError
        For a shape that is not 4-D, a non-positive dimension, or a non-square kernel.
    """
    function = "bilinear"
    out, in_, height, width = _check_shape(function, shape, 4, 4, "(out, in, k, k)")
    if height != width:
        raise ValueError(
            f"{function} needs a square kernel (shape[2] == shape[3]). Received: shape={shape!r}"
        )
    f = math.ceil(width / 2)
    c = (2 * f - 1 - f % 2) / (2.0 * f)
    position = xp.arange(width, dtype=xp.float64)
    profile = 1.0 - xp.abs(position / f - c)
    kernel = xp.reshape(profile, (width, 1)) * xp.reshape(profile, (1, width))
    tiled = xp.reshape(kernel, (1, 1, width, width)) * xp.ones((out, in_, 1, 1), dtype=xp.float64)
    return astype(tiled, xp.float32, xp)
