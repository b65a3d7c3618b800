"""The name under which a kind of agent is registered on a runtime."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["AgentType"]


@dataclass(eq=True, frozen=True, slots=True)
class AgentType:
    r"""A registered agent type, as returned by ``register_factory``.

    Attributes:
        type: The type's name; it must match ``^[\\w\\-\\.]+\\Z``.
    """

    type: str
