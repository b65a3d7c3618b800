"""RoundRobinGroupChat: tasks, streaming, continuation, reset, termination, turns, state and nesting."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from salon.models import ReplayChatCompletionClient
from salon_agentchat.agents import AssistantAgent
from salon_agentchat.base import TaskResult
from salon_agentchat.conditions import MaxMessageTermination, TextMentionTermination
from salon_agentchat.messages import BaseChatMessage, SelectSpeakerEvent, TextMessage
from salon_teams import RoundRobinGroupChat


async def test_run_with_a_string_task_cycles_through_the_participants(kit: SimpleNamespace) -> None:
    agents = [kit.ScriptedAgent(n) for n in "abc"]
    team = RoundRobinGroupChat(agents, termination_condition=MaxMessageTermination(5))
    result = await team.run(task="go")
    assert kit.texts(result.messages) == ["go", "a #1", "b #1", "c #1", "a #2"]
    assert result.messages[0].source == "user"
    assert result.stop_reason == "Maximum number of messages 5 reached, current message count: 5"
    # Each agent sees what was said since its last turn, and only that.
    assert agents[0].seen == [["go"], ["b #1", "c #1"]]
    assert agents[2].seen == [["go", "a #1", "b #1"]]


async def test_run_stream_yields_each_message_then_the_task_result(kit: SimpleNamespace) -> None:
    team = RoundRobinGroupChat([kit.ScriptedAgent("a"), kit.ScriptedAgent("b")], max_turns=3)
    items = [item async for item in team.run_stream(task="go")]
    assert isinstance(items[-1], TaskResult)
    assert [m.to_text() for m in items[:-1]] == ["go", "a #1", "b #1", "a #2"]
    assert items[-1].messages == items[:-1]
    assert items[-1].stop_reason == "Maximum number of turns 3 reached."


async def test_task_as_a_message_or_a_list_of_messages(kit: SimpleNamespace) -> None:
    team = RoundRobinGroupChat([kit.ScriptedAgent("a")], max_turns=1)
    first = TextMessage(content="one", source="alice")
    result = await team.run(task=first)
    assert kit.texts(result.messages) == ["one", "a #1"]
    assert result.messages[0] is first
    result = await team.run(task=[TextMessage(content="x", source="u"), TextMessage(content="y", source="u")])
    assert kit.texts(result.messages) == ["x", "y", "a #2"]


async def test_output_task_messages_false_leaves_the_task_out(kit: SimpleNamespace) -> None:
    agent = kit.ScriptedAgent("a")
    team = RoundRobinGroupChat([agent], max_turns=1)
    result = await team.run(task="hidden", output_task_messages=False)
    assert kit.texts(result.messages) == ["a #1"]
    assert agent.seen == [["hidden"]]  # the agent still got it


@pytest.mark.parametrize(
    ("task", "fragment"),
    [([], "empty"), (["text"], "BaseChatMessage"), (42, "string, a BaseChatMessage or a list")],
)
async def test_malformed_tasks_are_refused_before_anything_runs(
    kit: SimpleNamespace, task: object, fragment: str
) -> None:
    agent = kit.ScriptedAgent("a")
    team = RoundRobinGroupChat([agent], max_turns=1)
    with pytest.raises(ValueError, match=fragment):
        await team.run(task=task)  # type: ignore[arg-type]
    assert agent.count == 0
    assert kit.texts((await team.run(task="fine")).messages) == ["fine", "a #1"]


async def test_unregistered_custom_message_type_is_refused_with_the_fix(kit: SimpleNamespace) -> None:
    class Note(TextMessage):
        pass

    team = RoundRobinGroupChat([kit.ScriptedAgent("a")], max_turns=1)
    with pytest.raises(ValueError, match="custom_message_types"):
        await team.run(task=Note(content="n", source="u"))
    registered = RoundRobinGroupChat([kit.ScriptedAgent("a")], max_turns=1, custom_message_types=[Note])
    result = await registered.run(task=Note(content="n", source="u"))
    assert isinstance(result.messages[0], Note)


async def test_participants_must_exist_and_have_unique_names(kit: SimpleNamespace) -> None:
    with pytest.raises(ValueError, match="at least one participant"):
        RoundRobinGroupChat([])
    with pytest.raises(ValueError, match="repeated: \\['a'\\]"):
        RoundRobinGroupChat([kit.ScriptedAgent("a"), kit.ScriptedAgent("a")])
    with pytest.raises(ValueError, match="max_turns"):
        await RoundRobinGroupChat([kit.ScriptedAgent("a")], max_turns=0).run(task="x")


async def test_a_second_run_continues_and_reset_starts_over(kit: SimpleNamespace) -> None:
    agents = [kit.ScriptedAgent("a"), kit.ScriptedAgent("b")]
    team = RoundRobinGroupChat(agents, termination_condition=MaxMessageTermination(3))
    assert kit.texts((await team.run(task="go")).messages) == ["go", "a #1", "b #1"]
    # No task: the conversation goes on with the next speaker; the condition was reset after firing.
    assert kit.texts((await team.run()).messages) == ["a #2", "b #2", "a #3"]
    assert agents[1].seen[-1] == ["a #2"]
    await team.reset()
    assert [a.resets for a in agents] == [1, 1]
    assert kit.texts((await team.run(task="again")).messages) == ["again", "a #1", "b #1"]
    assert agents[0].seen == [["again"]]


async def test_termination_sees_only_new_messages_and_resets_after_firing(kit: SimpleNamespace) -> None:
    condition = kit.GatedTermination(limit=3)
    team = RoundRobinGroupChat([kit.ScriptedAgent("a"), kit.ScriptedAgent("b")], termination_condition=condition)
    result = await team.run(task="go")
    assert kit.texts(result.messages) == ["go", "a #1", "b #1"]
    assert result.stop_reason == "gated limit 3"
    assert condition.calls == [["go"], ["a #1"], ["b #1"]]
    assert condition.terminated is False and condition.count == 0
    result = await team.run()
    assert kit.texts(result.messages) == ["a #2", "b #2", "a #3"]
    assert condition.calls[3:] == [["a #2"], ["b #2"], ["a #3"]]


async def test_max_turns_counts_agent_turns_and_a_later_run_continues(kit: SimpleNamespace) -> None:
    team = RoundRobinGroupChat([kit.ScriptedAgent("a"), kit.ScriptedAgent("b")], max_turns=2)
    result = await team.run(task="go")
    assert kit.texts(result.messages) == ["go", "a #1", "b #1"]
    assert result.stop_reason == "Maximum number of turns 2 reached."
    result = await team.run()
    assert kit.texts(result.messages) == ["a #2", "b #2"]


async def test_termination_by_the_task_itself_asks_no_one(kit: SimpleNamespace) -> None:
    agent = kit.ScriptedAgent("a")
    team = RoundRobinGroupChat([agent], termination_condition=TextMentionTermination("STOP"))
    result = await team.run(task="STOP now")
    assert kit.texts(result.messages) == ["STOP now"]
    assert result.stop_reason is not None and "STOP" in result.stop_reason
    assert agent.count == 0


async def test_save_state_is_keyed_by_name_and_a_fresh_team_continues_with_the_next_speaker(
    kit: SimpleNamespace,
) -> None:
    team = RoundRobinGroupChat([kit.ScriptedAgent("a"), kit.ScriptedAgent("b"), kit.ScriptedAgent("c")], max_turns=4)
    await team.run(task="go")  # a, b, c, a
    state = await team.save_state()
    assert set(state["agent_states"]) == {"a", "b", "c", "RoundRobinGroupChatManager"}
    manager_state = state["agent_states"]["RoundRobinGroupChatManager"]
    assert manager_state["next_speaker_index"] == 1
    assert [m["content"] for m in manager_state["message_thread"]] == ["go", "a #1", "b #1", "c #1", "a #2"]
    assert state["agent_states"]["a"]["agent_state"] == {"count": 2}

    fresh_agents = [kit.ScriptedAgent("a"), kit.ScriptedAgent("b"), kit.ScriptedAgent("c")]
    fresh = RoundRobinGroupChat(fresh_agents, max_turns=2)
    await fresh.load_state(state)
    result = await fresh.run()
    assert kit.texts(result.messages) == ["b #2", "c #2"]
    assert fresh_agents[1].seen == [["c #1", "a #2"]]  # the saved buffer reached the agent
    assert await fresh.save_state() != state


async def test_load_state_names_what_is_missing(kit: SimpleNamespace) -> None:
    team = RoundRobinGroupChat([kit.ScriptedAgent("a")], max_turns=1)
    await team.run(task="go")
    state = await team.save_state()
    other = RoundRobinGroupChat([kit.ScriptedAgent("z")], max_turns=1)
    with pytest.raises(ValueError, match=r"no entry for \['z'\]"):
        await other.load_state(state)
    with pytest.raises(ValueError, match="Not a team state"):
        await other.load_state({"agent_states": 3})


async def test_a_team_can_be_a_participant(kit: SimpleNamespace) -> None:
    inner_agents = [kit.ScriptedAgent("x"), kit.ScriptedAgent("y")]
    inner = RoundRobinGroupChat(inner_agents, name="inner", max_turns=2)
    outer_agent = kit.ScriptedAgent("a")
    outer = RoundRobinGroupChat([outer_agent, inner], max_turns=3)
    result = await outer.run(task="go")
    # The inner team's messages stream through the outer run; its task messages are not repeated.
    assert kit.texts(result.messages) == ["go", "a #1", "x #1", "y #1", "a #2"]
    assert inner_agents[0].seen == [["go", "a #1"]]
    assert outer_agent.seen[-1] == ["x #1", "y #1"]
    state = await outer.save_state()
    assert "agent_states" in state["agent_states"]["inner"]["agent_state"]


async def test_emit_team_events_puts_speaker_selections_in_the_stream(kit: SimpleNamespace) -> None:
    team = RoundRobinGroupChat([kit.ScriptedAgent("a"), kit.ScriptedAgent("b")], max_turns=2, emit_team_events=True)
    result = await team.run(task="go")
    kinds = [(type(m).__name__, m.to_text()) for m in result.messages]
    assert [k for k, _ in kinds] == [
        "TextMessage",
        "SelectSpeakerEvent",
        "TextMessage",
        "SelectSpeakerEvent",
        "TextMessage",
    ]
    events = [m for m in result.messages if isinstance(m, SelectSpeakerEvent)]
    assert [e.content for e in events] == [["a"], ["b"]]
    assert all(e.source == "RoundRobinGroupChatManager" for e in events)


async def test_pause_and_resume_reach_the_participants(kit: SimpleNamespace) -> None:
    agents = [kit.ScriptedAgent("a"), kit.ScriptedAgent("b")]
    team = RoundRobinGroupChat(agents, max_turns=1)
    with pytest.raises(RuntimeError, match="has not run yet"):
        await team.pause()
    await team.run(task="go")
    await team.pause()
    await team.resume()
    assert [(a.pauses, a.resumes) for a in agents] == [(1, 1), (1, 1)]
    assert kit.texts((await team.run()).messages) == ["b #1"]


async def test_assistant_agents_on_a_replay_model() -> None:
    agents = [
        AssistantAgent(name, model_client=ReplayChatCompletionClient([f"{name} one", f"{name} two"]))
        for name in ("writer", "critic")
    ]
    team = RoundRobinGroupChat(agents, termination_condition=TextMentionTermination("two"))
    result = await team.run(task="Write.")
    assert [m.to_text() for m in result.messages] == ["Write.", "writer one", "critic one", "writer two"]
    assert all(isinstance(m, BaseChatMessage) for m in result.messages)
    state = await team.save_state()
    fresh_agents = [
        AssistantAgent(name, model_client=ReplayChatCompletionClient([f"{name} three"]))
        for name in ("writer", "critic")
    ]
    fresh = RoundRobinGroupChat(fresh_agents, max_turns=1)
    await fresh.load_state(state)
    result = await fresh.run()
    assert [m.to_text() for m in result.messages] == ["critic three"]
