"""MagenticOneGroupChat: the ledger loop, stalls and re-planning, final answer, state, errors."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Sequence
from typing import Any

import PIL.Image
import pytest

from salon import AgentId, CancellationToken, Image, SingleThreadedAgentRuntime
from salon.models import ModelInfo, ReplayChatCompletionClient
from salon_agentchat.agents import BaseChatAgent
from salon_agentchat.base import Response
from salon_agentchat.conditions import TextMentionTermination
from salon_agentchat.messages import BaseChatMessage, MultiModalMessage, SelectSpeakerEvent, TextMessage
from salon_teams import MagenticOneGroupChat
from salon_teams._magentic_one import MagenticOneOrchestrator
from salon_teams._magentic_one._ledger import extract_json_objects
from salon_teams._magentic_one._prompts import ORCHESTRATOR_TASK_LEDGER_FULL_PROMPT, LedgerEntry

LEDGER_START = ORCHESTRATOR_TASK_LEDGER_FULL_PROMPT.split("{task}")[0]


class _EchoAgent(BaseChatAgent):
    """Repeats the last message it was given; counts its turns and resets."""

    def __init__(self, name: str) -> None:
        super().__init__(name, f"echo agent {name}")
        self.turns = 0
        self.resets = 0
        self.received: list[BaseChatMessage] = []

    @property
    def produced_message_types(self) -> Sequence[type[BaseChatMessage]]:
        return (TextMessage,)

    async def on_messages(self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken) -> Response:
        self.turns += 1
        self.received.extend(messages)
        return Response(
            chat_message=TextMessage(content=f"{self.name} did: {messages[-1].to_text()}", source=self.name)
        )

    async def on_reset(self, cancellation_token: CancellationToken) -> None:
        self.resets += 1


class _Broken(_EchoAgent):
    async def on_messages(self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken) -> Response:
        raise PermissionError("agent_2 may not do that")


def ledger(
    satisfied: bool = False,
    progress: bool = True,
    loop: bool = False,
    speaker: str = "agent_1",
    instruction: str = "Continue task",
    reason: str = "test",
) -> str:
    return json.dumps(
        {
            "is_request_satisfied": {"answer": satisfied, "reason": reason},
            "is_progress_being_made": {"answer": progress, "reason": "test"},
            "is_in_loop": {"answer": loop, "reason": "test"},
            "instruction_or_question": {"answer": instruction, "reason": "test"},
            "next_speaker": {"answer": speaker, "reason": "test"},
        }
    )


@pytest.fixture(params=["embedded", "shared"])
async def runtime(request: pytest.FixtureRequest) -> AsyncIterator[SingleThreadedAgentRuntime | None]:
    if request.param == "embedded":
        yield None
        return
    shared = SingleThreadedAgentRuntime()
    shared.start()
    yield shared
    await shared.stop()


def _agents(count: int = 4) -> list[_EchoAgent]:
    return [_EchoAgent(f"agent_{i}") for i in range(1, count + 1)]


def _texts(messages: Sequence[Any]) -> list[str]:
    return [m.to_text() for m in messages]


async def test_plan_direct_then_final_answer(runtime: SingleThreadedAgentRuntime | None) -> None:
    agents = _agents()
    client = ReplayChatCompletionClient(
        ["No facts", "No plan", ledger(), ledger(satisfied=True, reason="Because"), "print('Hello, world!')"]
    )
    team = MagenticOneGroupChat(agents, model_client=client, runtime=runtime)  # type: ignore[arg-type]
    result = await team.run(task="Write a program that prints 'Hello, world!'")

    texts = _texts(result.messages)
    assert len(texts) == 5
    assert texts[0] == "Write a program that prints 'Hello, world!'"
    assert texts[1].startswith(LEDGER_START)
    for part in (
        "Write a program",
        "No facts",
        "No plan",
        "agent_1: echo agent agent_1",
        "agent_4: echo agent agent_4",
    ):
        assert part in texts[1]
    assert texts[2] == "Continue task"
    assert result.messages[3].source == "agent_1" and texts[3] == "agent_1 did: Continue task"
    assert texts[4] == "print('Hello, world!')"
    assert [m.source for m in result.messages] == [
        "user",
        "MagenticOneOrchestrator",
        "MagenticOneOrchestrator",
        "agent_1",
        "MagenticOneOrchestrator",
    ]
    assert result.stop_reason == "Because"
    # The directed agent saw the task ledger and its instruction; the others never spoke.
    assert _texts(agents[0].received) == [texts[1], "Continue task"]
    assert [a.turns for a in agents] == [1, 0, 0, 0]


async def test_state_round_trip(runtime: SingleThreadedAgentRuntime | None) -> None:
    client = ReplayChatCompletionClient(
        ["No facts", "No plan", ledger(), ledger(satisfied=True, reason="Because"), "done"]
    )
    team = MagenticOneGroupChat(_agents(), model_client=client, runtime=runtime)  # type: ignore[arg-type]
    await team.run(task="task")
    state = await team.save_state()
    manager_state = next(v for k, v in state["agent_states"].items() if k.startswith("MagenticOneOrchestrator"))
    assert manager_state["type"] == "MagenticOneOrchestratorState"
    assert (manager_state["task"], manager_state["facts"], manager_state["plan"]) == ("task", "No facts", "No plan")
    assert (manager_state["n_rounds"], manager_state["n_stalls"]) == (2, 0)

    team2 = MagenticOneGroupChat(_agents(), model_client=client, runtime=runtime)  # type: ignore[arg-type]
    await team2.load_state(state)
    assert await team2.save_state() == state


async def test_loaded_orchestrator_matches_the_saved_one() -> None:
    runtime = SingleThreadedAgentRuntime()
    runtime.start()
    try:
        client = ReplayChatCompletionClient(["f", "p", ledger(), ledger(satisfied=True), "done"])
        team = MagenticOneGroupChat(_agents(), model_client=client, runtime=runtime)  # type: ignore[arg-type]
        await team.run(task="task")
        team2 = MagenticOneGroupChat(_agents(), model_client=client, runtime=runtime)  # type: ignore[arg-type]
        await team2.load_state(await team.save_state())
        one, two = [
            await runtime.try_get_underlying_agent_instance(
                AgentId(f"{t._group_chat_manager_name}_{t._team_id}", t._team_id), MagenticOneOrchestrator
            )
            for t in (team, team2)
        ]
        assert one._message_thread == two._message_thread
        assert (one._task, one._facts, one._plan) == (two._task, two._facts, two._plan) == ("task", "f", "p")
    finally:
        await runtime.stop()


async def test_stalls_trigger_replanning(runtime: SingleThreadedAgentRuntime | None) -> None:
    agents = _agents()
    client = ReplayChatCompletionClient(
        [
            "No facts",
            "No plan",
            ledger(progress=False, loop=True, instruction="Stalling"),
            ledger(progress=False, loop=True, instruction="Stalling again", speaker="agent_2"),
            "No facts2",
            "No plan2",
            ledger(satisfied=True, reason="test", speaker="agent_3"),
            "print('Hello, world!')",
        ]
    )
    team = MagenticOneGroupChat(agents, model_client=client, max_stalls=2, runtime=runtime)  # type: ignore[arg-type]
    result = await team.run(task="Write a program that prints 'Hello, world!'")
    texts = _texts(result.messages)
    assert len(texts) == 6
    assert texts[1].startswith(LEDGER_START) and "No plan" in texts[1]
    assert texts[2] == "Stalling"
    assert texts[4].startswith(LEDGER_START) and "No facts2" in texts[4] and "No plan2" in texts[4]
    assert texts[5] == "print('Hello, world!')"
    assert result.stop_reason == "test"
    # The second stall re-planned instead of directing agent_2; everyone was reset for the fresh start.
    assert agents[1].turns == 0
    assert [a.resets for a in agents] == [2, 2, 2, 2]


async def test_progress_pays_off_a_stall() -> None:
    # stall (1), progress (0), stall (1), stall (2 = max) -> re-plan
    client = ReplayChatCompletionClient(
        [
            "facts",
            "plan",
            ledger(progress=False, instruction="s1"),
            ledger(instruction="ok"),
            ledger(loop=True, instruction="s2"),
            ledger(loop=True, instruction="s3"),
            "facts2",
            "plan2",
            ledger(satisfied=True, reason="finished"),
            "answer",
        ]
    )
    team = MagenticOneGroupChat(_agents(2), model_client=client, max_stalls=2)  # type: ignore[arg-type]
    result = await team.run(task="task")
    orchestrator = [m.to_text() for m in result.messages if m.source == "MagenticOneOrchestrator"]
    assert orchestrator[1:4] == ["s1", "ok", "s2"]
    assert orchestrator[4].startswith(LEDGER_START) and "plan2" in orchestrator[4]
    assert orchestrator[-1] == "answer"
    assert result.stop_reason == "finished"


async def test_max_turns_ends_with_a_final_answer() -> None:
    client = ReplayChatCompletionClient(["f", "p", ledger(), ledger(instruction="again"), "final"])
    team = MagenticOneGroupChat(_agents(2), model_client=client, max_turns=1)  # type: ignore[arg-type]
    result = await team.run(task="task")
    assert _texts(result.messages)[-1] == "final"
    assert result.stop_reason == "Max rounds reached."
    # A new task gets a fresh round budget.
    client.reset()
    result = await team.run(task="another task")
    assert result.stop_reason == "Max rounds reached."
    assert "again" in _texts(result.messages)


async def test_ledger_answers_are_retried_until_usable() -> None:
    client = ReplayChatCompletionClient(
        [
            "facts",
            "plan",
            "I think agent_1 should go.",  # not JSON
            '{"is_request_satisfied": {"answer": false}}',  # missing keys
            ledger(speaker="agent_9"),  # not a participant
            "Here you go:\n```json\n" + ledger(instruction="fenced") + "\n```",
            ledger(satisfied=True),
            "answer",
        ]
    )
    team = MagenticOneGroupChat(_agents(2), model_client=client)  # type: ignore[arg-type]
    result = await team.run(task="task")
    assert "fenced" in _texts(result.messages)
    assert result.stop_reason == "test"


@pytest.mark.parametrize("good_steps", [0, 1], ids=["first step", "after a member answered"])
async def test_ledger_that_never_parses_fails_the_run(good_steps: int) -> None:
    client = ReplayChatCompletionClient(["facts", "plan", *([ledger()] * good_steps), *(["not json"] * 10)])
    team = MagenticOneGroupChat(_agents(2), model_client=client)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="Failed to parse ledger information after multiple retries"):
        await team.run(task="task")


async def test_single_member_is_always_the_next_speaker() -> None:
    agents = _agents(1)
    client = ReplayChatCompletionClient(["f", "p", ledger(speaker="someone else"), ledger(satisfied=True), "a"])
    result = await MagenticOneGroupChat(agents, model_client=client).run(task="task")  # type: ignore[arg-type]
    assert agents[0].turns == 1
    assert result.messages[3].source == "agent_1"


async def test_termination_condition_on_a_member_and_resume() -> None:
    agents = _agents(2)
    client = ReplayChatCompletionClient(
        [
            "f",
            "p",
            ledger(instruction="say STOP"),
            ledger(speaker="agent_2", instruction="go on"),
            ledger(satisfied=True),
            "a",
        ]
    )
    team = MagenticOneGroupChat(
        agents,  # type: ignore[arg-type]
        model_client=client,
        termination_condition=TextMentionTermination("STOP", sources=["agent_1"]),
    )
    first = await team.run(task="task")
    assert first.stop_reason == "Text 'STOP' mentioned"
    assert first.messages[-1].source == "agent_1"
    # Without a new task the orchestrator takes its next step on the same ledger.
    second = await team.run()
    assert [m.source for m in second.messages] == ["MagenticOneOrchestrator", "agent_2", "MagenticOneOrchestrator"]
    assert second.stop_reason == "test"


async def test_resume_without_any_task_is_refused() -> None:
    team = MagenticOneGroupChat(_agents(1), model_client=ReplayChatCompletionClient([]))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="needs a task"):
        await team.run()


async def test_team_events_name_the_speaker() -> None:
    client = ReplayChatCompletionClient(["f", "p", ledger(speaker="agent_2"), ledger(satisfied=True), "a"])
    team = MagenticOneGroupChat(_agents(2), model_client=client, emit_team_events=True)  # type: ignore[arg-type]
    result = await team.run(task="task")
    assert [m.content for m in result.messages if isinstance(m, SelectSpeakerEvent)] == [["agent_2"]]


async def test_participant_error_reaches_the_caller_with_its_type(runtime: SingleThreadedAgentRuntime | None) -> None:
    client = ReplayChatCompletionClient(["f", "p", ledger(speaker="agent_2")])
    agents = [_EchoAgent("agent_1"), _Broken("agent_2")]
    team = MagenticOneGroupChat(agents, model_client=client, runtime=runtime)  # type: ignore[arg-type]
    with pytest.raises(PermissionError, match="agent_2 may not do that"):
        await team.run(task="task")


async def test_cancellation(runtime: SingleThreadedAgentRuntime | None) -> None:
    client = ReplayChatCompletionClient(["f", "p", ledger(), ledger(), ledger(), ledger(satisfied=True), "a"])
    team = MagenticOneGroupChat(_agents(), model_client=client, runtime=runtime)  # type: ignore[arg-type]
    token = CancellationToken()
    run = asyncio.ensure_future(team.run(task="task", cancellation_token=token))
    token.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run


def test_construction_errors() -> None:
    client = ReplayChatCompletionClient([])
    with pytest.raises(ValueError, match="At least one participant"):
        MagenticOneGroupChat([], model_client=client)
    with pytest.raises(TypeError, match="must be a ChatAgent"):
        MagenticOneGroupChat([object()], model_client=client)  # type: ignore[list-item]
    with pytest.raises(ValueError, match="max_stalls"):
        MagenticOneGroupChat(_agents(1), model_client=client, max_stalls=0)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"a": 1}', [{"a": 1}]),
        ('  \n{"a": 1}\n', [{"a": 1}]),
        ('```json\n{"a": 1}\n```', [{"a": 1}]),
        ('Sure:\n```\n{"a": 1}\n```\nand\n```json\n{"b": 2}\n```', [{"a": 1}, {"b": 2}]),
        ('The ledger is {"a": {"b": 1}} as asked.', [{"a": {"b": 1}}]),
    ],
)
def test_json_extraction(text: str, expected: list[Any]) -> None:
    assert extract_json_objects(text) == expected


def test_json_extraction_failure() -> None:
    with pytest.raises(json.JSONDecodeError):
        extract_json_objects("no json here")


@pytest.mark.parametrize(
    ("capabilities", "expected"),
    [({}, None), ({"json_output": True}, True), ({"json_output": True, "structured_output": True}, LedgerEntry)],
)
async def test_what_the_orchestrator_asks_its_model(capabilities: dict[str, bool], expected: object) -> None:
    info = ModelInfo(vision=False, function_calling=False, json_output=False, family="unknown", structured_output=False)
    info.update(capabilities)  # type: ignore[typeddict-item]
    client = ReplayChatCompletionClient(
        ["the facts", "the plan", ledger(), ledger(satisfied=True), "the answer"], model_info=info
    )
    team = MagenticOneGroupChat(
        _agents(2),  # type: ignore[arg-type]
        model_client=client,
        final_answer_prompt="Answer in one word.",
    )
    await team.run(task="Count the moons of Mars.")
    calls = client.create_calls
    assert [call["json_output"] for call in calls] == [None, None, expected, expected, None]

    facts_prompt = calls[0]["messages"][-1].content
    assert "Count the moons of Mars." in facts_prompt and "1. GIVEN OR VERIFIED FACTS" in facts_prompt
    plan_messages = calls[1]["messages"]
    assert [type(m).__name__ for m in plan_messages] == ["UserMessage", "AssistantMessage", "UserMessage"]
    assert "agent_1: echo agent agent_1\nagent_2: echo agent agent_2" in plan_messages[-1].content
    progress_prompt = calls[2]["messages"][-1].content
    assert "agent_1, agent_2" in progress_prompt and '"is_request_satisfied"' in progress_prompt
    # The orchestrator's own ledger is its (assistant) turn; the member's answer is a user turn.
    second = calls[3]["messages"]
    assert [(type(m).__name__, m.source) for m in second[:-1]] == [
        ("AssistantMessage", "MagenticOneOrchestrator"),
        ("AssistantMessage", "MagenticOneOrchestrator"),
        ("UserMessage", "agent_1"),
    ]
    # A custom final-answer prompt is used as written.
    assert calls[4]["messages"][-1].content == "Answer in one word."


class _Painter(_EchoAgent):
    @property
    def produced_message_types(self) -> Sequence[type[BaseChatMessage]]:
        return (MultiModalMessage,)

    async def on_messages(self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken) -> Response:
        image = Image.from_pil(PIL.Image.new("RGB", (2, 2)))
        return Response(chat_message=MultiModalMessage(content=["Here it is:", image], source=self.name))


@pytest.mark.parametrize("vision", [False, True])
async def test_images_reach_only_a_vision_model(vision: bool) -> None:
    info = ModelInfo(
        vision=vision, function_calling=False, json_output=False, family="unknown", structured_output=False
    )
    client = ReplayChatCompletionClient(["f", "p", ledger(), ledger(satisfied=True), "a"], model_info=info)
    team = MagenticOneGroupChat([_Painter("agent_1")], model_client=client)
    await team.run(task="Draw")
    painter_turn = client.create_calls[3]["messages"][2]
    assert painter_turn.source == "agent_1"
    if vision:
        assert isinstance(painter_turn.content, list) and isinstance(painter_turn.content[1], Image)
    else:
        assert isinstance(painter_turn.content, str) and painter_turn.content.startswith("Here it is:")
