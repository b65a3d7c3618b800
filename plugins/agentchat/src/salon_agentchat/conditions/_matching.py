"""Conditions that fire on one message: its text, type, source, handoff target or tool call."""

from __future__ import annotations

from collections.abc import Sequence

from ..base import TerminationCondition
from ..messages import (
    BaseAgentEvent,
    BaseChatMessage,
    HandoffMessage,
    StopMessage,
    TextMessage,
    ToolCallExecutionEvent,
)

__all__ = [
    "FunctionCallTermination",
    "HandoffTermination",
    "SourceMatchTermination",
    "StopMessageTermination",
    "TextMentionTermination",
    "TextMessageTermination",
]


class _OneShot(TerminationCondition):
    """A condition that fires on the first matching message and stays fired until reset."""

    def __init__(self) -> None:
        self._terminated = False

    @property
    def terminated(self) -> bool:
        return self._terminated

    async def reset(self) -> None:
        self._terminated = False

    def _fire(self, content: str) -> StopMessage:
        self._terminated = True
        return StopMessage(content=content, source=type(self).__name__)


class StopMessageTermination(_OneShot):
    """Fires when an agent sends a :class:`~salon_agentchat.messages.StopMessage`."""

    async def __call__(self, messages: Sequence[BaseAgentEvent | BaseChatMessage]) -> StopMessage | None:
        if self._terminated:
            raise self._already_terminated()
        for message in messages:
            if isinstance(message, StopMessage):
                return self._fire("Stop message received")
        return None

    def __repr__(self) -> str:
        return "StopMessageTermination()"


class TextMentionTermination(_OneShot):
    """Fires when a message's text (:meth:`~salon_agentchat.messages.BaseMessage.to_text`) contains ``text``.

    Events count too, so a tool result or thought that mentions the text also ends the conversation.

    Args:
        text: The text to look for (case-sensitive substring).
        sources: Look only at messages from these agents; None: from anyone.
    """

    def __init__(self, text: str, sources: Sequence[str] | None = None) -> None:
        super().__init__()
        self._termination_text = text
        self._sources = sources

    async def __call__(self, messages: Sequence[BaseAgentEvent | BaseChatMessage]) -> StopMessage | None:
        if self._terminated:
            raise self._already_terminated()
        for message in messages:
            if self._sources is not None and message.source not in self._sources:
                continue
            if self._termination_text in message.to_text():
                return self._fire(f"Text '{self._termination_text}' mentioned")
        return None

    def __repr__(self) -> str:
        sources = "" if self._sources is None else f", sources={list(self._sources)!r}"
        return f"TextMentionTermination(text={self._termination_text!r}{sources})"


class HandoffTermination(_OneShot):
    """Fires when an agent hands off to ``target`` (typically ``"user"``, to hand control back to the caller).

    Args:
        target: The handoff target to watch for.
    """

    def __init__(self, target: str) -> None:
        super().__init__()
        self._target = target

    async def __call__(self, messages: Sequence[BaseAgentEvent | BaseChatMessage]) -> StopMessage | None:
        if self._terminated:
            raise self._already_terminated()
        for message in messages:
            if isinstance(message, HandoffMessage) and message.target == self._target:
                return self._fire(f"Handoff to {self._target} from {message.source} detected.")
        return None

    def __repr__(self) -> str:
        return f"HandoffTermination(target={self._target!r})"


class SourceMatchTermination(_OneShot):
    """Fires as soon as any of ``sources`` has produced a message or event.

    Args:
        sources: Agent names.
    """

    def __init__(self, sources: list[str]) -> None:
        super().__init__()
        self._sources = sources

    async def __call__(self, messages: Sequence[BaseAgentEvent | BaseChatMessage]) -> StopMessage | None:
        if self._terminated:
            raise self._already_terminated()
        for message in messages:
            if message.source in self._sources:
                return self._fire(f"'{message.source}' answered")
        return None

    def __repr__(self) -> str:
        return f"SourceMatchTermination(sources={list(self._sources)!r})"


class TextMessageTermination(_OneShot):
    """Fires on a :class:`~salon_agentchat.messages.TextMessage` (from ``source``, or from anyone).

    Useful with agents that loop over tools: their final text answer ends the run.

    Args:
        source: Only text messages from this agent count; None: from anyone.
    """

    def __init__(self, source: str | None = None) -> None:
        super().__init__()
        self._source = source

    async def __call__(self, messages: Sequence[BaseAgentEvent | BaseChatMessage]) -> StopMessage | None:
        if self._terminated:
            raise self._already_terminated()
        for message in messages:
            if isinstance(message, TextMessage) and (self._source is None or message.source == self._source):
                return self._fire(f"Text message received from '{message.source}'")
        return None

    def __repr__(self) -> str:
        return (
            "TextMessageTermination()" if self._source is None else f"TextMessageTermination(source={self._source!r})"
        )


class FunctionCallTermination(_OneShot):
    """Fires when a tool named ``function_name`` has run (seen in a ``ToolCallExecutionEvent``).

    Args:
        function_name: The tool's name.
    """

    def __init__(self, function_name: str) -> None:
        super().__init__()
        self._function_name = function_name

    async def __call__(self, messages: Sequence[BaseAgentEvent | BaseChatMessage]) -> StopMessage | None:
        if self._terminated:
            raise self._already_terminated()
        for message in messages:
            if isinstance(message, ToolCallExecutionEvent) and any(
                result.name == self._function_name for result in message.content
            ):
                return self._fire(f"Function '{self._function_name}' was executed.")
        return None

    def __repr__(self) -> str:
        return f"FunctionCallTermination(function_name={self._function_name!r})"
