"""The topic most applications publish to."""

from __future__ import annotations

from ._message_handler_context import _HANDLING_AGENT
from ._topic import TopicId

__all__ = ["DefaultTopicId"]


class DefaultTopicId(TopicId):
    """``TopicId("default", source)`` whose source defaults to the current agent's key.

    Inside a message handler the source is the handling agent's key, so a publish stays within the
    same conversation; elsewhere it is ``"default"``.

    Args:
        type: Topic type, ``"default"`` unless given.
        source: Topic source; ``None`` picks it as described above.
    """

    __slots__ = ()

    def __init__(self, type: str = "default", source: str | None = None) -> None:
        if source is None:
            agent_id = _HANDLING_AGENT.get(None)
            source = agent_id.key if agent_id is not None else "default"
        super().__init__(type, source)
