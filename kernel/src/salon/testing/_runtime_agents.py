"""Messages and agents used by the runtime conformance suite.

They live at module level (not inside tests) so that a distributed runtime can serialize the messages
and rebuild :class:`ConformanceError` on the caller's side: both are importable by name.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import CodeType, FrameType
from typing import Any, ClassVar

from salon import (
    AgentId,
    AgentInstantiationContext,
    CancellationToken,
    MessageContext,
    RoutedAgent,
    TopicId,
    message_handler,
)

__all__ = [
    "Boom",
    "ConformanceError",
    "Nap",
    "Note",
    "Ping",
    "PickyProbe",
    "Pong",
    "ProbeAgent",
    "Record",
    "Recorder",
    "SequentialProbeAgent",
    "Wait",
    "frames_running",
    "own_depth",
]


@dataclass
class Ping:
    """An RPC request; :class:`ProbeAgent` answers with a :class:`Pong` carrying the same text."""

    text: str


@dataclass
class Pong:
    """The answer to :class:`Ping`."""

    text: str


@dataclass
class Note:
    """A message with no answer, usually published."""

    text: str


@dataclass
class Boom:
    """Makes :class:`ProbeAgent` raise :class:`ConformanceError` with ``text``."""

    text: str


@dataclass
class Nap:
    """Makes :class:`ProbeAgent` sleep ``seconds`` (recording start and end) and answer ``tag``."""

    seconds: float
    tag: str = ""


@dataclass
class Wait:
    """Makes :class:`ProbeAgent` wait until the recorder's gate named ``gate`` opens, then answer ``gate``."""

    gate: str


class ConformanceError(Exception):
    """The exception the suite's handlers raise; importable, so its type survives a process boundary."""


@dataclass
class Record:
    """One thing an agent saw."""

    kind: str
    agent: AgentId
    text: str = ""
    sender: AgentId | None = None
    topic: TopicId | None = None
    is_rpc: bool | None = None
    message_id: str | None = None


@dataclass
class Recorder:
    """Collects what agents saw during one test, and gates that tests open to let handlers continue.

    A test creates one and hands it to the agents through their factory
    (``lambda: ProbeAgent(recorder)``, or :meth:`RuntimeHarness.host_agent`), so nothing leaks between
    tests. Agents hosted in another OS process get a subclass there that also writes ``records``,
    ``created`` and ``closed`` to storage both processes share, and whose :meth:`wait_gate` waits for a
    gate opened from the test's process; ``tokens``, ``gates``, ``shared`` and ``kept`` hold objects of
    the hosting process and are read only by the tests that run in one process.
    """

    records: list[Record] = field(default_factory=list)
    tokens: dict[str, CancellationToken] = field(default_factory=dict)
    created: list[AgentId] = field(default_factory=list)
    closed: list[AgentId] = field(default_factory=list)
    gates: dict[str, asyncio.Event] = field(default_factory=dict)
    shared: dict[str, asyncio.Future[Any]] = field(default_factory=dict)
    kept: list[Any] = field(default_factory=list)

    def add(self, record: Record) -> None:
        """Append ``record``."""
        self.records.append(record)

    def kinds(self, kind: str) -> list[Record]:
        """The records of one kind, in order."""
        return [r for r in self.records if r.kind == kind]

    def texts(self, kind: str) -> list[str]:
        """The texts of the records of one kind, in order."""
        return [r.text for r in self.records if r.kind == kind]

    def agents(self, kind: str) -> list[AgentId]:
        """The agents of the records of one kind, in order."""
        return [r.agent for r in self.records if r.kind == kind]

    def gate(self, name: str) -> asyncio.Event:
        """The event named ``name`` (created on first use)."""
        event = self.gates.get(name)
        if event is None:
            event = self.gates[name] = asyncio.Event()
        return event

    async def wait_gate(self, name: str) -> None:
        """Wait until the test opens the gate ``name`` (:meth:`RuntimeHarness.open_gate`).

        Agents wait through this method, not through :meth:`gate`, so that a recorder in another process
        can wait for a gate the test's process opens.
        """
        await self.gate(name).wait()


class ProbeAgent(RoutedAgent):
    """A routed agent that records what it receives; one handler per message kind of this module.

    Its state is the number of messages it handled, so state tests can see it survive a round trip.
    """

    def __init__(self, recorder: Recorder, description: str = "a probe agent") -> None:
        super().__init__(description)
        self.recorder = recorder
        self.count = 0
        if AgentInstantiationContext.is_in_factory_call():  # not when built by hand for register_agent_instance
            recorder.created.append(self.id)

    def _record(self, kind: str, ctx: MessageContext, text: str = "") -> None:
        self.count += 1
        self.recorder.add(
            Record(
                kind,
                self.id,
                text,
                sender=ctx.sender,
                topic=ctx.topic_id,
                is_rpc=ctx.is_rpc,
                message_id=ctx.message_id,
            )
        )

    @message_handler
    async def on_ping(self, message: Ping, ctx: MessageContext) -> Pong:
        """Answer with the same text."""
        self._record("ping", ctx, message.text)
        return Pong(message.text)

    @message_handler
    async def on_note(self, message: Note, ctx: MessageContext) -> None:
        """Record the note."""
        self._record("note", ctx, message.text)

    @message_handler
    async def on_boom(self, message: Boom, ctx: MessageContext) -> None:
        """Raise :class:`ConformanceError`."""
        self._record("boom", ctx, message.text)
        raise ConformanceError(message.text)

    def _watch_token(self, ctx: MessageContext, tag: str) -> None:
        """Keep the handler's token and record ``cancelled`` (tagged) the moment it is cancelled.

        The record lets a test see the cancellation wherever the agent runs; it does not count as a
        handled message (the state tests count those).
        """
        self.recorder.tokens[tag] = ctx.cancellation_token
        record = Record("cancelled", self.id, tag, sender=ctx.sender, is_rpc=ctx.is_rpc, message_id=ctx.message_id)
        ctx.cancellation_token.add_callback(lambda: self.recorder.add(record))

    @message_handler
    async def on_nap(self, message: Nap, ctx: MessageContext) -> str:
        """Sleep, recording when the nap starts and ends."""
        self._watch_token(ctx, message.tag)
        self._record("start", ctx, message.tag)
        await asyncio.sleep(message.seconds)
        self._record("end", ctx, message.tag)
        return message.tag

    @message_handler
    async def on_wait(self, message: Wait, ctx: MessageContext) -> str:
        """Wait for a gate the test opens; records ``waiting`` first and ``passed`` after."""
        self._watch_token(ctx, message.gate)
        self._record("waiting", ctx, message.gate)
        await self.recorder.wait_gate(message.gate)
        self._record("passed", ctx, message.gate)
        return message.gate

    async def save_state(self) -> Mapping[str, Any]:
        """Return ``{"count": n}``."""
        return {"count": self.count}

    async def load_state(self, state: Mapping[str, Any]) -> None:
        """Restore the count."""
        self.count = int(state["count"])

    async def close(self) -> None:
        """Record that the runtime closed this agent."""
        self.recorder.closed.append(self.id)


class PickyProbe(ProbeAgent):
    """A :class:`ProbeAgent` whose construction fails for the key ``"bad"``: a factory that raises."""

    def __init__(self, recorder: Recorder, description: str = "a picky probe") -> None:
        super().__init__(recorder, description)
        if self.id.key == "bad":
            raise ConformanceError("factory refused")


class SequentialProbeAgent(ProbeAgent):
    """A :class:`ProbeAgent` that opts into Salon's one-message-at-a-time processing (DESIGN.md §5.5)."""

    sequential: ClassVar[bool] = True


def frames_running(code: CodeType) -> int:
    """Count the frames running ``code`` on the caller's call stack (the caller's own frame included).

    A handler that finds its own code more than once on its stack was run from inside another
    activation of itself: the runtime recursed instead of queueing. A handler that finds the code of
    the function that sent or published its message was run inside the caller's call.
    """
    count = 0
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        if frame.f_code is code:
            count += 1
        frame = frame.f_back
    return count


def own_depth() -> int:
    """How many activations of the calling function's code are on the stack (1 unless it recursed)."""
    caller = sys._getframe(1)
    count = 0
    frame: FrameType | None = caller
    while frame is not None:
        if frame.f_code is caller.f_code:
            count += 1
        frame = frame.f_back
    return count
