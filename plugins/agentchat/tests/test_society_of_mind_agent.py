"""SocietyOfMindAgent: an inner team's discussion condensed into one reply, state, reset, prompts.

salon-agentchat's tests run without salon-teams installed, so the inner team here is ``TakeTurns``, a
small real :class:`~salon_agentchat.base.Team` written below; the same behaviour with
``salon_teams.RoundRobinGroupChat`` is covered by the workspace tests (``tests/test_society_of_mind_round_robin.py``).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping, Sequence
from typing import Any

import pytest

from salon import CancellationToken
from salon.model_context import BufferedChatCompletionContext
from salon.models import ModelFamily, ModelInfo, ReplayChatCompletionClient, SystemMessage, UserMessage
from salon_agentchat.agents import AssistantAgent, SocietyOfMindAgent
from salon_agentchat.base import ChatAgent, Response, TaskResult, Team
from salon_agentchat.messages import (
    BaseAgentEvent,
    BaseChatMessage,
    HandoffMessage,
    ModelClientStreamingChunkEvent,
    TextMessage,
)
from salon_agentchat.state import SocietyOfMindAgentState


class TakeTurns(Team):
    """Participants answer in order, each seeing the messages since its last turn; a run ends after ``turns`` turns."""

    def __init__(self, participants: list[ChatAgent], turns: int) -> None:
        self._participants = participants
        self._turns = turns
        self._next = 0
        self._unseen: dict[str, list[BaseChatMessage]] = {p.name: [] for p in participants}
        self.tasks: list[list[BaseChatMessage]] = []

    @property
    def name(self) -> str:
        return "take_turns"

    @property
    def description(self) -> str:
        return "Participants answer in order."

    def _share(self, message: BaseChatMessage, sender: str | None) -> None:
        for name, unseen in self._unseen.items():
            if name != sender:
                unseen.append(message)

    async def run(
        self,
        *,
        task: str | BaseChatMessage | Sequence[BaseChatMessage] | None = None,
        cancellation_token: CancellationToken | None = None,
        output_task_messages: bool = True,
    ) -> TaskResult:
        result: TaskResult | None = None
        async for item in self.run_stream(
            task=task, cancellation_token=cancellation_token, output_task_messages=output_task_messages
        ):
            if isinstance(item, TaskResult):
                result = item
        assert result is not None
        return result

    async def run_stream(
        self,
        *,
        task: str | BaseChatMessage | Sequence[BaseChatMessage] | None = None,
        cancellation_token: CancellationToken | None = None,
        output_task_messages: bool = True,
    ) -> AsyncGenerator[BaseAgentEvent | BaseChatMessage | TaskResult, None]:
        token = cancellation_token or CancellationToken()
        if task is None:
            given: list[BaseChatMessage] = []
        elif isinstance(task, str):
            given = [TextMessage(content=task, source="user")]
        elif isinstance(task, BaseChatMessage):
            given = [task]
        else:
            given = list(task)
        self.tasks.append(given)
        produced: list[BaseAgentEvent | BaseChatMessage] = []
        for message in given:
            self._share(message, None)
            if output_task_messages:
                produced.append(message)
                yield message
        for _ in range(self._turns):
            speaker = self._participants[self._next % len(self._participants)]
            self._next += 1
            unseen, self._unseen[speaker.name] = self._unseen[speaker.name], []
            async for item in speaker.on_messages_stream(unseen, token):
                if isinstance(item, Response):
                    self._share(item.chat_message, speaker.name)
                    produced.append(item.chat_message)
                    yield item.chat_message
                else:
                    if not isinstance(item, ModelClientStreamingChunkEvent):
                        produced.append(item)
                    yield item
        yield TaskResult(messages=produced, stop_reason=f"{self._turns} turns")

    async def reset(self) -> None:
        self._next = 0
        for participant in self._participants:
            await participant.on_reset(CancellationToken())
            self._unseen[participant.name] = []

    async def pause(self) -> None:
        pass

    async def resume(self) -> None:
        pass

    async def save_state(self) -> Mapping[str, Any]:
        return {"next": self._next, "agents": {p.name: await p.save_state() for p in self._participants}}

    async def load_state(self, state: Mapping[str, Any]) -> None:
        self._next = state["next"]
        for participant in self._participants:
            await participant.load_state(state["agents"][participant.name])


def inner_team(model_client: ReplayChatCompletionClient, turns: int = 2) -> TakeTurns:
    writer = AssistantAgent("writer", model_client=model_client, system_message="You write.")
    editor = AssistantAgent("editor", model_client=model_client, system_message="You edit.")
    return TakeTurns([writer, editor], turns=turns)


def model_info(*, multiple_system_messages: bool) -> ModelInfo:
    return ModelInfo(
        vision=False,
        function_calling=False,
        json_output=False,
        family=ModelFamily.UNKNOWN,
        structured_output=False,
        multiple_system_messages=multiple_system_messages,
    )


async def test_the_inner_discussion_is_condensed_into_one_reply() -> None:
    team = inner_team(ReplayChatCompletionClient(["draft", "edited"]))
    summariser = ReplayChatCompletionClient(["final story"], model_info=model_info(multiple_system_messages=True))
    agent = SocietyOfMindAgent("author", team=team, model_client=summariser)
    result = await agent.run(task="Write a story.")
    assert [(m.source, m.to_text()) for m in result.messages] == [("user", "Write a story."), ("author", "final story")]
    reply = result.messages[-1]
    assert isinstance(reply, TextMessage)
    assert reply.models_usage is not None
    (call,) = summariser.create_calls
    prompt = call["messages"]
    assert prompt[0] == SystemMessage(content=SocietyOfMindAgent.DEFAULT_INSTRUCTION)
    assert [m.content for m in prompt[1:-1]] == ["draft", "edited"]
    assert prompt[-1] == SystemMessage(content=SocietyOfMindAgent.DEFAULT_RESPONSE_PROMPT)
    # The task went to the inner team, which did not echo it into the discussion.
    assert [m.to_text() for m in team.tasks[0]] == ["Write a story."]


async def test_prompts_are_user_messages_for_models_with_a_single_system_message() -> None:
    summariser = ReplayChatCompletionClient(["done"], model_info=model_info(multiple_system_messages=False))
    agent = SocietyOfMindAgent(
        "author",
        team=inner_team(ReplayChatCompletionClient(["a", "b"])),
        model_client=summariser,
        instruction="Here is what we said:",
        response_prompt="Now answer.",
    )
    await agent.run(task="go")
    prompt = summariser.create_calls[0]["messages"]
    assert not any(isinstance(m, SystemMessage) for m in prompt)
    assert prompt[0] == UserMessage(content="Here is what we said:", source="user")
    assert prompt[-1] == UserMessage(content="Now answer.", source="user")


async def test_run_stream_shows_the_inner_team_at_work() -> None:
    agent = SocietyOfMindAgent(
        "author",
        team=inner_team(ReplayChatCompletionClient(["draft", "edited"])),
        model_client=ReplayChatCompletionClient(["final"]),
    )
    items = [item async for item in agent.run_stream(task="go")]
    assert [(type(i).__name__, getattr(i, "source", None)) for i in items] == [
        ("TextMessage", "user"),
        ("TextMessage", "writer"),
        ("TextMessage", "editor"),
        ("TextMessage", "author"),
        ("TaskResult", None),
    ]


async def test_streamed_chunks_are_relayed_but_not_summarised() -> None:
    client = ReplayChatCompletionClient(["two words", "three more words"])
    writer = AssistantAgent("writer", model_client=client, model_client_stream=True)
    summariser = ReplayChatCompletionClient(["summary"])
    agent = SocietyOfMindAgent("author", team=TakeTurns([writer], turns=1), model_client=summariser)
    items = [
        item async for item in agent.on_messages_stream([TextMessage(content="go", source="user")], CancellationToken())
    ]
    assert any(isinstance(i, ModelClientStreamingChunkEvent) for i in items)
    assert [m.content for m in summariser.create_calls[0]["messages"][1:-1]] == ["two words"]
    response = items[-1]
    assert isinstance(response, Response)
    assert response.inner_messages == []


async def test_a_silent_inner_team_gives_no_response_without_asking_the_model() -> None:
    summariser = ReplayChatCompletionClient([])
    agent = SocietyOfMindAgent(
        "author", team=inner_team(ReplayChatCompletionClient([]), turns=0), model_client=summariser
    )
    result = await agent.run(task="go")
    assert [m.to_text() for m in result.messages] == ["go", "No response."]
    assert summariser.create_calls == []


async def test_later_turns_replay_earlier_messages_to_the_reset_inner_team() -> None:
    team = inner_team(ReplayChatCompletionClient(["1", "2", "3", "4", "5", "6"]))
    agent = SocietyOfMindAgent("author", team=team, model_client=ReplayChatCompletionClient(["A", "B", "C"]))
    first = await agent.run(task="Count.")
    assert [m.to_text() for m in first.messages] == ["Count.", "A"]
    second = await agent.run(task="Go on.")
    assert [m.to_text() for m in second.messages] == ["Go on.", "B"]
    third = await agent.run()
    assert [m.to_text() for m in third.messages] == ["C"]
    # Turn two starts with a handoff carrying turn one's task; turn three carries both tasks.
    carried = team.tasks[1][0]
    assert isinstance(carried, HandoffMessage)
    assert carried.source == "author"
    assert [m.content for m in carried.context] == ["Count."]
    assert team.tasks[1][1].to_text() == "Go on."
    assert [m.content for m in team.tasks[2][0].context] == ["Count.", "Go on."]  # type: ignore[attr-defined]
    # The inner team was reset after every turn, so each turn starts with the writer.
    assert team._next == 0


async def test_a_bounded_model_context_limits_what_is_replayed() -> None:
    team = inner_team(ReplayChatCompletionClient([str(i) for i in range(8)]))
    agent = SocietyOfMindAgent(
        "author",
        team=team,
        model_client=ReplayChatCompletionClient(["A", "B", "C"]),
        model_context=BufferedChatCompletionContext(buffer_size=1),
    )
    for task in ["one", "two", "three"]:
        await agent.run(task=task)
    assert [m.content for m in team.tasks[2][0].context] == ["two"]  # type: ignore[attr-defined]


async def test_reset_forgets_earlier_turns() -> None:
    team = inner_team(ReplayChatCompletionClient(["1", "2", "3", "4"]))
    agent = SocietyOfMindAgent("author", team=team, model_client=ReplayChatCompletionClient(["A", "B"]))
    await agent.run(task="first")
    await agent.on_reset(CancellationToken())
    await agent.run(task="second")
    assert [m.to_text() for m in team.tasks[1]] == ["second"]
    assert await agent.model_context.get_messages() == [UserMessage(content="second", source="user")]


async def test_state_is_the_inner_teams_state() -> None:
    client = ReplayChatCompletionClient(["1", "2", "3", "4"])
    agent = SocietyOfMindAgent("author", team=inner_team(client), model_client=ReplayChatCompletionClient(["A"]))
    await agent.run(task="go")
    state = await agent.save_state()
    loaded = SocietyOfMindAgentState.model_validate(state)
    assert loaded.type == "SocietyOfMindAgentState"
    assert set(loaded.inner_team_state["agents"]) == {"writer", "editor"}

    twin = SocietyOfMindAgent("author", team=inner_team(client), model_client=ReplayChatCompletionClient([]))
    await twin.load_state(state)
    assert await twin.save_state() == state


async def test_load_state_rejects_another_agents_state() -> None:
    agent = SocietyOfMindAgent(
        "author", team=inner_team(ReplayChatCompletionClient([])), model_client=ReplayChatCompletionClient([])
    )
    with pytest.raises(ValueError, match="inner_team_state"):
        await agent.load_state({"type": "SocietyOfMindAgentState", "inner_team_state": "not a mapping"})


def test_defaults_and_validation() -> None:
    agent = SocietyOfMindAgent(
        "author", team=inner_team(ReplayChatCompletionClient([])), model_client=ReplayChatCompletionClient([])
    )
    assert agent.description == SocietyOfMindAgent.DEFAULT_DESCRIPTION
    assert agent.produced_message_types == (TextMessage,)
    with pytest.raises(TypeError, match="team must be a Team"):
        SocietyOfMindAgent("author", team=[], model_client=ReplayChatCompletionClient([]))  # type: ignore[arg-type]
