"""The address of one agent instance: ``(type, key)``."""

from __future__ import annotations

import re
from typing import Any

from ._agent_type import AgentType

__all__ = ["AgentId", "is_valid_agent_type"]

_AGENT_TYPE_RE = re.compile(r"^[\w\-\.]+\Z")


def is_valid_agent_type(value: str) -> bool:
    """Return whether ``value`` is allowed as an agent type (letters, digits, ``_``, ``-`` and ``.``)."""
    return isinstance(value, str) and _AGENT_TYPE_RE.match(value) is not None


class AgentId:
    r"""Identifies one agent instance: the registered type plus a key (the instance within the type).

    Instances are immutable, hashable and compare by value. The key may be any string; the type must
    match ``^[\\w\\-\\.]+\\Z`` because it is also used in topic names and on the wire.

    Args:
        type: The agent type, as a string or an :class:`AgentType`.
        key: Which instance of that type.

    Raises:
        ValueError: ``type`` is not a valid agent type.
    """

    __slots__ = ("_key", "_type")

    _type: str
    _key: str

    def __init__(self, type: str | AgentType, key: str) -> None:
        if isinstance(type, AgentType):
            type = type.type
        if not is_valid_agent_type(type):
            raise ValueError(
                f"Invalid agent type: {type!r}. Allowed values MUST match the regex: `^[\\w\\-\\.]+\\Z` "
                "(letters, digits, '_', '-' and '.')."
            )
        if not isinstance(key, str):
            raise ValueError(f"Invalid agent key: {key!r}. The key must be a string, got {_type_name(key)}.")
        object.__setattr__(self, "_type", type)
        object.__setattr__(self, "_key", key)

    @classmethod
    def _trusted(cls, type: str, key: str) -> AgentId:
        """Build an id from parts that were already validated (the runtime's hot path)."""
        self = object.__new__(cls)
        object.__setattr__(self, "_type", type)
        object.__setattr__(self, "_key", key)
        return self

    @classmethod
    def from_str(cls, agent_id: str) -> AgentId:
        """Parse ``"type/key"``; the key may itself contain ``/``.

        Raises:
            ValueError: the string has no ``/`` or its type part is invalid.
        """
        items = agent_id.split("/", maxsplit=1)
        if len(items) != 2:
            raise ValueError(f"Invalid agent id: {agent_id!r}. Expected 'type/key', for example 'writer/default'.")
        return cls(items[0], items[1])

    @property
    def type(self) -> str:
        """The agent type."""
        return self._type

    @property
    def key(self) -> str:
        """The instance key within the type."""
        return self._key

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("AgentId is immutable")

    def __hash__(self) -> int:
        return hash((self._type, self._key))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, AgentId):
            return False
        return self._type == other._type and self._key == other._key

    def __str__(self) -> str:
        return f"{self._type}/{self._key}"

    def __repr__(self) -> str:
        return f'AgentId(type="{self._type}", key="{self._key}")'

    def __reduce__(self) -> tuple[Any, ...]:
        return (AgentId, (self._type, self._key))


def _type_name(value: object) -> str:
    return type(value).__name__
