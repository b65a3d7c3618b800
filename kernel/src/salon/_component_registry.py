"""Components that plugins registered, by kind and name."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

__all__ = ["COMPONENT_KINDS", "ComponentSpec", "ComponentRegistry", "DuplicateComponentError", "UnknownComponentError"]

#: Kind -> the ``register_*`` hook that fills it.
COMPONENT_KINDS: dict[str, str] = {
    "runtime": "register_runtimes",
    "model_client": "register_model_clients",
    "cache_store": "register_cache_stores",
    "code_executor": "register_code_executors",
    "workbench": "register_workbenches",
    "tool": "register_tools",
    "memory": "register_memories",
    "model_context": "register_model_contexts",
    "agent": "register_agents",
    "team_strategy": "register_team_strategies",
    "termination_condition": "register_termination_conditions",
    "message_serializer": "register_message_serializers",
}


class DuplicateComponentError(ValueError):
    """Two plugins registered the same component name for the same kind."""


class UnknownComponentError(LookupError):
    """No plugin registered a component of that kind and name."""


@dataclass
class ComponentSpec:
    """One registered component.

    Attributes:
        kind: One of :data:`COMPONENT_KINDS`.
        name: What a config's ``use:`` says.
        factory: Builds the component from its validated options, as keyword arguments.
        description: One line for ``salon plugins``.
        plugin: The name of the plugin that registered it.
        distribution: The distribution that provides the plugin (``"salon"`` for built-ins).
        version: That distribution's version.
    """

    kind: str
    name: str
    factory: Callable[..., Any]
    options_source: Any = None
    description: str = ""
    plugin: str = ""
    distribution: str = ""
    version: str = ""
    _options_model: Any = field(default=None, repr=False)

    @property
    def options_model(self) -> Any:
        """The pydantic model class of the options, or ``None``; resolved (imported) on first use."""
        if self._options_model is None and self.options_source is not None:
            source = self.options_source
            is_model_class = isinstance(source, type) and hasattr(source, "model_validate")
            self._options_model = source if is_model_class else source()
        return self._options_model


class ComponentRegistry:
    """Registered components, keyed by kind and name; owned by one plugin manager."""

    def __init__(self) -> None:
        self._specs: dict[str, dict[str, ComponentSpec]] = {kind: {} for kind in COMPONENT_KINDS}

    def add(self, spec: ComponentSpec) -> None:
        """Add ``spec``.

        Raises:
            DuplicateComponentError: the name is taken for that kind; the message names both distributions.
            ValueError: the kind is unknown.
        """
        if spec.kind not in self._specs:
            raise ValueError(f"Unknown component kind {spec.kind!r}; known kinds: {', '.join(self._specs)}.")
        existing = self._specs[spec.kind].get(spec.name)
        if existing is not None:
            raise DuplicateComponentError(
                f"{spec.kind.replace('_', ' ')} {spec.name!r} is registered twice: by plugin {existing.plugin!r} "
                f"(distribution {existing.distribution or '?'}) and by plugin {spec.plugin!r} (distribution "
                f"{spec.distribution or '?'}). Uninstall one, or choose which plugins load with the config's "
                "`plugins:` list or SALON_LOAD_PLUGINS."
            )
        self._specs[spec.kind][spec.name] = spec

    def get(self, kind: str, name: str) -> ComponentSpec:
        """Return the component ``name`` of ``kind``.

        Raises:
            UnknownComponentError: nothing of that kind has that name; the message lists what does.
        """
        try:
            return self._specs[kind][name]
        except KeyError:
            known = ", ".join(sorted(self._specs.get(kind, {}))) or "none"
            raise UnknownComponentError(
                f"Unknown {kind.replace('_', ' ')} {name!r}. Installed: {known}. "
                "Install the plugin that provides it (see `salon plugins`)."
            ) from None

    def names(self, kind: str) -> list[str]:
        """Registered names of ``kind``, sorted."""
        return sorted(self._specs[kind])

    def __iter__(self) -> Iterator[ComponentSpec]:
        for specs in self._specs.values():
            yield from specs.values()
