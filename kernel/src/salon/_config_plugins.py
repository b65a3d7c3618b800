"""The config's ``plugins:`` section: which installed plugins load, and the user's local plugin files.

Local plugin files are the user's own code, listed explicitly by the config and loaded the way pytest
loads ``conftest.py``: a file path relative to the config file (never a dotted import path), imported
from that file with importlib, its directory put first on ``sys.path`` so it can import its siblings,
and registered as plugin ``local:<path>``. ``allow_local_plugins=False`` (``--no-local-plugins``) refuses
them, so a config from elsewhere cannot run code just by being checked.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path as FsPath
from types import ModuleType
from typing import Any

from ._config_errors import Problems, describe, did_you_mean, one_of
from ._plugin_manager import PluginLoadError, PluginManager

__all__ = ["setup_plugins"]


def setup_plugins(
    value: Any,
    problems: Problems,
    *,
    plugin_manager: PluginManager | None,
    base_dir: FsPath,
    allow_local_plugins: bool,
) -> PluginManager | None:
    """Create (or check) the plugin manager the config asks for and add its local plugins.

    Returns ``None`` when a problem was recorded that makes the rest of the config uncheckable.
    """
    load, local = _selection(value, problems)
    if problems.items:
        return None
    pm = plugin_manager
    if pm is None:
        try:
            pm = PluginManager(load=load)
        except PluginLoadError as e:
            problems.add(("plugins",), "every selected plugin to load (SALON_STRICT_PLUGINS=1 is set)", str(e))
            return None
    if load is not None:
        _check_loaded(pm, load, problems, value)
    if local:
        _add_local(pm, local, problems, base_dir=base_dir, allow=allow_local_plugins)
    return None if problems.items else pm


def _selection(value: Any, problems: Problems) -> tuple[list[str] | None, list[str]]:
    if value is None:
        return None, []
    if isinstance(value, list):
        return _names(value, ("plugins",), problems), []
    if not isinstance(value, Mapping):
        problems.add(
            ("plugins",),
            "a list of plugin names, or a mapping with load: and local:",
            problems.found(("plugins",), value),
        )
        return None, []
    for key in value:
        if key not in ("load", "local"):
            problems.add(
                ("plugins", str(key)), "one of the keys load, local", f"{key!r}", did_you_mean(key, ["load", "local"])
            )
    load_value, local_value = value.get("load"), value.get("local")
    load = None if load_value is None else _names(load_value, ("plugins", "load"), problems)
    local = [] if local_value is None else _names(local_value, ("plugins", "local"), problems)
    return load, local if local is not None else []


def _names(value: Any, path: tuple[str, ...], problems: Problems) -> list[str] | None:
    if not isinstance(value, list):
        problems.add(path, "a list of names", problems.found(path, value))
        return None
    for index, item in enumerate(value):
        if not isinstance(item, str) or not item:
            problems.add((*path, index), "a name (a non-empty string)", problems.found((*path, index), item))
    return [item for item in value if isinstance(item, str)]


def _installed_names(pm: PluginManager) -> set[str]:
    from importlib.metadata import entry_points

    from ._plugin_manager import ENTRY_POINT_GROUP

    names = {record.name for record in pm.records if not record.builtin}
    names.update(ep.name for ep in entry_points(group=ENTRY_POINT_GROUP))
    return names


def _check_loaded(pm: PluginManager, load: list[str], problems: Problems, value: Any) -> None:
    records = {record.name: record for record in pm.records}
    base = ("plugins",) if isinstance(value, list) else ("plugins", "load")
    for index, name in enumerate(load):
        record = records.get(name)
        if record is None:
            installed = _installed_names(pm)
            hint = did_you_mean(name, installed) or f"Install it (pip install salon-{name}); `salon plugins` lists them"
            problems.add((*base, index), f"the name of an installed plugin ({one_of(installed)})", repr(name), hint)
        elif record.error is not None:
            problems.add((*base, index), f"plugin {name!r} to load", f"it failed: {record.error}")


def _add_local(pm: PluginManager, local: list[str], problems: Problems, *, base_dir: FsPath, allow: bool) -> None:
    if not allow:
        problems.add(
            ("plugins", "local"),
            "no local plugin files (local plugins are disabled here, e.g. by --no-local-plugins)",
            f"{len(local)} listed: {', '.join(map(repr, local))}",
        )
        return
    for index, relative in enumerate(local):
        path = ("plugins", "local", index)
        if os.path.isabs(relative) or not relative.endswith(".py"):
            problems.add(
                path,
                "a Python file path relative to the config file, ending in .py (never a dotted import path)",
                describe(relative),
            )
            continue
        file = base_dir / relative
        if not file.is_file():
            problems.add(path, "a Python file relative to the config file's directory", f"{relative!r} (no such file)")
            continue
        name = "local:" + FsPath(os.path.normpath(relative)).as_posix()
        if any(record.name == name and record.error is None for record in pm.records):
            continue  # the same plugin manager saw this file already (another config)
        try:
            module = _import_file(file)
        except Exception as e:
            problems.add(path, "a plugin file that imports without error", f"{type(e).__name__}: {e}")
            problems.causes.append(e)
            continue
        try:
            pm.add_plugin(module, name, distribution=name)
        except PluginLoadError as e:
            problems.add(path, "valid hook implementations", str(e))
            continue
        record = next((r for r in pm.records if r.name == name), None)
        if record is not None and record.error is not None:
            problems.add(path, "valid hook implementations", record.error)


def _import_file(file: FsPath) -> ModuleType:
    """Import ``file`` as a module of its own (cached in ``sys.modules`` per resolved path)."""
    resolved = file.resolve()
    digest = hashlib.sha256(str(resolved).encode()).hexdigest()[:12]
    name = f"_salon_local_{re.sub(r'[^0-9A-Za-z_]', '_', resolved.stem)}_{digest}"
    existing = sys.modules.get(name)
    if existing is not None and getattr(existing, "__file__", None) == str(resolved):
        return existing
    spec = importlib.util.spec_from_file_location(name, resolved)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {file.name} as a module")
    module = importlib.util.module_from_spec(spec)
    directory = str(resolved.parent)
    if directory not in sys.path:
        sys.path.insert(0, directory)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module
