"""Parity worker for PyTorch: builds spec.py's models and layers natively and dumps them.

Usage: ``python tests/parity/worker_torch.py REQUEST.json OUTDIR`` (in the torch venv). Writes
``OUTDIR/torch.npz`` and ``OUTDIR/torch.json`` in the format of ``spec.py``'s docstring, then
checks its own seeded values against the core and prints the largest ulp distance per model
(the verdict is the parity tests'; this is a quick look).

torch stores every reference parameter exactly as ``spec.Param.storage`` declares it (the spec
is written torch-style), so a dump is ``oneinit.to_canonical(values, param.layout)``.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).parent))
import analysis
import driver
import spec

import oneinit
from oneinit.adapters.torch import initialize

# --------------------------------------------------------------------------------------------
# The reference models (spec.MODELS), one class each, and their canonical names.


class MLP(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(20, 32)
        self.mid = nn.Linear(32, 32)  # called twice: one parameter set
        self.fc2 = nn.Linear(32, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.tanh(self.fc1(x))
        h = torch.tanh(self.mid(self.mid(h)))
        return self.fc2(h)


class CNN(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(8, 16, 3, padding=1)
        self.grouped = nn.Conv2d(16, 16, 3, padding=1, groups=4)
        self.depthwise = nn.Conv2d(16, 16, 3, padding=1, groups=16)
        self.up = nn.ConvTranspose2d(16, 8, 2, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.conv(x))
        h = torch.relu(self.grouped(h))
        h = torch.relu(self.depthwise(h))
        return self.up(h)


class Seq(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(50, 16)
        self.lstm = nn.LSTM(16, 24, batch_first=True)
        self.head = nn.Linear(24, 5)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        output, _ = self.lstm(self.embed(tokens))
        return self.head(output[:, -1])


class Attn(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        # kdim, vdim != embed_dim: separate q/k/v weights, one (3E,) in_proj_bias.
        self.attn = nn.MultiheadAttention(16, 4, kdim=12, vdim=12, batch_first=True, dropout=0.0)

    def forward(self, query: torch.Tensor, memory: torch.Tensor) -> torch.Tensor:
        return self.attn(query, memory, memory, need_weights=False)[0]


MODELS: dict[str, type[nn.Module]] = {"mlp": MLP, "cnn": CNN, "seq": Seq, "attn": Attn}

#: torch name -> canonical name, per model.
NAMES: dict[str, dict[str, str]] = {
    "mlp": {
        "fc1.weight": "mlp.fc1.weight",
        "fc1.bias": "mlp.fc1.bias",
        "mid.weight": "mlp.mid.weight",
        "mid.bias": "mlp.mid.bias",
        "fc2.weight": "mlp.fc2.weight",
        "fc2.bias": "mlp.fc2.bias",
    },
    "cnn": {
        "conv.weight": "cnn.conv.weight",
        "conv.bias": "cnn.conv.bias",
        "grouped.weight": "cnn.grouped.weight",
        "grouped.bias": "cnn.grouped.bias",
        "depthwise.weight": "cnn.depthwise.weight",
        "depthwise.bias": "cnn.depthwise.bias",
        "up.weight": "cnn.up.weight",
        "up.bias": "cnn.up.bias",
    },
    "seq": {
        "embed.weight": "seq.embed.weight",
        "lstm.weight_ih_l0": "seq.lstm.weight_ih",
        "lstm.weight_hh_l0": "seq.lstm.weight_hh",
        "lstm.bias_ih_l0": "seq.lstm.bias_ih",
        "lstm.bias_hh_l0": "seq.lstm.bias_hh",
        "head.weight": "seq.head.weight",
        "head.bias": "seq.head.bias",
    },
    "attn": {
        "attn.q_proj_weight": "attn.q_proj_weight",
        "attn.k_proj_weight": "attn.k_proj_weight",
        "attn.v_proj_weight": "attn.v_proj_weight",
        "attn.in_proj_bias": "attn.in_proj_bias",
        "attn.out_proj.weight": "attn.out_proj_weight",
        "attn.out_proj.bias": "attn.out_proj_bias",
    },
}


# --------------------------------------------------------------------------------------------
# The layer cases (spec.LAYERS): a builder per layer, and torch's name of each weight slot.


def _conv(s: dict[str, int]) -> nn.Module:
    return nn.Conv2d(s["in"], s["out"], s["kernel"], groups=s["groups"])


LAYERS: dict[str, Callable[[dict[str, int]], nn.Module]] = {
    "dense": lambda s: nn.Linear(s["in"], s["out"]),
    "dense_bf16": lambda s: nn.Linear(s["in"], s["out"]),
    "conv2d": _conv,
    "grouped_conv2d": _conv,
    "depthwise_conv2d": _conv,  # Conv2d(64, 128, 5, groups=64)
    "conv_transpose2d": lambda s: nn.ConvTranspose2d(s["in"], s["out"], s["kernel"]),
    "embedding": lambda s: nn.Embedding(s["num"], s["dim"]),
    "lstm": lambda s: nn.LSTM(s["in"], s["hidden"]),
}

#: torch's name of each weight slot of a layer case.
SLOTS = {"weight": "weight", "weight_ih": "weight_ih_l0", "weight_hh": "weight_hh_l0"}


def build_layer(layer: spec.Layer) -> nn.Module:
    module = LAYERS[layer.name](layer.settings)
    return module.to(getattr(torch, layer.dtype))


def layer_names(layer: spec.Layer) -> dict[str, str]:
    """torch name -> slot: a case's weights are keyed by their slot (``spec.layer_values``)."""
    return {SLOTS[p.slot]: p.slot for p in layer.params}


# --------------------------------------------------------------------------------------------
# torch.nn.init's own initializer of each scheme, called as a torch user would.


def _own_call(scheme: oneinit.Scheme) -> tuple[str, dict[str, Any]] | str:
    """``(torch.nn.init function, its arguments)``, or why torch has no such initializer."""
    if isinstance(scheme, spec.SignedBandMixture):
        return "a user-defined scheme: torch.nn.init has no such initializer"
    if isinstance(scheme, (oneinit.GlorotNormal, oneinit.HeNormal)):
        if scheme.distribution != "normal":
            name = type(scheme).__name__
            return f"torch.nn.init has no truncated {name} (torch's is untruncated)"
    if isinstance(scheme, oneinit.GlorotUniform):
        return "xavier_uniform_", {"gain": scheme.gain}
    if isinstance(scheme, oneinit.GlorotNormal):
        return "xavier_normal_", {"gain": scheme.gain}
    if isinstance(scheme, (oneinit.HeUniform, oneinit.HeNormal)):
        kaiming = "kaiming_uniform_" if isinstance(scheme, oneinit.HeUniform) else "kaiming_normal_"
        return kaiming, {
            "a": scheme.negative_slope,
            "mode": scheme.mode,
            "nonlinearity": scheme.nonlinearity,
        }
    if isinstance(scheme, (oneinit.LecunNormal, oneinit.LecunUniform)):
        return "torch.nn.init has no LeCun initializer"
    if isinstance(scheme, oneinit.VarianceScaling):
        return "torch.nn.init has no variance-scaling initializer (timm's is not torch's)"
    if isinstance(scheme, oneinit.TruncatedNormal):
        # torch's bounds are absolute values.
        scale = scheme.std if scheme.units == "std" else 1.0
        offset = scheme.mean if scheme.units == "std" else 0.0
        return "trunc_normal_", {
            "mean": scheme.mean,
            "std": scheme.std,
            "a": offset + scheme.lower * scale,
            "b": offset + scheme.upper * scale,
        }
    if isinstance(scheme, oneinit.Normal):
        return "normal_", {"mean": scheme.mean, "std": scheme.std}
    if isinstance(scheme, oneinit.Uniform):
        return "uniform_", {"a": scheme.low, "b": scheme.high}
    if isinstance(scheme, oneinit.Orthogonal):
        return "orthogonal_", {"gain": scheme.gain}
    return f"torch.nn.init has no {type(scheme).__name__}"


def apply_own(scheme: oneinit.Scheme, module: nn.Module, layer: spec.Layer) -> dict[str, Any]:
    """Fill ``module``'s weights with torch's own initializer; ``{"own": ..., "own_note": ...}``."""
    call = _own_call(scheme)
    if isinstance(call, str):
        return {"own": None, "own_note": call}
    function, kwargs = call
    arguments = "".join(f", {key}={value!r}" for key, value in kwargs.items())
    text = f"torch.nn.init.{function}(w{arguments})"
    try:
        for p in layer.params:
            getattr(nn.init, function)(module.get_parameter(SLOTS[p.slot]), **kwargs)
    except (RuntimeError, ValueError) as error:  # e.g. no such kernel for bfloat16
        return {"own": None, "own_note": f"{text} fails in torch {torch.__version__}: {error}"}
    return {"own": text, "own_note": None}


# --------------------------------------------------------------------------------------------
# Dumps.


def canonical(param: torch.Tensor, declared: spec.Param) -> np.ndarray:
    """float32 values of ``param`` in the canonical layout of ``spec.Param.shape``."""
    values = param.detach().float().numpy()
    if values.shape != declared.storage:
        raise AssertionError(
            f"{declared.name}: torch stores {values.shape}, spec declares {declared.storage}"
        )
    if declared.layout is not None:
        values = oneinit.to_canonical(values, declared.layout, groups=declared.groups)
    return np.ascontiguousarray(values)


def model_params(m: str, model: nn.Module) -> dict[str, np.ndarray]:
    """Every parameter of model ``m``, canonical name -> canonical values."""
    declared = {p.name: p for p in spec.MODELS[m].params}
    named = ((NAMES[m][torch_name], param) for torch_name, param in model.named_parameters())
    return {name: canonical(param, declared[name]) for name, param in named}


def forward(m: str, model: nn.Module) -> np.ndarray:
    inputs = {k: torch.from_numpy(v) for k, v in spec.model_inputs(m).items()}
    with torch.no_grad():
        return model(**inputs).numpy()


def case_built(layer: spec.Layer, module: nn.Module) -> driver.Built:
    def values() -> dict[str, np.ndarray]:
        return {p.slot: canonical(module.get_parameter(SLOTS[p.slot]), p) for p in layer.params}

    return driver.Built(module, layer_names(layer), values)


def case_layer(layer: spec.Layer) -> driver.Built:
    return case_built(layer, build_layer(layer))


def own(scheme: oneinit.Scheme, layer: spec.Layer, global_seed: int) -> driver.Own:
    module = build_layer(layer)
    entry = apply_own(scheme, module, layer)
    return entry, None if entry["own"] is None else case_built(layer, module)


FRAMEWORK = driver.Framework(
    name="torch",
    version=torch.__version__,
    description=__doc__.splitlines()[0],
    set_seed=torch.manual_seed,
    models=MODELS,
    names=NAMES,
    initialize=functools.partial(initialize, strict=True),
    params=model_params,
    forward=forward,
    case_layer=case_layer,
    own=own,
)


# --------------------------------------------------------------------------------------------
# The self-check: seeded values against the core.


def check_models(request: spec.Request, arrays: dict[str, np.ndarray]) -> list[str]:
    """One line per model: largest ulp distance from the core, mismatches, finite output."""
    lines = []
    for m in MODELS:
        expected = spec.model_values(m, request.seed)
        plan = {a.param.name: a for a in spec.PARITY_RULES.plan(spec.param_infos(m))}
        worst, bad = 0.0, []
        for name in sorted(spec.expected_names(m, FRAMEWORK.name)):
            got = arrays[f"model/{m}/param/{name}"]
            exact = analysis.scheme_is_exact(plan[name].scheme, plan[name].fans)
            result = analysis.seeded_mismatch(got, expected[name], exact)
            worst = max(worst, result.value)
            if not result.ok:
                bad.append(f"{name} ({result})")
        output = arrays[f"model/{m}/output"]
        finite = "finite" if np.isfinite(output).all() else "NOT FINITE"
        lines.append(f"model {m}: max ulp {worst:g}, output {finite}; mismatches: {bad or 'none'}")
    return lines


def check_cases(request: spec.Request, arrays: dict[str, np.ndarray]) -> list[str]:
    """Largest ulp distance of the seeded cases from the core, mismatches, finite values."""
    worst, bad = 0.0, []
    for index, (scheme, layer) in enumerate(request.cases):
        theories = analysis.layer_theories(scheme, layer)
        for slot, values in spec.layer_values(scheme, layer, request.seed).items():
            got = arrays[spec.case_key(index, "seeded", slot)]
            result = analysis.seeded_mismatch(got, values, theories[slot].exact, layer.dtype)
            worst = max(worst, result.value)
            if not result.ok:
                bad.append(f"case {index} {scheme} on {layer.name}.{slot} ({result})")
    finite = all(np.isfinite(v).all() for v in arrays.values())
    return [f"cases: max ulp {worst:g}; mismatches: {bad or 'none'}", f"all finite: {finite}"]


def main(argv: list[str] | None = None) -> None:
    request, arrays, meta = driver.run(FRAMEWORK, argv)
    lines = check_models(request, arrays) if request.models else []
    print("\n".join(lines + check_cases(request, arrays)))
    for what, reason in meta["skipped"].items():
        print(f"skipped {what}: {reason}")


if __name__ == "__main__":
    main()
