"""Tests for ``oneinit.core.gains``: torch parity, the numeric definition, and its errors.

Torch is not imported: its values are exact formulas (torch 2.x ``calculate_gain``), written out
here with torch's own expressions so equality is asserted bit for bit.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from oneinit.core.gains import (
    NUMERIC_NONLINEARITIES,
    PADDLE_ALIASES,
    TORCH_NONLINEARITIES,
    calculate_gain,
    second_moment_gain,
)

Fn = Callable[[np.ndarray], Any]

# Tight enough to show the quadrature is exact for these integrands (it reaches ~1e-15).
CLOSED_FORM_RTOL = 1e-12
# Composite Simpson with h = 2**-10 has error ~ h**4 * max|g''''| / 180 ~ 1e-14; kinks sit on
# panel edges (the integers), so it stays O(h**4).
BRUTE_FORCE_RTOL = 1e-10


def _torch_leaky_relu_gain(negative_slope: float) -> float:
    return math.sqrt(2.0 / (1 + negative_slope**2))


def _brute_force_second_moment(f: Fn) -> float:
    """E[f(Z)**2] by composite Simpson on [-40, 40]: a rule independent of the module's."""
    h = 2.0**-10
    x = -40.0 + h * np.arange(80 * 1024 + 1)
    g = np.asarray(f(x), dtype=np.float64) ** 2 * np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
    return float(h / 3 * (g[0] + 4 * g[1:-1:2].sum() + 2 * g[2:-1:2].sum() + g[-1]))


_erf = np.vectorize(math.erf, otypes=[np.float64])


def _ref_gelu(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1 + _erf(x / math.sqrt(2)))


def _ref_gelu_tanh(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))


def _ref_silu(x: np.ndarray) -> np.ndarray:
    return x / (1 + np.exp(-x))


def _ref_elu(alpha: float) -> Fn:
    return lambda x: np.where(x > 0, x, alpha * (np.exp(np.minimum(x, 0)) - 1))


def _ref_softplus(beta: float) -> Fn:
    return lambda x: np.log1p(np.exp(beta * x)) / beta


def _ref_mish(x: np.ndarray) -> np.ndarray:
    return x * np.tanh(np.log1p(np.exp(x)))


def _ref_hardsigmoid(x: np.ndarray) -> np.ndarray:
    return np.minimum(np.maximum(x + 3, 0), 6) / 6


def _ref_hardswish(x: np.ndarray) -> np.ndarray:
    return x * _ref_hardsigmoid(x)


def _ref_softsign(x: np.ndarray) -> np.ndarray:
    return x / (1 + np.abs(x))


# --- torch parity -----------------------------------------------------------------------------


def test_torch_names_are_torchs() -> None:
    assert TORCH_NONLINEARITIES == (
        "linear",
        "conv1d",
        "conv2d",
        "conv3d",
        "conv_transpose1d",
        "conv_transpose2d",
        "conv_transpose3d",
        "sigmoid",
        "tanh",
        "relu",
        "leaky_relu",
        "selu",
    )


def test_name_tuples_are_disjoint() -> None:
    names = [*TORCH_NONLINEARITIES, *PADDLE_ALIASES, *NUMERIC_NONLINEARITIES]
    assert len(names) == len(set(names))


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param("linear", 1, id="linear"),
        pytest.param("conv1d", 1, id="conv1d"),
        pytest.param("conv2d", 1, id="conv2d"),
        pytest.param("conv3d", 1, id="conv3d"),
        pytest.param("conv_transpose1d", 1, id="conv_transpose1d"),
        pytest.param("conv_transpose2d", 1, id="conv_transpose2d"),
        pytest.param("conv_transpose3d", 1, id="conv_transpose3d"),
        pytest.param("sigmoid", 1, id="sigmoid"),
        pytest.param("tanh", 5.0 / 3, id="tanh"),
        pytest.param("relu", math.sqrt(2.0), id="relu"),
        pytest.param("leaky_relu", _torch_leaky_relu_gain(0.01), id="leaky_relu"),
        pytest.param("selu", 3.0 / 4, id="selu"),
    ],
)
def test_torch_name_gives_torch_value(name: str, expected: float) -> None:
    gain = calculate_gain(name)
    assert type(gain) is float
    assert gain == expected


@pytest.mark.parametrize("name", PADDLE_ALIASES, ids=PADDLE_ALIASES)
def test_paddle_transpose_spelling_gives_one(name: str) -> None:
    assert calculate_gain(name) == 1.0


@pytest.mark.parametrize(
    ("param", "slope"),
    [
        pytest.param(None, 0.01, id="default"),
        pytest.param(0, 0, id="int-0"),
        pytest.param(1, 1, id="int-1"),
        pytest.param(2, 2, id="int-2"),
        pytest.param(-3, -3, id="int-neg3"),
        pytest.param(0.01, 0.01, id="float-0.01"),
        pytest.param(0.2, 0.2, id="float-0.2"),
        pytest.param(-0.2, -0.2, id="float-neg0.2"),
        pytest.param(5.5, 5.5, id="float-5.5"),
        pytest.param(np.float64(0.3), 0.3, id="np-float64"),
        pytest.param(np.float32(0.3), float(np.float32(0.3)), id="np-float32"),
        pytest.param(np.int64(2), 2, id="np-int64"),
    ],
)
def test_leaky_relu_slope(param: Any, slope: float) -> None:
    assert calculate_gain("leaky_relu", param) == _torch_leaky_relu_gain(slope)


@pytest.mark.parametrize(
    "param",
    [
        pytest.param(True, id="True"),
        pytest.param(False, id="False"),
        pytest.param(np.bool_(True), id="np-bool"),
        pytest.param("0.2", id="str"),
        pytest.param([0.2], id="list"),
    ],
)
def test_leaky_relu_rejects_non_numbers_like_torch(param: Any) -> None:
    with pytest.raises(ValueError, match="not a valid number") as info:
        calculate_gain("leaky_relu", param)
    assert str(info.value).endswith(f"Received: param={param!r}")


@pytest.mark.parametrize(
    "param",
    [
        pytest.param(math.nan, id="nan"),
        pytest.param(math.inf, id="inf"),
        pytest.param(-math.inf, id="neg-inf"),
    ],
)
def test_leaky_relu_rejects_non_finite_slope(param: float) -> None:
    with pytest.raises(ValueError, match=r"must be finite.*Received: param="):
        calculate_gain("leaky_relu", param)


@pytest.mark.parametrize(
    ("name", "param", "expected"),
    [
        pytest.param("relu", 0.2, math.sqrt(2.0), id="relu-float"),
        pytest.param("tanh", True, 5.0 / 3, id="tanh-bool"),
        pytest.param("selu", -1.0, 3.0 / 4, id="selu-negative"),
        pytest.param("linear", math.nan, 1.0, id="linear-nan"),
        pytest.param("sigmoid", "x", 1.0, id="sigmoid-str"),
    ],
)
def test_torch_names_ignore_param_like_torch(name: str, param: Any, expected: float) -> None:
    assert calculate_gain(name, param) == expected


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("foo", id="foo"),
        pytest.param("ReLU", id="case-sensitive"),
        pytest.param("", id="empty"),
        pytest.param("conv4d", id="conv4d"),
    ],
)
def test_unknown_name(name: str) -> None:
    with pytest.raises(ValueError, match="Unsupported nonlinearity") as info:
        calculate_gain(name)
    message = str(info.value)
    assert message.endswith(f"Received: nonlinearity={name!r}")
    for allowed in (*TORCH_NONLINEARITIES, *PADDLE_ALIASES, *NUMERIC_NONLINEARITIES):
        assert repr(allowed) in message


@pytest.mark.parametrize(
    "nonlinearity",
    [pytest.param(None, id="None"), pytest.param(3, id="int"), pytest.param(b"relu", id="bytes")],
)
def test_nonlinearity_of_wrong_type(nonlinearity: Any) -> None:
    with pytest.raises(TypeError, match=r"name \(str\) or a callable.*Received: nonlinearity="):
        calculate_gain(nonlinearity)


# --- the numeric definition reproduces the closed forms --------------------------------------


@pytest.mark.parametrize(
    ("f", "expected"),
    [
        pytest.param(lambda x: np.maximum(x, 0.0), math.sqrt(2.0), id="relu"),
        pytest.param(lambda x: x, 1.0, id="linear"),
        pytest.param(np.abs, 1.0, id="abs"),
        pytest.param(lambda x: x * x, 1 / math.sqrt(3.0), id="square"),  # E[Z**4] = 3
        pytest.param(lambda x: np.maximum(x, 0.0) ** 2, math.sqrt(2 / 3.0), id="relu-squared"),
        pytest.param(np.exp, 1 / math.e, id="exp"),  # E[exp(2Z)] = e**2
        pytest.param(lambda x: x > 0, math.sqrt(2.0), id="step-bool"),
        pytest.param(lambda x: np.sign(x).astype(np.int64), 1.0, id="sign-int"),
    ],
)
def test_numeric_gain_closed_form(f: Fn, expected: float) -> None:
    assert second_moment_gain(f) == pytest.approx(expected, rel=CLOSED_FORM_RTOL)


@pytest.mark.parametrize(
    "slope",
    [0.0, 0.01, 0.1, 0.2, 0.5, 1.0, 3.0, -0.3],
    ids=["0", "0.01", "0.1", "0.2", "0.5", "1", "3", "neg0.3"],
)
def test_numeric_gain_matches_leaky_relu_formula(slope: float) -> None:
    gain = second_moment_gain(lambda x: np.where(x > 0, x, slope * x))
    assert gain == pytest.approx(calculate_gain("leaky_relu", slope), rel=CLOSED_FORM_RTOL)


@pytest.mark.parametrize("alpha", [0.0, 0.5, 1.0, 2.0, -1.0], ids=["0", "0.5", "1", "2", "neg1"])
def test_elu_closed_form(alpha: float) -> None:
    # E[elu(Z)**2] = 1/2 + alpha**2 * (e**2 Phi(-2) - 2 e**(1/2) Phi(-1) + 1/2), using
    # E[exp(cZ); Z < 0] = exp(c**2 / 2) Phi(-c).
    def phi_cdf(x: float) -> float:
        return 0.5 * math.erfc(-x / math.sqrt(2))

    tail = math.exp(2) * phi_cdf(-2) - 2 * math.exp(0.5) * phi_cdf(-1) + 0.5
    expected = 1 / math.sqrt(0.5 + alpha**2 * tail)
    assert calculate_gain("elu", alpha) == pytest.approx(expected, rel=CLOSED_FORM_RTOL)


def test_callable_through_calculate_gain() -> None:
    gain = calculate_gain(lambda x: np.maximum(x, 0))
    assert gain == pytest.approx(math.sqrt(2.0), rel=CLOSED_FORM_RTOL)


def test_callable_may_modify_its_input() -> None:
    def relu_in_place(x: np.ndarray) -> np.ndarray:
        x[x < 0] = 0.0
        return x

    first = second_moment_gain(relu_in_place)
    assert first == pytest.approx(math.sqrt(2.0), rel=CLOSED_FORM_RTOL)
    assert second_moment_gain(relu_in_place) == first


# --- numeric names against an independent brute-force integral --------------------------------


@pytest.mark.parametrize(
    ("name", "param", "reference"),
    [
        pytest.param("gelu", None, _ref_gelu, id="gelu"),
        pytest.param("gelu_tanh", None, _ref_gelu_tanh, id="gelu_tanh"),
        pytest.param("silu", None, _ref_silu, id="silu"),
        pytest.param("swish", None, _ref_silu, id="swish"),
        pytest.param("elu", None, _ref_elu(1.0), id="elu-default"),
        pytest.param("elu", 0.5, _ref_elu(0.5), id="elu-0.5"),
        pytest.param("elu", 2, _ref_elu(2.0), id="elu-int-2"),
        pytest.param("softplus", None, _ref_softplus(1.0), id="softplus-default"),
        pytest.param("softplus", 2.0, _ref_softplus(2.0), id="softplus-2"),
        pytest.param("softplus", 0.5, _ref_softplus(0.5), id="softplus-0.5"),
        pytest.param("mish", None, _ref_mish, id="mish"),
        pytest.param("hardswish", None, _ref_hardswish, id="hardswish"),
        pytest.param("hardsigmoid", None, _ref_hardsigmoid, id="hardsigmoid"),
        pytest.param("softsign", None, _ref_softsign, id="softsign"),
    ],
)
def test_numeric_name_matches_brute_force(name: str, param: float | None, reference: Fn) -> None:
    expected = 1 / math.sqrt(_brute_force_second_moment(reference))
    assert calculate_gain(name, param) == pytest.approx(expected, rel=BRUTE_FORCE_RTOL)


@pytest.mark.parametrize(
    ("f", "expected"),
    [
        pytest.param(np.tanh, 1.5925374197, id="tanh"),
        pytest.param(lambda x: 1 / (1 + np.exp(-x)), 1.8462285453, id="sigmoid"),
    ],
)
def test_numeric_gain_differs_from_torch_table(f: Fn, expected: float) -> None:
    gain = second_moment_gain(f)
    assert gain == pytest.approx(1 / math.sqrt(_brute_force_second_moment(f)), rel=BRUTE_FORCE_RTOL)
    assert gain == pytest.approx(expected, abs=1e-10)  # the value the module docstring quotes


def test_numeric_selu_gain_is_one() -> None:
    alpha = 1.6732632423543772848170429916717
    scale = 1.0507009873554804934193349852946

    def selu(x: np.ndarray) -> np.ndarray:
        return scale * np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))

    assert second_moment_gain(selu) == pytest.approx(1.0, rel=1e-9)
    assert calculate_gain("selu") == 0.75


# Golden values: the numbers the module docstring quotes, so neither can drift silently.
@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param("gelu", 1.5335304412, id="gelu"),
        pytest.param("gelu_tanh", 1.5335805217, id="gelu_tanh"),
        pytest.param("silu", 1.6765324703, id="silu"),
        pytest.param("swish", 1.6765324703, id="swish"),
        pytest.param("elu", 1.2451983007, id="elu"),
        pytest.param("softplus", 1.0418668355, id="softplus"),
        pytest.param("mish", 1.4868475813, id="mish"),
        pytest.param("hardswish", 1.7366572128, id="hardswish"),
        pytest.param("hardsigmoid", 1.8978404247, id="hardsigmoid"),
        pytest.param("softsign", 2.3375333631, id="softsign"),
    ],
)
def test_numeric_golden_value(name: str, expected: float) -> None:
    assert calculate_gain(name) == pytest.approx(expected, abs=1e-10)


def test_swish_is_silu() -> None:
    assert calculate_gain("swish") == calculate_gain("silu")


def test_gelu_tanh_approximates_gelu() -> None:
    assert calculate_gain("gelu_tanh") == pytest.approx(calculate_gain("gelu"), rel=1e-4)


# --- errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "param", "error", "match"),
    [
        pytest.param("elu", math.nan, ValueError, "alpha.*finite", id="elu-nan"),
        pytest.param("elu", math.inf, ValueError, "alpha.*finite", id="elu-inf"),
        pytest.param("elu", -math.inf, ValueError, "alpha.*finite", id="elu-neg-inf"),
        pytest.param("elu", True, TypeError, "alpha.*not a bool", id="elu-bool"),
        pytest.param("elu", "1.0", TypeError, "alpha.*int or a float", id="elu-str"),
        pytest.param("softplus", 0.0, ValueError, r"beta.*> 0", id="softplus-zero"),
        pytest.param("softplus", -1.0, ValueError, r"beta.*> 0", id="softplus-negative"),
        pytest.param("softplus", math.nan, ValueError, r"beta.*> 0", id="softplus-nan"),
        pytest.param("softplus", math.inf, ValueError, r"beta.*> 0", id="softplus-inf"),
        pytest.param("softplus", False, TypeError, "beta.*not a bool", id="softplus-bool"),
        pytest.param("gelu", 0.5, ValueError, "'gelu' takes no param", id="gelu-param"),
        pytest.param("mish", 0.0, ValueError, "'mish' takes no param", id="mish-param"),
    ],
)
def test_invalid_param(name: str, param: Any, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match) as info:
        calculate_gain(name, param)
    assert str(info.value).endswith(f"Received: param={param!r}")


def test_callable_with_param() -> None:
    with pytest.raises(ValueError, match=r"param must be None.*Received: param=0\.2"):
        calculate_gain(lambda x: x, 0.2)


@pytest.mark.parametrize(
    ("f", "error", "match"),
    [
        pytest.param(lambda x: np.where(x > 1, np.inf, x), ValueError, "finite", id="inf"),
        pytest.param(lambda x: np.where(x < -1, np.nan, x), ValueError, "finite", id="nan"),
        pytest.param(np.zeros_like, ValueError, r"E\[f\(Z\)\*\*2\] is 0", id="zero"),
        pytest.param(lambda x: 1e200 * x, ValueError, "overflows", id="overflow"),
        pytest.param(lambda x: 1.0, ValueError, "elementwise", id="scalar"),
        pytest.param(lambda x: x[:10], ValueError, "elementwise", id="wrong-shape"),
        pytest.param(lambda x: x + 1j, TypeError, "real numbers", id="complex"),
        pytest.param(lambda x: x.astype(str), TypeError, "real numbers", id="strings"),
    ],
)
def test_invalid_callable(f: Fn, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match) as info:
        calculate_gain(f)
    assert "Received: f=" in str(info.value)


def test_second_moment_gain_needs_a_callable() -> None:
    with pytest.raises(TypeError, match=r"callable.*Received: f=3"):
        second_moment_gain(3)  # type: ignore[arg-type]
