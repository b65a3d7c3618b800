"""Components as data and back: ``dump_component`` / ``load_component`` with ``{use, version, options}``.

A dump names the component by its registered name, never by an import path, and holds options only:
loading looks the name up among the installed plugins' components and never imports a module named by
the data nor runs code stored in it (AutoGen's import-path configs led to arbitrary code execution).

Every object the config machinery builds is remembered with the validated component it came from, so
it can be dumped exactly as configured: references are written back as names, inline parts as
``{use, options}`` / ``{any: [...]}``, and values that came from ``${NAME}`` as that text (secrets are
never written out). Objects built in Python can take part by defining ``_salon_component_ = (kind, name)``
and ``dump_options()``.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._component_registry import COMPONENT_KINDS
from ._config_errors import ConfigError, Path, Problems
from ._config_nodes import ComponentNode, InlineCombo, InlineLeaf, InlineTree, component_version
from ._config_refs import KIND_SECTIONS, kind_label

if TYPE_CHECKING:
    from ._container import Container
    from ._plugin_manager import PluginManager

__all__ = ["dump_component", "load_component", "construct", "dump_node", "remember"]


@dataclass(frozen=True)
class _Record:
    node: ComponentNode | None = None
    combo: InlineCombo | None = None
    cached: bool = False


_RECORDS: dict[int, tuple[Callable[[], Any], _Record]] = {}


def remember(obj: Any, record: _Record) -> None:
    """Remember what ``obj`` was built from; forgotten when ``obj`` is garbage collected.

    Objects that cannot be weakly referenced (rare: ``__slots__`` without ``__weakref__``, builtins)
    are kept alive by the record instead, which is a small, bounded leak per built component.
    """
    key = id(obj)

    def forget(_ref: Any) -> None:
        _RECORDS.pop(key, None)

    try:
        ref: Callable[[], Any] = weakref.ref(obj, forget)
    except TypeError:

        def ref(obj: Any = obj) -> Any:
            return obj

    _RECORDS[key] = (ref, record)


def _record_of(obj: Any) -> _Record | None:
    entry = _RECORDS.get(id(obj))
    if entry is not None and entry[0]() is obj:
        return entry[1]
    return None


def construct(node: ComponentNode, built: Mapping[str, Any], problems: Problems) -> Any:
    """Build ``node`` with its factory, its references taken from ``built``; remember the result.

    Raises:
        ConfigError: the factory (or the cache wrapper) failed; the message never holds a secret.
    """
    kwargs = node.kwargs(built, lambda obj, combo: remember(obj, _Record(combo=combo)))
    if node.key and "name" in kwargs and kwargs["name"] is None:
        # A named component (``agents: {writer: ...}``) whose options leave ``name`` unset is called by its
        # config key, so a config never has to say a chat agent's name twice.
        kwargs["name"] = node.key
    try:
        obj = node.spec.factory(**kwargs)
    except ConfigError:
        raise
    except Exception as e:
        failed = problems.fresh()
        label = f"{kind_label(node.kind)} {node.spec.name!r}"
        failed.add(node.location, f"options that {label} can be built from", f"an error: {type(e).__name__}: {e}")
        failed.raise_if_any(e)
        raise
    remember(obj, _Record(node=node))
    if node.cache is None:
        return obj
    from .cache import ChatCompletionCache

    # The client's config name is the cache namespace: two model clients sharing one store never
    # answer each other's requests.
    cached = ChatCompletionCache(obj, built[node.cache], namespace=node.key)
    remember(cached, _Record(node=node, cached=True))
    return cached


def dump_node(node: ComponentNode, *, cached: bool = False) -> dict[str, Any]:
    """``{use, version, options}`` (plus ``cache`` for a cached model client) of a validated component."""
    options: Any = {}
    if node.options is not None:
        try:
            options = node.options.model_dump(mode="json", by_alias=True, exclude_unset=True)
        except Exception as e:
            raise ValueError(
                f"{node.path or kind_label(node.kind)}: the options of {node.spec.name!r} cannot be written as data "
                f"({type(e).__name__})"
            ) from None
        options = _escape(options)
        for path, template in node.templates.items():
            _overlay(options, path, template)
        for path, tree in node.inlines.items():
            _overlay(options, path, _dump_tree(tree))
    data: dict[str, Any] = {"use": node.spec.name, "version": component_version(node.spec), "options": options}
    if cached and node.cache:
        data["cache"] = node.cache.split(".", 1)[1]
    return data


def _dump_tree(tree: InlineTree) -> dict[str, Any]:
    if isinstance(tree, InlineLeaf):
        return dump_node(tree.node)
    return {tree.op: [_dump_tree(child) for child in tree.children]}


def _overlay(data: Any, path: Path, value: Any) -> None:
    current = data
    for part in path[:-1]:
        if not _has(current, part):
            return
        current = current[part]
    if path and _has(current, path[-1]):
        current[path[-1]] = value


def _has(container: Any, part: str | int) -> bool:
    if isinstance(container, dict):
        return part in container
    return isinstance(container, list) and isinstance(part, int) and 0 <= part < len(container)


def _escape(value: Any) -> Any:
    """Write ``${`` as ``$${`` so that loading the dump does not interpolate text that was literal."""
    if isinstance(value, str):
        return value.replace("${", "$${")
    if isinstance(value, dict):
        return {key: _escape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_escape(item) for item in value]
    return value


def _jsonable(value: Any) -> Any:
    from pydantic import BaseModel, SecretBytes, SecretStr

    if isinstance(value, SecretStr | SecretBytes):
        return "**********"
    if isinstance(value, BaseModel):
        return _escape(value.model_dump(mode="json", by_alias=True))
    if isinstance(value, str):
        return _escape(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, Mapping):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    raise TypeError(f"dump_options() returned a {type(value).__name__}, which cannot be written as config data")


def dump_component(obj: Any) -> dict[str, Any]:
    """Describe ``obj`` as config data: ``{"use": name, "version": n, "options": {...}}``.

    Works for every object a :class:`~salon.Container` or :func:`load_component` built, and for
    objects whose class defines ``_salon_component_ = (kind, name)`` and a ``dump_options()`` method.
    An object made by combining inline parts dumps as ``{"any": [...]}`` / ``{"all": [...]}``.

    Raises:
        TypeError: ``obj`` was not built from config and does not describe itself.
    """
    record = _record_of(obj)
    if record is not None and record.node is not None:
        return dump_node(record.node, cached=record.cached)
    if record is not None and record.combo is not None:
        return _dump_tree(record.combo)
    declared = getattr(type(obj), "_salon_component_", None)
    dump_options = getattr(obj, "dump_options", None)
    if isinstance(declared, tuple) and len(declared) == 2 and callable(dump_options):
        kind, name = declared
        if kind not in COMPONENT_KINDS:
            raise TypeError(f"{type(obj).__name__}._salon_component_ names an unknown kind {kind!r}")
        options = _jsonable(dump_options())
        return {"use": name, "version": getattr(type(obj), "component_version", 1), "options": options}
    raise TypeError(
        f"Cannot dump a {type(obj).__name__}: it was not built from config (Container, load_component) and its "
        "class does not define _salon_component_ = (kind, name) with a dump_options() method."
    )


def load_component(
    data: Mapping[str, Any],
    *,
    kind: str,
    plugin_manager: PluginManager | None = None,
    container: Container | None = None,
    source: str = "<data>",
    environ: Mapping[str, str] | None = None,
) -> Any:
    """Build a component from ``{use, version, options}`` (what :func:`dump_component` returns).

    ``use`` is looked up among the installed components of ``kind``; nothing named in ``data`` is
    imported and no code in it runs. ``${NAME}`` is interpolated as in config files. Options that name
    other components (references) need ``container``, whose components they are resolved against.

    Args:
        data: The component as data; for inline kinds also ``{any: [...]}`` / ``{all: [...]}``.
        kind: A key of :data:`~salon.COMPONENT_KINDS` (``"model_client"``, ``"agent"``, ...).
        plugin_manager: Where to find components; default: the container's, else all installed plugins.
        container: Resolves references by name (``model_client: gpt`` -> ``model_clients.gpt``).
        source: What error messages call the data.
        environ: Variables for ``${NAME}`` (default ``os.environ``).

    Raises:
        ConfigError: ``data`` is wrong or the component cannot be built, with where and why.
        ValueError: ``kind`` is not a component kind.
    """
    from ._config import ComponentValidator, find_cycles
    from ._config_interpolation import interpolate
    from ._plugin_manager import PluginManager

    if kind not in COMPONENT_KINDS:
        raise ValueError(f"Unknown component kind {kind!r}; known kinds: {', '.join(COMPONENT_KINDS)}.")
    pm = plugin_manager or (container.plugin_manager if container is not None else PluginManager())
    problems = Problems(source)
    data = interpolate(data, os.environ if environ is None else environ, problems)
    problems.raise_if_any()
    defined: dict[str, set[str]] | None = None
    if container is not None:
        defined = {}
        for path in container.paths():
            section, _, name = path.partition(".")
            defined.setdefault(section, set()).add(name)
    validator = ComponentValidator(problems, pm.registry, defined)
    if kind == "model_client":
        node = validator.component(kind, data, (), allow_cache=True)
        tree: InlineTree | None = None if node is None else InlineLeaf(node)
    else:
        tree = validator.inline(kind, data, ())
    find_cycles(validator.nodes, problems)
    problems.raise_if_any()
    assert tree is not None
    built: dict[str, Any] = {}

    def build(node: ComponentNode) -> None:
        for leaf in reversed(list(node.leaves())):
            if leaf.path not in built:
                build(leaf)
        targets = [ref.target for ref in node.refs] + ([node.cache] if node.cache else [])
        for target in targets:
            if target not in built:
                assert container is not None and target.split(".", 1)[0] in KIND_SECTIONS.values()
                built[target] = container.component(target)
        built[node.path] = construct(node, built, problems)

    for leaf in tree.leaves():
        if leaf.path not in built:
            build(leaf)
    return tree.combine(built, lambda obj, combo: remember(obj, _Record(combo=combo)))
