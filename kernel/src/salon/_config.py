"""Checking a whole config: sections, ``use:`` names, options, references, cycles.

The check runs in stages (shape of the document, ``${...}`` interpolation, plugins, then every
component) and stops after a stage that found problems, so one mistake is reported once and never
as a cascade (a missing variable is not also reported as a wrong type). Within the last stage every
component is checked, so ``salon config check`` shows all independent mistakes at once.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path as FsPath
from typing import Any

from ._component_registry import ComponentRegistry, DuplicateComponentError
from ._config_errors import ConfigError, ConfigProblem, Path, Problems, describe, did_you_mean, format_path, one_of
from ._config_interpolation import interpolate
from ._config_nodes import (
    ComponentNode,
    InlineCombo,
    InlineLeaf,
    InlineTree,
    RefPlan,
    RefUse,
    component_version,
    model_plan,
    scan,
)
from ._config_options import validate_options
from ._config_plugins import setup_plugins
from ._config_refs import KIND_SECTIONS, SECTION_KINDS, SINGLE_SECTIONS, a_kind, kind_label
from ._constants import ROOT_LOGGER_NAME
from ._plugin_manager import PluginManager

__all__ = ["ConfigError", "ConfigProblem", "ValidatedConfig", "ComponentValidator", "load_config", "TOP_LEVEL_KEYS"]

logger = logging.getLogger(f"{ROOT_LOGGER_NAME}.config")

#: Every key a config document may have at its top level, in the order the docs present them.
TOP_LEVEL_KEYS: tuple[str, ...] = ("plugins", "runtime", *SECTION_KINDS, "team")
#: How deeply a document may nest; real configs use about 8 levels, Python's stack allows about 1000.
MAX_DEPTH = 64
_ENTRY_KEYS = ("use", "options", "version")
_NAME = re.compile(r"[\w\-]+")
_IMPORT_PATH_KEYS = {"provider", "component_type", "config", "component_provider_override"}


@dataclass
class ValidatedConfig:
    """A config that passed every check, ready to become a container.

    Attributes:
        source: The file (as given) or ``"<dict>"``.
        plugin_manager: The plugins the config selected, with its local plugins added.
        nodes: The configured components by path (``runtime``, ``agents.writer``, ``team``), in file order.
        all_nodes: ``nodes`` plus every inline component (``team.options.termination.any[0]``).
        problems: Templates and secrets, to phrase later (build-time) errors safely.
    """

    source: str
    plugin_manager: PluginManager
    nodes: dict[str, ComponentNode]
    all_nodes: dict[str, ComponentNode]
    problems: Problems = field(repr=False)


def load_config(
    data: Any,
    *,
    source: str,
    plugin_manager: PluginManager | None,
    base_dir: FsPath,
    allow_local_plugins: bool,
    environ: Mapping[str, str] | None = None,
    positions: Mapping[Path, tuple[int, int]] | None = None,
) -> ValidatedConfig:
    """Check ``data`` (a parsed config document) completely.

    Raises:
        ConfigError: with one problem per mistake found.
    """
    problems = Problems(source, dict(positions or {}))
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        problems.add((), f"a mapping of sections ({', '.join(TOP_LEVEL_KEYS)})", describe(data))
        problems.raise_if_any()
    deepest = _depth(data)
    if deepest > MAX_DEPTH:
        problems.add((), f"a document nested at most {MAX_DEPTH} levels deep", f"{deepest} levels")
        problems.raise_if_any()
    for key in data:
        if key not in TOP_LEVEL_KEYS:
            hint = did_you_mean(key, TOP_LEVEL_KEYS)
            problems.add((str(key),), f"one of the sections {', '.join(TOP_LEVEL_KEYS)}", f"{key!r}", hint)
    problems.raise_if_any()
    data = interpolate(data, os.environ if environ is None else environ, problems)
    problems.raise_if_any()
    pm = setup_plugins(
        data.get("plugins"),
        problems,
        plugin_manager=plugin_manager,
        base_dir=base_dir,
        allow_local_plugins=allow_local_plugins,
    )
    problems.raise_if_any()
    assert pm is not None
    try:
        registry = pm.registry
    except DuplicateComponentError as e:
        problems.add(("plugins",), "each component name registered by one plugin", str(e))
        problems.raise_if_any(e)
        raise  # unreachable: raise_if_any raised
    defined = _defined_names(data, problems)
    problems.raise_if_any()  # a malformed section would make every reference into it a second error
    selection = data.get("plugins")
    selective = isinstance(selection, list) or (isinstance(selection, Mapping) and selection.get("load") is not None)
    validator = ComponentValidator(problems, registry, defined, selective=selective)
    nodes: dict[str, ComponentNode] = {}
    runtime = data.get("runtime")
    _add(nodes, validator.component("runtime", {"use": "local"} if runtime is None else runtime, ("runtime",)))
    for section, kind in SECTION_KINDS.items():
        entries = data.get(section)
        if not isinstance(entries, Mapping):
            continue
        for name, raw in entries.items():
            if name in defined[section]:
                node = validator.component(kind, raw, (section, name), key=name, allow_cache=section == "model_clients")
                _add(nodes, node)
    if data.get("team") is not None:
        _add(nodes, validator.component("team_strategy", data["team"], ("team",)))
    find_cycles(validator.nodes, problems)
    problems.raise_if_any()
    logger.debug("config %s: %d components checked", source, len(nodes))
    return ValidatedConfig(source, pm, nodes, dict(validator.nodes), problems)


def _depth(data: Any) -> int:
    """How deeply ``data`` nests (iteratively: a hostile document must not exhaust the stack)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, level = stack.pop()
        deepest = max(deepest, level)
        if level > MAX_DEPTH:
            break
        if isinstance(value, Mapping):
            stack.extend((item, level + 1) for item in value.values())
        elif isinstance(value, list | tuple):
            stack.extend((item, level + 1) for item in value)
    return deepest


def _add(nodes: dict[str, ComponentNode], node: ComponentNode | None) -> None:
    if node is not None:
        nodes[node.path] = node


def _defined_names(data: Mapping[str, Any], problems: Problems) -> dict[str, set[str]]:
    defined: dict[str, set[str]] = {}
    for section, kind in SECTION_KINDS.items():
        entries = data.get(section)
        names: set[str] = set()
        if entries is not None and not isinstance(entries, Mapping):
            problems.add(
                (section,),
                f"a mapping of {kind_label(kind)} names to {{use, options}}",
                problems.found((section,), entries),
            )
        for name in entries or {} if isinstance(entries, Mapping) else {}:
            if isinstance(name, str) and _NAME.fullmatch(name):
                names.add(name)
            else:
                problems.add(
                    (section, str(name)),
                    "a name made of letters, digits, '_' and '-' (no dots: names are parts of paths)",
                    repr(name),
                )
        defined[section] = names
    return defined


class ComponentValidator:
    """Checks components (``{use, version, options}``) against the registry, one at a time.

    Args:
        problems: Where problems are recorded.
        registry: The registered components.
        defined: Section -> names defined in the config, for references; ``None`` when there is no
            config to refer to (:func:`~salon.load_component` without a container).
        selective: The config's ``plugins:`` chose which plugins load (hints then mention it).
    """

    def __init__(
        self,
        problems: Problems,
        registry: ComponentRegistry,
        defined: Mapping[str, set[str]] | None,
        *,
        selective: bool = False,
    ) -> None:
        self.problems = problems
        self.registry = registry
        self.defined = defined
        self.selective = selective
        self.nodes: dict[str, ComponentNode] = {}

    def component(
        self, kind: str, raw: Any, path: Path, *, key: str = "", allow_cache: bool = False
    ) -> ComponentNode | None:
        """Check one component at ``path``; ``None`` if it is wrong (problems recorded)."""
        problems = self.problems
        label = kind_label(kind)
        if not isinstance(raw, Mapping):
            problems.add(path, f"{a_kind(kind)}: a mapping with use: and options:", problems.found(path, raw))
            return None
        allowed = (*_ENTRY_KEYS, "cache") if allow_cache else _ENTRY_KEYS
        unknown = [k for k in raw if k not in allowed]
        for k in unknown:
            hint = did_you_mean(k, allowed)
            if k in _IMPORT_PATH_KEYS:
                hint = "Salon names components by their registered name in use:, never by an import path"
            problems.add((*path, str(k)), f"one of the keys {', '.join(allowed)}", f"{k!r}", hint)
        use = raw.get("use")
        names = self.registry.names(kind)
        if "use" not in raw or not isinstance(use, str):
            where = (*path, "use") if "use" in raw else path
            found = problems.found(where, use) if "use" in raw else "no use: key"
            problems.add(where, f"use: naming an installed {label} ({one_of(names)})", found)
            return None
        if use not in names:
            hint = self._install_hint(use, names)
            problems.add(
                (*path, "use"),
                f"the name of an installed {label} ({one_of(names)})",
                problems.found((*path, "use"), use),
                hint,
            )
            return None
        spec = self.registry.get(kind, use)
        current = component_version(spec)
        version = raw.get("version", current)
        if isinstance(version, bool) or not isinstance(version, int) or not 1 <= version <= current:
            versions = "version 1" if current == 1 else f"a version from 1 to {current}"
            problems.add(
                (*path, "version"),
                f"{versions} (the options version of {label} {use!r})",
                problems.found((*path, "version"), version),
            )
            return None
        cache = self._cache(raw.get("cache"), path) if allow_cache else None
        ok, options = validate_options(spec, raw.get("options"), (*path, "options"), problems)
        if not ok or unknown:
            return None
        node = ComponentNode(
            path=format_path(path),
            kind=kind,
            spec=spec,
            version=version,
            options=options,
            plans=model_plan(type(options)) if options is not None else {},
            cache=cache,
            key=key,
            location=path,
        )
        prefix = (*path, "options")
        node.templates = {p[len(prefix) :]: t for p, t in problems.templates.items() if p[: len(prefix)] == prefix}
        self.nodes[node.path] = node
        for option_path, leaf, value in scan(node.plans, options):
            full = (*prefix, *option_path)
            if isinstance(leaf, RefPlan):
                ref = self._reference(leaf.kind, value, full, option_path)
                if ref is not None:
                    node.refs.append(ref)
            else:
                tree = self.inline(leaf.kind, value, full)
                if tree is not None:
                    node.inlines[option_path] = tree
        return node

    def _install_hint(self, use: str, names: list[str]) -> str:
        install = f"install the plugin that provides {use!r} (`salon plugins` lists what is installed"
        install += ", and `plugins:` in the config selects which load)" if self.selective else ")"
        return did_you_mean(use, names) or install[:1].upper() + install[1:]  # a close name is most likely a typo

    def inline(self, kind: str, raw: Any, path: Path) -> InlineTree | None:
        """Check an inline component: ``{use, options}``, or ``{any: [...]}`` / ``{all: [...]}``."""
        if isinstance(raw, Mapping) and ("any" in raw or "all" in raw):
            if len(raw) != 1:
                self.problems.add(
                    path, "exactly one key: any:, all:, or use: with options:", f"the keys {', '.join(map(str, raw))}"
                )
                return None
            op = next(iter(raw))
            items = raw[op]
            if not isinstance(items, list) or not items:
                self.problems.add(
                    (*path, op),
                    f"a non-empty list of inline {kind_label(kind)}s",
                    self.problems.found((*path, op), items),
                )
                return None
            children = [self.inline(kind, item, (*path, op, index)) for index, item in enumerate(items)]
            if any(child is None for child in children):
                return None
            return InlineCombo(op, [child for child in children if child is not None])
        if not isinstance(raw, Mapping):
            expected = f"an inline {kind_label(kind)}: {{use, options}}, or {{any: [...]}} / {{all: [...]}}"
            self.problems.add(path, expected, self.problems.found(path, raw))
            return None
        node = self.component(kind, raw, path)
        return None if node is None else InlineLeaf(node)

    def _cache(self, value: Any, path: Path) -> str | None:
        if value is None:
            return None
        names = self.defined.get("cache_stores", set()) if self.defined is not None else set()
        if not isinstance(value, str) or value not in names:
            self.problems.add(
                (*path, "cache"),
                f"the name of a cache store defined under cache_stores ({one_of(names)})",
                self.problems.found((*path, "cache"), value),
                did_you_mean(value, names),
            )
            return None
        return f"cache_stores.{value}"

    def _reference(self, kind: str, name: str, full: Path, option_path: Path) -> RefUse | None:
        section = KIND_SECTIONS.get(kind)
        if section is None or section in SINGLE_SECTIONS:
            self.problems.add(
                full,
                f"an option that names {a_kind(kind)}",
                f"a reference to {a_kind(kind)}, which has no named section",
            )
            return None
        if self.defined is None:
            self.problems.add(
                full,
                f"a container that defines {a_kind(kind)} named {name!r} (load_component(..., container=...))",
                self.problems.found(full, name),
            )
            return None
        names = self.defined.get(section, set())
        if name not in names:
            self.problems.add(
                full,
                f"the name of {a_kind(kind)} defined under {section} ({one_of(names)})",
                self.problems.found(full, name),
                did_you_mean(name, names),
            )
            return None
        return RefUse(option_path, kind, name)


def find_cycles(nodes: Mapping[str, ComponentNode], problems: Problems) -> None:
    """Record one problem per reference cycle among ``nodes`` (a component can never be built)."""
    state: dict[str, int] = {}  # 1 = on the stack, 2 = done
    stack: list[str] = []
    reported: set[frozenset[str]] = set()

    def visit(path: str) -> None:
        state[path] = 1
        stack.append(path)
        for target in nodes[path].dependencies():
            if target not in nodes:
                continue
            if state.get(target) == 1:
                cycle = [*stack[stack.index(target) :], target]
                if frozenset(cycle) not in reported:
                    reported.add(frozenset(cycle))
                    _report_cycle(nodes, cycle, problems)
            elif target not in state:
                visit(target)
        stack.pop()
        state[path] = 2

    for path in nodes:
        if path not in state:
            visit(path)


def _report_cycle(nodes: Mapping[str, ComponentNode], cycle: list[str], problems: Problems) -> None:
    start, following = nodes[cycle[0]], cycle[1]
    where: Path = start.location
    for ref in start.refs:
        if ref.target == following:
            where = (*start.location, "options", *ref.option_path)
            break
    else:
        if start.cache == following:
            where = (*start.location, "cache")
        elif following in nodes:
            where = nodes[following].location
    found = f"{start.path} referring to itself" if len(cycle) == 2 else "the cycle " + " -> ".join(cycle)
    problems.add(
        where, f"references that never lead back to {start.path} (components are built before their users)", found
    )
