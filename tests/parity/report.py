"""The parity report: one scheme on one layer, in PyTorch, Keras, PaddlePaddle and MXNet.

``nox -s parity -- [--scheme S ...] [--layer L ...] [--seed N]`` runs, in order::

    python tests/parity/report.py request OUT [--scheme ...] [--layer ...] [--seed ...]
    python tests/parity/worker_<framework>.py OUT/request.json OUT   # each in its own venv
    pytest tests/parity                                                 # the parity suite
    python tests/parity/report.py show OUT

``request`` writes what every worker builds: the report's cases first (the chosen ones, or
:data:`spec.REPORT_DEFAULTS`), then the whole statistical matrix for the suite. ``show`` prints,
per framework, a table of the chosen cases (oneinit's fans and expected std; the measured std
and KS distance of an unseeded fill; the largest difference of the seeded fill from the core's
values), then a table of what each framework's own initializer of the same name gives on the
same layer, and writes one PNG per case: the four frameworks' histograms over the theoretical
density, next to the histograms of their own initializers.
"""

from __future__ import annotations

import argparse
import ast
import json
import math
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

import analysis
import spec

import oneinit
from oneinit.core.rules import Rule, Rules

NAMES = {"torch": "PyTorch", "keras": "Keras", "paddle": "Paddle", "mxnet": "MXNet"}


def parse_scheme(text: str) -> oneinit.Scheme:
    """``"HeNormal"``, ``"TruncatedNormal(std=0.02)"`` or ``"SignedBandMixture"``."""
    name, _, rest = text.strip().partition("(")
    kwargs: dict[str, Any] = {}
    if rest:
        if not rest.endswith(")"):
            raise ValueError(
                f"--scheme must look like Name or Name(key=value, ...). Received: {text!r}"
            )
        call = ast.parse(f"f({rest}", mode="eval").body
        assert isinstance(call, ast.Call)
        if call.args:
            raise ValueError(f"--scheme takes keyword arguments only. Received: {text!r}")
        kwargs = {kw.arg: ast.literal_eval(kw.value) for kw in call.keywords if kw.arg}
    if name == "SignedBandMixture":
        return spec.SignedBandMixture(**kwargs)
    return oneinit.scheme_from_config({"scheme": name, **kwargs})


def _request(args: argparse.Namespace) -> int:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    # Unnamed schemes or layers default to those of the default cases.
    if args.scheme or args.layer:
        schemes = [parse_scheme(s) for s in args.scheme] or _unique(
            s for s, _ in spec.REPORT_DEFAULTS
        )
        layers = args.layer or _unique(layer for _, layer in spec.REPORT_DEFAULTS)
        chosen = [(s, spec.LAYERS[layer]) for s in schemes for layer in layers]
    else:
        chosen = [(s, spec.LAYERS[layer]) for s, layer in spec.REPORT_DEFAULTS]
    matrix = [(s, layer) for s in spec.MATRIX_SCHEMES for layer in spec.LAYERS.values()]
    cases = chosen + [c for c in matrix if c not in chosen]
    spec.write_request(
        out / "request.json", [(s, layer.name) for s, layer in cases], seed=args.seed
    )
    (out / "report.json").write_text(json.dumps({"cases": list(range(len(chosen)))}))
    print(
        f"request: {len(chosen)} report cases + {len(cases) - len(chosen)} matrix cases "
        f"-> {out / 'request.json'}"
    )
    return 0


def _unique(items: Any) -> list[Any]:
    return list(dict.fromkeys(items))


# --------------------------------------------------------------------------------------------
# Tables.


def _load(out: Path) -> dict[str, tuple[dict[str, Any], dict[str, np.ndarray]]]:
    dumps = {}
    for framework in spec.FRAMEWORKS:
        meta_path = out / f"{framework}.json"
        if meta_path.exists():
            with np.load(out / f"{framework}.npz") as data:
                dumps[framework] = (
                    json.loads(meta_path.read_text()),
                    {k: data[k] for k in data.files},
                )
    return dumps


def _table(header: Sequence[str], rows: list[Sequence[str]]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(str(c).ljust(w) for c, w in zip(line, widths, strict=True)).rstrip()
        for line in [header, *rows]
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _fmt(value: float | None, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.{digits}g}"


def _short(reason: str, width: int = 60) -> str:
    """The first clause of a reason, at most ``width`` characters (the JSON has it whole)."""
    first = reason.split(":")[0].split(";")[0].strip()
    return first if len(first) <= width else first[: width - 3] + "..."


def _short_call(call: str) -> str:
    """An initializer call without module paths, seeds and the LSTM's second argument."""
    for prefix in ("torch.nn.init.", "keras.initializers.", "paddle.nn.initializer."):
        call = call.replace(prefix, "")
    call = call.replace("paddle.ParamAttr(initializer=", "ParamAttr(")
    call = re.sub(r",? ?seed=\d+", "", call)
    return re.split(r", (?:recurrent_initializer|weight_hh_attr)=", call)[0]


def _scheme_text(scheme: oneinit.Scheme) -> str:
    from oneinit.core.rules import scheme_label

    return scheme_label(scheme)


def _measure(values: np.ndarray, t: analysis.Theory) -> tuple[float, str]:
    """Measured std, and the KS distance to the theory (orthogonality error if structured)."""
    x = values.astype(np.float64)
    if t.orthogonal_gain is not None:
        error, _ = analysis.orthogonality_error(x, t.orthogonal_gain, t.blocks)
        return float(x.std()), f"orth err {error:.1e}"
    return float(x.std()), _fmt(analysis.ks_distance(t.cdf, x), 3) if t.cdf else "-"


def _show(args: argparse.Namespace) -> int:
    out = Path(args.out)
    request = spec.read_request(out / "request.json")
    chosen = json.loads((out / "report.json").read_text())["cases"]
    dumps = _load(out)
    missing = [f for f in spec.FRAMEWORKS if f not in dumps]
    if missing:
        print(f"no dumps for {', '.join(missing)} (their workers did not run)")
    for framework, (meta, arrays) in dumps.items():
        rows = []
        for index in chosen:
            scheme, layer = request.cases[index]
            plan = Rules(Rule(scheme)).plan(spec.layer_infos(layer))
            theories = analysis.layer_theories(scheme, layer)
            core = spec.layer_values(scheme, layer, request.seed)
            skipped = meta.get("skipped", {}).get(f"case/{index}")
            for assignment in plan:
                slot = assignment.param.name
                t = theories[slot]
                fans = assignment.fans
                base = [
                    f"{layer.name}.{slot}" if len(plan) > 1 else layer.name,
                    _scheme_text(scheme),
                    "-" if fans is None else f"({fans.fan_in}, {fans.fan_out})",
                    _fmt(t.std),
                ]
                if skipped:
                    rows.append([*base, "-", "-", f"skipped: {_short(skipped)}"])
                    continue
                std, fit = _measure(arrays[spec.case_key(index, "unseeded", slot)], t)
                seeded = arrays[spec.case_key(index, "seeded", slot)].astype(np.float64)
                expected = core[slot]
                if layer.dtype == "bfloat16":
                    expected = analysis.to_bfloat16(expected)
                diff = float(np.max(np.abs(seeded - expected)))
                rows.append(
                    [*base, _fmt(std), fit, "0 (bit-exact)" if diff == 0 else f"{diff:.2g}"]
                )
        version = meta.get("version", "?")
        print(f"\n{NAMES[framework]} {version}: oneinit")
        print(
            _table(
                [
                    "layer",
                    "scheme",
                    "fans (in, out)",
                    "expected std",
                    "measured std",
                    "KS / check",
                    "max |seeded - core|",
                ],
                rows,
            )
        )
    print("\nEach framework's own initializer of the same name, on the same layer")
    rows = []
    for index in chosen:
        scheme, layer = request.cases[index]
        theories = analysis.layer_theories(scheme, layer)
        for framework, (meta, arrays) in dumps.items():
            case_meta = meta["cases"][index] if index < len(meta.get("cases", [])) else {}
            call = case_meta.get("own")
            for slot, t in theories.items():
                values = arrays.get(spec.case_key(index, "own", slot))
                label = f"{layer.name}.{slot}" if len(theories) > 1 else layer.name
                if values is None or call is None:
                    note = case_meta.get("own_note") or meta.get("skipped", {}).get(
                        f"case/{index}", "-"
                    )
                    rows.append(
                        [
                            label,
                            NAMES[framework],
                            f"none: {_short(note)}",
                            "-",
                            _fmt(t.std),
                            "-",
                            "-",
                        ]
                    )
                    continue
                std, fit = _measure(values, t)
                rows.append(
                    [
                        label,
                        NAMES[framework],
                        _short_call(call),
                        _fmt(std),
                        _fmt(t.std),
                        _fmt(std / t.std if t.std else None, 3),
                        fit,
                    ]
                )
    print(
        _table(
            [
                "layer",
                "framework",
                "own initializer",
                "measured std",
                "oneinit std",
                "ratio",
                "KS / check vs oneinit",
            ],
            rows,
        )
    )
    if not args.no_png:
        for index in chosen:
            path = _plot(out, index, request, dumps)
            print(f"wrote {path}")
    return 0


# --------------------------------------------------------------------------------------------
# Pictures.


def _plot(out: Path, index: int, request: spec.Request, dumps: dict[str, Any]) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scheme, layer = request.cases[index]
    theories = analysis.layer_theories(scheme, layer)
    slot = list(theories)[-1]  # the recurrent weight of an LSTM, else the only weight
    t = theories[slot]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    spread = 4 * (t.std or 1.0)
    edges = np.linspace(-spread, spread, 81)
    grid = np.linspace(-spread, spread, 801)
    for ax, mode, title in (
        (axes[0], "unseeded", "oneinit in each framework"),
        (axes[1], "own", "each framework's own initializer"),
    ):
        for framework, (_, arrays) in dumps.items():
            values = arrays.get(spec.case_key(index, mode, slot))
            if values is None:
                continue
            ax.hist(
                values.ravel(),
                bins=edges,
                density=True,
                histtype="step",
                linewidth=1.4,
                label=NAMES[framework],
            )
        if t.density is not None:
            ax.plot(grid, t.density(grid), "k--", linewidth=1.2, label=f"oneinit: {t.label}")
        ax.set_title(title)
        ax.set_xlabel("value")
        ax.legend(fontsize=8)
    axes[0].set_ylabel("density")
    fig.suptitle(f"{_scheme_text(scheme)} on {layer.description} ({slot})")
    fig.tight_layout()
    path = out / f"parity-{index}-{type(scheme).__name__}-{layer.name}.png"
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="report.py", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    req = sub.add_parser("request", help="write the request every worker reads")
    req.add_argument("out")
    req.add_argument(
        "--scheme",
        action="append",
        default=[],
        help="a scheme, e.g. HeNormal or 'TruncatedNormal(std=0.02)' (repeatable)",
    )
    req.add_argument(
        "--layer",
        action="append",
        default=[],
        choices=list(spec.LAYERS),
        help="a layer kind (repeatable)",
    )
    req.add_argument("--seed", type=int, default=spec.SEED)
    show = sub.add_parser("show", help="print the tables and write the PNGs")
    show.add_argument("out")
    show.add_argument("--no-png", action="store_true")
    args = parser.parse_args(argv)
    return _request(args) if args.command == "request" else _show(args)


if __name__ == "__main__":
    raise SystemExit(main())
