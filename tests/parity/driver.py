"""The parity workers' shared driver: one request in, one ``<framework>.npz`` + ``.json`` out.

A worker (``worker_<framework>.py``) describes its framework as a :class:`Framework` (its model
and layer builders, name mappings, layout conversion, forward pass and own initializers) and
calls :func:`run`, which reads the request and fills the three parts of the dump in the format
of ``spec.py``'s docstring:

* ``model/<m>/...``: each model initialized by ``spec.PARITY_RULES`` with the portable seed, its
  output on ``spec.model_inputs`` and the adapter's report;
* ``profile/<p>/...`` and ``default/...``: each model under each profile, and as the framework
  itself initializes it, after the framework's global seed;
* ``case/<i>/<mode>/<slot>``: each layer case seeded, unseeded, and by the framework's own
  initializer of the scheme's name.

Imports numpy, oneinit and spec only: no framework.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import spec

import oneinit
from oneinit.core.rules import Rule, Rules, get_profile

Arrays = dict[str, np.ndarray]
Meta = dict[str, Any]


@dataclass(frozen=True)
class Built:
    """A layer case's native layer: what ``Framework.initialize`` takes, its weights' native
    name -> slot, and a function reading its weights' canonical values by slot."""

    module: Any
    names: dict[str, str]
    values: Callable[[], Arrays]


#: A case's own-initializer result: its meta entry (``{"own": ..., "own_note": ...}``) and the
#: layer filled by the framework's own initializer (None: there is none, or it fails).
Own = tuple[dict[str, str | None], Built | None]


def _no_skip(layer: spec.Layer) -> str | None:
    return None


@dataclass(frozen=True)
class Framework:
    """What the driver needs of one framework."""

    name: str  #: as in ``spec.FRAMEWORKS``: the dump's file name
    version: str  #: the dump's ``version``
    description: str  #: the worker's command-line help
    set_seed: Callable[[int], None]  #: the framework's global seed (before unseeded fills)
    models: dict[str, Callable[[], Any]]  #: model name -> builder, in ``spec.MODELS`` order
    names: dict[str, dict[str, str]]  #: model name -> native name -> canonical name
    #: the adapter's ``initialize(model, rules, *, seed=..., profile=..., names=...)``
    initialize: Callable[..., Any]
    params: Callable[[str, Any], Arrays]  #: (model name, built) -> canonical name -> values
    forward: Callable[[str, Any], np.ndarray]  #: (model name, built) -> output on the inputs
    case_layer: Callable[[spec.Layer], Built]  #: a case's layer, framework-initialized
    #: (scheme, layer, global seed) -> the case's own-initializer result
    own: Callable[[oneinit.Scheme, spec.Layer, int], Own]
    #: model name -> the model as the framework initializes it (None: the builder's)
    default: Callable[[str], Any] | None = None
    skipped_models: dict[str, str] = field(default_factory=dict)  #: model -> why not built
    skip_case: Callable[[spec.Layer], str | None] = _no_skip  #: why a case is not built


def run_models(fw: Framework, request: spec.Request, arrays: Arrays, meta: Meta) -> None:
    fw.set_seed(request.global_seed)  # what the rules leave unmatched
    for m in spec.MODELS:
        if m in fw.skipped_models:
            meta["skipped"][f"model/{m}"] = fw.skipped_models[m]
            continue
        model = fw.models[m]()
        report = fw.initialize(model, spec.PARITY_RULES, seed=request.seed, names=fw.names[m])
        for name, values in fw.params(m, model).items():
            arrays[f"model/{m}/param/{name}"] = values
        arrays[f"model/{m}/output"] = fw.forward(m, model)
        meta["reports"][m] = str(report)
        meta["names"][m] = fw.names[m]


def run_profiles(fw: Framework, request: spec.Request, arrays: Arrays, meta: Meta) -> None:
    for profile in spec.PROFILES:
        try:
            get_profile(profile)
        except ValueError as error:
            meta["skipped"][f"profile/{profile}"] = str(error)
            continue
        fw.set_seed(request.global_seed)
        for m, build in fw.models.items():
            model = build()
            try:
                fw.initialize(model, None, profile=profile, names=fw.names[m])
            except ValueError as error:  # a parameter it leaves or cannot fill: the tests say so
                meta["skipped"][f"profile/{profile}"] = f"model {m}: {error}"
                break
            for name, values in fw.params(m, model).items():
                arrays[f"profile/{profile}/{name}"] = values
    fw.set_seed(request.global_seed)
    for m, build in fw.models.items():  # the framework's own defaults
        model = build() if fw.default is None else fw.default(m)
        for name, values in fw.params(m, model).items():
            arrays[f"default/{name}"] = values


def run_cases(fw: Framework, request: spec.Request, arrays: Arrays, meta: Meta) -> None:
    for index, (scheme, layer) in enumerate(request.cases):
        reason = fw.skip_case(layer)
        if reason is not None:
            meta["skipped"][f"case/{index}"] = reason
            meta["cases"].append({"own": None, "own_note": None})
            continue
        rules = Rules(Rule(scheme, role="weight"), Rule(oneinit.Zeros(), role="bias"))
        built: dict[str, Built] = {}
        for mode, seed in (("seeded", request.seed), ("unseeded", None)):
            fw.set_seed(request.global_seed)
            built[mode] = fw.case_layer(layer)
            fw.initialize(built[mode].module, rules, seed=seed, names=built[mode].names)
        fw.set_seed(request.global_seed)
        entry, own = fw.own(scheme, layer, request.global_seed)
        meta["cases"].append(entry)
        if own is not None:
            built["own"] = own
        for mode, case in built.items():
            for slot, values in case.values().items():
                arrays[spec.case_key(index, mode, slot)] = values


def run(fw: Framework, argv: list[str] | None = None) -> tuple[spec.Request, Arrays, Meta]:
    """Parse ``REQUEST OUT`` from ``argv``, run the request and write ``OUT/<name>.npz``/``.json``.

    Returns the request, the dumped arrays and the meta (for a worker's own self-check).
    """
    parser = argparse.ArgumentParser(description=fw.description)
    parser.add_argument("request", type=Path, help="the request JSON (spec.write_request)")
    parser.add_argument("out", type=Path, help=f"folder for {fw.name}.npz and {fw.name}.json")
    args = parser.parse_args(argv)
    request = spec.read_request(args.request)
    arrays: Arrays = {}
    meta: Meta = {"version": fw.version, "reports": {}, "names": {}, "skipped": {}, "cases": []}
    if request.models:
        run_models(fw, request, arrays, meta)
    if request.profiles:
        run_profiles(fw, request, arrays, meta)
    run_cases(fw, request, arrays, meta)
    spec.write_dump(args.out, fw.name, arrays, meta)
    return request, arrays, meta
