"""RoundRobinGroupChat on a runtime of the caller's: shared by several teams, and with every message on the wire.

A runtime that spreads agents over processes serializes every message between the manager and the
containers. The "wire" runtime below does the same in one process: an intervention handler encodes each
message with the serializers the team registered through ``add_message_serializer`` (and only those) and
delivers the decoded copy, so anything not registered, not serializable or not rebuilt faithfully fails.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

import pytest

from salon import (
    AgentId,
    DefaultInterventionHandler,
    DropMessage,
    MessageContext,
    MessageSerializer,
    SerializationRegistry,
    SingleThreadedAgentRuntime,
)
from salon.exceptions import RemoteException
from salon.models import ReplayChatCompletionClient
from salon_agentchat.agents import AssistantAgent
from salon_agentchat.conditions import MaxMessageTermination
from salon_agentchat.group_chat import GroupChatError, GroupChatStart, SerializableException
from salon_agentchat.messages import StructuredMessage, TextMessage
from salon_teams import RoundRobinGroupChat


class _Wire(DefaultInterventionHandler):
    def __init__(self, registry: SerializationRegistry) -> None:
        self.registry = registry
        self.seen: list[str] = []

    def _roundtrip(self, message: Any) -> Any:
        type_name = self.registry.type_name(message)
        self.seen.append(type_name)
        payload = self.registry.serialize(message, type_name=type_name, data_content_type="application/json")
        return self.registry.deserialize(payload, type_name=type_name, data_content_type="application/json")

    async def on_send(self, message: Any, *, message_context: MessageContext, recipient: AgentId) -> Any:
        return self._roundtrip(message)

    async def on_publish(self, message: Any, *, message_context: MessageContext) -> Any | type[DropMessage]:
        return self._roundtrip(message)


class WireRuntime(SingleThreadedAgentRuntime):
    """A runtime that delivers only what survives JSON, using the serializers registered with it."""

    def __init__(self) -> None:
        self.registry = SerializationRegistry()
        self.wire = _Wire(self.registry)
        super().__init__(intervention_handlers=[self.wire])

    def add_message_serializer(self, serializer: MessageSerializer[Any] | Sequence[MessageSerializer[Any]]) -> None:
        self.registry.add_serializer(serializer)
        super().add_message_serializer(serializer)


async def test_two_teams_share_one_runtime_without_crosstalk(kit: SimpleNamespace) -> None:
    runtime = SingleThreadedAgentRuntime()
    runtime.start()
    try:
        first = RoundRobinGroupChat([kit.ScriptedAgent("a"), kit.ScriptedAgent("b")], max_turns=3, runtime=runtime)
        second = RoundRobinGroupChat([kit.ScriptedAgent("a"), kit.ScriptedAgent("b")], max_turns=2, runtime=runtime)
        one, two = await asyncio.wait_for(asyncio.gather(first.run(task="one"), second.run(task="two")), timeout=5)
    finally:
        await runtime.stop_when_idle()
    assert kit.texts(one.messages) == ["one", "a #1", "b #1", "a #2"]
    assert kit.texts(two.messages) == ["two", "a #1", "b #1"]


async def test_a_runtime_that_is_not_started_is_refused_instead_of_hanging(kit: SimpleNamespace) -> None:
    runtime = SingleThreadedAgentRuntime()
    team = RoundRobinGroupChat([kit.ScriptedAgent("a")], max_turns=1, runtime=runtime)
    with pytest.raises(RuntimeError, match=r"call runtime\.start\(\) before running the team"):
        await team.run(task="go")
    runtime.start()
    try:
        assert kit.texts((await asyncio.wait_for(team.run(task="go"), timeout=5)).messages) == ["go", "a #1"]
    finally:
        await runtime.stop_when_idle()


async def test_every_message_of_a_run_survives_the_wire(kit: SimpleNamespace) -> None:
    runtime = WireRuntime()
    runtime.start()
    try:
        team = RoundRobinGroupChat(
            [kit.ScriptedAgent("a"), kit.ScriptedAgent("b")],
            termination_condition=MaxMessageTermination(4),
            runtime=runtime,
            emit_team_events=True,
        )
        result = await asyncio.wait_for(team.run(task="go"), timeout=5)
        assert [m.to_text() for m in result.messages if isinstance(m, TextMessage)] == ["go", "a #1", "b #1", "a #2"]
        result = await asyncio.wait_for(team.run(), timeout=5)
        assert [m.to_text() for m in result.messages if isinstance(m, TextMessage)] == ["b #2", "a #3", "b #3", "a #4"]
        await team.reset()
        await team.pause()
        await team.resume()
    finally:
        await runtime.stop_when_idle()
    assert {
        "GroupChatStart",
        "GroupChatRequestPublish",
        "GroupChatMessage",
        "GroupChatAgentResponse",
        "GroupChatTermination",
        "GroupChatReset",
        "GroupChatPause",
        "GroupChatResume",
    } <= set(runtime.wire.seen)


async def test_a_nested_team_and_assistant_agents_over_the_wire(kit: SimpleNamespace) -> None:
    runtime = WireRuntime()
    runtime.start()
    try:
        inner = RoundRobinGroupChat([kit.ScriptedAgent("x")], name="inner", max_turns=1)
        writer = AssistantAgent("writer", model_client=ReplayChatCompletionClient(["draft", "final"]))
        team = RoundRobinGroupChat([writer, inner], max_turns=3, runtime=runtime)
        result = await asyncio.wait_for(team.run(task="go"), timeout=5)
    finally:
        await runtime.stop_when_idle()
    assert kit.texts(result.messages) == ["go", "draft", "x #1", "final"]
    assert "GroupChatTeamResponse" in runtime.wire.seen


async def test_a_failure_over_the_wire_keeps_its_type_when_the_class_is_known_here(kit: SimpleNamespace) -> None:
    runtime = WireRuntime()
    runtime.start()
    try:
        team = RoundRobinGroupChat([kit.FailingAgent("a")], max_turns=2, runtime=runtime)
        with pytest.raises(kit.Boom, match="a failed on turn 1") as caught:
            await asyncio.wait_for(team.run(task="go"), timeout=5)
    finally:
        await runtime.stop_when_idle()
    assert "GroupChatError" in runtime.wire.seen
    assert any("Raised in another process" in note for note in caught.value.__notes__)


def test_serializable_exception_without_a_known_class_becomes_remote_exception() -> None:
    error = SerializableException(error_type="Gone", error_message="far away", error_module="not_here", traceback="tb")
    rebuilt = error.to_exception()
    assert isinstance(rebuilt, RemoteException)
    assert rebuilt.type_name == "not_here.Gone"
    assert rebuilt.remote_traceback == "tb"
    assert str(error).startswith("Gone: far away")


def test_serializable_exception_keeps_the_original_object_in_process(kit: SimpleNamespace) -> None:
    original = kit.Boom("here")
    error = SerializableException.from_exception(original)
    assert error.to_exception() is original
    copy = GroupChatError.model_validate_json(GroupChatError(error=error).model_dump_json()).error
    rebuilt = copy.to_exception()
    assert type(rebuilt) is kit.Boom and rebuilt is not original


def test_structured_messages_in_events_come_back_as_their_class() -> None:
    from pydantic import BaseModel

    class Verdict(BaseModel):
        ok: bool

    message = StructuredMessage[Verdict](content=Verdict(ok=True), source="judge")
    start = GroupChatStart(messages=[message, TextMessage(content="t", source="u")])
    copy = GroupChatStart.model_validate_json(start.model_dump_json())
    assert copy.messages is not None
    assert type(copy.messages[0]) is type(message)
    assert copy.messages[0].content == Verdict(ok=True)
    assert type(copy.messages[1]) is TextMessage
