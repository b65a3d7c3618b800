"""Console, UserProxyAgent and MessageFilterAgent inside ``salon_teams.RoundRobinGroupChat``.

A team delivers its stream through a queue, so these are the cases where a user proxy's prompt could
overtake the console, and where cancelling a run must reach a person's pending input.
"""

from __future__ import annotations

import asyncio
import io

import pytest

from salon import CancellationToken
from salon.models import ReplayChatCompletionClient
from salon_agentchat.agents import (
    AssistantAgent,
    MessageFilterAgent,
    MessageFilterConfig,
    PerSourceFilter,
    UserProxyAgent,
)
from salon_agentchat.base import TaskResult
from salon_agentchat.ui import Console, UserInputManager
from salon_teams import RoundRobinGroupChat


@pytest.fixture(autouse=True)
def plain_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "TERM_PROGRAM", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)


async def test_the_prompt_comes_after_everything_before_it() -> None:
    output = io.StringIO()
    shown_at_prompt: list[str] = []

    def person(prompt: str) -> str:
        shown_at_prompt.append(output.getvalue())
        return "Lisbon, please."

    manager = UserInputManager(person)
    assistant = AssistantAgent("assistant", model_client=ReplayChatCompletionClient(["Where to?", "Booked."]))
    user = UserProxyAgent("user", input_func=manager.get_wrapped_callback())
    team = RoundRobinGroupChat([assistant, user], max_turns=3)
    result = await Console(team.run_stream(task="Book a trip."), output=output, user_input_manager=manager)
    assert isinstance(result, TaskResult)
    assert len(shown_at_prompt) == 1
    assert shown_at_prompt[0].endswith("---------- TextMessage (assistant) ----------\nWhere to?\n")
    rendered = output.getvalue()
    assert rendered.index("Lisbon, please.") < rendered.index("Booked.")
    assert "UserInputRequestedEvent" not in rendered


async def test_cancelling_a_run_reaches_a_waiting_person() -> None:
    asked = asyncio.Event()

    async def never_answers(prompt: str, token: CancellationToken | None) -> str:
        asked.set()
        await asyncio.Event().wait()
        return "too late"

    assistant = AssistantAgent("assistant", model_client=ReplayChatCompletionClient(["Your name?"]))
    user = UserProxyAgent("user", input_func=never_answers)
    team = RoundRobinGroupChat([assistant, user], max_turns=2)
    token = CancellationToken()
    run = asyncio.create_task(team.run(task="Introduce yourselves.", cancellation_token=token))
    await asked.wait()
    token.cancel()
    async with asyncio.timeout(10):
        with pytest.raises(asyncio.CancelledError):
            await run


async def test_a_filtered_participant_sees_only_its_selection() -> None:
    critic_model = ReplayChatCompletionClient(["Looks good."])
    writer = AssistantAgent("writer", model_client=ReplayChatCompletionClient(["draft 1"]))
    critic = MessageFilterAgent(
        "critic",
        wrapped_agent=AssistantAgent("critic", model_client=critic_model, system_message="Critique."),
        filter=MessageFilterConfig(per_source=[PerSourceFilter(source="writer", position="last", count=1)]),
    )
    team = RoundRobinGroupChat([writer, critic], max_turns=2)
    result = await team.run(task="Write a line.")
    assert result.messages[-1].to_text() == "Looks good."
    seen = [m.content for m in critic_model.create_calls[0]["messages"][1:]]
    assert seen == ["draft 1"]
