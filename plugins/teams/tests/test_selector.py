"""SelectorGroupChat: model-based selection (prompt, retries, fallback), selector/candidate functions, state."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

import pytest

from salon.model_context import BufferedChatCompletionContext
from salon.models import ModelFamily, ModelInfo, ReplayChatCompletionClient, SystemMessage, UserMessage
from salon_agentchat.conditions import MaxMessageTermination
from salon_agentchat.messages import (
    BaseAgentEvent,
    BaseChatMessage,
    ModelClientStreamingChunkEvent,
    SelectorEvent,
    SelectSpeakerEvent,
)
from salon_teams import SelectorGroupChat
from salon_teams._selector import DEFAULT_SELECTOR_PROMPT, SelectorGroupChatManager


def _prompt(call: dict[str, Any]) -> str:
    return str(call["messages"][0].content)


def _openai_info() -> ModelInfo:
    return ModelInfo(
        vision=False, function_calling=False, json_output=False, family=ModelFamily.GPT_4O, structured_output=False
    )


async def test_the_model_picks_each_speaker_from_autogens_prompt(kit: SimpleNamespace) -> None:
    agents = [
        kit.ScriptedAgent("a", description="Writes   drafts.\nCarefully."),
        kit.ScriptedAgent("b"),
        kit.ScriptedAgent("c"),
    ]
    selector = ReplayChatCompletionClient(["c", "I pick a"])
    team = SelectorGroupChat(agents, selector, termination_condition=MaxMessageTermination(3))
    result = await team.run(task="go")
    assert kit.texts(result.messages) == ["go", "c #1", "a #1"]
    first, second = selector.create_calls
    assert isinstance(first["messages"][0], UserMessage)  # not an OpenAI family: a user turn
    roles = "\n".join(
        [
            "a: Writes drafts. Carefully.",
            "b: b answers with its name and a counter.",
            "c: c answers with its name and a counter.",
        ]
    )
    assert _prompt(first) == DEFAULT_SELECTOR_PROMPT.format(
        roles=roles, participants="['a', 'b', 'c']", history="user: go\n\n"
    )
    # The previous speaker is not a candidate (allow_repeated_speaker=False), and the history grew.
    assert "select the next role from ['a', 'b'] to play" in _prompt(second)
    assert "user: go\n\n\nc: c #1\n\n" in _prompt(second)


async def test_openai_models_get_the_prompt_as_a_system_message(kit: SimpleNamespace) -> None:
    selector = ReplayChatCompletionClient(["b"], model_info=_openai_info())
    team = SelectorGroupChat([kit.ScriptedAgent("a"), kit.ScriptedAgent("b")], selector, max_turns=1)
    await team.run(task="go")
    assert isinstance(selector.create_calls[0]["messages"][0], SystemMessage)


async def test_bad_answers_get_feedback_and_another_attempt(kit: SimpleNamespace) -> None:
    selector = ReplayChatCompletionClient(["nobody", "a or b", "b"])
    team = SelectorGroupChat([kit.ScriptedAgent("a"), kit.ScriptedAgent("b")], selector, max_turns=1)
    result = await team.run(task="go")
    assert kit.texts(result.messages) == ["go", "b #1"]
    third = selector.create_calls[2]["messages"]
    kinds = ["UserMessage", "AssistantMessage", "UserMessage", "AssistantMessage", "UserMessage"]
    assert [type(m).__name__ for m in third] == kinds
    assert third[2].content == "No valid name was mentioned. Please select from: ['a', 'b']."
    assert third[4].content == "Expected exactly one name to be mentioned. Please select only one from: ['a', 'b']."


async def test_after_the_last_attempt_the_fallback_is_deterministic_and_logged(
    kit: SimpleNamespace, caplog: pytest.LogCaptureFixture
) -> None:
    selector = ReplayChatCompletionClient(["?", "??", "b", "?", "??"])
    team = SelectorGroupChat(
        [kit.ScriptedAgent("a"), kit.ScriptedAgent("b"), kit.ScriptedAgent("c")],
        selector,
        max_turns=3,
        max_selector_attempts=2,
    )
    with caplog.at_level(logging.WARNING, logger="salon_agentchat"):
        result = await team.run(task="go")
    # Turn 1: two failed attempts and no previous speaker: the first candidate. Turn 2: "b" at once.
    # Turn 3: two failed attempts; the previous speaker "b" is no candidate: the first candidate again.
    assert kit.texts(result.messages) == ["go", "a #1", "b #1", "a #2"]
    assert len(selector.create_calls) == 5
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        "Selector model failed to select a speaker after 2 attempts; falling back to 'a'.",
        "Selector model failed to select a speaker after 2 attempts; falling back to 'a'.",
    ]


async def test_with_repeats_allowed_the_fallback_is_the_previous_speaker(kit: SimpleNamespace) -> None:
    selector = ReplayChatCompletionClient(["c", "?"])
    team = SelectorGroupChat(
        [kit.ScriptedAgent("a"), kit.ScriptedAgent("b"), kit.ScriptedAgent("c")],
        selector,
        max_turns=2,
        max_selector_attempts=1,
        allow_repeated_speaker=True,
    )
    result = await team.run(task="go")
    assert kit.texts(result.messages) == ["go", "c #1", "c #2"]


async def test_a_repeated_or_excluded_speaker_is_rejected_with_the_reason(kit: SimpleNamespace) -> None:
    selector = ReplayChatCompletionClient(["a", "a", "b"])
    team = SelectorGroupChat(
        [kit.ScriptedAgent("a"), kit.ScriptedAgent("b"), kit.ScriptedAgent("c")], selector, max_turns=2
    )
    result = await team.run(task="go")
    assert kit.texts(result.messages) == ["go", "a #1", "b #1"]
    feedback = selector.create_calls[2]["messages"][2].content
    assert feedback == "Repeated speaker is not allowed, please select a different name from: ['b', 'c']."


async def test_allow_repeated_speaker_keeps_the_previous_speaker_a_candidate(kit: SimpleNamespace) -> None:
    selector = ReplayChatCompletionClient(["a", "a"])
    team = SelectorGroupChat(
        [kit.ScriptedAgent("a"), kit.ScriptedAgent("b")], selector, max_turns=2, allow_repeated_speaker=True
    )
    result = await team.run(task="go")
    assert kit.texts(result.messages) == ["go", "a #1", "a #2"]
    assert "from ['a', 'b'] to play" in _prompt(selector.create_calls[1])


async def test_a_single_candidate_needs_no_model_call(kit: SimpleNamespace) -> None:
    selector = ReplayChatCompletionClient(["a"])
    team = SelectorGroupChat([kit.ScriptedAgent("a"), kit.ScriptedAgent("b")], selector, max_turns=3)
    result = await team.run(task="go")
    assert kit.texts(result.messages) == ["go", "a #1", "b #1", "a #2"]
    assert len(selector.create_calls) == 1


async def test_selector_func_overrides_the_model_unless_it_returns_none(kit: SimpleNamespace) -> None:
    calls: list[int] = []

    def pick(thread: Sequence[BaseAgentEvent | BaseChatMessage]) -> str | None:
        calls.append(len(thread))
        return "b" if len(thread) == 1 else None

    selector = ReplayChatCompletionClient(["a"])
    agents = [kit.ScriptedAgent("a"), kit.ScriptedAgent("b"), kit.ScriptedAgent("c")]
    team = SelectorGroupChat(agents, selector, selector_func=pick, max_turns=2)
    result = await team.run(task="go")
    assert kit.texts(result.messages) == ["go", "b #1", "a #1"]
    assert calls == [1, 2]
    assert len(selector.create_calls) == 1


async def test_async_selector_func_and_a_bad_name_reaches_the_caller(kit: SimpleNamespace) -> None:
    async def pick(thread: Sequence[BaseAgentEvent | BaseChatMessage]) -> str | None:
        return "zed"

    team = SelectorGroupChat(
        [kit.ScriptedAgent("a"), kit.ScriptedAgent("b")], ReplayChatCompletionClient([]), selector_func=pick
    )
    with pytest.raises(ValueError, match="selector_func returned 'zed'"):
        await team.run(task="go")


async def test_candidate_func_narrows_the_choice(kit: SimpleNamespace) -> None:
    async def only_c(thread: Sequence[BaseAgentEvent | BaseChatMessage]) -> list[str]:
        return ["b", "c"]

    selector = ReplayChatCompletionClient(["a", "c"])
    team = SelectorGroupChat(
        [kit.ScriptedAgent("a"), kit.ScriptedAgent("b"), kit.ScriptedAgent("c")],
        selector,
        candidate_func=only_c,
        max_turns=1,
    )
    result = await team.run(task="go")
    assert kit.texts(result.messages) == ["go", "c #1"]
    assert "from ['b', 'c'] to play" in _prompt(selector.create_calls[0])
    assert (
        selector.create_calls[1]["messages"][2].content == "a is not a candidate now. Please select from: ['b', 'c']."
    )


@pytest.mark.parametrize(("names", "fragment"), [([], "non-empty"), (["a", "q"], r"\['q'\]")])
async def test_candidate_func_errors(kit: SimpleNamespace, names: list[str], fragment: str) -> None:
    team = SelectorGroupChat(
        [kit.ScriptedAgent("a"), kit.ScriptedAgent("b")],
        ReplayChatCompletionClient([]),
        candidate_func=lambda thread: names,
    )
    with pytest.raises(ValueError, match=fragment):
        await team.run(task="go")


async def test_streaming_selection_with_team_events(kit: SimpleNamespace) -> None:
    selector = ReplayChatCompletionClient(["the next is b"])
    team = SelectorGroupChat(
        [kit.ScriptedAgent("a"), kit.ScriptedAgent("b")],
        selector,
        max_turns=1,
        model_client_streaming=True,
        emit_team_events=True,
    )
    items = [item async for item in team.run_stream(task="go")]
    chunks = [i for i in items if isinstance(i, ModelClientStreamingChunkEvent)]
    assert "".join(c.content for c in chunks) == "the next is b"
    selected = [i for i in items if isinstance(i, SelectorEvent)]
    assert [s.content for s in selected] == ["the next is b"]
    speakers = [i for i in items if isinstance(i, SelectSpeakerEvent)]
    assert [s.content for s in speakers] == [["b"]]
    result = items[-1]
    assert not any(isinstance(m, ModelClientStreamingChunkEvent) for m in result.messages)  # type: ignore[union-attr]
    assert result.messages[-1].to_text() == "b #1"  # type: ignore[union-attr]


async def test_state_round_trip_restores_the_previous_speaker_and_the_history(kit: SimpleNamespace) -> None:
    team = SelectorGroupChat(
        [kit.ScriptedAgent("a"), kit.ScriptedAgent("b"), kit.ScriptedAgent("c")],
        ReplayChatCompletionClient(["b"]),
        max_turns=1,
    )
    await team.run(task="go")
    state = await team.save_state()
    assert state["agent_states"]["SelectorGroupChatManager"]["previous_speaker"] == "b"
    selector = ReplayChatCompletionClient(["c"])
    fresh = SelectorGroupChat(
        [kit.ScriptedAgent("a"), kit.ScriptedAgent("b"), kit.ScriptedAgent("c")], selector, max_turns=1
    )
    await fresh.load_state(state)
    result = await fresh.run()
    assert kit.texts(result.messages) == ["c #1"]
    prompt = _prompt(selector.create_calls[0])
    assert "from ['a', 'c'] to play" in prompt and "user: go\n\n\nb: b #1\n\n" in prompt


async def test_reset_clears_the_history_and_the_previous_speaker(kit: SimpleNamespace) -> None:
    selector = ReplayChatCompletionClient(["b", "b"])
    team = SelectorGroupChat(
        [kit.ScriptedAgent("a"), kit.ScriptedAgent("b"), kit.ScriptedAgent("c")], selector, max_turns=1
    )
    await team.run(task="go")
    await team.reset()
    await team.run(task="again")
    prompt = _prompt(selector.create_calls[1])
    assert "from ['a', 'b', 'c'] to play" in prompt
    assert "user: again" in prompt and "user: go" not in prompt


async def test_a_custom_model_context_bounds_the_history(kit: SimpleNamespace) -> None:
    selector = ReplayChatCompletionClient(["b", "a"])
    team = SelectorGroupChat(
        [kit.ScriptedAgent("a"), kit.ScriptedAgent("b"), kit.ScriptedAgent("c")],
        selector,
        max_turns=2,
        model_context=BufferedChatCompletionContext(buffer_size=1),
    )
    await team.run(task="go")
    second = _prompt(selector.create_calls[1])
    assert "b: b #1" in second and "user: go" not in second


def test_constructor_checks(kit: SimpleNamespace) -> None:
    with pytest.raises(ValueError, match="at least two participants"):
        SelectorGroupChat([kit.ScriptedAgent("a")], ReplayChatCompletionClient([]))
    with pytest.raises(ValueError, match="max_selector_attempts must be at least 1"):
        SelectorGroupChat(
            [kit.ScriptedAgent("a"), kit.ScriptedAgent("b")], ReplayChatCompletionClient([]), max_selector_attempts=0
        )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Story_writer", {"Story_writer": 1}),
        ("Story writer, then Story\\_writer", {"Story_writer": 2}),
        ("Story_writers", {}),
        ("editor and Story_writer", {"Story_writer": 1, "editor": 1}),
    ],
)
def test_mentions_match_whole_names_with_underscore_variants(text: str, expected: dict[str, int]) -> None:
    mentioned = SelectorGroupChatManager._mentioned_agents(None, text, ["Story_writer", "editor"])  # type: ignore[arg-type]
    assert mentioned == expected


async def test_selector_func_and_the_model_share_the_turns(kit: SimpleNamespace) -> None:
    def pick(thread: Sequence[BaseAgentEvent | BaseChatMessage]) -> str | None:
        last = thread[-1].source
        return {"user": "p1", "p1": "p2", "p2": None, "p3": "p4"}.get(last, "p1")

    selector = ReplayChatCompletionClient(["p3"])
    agents = [kit.ScriptedAgent(f"p{i}") for i in range(1, 5)]
    team = SelectorGroupChat(agents, selector, selector_func=pick, termination_condition=MaxMessageTermination(6))
    result = await team.run(task="task")
    assert [m.source for m in result.messages] == ["user", "p1", "p2", "p3", "p4", "p1"]
    # A speaker chosen by selector_func counts as the previous speaker: the model was not offered p2 again.
    assert "from ['p1', 'p3', 'p4'] to play" in _prompt(selector.create_calls[0])


async def test_candidate_func_with_one_name_needs_no_model(kit: SimpleNamespace) -> None:
    def candidates(thread: Sequence[BaseAgentEvent | BaseChatMessage]) -> list[str]:
        last = thread[-1].source
        return {"user": ["p1"], "p1": ["p2"], "p2": ["p2", "p3"], "p3": ["p4"]}.get(last, ["p1"])

    selector = ReplayChatCompletionClient(["p3"])
    agents = [kit.ScriptedAgent(f"p{i}") for i in range(1, 5)]
    team = SelectorGroupChat(
        agents, selector, candidate_func=candidates, termination_condition=MaxMessageTermination(6)
    )
    result = await team.run(task="task")
    assert [m.source for m in result.messages] == ["user", "p1", "p2", "p3", "p4", "p1"]
    assert len(selector.create_calls) == 1
