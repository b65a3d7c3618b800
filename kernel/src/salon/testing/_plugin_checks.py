"""Two checks every plugin's tests make: registration stays light, and the entry point is found.

Both exist because of how Salon finds plugins: every ``salon`` command (``salon plugins`` and
``salon --help`` included) imports every installed plugin and runs its registration hooks. A plugin whose
module imports its SDK or pydantic at the top slows down every command for every user, whether or not a
config uses it. And a plugin whose ``pyproject.toml`` names the wrong module, or whose distribution
registers its components under another name, passes every in-process test and is still invisible once
installed. Plugin authors call these checks from one test each instead of writing the subprocess and
the lookup again.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence

from .._plugin_manager import PluginLoadError, PluginManager, PluginRecord

__all__ = ["check_found_through_entry_point", "check_plugin_stays_light"]

# Run in a fresh interpreter with argv = [module, name, heavy...]. A meta path finder installed before
# anything else is imported notes who imports each heavy module first; it finds nothing itself, so the
# import goes on as usual. The result is one JSON line on stdout.
_LIGHT_SCRIPT = r"""
import json, sys

module_name, plugin_name, *heavy = sys.argv[1:]
started_with = sorted(m for m in heavy if m in sys.modules)
importers = {}


def _heavy_root(fullname):
    for root in heavy:
        if fullname == root or fullname.startswith(root + "."):
            return root
    return None


def _who_imports():
    chain, frame = [], sys._getframe(2)
    while frame is not None and len(chain) < 4:
        code = frame.f_code.co_filename
        if not code.startswith("<frozen") and "importlib" not in code:
            where = "{} line {}".format(frame.f_globals.get("__name__", code), frame.f_lineno)
            if where.split(" ")[0] != "__main__":
                chain.append(where)
        frame = frame.f_back
    return " <- ".join(chain) or "the check itself"


class _Watch:
    @staticmethod
    def find_spec(fullname, path=None, target=None):
        root = _heavy_root(fullname)
        if root is not None and root not in importers:
            importers[root] = _who_imports()
        return None


sys.meta_path.insert(0, _Watch)

import importlib
from salon import PluginManager
from salon.cli import build_parser

plugin = importlib.import_module(module_name)
pm = PluginManager(entry_points_enabled=False, strict=True)
pm.add_plugin(plugin, plugin_name)
pm.registry  # runs the registration hooks
build_parser(pm)  # runs register_commands
hooks = next(record.hooks for record in pm.records if record.name == plugin_name)
imported = sorted(m for m in heavy if m in sys.modules)
print(json.dumps({"hooks": hooks, "imported": imported,
                  "importers": importers, "started_with": started_with}))
"""


def check_plugin_stays_light(module: str, name: str, *, heavy: Sequence[str], timeout: float = 120.0) -> None:
    """Check that loading a plugin as the CLI does imports none of the ``heavy`` modules.

    Every ``salon`` command imports every installed plugin, runs its registration hooks and lets it add
    its commands, so whatever that imports is paid on each command by every user. The check does exactly
    that in a fresh ``sys.executable`` interpreter (this process has long since imported everything):
    imports ``module``, adds it as ``name`` to a strict ``PluginManager(entry_points_enabled=False)``,
    collects its components and builds the command-line parser. The subprocess inherits the environment,
    so a plugin put on ``PYTHONPATH`` (not installed) is checked too.

    Args:
        module: The plugin module, as the entry point names it (``"salon_openai"``).
        name: The plugin name to register it under (the entry point name, ``"openai"``).
        heavy: Modules that must not be imported: the SDK, ``pydantic``, the plugin's own implementation
            modules. A name also covers its submodules.
        timeout: Seconds the subprocess may take.

    Raises:
        AssertionError: a heavy module was imported (the message names it and the modules whose imports
            brought it in), the plugin implements no hook, or the plugin failed to load (with the
            subprocess's error output).
    """
    if not heavy:
        raise ValueError("check_plugin_stays_light needs the heavy modules to look for, e.g. heavy=['pydantic']")
    done = subprocess.run(
        [sys.executable, "-c", _LIGHT_SCRIPT, module, name, *heavy],
        env={**os.environ, "SALON_STRICT_PLUGINS": "1"},  # a failing register_commands fails the check
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise AssertionError(
            f"Loading plugin {name!r} (module {module}) failed in a fresh interpreter "
            f"(exit status {done.returncode}):\n{done.stderr.strip()}"
        )
    report = json.loads(done.stdout.strip().splitlines()[-1])
    if not report["hooks"]:
        raise AssertionError(
            f"Module {module} implements no Salon hook, so loading it proves nothing: check the module name "
            "(it is what the entry point names) and that its hooks are decorated with @hookimpl."
        )
    if report["imported"]:
        lines = []
        for heavy_module in report["imported"]:
            if heavy_module in report["started_with"]:
                lines.append(f"  {heavy_module}: already imported when the interpreter started (a .pth file?)")
            else:
                lines.append(f"  {heavy_module}: imported by {report['importers'].get(heavy_module, '?')}")
        raise AssertionError(
            f"Loading plugin {name!r} (module {module}) imported heavy modules:\n" + "\n".join(lines) + "\n"
            "Every salon command loads every plugin: import these inside the factory or options function "
            "that needs them (or through a module __getattr__), not at the top of the plugin module."
        )


def check_found_through_entry_point(
    name: str, *, distribution: str, components: Mapping[str, Sequence[str]]
) -> PluginRecord:
    """Check that the installed plugin ``name`` is found through its entry point and registers ``components``.

    In-process tests add the plugin module by hand, so they pass even when the packaging is wrong: an
    entry point in the wrong group, naming the wrong module, or a component registered under another name.
    This check loads the plugin as users get it, with a strict ``PluginManager(load=[name])``. It needs the
    distribution installed (``uv pip install -e plugins/<thing>`` in Salon's repository).

    Args:
        name: The entry point name, in the group ``salon``.
        distribution: The distribution that must provide it (``"salon-openai"``).
        components: For each kind (``"model_client"``), the component names that distribution must register.

    Returns:
        The plugin's record, for further checks (its ``version``, its ``hooks``).

    Raises:
        AssertionError: the entry point is missing, comes from another distribution, the plugin fails to
            load, or a component is missing or registered by another distribution.
    """
    try:
        pm = PluginManager(load=[name], strict=True)
        registry = pm.registry  # runs the registration hooks, which may fail too
    except PluginLoadError as e:
        raise AssertionError(f"Plugin {name!r} was found but failed to load: {e}") from e
    record = next((r for r in pm.records if r.name == name), None)
    if record is None:
        raise AssertionError(
            f"No installed plugin has the entry point {name!r} in the group 'salon'. Install {distribution} "
            "(e.g. `uv pip install -e <its directory>`) and check [project.entry-points.salon] in its pyproject.toml."
        )
    if record.distribution != distribution:
        raise AssertionError(
            f"The entry point {name!r} comes from distribution {record.distribution!r}, not {distribution!r}."
        )
    problems: list[str] = []
    for kind, names in components.items():
        for component in names:
            owner = next((s.distribution for s in registry if s.kind == kind and s.name == component), None)
            if owner != distribution:
                found = "nothing" if owner is None else f"distribution {owner!r}"
                registered = ", ".join(registry.names(kind)) or "none"
                problems.append(f"  {kind} {component!r}: registered by {found} (registered: {registered})")
    if problems:
        raise AssertionError(f"Plugin {name!r} from {distribution} lacks components:\n" + "\n".join(problems))
    return record
