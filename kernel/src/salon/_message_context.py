"""What a handler is told about the message it is handling."""

from __future__ import annotations

from dataclasses import dataclass

from ._agent_id import AgentId
from ._cancellation_token import CancellationToken
from ._topic import TopicId

__all__ = ["MessageContext"]


@dataclass(slots=True)
class MessageContext:
    """Context passed to every message handler.

    Attributes:
        sender: The sending agent, or ``None`` when the message came from outside any agent.
        topic_id: The topic of a published message; ``None`` for a direct message.
        is_rpc: ``True`` when the sender awaits a response (``send_message``).
        cancellation_token: Cancelled when the sender gives up; handlers should honour it.
        message_id: Unique id of this message.

    The context of a published message is shared by all its recipients: treat it as read-only.
    """

    sender: AgentId | None
    topic_id: TopicId | None
    is_rpc: bool
    cancellation_token: CancellationToken
    message_id: str
