"""Validated components and where their options point at other components.

A :class:`ComponentNode` is one component of a config after validation: its registered spec, its
validated options, and the references (:class:`~salon.Ref`) and inline components
(:class:`~salon.Inline`) found in those options. The container turns each node into one provider;
:func:`~salon.dump_component` turns a node back into ``{use, version, options}``.

Where references sit in an options model is computed once per model class (a *plan*), by reading the
field annotations: ``Annotated[str, Ref(...)]`` at any depth of lists, tuples, dicts, unions and nested
models.
"""

from __future__ import annotations

import operator
import types
import typing
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import reduce
from typing import Any, Union

from ._component_registry import ComponentSpec
from ._config_errors import Path
from ._config_refs import KIND_SECTIONS, Inline, Ref

__all__ = [
    "ComponentNode",
    "InlineCombo",
    "InlineLeaf",
    "InlineTree",
    "Plan",
    "RefPlan",
    "InlinePlan",
    "RefUse",
    "model_plan",
    "scan",
    "substitute",
    "component_version",
]


@dataclass(frozen=True)
class RefPlan:
    """A :class:`~salon.Ref` field: the value is the name of a component of ``kind``."""

    kind: str


@dataclass(frozen=True)
class InlinePlan:
    """An :class:`~salon.Inline` field: the value is a component of ``kind`` written in place."""

    kind: str


@dataclass(frozen=True)
class _SeqPlan:
    item: Plan


@dataclass(frozen=True)
class _MapPlan:
    value: Plan


@dataclass(frozen=True)
class _ModelPlan:
    model: Any
    fields: Mapping[str, Plan]


@dataclass(frozen=True)
class _UnionPlan:
    members: tuple[Plan, ...]


Plan = RefPlan | InlinePlan | _SeqPlan | _MapPlan | _ModelPlan | _UnionPlan
Leaf = RefPlan | InlinePlan

_PLANS: dict[Any, Mapping[str, Plan]] = {}


def component_version(spec: ComponentSpec) -> int:
    """The current version of a component's options: ``factory.component_version``, else 1."""
    version = getattr(spec.factory, "component_version", 1)
    return version if isinstance(version, int) and not isinstance(version, bool) and version >= 1 else 1


def model_plan(model: Any) -> Mapping[str, Plan]:
    """Field name -> plan, for the fields of a pydantic model class that hold references or inline parts."""
    cached = _PLANS.get(model)
    if cached is None:
        cached = _fields_plan(model, set())
        _PLANS[model] = cached
    return cached


def _fields_plan(model: Any, visiting: set[Any]) -> Mapping[str, Plan]:
    plans: dict[str, Plan] = {}
    visiting = visiting | {model}
    for name, info in model.model_fields.items():
        plan = _plan(info.annotation, tuple(info.metadata), visiting)
        if plan is not None:
            plans[name] = plan
    return plans


def _plan(annotation: Any, metadata: tuple[Any, ...], visiting: set[Any]) -> Plan | None:
    for marker in metadata:
        if isinstance(marker, Ref):
            return RefPlan(marker.kind)
        if isinstance(marker, Inline):
            return InlinePlan(marker.kind)
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _plan(args[0], tuple(args[1:]), visiting)
    if origin is Union or origin is types.UnionType:
        members = tuple(p for p in (_plan(arg, (), visiting) for arg in args if arg is not type(None)) if p)
        return None if not members else members[0] if len(members) == 1 else _UnionPlan(members)
    if origin in (list, tuple, set, frozenset, Sequence) or _is_abc(origin, "Sequence"):
        item_args = [arg for arg in args if arg is not Ellipsis]
        items = tuple(p for p in (_plan(arg, (), visiting) for arg in item_args) if p)
        if not items:
            return None
        return _SeqPlan(items[0] if len(items) == 1 else _UnionPlan(items))
    if origin in (dict, Mapping) or _is_abc(origin, "Mapping"):
        value = _plan(args[1], (), visiting) if len(args) == 2 else None
        return _MapPlan(value) if value else None
    if isinstance(annotation, type) and hasattr(annotation, "model_fields") and annotation not in visiting:
        fields = _fields_plan(annotation, visiting)
        return _ModelPlan(annotation, fields) if fields else None
    return None


def _is_abc(origin: Any, name: str) -> bool:
    return isinstance(origin, type) and origin.__module__ == "collections.abc" and origin.__name__ == name


def _matches(plan: Plan, value: Any) -> bool:
    if isinstance(plan, RefPlan):
        return isinstance(value, str)
    if isinstance(plan, InlinePlan):
        return True  # any value: the inline check says what is wrong with one that is not a mapping
    if isinstance(plan, _SeqPlan):
        return isinstance(value, list | tuple | set | frozenset)
    if isinstance(plan, _MapPlan):
        return isinstance(value, Mapping)
    if isinstance(plan, _ModelPlan):
        return isinstance(value, plan.model)
    return any(_matches(member, value) for member in plan.members)


def _choose(plan: _UnionPlan, value: Any) -> Plan | None:
    return next((member for member in plan.members if _matches(member, value)), None)


def scan(plans: Mapping[str, Plan], options: Any) -> Iterator[tuple[Path, Leaf, Any]]:
    """Yield (path inside the options, leaf plan, value) for every reference and inline part set."""
    for name, plan in plans.items():
        yield from _scan(plan, getattr(options, name, None), (name,))


def _scan(plan: Plan, value: Any, path: Path) -> Iterator[tuple[Path, Leaf, Any]]:
    if value is None:
        return
    if isinstance(plan, _UnionPlan):
        chosen = _choose(plan, value)
        if chosen is not None:
            yield from _scan(chosen, value, path)
    elif isinstance(plan, RefPlan | InlinePlan):
        if _matches(plan, value):
            yield path, plan, value
    elif isinstance(plan, _SeqPlan) and _matches(plan, value):
        for index, item in enumerate(value):
            yield from _scan(plan.item, item, (*path, index))
    elif isinstance(plan, _MapPlan) and _matches(plan, value):
        for key, item in value.items():
            yield from _scan(plan.value, item, (*path, str(key)))
    elif isinstance(plan, _ModelPlan) and _matches(plan, value):
        for name, field_plan in plan.fields.items():
            yield from _scan(field_plan, getattr(value, name, None), (*path, name))


def substitute(plans: Mapping[str, Plan], options: Any, resolve: Callable[[Path, Leaf, Any], Any]) -> dict[str, Any]:
    """The factory's keyword arguments: every field of ``options``, references replaced by ``resolve``."""
    kwargs = {name: getattr(options, name) for name in type(options).model_fields}
    kwargs.update(options.model_extra or {})
    for name, plan in plans.items():
        kwargs[name] = _substitute(plan, kwargs[name], (name,), resolve)
    return kwargs


def _substitute(plan: Plan, value: Any, path: Path, resolve: Callable[[Path, Leaf, Any], Any]) -> Any:
    if value is None:
        return None
    if isinstance(plan, _UnionPlan):
        chosen = _choose(plan, value)
        return value if chosen is None else _substitute(chosen, value, path, resolve)
    if not _matches(plan, value):
        return value
    if isinstance(plan, RefPlan | InlinePlan):
        return resolve(path, plan, value)
    if isinstance(plan, _SeqPlan):
        items = [_substitute(plan.item, item, (*path, i), resolve) for i, item in enumerate(value)]
        return type(value)(items) if isinstance(value, tuple | set | frozenset) else items
    if isinstance(plan, _MapPlan):
        return {key: _substitute(plan.value, item, (*path, str(key)), resolve) for key, item in value.items()}
    update = {
        name: _substitute(field_plan, getattr(value, name, None), (*path, name), resolve)
        for name, field_plan in plan.fields.items()
    }
    return value.model_copy(update=update)


@dataclass(frozen=True)
class RefUse:
    """One reference in a node's options: where it is, and which config path it names."""

    option_path: Path
    kind: str
    name: str

    @property
    def target(self) -> str:
        """The config path of the referenced component (``model_clients.gpt``)."""
        return f"{KIND_SECTIONS[self.kind]}.{self.name}"


@dataclass(eq=False)
class ComponentNode:
    """One validated component.

    Attributes:
        path: Its path in the config (``agents.writer``; inline parts have longer paths).
        kind: Its component kind.
        spec: The registered component.
        version: The options version written in the config (the component's own when not written).
        options: The validated options model, or ``None`` when the component takes none; references are
            still names here.
        plans: Where references and inline parts sit in the options.
        refs: The references found.
        inlines: Inline parts, by their path inside the options.
        templates: Path inside the options -> the ``${...}`` text the value was interpolated from.
        cache: For a model client, the config path of the cache store that wraps it.
        key: The name under its section (``writer``), or ``""``.
        location: ``path`` as parts, for problems that point into the node.
    """

    path: str
    kind: str
    spec: ComponentSpec
    version: int
    options: Any = field(repr=False)
    plans: Mapping[str, Plan] = field(default_factory=dict, repr=False)
    refs: list[RefUse] = field(default_factory=list)
    inlines: dict[Path, InlineTree] = field(default_factory=dict, repr=False)
    templates: dict[Path, str] = field(default_factory=dict, repr=False)
    cache: str | None = None
    key: str = ""
    location: Path = ()

    def leaves(self) -> Iterator[ComponentNode]:
        """Every inline component in the options, outermost first."""
        for tree in self.inlines.values():
            yield from tree.leaves()

    def dependencies(self) -> list[str]:
        """Config paths this node needs built first (references, cache store, inline parts)."""
        paths = [ref.target for ref in self.refs] + [leaf.path for leaf in self.leaves()]
        if self.cache:
            paths.append(self.cache)
        return list(dict.fromkeys(paths))

    def kwargs(self, built: Mapping[str, Any], on_combined: OnCombined | None = None) -> dict[str, Any]:
        """The factory's keyword arguments, with references and inline parts taken from ``built``.

        Args:
            built: Config path -> built object, for every path in :meth:`dependencies`.
            on_combined: Called with each object made by combining inline parts (``|``, ``&``).
        """
        if self.options is None:
            return {}

        def resolve(path: Path, leaf: Leaf, value: Any) -> Any:
            if isinstance(leaf, RefPlan):
                return built[RefUse(path, leaf.kind, value).target]
            return self.inlines[path].combine(built, on_combined)

        return substitute(self.plans, self.options, resolve)


@dataclass(eq=False)
class InlineLeaf:
    """An inline ``{use, options}``."""

    node: ComponentNode

    def leaves(self) -> Iterator[ComponentNode]:
        """This leaf's node, then the inline parts inside its own options."""
        yield self.node
        yield from self.node.leaves()

    def combine(self, built: Mapping[str, Any], on_combined: OnCombined | None = None) -> Any:
        """The built object of this leaf."""
        return built[self.node.path]


@dataclass(eq=False)
class InlineCombo:
    """``{any: [...]}`` (combined with ``|``) or ``{all: [...]}`` (combined with ``&``)."""

    op: str
    children: list[InlineTree]

    def leaves(self) -> Iterator[ComponentNode]:
        """Every leaf below, in order."""
        for child in self.children:
            yield from child.leaves()

    def combine(self, built: Mapping[str, Any], on_combined: OnCombined | None = None) -> Any:
        """Reduce the children's built objects with ``|`` (any) or ``&`` (all)."""
        parts = [child.combine(built, on_combined) for child in self.children]
        result = reduce(operator.or_ if self.op == "any" else operator.and_, parts)
        if on_combined is not None and len(parts) > 1:
            on_combined(result, self)
        return result


InlineTree = InlineLeaf | InlineCombo
OnCombined = Callable[[Any, InlineCombo], None]
