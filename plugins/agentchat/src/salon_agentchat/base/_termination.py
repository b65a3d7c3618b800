"""Termination conditions: when a team's conversation should stop.

A condition is stateful and sees the conversation in deltas: each call gets only the messages produced
since the previous call. Once it fires it stays fired (:attr:`TerminationCondition.terminated`) and
refuses further calls until :meth:`~TerminationCondition.reset`. Conditions combine with ``|`` (either
fires) and ``&`` (both have fired, not necessarily on the same call).
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Sequence

from ..messages import BaseAgentEvent, BaseChatMessage, StopMessage

__all__ = ["AndTerminationCondition", "OrTerminationCondition", "TerminatedException", "TerminationCondition"]


class TerminatedException(BaseException):
    """A condition was called after it had already fired (reset it first).

    A ``BaseException``, as in AutoGen, so that ``except Exception`` in agent code does not swallow it.
    """


class TerminationCondition(ABC):
    """Decides, from the messages since its last call, whether the conversation is over.

    Example::

        stop = MaxMessageTermination(10) | TextMentionTermination("TERMINATE")
        both = MaxMessageTermination(10) & TextMentionTermination("TERMINATE")
    """

    @property
    @abstractmethod
    def terminated(self) -> bool:
        """Whether the condition has fired (and needs :meth:`reset` before it is called again)."""

    @abstractmethod
    async def __call__(self, messages: Sequence[BaseAgentEvent | BaseChatMessage]) -> StopMessage | None:
        """Look at the messages produced since the previous call.

        Returns:
            A :class:`StopMessage` saying why, when the conversation should stop; else None.

        Raises:
            TerminatedException: the condition had already fired.
        """

    @abstractmethod
    async def reset(self) -> None:
        """Forget what was seen, so the condition can be used for another run."""

    def __and__(self, other: TerminationCondition) -> TerminationCondition:
        return AndTerminationCondition(self, other)

    def __or__(self, other: TerminationCondition) -> TerminationCondition:
        return OrTerminationCondition(self, other)

    def _already_terminated(self) -> TerminatedException:
        return TerminatedException(f"{self!r} has already been reached; call reset() before using it again.")


def _operand(condition: TerminationCondition) -> str:
    text = repr(condition)
    return f"({text})" if isinstance(condition, (AndTerminationCondition, OrTerminationCondition)) else text


class AndTerminationCondition(TerminationCondition):
    """Fires once every part has fired, each on whichever call it fired on.

    Parts that have fired are no longer called; the stop message joins the parts' reasons.
    """

    def __init__(self, *conditions: TerminationCondition) -> None:
        self._conditions = conditions
        self._stop_messages: list[StopMessage] = []

    @property
    def conditions(self) -> tuple[TerminationCondition, ...]:
        """The combined parts."""
        return self._conditions

    @property
    def terminated(self) -> bool:
        return all(condition.terminated for condition in self._conditions)

    async def __call__(self, messages: Sequence[BaseAgentEvent | BaseChatMessage]) -> StopMessage | None:
        if self.terminated:
            raise self._already_terminated()
        pending = [condition for condition in self._conditions if not condition.terminated]
        results = await asyncio.gather(*(condition(messages) for condition in pending))
        self._stop_messages.extend(result for result in results if result is not None)
        if any(result is None for result in results):
            return None
        return StopMessage(
            content=", ".join(stop.content for stop in self._stop_messages),
            source=", ".join(stop.source for stop in self._stop_messages),
        )

    async def reset(self) -> None:
        for condition in self._conditions:
            await condition.reset()
        self._stop_messages.clear()

    def __repr__(self) -> str:
        return " & ".join(_operand(condition) for condition in self._conditions)


class OrTerminationCondition(TerminationCondition):
    """Fires as soon as any part fires; the stop message joins the reasons of all parts that fired on that call."""

    def __init__(self, *conditions: TerminationCondition) -> None:
        self._conditions = conditions

    @property
    def conditions(self) -> tuple[TerminationCondition, ...]:
        """The combined parts."""
        return self._conditions

    @property
    def terminated(self) -> bool:
        return any(condition.terminated for condition in self._conditions)

    async def __call__(self, messages: Sequence[BaseAgentEvent | BaseChatMessage]) -> StopMessage | None:
        if self.terminated:
            raise self._already_terminated()
        results = await asyncio.gather(*(condition(messages) for condition in self._conditions))
        fired = [result for result in results if result is not None]
        if not fired:
            return None
        return StopMessage(
            content=", ".join(stop.content for stop in fired),
            source=", ".join(stop.source for stop in fired),
        )

    async def reset(self) -> None:
        for condition in self._conditions:
            await condition.reset()

    def __repr__(self) -> str:
        return " | ".join(_operand(condition) for condition in self._conditions)
