"""The dependency-injection container built from a config: the one place where composition is declared.

Each configured component (and each inline part, such as a termination condition) becomes one
dependency-injector ``Singleton`` provider named by its config path (``agents.writer``), whose
arguments are the providers of the components it references. Nothing is built until asked for, and a
test replaces any component by overriding its provider instead of patching::

    with container.override_providers({"model_clients.gpt": fake_client}):
        agent = container.component("agents.writer")  # built with fake_client
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path as FsPath
from typing import TYPE_CHECKING, Any

from ._component_dump import construct, dump_component
from ._config import ValidatedConfig, load_config
from ._config_files import read_config_file
from ._constants import ROOT_LOGGER_NAME

if TYPE_CHECKING:
    from ._plugin_manager import PluginManager

__all__ = ["Container"]

logger = logging.getLogger(f"{ROOT_LOGGER_NAME}.config")

#: What the runtime needs from an agent (the members of the ``salon.Agent`` protocol), checked on the class
#: so that an agent that is not bound to a runtime yet is never asked for its id.
_AGENT_MEMBERS = ("metadata", "id", "bind_id_and_runtime", "on_message", "save_state", "load_state", "close")


class Container:
    """Components composed by a config file, built on demand by a dependency-injector container.

    Create it with :meth:`from_file` or :meth:`from_dict`; the whole config is checked then (every
    problem is a :class:`~salon.ConfigError`), and components are built when first asked for, once
    each. Paths name components as the config does: ``runtime``, ``team``, ``agents.writer``.
    """

    def __init__(self, config: ValidatedConfig) -> None:
        """Wrap a checked config (use :meth:`from_file` / :meth:`from_dict` instead)."""
        from dependency_injector import containers, providers

        self._config = config
        self._di = containers.DynamicContainer()
        self._fresh: dict[str, Any] = {}
        self._built: dict[str, Any] = {}
        self._started: list[Any] = []
        for path in _dependency_order(config):
            node = config.all_nodes[path]
            deps = providers.Dict({dep: self._di.providers[dep] for dep in node.dependencies()})
            self._di.set_provider(path, providers.Singleton(_construct_noted, self._built, node, deps, config.problems))
            if node.kind == "agent" and node.key:
                self._fresh[path] = providers.Factory(construct, node, deps, config.problems)
        config.plugin_manager.hook.container_built(container=self)

    @classmethod
    def from_file(
        cls,
        path: str | os.PathLike[str],
        *,
        plugin_manager: PluginManager | None = None,
        allow_local_plugins: bool = True,
        environ: Mapping[str, str] | None = None,
    ) -> Container:
        """Read and check a ``.yaml``/``.yml``, ``.toml`` or ``.json`` config file.

        Args:
            path: The file; error messages name it as given here.
            plugin_manager: Plugins to use; by default a new one loads the plugins the config's ``plugins:``
                selects (all installed ones when it has none).
            allow_local_plugins: ``False`` refuses ``plugins: {local: [...]}`` (``--no-local-plugins``).
            environ: Variables for ``${NAME}``; default ``os.environ``.

        Raises:
            ConfigError: the file is missing, malformed or wrong, with file, path, expected and found.
        """
        file = FsPath(path)
        source = os.fspath(path)
        data, positions = read_config_file(file, source)
        config = load_config(
            data,
            source=source,
            plugin_manager=plugin_manager,
            base_dir=file.parent,
            allow_local_plugins=allow_local_plugins,
            environ=environ,
            positions=positions,
        )
        return cls(config)

    @classmethod
    def from_dict(
        cls,
        data: Mapping[str, Any],
        *,
        source: str = "<dict>",
        plugin_manager: PluginManager | None = None,
        base_dir: str | os.PathLike[str] | None = None,
        allow_local_plugins: bool = True,
        environ: Mapping[str, str] | None = None,
    ) -> Container:
        """Check a config given as data (the parsed document).

        Args:
            data: The document, as a file would hold it.
            source: What error messages call it.
            plugin_manager: As for :meth:`from_file`.
            base_dir: Where local plugin paths start from (default: the current directory).
            allow_local_plugins: As for :meth:`from_file`.
            environ: As for :meth:`from_file`.

        Raises:
            ConfigError: the config is wrong.
        """
        config = load_config(
            data,
            source=source,
            plugin_manager=plugin_manager,
            base_dir=FsPath(base_dir) if base_dir is not None else FsPath.cwd(),
            allow_local_plugins=allow_local_plugins,
            environ=environ,
        )
        return cls(config)

    # ------------------------------------------------------------------ introspection

    @property
    def plugin_manager(self) -> PluginManager:
        """The plugins this container's components come from (including the config's local plugins)."""
        return self._config.plugin_manager

    @property
    def source(self) -> str:
        """The config file as given to :meth:`from_file`, or the ``source`` given to :meth:`from_dict`."""
        return self._config.source

    @property
    def di(self) -> Any:
        """The dependency-injector ``DynamicContainer``; its providers are named by path."""
        return self._di

    def paths(self) -> list[str]:
        """Paths of the configured components in file order (``runtime`` first, ``team`` last)."""
        return list(self._config.nodes)

    def provider(self, path: str) -> Any:
        """The provider of the component at ``path`` (also inline parts: ``team.options.termination``...).

        Raises:
            LookupError: no component has that path; the message lists the paths.
        """
        try:
            return self._di.providers[path]
        except KeyError:
            raise LookupError(
                f"{self.source}: no component at {path!r}; components: {', '.join(self.paths())}"
            ) from None

    def override_providers(self, overrides: Mapping[str, Any] | None = None, /, **more: Any) -> Any:
        """Override providers by path; use the result as a context manager to undo the overrides.

        Values that are not providers are wrapped in ``providers.Object``. Override before the
        components that use them are built (or call :meth:`reset`): built singletons are kept.

        Raises:
            LookupError: a path names no component.
        """
        from dependency_injector import providers

        wanted = {**(overrides or {}), **more}
        for path in wanted:
            self.provider(path)
        wrapped = {
            path: value if isinstance(value, providers.Provider) else providers.Object(value)
            for path, value in wanted.items()
        }
        return self._di.override_providers(**wrapped)

    def reset(self) -> None:
        """Forget every built component, so the next request builds it again (with current overrides)."""
        self._di.reset_singletons()
        self._built.clear()

    def __repr__(self) -> str:
        return f"<Container {self.source!r}: {', '.join(self.paths())}>"

    # ------------------------------------------------------------------ building

    def component(self, path: str) -> Any:
        """The built component at ``path``, building it (and what it references) on first use.

        Raises:
            LookupError: no component has that path.
            ConfigError: the component's factory failed (the message names its path).
        """
        return self.provider(path)()

    def built(self) -> dict[str, Any]:
        """The components built so far, by path (building nothing): what a command must close when it ends."""
        return dict(self._built)

    def runtime(self) -> Any:
        """The built agent runtime (``runtime:``; the in-process ``local`` runtime by default)."""
        return self.component("runtime")

    def components(self) -> dict[str, Any]:
        """Every configured component, built, by path in file order."""
        return {path: self.component(path) for path in self.paths()}

    def dump(self) -> dict[str, dict[str, Any]]:
        """``dump_component`` of every configured component, by path (secrets stay ``${NAME}``)."""
        return {path: dump_component(obj) for path, obj in self.components().items()}

    # ------------------------------------------------------------------ running

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Any]:
        """Start the runtime with every configured runtime agent registered; stop it on exit.

        Each agent whose class is a runtime agent (``salon.Agent``) is registered under its config key
        with a factory that builds a fresh instance inside the runtime's factory call (so
        ``BaseAgent`` learns its id); ``BaseAgent`` subclasses also get their class subscriptions.
        Then ``runtime.start()`` and the ``runtime_started`` hook; on exit the ``runtime_stopping``
        hook and ``stop_when_idle()`` (``stop()`` when the block raised).
        """
        runtime = self.runtime()
        if not any(started is runtime for started in self._started):
            await self._register_agents(runtime)
            self._started.append(runtime)
        if hasattr(runtime, "add_message_serializer"):
            for serializer in self.plugin_manager.message_serializers():
                runtime.add_message_serializer(serializer)
        runtime.start()
        hook = self.plugin_manager.hook
        try:
            hook.runtime_started(runtime=runtime)  # inside the try: a failing hook still stops the runtime
            yield runtime
        except BaseException:
            hook.runtime_stopping(runtime=runtime)
            if _is_running(runtime):
                try:
                    await runtime.stop()
                except Exception as e:  # the block's own error matters more; only the type is logged (no secrets)
                    logger.warning(
                        "%s: stopping the runtime after an error failed too: %s", self.source, type(e).__name__
                    )
            raise
        hook.runtime_stopping(runtime=runtime)
        if _is_running(runtime):
            await runtime.stop_when_idle()

    async def _register_agents(self, runtime: Any) -> None:
        from ._base_agent import BaseAgent

        for path, node in self._config.nodes.items():
            if node.kind != "agent":
                continue
            cls = self._agent_class(path)
            if cls is None:
                continue
            for dependency in node.dependencies():  # built now, never inside another agent's factory call
                self.provider(dependency)()
            factory = self._agent_factory(path)
            if issubclass(cls, BaseAgent):
                await cls.register(runtime, node.key, factory)
            else:
                await runtime.register_factory(node.key, factory)
            logger.debug("%s: registered agent type %s", self.source, node.key)

    def _agent_class(self, path: str) -> type | None:
        provider = self.provider(path)
        factory = self._config.nodes[path].spec.factory
        cls = factory if isinstance(factory, type) and not provider.overridden else type(provider())
        return cls if all(hasattr(cls, member) for member in _AGENT_MEMBERS) else None

    def _agent_factory(self, path: str) -> Callable[[], Any]:
        provider, fresh = self.provider(path), self._fresh[path]

        def factory() -> Any:
            return provider() if provider.overridden else fresh()

        return factory


def _construct_noted(built: dict[str, Any], node: Any, deps: Mapping[str, Any], problems: Any) -> Any:
    """Build a configured component and note it in ``built`` (keyed by path), for :meth:`Container.built`."""
    obj = construct(node, deps, problems)
    built[node.path] = obj
    return obj


def _is_running(runtime: Any) -> bool:
    stats = getattr(runtime, "stats", None)
    if callable(stats):
        with contextlib.suppress(Exception):
            return bool(stats().running)
    return True


def _dependency_order(config: ValidatedConfig) -> list[str]:
    """Every node path, each after the paths it depends on (the config has no cycles)."""
    order: list[str] = []
    done: set[str] = set()

    def visit(path: str) -> None:
        if path in done:
            return
        done.add(path)
        for dependency in config.all_nodes[path].dependencies():
            visit(dependency)
        order.append(path)

    for path in config.all_nodes:
        visit(path)
    return order
