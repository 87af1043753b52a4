"""Cross-framework parity: the dumps of the four workers against the core and each other.

Run by ``nox -s parity``, which builds each framework's venv, runs its worker
(``worker_<framework>.py``) on one request and points ``ONEINIT_PARITY_DIR`` at the dumps. Every
tolerance is derived in ``analysis.py``; see ``spec.py`` for the models, layers and rules.
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any

import analysis
import numpy as np
import pytest
import spec

DUMPS = os.environ.get("ONEINIT_PARITY_DIR")
pytestmark = pytest.mark.skipif(
    not DUMPS, reason="needs the workers' dumps: run `nox -s parity` (sets ONEINIT_PARITY_DIR)"
)

#: What a framework may decline to build, and why (anything else skipped is a failure).
ALLOWED_SKIPS: dict[str, dict[str, str]] = {
    "torch": {},
    "keras": {},
    "paddle": {},
    "mxnet": {
        "model/attn": "Gluon 1.9 has no multi-head attention layer",
        "layer/dense_bf16": (
            "MXNet 1.9 has no numpy bfloat16 dtype, its random operators write float16/32/64 "
            "only, and a bf16 Dense fails in oneDNN on an AVX2 CPU"
        ),
    },
}
#: Forward outputs agree within FORWARD_RTOL * max |output|. Each output goes through at most
#: 7 sequential float32 reductions (the LSTM's steps; the CNN has 4 layers) of at most 144
#: products each; a sum of K float32 products is off by at most K 2^-24 relative to the sum of
#: magnitudes, so two frameworks summing in different orders differ by at most
#: 2 * 7 * 144 * 2^-24 = 1.2e-4 of the output scale (activations and weights are O(1)).
FORWARD_RTOL = 2 * 7 * 144 * 2.0**-24


@cache
def _meta(framework: str) -> dict[str, Any]:
    path = Path(DUMPS or ".") / f"{framework}.json"
    if not path.exists():
        pytest.fail(f"{framework}: no dump at {path}: its worker did not run or failed")
    return json.loads(path.read_text())  # type: ignore[no-any-return]


@cache
def _arrays(framework: str) -> dict[str, np.ndarray]:
    _meta(framework)
    with np.load(Path(DUMPS or ".") / f"{framework}.npz") as data:
        return {key: data[key] for key in data.files}


@cache
def _request() -> spec.Request:
    return spec.read_request(Path(DUMPS or ".") / "request.json")


def _skip_reason(framework: str, what: str) -> str | None:
    return _meta(framework).get("skipped", {}).get(what)  # type: ignore[no-any-return]


def _expect_built(framework: str, what: str, allowed_key: str) -> bool:
    """False (skip the comparison) if the framework declined ``what`` for an allowed reason."""
    reason = _skip_reason(framework, what)
    if reason is None:
        return True
    if allowed_key not in ALLOWED_SKIPS[framework]:
        pytest.fail(f"{framework} skipped {what}, which it must build: {reason}")
    return False


def _failures(messages: list[str]) -> None:
    if messages:
        pytest.fail(f"{len(messages)} mismatches:\n" + "\n".join(messages[:40]))


# --------------------------------------------------------------------------------------------
# Value parity under a seed.


@pytest.mark.parametrize("model", list(spec.MODELS))
@pytest.mark.parametrize("framework", spec.FRAMEWORKS)
def test_seeded_parameters_equal_the_core(framework: str, model: str) -> None:
    if not _expect_built(framework, f"model/{model}", f"model/{model}"):
        return
    arrays = _arrays(framework)
    prefix = f"model/{model}/param/"
    dumped = {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}
    assert set(dumped) == spec.expected_names(model, framework)
    expected = spec.model_values(model, _request().seed)
    plan = {a.param.name: a for a in spec.PARITY_RULES.plan(spec.param_infos(model))}
    messages = []
    for name, values in sorted(dumped.items()):
        exact = analysis.scheme_is_exact(plan[name].scheme, plan[name].fans)
        check = analysis.seeded_mismatch(values, expected[name], exact)
        if not check.ok:
            messages.append(f"{framework} {name} ({plan[name].scheme}): {check}")
    _failures(messages)


@pytest.mark.parametrize("model", list(spec.MODELS))
def test_forward_outputs_agree(model: str) -> None:
    outputs = {
        fw: _arrays(fw)[f"model/{model}/output"]
        for fw in spec.FRAMEWORKS
        if _expect_built(fw, f"model/{model}", f"model/{model}")
    }
    assert len(outputs) >= 2, f"fewer than two frameworks built {model}"
    reference_name, reference = next(iter(outputs.items()))
    assert reference.shape == spec.MODELS[model].output
    assert np.isfinite(reference).all()
    scale = float(np.max(np.abs(reference)))
    assert scale > 1e-3, "a degenerate output would hide mismatches"
    for fw, output in outputs.items():
        assert output.shape == reference.shape, fw
        worst = float(np.max(np.abs(output.astype(np.float64) - reference)))
        assert worst <= FORWARD_RTOL * scale, (
            f"{fw} vs {reference_name}: max |diff| {worst:.3g} > {FORWARD_RTOL:.3g} * {scale:.3g}"
        )


@pytest.mark.parametrize("framework", spec.FRAMEWORKS)
def test_shared_layer_is_initialized_and_reported_once(framework: str) -> None:
    report = _meta(framework)["reports"]["mlp"]
    rows = [line.split()[0] for line in report.splitlines()]
    for shared in spec.MODELS["mlp"].shared:
        for slot in ("weight", "bias"):
            assert rows.count(f"{shared}.{slot}") == 1, report
    assert "6 parameters" in report, report


# --------------------------------------------------------------------------------------------
# Layer cases: seeded values and the statistical matrix.


def _cases(framework: str) -> list[tuple[int, Any, spec.Layer]]:
    built = []
    for index, (scheme, layer) in enumerate(_request().cases):
        if _expect_built(framework, f"case/{index}", f"layer/{layer.name}"):
            built.append((index, scheme, layer))
    return built


@pytest.mark.parametrize("framework", spec.FRAMEWORKS)
def test_seeded_cases_equal_the_core(framework: str) -> None:
    arrays = _arrays(framework)
    messages = []
    for index, scheme, layer in _cases(framework):
        expected = spec.layer_values(scheme, layer, _request().seed)
        theories = analysis.layer_theories(scheme, layer)
        for slot, values in expected.items():
            got = arrays.get(spec.case_key(index, "seeded", slot))
            if got is None:
                messages.append(f"{framework} case {index} {layer.name}: no seeded {slot}")
                continue
            check = analysis.seeded_mismatch(got, values, theories[slot].exact, layer.dtype)
            if not check.ok:
                messages.append(f"{framework} {scheme} on {layer.name}.{slot}: {check}")
    _failures(messages)


@pytest.mark.parametrize("framework", spec.FRAMEWORKS)
def test_unseeded_cases_pass_the_statistical_tests(framework: str) -> None:
    arrays = _arrays(framework)
    messages = []
    for index, scheme, layer in _cases(framework):
        for slot, t in analysis.layer_theories(scheme, layer).items():
            got = arrays.get(spec.case_key(index, "unseeded", slot))
            if got is None:
                messages.append(f"{framework} case {index} {layer.name}: no unseeded {slot}")
                continue
            for check in analysis.statistical_checks(got, t, layer.dtype):
                if not check.ok:
                    messages.append(f"{framework} {scheme} on {layer.name}.{slot}: {check}")
    _failures(messages)


def test_the_matrix_is_complete() -> None:
    """Every scheme of the matrix on every layer kind was requested."""
    requested = {
        (spec.scheme_config(s)["scheme"], repr(s), layer.name) for s, layer in _request().cases
    }
    for scheme in spec.MATRIX_SCHEMES:
        for layer in spec.LAYERS:
            assert (spec.scheme_config(scheme)["scheme"], repr(scheme), layer) in requested


# --------------------------------------------------------------------------------------------
# Profiles: each framework's default, reproduced in every framework.


@pytest.mark.parametrize("target", spec.FRAMEWORKS)
@pytest.mark.parametrize("profile", spec.PROFILES)
def test_profile_reproduces_the_frameworks_default(profile: str, target: str) -> None:
    """``initialize(model, profile=P)`` in ``target`` against P's real default, parameter by
    parameter: equal where deterministic, else a two-sample KS test, a variance ratio test
    and the same range.
    """
    source = _arrays(profile)
    arrays = _arrays(target)
    assert _skip_reason(target, f"profile/{profile}") is None, _skip_reason(
        target, f"profile/{profile}"
    )
    messages, compared = [], 0
    for key, default in sorted(source.items()):
        if not key.startswith("default/"):
            continue
        name = key[len("default/") :]
        got = arrays.get(f"profile/{profile}/{name}")
        if got is None:
            continue  # a parameter the target's build does not have
        compared += 1
        a, b = default.astype(np.float64).ravel(), got.astype(np.float64).ravel()
        if np.ptp(a) == 0 or np.ptp(b) == 0:
            if not np.array_equal(np.sort(a), np.sort(b)):
                messages.append(
                    f"{name}: {profile} default is {np.unique(a)[:4]}, got {np.unique(b)[:4]}"
                )
            continue
        ks = analysis.ks_two_sample(a, b)
        limit = analysis.ks_critical(a.size, b.size)
        if ks > limit:
            messages.append(
                f"{name}: two-sample KS {ks:.3g} > {limit:.3g} (std {a.std():.4g} vs {b.std():.4g})"
            )
        # Variances: the difference of two independent sample variances, se from each sample.
        z = abs(a.var() - b.var()) / np.sqrt(_var_se2(a) + _var_se2(b))
        if z > analysis.z_critical():
            messages.append(f"{name}: variance z {z:.3g} (std {a.std():.4g} vs {b.std():.4g})")
    assert compared >= 20, f"only {compared} parameters compared"
    _failures(messages)


def _var_se2(x: np.ndarray) -> float:
    centered = x - x.mean()
    s2 = float(np.mean(centered**2))
    return max(float(np.mean(centered**4)) - s2 * s2, 0.0) / x.size
