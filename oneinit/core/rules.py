"""Rules, reports and profiles: which scheme each parameter of a model gets, framework-free.

Every adapter walks its framework's model and describes each parameter as a :class:`ParamInfo`:
its qualified name, storage shape and :class:`~oneinit.core.fans.Layout`, the **kind** of layer
that owns it, its **roles** and its **slot** (its framework-neutral name inside the layer). The
adapter then asks a :class:`Rules` which scheme the parameter gets (:meth:`Rules.plan`), fills it
the native way, and returns a :class:`Report`. Everything that decides (matching, fans, expected
std, the default rule sets and the framework profiles) lives here, so every adapter applies the
same rules the same way.

Vocabulary
----------
**Roles** (a parameter has one or more; a rule's ``role`` matches any of them):

- ``"weight"``: the matrix or kernel of a dense, convolutional, recurrent or attention layer,
  and embedding tables;
- ``"recurrent"``: hidden-to-hidden weights of recurrent layers (they are ``"weight"`` too);
- ``"embedding"``: embedding tables (they are ``"weight"`` too);
- ``"bias"``: additive vectors, including the shift of a normalization layer;
- ``"norm"``: the scale and the shift of a normalization layer (the shift is ``"bias"`` too);
- ``"activation"``: learnable activation parameters (PReLU slopes);
- ``"other"``: anything else (parameters of layers the adapter does not know, such as a
  position embedding); only name patterns and kinds select them.

A parameter can be several things at once, so rules go from specific to general: first match
wins. ``Rules(Rule(Orthogonal(), role="recurrent"), Rule(HeNormal(), role="weight"))`` gives
recurrent weights orthogonal values and every other weight He's.

**Kinds** (:data:`KINDS`) name the layer: ``"linear"``, ``"conv"`` (grouped and depthwise
too), ``"conv_transpose"``, ``"embedding"``, ``"rnn"``, ``"lstm"``, ``"gru"`` (layers and cells),
``"multihead_attention"``, the norms (:data:`NORM_KINDS`), ``"prelu"`` and ``"other"``.

**Slots** are the parameter's name inside its layer, the same in every framework: ``"weight"``
and ``"bias"`` for dense, conv and norm layers; ``"weight_ih"``, ``"weight_hh"``, ``"weight_hr"``,
``"bias_ih"``, ``"bias_hh"`` for recurrent layers; ``"in_proj_weight"``, ``"q_proj_weight"``,
``"k_proj_weight"``, ``"v_proj_weight"``, ``"in_proj_bias"``, ``"out_proj_weight"``,
``"out_proj_bias"``, ``"bias_k"``, ``"bias_v"`` for attention.

Name patterns: ``Rule(name=...)`` is a shell-style pattern (:func:`fnmatch.fnmatchcase`,
case-sensitive) matched against the **whole** qualified name (``"encoder.*.bias"``);
``Rule(regex=...)`` is a regular expression **searched** anywhere in it (:func:`re.search`;
anchor it with ``^...$`` for a whole-name match).

Biases and fans
---------------
Fan-based schemes on a vector (a bias) use the fans of the layer's weight (``fans="auto"``, the
default; ``"own"`` or ``"layer"`` force one): torch's bias rule U(+-1/sqrt(fan_in)) is
``Rule(HeUniform(negative_slope=sqrt(5), nonlinearity="leaky_relu"), role="bias")``.

Example
-------
>>> import oneinit
>>> from oneinit.core.rules import Geometry, ParamInfo, Report, Rule, Rules
>>> rules = Rules(Rule(oneinit.Zeros(), role="bias"), Rule(oneinit.HeNormal(), role="weight"))
>>> weight = ParamInfo("fc.weight", (64, 32), kind="linear", roles={"weight"},
...                    layout="dense_out_in")
>>> bias = ParamInfo("fc.bias", (64,), kind="linear", roles={"bias"},
...                  layer=Geometry((64, 32), "dense_out_in"))
>>> print(Report.from_plan(rules.plan([weight, bias])))
name       shape     kind    layout        fans      scheme      std   rule
fc.weight  (64, 32)  linear  dense_out_in  (32, 64)  HeNormal()  0.25  #2 role=weight
fc.bias    (64,)     linear  -             -         Zeros()     0     #1 role=bias
2 parameters, 2112 values: 2 planned
"""

from __future__ import annotations

import dataclasses
import fnmatch
import functools
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar, overload

import numpy as np

from .fans import (
    Fans,
    Layout,
    canonical_shape,
    compute_fans,
    framework_fans,
    get_layout,
    layout_groups,
)
from .schemes import (
    Assign,
    Bilinear,
    Constant,
    ConstantScheme,
    CustomScheme,
    DeltaOrthogonal,
    Dirac,
    GateBias,
    GlorotUniform,
    HeNormal,
    HeUniform,
    Identity,
    LecunNormal,
    Normal,
    Ones,
    Orthogonal,
    RandomScheme,
    Scheme,
    Sparse,
    Uniform,
    VarianceScaling,
    Zeros,
)
from .structured import bilinear

__all__ = [
    "IGNORABLE",
    "KINDS",
    "NORM_KINDS",
    "PROFILES",
    "RECURRENT_GATES",
    "RECURRENT_KINDS",
    "ROLES",
    "STATUSES",
    "Assignment",
    "Geometry",
    "Names",
    "ParamInfo",
    "Report",
    "ReportRow",
    "Rule",
    "Rules",
    "as_rules",
    "canonical_names",
    "expected_std",
    "get_profile",
    "keras_profile",
    "mxnet_profile",
    "paddle_profile",
    "scheme_label",
    "torch_profile",
]

ROLES: tuple[str, ...] = (
    "weight",
    "recurrent",
    "embedding",
    "bias",
    "norm",
    "activation",
    "other",
)
NORM_KINDS: tuple[str, ...] = (
    "batch_norm",
    "layer_norm",
    "group_norm",
    "instance_norm",
    "rms_norm",
)
RECURRENT_KINDS: tuple[str, ...] = ("rnn", "lstm", "gru")
#: Gates stacked along the output axis of a recurrent weight (torch/Keras/Paddle/MXNet order).
RECURRENT_GATES: dict[str, int] = {"rnn": 1, "lstm": 4, "gru": 3}
KINDS: tuple[str, ...] = (
    "linear",
    "conv",
    "conv_transpose",
    "embedding",
    *RECURRENT_KINDS,
    "multihead_attention",
    *NORM_KINDS,
    "prelu",
    "other",
)
#: What happened to a parameter: filled; left as it was by an explicit ``Rule(None, ...)``; no
#: rule matched; a meta (storage-less) or lazy (shape-less) tensor that cannot be filled; or
#: planned only (a dry run).
STATUSES: tuple[str, ...] = ("initialized", "kept", "unmatched", "meta", "lazy", "planned")

FansSource = Literal["auto", "own", "layer"]
#: What a rule can tell the fans and the structure to disregard (:class:`Rule` ``ignore``).
IGNORABLE: tuple[str, ...] = ("groups", "blocks")


# --------------------------------------------------------------------------------------------
# Describing parameters.


def _shape(value: Any, what: str) -> tuple[int, ...]:
    try:
        dims = tuple(value)
    except TypeError:
        raise TypeError(f"{what} must be a sequence of ints. Received: {what}={value!r}") from None
    if any(isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 0 for d in dims):
        raise ValueError(f"{what} must contain non-negative ints. Received: {what}={dims!r}")
    return tuple(int(d) for d in dims)


@dataclass(frozen=True)
class Geometry:
    """A weight's storage shape and how to read it: layout, groups and stacked blocks.

    ``layout`` is None for vectors and scalars (biases, norm scales), which have no fans of
    their own.
    """

    shape: tuple[int, ...]
    layout: str | Layout | None = None
    groups: int = 1
    blocks: int = 1

    def __post_init__(self) -> None:
        object.__setattr__(self, "shape", _shape(self.shape, "shape"))
        if self.layout is not None:
            get_layout(self.layout)  # validates; an alias ("recurrent_out_in") is kept as named

    def fans(self, fan_convention: str = "oneinit") -> Fans | None:
        """The fans (:func:`~oneinit.core.fans.compute_fans`), or None without a layout."""
        if self.layout is None:
            return None
        return _memo(
            _cached_fans,
            _fans,
            self.shape,
            self.layout,
            self.groups,
            self.blocks,
            fan_convention,
        )

    @property
    def total_groups(self) -> int:
        """The groups, including those the layout reads off the shape (Keras depthwise)."""
        if self.layout is None:
            return self.groups
        return layout_groups(self.shape, self.layout, self.groups)

    def canonical_shape(self) -> tuple[int, ...]:
        """The canonical ``(out, in / groups, *kernel)`` shape (the shape itself for vectors)."""
        if self.layout is None:
            return self.shape
        return _memo(_cached_canonical, _canonical, self.shape, self.layout, self.groups)


# Models repeat the same layers: fans, canonical shapes and expected stds are computed once
# per distinct argument (all immutable), falling back to a direct call for unhashable ones.

_T = TypeVar("_T")


def _memo(cached: Callable[..., _T], direct: Callable[..., _T], *args: Any) -> _T:
    try:
        return cached(*args)
    except TypeError:  # unhashable arguments (or a real error, which the direct call repeats)
        return direct(*args)


def _fans(
    shape: tuple[int, ...], layout: str | Layout, groups: int, blocks: int, convention: str
) -> Fans:
    return compute_fans(shape, layout, groups=groups, blocks=blocks, fan_convention=convention)


def _canonical(shape: tuple[int, ...], layout: str | Layout, groups: int) -> tuple[int, ...]:
    return canonical_shape(shape, layout, groups=groups)


_cached_fans = functools.lru_cache(maxsize=4096)(_fans)
_cached_canonical = functools.lru_cache(maxsize=4096)(_canonical)


@dataclass(frozen=True, init=False)
class ParamInfo:
    """One parameter of a model, described in framework-neutral terms.

    Parameters
    ----------
    name
        Qualified name (``"encoder.layers.0.linear1.weight"``); portable seeds key on it.
    shape, layout, groups, blocks
        The parameter's own :class:`Geometry` (``layout=None`` for vectors).
    kind
        Kind of the owning layer (:data:`KINDS`).
    roles
        Its roles (:data:`ROLES`).
    slot
        Its neutral name inside the layer (default: the last component of ``name``).
    layer
        The geometry of the layer's main weight, whose fans vectors take (biases).
    """

    name: str
    geometry: Geometry
    kind: str
    roles: frozenset[str]
    slot: str
    layer: Geometry | None

    def __init__(
        self,
        name: str,
        shape: Sequence[int],
        *,
        kind: str = "other",
        roles: Iterable[str] = ("other",),
        slot: str | None = None,
        layout: str | Layout | None = None,
        groups: int = 1,
        blocks: int = 1,
        layer: Geometry | None = None,
    ) -> None:
        if not isinstance(name, str):
            raise TypeError(f"name must be a str. Received: name={name!r}")
        roles = frozenset((roles,) if isinstance(roles, str) else roles)
        _check_names("roles", tuple(roles), ROLES)
        _check_names("kind", (kind,), KINDS)
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "geometry", Geometry(tuple(shape), layout, groups, blocks))
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "roles", roles)
        object.__setattr__(self, "slot", name.rsplit(".", 1)[-1] if slot is None else slot)
        object.__setattr__(self, "layer", layer)

    @property
    def shape(self) -> tuple[int, ...]:
        return self.geometry.shape

    @property
    def layout(self) -> str | Layout | None:
        return self.geometry.layout

    @property
    def layout_name(self) -> str | None:
        """The layout's name as given (a preset, an alias or a custom layout's name)."""
        layout = self.geometry.layout
        return layout.name if isinstance(layout, Layout) else layout

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    @property
    def rank(self) -> int:
        """Dimensions of the canonical shape: a Keras EinsumDense (E, heads, dim) kernel is a
        matrix, as torch's (heads * dim, E) weight is, so ``Rule(rank=2)`` means one thing in
        every framework.
        """
        return len(self.geometry.canonical_shape())

    def renamed(self, name: str) -> ParamInfo:
        """The same parameter under another (canonical) name; its slot stays the layer's."""
        copy = object.__new__(ParamInfo)
        for field in dataclasses.fields(self):
            object.__setattr__(copy, field.name, getattr(self, field.name))
        object.__setattr__(copy, "name", name)
        return copy


def _check_names(what: str, values: tuple[str, ...], allowed: tuple[str, ...]) -> None:
    for value in values:
        if value not in allowed:
            listed = ", ".join(repr(a) for a in allowed)
            raise ValueError(f"{what} must be among {listed}. Received: {what}={value!r}")


#: ``names=`` of every adapter's ``initialize``: own name -> canonical name (None keeps it).
Names = Mapping[str, str] | Callable[[str], "str | None"]
#: How many names an error message lists before it says how many more there are.
_NAMES_LISTED = 12


def _listing(names: Sequence[str]) -> str:
    shown = ", ".join(repr(n) for n in names[:_NAMES_LISTED])
    more = len(names) - _NAMES_LISTED
    return shown + (f", ... ({more} more)" if more > 0 else "")


def canonical_names(paths: Sequence[Sequence[str]], names: Names | None) -> list[str]:
    """The canonical name of each parameter of a model, as ``initialize(names=...)`` gives it.

    ``paths[i]`` lists parameter ``i``'s own names, the reported one first (a shared parameter
    has one per place it is reachable from). ``names`` maps an own name to the canonical name
    (a mapping, or a callable returning None to keep the own name); the canonical name is then
    what rules match by name, what the report shows and the portable stream key. Every
    adapter derives own names its way (its page says how) and renames them here.

    >>> canonical_names([["0.weight"], ["0.bias"]], {"0.weight": "fc.weight"})
    ['fc.weight', '0.bias']
    """
    own = [p[0] for p in paths]
    if names is None:
        return own
    if isinstance(names, Mapping):
        odd = [key for key in names if not isinstance(key, str)]
        if odd:
            raise TypeError(
                "names must map parameter names (str) to canonical names. "
                f"Received: names with keys {_listing([repr(k) for k in odd])}"
            )
        known = {path for group in paths for path in group}
        unknown = sorted(key for key in names if key not in known)
        if unknown:
            raise ValueError(
                f"names maps parameters the model does not have: {_listing(unknown)}. "
                f"Its parameters are: {_listing(own)}. Received: names={_listing(list(names))}"
            )

        def given(group: Sequence[str]) -> list[Any]:
            chosen: list[Any] = []
            for path in group:
                value = names.get(path)
                if value is not None and value not in chosen:
                    chosen.append(value)
            return chosen

    elif callable(names):

        def given(group: Sequence[str]) -> list[Any]:
            value = names(group[0])
            return [] if value is None else [value]

    else:
        raise TypeError(
            "names must be a mapping {own name: canonical name}, a callable own name -> "
            f"canonical name (or None to keep it), or None. Received: names of type "
            f"{type(names).__name__}"
        )
    result: list[str] = []
    owner: dict[str, str] = {}  # canonical name -> the own name of the parameter holding it
    for group in paths:
        chosen = given(group)
        if len(chosen) > 1:
            raise ValueError(
                f"names gives the shared parameter {group[0]!r} (also {_listing(group[1:])}) "
                f"more than one name. Received: {_listing(chosen)}"
            )
        canonical = chosen[0] if chosen else group[0]
        if not isinstance(canonical, str) or not canonical:
            raise TypeError(
                "names must give each parameter a non-empty str (or None to keep its own "
                f"name). Received: names[{group[0]!r}]={canonical!r}"
            )
        if canonical in owner:
            raise ValueError(
                f"Two parameters would share the canonical name {canonical!r}: "
                f"{owner[canonical]!r} and {group[0]!r}; each name must be unique. "
                f"Received: names gives {group[0]!r} the name {canonical!r}"
            )
        owner[canonical] = group[0]
        result.append(canonical)
    return result


# --------------------------------------------------------------------------------------------
# Rules.


def _as_tuple(what: str, value: Any, allowed: tuple[str, ...] | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        values: tuple[Any, ...] = (value,)
    elif isinstance(value, Iterable):
        values = tuple(value)
    else:
        values = ()
    if not values or not all(isinstance(v, str) for v in values):
        raise TypeError(
            f"{what} must be a str or a non-empty sequence of str. Received: {what}={value!r}"
        )
    if allowed is not None:
        _check_names(what, values, allowed)
    return values


@dataclass(frozen=True)
class Rule:
    """Give ``scheme`` to the parameters that match every criterion given.

    Parameters
    ----------
    scheme
        The scheme; ``None`` keeps the parameter as it is (reported as ``"kept"``).
    role
        One role or several (:data:`ROLES`); matches a parameter that has any of them.
    kind
        One layer kind or several (:data:`KINDS`).
    slot
        One slot or several (the parameter's neutral name in its layer, module docstring).
    name
        Shell-style pattern matched against the whole qualified name, case-sensitive
        (:func:`fnmatch.fnmatchcase`): ``"decoder.*.weight"``.
    regex
        Regular expression searched in the qualified name (:func:`re.search`).
    rank
        Number of dimensions of the canonical shape (:attr:`ParamInfo.rank`), or several.
    fans
        Whose fans a fan-based scheme uses: ``"own"``, the layer weight's (``"layer"``), or
        ``"auto"``: own when the parameter has a layout, else the layer's.
    fan_convention
        ``"oneinit"`` (correct fans) or a framework's own rule; None takes the caller's.
    ignore
        ``"groups"``, ``"blocks"`` or both: read the weight as if it had none. Without groups,
        fan_in counts every input channel of a grouped convolution (Paddle's Conv default).
        Without blocks, stacked gates are one matrix: fans over all gates and one orthogonal
        matrix (Keras's recurrent kernels).
    """

    scheme: Scheme | None
    role: str | tuple[str, ...] | None = None
    kind: str | tuple[str, ...] | None = None
    slot: str | tuple[str, ...] | None = None
    name: str | None = None
    regex: str | None = None
    rank: int | tuple[int, ...] | None = None
    fans: FansSource = "auto"
    fan_convention: str | None = None
    ignore: str | tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.scheme is not None and not isinstance(self.scheme, Scheme):
            raise TypeError(
                "scheme must be a oneinit scheme (e.g. oneinit.HeNormal()) or None to keep "
                f"the parameter. Received: scheme={self.scheme!r}"
            )
        object.__setattr__(self, "role", _as_tuple("role", self.role, ROLES))
        object.__setattr__(self, "kind", _as_tuple("kind", self.kind, KINDS))
        object.__setattr__(self, "slot", _as_tuple("slot", self.slot, None))
        object.__setattr__(self, "ignore", _as_tuple("ignore", self.ignore, IGNORABLE))
        for what in ("name", "regex"):
            value = getattr(self, what)
            if value is not None and not isinstance(value, str):
                raise TypeError(f"{what} must be a str. Received: {what}={value!r}")
        if self.regex is not None:
            try:
                re.compile(self.regex)
            except re.error as error:
                raise ValueError(
                    f"regex is not a valid regular expression ({error}). "
                    f"Received: regex={self.regex!r}"
                ) from None
        if self.rank is not None:
            ranks = (self.rank,) if isinstance(self.rank, int) else tuple(self.rank)
            if not ranks or any(isinstance(r, bool) or not isinstance(r, int) for r in ranks):
                raise TypeError(
                    f"rank must be an int or a sequence of ints. Received: rank={self.rank!r}"
                )
            object.__setattr__(self, "rank", ranks)
        if self.fans not in ("auto", "own", "layer"):
            raise ValueError(f"fans must be 'auto', 'own' or 'layer'. Received: fans={self.fans!r}")

    def matches(self, param: ParamInfo) -> bool:
        """Whether ``param`` meets every criterion of this rule."""
        if self.role is not None and param.roles.isdisjoint(self.role):
            return False
        if self.kind is not None and param.kind not in self.kind:
            return False
        if self.slot is not None and param.slot not in self.slot:
            return False
        if self.rank is not None and param.rank not in _ints(self.rank):
            return False
        if self.name is not None and not fnmatch.fnmatchcase(param.name, self.name):
            return False
        return self.regex is None or re.search(self.regex, param.name) is not None

    def describe(self) -> str:
        """The criteria, e.g. ``"role=bias kind=linear"`` (``"any"`` for a catch-all rule)."""
        parts = []
        for what in ("role", "kind", "slot", "name", "regex", "rank"):
            value = getattr(self, what)
            if value is None:
                continue
            if isinstance(value, tuple):
                text = value[0] if len(value) == 1 else "|".join(str(v) for v in value)
            else:
                text = str(value)
            parts.append(f"{what}={text}")
        if self.fans != "auto":
            parts.append(f"fans={self.fans}")
        if self.fan_convention is not None:
            parts.append(f"fan_convention={self.fan_convention}")
        if self.ignore is not None:
            parts.append(f"ignore={'|'.join(self.ignore)}")
        return " ".join(parts) or "any"

    def ignores(self, what: str) -> bool:
        """Whether this rule reads weights without their ``"groups"`` or ``"blocks"``."""
        return self.ignore is not None and what in self.ignore


def _ints(value: int | tuple[int, ...]) -> tuple[int, ...]:
    return (value,) if isinstance(value, int) else value


@dataclass(frozen=True)
class Assignment:
    """What a parameter gets: the rule that matched (or none) and the fans its scheme uses."""

    param: ParamInfo
    rule: Rule | None
    index: int | None  # 1-based position of the rule in its Rules
    fans: Fans | None
    fans_from: Literal["own", "layer"] | None
    fan_convention: str

    @property
    def scheme(self) -> Scheme | None:
        return None if self.rule is None else self.rule.scheme

    @property
    def matched(self) -> bool:
        return self.rule is not None

    @property
    def blocks(self) -> int:
        """Stacked blocks the scheme sees: 1 when the rule ignores them. Adapters pass this,
        not the geometry's, to the scheme (orthogonal per block or over the whole matrix).
        """
        if self.rule is not None and self.rule.ignores("blocks"):
            return 1
        return self.param.geometry.blocks

    @property
    def expected_std(self) -> float | None:
        """Std of the values the parameter will hold (None when unknown or unmatched)."""
        if self.scheme is None or self.param.size == 0:
            return None
        geometry = self.param.geometry
        args = (
            self.scheme,
            geometry.canonical_shape(),
            self.fans,
            geometry.groups,
            self.blocks,
        )
        return _memo(_cached_expected_std, _expected_std, *args)

    @property
    def rule_label(self) -> str:
        return "-" if self.rule is None else f"#{self.index} {self.rule.describe()}"


class Rules(Sequence[Rule]):
    """An ordered list of :class:`Rule`; the first that matches a parameter decides.

    ``Rules(rule, rule, ...)`` or ``Rules([rule, ...])``; ``rules + other`` appends ``other``
    (another Rules, a Rule or a list) as a fallback.
    """

    __slots__ = ("_rules",)

    def __init__(self, *rules: Rule | Iterable[Rule]) -> None:
        flat: list[Rule] = []
        for item in rules:
            if isinstance(item, Rule):
                flat.append(item)
                continue
            if isinstance(item, (str, bytes, Scheme)) or not isinstance(item, Iterable):
                raise TypeError(
                    "Rules takes Rule objects or iterables of them; wrap a scheme as "
                    f"Rule(scheme, ...). Received: {item!r}"
                )
            for rule in item:
                if not isinstance(rule, Rule):
                    raise TypeError(f"Rules takes Rule objects. Received: {rule!r}")
                flat.append(rule)
        self._rules: tuple[Rule, ...] = tuple(flat)

    @classmethod
    def from_scheme(
        cls,
        scheme: Scheme,
        *,
        bias: Scheme | None = None,
        norm: Scheme | None = None,
    ) -> Rules:
        """The rules a single scheme means: weights get ``scheme``, biases zeros, norms ones.

        Every ``"weight"`` (dense and conv kernels, recurrent weights, attention projections
        and embedding tables) gets ``scheme``; every ``"bias"`` (norm shifts included) gets
        ``bias`` (default :class:`Zeros`); every other ``"norm"`` parameter (the scales) gets
        ``norm`` (default :class:`Ones`). PReLU slopes and unknown parameters match nothing.
        """
        if not isinstance(scheme, Scheme):
            raise TypeError(f"scheme must be a oneinit scheme. Received: scheme={scheme!r}")
        return cls(
            Rule(Zeros() if bias is None else bias, role="bias"),
            Rule(Ones() if norm is None else norm, role="norm"),
            Rule(scheme, role="weight"),
        )

    def __len__(self) -> int:
        return len(self._rules)

    @overload
    def __getitem__(self, index: int) -> Rule: ...

    @overload
    def __getitem__(self, index: slice) -> Rules: ...

    def __getitem__(self, index: int | slice) -> Rule | Rules:
        if isinstance(index, slice):
            return Rules(self._rules[index])
        return self._rules[index]

    def __iter__(self) -> Iterator[Rule]:
        return iter(self._rules)

    def __add__(self, other: Rules | Rule | Iterable[Rule]) -> Rules:
        return Rules(self._rules, [other] if isinstance(other, Rule) else other)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Rules) and self._rules == other._rules

    def __hash__(self) -> int:
        return hash(self._rules)

    def __repr__(self) -> str:
        inner = ",\n".join(f"    {rule!r}" for rule in self._rules)
        return f"Rules(\n{inner},\n)" if self._rules else "Rules()"

    def resolve(self, param: ParamInfo) -> tuple[int, Rule] | None:
        """``(1-based index, rule)`` of the first rule matching ``param``, or None."""
        for index, rule in enumerate(self._rules, start=1):
            if rule.matches(param):
                return index, rule
        return None

    def assign(self, param: ParamInfo, *, fan_convention: str = "oneinit") -> Assignment:
        """The :class:`Assignment` of one parameter: its rule and the fans its scheme uses."""
        found = self.resolve(param)
        if found is None:
            fans = _own_fans(param, fan_convention)
            return Assignment(param, None, None, fans, "own", fan_convention)
        index, rule = found
        convention = rule.fan_convention or fan_convention
        if rule.scheme is None or not rule.scheme.uses_fans:
            # Fans only inform the report (as the rule reads the weight); a vector shows none.
            try:
                fans = _rule_fans(rule, param.geometry, param.kind, convention)
            except ValueError:
                fans = None
            return Assignment(param, rule, index, fans, "own", convention)
        source = rule.fans
        if source == "auto":
            source = "own" if param.layout is not None or param.layer is None else "layer"
        if source == "own":
            fans = _rule_fans(rule, param.geometry, param.kind, convention)
            if fans is None:
                raise ValueError(
                    f"Rule #{index} ({rule.describe()}) gives {type(rule.scheme).__name__}, "
                    f"which needs fans, but parameter {param.name!r} ({param.kind}, shape "
                    f"{param.shape}) has none of its own and no layer weight; put a rule for it "
                    f"first (e.g. Rule(Zeros(), role='bias', kind={param.kind!r})). "
                    f"Received: fans={rule.fans!r}"
                )
            return Assignment(param, rule, index, fans, "own", convention)
        if param.layer is None:
            raise ValueError(
                f"Rule #{index} ({rule.describe()}) takes the fans of the layer's weight, "
                f"but parameter {param.name!r} belongs to no layer with a weight. "
                f"Received: fans={rule.fans!r}"
            )
        fans = _rule_fans(rule, param.layer, param.kind, convention)
        return Assignment(param, rule, index, fans, "layer", convention)

    def plan(
        self, params: Iterable[ParamInfo], *, fan_convention: str = "oneinit"
    ) -> list[Assignment]:
        """The :class:`Assignment` of every parameter, in order."""
        return [self.assign(p, fan_convention=fan_convention) for p in params]


#: The storage family of each layer kind, for framework fan conventions in rules.
_FAMILIES = {
    "linear": "dense",
    "multihead_attention": "dense",
    "conv": "conv",
    "conv_transpose": "conv_transpose",
    "embedding": "embedding",
    **{kind: "recurrent" for kind in RECURRENT_KINDS},
}


def _rule_fans(rule: Rule, geometry: Geometry, kind: str, convention: str) -> Fans | None:
    """The fans of ``geometry`` as ``rule`` reads them: without groups or blocks if it says;
    under a framework's convention, by that framework's rule on the shape it stores the layer
    in (so ``fan_convention="keras"`` means Keras's fans in every adapter).
    """
    if rule.ignores("blocks") and geometry.blocks != 1:
        geometry = dataclasses.replace(geometry, blocks=1)
    family = _FAMILIES.get(kind)
    fans: Fans | None
    if convention in _STORAGE_CONVENTIONS and family is not None and geometry.layout is not None:
        canonical = geometry.canonical_shape()
        groups = geometry.total_groups
        if family == "conv" and groups > 1 and canonical[1] == 1:
            family = "depthwise"
        if len(canonical) >= 2:
            fans = framework_fans(canonical, family, convention, groups)
        else:
            fans = geometry.fans(convention)
    else:
        fans = geometry.fans(convention)
    if fans is not None and rule.ignores("groups") and geometry.layout is not None:
        groups = geometry.total_groups
        fans = Fans(fans.fan_in * groups, fans.fan_out, fans.receptive_field)
    return fans


_STORAGE_CONVENTIONS = ("torch", "keras", "paddle", "mxnet")


def _own_fans(param: ParamInfo, fan_convention: str) -> Fans | None:
    """A parameter's fans for display only: None where they are undefined."""
    try:
        return param.geometry.fans(fan_convention)
    except ValueError:
        return None


# --------------------------------------------------------------------------------------------
# Expected standard deviation.


def expected_std(
    scheme: Scheme,
    shape: Sequence[int],
    *,
    fans: Fans | None = None,
    groups: int = 1,
    blocks: int = 1,
) -> float | None:
    """Std of the values ``scheme`` gives a weight of canonical ``shape`` (None if unknown).

    For random schemes it is the distribution's (truncation included); for orthogonal ones the
    root mean square ``gain / sqrt(max(rows, cols))`` of a ``rows x cols`` block (mean 0); for
    deterministic ones the std of the values; ``None`` for user-defined schemes.
    """
    dims = tuple(int(d) for d in shape)
    size = math.prod(dims)
    if isinstance(scheme, ConstantScheme):
        return 0.0
    if isinstance(scheme, RandomScheme):
        distribution = scheme.distribution_for(fans)
        return float(getattr(distribution, "actual_std", distribution.std))
    if size == 0 or len(dims) < 2 or isinstance(scheme, CustomScheme):
        return None
    out, rest = dims[0], math.prod(dims[1:])
    if isinstance(scheme, Orthogonal):
        return scheme.gain / math.sqrt(max(out // max(blocks, 1), rest))
    if isinstance(scheme, DeltaOrthogonal):
        return scheme.gain / math.sqrt(out * math.prod(dims[2:]))
    if isinstance(scheme, (Identity, Dirac)):
        if isinstance(scheme, Identity):
            ones = min(out, dims[1])
        else:
            ones = groups * min(out // groups, dims[1])
        p = ones / size
        return scheme.gain * math.sqrt(p * (1.0 - p))
    if isinstance(scheme, Sparse):
        zeros = math.ceil(scheme.sparsity * out)
        return scheme.std * math.sqrt(1.0 - zeros / out)
    if isinstance(scheme, Bilinear) and len(dims) == 4:
        return float(np.std(bilinear((1, 1, *dims[2:]))))
    if isinstance(scheme, Assign):
        return float(np.std(scheme.values))
    return None


def _expected_std(
    scheme: Scheme, shape: tuple[int, ...], fans: Fans | None, groups: int, blocks: int
) -> float | None:
    return expected_std(scheme, shape, fans=fans, groups=groups, blocks=blocks)


_cached_expected_std = functools.lru_cache(maxsize=4096)(_expected_std)


def scheme_label(scheme: Scheme | None) -> str:
    """A short description: the class and the fields that differ from their defaults."""
    if scheme is None:
        return "keep"
    parts = []
    for field in dataclasses.fields(scheme):
        if not field.init or field.name == "values":
            continue
        value = getattr(scheme, field.name)
        default = field.default
        if default is not dataclasses.MISSING and value == default:
            continue
        parts.append(f"{field.name}={_short(value)}")
    return f"{type(scheme).__name__}({', '.join(parts)})"


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return repr(value)


# --------------------------------------------------------------------------------------------
# Reports.


@dataclass(frozen=True)
class ReportRow:
    """One parameter in a :class:`Report`."""

    name: str
    shape: tuple[int, ...]
    kind: str
    layout: str | None
    fans: Fans | None
    fans_from: str | None
    scheme: str
    expected_std: float | None
    status: str
    rule: str

    @classmethod
    def from_assignment(cls, assignment: Assignment, status: str) -> ReportRow:
        if status not in STATUSES:
            raise ValueError(f"status must be among {STATUSES}. Received: status={status!r}")
        param = assignment.param
        return cls(
            name=param.name,
            shape=param.shape,
            kind=param.kind,
            layout=param.layout_name,
            fans=assignment.fans,
            fans_from=assignment.fans_from,
            scheme=scheme_label(assignment.scheme) if assignment.matched else "-",
            expected_std=assignment.expected_std,
            status=status,
            rule=assignment.rule_label,
        )


def _format_fans(row: ReportRow) -> str:
    if row.fans is None:
        return "-"
    text = f"({row.fans.fan_in}, {row.fans.fan_out})"
    return text + " layer" if row.fans_from == "layer" and row.layout is None else text


def _format_std(value: float | None) -> str:
    if value is None:
        return "-"
    return "0" if value == 0 else f"{value:.4g}"


@dataclass(frozen=True)
class Report:
    """What an ``initialize`` call did, parameter by parameter; ``print(report)`` shows it.

    ``report.unmatched`` lists the parameters no rule matched (left as they were), and
    ``report["fc.weight"]`` is the row of one parameter.
    """

    rows: tuple[ReportRow, ...]

    @classmethod
    def from_plan(
        cls, plan: Iterable[Assignment], statuses: Mapping[str, str] | None = None
    ) -> Report:
        """A report of a plan; ``statuses`` by name overrides the default status
        (``"planned"`` for matched parameters, ``"kept"`` for ``Rule(None)``, else
        ``"unmatched"``).
        """
        rows = []
        for assignment in plan:
            if statuses is not None and assignment.param.name in statuses:
                status = statuses[assignment.param.name]
            elif not assignment.matched:
                status = "unmatched"
            elif assignment.scheme is None:
                status = "kept"
            else:
                status = "planned"
            rows.append(ReportRow.from_assignment(assignment, status))
        return cls(tuple(rows))

    def __iter__(self) -> Iterator[ReportRow]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, name: str) -> ReportRow:
        for row in self.rows:
            if row.name == name:
                return row
        raise KeyError(f"No parameter named {name!r} in the report.")

    def with_status(self, *statuses: str) -> list[str]:
        """Names of the parameters with one of ``statuses``."""
        return [row.name for row in self.rows if row.status in statuses]

    @property
    def unmatched(self) -> list[str]:
        """Names of the parameters no rule matched: they were left as they were."""
        return self.with_status("unmatched")

    @property
    def unfilled(self) -> list[str]:
        """Names of matched parameters that could not be filled (meta or lazy tensors)."""
        return self.with_status("meta", "lazy")

    def __str__(self) -> str:
        header = ("name", "shape", "kind", "layout", "fans", "scheme", "std", "rule")
        table = [header]
        for row in self.rows:
            table.append(
                (
                    row.name,
                    str(row.shape),
                    row.kind,
                    row.layout or "-",
                    _format_fans(row),
                    row.scheme,
                    _format_std(row.expected_std),
                    row.rule if row.status in ("initialized", "planned") else row.status,
                )
            )
        widths = [max(len(line[i]) for line in table) for i in range(len(header))]
        lines = [
            "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
            for line in table
        ]
        counts: dict[str, int] = {}
        for row in self.rows:
            counts[row.status] = counts.get(row.status, 0) + 1
        values = sum(math.prod(row.shape) for row in self.rows)
        summary = ", ".join(f"{counts[s]} {s}" for s in STATUSES if s in counts)
        noun = "parameter" if len(self.rows) == 1 else "parameters"
        lines.append(f"{len(self.rows)} {noun}, {values} values: {summary or 'none'}")
        if self.unmatched:
            lines.append("unmatched (left as they were): " + ", ".join(self.unmatched))
        return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Profiles: each framework's own default initialization, as rules every adapter can apply.

#: torch's ``kaiming_uniform_(a=sqrt(5))``: gain**2 = 2 / (1 + 5) = 1/3, so the bound
#: sqrt(3 * gain**2 / fan_in) = 1 / sqrt(fan_in), torch's U(+-1/sqrt(fan_in)).
_TORCH_DEFAULT = HeUniform(negative_slope=math.sqrt(5.0), nonlinearity="leaky_relu")


def torch_profile() -> Rules:
    """PyTorch's own default initialization of each layer kind (torch 2.x ``reset_parameters``).

    Written with correct (oneinit) fans and neutral slots, so Keras, Paddle and MXNet layers of
    the same kind get torch's distributions too:

    ============================  ==================================================
    linear, conv: weight, bias    U(+-1/sqrt(fan_in)), the bias from the weight's fan_in
    conv_transpose: weight, bias  U(+-1/sqrt(fan_out)): torch reads out/groups * rf as
                                  fan_in from its (in, out/groups, *k) storage
    embedding                     N(0, 1) (adapters keep a padding row at zero)
    rnn, lstm, gru (all)          U(+-1/sqrt(hidden)): hidden = the per-gate fan_out of
                                  the layer's recurrent weight
    attention in_proj (3E, E)     U(+-sqrt(6 / (E + 3E))): torch's Xavier over the
                                  stacked matrix = VarianceScaling(1/2, fan_in, uniform)
    attention q/k/v_proj          GlorotUniform; out_proj weight as linear; biases 0
    attention bias_k, bias_v      N(0, 1/E) (torch's xavier_normal_ on (1, 1, E))
    norms                         scale 1, shift 0
    prelu                         0.25 (torch's default ``init``)
    ============================  ==================================================
    """
    per_hidden = _PER_HIDDEN
    return Rules(
        Rule(_TORCH_DEFAULT, kind=("linear", "conv")),
        Rule(per_hidden, kind="conv_transpose"),
        Rule(Normal(0.0, 1.0), kind="embedding"),
        Rule(per_hidden, kind=RECURRENT_KINDS, fans="layer"),
        Rule(
            VarianceScaling(scale=0.5, mode="fan_in", distribution="uniform"),
            kind="multihead_attention",
            slot="in_proj_weight",
        ),
        Rule(
            GlorotUniform(),
            kind="multihead_attention",
            slot=("q_proj_weight", "k_proj_weight", "v_proj_weight"),
        ),
        Rule(_TORCH_DEFAULT, kind="multihead_attention", slot="out_proj_weight"),
        Rule(LecunNormal(), kind="multihead_attention", slot=("bias_k", "bias_v"), fans="layer"),
        Rule(Zeros(), kind="multihead_attention", role="bias"),
        Rule(Zeros(), kind=NORM_KINDS, role="bias"),
        Rule(Ones(), kind=NORM_KINDS),
        Rule(Constant(0.25), kind="prelu"),
    )


#: The torch rule for every parameter of a recurrent layer: U(+-1/sqrt(hidden)) (Paddle's too).
_PER_HIDDEN = HeUniform(negative_slope=math.sqrt(5.0), nonlinearity="leaky_relu", mode="fan_out")


def _norms_and_biases(prelu: float) -> Rules:
    """Norm scales 1, every bias (norm shifts included) 0, PReLU slopes ``prelu``."""
    return Rules(
        Rule(Zeros(), role="bias"),
        Rule(Ones(), kind=NORM_KINDS),
        Rule(Constant(prelu), kind="prelu"),
    )


def keras_profile() -> Rules:
    """Keras 3's own default initialization of each layer kind.

    ============================  ==================================================
    dense, conv, transposed conv  GlorotUniform, with Keras's fans for convolutions
    and attention kernels
    embedding                     U(+-0.05)
    lstm, gru, rnn kernels        GlorotUniform over all gates as one (in, gates * H) matrix
    recurrent kernels             Orthogonal over all gates as one matrix
    lstm bias                     1 on the forget gate (``unit_forget_bias``), 0 elsewhere;
                                  where a layer has two biases, on ``bias_ih`` only, so
                                  their sum is Keras's
    other biases, norm shifts     0; norm scales 1; PReLU 0
    ============================  ==================================================

    Glorot fans are Keras's own (``fan_convention="keras"``: its rule on the shape Keras
    stores the layer in), so grouped and depthwise kernels get Keras's sums too; a grouped
    convolution with ``groups == in_channels`` reads as Keras's ``DepthwiseConv``.
    """
    return Rules(
        Rule(GateBias(1.0, gate=1, gates=RECURRENT_GATES["lstm"]), kind="lstm",
             slot=("bias", "bias_ih")),
        Rule(Orthogonal(), kind=RECURRENT_KINDS, role="recurrent", ignore="blocks"),
        Rule(GlorotUniform(), kind=RECURRENT_KINDS, role="weight", fan_convention="keras"),
        Rule(Uniform(-0.05, 0.05), kind="embedding"),
        _norms_and_biases(prelu=0.0),
        # Keras's own fans: a grouped kernel's fan_out counts every output, a depthwise
        # kernel's fan_in every input channel (its (k, k, in, multiplier) storage).
        Rule(GlorotUniform(), kind=("conv", "conv_transpose"), fan_convention="keras"),
        Rule(GlorotUniform(), role="weight"),
    )


def paddle_profile() -> Rules:
    """PaddlePaddle's own default initialization of each layer kind (Paddle 3.x).

    ============================  ==================================================
    conv (grouped, depthwise)     N(0, sqrt(2 / (in_channels * k))): He normal with the
                                  groups ignored (fan_in counts every input channel)
    linear, transposed conv,      XavierUniform (= GlorotUniform: Paddle's (in, out)
    embedding, attention          rank-2 rule gives the right fans; the swapped
                                  transposed fans do not change the sum)
    rnn, lstm, gru (all)          U(+-1/sqrt(hidden)), as torch
    biases, norm shifts           0; norm scales 1; PReLU 0.25
    ============================  ==================================================

    A transposed convolution's Xavier fans are Paddle's own (``fan_convention="paddle"``), read
    from its (in, out / groups, *k) storage.
    """
    return Rules(
        Rule(_PER_HIDDEN, kind=RECURRENT_KINDS, fans="layer"),
        Rule(HeNormal(), kind="conv", role="weight", ignore="groups"),
        Rule(GlorotUniform(), kind="conv_transpose", role="weight", fan_convention="paddle"),
        _norms_and_biases(prelu=0.25),
        Rule(GlorotUniform(), role="weight"),
    )


def mxnet_profile() -> Rules:
    """MXNet Gluon's default: ``net.initialize()`` gives every weight U(+-0.07) (the global
    ``Uniform()``), every bias 0, norm scales 1 and PReLU slopes 0.25.
    """
    return Rules(_norms_and_biases(prelu=0.25), Rule(Uniform(-0.07, 0.07), role="weight"))


#: Profile constructors by name (``initialize(..., profile="keras")`` in any adapter).
PROFILES = {
    "torch": torch_profile,
    "keras": keras_profile,
    "paddle": paddle_profile,
    "mxnet": mxnet_profile,
}


def get_profile(name: str) -> Rules:
    """The rules of a framework's default initialization (:data:`PROFILES`)."""
    if name not in PROFILES:
        allowed = ", ".join(repr(p) for p in PROFILES)
        raise ValueError(f"Unknown profile. Allowed: {allowed}. Received: profile={name!r}")
    return PROFILES[name]()


def as_rules(scheme_or_rules: Any, profile: str | None = None) -> Rules:
    """The rules ``initialize(model, scheme_or_rules, profile=...)`` applies, in every adapter.

    A scheme means: weights get it, biases zeros, norm scales ones (:meth:`Rules.from_scheme`);
    a :class:`Rule`, :class:`Rules` or a sequence of rules is taken as is; a profile's rules
    (:func:`get_profile`) are appended as the fallback.
    """
    if scheme_or_rules is None:
        rules = Rules()
    elif isinstance(scheme_or_rules, Scheme):
        rules = Rules.from_scheme(scheme_or_rules)
    elif isinstance(scheme_or_rules, Rule):
        rules = Rules(scheme_or_rules)
    elif isinstance(scheme_or_rules, Rules):
        rules = scheme_or_rules
    elif isinstance(scheme_or_rules, Iterable) and not isinstance(scheme_or_rules, (str, bytes)):
        rules = Rules(scheme_or_rules)
    else:
        raise TypeError(
            "scheme_or_rules must be a oneinit scheme, a Rule, Rules or a list of Rule. "
            f"Received: scheme_or_rules={scheme_or_rules!r}"
        )
    if profile is not None:
        rules = rules + get_profile(profile)
    if not len(rules):
        raise ValueError(
            "Nothing to apply: pass a scheme, rules or profile=. "
            f"Received: scheme_or_rules={scheme_or_rules!r}, profile={profile!r}"
        )
    return rules
