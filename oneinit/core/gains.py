"""Gains: the factor by which a nonlinearity asks the weights' standard deviation to grow.

A ``gain`` multiplies the *standard deviation* of the weights (``std = gain / sqrt(fan)``); its
square multiplies their variance. :func:`calculate_gain` is a drop-in for
``torch.nn.init.calculate_gain`` (torch 2.x): every name torch accepts gives torch's value,
default and error, and the function also takes Paddle's spellings, a few activations torch
refuses, and any elementwise callable.

Definition of the numeric gain
------------------------------
Let the pre-activations of a layer be ``y ~ N(0, 1)`` and pass them through ``f``. With weights of
variance ``g**2 / fan_in`` (independent of ``y``, zero mean), each next pre-activation has second
moment ``fan_in * (g**2 / fan_in) * E[f(y)**2] = g**2 * E[f(y)**2]``. The gain that keeps the
second moment at 1 from layer to layer is therefore

.. math:: g = 1 / \\sqrt{E[f(Z)^2]}, \\qquad Z \\sim N(0, 1).

This is how He et al. (2015) derive ``sqrt(2)`` for ReLU (``E[relu(Z)**2] = 1/2``) and how
``sqrt(2 / (1 + a**2))`` follows for a leaky ReLU of slope ``a`` (``E = (1 + a**2) / 2``); the
identity gives 1. :func:`second_moment_gain` evaluates it for any ``f``.

Quadrature
----------
``E[f(Z)**2] = int f(z)**2 phi(z) dz`` with ``phi`` the standard normal density. The integral is
cut to ``[-20, 20]`` (the mass outside is ``2 * Phi(-20) = 5.5e-89``, so the cut is invisible
for any ``f`` of polynomial or ``exp(c z)`` growth with moderate ``c``) and split into the 40
unit panels ``[k, k + 1]``, each integrated with 20-point Gauss-Legendre: 800 evaluations of
``f``. The panel edges sit on the integers, so a kink at 0 (ReLU, ELU, softsign) or at +-3
(hard-swish, hard-sigmoid) falls on an edge and every panel integrand is analytic: the rule
reproduces the closed forms above to a few ulp (relative error below 1e-15). A kink away from
the integers (a user callable) costs accuracy only in the one panel that holds it.

Torch's table values versus the definition
------------------------------------------
Torch's ``'tanh'`` (``5/3``) and ``'selu'`` (``3/4``) are empirical choices, not the
second-moment gain, and ``'sigmoid'`` is tabled as 1; they are kept for those names for
compatibility. The definition above gives ``second_moment_gain(np.tanh) = 1.5925374197`` and
``1.8462285453`` for the logistic sigmoid; for SELU it gives 1.0 (to double precision), since
SELU's constants are chosen so that ``E[selu(Z)**2] = 1``.

Numeric gains of the extra names (defaults): ``'gelu'`` 1.5335304412, ``'gelu_tanh'``
1.5335805217, ``'silu'`` / ``'swish'`` 1.6765324703, ``'elu'`` (alpha 1) 1.2451983007,
``'softplus'`` (beta 1) 1.0418668355, ``'mish'`` 1.4868475813, ``'hardswish'`` 1.7366572128,
``'hardsigmoid'`` 1.8978404247, ``'softsign'`` 2.3375333631.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "NUMERIC_NONLINEARITIES",
    "PADDLE_ALIASES",
    "TORCH_NONLINEARITIES",
    "calculate_gain",
    "second_moment_gain",
]

Activation = Callable[[NDArray[np.float64]], ArrayLike]

_TORCH_LINEAR = (
    "linear",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
)

TORCH_NONLINEARITIES: tuple[str, ...] = (
    *_TORCH_LINEAR,
    "sigmoid",
    "tanh",
    "relu",
    "leaky_relu",
    "selu",
)
"""Names ``torch.nn.init.calculate_gain`` accepts; for these the values are torch's."""

PADDLE_ALIASES: tuple[str, ...] = ("conv1d_transpose", "conv2d_transpose", "conv3d_transpose")
"""Paddle's spellings of the transposed convolutions (gain 1)."""

NUMERIC_NONLINEARITIES: tuple[str, ...] = (
    "gelu",
    "gelu_tanh",
    "silu",
    "swish",
    "elu",
    "softplus",
    "mish",
    "hardswish",
    "hardsigmoid",
    "softsign",
)
"""Extra names whose gain is the numeric second-moment gain (see the module docstring)."""

_LEAKY_RELU_DEFAULT_SLOPE = 0.01  # torch's default when param is None
_ELU_DEFAULT_ALPHA = 1.0
_SOFTPLUS_DEFAULT_BETA = 1.0

# Quadrature (module docstring): unit panels on [-_HALF_WIDTH, _HALF_WIDTH], Gauss-Legendre inside.
_HALF_WIDTH = 20
_NODES_PER_PANEL = 20


def _quadrature() -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Nodes ``z`` and weights ``w`` with ``sum(w * h(z)) ~= int h(z) phi(z) dz``."""
    t, t_weights = np.polynomial.legendre.leggauss(_NODES_PER_PANEL)
    left = np.arange(-_HALF_WIDTH, _HALF_WIDTH, dtype=np.float64)
    nodes = (left[:, None] + (t + 1.0) / 2.0).ravel()
    density = np.exp(-0.5 * nodes * nodes) / math.sqrt(2.0 * math.pi)
    weights = np.tile(t_weights / 2.0, left.size) * density
    nodes.setflags(write=False)
    weights.setflags(write=False)
    return nodes, weights


_NODES, _WEIGHTS = _quadrature()


def second_moment_gain(f: Activation) -> float:
    """Gain that preserves the second moment through the elementwise activation ``f``.

    .. math:: g = 1 / \\sqrt{E[f(Z)^2]}, \\qquad Z \\sim N(0, 1),

    so that weights with standard deviation ``g / sqrt(fan_in)`` map unit-second-moment
    pre-activations to unit-second-moment pre-activations. ``E[f(Z)**2]`` is computed by
    composite Gauss-Legendre quadrature on unit panels of ``[-20, 20]`` (module docstring);
    kinks at integers, such as ReLU's at 0, cost no accuracy.

    Parameters
    ----------
    f : callable
        Maps a 1-D float64 numpy array elementwise to an array of the same shape of real
        numbers. It receives a fresh array and may modify it.

    Returns
    -------
    float
        The gain ``g``, a factor on the weights' standard deviation.

    Raises
    ------
    TypeError
        If ``f`` is not callable or returns non-real values.
    ValueError
        If ``f`` does not return one value per input, returns a non-finite value on
        ``[-20, 20]``, or ``E[f(Z)**2]`` is 0 or overflows.

    Examples
    --------
    >>> round(second_moment_gain(lambda x: np.maximum(x, 0.0)) ** 2, 12)
    2.0
    """
    if not callable(f):
        raise TypeError(
            "f must be a callable that maps a float64 array elementwise. "
            f"Received: f={f!r} of type {type(f).__name__}"
        )
    raw = np.asarray(f(_NODES.copy()))
    if raw.dtype.kind not in "biuf":
        raise TypeError(
            "f must return real numbers (bool, integer or floating dtype). "
            f"Received: f={f!r} returning dtype {raw.dtype}"
        )
    if raw.shape != _NODES.shape:
        raise ValueError(
            "f must act elementwise: for an input of shape "
            f"{_NODES.shape} it must return the same shape. "
            f"Received: f={f!r} returning shape {raw.shape}"
        )
    values = raw.astype(np.float64)
    if not np.all(np.isfinite(values)):
        bad = float(_NODES[~np.isfinite(values)][0])
        raise ValueError(
            f"f must return finite values on [-{_HALF_WIDTH}, {_HALF_WIDTH}]; it returned a "
            f"non-finite value at x={bad!r}. Received: f={f!r}"
        )
    with np.errstate(over="ignore", under="ignore"):
        moment = float(np.sum(_WEIGHTS * (values * values)))
    if not math.isfinite(moment):
        raise ValueError(f"E[f(Z)**2] overflows float64; the gain would be 0. Received: f={f!r}")
    if moment == 0.0:
        raise ValueError(
            "E[f(Z)**2] is 0 (f vanishes under the standard normal), so no finite gain "
            f"preserves the second moment. Received: f={f!r}"
        )
    return 1.0 / math.sqrt(moment)


def _leaky_relu_slope(param: object) -> float:
    if param is None:
        return _LEAKY_RELU_DEFAULT_SLOPE
    if not isinstance(param, numbers.Real) or isinstance(param, (bool, np.bool_)):
        # ValueError, not TypeError, and torch's text first: torch's error, kept for parity.
        raise ValueError(
            f"negative_slope {param} not a valid number: param for 'leaky_relu' must be an int "
            f"or a float (not a bool). Received: param={param!r}"
        )
    slope = int(param) if isinstance(param, numbers.Integral) else float(param)
    if isinstance(slope, float) and not math.isfinite(slope):
        raise ValueError(
            "param for 'leaky_relu' (the negative slope) must be finite; torch would return "
            f"a gain of nan or 0. Received: param={param!r}"
        )
    return slope


def _checked_param(name: str, param: object, default: float, what: str) -> float:
    if param is None:
        return default
    if not isinstance(param, numbers.Real) or isinstance(param, (bool, np.bool_)):
        raise TypeError(
            f"param for {name!r} ({what}) must be an int or a float (not a bool). "
            f"Received: param={param!r}"
        )
    return float(param)


def _gelu(x: NDArray[np.float64]) -> NDArray[np.float64]:
    # x * Phi(x) with Phi(x) = erfc(-x / sqrt(2)) / 2: no cancellation for x << 0.
    # numpy has no erf, and 800 scalar calls are cheap.
    cdf = np.array([0.5 * math.erfc(-v / math.sqrt(2.0)) for v in x.tolist()], dtype=np.float64)
    return x * cdf


def _gelu_tanh(x: NDArray[np.float64]) -> NDArray[np.float64]:
    inner = math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)
    return 0.5 * x * (1.0 + np.tanh(inner))


def _sigmoid(x: NDArray[np.float64]) -> NDArray[np.float64]:
    # The tanh form of the logistic function never overflows.
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _silu(x: NDArray[np.float64]) -> NDArray[np.float64]:
    return x * _sigmoid(x)


def _mish(x: NDArray[np.float64]) -> NDArray[np.float64]:
    return x * np.tanh(np.logaddexp(0.0, x))


def _hardsigmoid(x: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.clip(x + 3.0, 0.0, 6.0) / 6.0


def _hardswish(x: NDArray[np.float64]) -> NDArray[np.float64]:
    return x * _hardsigmoid(x)


def _softsign(x: NDArray[np.float64]) -> NDArray[np.float64]:
    return x / (1.0 + np.abs(x))


def _elu(alpha: float) -> Activation:
    def elu(x: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.where(x > 0.0, x, alpha * np.expm1(np.minimum(x, 0.0)))

    return elu


def _softplus(beta: float) -> Activation:
    def softplus(x: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.logaddexp(0.0, beta * x) / beta

    return softplus


_PARAMETERLESS: dict[str, Activation] = {
    "gelu": _gelu,
    "gelu_tanh": _gelu_tanh,
    "silu": _silu,
    "swish": _silu,
    "mish": _mish,
    "hardswish": _hardswish,
    "hardsigmoid": _hardsigmoid,
    "softsign": _softsign,
}


def _numeric_activation(name: str, param: object) -> Activation:
    if name == "elu":
        alpha = _checked_param(name, param, _ELU_DEFAULT_ALPHA, "alpha")
        if not math.isfinite(alpha):
            raise ValueError(f"param for 'elu' (alpha) must be finite. Received: param={param!r}")
        return _elu(alpha)
    if name == "softplus":
        beta = _checked_param(name, param, _SOFTPLUS_DEFAULT_BETA, "beta")
        if not (math.isfinite(beta) and beta > 0.0):
            raise ValueError(
                f"param for 'softplus' (beta) must be finite and > 0. Received: param={param!r}"
            )
        return _softplus(beta)
    if param is not None:
        raise ValueError(
            f"{name!r} takes no param; only 'leaky_relu', 'elu' and 'softplus' do. "
            f"Received: param={param!r}"
        )
    return _PARAMETERLESS[name]


def calculate_gain(nonlinearity: str | Activation, param: float | None = None) -> float:
    """Recommended gain for a nonlinearity: a factor on the weights' standard deviation.

    A drop-in for ``torch.nn.init.calculate_gain``; for torch's names the values are torch's:

    ================================================  =================================
    nonlinearity                                      gain
    ================================================  =================================
    linear, conv{1,2,3}d, conv_transpose{1,2,3}d      1
    conv{1,2,3}d_transpose (Paddle's spelling)        1
    sigmoid                                           1
    tanh                                              5/3 (empirical)
    relu                                              sqrt(2)
    leaky_relu                                        sqrt(2 / (1 + negative_slope**2))
    selu                                              3/4 (empirical)
    gelu, gelu_tanh, silu (= swish), elu, softplus,   1 / sqrt(E[f(Z)**2]), Z ~ N(0, 1)
    mish, hardswish, hardsigmoid, softsign, callable  (:func:`second_moment_gain`)
    ================================================  =================================

    The last row is the gain that preserves the pre-activations' second moment (module
    docstring). Torch's tanh and selu values are table values, not this quantity; the
    definition would give 1.5925 for tanh and 1 for selu.

    Parameters
    ----------
    nonlinearity : str or callable
        A name above, or a callable that maps a float64 numpy array elementwise.
    param : float, optional
        ``'leaky_relu'``: the negative slope, default 0.01; an int or a float, not a bool (as
        torch), and finite (where torch would return nan or 0). ``'elu'``: alpha, default 1.0,
        finite. ``'softplus'``: beta, default 1.0, finite and > 0. Ignored, as in torch, by
        torch's other names; an error for the other numeric names and for callables, which
        take none.

    Returns
    -------
    float
        The gain; ``std = gain / sqrt(fan)``.

    Raises
    ------
    ValueError
        For an unknown name, an invalid ``param``, or a callable that
        :func:`second_moment_gain` rejects.
    TypeError
        If ``nonlinearity`` is neither a string nor callable, or the ``param`` of ``'elu'`` or
        ``'softplus'`` is not a real number. (A bad ``'leaky_relu'`` param raises ValueError,
        as in torch.)

    Examples
    --------
    >>> calculate_gain("leaky_relu", 0.2) == math.sqrt(2.0 / (1 + 0.2**2))
    True
    >>> round(calculate_gain("gelu"), 6)
    1.53353
    """
    if isinstance(nonlinearity, str):
        if nonlinearity in _TORCH_LINEAR or nonlinearity in PADDLE_ALIASES:
            return 1.0
        if nonlinearity == "sigmoid":
            return 1.0
        if nonlinearity == "tanh":
            return 5.0 / 3  # torch's empirical value
        if nonlinearity == "relu":
            return math.sqrt(2.0)
        if nonlinearity == "leaky_relu":
            negative_slope = _leaky_relu_slope(param)
            return math.sqrt(2.0 / (1 + negative_slope**2))  # torch's expression, bit for bit
        if nonlinearity == "selu":
            return 3.0 / 4  # torch's empirical value (pytorch/pytorch#50664)
        if nonlinearity in NUMERIC_NONLINEARITIES:
            return second_moment_gain(_numeric_activation(nonlinearity, param))
        names = (*TORCH_NONLINEARITIES, *PADDLE_ALIASES, *NUMERIC_NONLINEARITIES)
        allowed = ", ".join(repr(name) for name in names)
        raise ValueError(
            f"Unsupported nonlinearity {nonlinearity}: expected one of {allowed}, or a "
            f"callable. Received: nonlinearity={nonlinearity!r}"
        )
    if callable(nonlinearity):
        if param is not None:
            raise ValueError(
                "param must be None for a callable nonlinearity; bind parameters into the "
                f"callable instead. Received: param={param!r}"
            )
        return second_moment_gain(nonlinearity)
    raise TypeError(
        "nonlinearity must be a name (str) or a callable. "
        f"Received: nonlinearity={nonlinearity!r} of type {type(nonlinearity).__name__}"
    )
