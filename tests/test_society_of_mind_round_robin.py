"""SocietyOfMindAgent with ``salon_teams.RoundRobinGroupChat`` inside (and outside), on both runtimes.

salon-agentchat's own tests cannot import salon-teams (each distribution is tested with only its own
dependencies), so the port of AutoGen's ``test_society_of_mind_agent.py`` lives here.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator

import pytest

from salon import SingleThreadedAgentRuntime
from salon.models import ModelFamily, ModelInfo, ReplayChatCompletionClient, SystemMessage
from salon_agentchat.agents import AssistantAgent, SocietyOfMindAgent
from salon_agentchat.base import TaskResult
from salon_agentchat.conditions import MaxMessageTermination
from salon_agentchat.messages import BaseAgentEvent, BaseChatMessage, TextMessage
from salon_teams import RoundRobinGroupChat


@pytest.fixture(params=["single_threaded", "embedded"])
async def runtime(request: pytest.FixtureRequest) -> AsyncGenerator[SingleThreadedAgentRuntime | None, None]:
    if request.param == "embedded":
        yield None
        return
    runtime = SingleThreadedAgentRuntime()
    runtime.start()
    yield runtime
    await runtime.stop()


def inner_team(
    client: ReplayChatCompletionClient, runtime: SingleThreadedAgentRuntime | None, max_messages: int = 3
) -> RoundRobinGroupChat:
    writer = AssistantAgent("assistant1", model_client=client, system_message="You are a helpful assistant.")
    editor = AssistantAgent("assistant2", model_client=client, system_message="You are a helpful assistant.")
    return RoundRobinGroupChat(
        [writer, editor], termination_condition=MaxMessageTermination(max_messages), runtime=runtime
    )


async def test_society_of_mind_agent(runtime: SingleThreadedAgentRuntime | None) -> None:
    client = ReplayChatCompletionClient(["1", "2", "3"])
    agent = SocietyOfMindAgent("society_of_mind", team=inner_team(client, runtime), model_client=client)
    result = await agent.run(task="Count to 10.")
    assert [m.source for m in result.messages] == ["user", "society_of_mind"]
    assert result.messages[-1].to_text() == "3"

    state = await agent.save_state()
    twin = SocietyOfMindAgent("society_of_mind", team=inner_team(client, runtime), model_client=client)
    await twin.load_state(state)
    assert await twin.save_state() == state


async def test_the_inner_team_does_not_repeat_the_task(runtime: SingleThreadedAgentRuntime | None) -> None:
    team = inner_team(ReplayChatCompletionClient([str(i) for i in range(10)]), runtime, max_messages=2)
    agent = SocietyOfMindAgent("society_of_mind", team=team, model_client=ReplayChatCompletionClient(["final"]))
    streamed: list[BaseAgentEvent | BaseChatMessage] = []
    async for item in agent.run_stream(task="Count to 10"):
        if not isinstance(item, TaskResult):
            streamed.append(item)
    tasks = [m for m in streamed if isinstance(m, TextMessage) and m.source == "user"]
    assert len(tasks) == 1
    assert [m.to_text() for m in streamed if m.source == "society_of_mind"] == ["final"]


async def test_run_without_a_task_still_replies(runtime: SingleThreadedAgentRuntime | None) -> None:
    client = ReplayChatCompletionClient([str(i) for i in range(10)])
    agent = SocietyOfMindAgent("society_of_mind", team=inner_team(client, runtime), model_client=client)
    result = await agent.run()
    assert [m.source for m in result.messages] == ["society_of_mind"]


async def test_no_response_when_the_inner_team_stops_at_once(runtime: SingleThreadedAgentRuntime | None) -> None:
    client = ReplayChatCompletionClient(["1", "2", "3"])
    agent = SocietyOfMindAgent("society_of_mind", team=inner_team(client, runtime, max_messages=1), model_client=client)
    result = await agent.run(task="Count to 10.")
    assert [m.to_text() for m in result.messages] == ["Count to 10.", "No response."]


async def test_several_rounds(runtime: SingleThreadedAgentRuntime | None) -> None:
    client = ReplayChatCompletionClient([str(i) for i in range(1, 11)])
    agent = SocietyOfMindAgent("society_of_mind", team=inner_team(client, runtime), model_client=client)
    first = await agent.run(task="Count to 10.")
    assert [m.source for m in first.messages] == ["user", "society_of_mind"]
    for _ in range(2):
        again = await agent.run()
        assert [m.source for m in again.messages] == ["society_of_mind"]


@pytest.mark.parametrize("multiple_system_messages", [False, True])
async def test_prompt_roles_follow_the_model(
    runtime: SingleThreadedAgentRuntime | None, multiple_system_messages: bool
) -> None:
    summariser = ReplayChatCompletionClient(
        ["summary"],
        model_info=ModelInfo(
            vision=False,
            function_calling=False,
            json_output=False,
            family=ModelFamily.UNKNOWN,
            structured_output=False,
            multiple_system_messages=multiple_system_messages,
        ),
    )
    team = inner_team(ReplayChatCompletionClient([str(i) for i in range(10)]), runtime)
    agent = SocietyOfMindAgent("society_of_mind", team=team, model_client=summariser)
    await agent.run(task="Count to 10.")
    prompt = summariser.create_calls[0]["messages"]
    if multiple_system_messages:
        assert isinstance(prompt[0], SystemMessage) and isinstance(prompt[-1], SystemMessage)
    else:
        assert not any(isinstance(m, SystemMessage) for m in prompt)


async def test_as_a_participant_of_an_outer_team(runtime: SingleThreadedAgentRuntime | None) -> None:
    inner = inner_team(ReplayChatCompletionClient([str(i) for i in range(10)]), runtime, max_messages=2)
    author = SocietyOfMindAgent("author", team=inner, model_client=ReplayChatCompletionClient(["story"]))
    translator = AssistantAgent("translator", model_client=ReplayChatCompletionClient(["historia"]))
    outer = RoundRobinGroupChat([author, translator], max_turns=2)
    result = await outer.run(task="Write a story.")
    assert [(m.source, m.to_text()) for m in result.messages if isinstance(m, TextMessage)][-2:] == [
        ("author", "story"),
        ("translator", "historia"),
    ]
