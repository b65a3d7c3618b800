"""Topics: the address of a publish, ``(type, source)``."""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["TopicId", "is_valid_topic_type"]

_TOPIC_TYPE_RE = re.compile(r"^[\w\-\.\:\=]+\Z")


_known_valid: set[str] = set()  # topic types already validated; publishing re-uses a few types many times


def is_valid_topic_type(value: str) -> bool:
    """Return whether ``value`` is allowed as a topic type (letters, digits, ``_ - . : =``)."""
    if value in _known_valid:
        return True
    if not isinstance(value, str) or _TOPIC_TYPE_RE.match(value) is None:
        return False
    if len(_known_valid) > 4096:
        _known_valid.clear()
    _known_valid.add(value)
    return True


@dataclass(eq=False, frozen=True, slots=True)
class TopicId:
    r"""Where a message is published: the kind of event (``type``) and the context it belongs to (``source``).

    Subscriptions route on ``type``; the usual subscriptions use ``source`` as the key of the receiving
    agent, so one source (a conversation, a tenant) reaches one set of agent instances.

    Raises:
        ValueError: ``type`` does not match ``^[\\w\\-\\.\\:\\=]+\\Z``.
    """

    type: str
    source: str

    def __post_init__(self) -> None:
        if not is_valid_topic_type(self.type):
            raise ValueError(
                f"Invalid topic type: {self.type!r}. Allowed values MUST match the regex: `^[\\w\\-\\.\\:\\=]+\\Z` "
                "(letters, digits, '_', '-', '.', ':' and '=')."
            )
        if not isinstance(self.source, str):
            raise ValueError(f"Invalid topic source: {self.source!r}. The source must be a string.")

    def __eq__(self, other: object) -> bool:
        # Any TopicId with the same parts is equal, so DefaultTopicId() == TopicId("default", "default").
        if not isinstance(other, TopicId):
            return NotImplemented
        return self.type == other.type and self.source == other.source

    def __hash__(self) -> int:
        return hash((self.type, self.source))

    def __str__(self) -> str:
        return f"{self.type}/{self.source}"

    @classmethod
    def from_str(cls, topic_id: str) -> TopicId:
        """Parse ``"type/source"``; the source may itself contain ``/``.

        Raises:
            ValueError: the string has no ``/`` or its type part is invalid.
        """
        items = topic_id.split("/", maxsplit=1)
        if len(items) != 2:
            raise ValueError(f"Invalid topic id: {topic_id!r}. Expected 'type/source', for example 'default/chat1'.")
        return cls(items[0], items[1])
