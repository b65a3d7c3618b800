"""Swarm: handoffs pick the speaker, handoff to the user and resume, validation, state, errors."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest

from salon import AgentId, CancellationToken, FunctionCall, SingleThreadedAgentRuntime
from salon.models import CreateResult, ModelInfo, ReplayChatCompletionClient, RequestUsage
from salon_agentchat.agents import AssistantAgent, BaseChatAgent
from salon_agentchat.base import Handoff, Response
from salon_agentchat.conditions import HandoffTermination, MaxMessageTermination, TextMentionTermination
from salon_agentchat.messages import (
    BaseChatMessage,
    HandoffMessage,
    SelectSpeakerEvent,
    TextMessage,
    ToolCallExecutionEvent,
    ToolCallRequestEvent,
)
from salon_teams import Swarm
from salon_teams._swarm import SwarmGroupChatManager

FUNCTION_MODEL = ModelInfo(
    vision=False, function_calling=True, json_output=True, family="unknown", structured_output=True
)


class _HandOffAgent(BaseChatAgent):
    """Always hands off to ``next_agent``."""

    def __init__(self, name: str, next_agent: str) -> None:
        super().__init__(name, f"hands off to {next_agent}")
        self.next_agent = next_agent
        self.seen: list[BaseChatMessage] = []

    @property
    def produced_message_types(self) -> Sequence[type[BaseChatMessage]]:
        return (HandoffMessage,)

    async def on_messages(self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken) -> Response:
        self.seen.extend(messages)
        return Response(
            chat_message=HandoffMessage(
                content=f"Transferred to {self.next_agent}.", target=self.next_agent, source=self.name
            )
        )

    async def on_reset(self, cancellation_token: CancellationToken) -> None:
        self.seen.clear()


class _TextAgent(BaseChatAgent):
    """Answers with fixed text: it cannot hand off."""

    @property
    def produced_message_types(self) -> Sequence[type[BaseChatMessage]]:
        return (TextMessage,)

    async def on_messages(self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken) -> Response:
        return Response(chat_message=TextMessage(content=f"{self.name} speaking", source=self.name))

    async def on_reset(self, cancellation_token: CancellationToken) -> None:
        pass


class _FailingHandOffAgent(_HandOffAgent):
    async def on_messages(self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken) -> Response:
        raise KeyError("the swarm member broke")


@pytest.fixture(params=["embedded", "shared"])
async def runtime(request: pytest.FixtureRequest) -> AsyncIterator[SingleThreadedAgentRuntime | None]:
    if request.param == "embedded":
        yield None
        return
    shared = SingleThreadedAgentRuntime()
    shared.start()
    yield shared
    await shared.stop()


def _three(next_of_third: str = "first_agent") -> list[_HandOffAgent]:
    first = _HandOffAgent("first_agent", "second_agent")
    second = _HandOffAgent("second_agent", "third_agent")
    third = _HandOffAgent("third_agent", next_of_third)
    return [second, first, third]


def _contents(messages: Sequence[Any]) -> list[Any]:
    return [message.content for message in messages]


async def test_handoffs_decide_the_next_speaker(runtime: SingleThreadedAgentRuntime | None) -> None:
    team = Swarm(_three(), termination_condition=MaxMessageTermination(6), runtime=runtime)
    result = await team.run(task="task")
    assert _contents(result.messages) == [
        "task",
        "Transferred to third_agent.",
        "Transferred to first_agent.",
        "Transferred to second_agent.",
        "Transferred to third_agent.",
        "Transferred to first_agent.",
    ]
    assert [m.source for m in result.messages] == [
        "user",
        "second_agent",
        "third_agent",
        "first_agent",
        "second_agent",
        "third_agent",
    ]
    assert result.stop_reason == "Maximum number of messages 6 reached, current message count: 6"

    # The stream yields the same messages, then the result.
    await team.reset()
    streamed = [item async for item in team.run_stream(task="task")]
    assert _contents(streamed[:-1]) == _contents(result.messages)
    assert streamed[-1].stop_reason == result.stop_reason  # type: ignore[union-attr]


async def test_team_events_show_each_selection(runtime: SingleThreadedAgentRuntime | None) -> None:
    team = Swarm(_three(), termination_condition=MaxMessageTermination(3), runtime=runtime, emit_team_events=True)
    result = await team.run(task="task")
    selections = [m.content for m in result.messages if isinstance(m, SelectSpeakerEvent)]
    assert selections == [["second_agent"], ["third_agent"]]
    assert isinstance(result.messages[1], SelectSpeakerEvent)
    assert isinstance(result.messages[2], HandoffMessage)


async def test_speaker_keeps_the_turn_until_it_hands_off() -> None:
    client = ReplayChatCompletionClient(
        [
            CreateResult(
                finish_reason="function_calls",
                content=[FunctionCall(id="1", name="handoff_to_agent2", arguments=json.dumps({}))],
                usage=RequestUsage(prompt_tokens=0, completion_tokens=0),
                cached=False,
            ),
            "Hello",
            "TERMINATE",
        ],
        model_info=FUNCTION_MODEL,
    )
    agent1 = AssistantAgent(
        "agent1",
        model_client=client,
        handoffs=[Handoff(target="agent2", name="handoff_to_agent2", message="handoff to agent2")],
    )
    agent2 = _HandOffAgent("agent2", "agent1")
    team = Swarm([agent1, agent2], termination_condition=TextMentionTermination("TERMINATE"))
    result = await team.run(task="task")
    assert [type(m) for m in result.messages] == [
        TextMessage,
        ToolCallRequestEvent,
        ToolCallExecutionEvent,
        HandoffMessage,
        HandoffMessage,
        TextMessage,
        TextMessage,
    ]
    assert _contents(result.messages)[3:] == ["handoff to agent2", "Transferred to agent1.", "Hello", "TERMINATE"]
    # agent1 got the turn back and kept it for two text replies.
    assert [m.source for m in result.messages[4:]] == ["agent2", "agent1", "agent1"]
    assert result.stop_reason == "Text 'TERMINATE' mentioned"


async def test_handoff_to_user_then_resume_with_handoff_message() -> None:
    client = ReplayChatCompletionClient(
        [
            CreateResult(
                finish_reason="function_calls",
                content=[FunctionCall(id="1", name="transfer_to_user", arguments="{}")],
                usage=RequestUsage(prompt_tokens=0, completion_tokens=0),
                cached=False,
            ),
            "Bob's birthday is on 1st January.",
        ],
        model_info=FUNCTION_MODEL,
    )
    alice = AssistantAgent("Alice", model_client=client, handoffs=["user"])
    termination = HandoffTermination(target="user") | TextMentionTermination("birthday is on")
    team = Swarm([alice], termination_condition=termination)

    first = await team.run(task="What is bob's birthday?")
    assert isinstance(first.messages[-1], HandoffMessage)
    assert first.messages[-1].target == "user"
    assert first.stop_reason == "Handoff to user from Alice detected."

    # The last handoff went outside the team: without an answer the swarm cannot go on ...
    with pytest.raises(ValueError, match="handed off to user, outside the team, and waits for an answer"):
        await team.run()
    # ... and a handoff to someone outside the team is refused.
    with pytest.raises(ValueError, match="The target Bob is not one of the participants"):
        await team.run(task=HandoffMessage(source="user", target="Bob", content="?"))

    # A plain-text task is the user's answer and goes back to Alice, who asked (AutoGen refuses it).
    resumed = await team.run(task="It is 1st January.")
    assert [m.source for m in resumed.messages] == ["user", "Alice"]
    assert resumed.messages[-1].content == "Bob's birthday is on 1st January."
    assert resumed.stop_reason == "Text 'birthday is on' mentioned"
    # Alice's model saw the user's answer.
    context = await alice.model_context.get_messages()
    assert any(getattr(m, "content", None) == "It is 1st January." for m in context)


async def test_handoff_to_user_then_resume_the_autogen_way_with_a_handoff_message() -> None:
    client = ReplayChatCompletionClient(
        [
            CreateResult(
                finish_reason="function_calls",
                content=[FunctionCall(id="1", name="transfer_to_user", arguments="{}")],
                usage=RequestUsage(prompt_tokens=0, completion_tokens=0),
                cached=False,
            ),
            "Bob's birthday is on 1st January.",
        ],
        model_info=FUNCTION_MODEL,
    )
    alice = AssistantAgent("Alice", model_client=client, handoffs=["user"])
    termination = HandoffTermination(target="user") | TextMentionTermination("birthday is on")
    team = Swarm([alice], termination_condition=termination)
    await team.run(task="What is bob's birthday?")

    resumed = await team.run(task=HandoffMessage(source="user", target="Alice", content="It is 1st January."))
    assert [m.source for m in resumed.messages] == ["user", "Alice"]
    assert resumed.messages[-1].content == "Bob's birthday is on 1st January."


async def test_handoff_termination_to_a_member_resumes_with_it(runtime: SingleThreadedAgentRuntime | None) -> None:
    team = Swarm(_three(), termination_condition=HandoffTermination(target="third_agent"), runtime=runtime)
    result = await team.run(task="task")
    assert _contents(result.messages) == ["task", "Transferred to third_agent."]
    result = await team.run()
    assert _contents(result.messages) == [
        "Transferred to first_agent.",
        "Transferred to second_agent.",
        "Transferred to third_agent.",
    ]
    result = await team.run(task="new task")
    assert _contents(result.messages)[0] == "new task"
    assert [m.source for m in result.messages[1:]] == ["third_agent", "first_agent", "second_agent"]


async def test_max_turns_pauses_and_the_next_run_continues(runtime: SingleThreadedAgentRuntime | None) -> None:
    team = Swarm(_three(), max_turns=1, runtime=runtime)
    assert _contents((await team.run(task="task")).messages) == ["task", "Transferred to third_agent."]
    result = await team.run(task="new task")
    assert _contents(result.messages) == ["new task", "Transferred to first_agent."]
    assert result.stop_reason == "Maximum number of turns 1 reached."
    assert _contents((await team.run()).messages) == ["Transferred to second_agent."]


async def test_reset_gives_the_turn_back_to_the_first_participant() -> None:
    team = Swarm(_three(), max_turns=2)
    await team.run(task="task")
    await team.reset()
    result = await team.run(task="again")
    assert result.messages[1].source == "second_agent"


def test_first_participant_must_be_able_to_hand_off() -> None:
    with pytest.raises(ValueError, match="The first participant must be able to produce a handoff messages"):
        Swarm([_TextAgent("talker", "talks"), _HandOffAgent("h", "talker")])
    # Later participants need not hand off.
    Swarm([_HandOffAgent("h", "talker"), _TextAgent("talker", "talks")])


def test_participants_are_validated() -> None:
    with pytest.raises(TypeError, match="must be a ChatAgent"):
        Swarm([object()])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="at least one participant"):
        Swarm([])
    with pytest.raises(ValueError, match="unique"):
        Swarm([_HandOffAgent("a", "b"), _HandOffAgent("a", "b")])


async def test_handoff_to_an_outsider_mid_run_stops_further_runs_until_redirected() -> None:
    termination = HandoffTermination(target="nobody")
    team = Swarm(_three(next_of_third="nobody"), termination_condition=termination)
    result = await team.run(task="task")
    assert _contents(result.messages)[-1] == "Transferred to nobody."
    with pytest.raises(ValueError, match="handed off to nobody, outside the team, and waits for an answer"):
        await team.run()
    result = await team.run(task=HandoffMessage(content="Back to you.", target="first_agent", source="user"))
    assert [m.source for m in result.messages] == ["user", "first_agent", "second_agent", "third_agent"]


async def test_state_round_trip(runtime: SingleThreadedAgentRuntime | None) -> None:
    team = Swarm(_three(), termination_condition=MaxMessageTermination(3), runtime=runtime)
    await team.run(task="task")
    state = await team.save_state()

    team2 = Swarm(_three(), termination_condition=MaxMessageTermination(3), runtime=runtime)
    await team2.load_state(state)
    assert await team2.save_state() == state

    manager_state = next(v for k, v in state["agent_states"].items() if k.startswith("SwarmGroupChatManager"))
    assert manager_state["type"] == "SwarmManagerState"
    assert manager_state["current_speaker"] == "third_agent"
    assert [m["content"] for m in manager_state["message_thread"]] == [
        "task",
        "Transferred to third_agent.",
        "Transferred to first_agent.",
    ]
    # The restored team carries on where the first one stopped: first_agent holds the turn.
    result = await team2.run()
    assert result.messages[0].source == "first_agent"


async def test_loaded_manager_matches_the_saved_one() -> None:
    runtime = SingleThreadedAgentRuntime()
    runtime.start()
    try:
        team = Swarm(_three(), termination_condition=MaxMessageTermination(4), runtime=runtime)
        await team.run(task="task")
        team2 = Swarm(_three(), termination_condition=MaxMessageTermination(4), runtime=runtime)
        await team2.load_state(await team.save_state())
        managers = [
            await runtime.try_get_underlying_agent_instance(
                AgentId(f"{t._group_chat_manager_name}_{t._team_id}", t._team_id), SwarmGroupChatManager
            )
            for t in (team, team2)
        ]
        assert managers[0]._message_thread == managers[1]._message_thread
        # The turn was last given to first_agent (its handoff to second_agent ended the run).
        assert managers[0]._current_speaker == managers[1]._current_speaker == "first_agent"
    finally:
        await runtime.stop()


async def test_participant_error_reaches_the_caller_with_its_type(runtime: SingleThreadedAgentRuntime | None) -> None:
    team = Swarm(
        [_HandOffAgent("first", "broken"), _FailingHandOffAgent("broken", "first")],
        max_turns=5,
        runtime=runtime,
    )
    with pytest.raises(KeyError, match="the swarm member broke"):
        await team.run(task="task")


async def test_handoff_carries_the_tool_calls_made_before_it() -> None:
    client = ReplayChatCompletionClient(
        [
            CreateResult(
                finish_reason="function_calls",
                content=[
                    FunctionCall(id="1", name="tool1", arguments="{}"),
                    FunctionCall(id="2", name="tool2", arguments="{}"),
                    FunctionCall(id="3", name="handoff_to_agent2", arguments="{}"),
                ],
                usage=RequestUsage(prompt_tokens=0, completion_tokens=0),
                cached=False,
            ),
            "Hello",
            "TERMINATE",
        ],
        model_info=FUNCTION_MODEL,
    )

    def tool1() -> str:
        return "tool1"

    def tool2() -> str:
        return "tool2"

    agent1 = AssistantAgent(
        "agent1",
        model_client=client,
        handoffs=[Handoff(target="agent2", name="handoff_to_agent2", message="handoff to agent2")],
        tools=[tool1, tool2],
    )
    agent2 = AssistantAgent("agent2", model_client=client)
    team = Swarm([agent1, agent2], termination_condition=TextMentionTermination("TERMINATE"))
    result = await team.run(task="task")
    handoff = result.messages[3]
    assert isinstance(handoff, HandoffMessage)
    assert (handoff.source, handoff.target, handoff.content) == ("agent1", "agent2", "handoff to agent2")
    assert [m.source for m in result.messages[4:]] == ["agent2", "agent2"]
    # agent2's model sees the task, then the tool calls agent1 made before handing off, with their results.
    context = await agent2.model_context.get_messages()
    assert [type(m).__name__ for m in context[:3]] == [
        "UserMessage",
        "AssistantMessage",
        "FunctionExecutionResultMessage",
    ]
    assert [call.name for call in context[1].content] == ["tool1", "tool2"]  # type: ignore[union-attr]
    assert [r.content for r in context[2].content] == ["tool1", "tool2"]  # type: ignore[union-attr]
