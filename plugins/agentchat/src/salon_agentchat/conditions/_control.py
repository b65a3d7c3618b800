"""Conditions driven from outside the conversation: a clock, the caller, or a function of theirs."""

from __future__ import annotations

import inspect
import time
from collections.abc import Awaitable, Callable, Sequence

from ..base import TerminationCondition
from ..messages import BaseAgentEvent, BaseChatMessage, StopMessage

__all__ = ["ExternalTermination", "FunctionalTermination", "TimeoutTermination"]


class TimeoutTermination(TerminationCondition):
    """Fires on the first call after ``timeout_seconds`` have passed.

    The clock starts when the condition is made and restarts on :meth:`reset`. It is only looked at when
    the team calls the condition (after each agent's turn), so a long turn is not interrupted.

    Args:
        timeout_seconds: Seconds until the conversation should stop.
    """

    def __init__(self, timeout_seconds: float) -> None:
        self._timeout_seconds = timeout_seconds
        self._start_time = time.monotonic()
        self._terminated = False

    @property
    def terminated(self) -> bool:
        return self._terminated

    async def __call__(self, messages: Sequence[BaseAgentEvent | BaseChatMessage]) -> StopMessage | None:
        if self._terminated:
            raise self._already_terminated()
        if time.monotonic() - self._start_time >= self._timeout_seconds:
            self._terminated = True
            return StopMessage(
                content=f"Timeout of {self._timeout_seconds} seconds reached", source="TimeoutTermination"
            )
        return None

    async def reset(self) -> None:
        self._start_time = time.monotonic()
        self._terminated = False

    def __repr__(self) -> str:
        return f"TimeoutTermination(timeout_seconds={self._timeout_seconds})"


class ExternalTermination(TerminationCondition):
    """Fires on the first call after :meth:`set`, so a UI's stop button can end a run between turns.

    Unlike cancelling, this lets the agent in progress finish its turn.
    """

    def __init__(self) -> None:
        self._terminated = False
        self._setted = False

    @property
    def terminated(self) -> bool:
        return self._terminated

    def set(self) -> None:
        """Ask the conversation to stop at the next check."""
        self._setted = True

    async def __call__(self, messages: Sequence[BaseAgentEvent | BaseChatMessage]) -> StopMessage | None:
        if self._terminated:
            raise self._already_terminated()
        if self._setted:
            self._terminated = True
            return StopMessage(content="External termination requested", source="ExternalTermination")
        return None

    async def reset(self) -> None:
        self._terminated = False
        self._setted = False

    def __repr__(self) -> str:
        return "ExternalTermination(set)" if self._setted else "ExternalTermination()"


TerminationFunction = (
    Callable[[Sequence[BaseAgentEvent | BaseChatMessage]], bool]
    | Callable[[Sequence[BaseAgentEvent | BaseChatMessage]], Awaitable[bool]]
)


class FunctionalTermination(TerminationCondition):
    """Fires when ``func(new_messages)`` returns True (exactly ``True``; other truthy values do not count).

    Python-only: a function cannot be named in a config file.

    Args:
        func: A plain or async function of the messages since the previous call.
    """

    def __init__(self, func: TerminationFunction) -> None:
        self._func = func
        self._terminated = False

    @property
    def terminated(self) -> bool:
        return self._terminated

    async def __call__(self, messages: Sequence[BaseAgentEvent | BaseChatMessage]) -> StopMessage | None:
        if self._terminated:
            raise self._already_terminated()
        result = self._func(messages)
        if inspect.isawaitable(result):
            result = await result
        if result is True:
            self._terminated = True
            return StopMessage(content="Functional termination condition met", source="FunctionalTermination")
        return None

    async def reset(self) -> None:
        self._terminated = False

    def __repr__(self) -> str:
        return f"FunctionalTermination({getattr(self._func, '__qualname__', repr(self._func))})"
