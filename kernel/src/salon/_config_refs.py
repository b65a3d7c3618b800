"""Markers that let an options model point at other components, and the config's section names.

This module is imported by plugins' option models (``Annotated[str, Ref("model_client")]``), often
lazily, so it stays free of pydantic, YAML and dependency-injector at import time: the markers are
plain frozen dataclasses that pydantic carries along in ``FieldInfo.metadata``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._component_registry import COMPONENT_KINDS

if TYPE_CHECKING:
    from pydantic import GetJsonSchemaHandler
    from pydantic_core import CoreSchema

__all__ = [
    "Ref",
    "Inline",
    "SECTION_KINDS",
    "SINGLE_SECTIONS",
    "KIND_SECTIONS",
    "kind_label",
    "a_kind",
    "INLINE_SCHEMA_KEY",
]

#: Mapping sections of a config file (``name -> {use, options}``) and the component kind of each entry.
SECTION_KINDS: dict[str, str] = {
    "model_clients": "model_client",
    "cache_stores": "cache_store",
    "code_executors": "code_executor",
    "workbenches": "workbench",
    "tools": "tool",
    "memories": "memory",
    "model_contexts": "model_context",
    "agents": "agent",
}

#: Sections that hold one component (``{use, options}``) rather than a mapping of named ones.
SINGLE_SECTIONS: dict[str, str] = {"runtime": "runtime", "team": "team_strategy"}

#: Kind -> the section that defines components of that kind by name (kinds without one cannot be referenced).
KIND_SECTIONS: dict[str, str] = {kind: section for section, kind in {**SECTION_KINDS, **SINGLE_SECTIONS}.items()}

#: JSON Schema keyword that marks an inline component field until the whole-file schema resolves it.
INLINE_SCHEMA_KEY = "x-salon-inline"


def kind_label(kind: str) -> str:
    """``"model_client"`` -> ``"model client"``, for messages people read."""
    return kind.replace("_", " ")


def a_kind(kind: str) -> str:
    """``"agent"`` -> ``"an agent"``, ``"model_client"`` -> ``"a model client"``."""
    label = kind_label(kind)
    return ("an " if label[:1] in "aeiou" else "a ") + label


def _check_kind(kind: str) -> None:
    if kind not in COMPONENT_KINDS:
        raise ValueError(f"Unknown component kind {kind!r}; known kinds: {', '.join(COMPONENT_KINDS)}.")


@dataclass(frozen=True)
class Ref:
    """Marks an option as the name of another component of ``kind`` defined in the same config.

    Use it in ``typing.Annotated`` on a ``str`` field, alone or inside ``list[...]``/``dict[str, ...]``::

        model_client: Annotated[str, Ref("model_client")]
        participants: list[Annotated[str, Ref("agent")]]

    The config names the component (``model_client: gpt``); the container validates that ``gpt`` is
    defined under ``model_clients`` and hands the factory the built object instead of the name. Dumps
    write the name back, so a config round-trips.

    Args:
        kind: A key of :data:`~salon.COMPONENT_KINDS` that has a config section.
    """

    kind: str

    def __post_init__(self) -> None:
        _check_kind(self.kind)

    def __get_pydantic_json_schema__(self, core_schema: CoreSchema, handler: GetJsonSchemaHandler) -> dict[str, Any]:
        """Describe the field in JSON Schema as the name of a component (editors show it on hover)."""
        schema = dict(handler(core_schema))
        section = KIND_SECTIONS.get(self.kind, "")
        schema.setdefault("description", f"The name of {a_kind(self.kind)} defined under {section}.")
        schema["x-salon-ref"] = self.kind
        return schema


@dataclass(frozen=True)
class Inline:
    """Marks an option whose value is a component written in place, not a name.

    The value is ``{use: NAME, options: {...}}``, or ``{any: [...]}`` / ``{all: [...]}`` whose items are
    again inline components (nestable); ``any`` combines the built objects with ``|`` and ``all`` with
    ``&``, which is the termination-condition algebra::

        termination: Annotated[Any, Inline("termination_condition")] = None

    Args:
        kind: A key of :data:`~salon.COMPONENT_KINDS`; each ``use:`` names a component of that kind.
    """

    kind: str

    def __post_init__(self) -> None:
        _check_kind(self.kind)

    def __get_pydantic_json_schema__(self, core_schema: CoreSchema, handler: GetJsonSchemaHandler) -> dict[str, Any]:
        """Mark the field; :func:`~salon.config_json_schema` replaces the mark with the real schema."""
        return {
            "description": f"An inline {kind_label(self.kind)}: {{use, options}}, or {{any: [...]}} / {{all: [...]}}.",
            INLINE_SCHEMA_KEY: self.kind,
        }
