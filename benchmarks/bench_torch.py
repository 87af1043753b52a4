"""Speed of the PyTorch adapter against torch's own initialization, as ratios (not a test).

Run: ``python benchmarks/bench_torch.py [--device cpu|cuda] [--repeat 7] [--json out.json]``.

Each comparison times oneinit and torch's own equivalent alternately in one run (pairs of
calls, after a warm-up) and reports the median of each, the median of the per-pair ratios
(oneinit / torch: below 1 is faster) and the ratio of the fastest runs. Machines are shared
and noisy: compare ratios, not absolute times across runs. On CUDA every timed call is
bracketed by ``synchronize``.

Sections:

1. native fills (``seed=None``) against ``torch.nn.init`` at 16M elements: uniform, normal,
   truncated normal (goal: ratio <= 1.05);
2. portable fills (``seed=int``) against torch's own fill of the same distribution;
3. orthogonal on 1024, 2048 and 4096 square against ``nn.init.orthogonal_``;
4. a ~108M-parameter model (BERT-base encoder without a head): ``initialize`` after
   ``meta`` + ``to_empty`` against torch's construction-time init.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

import oneinit
import oneinit.adapters.torch as oit

Result = dict[str, Any]


def _timer(device: str) -> Callable[[Callable[[], object]], float]:
    def run(fn: Callable[[], object]) -> float:
        if device == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        if device == "cuda":
            torch.cuda.synchronize()
        return time.perf_counter() - start

    return run


def compare(
    name: str,
    ours: Callable[[], object],
    theirs: Callable[[], object],
    *,
    device: str,
    repeat: int,
    elements: int | None = None,
) -> Result:
    """Median times and median per-pair ratio of ``ours`` against ``theirs``, interleaved."""
    timed = _timer(device)
    ours()
    theirs()  # warm-up
    ratios, ours_s, theirs_s = [], [], []
    for i in range(repeat):
        if i % 2:  # alternate who goes first
            b = timed(theirs)
            a = timed(ours)
        else:
            a = timed(ours)
            b = timed(theirs)
        ours_s.append(a)
        theirs_s.append(b)
        ratios.append(a / b)
    result: Result = {
        "name": name,
        "oneinit_ms": 1e3 * statistics.median(ours_s),
        "torch_ms": 1e3 * statistics.median(theirs_s),
        "ratio": statistics.median(ratios),
        # The fastest runs are the least disturbed ones on a shared machine.
        "ratio_of_best": min(ours_s) / min(theirs_s),
    }
    if elements:
        result["oneinit_melem_s"] = elements / statistics.median(ours_s) / 1e6
        result["torch_melem_s"] = elements / statistics.median(theirs_s) / 1e6
    print(
        f"{name:<46} oneinit {result['oneinit_ms']:9.2f} ms   torch {result['torch_ms']:9.2f} ms"
        f"   ratio {result['ratio']:.3f} (best runs {result['ratio_of_best']:.3f})",
        flush=True,
    )
    return result


def native_fills(device: str, repeat: int, side: int, dtype: torch.dtype) -> list[Result]:
    t = torch.empty(side, side, device=device, dtype=dtype)
    n = t.numel()
    suffix = "" if dtype == torch.float32 else f" {str(dtype).split('.')[-1]}"
    init = nn.init
    cases = [
        (
            "uniform: glorot_uniform_ vs xavier_uniform_",
            lambda: oit.glorot_uniform_(t),
            lambda: init.xavier_uniform_(t),
        ),
        (
            "uniform: uniform_(-1, 1)",
            lambda: oit.uniform_(t, -1.0, 1.0),
            lambda: init.uniform_(t, -1.0, 1.0),
        ),
        (
            "normal: he_normal_ vs kaiming_normal_",
            lambda: oit.he_normal_(t),
            lambda: init.kaiming_normal_(t),
        ),
        (
            "trunc normal: +-2 std",
            lambda: oit.trunc_normal_(t, std=1.0),
            lambda: init.trunc_normal_(t, std=1.0),
        ),
        (
            "trunc normal: std=0.02, +-2 absolute",
            lambda: oit.trunc_normal_(t, std=0.02),
            lambda: init.trunc_normal_(t, std=0.02),
        ),
    ]
    return [
        compare(f"native {name}{suffix}", ours, theirs, device=device, repeat=repeat, elements=n)
        for name, ours, theirs in cases
    ]


def portable_fills(device: str, repeat: int, side: int) -> list[Result]:
    t = torch.empty(side, side, device=device)
    n = t.numel()
    init = nn.init
    cases = [
        (
            "glorot_uniform_ vs xavier_uniform_",
            lambda: oit.glorot_uniform_(t, seed=0),
            lambda: init.xavier_uniform_(t),
        ),
        (
            "he_normal_ vs kaiming_normal_",
            lambda: oit.he_normal_(t, seed=0),
            lambda: init.kaiming_normal_(t),
        ),
        (
            "trunc_normal_ +-2 std",
            lambda: oit.trunc_normal_(t, std=1.0, seed=0),
            lambda: init.trunc_normal_(t, std=1.0),
        ),
    ]
    transposed = torch.empty(side, side // 16, 4, 4, device=device)
    cases.append(
        (
            "ConvTranspose layout (copy) vs kaiming_uniform_",
            lambda: oit.he_uniform_(transposed, layout="conv_transpose", seed=0),
            lambda: init.kaiming_uniform_(transposed),
        )
    )
    return [
        compare(f"portable {name}", ours, theirs, device=device, repeat=repeat, elements=n)
        for name, ours, theirs in cases
    ]


def orthogonal(device: str, repeat: int, sizes: list[int], seeded: bool) -> list[Result]:
    results = []
    for n in sizes:
        t = torch.empty(n, n, device=device)
        reps = max(1, repeat // (2 if n >= 4096 else 1))
        results.append(
            compare(
                f"orthogonal {n} native",
                lambda t=t: oit.orthogonal_(t),
                lambda t=t: nn.init.orthogonal_(t),
                device=device,
                repeat=reps,
            )
        )
        if seeded:
            results.append(
                compare(
                    f"orthogonal {n} portable (core, float64 QR)",
                    lambda t=t: oit.orthogonal_(t, seed=0),
                    lambda t=t: nn.init.orthogonal_(t),
                    device=device,
                    repeat=max(1, reps // 2),
                )
            )
    return results


def encoder(layers: int = 12, width: int = 768, vocab: int = 30522) -> nn.Module:
    """BERT-base's encoder without a head: 108.5M parameters."""
    return nn.Sequential(
        nn.Embedding(vocab, width),
        *[
            nn.TransformerEncoderLayer(width, 12, 4 * width, batch_first=True)
            for _ in range(layers)
        ],
        nn.LayerNorm(width),
    )


def whole_model(device: str, repeat: int) -> list[Result]:
    def construct() -> nn.Module:
        with torch.device(device):
            return encoder()

    def deferred(**kwargs: Any) -> nn.Module:
        with torch.device("meta"):
            model = encoder()
        model.to_empty(device=device)
        oit.initialize(model, strict=True, **kwargs)
        return model

    def torch_deferred() -> nn.Module:
        """torch's own deferred init: meta, to_empty, each module's reset."""
        with torch.device("meta"):
            model = encoder()
        model.to_empty(device=device)
        for module in model.modules():
            reset = getattr(module, "reset_parameters", None) or getattr(
                module, "_reset_parameters", None
            )
            if callable(reset):
                reset()
        return model

    params = sum(p.numel() for p in construct().parameters())
    print(f"model: {params / 1e6:.1f}M parameters", flush=True)
    reps = max(3, repeat // 2)
    he = oneinit.HeNormal()
    existing = construct()
    return [
        compare(
            "model: same, against torch's meta+to_empty+reset_parameters",
            lambda: deferred(profile="torch"),
            torch_deferred,
            device=device,
            repeat=reps,
        ),
        compare(
            "model: meta+to_empty+initialize(profile='torch')",
            lambda: deferred(profile="torch"),
            construct,
            device=device,
            repeat=reps,
        ),
        compare(
            "model: meta+to_empty+initialize(HeNormal())",
            lambda: deferred(scheme_or_rules=he),
            construct,
            device=device,
            repeat=reps,
        ),
        compare(
            "model: meta+to_empty+initialize(HeNormal(), seed=0)",
            lambda: deferred(scheme_or_rules=he, seed=0),
            construct,
            device=device,
            repeat=reps,
        ),
        compare(
            "model: initialize(existing, profile='torch')",
            lambda: oit.initialize(existing, profile="torch"),
            construct,
            device=device,
            repeat=reps,
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--side", type=int, default=4096, help="fills use side x side elements")
    parser.add_argument("--sections", default="native,portable,orthogonal,model")
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args()
    sections = set(args.sections.split(","))
    device = args.device
    print(
        f"torch {torch.__version__}, device {device}"
        + (
            f" ({torch.cuda.get_device_name()})"
            if device == "cuda"
            else f", {torch.get_num_threads()} threads"
        ),
        flush=True,
    )
    results: list[Result] = []
    if "native" in sections:
        dtypes = [torch.float32] + ([torch.bfloat16] if device == "cuda" else [])
        for dtype in dtypes:
            results += native_fills(device, args.repeat, args.side, dtype)
    if "portable" in sections:
        results += portable_fills(device, args.repeat, args.side)
    if "orthogonal" in sections:
        results += orthogonal(device, args.repeat, [1024, 2048, 4096], seeded=True)
    if "model" in sections:
        results += whole_model(device, args.repeat)
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(
                {"torch": torch.__version__, "device": device, "results": results}, handle, indent=1
            )


if __name__ == "__main__":
    main()
