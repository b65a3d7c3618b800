"""Finding plugins (entry points of group ``salon``), loading them, and collecting their components."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from typing import Any

import pluggy

from . import hookspecs
from ._component_registry import COMPONENT_KINDS, ComponentRegistry, ComponentSpec, DuplicateComponentError

__all__ = ["PluginManager", "PluginRecord", "PluginLoadError", "ENTRY_POINT_GROUP"]

ENTRY_POINT_GROUP = "salon"
BUILTIN_DISTRIBUTION = "salon"


class PluginLoadError(RuntimeError):
    """A plugin failed to load (raised only in strict mode; otherwise it is recorded and skipped)."""


@dataclass
class PluginRecord:
    """What ``salon plugins`` reports about one plugin.

    Attributes:
        name: The entry point name (``"builtin"`` for the kernel's own).
        distribution: The distribution that provides it.
        version: That distribution's version.
        hooks: The hooks it implements.
        error: Why it failed to load, or ``None``.
        builtin: Whether it ships with the kernel.
    """

    name: str
    distribution: str
    version: str
    hooks: list[str] = field(default_factory=list)
    error: str | None = None
    builtin: bool = False

    def as_dict(self) -> dict[str, Any]:
        """The record as JSON-compatible data."""
        return {
            "name": self.name,
            "distribution": self.distribution,
            "version": self.version,
            "hooks": list(self.hooks),
            "error": self.error,
            "builtin": self.builtin,
        }


def _env_selection() -> list[str] | None:
    raw = os.environ.get("SALON_LOAD_PLUGINS")
    if raw is None:
        return None
    return [name.strip() for name in raw.split(",") if name.strip()]


def _env_strict() -> bool:
    return os.environ.get("SALON_STRICT_PLUGINS", "").strip().lower() in {"1", "true", "yes", "on"}


class PluginManager:
    """One set of loaded plugins and the components they register.

    There is no global plugin manager: each container (and each test) owns one.

    Args:
        load: Which installed plugins to load, by entry point name. ``None`` loads all of them, unless
            ``SALON_LOAD_PLUGINS`` (a comma-separated list; empty means none) says otherwise. Plugins are
            filtered by name *before* they are imported.
        strict: Raise :class:`PluginLoadError` when a plugin fails to load or implements an unknown hook,
            instead of recording it and going on. ``None`` reads ``SALON_STRICT_PLUGINS=1``.
        entry_points_enabled: ``False`` loads only the built-ins and plugins added with :meth:`add_plugin`
            (what tests want).
    """

    def __init__(
        self, *, load: list[str] | None = None, strict: bool | None = None, entry_points_enabled: bool = True
    ) -> None:
        self._pluggy = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        self._pluggy.add_hookspecs(hookspecs)
        self._strict = _env_strict() if strict is None else strict
        self._records: dict[str, PluginRecord] = {}
        self._registry: ComponentRegistry | None = None
        from . import _builtin_plugin

        self._add(_builtin_plugin, "builtin", BUILTIN_DISTRIBUTION, _kernel_version(), builtin=True)
        if entry_points_enabled:
            selection = load if load is not None else _env_selection()
            for entry_point in entry_points(group=ENTRY_POINT_GROUP):
                if selection is None or entry_point.name in selection:
                    self._load_entry_point(entry_point)

    @property
    def hook(self) -> Any:
        """The pluggy hook relay, for lifecycle hooks (``pm.hook.runtime_started(runtime=...)``)."""
        return self._pluggy.hook

    @property
    def records(self) -> list[PluginRecord]:
        """Every plugin seen, loaded or failed, in load order."""
        return list(self._records.values())

    def add_plugin(self, plugin: object, name: str, *, distribution: str = "", version: str = "") -> None:
        """Register an in-process plugin object (a module or any object with hook implementations).

        Raises:
            PluginLoadError: in strict mode, when the plugin implements an unknown hook.
        """
        self._add(plugin, name, distribution or name, version)
        self._registry = None

    def _load_entry_point(self, entry_point: EntryPoint) -> None:
        distribution = entry_point.dist.name if entry_point.dist is not None else "?"
        version = entry_point.dist.version if entry_point.dist is not None else "?"
        try:
            plugin = entry_point.load()
        except Exception as e:
            self._fail(entry_point.name, distribution, version, f"{type(e).__name__}: {e}", e)
            return
        self._add(plugin, entry_point.name, distribution, version)

    def _add(self, plugin: object, name: str, distribution: str, version: str, *, builtin: bool = False) -> None:
        if name in self._records:
            message = f"A plugin named {name!r} is already loaded (from {self._records[name].distribution})."
            self._fail(name + " (duplicate)", distribution, version, message, None)
            return
        try:
            self._pluggy.register(plugin, name=name)
            self._pluggy.check_pending()
        except pluggy.PluginValidationError as e:
            if self._pluggy.is_registered(plugin):
                self._pluggy.unregister(plugin)
            self._fail(name, distribution, version, f"invalid hook implementation: {e}", e)
            return
        hooks = sorted(caller.name for caller in self._pluggy.get_hookcallers(plugin) or ())
        self._records[name] = PluginRecord(name, distribution, version, hooks, None, builtin)

    def _fail(self, name: str, distribution: str, version: str, error: str, cause: BaseException | None) -> None:
        self._records[name] = PluginRecord(name, distribution, version, [], error)
        if self._strict:
            raise PluginLoadError(
                f"Plugin {name!r} from distribution {distribution} {version} failed to load: {error}. "
                "Fix or uninstall it, or unset SALON_STRICT_PLUGINS to skip broken plugins."
            ) from cause

    @property
    def registry(self) -> ComponentRegistry:
        """The components every loaded plugin registered (collected on first use).

        Raises:
            DuplicateComponentError: two plugins registered the same name for one kind.
        """
        if self._registry is None:
            registry = ComponentRegistry()
            for kind, hook_name in COMPONENT_KINDS.items():
                for impl in getattr(self._pluggy.hook, hook_name).get_hookimpls():
                    self._collect(impl, registry, kind)
            self._registry = registry
        return self._registry

    def _collect(self, impl: Any, registry: ComponentRegistry, kind: str) -> None:
        """Run one plugin's registration hook; a hook that raises marks its plugin failed (or raises, if strict)."""
        callback = self._register_callback(registry, kind, impl.plugin_name)
        try:
            impl.function(**({"register": callback} if "register" in impl.argnames else {}))
        except DuplicateComponentError:
            raise
        except Exception as e:
            record = self._records.get(impl.plugin_name)
            distribution = record.distribution if record else impl.plugin_name
            version = record.version if record else "?"
            error = f"{impl.function.__name__} raised {type(e).__name__}: {e}"
            self._fail(impl.plugin_name, distribution, version, error, e)

    def message_serializers(self) -> list[Any]:
        """Every serializer the plugins registered (``register_message_serializers``), ready to add to a runtime."""
        serializers: list[Any] = []
        for spec in self.registry:
            if spec.kind == "message_serializer":
                made = spec.factory()
                serializers.extend(made if isinstance(made, list | tuple) else [made])
        return serializers

    def _register_callback(self, registry: ComponentRegistry, kind: str, plugin: str) -> Callable[..., None]:
        record = self._records.get(plugin)

        def register(name: str, factory: Any, *, options: Any = None, description: str = "") -> None:
            registry.add(
                ComponentSpec(
                    kind=kind,
                    name=name,
                    factory=factory,
                    options_source=options,
                    description=description,
                    plugin=plugin,
                    distribution=record.distribution if record else plugin,
                    version=record.version if record else "",
                )
            )

        return register


def _kernel_version() -> str:
    from . import __version__

    return __version__
