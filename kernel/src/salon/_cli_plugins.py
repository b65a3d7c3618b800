"""``salon plugins``: what is installed, what each plugin registered, and what failed to load.

Modelled on ``llm plugins``: one entry per plugin with its distribution, version and hooks, plus the
components it registered per kind (which ``llm`` does not have). A plugin that failed to load, or whose
registration hook raised, is listed with its error; it never stops the command. The command reads
only names and descriptions from the registry, so no options model (and no pydantic) is imported.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._component_registry import ComponentSpec
    from ._plugin_manager import PluginManager

__all__ = ["plugin_listing", "render_text", "run_plugins"]

#: JSON shape of one entry: ``PluginRecord.as_dict()`` plus ``components``, a mapping of kind to a
#: list of ``{"name", "description"}``.
Entry = dict[str, Any]


def run_plugins(args: argparse.Namespace) -> int:
    """Print the plugin listing (text, or JSON with ``--json``); exit status 0, or 1 in strict mode on errors."""
    from ._plugin_manager import _env_strict

    plugin_manager: PluginManager = args.plugin_manager
    entries, warnings = plugin_listing(plugin_manager, include_builtin=args.all)
    for warning in warnings:
        print(f"salon: warning: {warning}", file=sys.stderr)
    if args.json:
        print(json.dumps(entries, indent=2))
    else:
        print(render_text(entries, include_builtin=args.all))
    return 1 if warnings and _env_strict() else 0


def plugin_listing(plugin_manager: PluginManager, *, include_builtin: bool = False) -> tuple[list[Entry], list[str]]:
    """The entries ``salon plugins`` shows, in load order, and warnings about the registry as a whole.

    Args:
        plugin_manager: The loaded plugins.
        include_builtin: Also list the kernel's own plugins.

    Returns:
        The entries, and warnings such as two plugins registering one name (then each plugin's
        components are collected one plugin at a time, so the listing still shows all of them).
    """
    from ._component_registry import DuplicateComponentError

    warnings: list[str] = []
    errors: dict[str, str] = {}
    try:
        specs = list(plugin_manager.registry)
    except Exception as e:
        # Two plugins claim one name, or a plugin's hook raised: list what each plugin registers on its
        # own, so the listing shows who is involved instead of stopping at the first problem.
        duplicate = isinstance(e, DuplicateComponentError)
        warnings.append(str(e) if duplicate else f"a plugin failed to register its components: {type(e).__name__}: {e}")
        specs, errors = _collect_one_by_one(plugin_manager)
    by_plugin: dict[str, dict[str, list[dict[str, str]]]] = {}
    for spec in specs:
        kinds = by_plugin.setdefault(spec.plugin, {})
        kinds.setdefault(spec.kind, []).append({"name": spec.name, "description": spec.description})
    entries: list[Entry] = []
    for record in plugin_manager.records:
        if record.builtin and not include_builtin:
            continue
        entry = record.as_dict()
        if entry["error"] is None and record.name in errors:
            entry["error"] = errors[record.name]
        entry["components"] = by_plugin.get(record.name, {})
        entries.append(entry)
    return entries, warnings


def _collect_one_by_one(plugin_manager: PluginManager) -> tuple[list[ComponentSpec], dict[str, str]]:
    """Call every registration hook of every plugin on its own, catching each one's failure.

    Used only when the registry cannot be built; a plugin whose hook raises gets that as its error.
    """
    from ._component_registry import COMPONENT_KINDS, ComponentSpec

    specs: list[ComponentSpec] = []
    errors: dict[str, str] = {}
    for kind, hook_name in COMPONENT_KINDS.items():
        for impl in getattr(plugin_manager.hook, hook_name).get_hookimpls():
            register = _collector(specs, kind, impl.plugin_name, ComponentSpec)
            try:
                impl.function(*[{"register": register}[name] for name in impl.argnames])
            except Exception as e:
                errors.setdefault(impl.plugin_name, f"{hook_name} raised {type(e).__name__}: {e}")
    return specs, errors


def _collector(
    specs: list[ComponentSpec], kind: str, plugin: str, spec_type: type[ComponentSpec]
) -> Callable[..., None]:
    def register(name: str, factory: Any, *, options: Any = None, description: str = "") -> None:
        specs.append(spec_type(kind=kind, name=name, factory=factory, description=description, plugin=plugin))

    return register


def render_text(entries: list[Entry], *, include_builtin: bool = False) -> str:
    """The human-readable listing: one block per plugin."""
    if not entries:
        if include_builtin:
            return "No plugins loaded."
        return "No plugins installed (`salon plugins --all` also lists the kernel's built-ins)."
    blocks = []
    for entry in entries:
        title = f"{entry['name']} ({entry['distribution']} {entry['version']})"
        if entry["builtin"]:
            title += " [built-in]"
        if entry["error"] is not None:
            blocks.append(f"{title}: FAILED\n  error: {entry['error']}")
            continue
        lines = [title, f"  hooks: {', '.join(entry['hooks']) or '-'}"]
        for kind, components in entry["components"].items():
            for component in components:
                label = f"  {kind.replace('_', ' ')} {component['name']}"
                lines.append(f"{label}: {component['description']}" if component["description"] else label)
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)
