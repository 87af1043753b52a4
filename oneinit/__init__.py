"""oneinit: one weight-initialization scheme, the same in PyTorch, Keras 3, PaddlePaddle and MXNet.

The core (this package) computes fans, gains, bounds and portable seeded values with numpy only;
``oneinit.adapters.<framework>`` exposes every scheme as that framework's native initializer.
Importing ``oneinit`` imports numpy and nothing else.

>>> import oneinit
>>> oneinit.compute_fans((16, 32, 3, 3), "conv_transpose_in_out")   # torch ConvTranspose2d 16->32
Fans(fan_in=144, fan_out=288, receptive_field=9)
>>> oneinit.HeNormal().distribution_for(oneinit.compute_fans((64, 16, 3, 3), "conv_out_in"))
NormalDistribution(mean=0.0, std=0.11785113019775793, lower=-inf, upper=inf)
"""

from __future__ import annotations

from .core.fans import (
    FAN_CONVENTIONS,
    LAYOUTS,
    Fans,
    Layout,
    canonical_shape,
    compute_fans,
    from_canonical,
    get_layout,
    to_canonical,
)
from .core.gains import calculate_gain, second_moment_gain
from .core.random import NormalDistribution, Stream, UniformDistribution, key_from_name
from .core.schemes import (
    Assign,
    Bilinear,
    Constant,
    ConstantScheme,
    CustomScheme,
    DeltaOrthogonal,
    Dirac,
    FunctionScheme,
    GateBias,
    Generator,
    GlorotNormal,
    GlorotUniform,
    HeNormal,
    HeUniform,
    Identity,
    KaimingNormal,
    KaimingUniform,
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
    XavierNormal,
    XavierUniform,
    Zeros,
    scheme_from_config,
)

__version__ = "0.1.0"

__all__ = [
    "FAN_CONVENTIONS",
    "LAYOUTS",
    "Assign",
    "Bilinear",
    "Constant",
    "ConstantScheme",
    "CustomScheme",
    "DeltaOrthogonal",
    "Dirac",
    "Fans",
    "FunctionScheme",
    "GateBias",
    "Generator",
    "GlorotNormal",
    "GlorotUniform",
    "HeNormal",
    "HeUniform",
    "Identity",
    "KaimingNormal",
    "KaimingUniform",
    "Layout",
    "LecunNormal",
    "LecunUniform",
    "Normal",
    "NormalDistribution",
    "Ones",
    "Orthogonal",
    "RandomScheme",
    "Scheme",
    "Sparse",
    "Stream",
    "TruncatedNormal",
    "Uniform",
    "UniformDistribution",
    "VarianceScaling",
    "XavierNormal",
    "XavierUniform",
    "Zeros",
    "calculate_gain",
    "canonical_shape",
    "compute_fans",
    "from_canonical",
    "get_layout",
    "key_from_name",
    "scheme_from_config",
    "second_moment_gain",
    "to_canonical",
]
