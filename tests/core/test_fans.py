"""Tests for oneinit.core.fans: layouts, fans and the canonical layout.

Every cell of frameworks.md table 2.2 is pinned twice: the mathematically right fans from the
layout each framework stores the layer in (``compute_fans(shape, layout, groups=, blocks=)``), and
each framework's own rule on the same storage shape (``fan_convention=``), wrong cells included.
Example sizes from the table: in=16, out=32, 3x3 kernels, groups=4, LSTM input 20 with H=50,
vocabulary 1000 x 64, multi-head attention E=64 with 4 heads.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from oneinit.core.fans import (
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

# Keras EinsumDense kernels of MultiHeadAttention: query/key/value "abc,cde->abde" (64, 4, 16),
# output "abcd,cde->abe" (4, 16, 64). Flax DenseGeneral uses the same storage.
MHA_QKV = Layout.einsum(in_axes=(0,), out_axes=(1, 2))
MHA_OUT = Layout.einsum(in_axes=(0, 1), out_axes=(2,))


# --------------------------------------------------------------------------------------------
# Table 2.2 with the right fans: fan_in = in / groups * rf, fan_out = out / groups / blocks * rf.

CORRECT_FANS = [
    # Dense / Linear
    pytest.param((32, 16), "dense_out_in", 1, 1, (16, 32, 1), id="dense-torch"),
    pytest.param((16, 32), "dense_in_out", 1, 1, (16, 32, 1), id="dense-keras"),
    pytest.param((16, 32), "dense_in_out", 1, 1, (16, 32, 1), id="dense-paddle"),
    pytest.param((32, 16), "dense_out_in", 1, 1, (16, 32, 1), id="dense-mxnet"),
    pytest.param((16, 32), "dense_in_out", 1, 1, (16, 32, 1), id="dense-flax"),
    # Conv1D k=3
    pytest.param((32, 16, 3), "conv_out_in", 1, 1, (48, 96, 3), id="conv1d-torch"),
    pytest.param((3, 16, 32), "conv_k_in_out", 1, 1, (48, 96, 3), id="conv1d-keras"),
    pytest.param((32, 16, 3), "conv_out_in", 1, 1, (48, 96, 3), id="conv1d-paddle"),
    pytest.param((32, 16, 3), "conv_out_in", 1, 1, (48, 96, 3), id="conv1d-mxnet"),
    pytest.param((3, 16, 32), "conv_k_in_out", 1, 1, (48, 96, 3), id="conv1d-flax"),
    # Conv2D 3x3
    pytest.param((32, 16, 3, 3), "conv_out_in", 1, 1, (144, 288, 9), id="conv2d-torch"),
    pytest.param((3, 3, 16, 32), "conv_k_in_out", 1, 1, (144, 288, 9), id="conv2d-keras"),
    pytest.param((32, 16, 3, 3), "conv_out_in", 1, 1, (144, 288, 9), id="conv2d-paddle"),
    pytest.param((32, 16, 3, 3), "conv_out_in", 1, 1, (144, 288, 9), id="conv2d-mxnet"),
    pytest.param((3, 3, 16, 32), "conv_k_in_out", 1, 1, (144, 288, 9), id="conv2d-flax"),
    # Conv3D 3x3x3
    pytest.param((32, 16, 3, 3, 3), "conv_out_in", 1, 1, (432, 864, 27), id="conv3d-torch"),
    pytest.param((3, 3, 3, 16, 32), "conv_k_in_out", 1, 1, (432, 864, 27), id="conv3d-keras"),
    pytest.param((32, 16, 3, 3, 3), "conv_out_in", 1, 1, (432, 864, 27), id="conv3d-paddle"),
    pytest.param((32, 16, 3, 3, 3), "conv_out_in", 1, 1, (432, 864, 27), id="conv3d-mxnet"),
    pytest.param((3, 3, 3, 16, 32), "conv_k_in_out", 1, 1, (432, 864, 27), id="conv3d-flax"),
    # ConvTranspose2D 16 -> 32: one input reaches 32 * 9 outputs; one output sums 16 * 9 inputs
    pytest.param(
        (16, 32, 3, 3), "conv_transpose_in_out", 1, 1, (144, 288, 9), id="conv_transpose2d-torch"
    ),
    pytest.param(
        (3, 3, 32, 16),
        "conv_transpose_k_out_in",
        1,
        1,
        (144, 288, 9),
        id="conv_transpose2d-keras",
    ),
    pytest.param(
        (16, 32, 3, 3), "conv_transpose_in_out", 1, 1, (144, 288, 9), id="conv_transpose2d-paddle"
    ),
    pytest.param(
        (16, 32, 3, 3), "conv_transpose_in_out", 1, 1, (144, 288, 9), id="conv_transpose2d-mxnet"
    ),
    pytest.param(
        (3, 3, 16, 32), "conv_k_in_out", 1, 1, (144, 288, 9), id="conv_transpose2d-flax-default"
    ),
    pytest.param(
        (3, 3, 32, 16),
        "conv_transpose_k_out_in",
        1,
        1,
        (144, 288, 9),
        id="conv_transpose2d-flax-transpose_kernel",
    ),
    # Grouped ConvTranspose2D 16 -> 32, g=4 (torch stores (in, out/g, *k)): not in the table
    pytest.param(
        (16, 8, 3, 3),
        "conv_transpose_in_out",
        4,
        1,
        (36, 72, 9),
        id="grouped_conv_transpose2d-torch",
    ),
    # Grouped Conv2D g=4: the per-group fan_out is 32/4 * 9 = 72 (footnote 1: frameworks say 288)
    pytest.param((32, 4, 3, 3), "conv_out_in", 4, 1, (36, 72, 9), id="grouped_conv2d-torch"),
    pytest.param((3, 3, 4, 32), "conv_k_in_out", 4, 1, (36, 72, 9), id="grouped_conv2d-keras"),
    pytest.param((32, 4, 3, 3), "conv_out_in", 4, 1, (36, 72, 9), id="grouped_conv2d-paddle"),
    pytest.param((32, 4, 3, 3), "conv_out_in", 4, 1, (36, 72, 9), id="grouped_conv2d-mxnet"),
    pytest.param((3, 3, 4, 32), "conv_k_in_out", 4, 1, (36, 72, 9), id="grouped_conv2d-flax"),
    # Depthwise 16 channels: one output sums 9 inputs, one input reaches 9 outputs
    pytest.param((16, 1, 3, 3), "conv_out_in", 16, 1, (9, 9, 9), id="depthwise-torch"),
    pytest.param((3, 3, 16, 1), "depthwise_k_in_mult", 1, 1, (9, 9, 9), id="depthwise-keras"),
    pytest.param((16, 1, 3, 3), "conv_out_in", 16, 1, (9, 9, 9), id="depthwise-paddle"),
    pytest.param((16, 1, 3, 3), "conv_out_in", 16, 1, (9, 9, 9), id="depthwise-mxnet"),
    pytest.param((3, 3, 1, 16), "conv_k_in_out", 16, 1, (9, 9, 9), id="depthwise-flax"),
    # Separable (Keras): depthwise with multiplier 2, then pointwise 1x1
    pytest.param(
        (3, 3, 16, 2), "depthwise_k_in_mult", 1, 1, (9, 18, 9), id="separable_depthwise-keras"
    ),
    pytest.param(
        (1, 1, 16, 32), "conv_k_in_out", 1, 1, (16, 32, 1), id="separable_pointwise-keras"
    ),
    # Embedding 1000 x 64: a lookup is a dense layer on one-hot inputs (in = vocabulary)
    pytest.param((1000, 64), "embedding", 1, 1, (1000, 64, 1), id="embedding-torch"),
    pytest.param((1000, 64), "embedding", 1, 1, (1000, 64, 1), id="embedding-keras"),
    pytest.param((1000, 64), "embedding", 1, 1, (1000, 64, 1), id="embedding-paddle"),
    pytest.param((1000, 64), "embedding", 1, 1, (1000, 64, 1), id="embedding-mxnet"),
    pytest.param((1000, 64), "embedding", 1, 1, (1000, 64, 1), id="embedding-flax"),
    # LSTM input weight: 4 gates stacked on the output axis, fan_out is one gate's H
    pytest.param((200, 20), "recurrent_out_in", 1, 4, (20, 50, 1), id="lstm_input-torch"),
    pytest.param((20, 200), "recurrent_in_out", 1, 4, (20, 50, 1), id="lstm_input-keras"),
    pytest.param((200, 20), "recurrent_out_in", 1, 4, (20, 50, 1), id="lstm_input-paddle"),
    pytest.param((200, 20), "recurrent_out_in", 1, 4, (20, 50, 1), id="lstm_input-mxnet"),
    pytest.param((20, 50), "dense_in_out", 1, 1, (20, 50, 1), id="lstm_input-flax-per_gate"),
    # LSTM recurrent weight
    pytest.param((200, 50), "recurrent_out_in", 1, 4, (50, 50, 1), id="lstm_recurrent-torch"),
    pytest.param((50, 200), "recurrent_in_out", 1, 4, (50, 50, 1), id="lstm_recurrent-keras"),
    pytest.param((200, 50), "recurrent_out_in", 1, 4, (50, 50, 1), id="lstm_recurrent-paddle"),
    pytest.param((200, 50), "recurrent_out_in", 1, 4, (50, 50, 1), id="lstm_recurrent-mxnet"),
    pytest.param((50, 50), "dense_in_out", 1, 1, (50, 50, 1), id="lstm_recurrent-flax-per_gate"),
    # MHA E=64, 4 heads: every projection is (64 -> 64)
    pytest.param((192, 64), "dense_out_in", 1, 3, (64, 64, 1), id="mha_in_proj-torch"),
    pytest.param((64, 4, 16), MHA_QKV, 1, 1, (64, 64, 1), id="mha_query-keras"),
    pytest.param((4, 16, 64), MHA_OUT, 1, 1, (64, 64, 1), id="mha_output-keras"),
    pytest.param((64, 64), "dense_in_out", 1, 1, (64, 64, 1), id="mha_query-paddle"),
    pytest.param((64, 4, 16), MHA_QKV, 1, 1, (64, 64, 1), id="mha_query-flax"),
]


@pytest.mark.parametrize(("shape", "layout", "groups", "blocks", "expected"), CORRECT_FANS)
def test_correct_fans(
    shape: tuple[int, ...],
    layout: str | Layout,
    groups: int,
    blocks: int,
    expected: tuple[int, int, int],
) -> None:
    fans = compute_fans(shape, layout, groups=groups, blocks=blocks)
    assert fans == Fans(*expected)


# --------------------------------------------------------------------------------------------
# Table 2.2 with each framework's own rule on the storage shape (bug for bug).

FRAMEWORK_FANS = [
    # Dense / Linear
    pytest.param((32, 16), "torch", (16, 32), id="dense-torch"),
    pytest.param((16, 32), "keras", (16, 32), id="dense-keras"),
    pytest.param((16, 32), "paddle", (16, 32), id="dense-paddle"),
    pytest.param((32, 16), "mxnet", (16, 32), id="dense-mxnet"),
    pytest.param((16, 32), "jax", (16, 32), id="dense-flax"),
    # Conv1D
    pytest.param((32, 16, 3), "torch", (48, 96), id="conv1d-torch"),
    pytest.param((3, 16, 32), "keras", (48, 96), id="conv1d-keras"),
    pytest.param((32, 16, 3), "paddle", (48, 96), id="conv1d-paddle"),
    pytest.param((32, 16, 3), "mxnet", (48, 96), id="conv1d-mxnet"),
    pytest.param((3, 16, 32), "jax", (48, 96), id="conv1d-flax"),
    # Conv2D
    pytest.param((32, 16, 3, 3), "torch", (144, 288), id="conv2d-torch"),
    pytest.param((3, 3, 16, 32), "keras", (144, 288), id="conv2d-keras"),
    pytest.param((32, 16, 3, 3), "paddle", (144, 288), id="conv2d-paddle"),
    pytest.param((32, 16, 3, 3), "mxnet", (144, 288), id="conv2d-mxnet"),
    pytest.param((3, 3, 16, 32), "jax", (144, 288), id="conv2d-flax"),
    # Conv3D
    pytest.param((32, 16, 3, 3, 3), "torch", (432, 864), id="conv3d-torch"),
    pytest.param((3, 3, 3, 16, 32), "keras", (432, 864), id="conv3d-keras"),
    pytest.param((32, 16, 3, 3, 3), "paddle", (432, 864), id="conv3d-paddle"),
    pytest.param((32, 16, 3, 3, 3), "mxnet", (432, 864), id="conv3d-mxnet"),
    pytest.param((3, 3, 3, 16, 32), "jax", (432, 864), id="conv3d-flax"),
    # ConvTranspose2D 16 -> 32: swapped (wrong) everywhere but Flax's default kernel
    pytest.param((16, 32, 3, 3), "torch", (288, 144), id="conv_transpose2d-torch-wrong"),
    pytest.param((3, 3, 32, 16), "keras", (288, 144), id="conv_transpose2d-keras-wrong"),
    pytest.param((16, 32, 3, 3), "paddle", (288, 144), id="conv_transpose2d-paddle-wrong"),
    pytest.param((16, 32, 3, 3), "mxnet", (288, 144), id="conv_transpose2d-mxnet-wrong"),
    pytest.param((3, 3, 16, 32), "jax", (144, 288), id="conv_transpose2d-flax-default"),
    pytest.param(
        (3, 3, 32, 16), "jax", (288, 144), id="conv_transpose2d-flax-transpose_kernel-wrong"
    ),
    # Grouped Conv2D g=4 (footnote 1: per-group fan_in, all-output fan_out)
    pytest.param((32, 4, 3, 3), "torch", (36, 288), id="grouped_conv2d-torch"),
    pytest.param((3, 3, 4, 32), "keras", (36, 288), id="grouped_conv2d-keras"),
    pytest.param((32, 4, 3, 3), "paddle", (36, 288), id="grouped_conv2d-paddle"),
    pytest.param((32, 4, 3, 3), "mxnet", (36, 288), id="grouped_conv2d-mxnet"),
    pytest.param((3, 3, 4, 32), "jax", (36, 288), id="grouped_conv2d-flax"),
    # Depthwise 16 channels
    pytest.param((16, 1, 3, 3), "torch", (9, 144), id="depthwise-torch"),
    pytest.param((3, 3, 16, 1), "keras", (144, 9), id="depthwise-keras-wrong"),
    pytest.param((16, 1, 3, 3), "paddle", (9, 144), id="depthwise-paddle"),
    pytest.param((16, 1, 3, 3), "mxnet", (9, 144), id="depthwise-mxnet"),
    pytest.param((3, 3, 1, 16), "jax", (9, 144), id="depthwise-flax"),
    # Separable (Keras): the depthwise kernel is wrong as above, the pointwise one right
    pytest.param((3, 3, 16, 2), "keras", (144, 18), id="separable_depthwise-keras-wrong"),
    pytest.param((1, 1, 16, 32), "keras", (16, 32), id="separable_pointwise-keras"),
    # Embedding 1000 x 64
    pytest.param((1000, 64), "torch", (64, 1000), id="embedding-torch"),
    pytest.param((1000, 64), "keras", (1000, 64), id="embedding-keras"),
    pytest.param((1000, 64), "paddle", (1000, 64), id="embedding-paddle"),
    pytest.param((1000, 64), "mxnet", (64, 1000), id="embedding-mxnet"),
    # The jax rule with its default axes; Flax's embed init points both axes at the vocabulary,
    # which fan_convention="jax" (default axes only) does not model.
    pytest.param((1000, 64), "jax", (1000, 64), id="embedding-flax-default_axes"),
    # LSTM input weight
    pytest.param((200, 20), "torch", (20, 200), id="lstm_input-torch"),
    pytest.param((20, 200), "keras", (20, 200), id="lstm_input-keras"),
    pytest.param((200, 20), "paddle", (200, 20), id="lstm_input-paddle-wrong"),
    pytest.param((200, 20), "mxnet", (20, 200), id="lstm_input-mxnet"),
    pytest.param((20, 50), "jax", (20, 50), id="lstm_input-flax-per_gate"),
    # LSTM recurrent weight
    pytest.param((200, 50), "torch", (50, 200), id="lstm_recurrent-torch"),
    pytest.param((50, 200), "keras", (50, 200), id="lstm_recurrent-keras"),
    pytest.param((200, 50), "paddle", (200, 50), id="lstm_recurrent-paddle-wrong"),
    pytest.param((200, 50), "mxnet", (50, 200), id="lstm_recurrent-mxnet"),
    pytest.param((50, 50), "jax", (50, 50), id="lstm_recurrent-flax-per_gate"),
    # MHA E=64, 4 heads
    pytest.param((192, 64), "torch", (64, 192), id="mha_in_proj-torch-stacked"),
    pytest.param((64, 4, 16), "keras", (256, 1024), id="mha_query-keras-raw_rule-wrong"),
    pytest.param((64, 64), "paddle", (64, 64), id="mha_query-paddle"),
    pytest.param((64, 4, 16), "jax", (256, 1024), id="mha_query-jax-raw_rule-wrong"),
    pytest.param((64, 64), "jax", (64, 64), id="mha_query-flax-flattened"),
]


@pytest.mark.parametrize(("shape", "convention", "expected"), FRAMEWORK_FANS)
def test_framework_fan_rules(
    shape: tuple[int, ...], convention: str, expected: tuple[int, int]
) -> None:
    fans = compute_fans(shape, fan_convention=convention)
    assert (fans.fan_in, fans.fan_out) == expected


@pytest.mark.parametrize(
    ("shape", "convention", "expected"),
    [
        pytest.param((), "keras", (1, 1), id="keras-scalar"),
        pytest.param((7,), "keras", (7, 7), id="keras-vector"),
        pytest.param((), "paddle", (1, 1), id="paddle-scalar"),
        pytest.param((7,), "paddle", (7, 7), id="paddle-vector"),
    ],
)
def test_framework_rules_low_rank(
    shape: tuple[int, ...], convention: str, expected: tuple[int, int]
) -> None:
    fans = compute_fans(shape, fan_convention=convention)
    assert (fans.fan_in, fans.fan_out) == expected


@pytest.mark.parametrize(
    ("shape", "convention"),
    [
        pytest.param((7,), "torch", id="torch-vector"),
        pytest.param((7,), "mxnet", id="mxnet-vector"),
        pytest.param((7,), "jax", id="jax-vector"),
        pytest.param((), "torch", id="torch-scalar"),
    ],
)
def test_framework_rules_reject_low_rank(shape: tuple[int, ...], convention: str) -> None:
    with pytest.raises(ValueError, match="Received: shape=") as info:
        compute_fans(shape, fan_convention=convention)
    assert "2 dimensions" in str(info.value)


def test_framework_rules_ignore_layout_groups_and_blocks() -> None:
    raw = compute_fans((32, 4, 3, 3), fan_convention="torch")
    assert (
        compute_fans((32, 4, 3, 3), "conv_out_in", groups=4, blocks=2, fan_convention="torch")
        == raw
    )


def test_fan_conventions_listed() -> None:
    assert FAN_CONVENTIONS == ("oneinit", "torch", "keras", "paddle", "mxnet", "jax")


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        pytest.param("fan_in", 36.0, id="fan_in"),
        pytest.param("fan_out", 72.0, id="fan_out"),
        pytest.param("fan_avg", 54.0, id="fan_avg"),
        pytest.param("fan_geo_avg", (36 * 72) ** 0.5, id="fan_geo_avg"),
    ],
)
def test_fan_modes(mode: str, expected: float) -> None:
    assert Fans(36, 72, 9).fan(mode) == expected


def test_fan_unknown_mode() -> None:
    with pytest.raises(ValueError, match=r"Received: mode='fan_sum'"):
        Fans(36, 72, 9).fan("fan_sum")


# --------------------------------------------------------------------------------------------
# The canonical layout (out, in / groups, *kernel): round trips and the element mapping.

# Each case: storage shape, layout, groups, and the reference map from a storage index to the
# canonical index, written out per preset independently of the library.
OUT, IN, K = 8, 6, (3, 2)  # out, in, kernel: small, all different, so a mix-up cannot pass


def _ref_transpose_grouped(
    shape: tuple[int, ...], groups: int
) -> Callable[[tuple[int, ...]], tuple[int, ...]]:
    in_per_group = shape[0] // groups
    out_per_group = shape[1]
    return lambda idx: (
        (idx[0] // in_per_group) * out_per_group + idx[1],
        idx[0] % in_per_group,
        *idx[2:],
    )


MAPPINGS = [
    pytest.param((OUT, IN), "canonical", 1, lambda idx: idx, id="canonical"),
    pytest.param((OUT, IN), "dense_out_in", 1, lambda idx: idx, id="dense_out_in"),
    pytest.param((OUT, IN), "linear", 1, lambda idx: idx, id="alias-linear"),
    pytest.param((IN, OUT), "dense_in_out", 1, lambda idx: (idx[1], idx[0]), id="dense_in_out"),
    pytest.param((IN, OUT), "dense", 1, lambda idx: (idx[1], idx[0]), id="alias-dense"),
    pytest.param((4 * 5, IN), "recurrent_out_in", 1, lambda idx: idx, id="recurrent_out_in"),
    pytest.param(
        (IN, 4 * 5), "recurrent_in_out", 1, lambda idx: (idx[1], idx[0]), id="recurrent_in_out"
    ),
    pytest.param((OUT, IN, *K), "conv_out_in", 1, lambda idx: idx, id="conv_out_in"),
    pytest.param((OUT, IN // 2, *K), "conv_out_in", 2, lambda idx: idx, id="conv_out_in-groups2"),
    pytest.param((OUT, IN, 3), "conv", 1, lambda idx: idx, id="alias-conv-1d"),
    pytest.param(
        (*K, IN, OUT),
        "conv_k_in_out",
        1,
        lambda idx: (idx[3], idx[2], idx[0], idx[1]),
        id="conv_k_in_out",
    ),
    pytest.param(
        (*K, IN // 2, OUT),
        "conv_k_in_out",
        2,
        lambda idx: (idx[3], idx[2], idx[0], idx[1]),
        id="conv_k_in_out-groups2",
    ),
    pytest.param(
        (3, 2, 2, IN, OUT),
        "keras_conv",
        1,
        lambda idx: (idx[4], idx[3], idx[0], idx[1], idx[2]),
        id="alias-keras_conv-3d",
    ),
    pytest.param(
        (IN, OUT, *K),
        "conv_transpose_in_out",
        1,
        lambda idx: (idx[1], idx[0], *idx[2:]),
        id="conv_transpose_in_out",
    ),
    pytest.param(
        (IN, OUT // 2, *K),
        "conv_transpose_in_out",
        2,
        _ref_transpose_grouped((IN, OUT // 2, *K), 2),
        id="conv_transpose_in_out-groups2",
    ),
    pytest.param(
        (12, 2, *K),
        "conv_transpose",
        4,
        _ref_transpose_grouped((12, 2, *K), 4),
        id="alias-conv_transpose-groups4",
    ),
    pytest.param(
        (*K, OUT, IN),
        "conv_transpose_k_out_in",
        1,
        lambda idx: (idx[2], idx[3], idx[0], idx[1]),
        id="conv_transpose_k_out_in",
    ),
    pytest.param(
        (*K, OUT, IN),
        "keras_conv_transpose",
        1,
        lambda idx: (idx[2], idx[3], idx[0], idx[1]),
        id="alias-keras_conv_transpose",
    ),
    # Keras depthwise (*k, channels, multiplier): canonical out index = c * multiplier + m
    pytest.param(
        (*K, 5, 3),
        "depthwise_k_in_mult",
        1,
        lambda idx: (idx[2] * 3 + idx[3], 0, idx[0], idx[1]),
        id="depthwise_k_in_mult",
    ),
    pytest.param(
        (*K, 5, 3),
        "depthwise",
        5,
        lambda idx: (idx[2] * 3 + idx[3], 0, idx[0], idx[1]),
        id="alias-depthwise-groups_given",
    ),
    pytest.param((10, 4), "embedding", 1, lambda idx: (idx[1], idx[0]), id="embedding"),
    pytest.param(
        (IN, 2, 3), MHA_QKV, 1, lambda idx: (idx[1] * 3 + idx[2], idx[0]), id="einsum-qkv"
    ),
    pytest.param(
        (2, 3, OUT), MHA_OUT, 1, lambda idx: (idx[2], idx[0] * 3 + idx[1]), id="einsum-output"
    ),
]


def test_every_preset_has_a_mapping_case() -> None:
    covered = {get_layout(p.values[1]).name for p in MAPPINGS if isinstance(p.values[1], str)}
    assert covered == set(LAYOUTS)


@pytest.mark.parametrize(("shape", "layout", "groups", "mapping"), MAPPINGS)
def test_to_canonical_element_mapping(
    shape: tuple[int, ...], layout: str | Layout, groups: int, mapping: Any
) -> None:
    storage = np.arange(np.prod(shape), dtype=np.int64).reshape(shape)
    canonical = to_canonical(storage, layout, groups=groups)
    assert canonical.shape == canonical_shape(shape, layout, groups=groups)
    # Every canonical element is hit exactly once.
    assert sorted(canonical.ravel().tolist()) == list(range(storage.size))
    for idx in itertools.product(*(range(d) for d in shape)):  # elements, not cases
        assert canonical[mapping(idx)] == storage[idx]


@pytest.mark.parametrize(("shape", "layout", "groups", "mapping"), MAPPINGS)
def test_canonical_round_trip(
    shape: tuple[int, ...], layout: str | Layout, groups: int, mapping: Any
) -> None:
    rng = np.random.default_rng(0)
    storage = rng.standard_normal(shape).astype(np.float32)
    canonical = to_canonical(storage, layout, groups=groups)
    back = from_canonical(canonical, shape, layout, groups=groups)
    assert back.shape == shape
    np.testing.assert_array_equal(back, storage)
    fresh = rng.standard_normal(canonical.shape).astype(np.float32)
    np.testing.assert_array_equal(
        to_canonical(from_canonical(fresh, shape, layout, groups=groups), layout, groups=groups),
        fresh,
    )


# The same logical layer stored by torch and by Keras maps to the same canonical array.
# Each case: canonical shape, and (storage shape, layout, groups, storage-from-canonical) for
# torch and for Keras, the storage written by hand from the frameworks' documented layouts.
SAME_LAYER = [
    pytest.param(
        (32, 16),
        ((32, 16), "dense_out_in", 1, lambda c: c),
        ((16, 32), "dense_in_out", 1, lambda c: c.T),
        id="dense",
    ),
    pytest.param(
        (32, 16, 3),
        ((32, 16, 3), "conv_out_in", 1, lambda c: c),
        ((3, 16, 32), "conv_k_in_out", 1, lambda c: c.transpose(2, 1, 0)),
        id="conv1d",
    ),
    pytest.param(
        (32, 16, 3, 3),
        ((32, 16, 3, 3), "conv_out_in", 1, lambda c: c),
        ((3, 3, 16, 32), "conv_k_in_out", 1, lambda c: c.transpose(2, 3, 1, 0)),
        id="conv2d",
    ),
    pytest.param(
        (32, 4, 3, 3),
        ((32, 4, 3, 3), "conv_out_in", 4, lambda c: c),
        ((3, 3, 4, 32), "conv_k_in_out", 4, lambda c: c.transpose(2, 3, 1, 0)),
        id="grouped_conv2d",
    ),
    pytest.param(
        (32, 16, 3, 3),
        ((16, 32, 3, 3), "conv_transpose_in_out", 1, lambda c: c.transpose(1, 0, 2, 3)),
        ((3, 3, 32, 16), "conv_transpose_k_out_in", 1, lambda c: c.transpose(2, 3, 0, 1)),
        id="conv_transpose2d",
    ),
    pytest.param(
        (32, 1, 3, 3),
        ((32, 1, 3, 3), "conv_out_in", 16, lambda c: c),
        # Keras (kh, kw, 16, 2): element [y, x, c, m] is canonical [c * 2 + m, 0, y, x]
        (
            (3, 3, 16, 2),
            "depthwise_k_in_mult",
            1,
            lambda c: c.reshape(16, 2, 3, 3).transpose(2, 3, 0, 1),
        ),
        id="depthwise_multiplier2",
    ),
]


@pytest.mark.parametrize(("canonical_shape_", "torch_case", "keras_case"), SAME_LAYER)
def test_torch_and_keras_storage_share_canonical(
    canonical_shape_: tuple[int, ...], torch_case: Any, keras_case: Any
) -> None:
    canonical = np.random.default_rng(1).standard_normal(canonical_shape_).astype(np.float32)
    torch_shape, torch_layout, torch_groups, torch_store = torch_case
    keras_shape, keras_layout, keras_groups, keras_store = keras_case
    torch_storage, keras_storage = torch_store(canonical), keras_store(canonical)
    assert (torch_storage.shape, keras_storage.shape) == (torch_shape, keras_shape)
    np.testing.assert_array_equal(
        to_canonical(torch_storage, torch_layout, groups=torch_groups),
        to_canonical(keras_storage, keras_layout, groups=keras_groups),
    )
    np.testing.assert_array_equal(
        to_canonical(keras_storage, keras_layout, groups=keras_groups), canonical
    )
    np.testing.assert_array_equal(
        from_canonical(canonical, torch_shape, torch_layout, groups=torch_groups), torch_storage
    )
    np.testing.assert_array_equal(
        from_canonical(canonical, keras_shape, keras_layout, groups=keras_groups), keras_storage
    )


def test_get_layout_passes_layouts_through() -> None:
    assert get_layout(MHA_QKV) is MHA_QKV
    assert get_layout("linear") is LAYOUTS["dense_out_in"]


def test_layouts_are_immutable() -> None:
    import dataclasses

    with pytest.raises(dataclasses.FrozenInstanceError):
        LAYOUTS["dense_out_in"].out_axes = (1,)  # type: ignore[misc]


# --------------------------------------------------------------------------------------------
# Errors: built-in type, the argument's name and "Received" in the message.

FAN_ERRORS = [
    pytest.param(dict(shape=(0, 16)), ValueError, "shape", id="zero_size-dense"),
    pytest.param(
        dict(shape=(32, 16, 0, 3), layout="conv_out_in"), ValueError, "shape", id="zero_size-kernel"
    ),
    pytest.param(
        dict(shape=(16, 0, 3, 3), layout="conv_transpose_in_out", groups=4),
        ValueError,
        "shape",
        id="zero_size-grouped_transpose",
    ),
    pytest.param(dict(shape=(16, -1)), ValueError, "shape", id="negative_dim"),
    pytest.param(dict(shape=(16, 3.0)), TypeError, "shape", id="float_dim"),
    pytest.param(dict(shape=(16, "3")), TypeError, "shape", id="str_dim"),
    pytest.param(dict(shape=(16, True)), TypeError, "shape", id="bool_dim"),
    pytest.param(dict(shape=5), TypeError, "shape", id="not_a_sequence"),
    pytest.param(
        dict(shape=(32, 16, 3, 3), layout="conv_out_in", groups=3),
        ValueError,
        "groups",
        id="groups_not_dividing_out",
    ),
    pytest.param(
        dict(shape=(18, 8, 3, 3), layout="conv_transpose_in_out", groups=4),
        ValueError,
        "groups",
        id="groups_not_dividing_transpose_in",
    ),
    pytest.param(
        dict(shape=(3, 3, 16, 1), layout="depthwise_k_in_mult", groups=4),
        ValueError,
        "groups",
        id="groups_contradict_depthwise",
    ),
    pytest.param(dict(shape=(32, 16), groups=0), ValueError, "groups", id="groups_zero"),
    pytest.param(dict(shape=(32, 16), groups=1.5), TypeError, "groups", id="groups_float"),
    pytest.param(
        dict(shape=(200, 20), layout="recurrent_out_in", blocks=3),
        ValueError,
        "blocks",
        id="blocks_not_dividing",
    ),
    pytest.param(
        dict(shape=(32, 4, 3, 3), layout="conv_out_in", groups=4, blocks=3),
        ValueError,
        "blocks",
        id="blocks_not_dividing_group",
    ),
    pytest.param(dict(shape=(32, 16), blocks=0), ValueError, "blocks", id="blocks_zero"),
    pytest.param(dict(shape=(32, 16), layout="bogus"), ValueError, "layout", id="unknown_layout"),
    pytest.param(
        dict(shape=(32, 16), fan_convention="pytorch"),
        ValueError,
        "fan_convention",
        id="unknown_fan_convention",
    ),
    pytest.param(
        dict(shape=(32, 16), layout="conv_out_in"), ValueError, "shape", id="too_few_dims-conv"
    ),
    pytest.param(
        dict(shape=(16, 2), layout="depthwise_k_in_mult"),
        ValueError,
        "shape",
        id="too_few_dims-depthwise",
    ),
    pytest.param(dict(shape=(32,)), ValueError, "shape", id="too_few_dims-canonical"),
    pytest.param(
        dict(shape=(64, 16), layout=MHA_QKV), ValueError, "shape", id="too_few_dims-einsum"
    ),
]


@pytest.mark.parametrize(("kwargs", "error", "argument"), FAN_ERRORS)
def test_compute_fans_errors(kwargs: dict[str, Any], error: type[Exception], argument: str) -> None:
    with pytest.raises(error) as info:
        compute_fans(**kwargs)
    message = str(info.value)
    assert "Received" in message
    assert f"{argument}=" in message


@pytest.mark.parametrize(
    ("call", "error", "argument"),
    [
        pytest.param(
            lambda: to_canonical(np.zeros((32, 4, 3, 3)), "conv_out_in", groups=0),
            ValueError,
            "groups",
            id="to_canonical-groups_zero",
        ),
        pytest.param(
            lambda: to_canonical(np.zeros((32, 4, 3, 3)), "conv_out_in", groups=-1),
            ValueError,
            "groups",
            id="to_canonical-groups_negative",
        ),
        pytest.param(
            lambda: to_canonical(np.zeros((32, 4, 3, 3)), "conv_out_in", groups=3),
            ValueError,
            "groups",
            id="to_canonical-groups_not_dividing",
        ),
        pytest.param(
            lambda: to_canonical(np.zeros((32, 4)), "conv_out_in"),
            ValueError,
            "shape",
            id="to_canonical-too_few_dims",
        ),
        pytest.param(
            lambda: to_canonical(np.zeros((32, 4)), "bogus"),
            ValueError,
            "layout",
            id="to_canonical-unknown_layout",
        ),
        pytest.param(
            lambda: from_canonical(np.zeros((32, 4, 3, 3)), (32, 4, 3, 3), "conv_out_in", groups=0),
            ValueError,
            "groups",
            id="from_canonical-groups_zero",
        ),
        pytest.param(
            lambda: from_canonical(np.zeros((16, 32)), (16, 32), "dense_in_out"),
            ValueError,
            "array.shape",
            id="from_canonical-shape_mismatch",
        ),
        pytest.param(
            lambda: canonical_shape((32, 4, 3, 3), "conv_out_in", groups=5),
            ValueError,
            "groups",
            id="canonical_shape-groups_not_dividing",
        ),
        pytest.param(
            lambda: get_layout("conv2d"),
            ValueError,
            "layout",
            id="get_layout-unknown",
        ),
    ],
)
def test_canonical_errors(call: Any, error: type[Exception], argument: str) -> None:
    with pytest.raises(error) as info:
        call()
    message = str(info.value)
    assert "Received" in message
    assert f"{argument}=" in message
