"""What the parity tests and the parity report measure, on the dumps of the four workers.

numpy and oneinit only. Every tolerance here is derived from the sample size or from the
float format, never tuned to make a result pass:

- **KS distance** to the theoretical CDF, against the asymptotic critical value
  ``sqrt(-ln(alpha / 2) / 2) / sqrt(n)`` (two samples: ``... * sqrt((n + m) / (n m))``).
  ``ALPHA`` is a family-wise 1 % split over the ~1000 tests of one parity run (Bonferroni), so a
  correct library fails none of them by chance; the seeds are fixed, so none is ever flaky.
- **Variance**: ``z = (s^2 - sigma^2) / se``, with ``se = sqrt((m4 - s^4) / n)`` from the
  sample's own fourth moment (distribution-free), two-sided at the same ``ALPHA``.
- **Bounds**: a bounded distribution never leaves ``[low, high]`` widened by half an ulp of the
  parameter dtype (the frameworks round bounds to the nearest representable value).
- **Orthogonality**: ``max |W W^T - g^2 I|`` (per block, the short side) at most
  ``g^2 (2 u + k 2^-24)``: ``u`` is the unit roundoff of the parameter dtype (each entry is off by
  at most ``u`` relative, and by Cauchy-Schwarz the row products by ``2 u g^2``), ``k 2^-24``
  bounds a float32 dot product of length ``k``.
- **Seeded values**: equal to the core's bit for bit when the scheme draws uniforms only
  (uniform family, user mixtures, constants); within 1 float32 ulp when a transcendental
  function or a QR decomposition is involved (normals, orthogonal): the core's own ``log`` and
  ``sqrt`` are IEEE-exact, but the frameworks' float32 casts and numpy builds may differ in the
  last bit.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import spec

import oneinit
from oneinit.core.random import NormalDistribution, UniformDistribution
from oneinit.core.rules import Rule, Rules
from oneinit.explain import cdf

ALPHA = 1e-5
#: Unit roundoff of each parameter dtype.
UNIT_ROUNDOFF = {"float32": 2.0**-24, "bfloat16": 2.0**-9}


def ks_critical(n: int, m: int | None = None, alpha: float = ALPHA) -> float:
    """Asymptotic KS critical value for one sample of ``n`` or two of ``n`` and ``m``."""
    c = math.sqrt(-math.log(alpha / 2.0) / 2.0)
    return c * math.sqrt(1.0 / n + (0.0 if m is None else 1.0 / m))


def z_critical(alpha: float = ALPHA) -> float:
    """Two-sided normal critical value (inverse CDF by bisection on erfc)."""
    low, high = 0.0, 40.0
    for _ in range(200):
        mid = (low + high) / 2.0
        if math.erfc(mid / math.sqrt(2.0)) > alpha:
            low = mid
        else:
            high = mid
    return high


@dataclass(frozen=True)
class Theory:
    """What one parameter should look like: a CDF (random schemes), bounds, std, or structure."""

    label: str
    std: float | None
    cdf: Callable[[np.ndarray], np.ndarray] | None = None
    low: float | None = None
    high: float | None = None
    density: Callable[[np.ndarray], np.ndarray] | None = None
    orthogonal_gain: float | None = None
    blocks: int = 1
    exact: bool = False  # seeded values equal the core's bit for bit


def theory(
    scheme: oneinit.Scheme, info_fans: oneinit.Fans | None, blocks: int, shape: tuple[int, ...]
) -> Theory:
    """The theory of ``scheme`` for a canonical weight of ``shape`` with ``fans``."""
    if isinstance(scheme, oneinit.RandomScheme):
        d = scheme.distribution_for(info_fans)
        if isinstance(d, UniformDistribution):
            width = d.high - d.low
            return Theory(
                f"U({d.low:.4g}, {d.high:.4g})",
                d.std,
                lambda x: cdf(d, x),
                d.low,
                d.high,
                lambda x: np.where((x >= d.low) & (x <= d.high), 1.0 / width, 0.0),
                exact=True,
            )
        assert isinstance(d, NormalDistribution)
        truncated = d.truncated
        label = f"N({d.mean:.3g}, {d.std:.4g})" + (
            f" in [{d.lower:.3g}, {d.upper:.3g}] std" if truncated else ""
        )

        def density(x: np.ndarray, d: NormalDistribution = d) -> np.ndarray:
            z = (x - d.mean) / d.std
            mass = 0.5 * (math.erf(d.upper / math.sqrt(2)) - math.erf(d.lower / math.sqrt(2)))
            inside = (z >= d.lower) & (z <= d.upper)
            return np.where(
                inside, np.exp(-0.5 * z * z) / (d.std * math.sqrt(2 * math.pi) * mass), 0.0
            )

        return Theory(
            label,
            d.actual_std,
            lambda x: cdf(d, x),
            d.low if truncated else None,
            d.high if truncated else None,
            density,
        )
    if isinstance(scheme, oneinit.Orthogonal):
        rows = shape[0] // blocks
        cols = math.prod(shape[1:])
        std = scheme.gain / math.sqrt(max(rows, cols))
        return Theory(
            f"orthogonal, gain {scheme.gain:g}" + (f", {blocks} blocks" if blocks > 1 else ""),
            std,
            orthogonal_gain=scheme.gain,
            blocks=blocks,
            density=lambda x: np.exp(-0.5 * (x / std) ** 2) / (std * math.sqrt(2 * math.pi)),
        )
    if isinstance(scheme, spec.SignedBandMixture):
        m = scheme
        var = 2 * m.p_band * (m.high**3 - m.low**3) / (3 * (m.high - m.low))
        return Theory(
            "signed band mixture",
            math.sqrt(var),
            m.cdf,
            -m.high,
            m.high,
            exact=True,
        )
    raise ValueError(f"No theory for {scheme!r}")


def layer_theories(scheme: oneinit.Scheme, layer: spec.Layer) -> dict[str, Theory]:
    """Theory per weight slot of a layer case (as ``spec.layer_values`` plans it)."""
    plan = Rules(Rule(scheme)).plan(spec.layer_infos(layer))
    return {a.param.name: theory(scheme, a.fans, a.blocks, a.param.shape) for a in plan}


@dataclass(frozen=True)
class Check:
    """One measured quantity against its limit."""

    what: str
    value: float
    limit: float

    @property
    def ok(self) -> bool:
        return bool(self.value <= self.limit)

    def __str__(self) -> str:
        return f"{self.what} {self.value:.3g} (limit {self.limit:.3g})"


def ks_distance(cdf: Callable[[np.ndarray], np.ndarray], sample: np.ndarray) -> float:
    """sup |F_n - F|, exact for distributions with atoms too (the mixture's zeros): at each
    distinct value ``u`` the empirical CDF jumps from ``#(x < u) / n`` to ``#(x <= u) / n``
    while ``F`` jumps from ``F(u-)`` to ``F(u)``.
    """
    x = np.asarray(sample, dtype=np.float64).ravel()
    values, counts = np.unique(x, return_counts=True)
    above = np.cumsum(counts) / x.size
    below = above - counts / x.size
    f = cdf(values)
    f_left = cdf(np.nextafter(values, -np.inf))
    return float(max(np.max(np.abs(above - f)), np.max(np.abs(below - f_left))))


def ks_two_sample(a: np.ndarray, b: np.ndarray) -> float:
    a = np.sort(np.asarray(a, dtype=np.float64).ravel())
    b = np.sort(np.asarray(b, dtype=np.float64).ravel())
    grid = np.concatenate([a, b])
    fa = np.searchsorted(a, grid, side="right") / a.size
    fb = np.searchsorted(b, grid, side="right") / b.size
    return float(np.max(np.abs(fa - fb)))


def variance_z(sample: np.ndarray, std: float) -> float:
    """|z| of the sample variance against ``std**2`` (se from the sample's fourth moment)."""
    x = np.asarray(sample, dtype=np.float64).ravel()
    centered = x - x.mean()
    s2 = float(np.mean(centered**2))
    m4 = float(np.mean(centered**4))
    se = math.sqrt(max(m4 - s2 * s2, 1e-300) / x.size)
    return abs(s2 - std * std) / se


def half_ulp(value: float, dtype: str) -> float:
    if value == 0:
        return 0.0
    exponent = math.floor(math.log2(abs(value)))
    mantissa_bits = 23 if dtype == "float32" else 7
    return 2.0 ** (exponent - mantissa_bits - 1)


def orthogonality_error(values: np.ndarray, gain: float, blocks: int) -> tuple[float, int]:
    """Largest ``|W W^T - g^2 I|`` over blocks (short side), and the dot-product length."""
    rows = values.shape[0] // blocks
    matrix = np.asarray(values, dtype=np.float64).reshape(values.shape[0], -1)
    worst, length = 0.0, 0
    for b in range(blocks):
        block = matrix[b * rows : (b + 1) * rows]
        if block.shape[0] > block.shape[1]:
            block = block.T
        gram = block @ block.T
        worst = max(worst, float(np.max(np.abs(gram - gain * gain * np.eye(gram.shape[0])))))
        length = block.shape[1]
    return worst, length


def statistical_checks(values: np.ndarray, t: Theory, dtype: str = "float32") -> list[Check]:
    """Every check an unseeded sample must pass against its theory."""
    x = np.asarray(values, dtype=np.float64)
    checks = []
    if t.orthogonal_gain is not None:
        error, length = orthogonality_error(x, t.orthogonal_gain, t.blocks)
        g2 = t.orthogonal_gain**2
        checks.append(
            Check("orthogonality", error, g2 * (2 * UNIT_ROUNDOFF[dtype] + length * 2.0**-24))
        )
        return checks
    if t.cdf is not None:
        checks.append(Check("KS", ks_distance(t.cdf, x), ks_critical(x.size)))
    if t.std is not None and t.std > 0:
        checks.append(Check("variance |z|", variance_z(x, t.std), z_critical()))
    if t.low is not None and t.high is not None:
        below = max(0.0, float(t.low - x.min()) - half_ulp(t.low, dtype))
        above = max(0.0, float(x.max() - t.high) - half_ulp(t.high, dtype))
        checks.append(Check("outside bounds", max(below, above), 0.0))
    return checks


def seeded_mismatch(
    values: np.ndarray, expected: np.ndarray, exact: bool, dtype: str = "float32"
) -> Check:
    """Largest ulp distance of seeded values from the core's (limit 0 exact, else 1)."""
    if values.shape != expected.shape:
        return Check(f"shape {values.shape} != {expected.shape}", math.inf, 0.0)
    if dtype == "bfloat16":
        expected = to_bfloat16(expected)
    distance = spec.ulp_distance(values, expected)
    worst = float(distance.max()) if distance.size else 0.0
    return Check("ulp", worst, 0.0 if exact else 1.0)


def to_bfloat16(values: np.ndarray) -> np.ndarray:
    """float32 values rounded to bfloat16 (round to nearest even), as float32."""
    bits = np.asarray(values, dtype=np.float32).view(np.uint32).astype(np.uint64)
    rounding = 0x7FFF + ((bits >> 16) & 1)
    rounded = ((bits + rounding) >> 16) << 16
    return rounded.astype(np.uint32).view(np.float32)


def scheme_is_exact(scheme: oneinit.Scheme | None, fans: oneinit.Fans | None) -> bool:
    """Whether seeded values of ``scheme`` are bit-exact across frameworks (uniforms only)."""
    if scheme is None or isinstance(scheme, (oneinit.ConstantScheme, oneinit.CustomScheme)):
        return True
    if isinstance(scheme, oneinit.RandomScheme):
        return isinstance(scheme.distribution_for(fans), UniformDistribution)
    return False
