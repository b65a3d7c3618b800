"""Small real agents for the team tests: scripted, failing, blocking, and a gated termination condition.

Test modules reach them through the ``kit`` fixture (``kit.ScriptedAgent(...)``), because plugin test folders
are not packages and a ``from conftest import ...`` breaks as soon as two plugins' tests run together.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from types import SimpleNamespace
from typing import Any

import pytest

from salon import CancellationToken
from salon_agentchat.agents import BaseChatAgent
from salon_agentchat.base import Response, TerminationCondition
from salon_agentchat.messages import BaseAgentEvent, BaseChatMessage, StopMessage, TextMessage


class Boom(Exception):
    """The failure the failing agent raises (a type of our own, to check it survives the team)."""


class ScriptedAgent(BaseChatAgent):
    """Answers ``"<name> #<n>"`` (or its scripted texts in turn) and records what it was given."""

    def __init__(self, name: str, replies: Sequence[str] = (), description: str | None = None) -> None:
        super().__init__(name, description or f"{name} answers with its name and a counter.")
        self.replies = list(replies)
        self.count = 0
        self.seen: list[list[str]] = []
        self.resets = 0
        self.pauses = 0
        self.resumes = 0

    @property
    def produced_message_types(self) -> Sequence[type[BaseChatMessage]]:
        return (TextMessage,)

    async def on_messages(self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken) -> Response:
        self.seen.append([m.to_text() for m in messages])
        text = self.replies[self.count] if self.count < len(self.replies) else f"{self.name} #{self.count + 1}"
        self.count += 1
        return Response(chat_message=TextMessage(content=text, source=self.name))

    async def on_reset(self, cancellation_token: CancellationToken) -> None:
        self.count = 0
        self.seen.clear()
        self.resets += 1

    async def on_pause(self, cancellation_token: CancellationToken) -> None:
        self.pauses += 1

    async def on_resume(self, cancellation_token: CancellationToken) -> None:
        self.resumes += 1

    async def save_state(self) -> Mapping[str, Any]:
        return {"count": self.count}

    async def load_state(self, state: Mapping[str, Any]) -> None:
        self.count = int(state["count"])


class FailingAgent(ScriptedAgent):
    """Raises :class:`Boom` on its ``fail_on``-th turn (1-based)."""

    def __init__(self, name: str, fail_on: int = 1) -> None:
        super().__init__(name)
        self.fail_on = fail_on

    async def on_messages(self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken) -> Response:
        if self.count + 1 == self.fail_on:
            self.count += 1
            raise Boom(f"{self.name} failed on turn {self.count}")
        return await super().on_messages(messages, cancellation_token)


class BlockingAgent(ScriptedAgent):
    """Waits for ``release`` (ignoring its cancellation token) once ``blocking`` is set; ``started`` tells when."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.blocking = True
        self.started = asyncio.Event()
        self.release = asyncio.Event()
        self.cancelled = 0

    async def on_messages(self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken) -> Response:
        if self.blocking:
            self.started.set()
            try:
                await self.release.wait()
            except asyncio.CancelledError:
                self.cancelled += 1
                raise
        return await super().on_messages(messages, cancellation_token)


class GatedTermination(TerminationCondition):
    """Stops after ``limit`` messages; while ``gate`` is closed each check waits (to cancel it mid-check)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.count = 0
        self.calls: list[list[str]] = []
        self.entered = asyncio.Event()
        self.gate = asyncio.Event()
        self.gate.set()
        self._terminated = False

    @property
    def terminated(self) -> bool:
        return self._terminated

    async def __call__(self, messages: Sequence[BaseAgentEvent | BaseChatMessage]) -> StopMessage | None:
        self.calls.append([m.to_text() for m in messages])
        self.entered.set()
        await self.gate.wait()
        self.count += len(messages)
        if self.count >= self.limit:
            self._terminated = True
            return StopMessage(content=f"gated limit {self.limit}", source="GatedTermination")
        return None

    async def reset(self) -> None:
        self.count = 0
        self._terminated = False


def texts(messages: Sequence[BaseAgentEvent | BaseChatMessage]) -> list[str]:
    """The text of each message, for compact assertions."""
    return [m.to_text() for m in messages]


@pytest.fixture
def trio() -> list[ScriptedAgent]:
    """Three scripted agents ``a``, ``b``, ``c``."""
    return [ScriptedAgent("a"), ScriptedAgent("b"), ScriptedAgent("c")]


@pytest.fixture(scope="session")
def kit() -> SimpleNamespace:
    """The helpers of this file, by name (classes only: nothing to reset between tests)."""
    return SimpleNamespace(
        Boom=Boom,
        ScriptedAgent=ScriptedAgent,
        FailingAgent=FailingAgent,
        BlockingAgent=BlockingAgent,
        GatedTermination=GatedTermination,
        texts=texts,
    )
