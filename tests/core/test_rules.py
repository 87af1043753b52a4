"""Core rules: ``Rule(ignore=...)``, ``GateBias`` and the framework profiles' distributions.

The profiles are checked here against the numbers of frameworks.md section 4 (each framework's
measured default); the parity suite checks them against the frameworks themselves.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import oneinit
from oneinit.core.rules import (
    Geometry,
    ParamInfo,
    Rule,
    Rules,
    get_profile,
    keras_profile,
    mxnet_profile,
    paddle_profile,
)


def _lstm(hidden: int = 50, inputs: int = 20) -> list[ParamInfo]:
    layer = Geometry((4 * hidden, hidden), "dense_out_in", blocks=4)
    return [
        ParamInfo(
            "lstm.weight_ih",
            (4 * hidden, inputs),
            kind="lstm",
            roles={"weight"},
            slot="weight_ih",
            layout="dense_out_in",
            blocks=4,
            layer=layer,
        ),
        ParamInfo(
            "lstm.weight_hh",
            (4 * hidden, hidden),
            kind="lstm",
            roles={"weight", "recurrent"},
            slot="weight_hh",
            layout="dense_out_in",
            blocks=4,
            layer=layer,
        ),
        ParamInfo(
            "lstm.bias_ih", (4 * hidden,), kind="lstm", roles={"bias"}, slot="bias_ih", layer=layer
        ),
        ParamInfo(
            "lstm.bias_hh", (4 * hidden,), kind="lstm", roles={"bias"}, slot="bias_hh", layer=layer
        ),
    ]


def _conv(cin: int, cout: int, k: int, groups: int) -> ParamInfo:
    return ParamInfo(
        "conv.weight",
        (cout, cin // groups, k, k),
        kind="conv",
        roles={"weight"},
        layout="conv_out_in",
        groups=groups,
    )


def test_ignore_blocks_reads_the_stacked_gates_as_one_matrix() -> None:
    weight_ih = _lstm()[0]
    per_gate = Rules(Rule(oneinit.GlorotUniform())).assign(weight_ih)
    whole = Rules(Rule(oneinit.GlorotUniform(), ignore="blocks")).assign(weight_ih)
    assert (per_gate.fans.fan_in, per_gate.fans.fan_out) == (20, 50)
    assert (whole.fans.fan_in, whole.fans.fan_out) == (20, 200)
    assert (per_gate.blocks, whole.blocks) == (4, 1)
    assert whole.rule.describe() == "ignore=blocks"


def test_ignore_blocks_gives_one_orthogonal_matrix() -> None:
    weight_hh = _lstm(hidden=16)[1]
    for ignore, blocks in ((None, 4), ("blocks", 1)):
        assignment = Rules(Rule(oneinit.Orthogonal(), ignore=ignore)).assign(weight_hh)
        assert assignment.blocks == blocks
        w = oneinit.Orthogonal().sample((64, 16), seed=3, blocks=assignment.blocks)
        if blocks == 1:  # tall (64, 16): orthonormal columns over all gates
            np.testing.assert_allclose(w.T @ w, np.eye(16), atol=1e-5)
        else:  # each (16, 16) gate is orthogonal, the stack is not
            for b in range(4):
                block = w[16 * b : 16 * (b + 1)]
                np.testing.assert_allclose(block @ block.T, np.eye(16), atol=1e-5)
            assert np.abs(w.T @ w - np.eye(16)).max() > 0.5
        assert assignment.expected_std == pytest.approx(1 / math.sqrt(max(64 // blocks, 16)))


def test_ignore_groups_counts_every_input_channel() -> None:
    grouped = _conv(16, 16, 3, groups=4)
    fans = Rules(Rule(oneinit.HeNormal(), ignore="groups")).assign(grouped).fans
    own = Rules(Rule(oneinit.HeNormal())).assign(grouped).fans
    assert (own.fan_in, fans.fan_in, fans.fan_out) == (36, 144, own.fan_out)


@pytest.mark.parametrize(
    ("ignore", "error", "match"),
    [
        ("bias", ValueError, "ignore must be among 'groups', 'blocks'. Received: ignore='bias'"),
        ((), TypeError, "ignore must be a str or a non-empty sequence"),
        (3, TypeError, "ignore must be a str or a non-empty sequence"),
    ],
)
def test_ignore_is_validated(ignore: object, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        Rule(oneinit.Zeros(), ignore=ignore)  # type: ignore[arg-type]


def test_gate_bias_sets_one_gate() -> None:
    values = oneinit.GateBias(2.5, gate=2, gates=3).sample((6,), seed=0)
    np.testing.assert_array_equal(values, [0, 0, 0, 0, 2.5, 2.5])
    assert oneinit.scheme_from_config(oneinit.GateBias().to_config()) == oneinit.GateBias()
    assert not oneinit.GateBias.uses_fans


@pytest.mark.parametrize(
    ("kwargs", "shape", "match"),
    [
        ({"gate": 4}, (8,), "gate must index one of the 4 gates"),
        ({"gates": -1}, (8,), "gates must be a non-negative int"),
        ({"value": math.inf}, (8,), "value must be finite"),
        ({}, (6,), "multiple of 4. Received: shape=\\(6,\\)"),
        ({}, (4, 2), "multiple of 4. Received: shape=\\(4, 2\\)"),
    ],
)
def test_gate_bias_errors(kwargs: dict[str, float], shape: tuple[int, ...], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        oneinit.GateBias(**kwargs).sample(shape, seed=0)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# Profiles against frameworks.md section 4 (the frameworks' measured defaults).


def _std(rules: Rules, param: ParamInfo) -> float:
    std = rules.assign(param).expected_std
    assert std is not None
    return std


def test_keras_profile_matches_the_keras_defaults() -> None:
    rules = keras_profile()
    linear = ParamInfo(
        "fc.weight", (512, 256), kind="linear", roles={"weight"}, layout="dense_out_in"
    )
    assert _std(rules, linear) == pytest.approx(math.sqrt(2 / (256 + 512)))  # 0.0510
    embedding = ParamInfo(
        "e.weight", (1000, 64), kind="embedding", roles={"weight", "embedding"}, layout="embedding"
    )
    assert _std(rules, embedding) == pytest.approx(0.05 / math.sqrt(3))  # 0.0289
    weight_ih, weight_hh, bias_ih, bias_hh = _lstm()
    assert rules.assign(weight_ih).fans.fan_out == 200  # glorot over (in, 4H)
    assert _std(rules, weight_hh) == pytest.approx(1 / math.sqrt(200))  # orthogonal (H, 4H)
    assert rules.assign(bias_ih).scheme == oneinit.GateBias(1.0, gate=1, gates=4)
    assert rules.assign(bias_hh).scheme == oneinit.Zeros()


def test_paddle_profile_matches_the_paddle_defaults() -> None:
    rules = paddle_profile()
    conv = _conv(16, 32, 3, groups=1)
    assert _std(rules, conv) == pytest.approx(math.sqrt(2 / (16 * 9)))  # 0.1179
    depthwise = _conv(32, 32, 3, groups=32)  # groups ignored: sqrt(2 / (32 * 9)) = 0.083
    assert _std(rules, depthwise) == pytest.approx(0.0833, abs=5e-4)
    for param in _lstm():  # U(+-1/sqrt(H)) everywhere
        assert _std(rules, param) == pytest.approx(1 / math.sqrt(3 * 50))
    embedding = ParamInfo(
        "e.weight", (1000, 64), kind="embedding", roles={"weight", "embedding"}, layout="embedding"
    )
    assert _std(rules, embedding) * math.sqrt(3) == pytest.approx(math.sqrt(6 / 1064))


def test_mxnet_profile_matches_the_mxnet_defaults() -> None:
    rules = mxnet_profile()
    for param in (_conv(16, 32, 3, 1), *_lstm()[:2]):
        assert rules.assign(param).scheme == oneinit.Uniform(-0.07, 0.07)
    assert rules.assign(_lstm()[2]).scheme == oneinit.Zeros()
    prelu = ParamInfo("act.alpha", (1,), kind="prelu", roles={"activation"})
    assert rules.assign(prelu).scheme == oneinit.Constant(0.25)


@pytest.mark.parametrize("name", ["torch", "keras", "paddle", "mxnet"])
def test_every_profile_covers_the_common_layers(name: str) -> None:
    norm_scale = ParamInfo("bn.weight", (8,), kind="batch_norm", roles={"norm"})
    norm_shift = ParamInfo("bn.bias", (8,), kind="batch_norm", roles={"norm", "bias"})
    params = [_conv(8, 16, 3, 1), *_lstm(), norm_scale, norm_shift]
    plan = get_profile(name).plan(params)
    assert all(a.matched for a in plan)
    assert plan[-2].scheme == oneinit.Ones() and plan[-1].scheme == oneinit.Zeros()


@pytest.mark.parametrize("what", ["role", "kind", "slot"])
def test_rule_criteria_that_are_not_strings_get_a_clear_error(what: str) -> None:
    with pytest.raises(TypeError, match=f"{what} must be a str or a non-empty sequence of str"):
        Rule(oneinit.Zeros(), **{what: 3})  # type: ignore[arg-type]


def test_the_report_shows_the_fans_a_rule_reads() -> None:
    weight_hh = _lstm()[1]
    assignment = Rules(Rule(oneinit.Orthogonal(), ignore="blocks")).assign(weight_hh)
    assert (assignment.fans.fan_in, assignment.fans.fan_out) == (50, 200)


# --------------------------------------------------------------------------------------------
# canonical_names: the names= argument of every adapter's initialize.

PATHS = [["fc.weight", "tied.weight"], ["fc.bias"], ["out.weight"]]


def test_canonical_names_by_mapping_and_callable() -> None:
    from oneinit.core.rules import canonical_names

    assert canonical_names(PATHS, None) == ["fc.weight", "fc.bias", "out.weight"]
    mapping = {"tied.weight": "enc.weight", "out.weight": "head.weight"}
    assert canonical_names(PATHS, mapping) == ["enc.weight", "fc.bias", "head.weight"]
    renamed = canonical_names(
        PATHS, lambda name: name.replace("fc", "enc") if "fc" in name else None
    )
    assert renamed == ["enc.weight", "enc.bias", "out.weight"]


@pytest.mark.parametrize(
    ("names", "error", "match"),
    [
        ({"nope": "x"}, ValueError, "does not have: 'nope'. Its parameters are: 'fc.weight'"),
        ({1: "x"}, TypeError, "names must map parameter names"),
        ({"fc.weight": "a", "tied.weight": "b"}, ValueError, "more than one name"),
        ({"out.weight": "fc.bias"}, ValueError, "share the canonical name 'fc.bias'"),
        ({"out.weight": ""}, TypeError, "non-empty str"),
        (lambda name: 3, TypeError, "non-empty str"),
        ("fc", TypeError, "names must be a mapping"),
    ],
)
def test_canonical_names_errors(names: object, error: type[Exception], match: str) -> None:
    from oneinit.core.rules import canonical_names

    with pytest.raises(error, match=match):
        canonical_names(PATHS, names)  # type: ignore[arg-type]


def test_renamed_param_keeps_its_slot() -> None:
    info = _lstm()[0].renamed("seq.lstm.weight_ih")
    assert (info.name, info.slot, info.geometry.blocks) == ("seq.lstm.weight_ih", "weight_ih", 4)


def test_keras_profile_uses_keras_fans_for_grouped_and_depthwise_kernels() -> None:
    rules = keras_profile()
    grouped = rules.assign(_conv(16, 16, 3, groups=4)).fans  # Keras (3, 3, 4, 16)
    depthwise = rules.assign(_conv(16, 16, 3, groups=16)).fans  # Keras (3, 3, 16, 1)
    assert (grouped.fan_in, grouped.fan_out) == (36, 144)
    assert (depthwise.fan_in, depthwise.fan_out) == (144, 9)


@pytest.mark.parametrize(
    ("family", "framework", "storage"),
    [
        ("dense", "torch", (8, 4)),
        ("dense", "keras", (4, 8)),
        ("dense", "paddle", (4, 8)),
        ("recurrent", "paddle", (8, 4)),
        ("recurrent", "keras", (4, 8)),
        ("embedding", "mxnet", (4, 8)),
    ],
)
def test_framework_storage_shapes_of_matrices(
    family: str, framework: str, storage: tuple[int, ...]
) -> None:
    from oneinit.core.fans import framework_storage_shape

    assert framework_storage_shape((8, 4), family, framework) == storage


def test_framework_storage_shapes_of_kernels() -> None:
    from oneinit.core.fans import framework_storage_shape

    canonical = (32, 4, 3, 3)  # out 32, in 16, groups 4
    assert framework_storage_shape(canonical, "conv", "keras", 4) == (3, 3, 4, 32)
    assert framework_storage_shape(canonical, "conv_transpose", "torch", 4) == (16, 8, 3, 3)
    assert framework_storage_shape(canonical, "conv_transpose", "keras", 4) == (3, 3, 32, 16)
    assert framework_storage_shape((32, 1, 3, 3), "depthwise", "keras", 16) == (3, 3, 16, 2)
    with pytest.raises(ValueError, match="family must be one of"):
        framework_storage_shape(canonical, "pooling", "torch")


def test_canonical_names_lists_a_dozen_names_at_most() -> None:
    from oneinit.core.rules import canonical_names

    paths = [[f"p{i}"] for i in range(20)]
    with pytest.raises(ValueError, match=r"'p11', \.\.\. \(8 more\)"):
        canonical_names(paths, {"nope": "x"})
    with pytest.raises(TypeError, match="non-empty str"):
        canonical_names(paths, {"p0": ["x"]})  # type: ignore[dict-item]


def test_profiles_read_the_groups_a_layout_implies() -> None:
    keras_depthwise = ParamInfo(
        "dw.kernel", (3, 3, 16, 2), kind="conv", roles={"weight"}, layout="depthwise_k_in_mult"
    )
    assert keras_depthwise.geometry.total_groups == 16
    assert paddle_profile().assign(keras_depthwise).fans.fan_in == 16 * 9
    fans = keras_profile().assign(keras_depthwise).fans
    assert (fans.fan_in, fans.fan_out) == (144, 18)
