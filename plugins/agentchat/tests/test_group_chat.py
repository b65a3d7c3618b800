"""The team base (salon_agentchat.group_chat) through a strategy written the AutoGen way, as third parties do.

``_EchoChat`` below uses only the extension API that AutoGen strategies use: a ``BaseGroupChatManager``
subclass (``select_speaker``, ``validate_group_state``, ``reset``, ``save_state``/``load_state``,
``update_message_thread``) and a ``BaseGroupChat`` subclass (``_create_group_chat_manager_factory``).
These tests need nothing from salon-teams.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pytest
from pydantic import BaseModel

from salon import AgentRuntime, CancellationToken, RoutedAgent, SingleThreadedAgentRuntime, TypeSubscription
from salon_agentchat.agents import BaseChatAgent
from salon_agentchat.base import ChatAgent, Response, Team, TerminationCondition
from salon_agentchat.conditions import MaxMessageTermination, TextMentionTermination
from salon_agentchat.group_chat import BaseGroupChat, BaseGroupChatManager
from salon_agentchat.messages import (
    BaseAgentEvent,
    BaseChatMessage,
    MessageFactory,
    SelectSpeakerEvent,
    StructuredMessage,
    TextMessage,
)
from salon_agentchat.state import BaseGroupChatManagerState


class Verdict(BaseModel):
    ok: bool


class Talker(BaseChatAgent):
    """Says ``"<name> <n>"``, or ``stop_word`` on its ``stop_at``-th turn; can answer with a structured verdict."""

    def __init__(self, name: str, *, stop_at: int = 0, stop_word: str = "DONE", structured: bool = False) -> None:
        super().__init__(name, f"{name} talks.")
        self.turns = 0
        self.stop_at = stop_at
        self.stop_word = stop_word
        self.structured = structured
        self.gate: asyncio.Event | None = None

    @property
    def produced_message_types(self) -> Sequence[type[BaseChatMessage]]:
        return (StructuredMessage[Verdict],) if self.structured else (TextMessage,)

    async def on_messages(self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken) -> Response:
        self.turns += 1
        if self.gate is not None:
            await self.gate.wait()
        if self.structured:
            return Response(chat_message=StructuredMessage[Verdict](content=Verdict(ok=True), source=self.name))
        text = self.stop_word if self.turns == self.stop_at else f"{self.name} {self.turns}"
        return Response(chat_message=TextMessage(content=text, source=self.name))

    async def on_reset(self, cancellation_token: CancellationToken) -> None:
        self.turns = 0


class _EchoManager(BaseGroupChatManager):
    """Asks whoever ``plan`` names for each turn (a name, a list of names, or anything else to test errors)."""

    def __init__(self, *args: Any, plan: Callable[[int], Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._plan = plan
        self._turn = 0
        self.validated: list[list[str] | None] = []

    async def validate_group_state(self, messages: list[BaseChatMessage] | None) -> None:
        self.validated.append(None if messages is None else [m.to_text() for m in messages])
        if messages and messages[0].to_text() == "invalid":
            raise LookupError("this strategy refuses the task 'invalid'")

    async def select_speaker(self, thread: Sequence[BaseAgentEvent | BaseChatMessage]) -> list[str] | str:
        self._turn += 1
        return self._plan(self._turn)  # type: ignore[no-any-return]

    async def reset(self) -> None:
        self._message_thread.clear()
        self._current_turn = 0
        self._turn = 0
        if self._termination_condition is not None:
            await self._termination_condition.reset()

    async def save_state(self) -> Mapping[str, Any]:
        return BaseGroupChatManagerState(
            message_thread=[m.dump() for m in self._message_thread], current_turn=self._current_turn
        ).model_dump()

    async def load_state(self, state: Mapping[str, Any]) -> None:
        loaded = BaseGroupChatManagerState.model_validate(state)
        self._message_thread = [self._message_factory.create(m) for m in loaded.message_thread]
        self._current_turn = loaded.current_turn


class _EchoChat(BaseGroupChat):
    def __init__(
        self,
        participants: list[ChatAgent | Team],
        plan: Callable[[int], Any],
        *,
        termination_condition: TerminationCondition | None = None,
        max_turns: int | None = None,
        name: str = "EchoChat",
        runtime: AgentRuntime | None = None,
    ) -> None:
        super().__init__(
            name=name,
            description="A test strategy.",
            participants=participants,
            group_chat_manager_name="EchoManager",
            group_chat_manager_class=_EchoManager,
            termination_condition=termination_condition,
            max_turns=max_turns,
            runtime=runtime,
        )
        self._plan = plan

    def _create_group_chat_manager_factory(
        self,
        name: str,
        group_topic_type: str,
        output_topic_type: str,
        participant_topic_types: list[str],
        participant_names: list[str],
        participant_descriptions: list[str],
        output_message_queue: asyncio.Queue[Any],
        termination_condition: TerminationCondition | None,
        max_turns: int | None,
        message_factory: MessageFactory,
    ) -> Callable[[], _EchoManager]:
        def factory() -> _EchoManager:
            return _EchoManager(
                name,
                group_topic_type,
                output_topic_type,
                participant_topic_types,
                participant_names,
                participant_descriptions,
                output_message_queue,
                termination_condition,
                max_turns,
                message_factory,
                self._emit_team_events,
                plan=self._plan,
            )

        return factory


def _texts(messages: Sequence[BaseAgentEvent | BaseChatMessage]) -> list[str]:
    return [m.to_text() for m in messages]


async def test_a_third_party_strategy_runs_on_the_base() -> None:
    order = ["b", "a", "b"]
    team = _EchoChat([Talker("a"), Talker("b")], plan=lambda turn: order[turn - 1], max_turns=3)
    result = await team.run(task="go")
    assert _texts(result.messages) == ["go", "b 1", "a 1", "b 2"]
    assert result.stop_reason == "Maximum number of turns 3 reached."
    state = await team.save_state()
    assert [m["content"] for m in state["agent_states"]["EchoManager"]["message_thread"]] == ["go", "b 1", "a 1", "b 2"]


async def test_several_speakers_per_turn_and_the_condition_sees_the_whole_turn() -> None:
    # Both speak in turn 1; "a" says the stop word first, "b" answers last: the condition must still see it.
    team = _EchoChat(
        [Talker("a", stop_at=1), Talker("b")],
        plan=lambda turn: ["a", "b"],
        termination_condition=TextMentionTermination("DONE"),
    )
    result = await team.run(task="go")
    assert sorted(_texts(result.messages)) == sorted(["go", "DONE", "b 1"])
    assert result.stop_reason is not None and "DONE" in result.stop_reason


async def test_a_turn_waits_for_every_speaker() -> None:
    slow = Talker("a")
    slow.gate = asyncio.Event()
    team = _EchoChat([slow, Talker("b")], plan=lambda turn: ["a", "b"], max_turns=1)
    run = asyncio.create_task(team.run(task="go"))
    for _ in range(20):
        await asyncio.sleep(0)
    assert not run.done()  # "b" answered, "a" has not: the turn is not over
    slow.gate.set()
    result = await asyncio.wait_for(run, timeout=5)
    assert _texts(result.messages)[-2:] == ["b 1", "a 1"]


async def test_a_speaker_outside_the_team_is_an_error_for_the_caller() -> None:
    team = _EchoChat([Talker("a")], plan=lambda turn: "nobody", max_turns=1)
    with pytest.raises(RuntimeError, match="returned 'nobody', which is not a participant"):
        await team.run(task="go")


async def test_validate_group_state_can_refuse_a_start_with_its_own_error_type() -> None:
    team = _EchoChat([Talker("a")], plan=lambda turn: "a", max_turns=1)
    with pytest.raises(LookupError, match="refuses the task 'invalid'"):
        await team.run(task="invalid")
    assert _texts((await team.run(task="fine")).messages) == ["fine", "a 1"]


async def test_a_strategy_that_selects_no_one_ends_the_run_when_the_team_goes_idle() -> None:
    team = _EchoChat([Talker("a")], plan=lambda turn: "a" if turn == 1 else [], max_turns=5)
    result = await asyncio.wait_for(team.run(task="go"), timeout=5)
    assert _texts(result.messages) == ["go", "a 1"]
    assert result.stop_reason == "The group chat is stopped."


async def test_a_terminated_condition_stops_the_next_run_at_once() -> None:
    condition = MaxMessageTermination(1)
    team = _EchoChat([Talker("a")], plan=lambda turn: "a", termination_condition=condition)
    await condition(  # fires outside the team, so it is still "terminated" when the run starts
        [TextMessage(content="x", source="u")]
    )
    assert condition.terminated
    result = await team.run(task="go")
    assert result.messages == []
    assert result.stop_reason == "The group chat has already terminated."


async def test_structured_messages_a_participant_produces_are_registered_by_the_team() -> None:
    team = _EchoChat([Talker("a", structured=True), Talker("b")], plan=lambda turn: ["a", "b"][turn - 1], max_turns=2)
    result = await team.run(task="go")
    assert isinstance(result.messages[1], StructuredMessage)
    state = await team.save_state()
    fresh = _EchoChat([Talker("a", structured=True), Talker("b")], plan=lambda turn: "b", max_turns=1)
    await fresh.load_state(state)  # the saved thread holds the structured message: it must load back
    assert _texts((await fresh.run()).messages) == ["b 1"]


async def test_team_ids_and_topics_are_unique_per_instance() -> None:
    one = _EchoChat([Talker("a")], plan=lambda turn: "a")
    two = _EchoChat([Talker("a")], plan=lambda turn: "a")
    assert one._team_id != two._team_id
    assert set(one._participant_topic_types).isdisjoint(two._participant_topic_types)
    assert one._group_topic_type != two._group_topic_type and one._output_topic_type != two._output_topic_type


# --- setup on the runtime is all-or-nothing, or resumable ------------------------------------------------


async def test_a_participant_name_unusable_in_an_agent_type_is_refused_before_anything_is_registered() -> None:
    runtime = SingleThreadedAgentRuntime()
    runtime.start()
    inner = _EchoChat([Talker("x")], plan=lambda turn: "x", name="inner team")
    team = _EchoChat([Talker("a"), inner], plan=lambda turn: "a", max_turns=1, runtime=runtime)
    try:
        for _ in range(2):  # the second run reports the same cause
            with pytest.raises(ValueError, match=r"Participant 'inner team' of team 'EchoChat' .* agent type"):
                await team.run(task="go")
        with pytest.raises(LookupError):
            await runtime.get(f"a_{team.team_id}")  # nothing was left registered
    finally:
        await runtime.stop()


async def test_setup_that_fails_half_way_reports_its_own_cause_again() -> None:
    runtime = SingleThreadedAgentRuntime()
    runtime.start()
    team = _EchoChat([Talker("a"), Talker("b")], plan=lambda turn: "a", max_turns=1, runtime=runtime)
    taken = f"b_{team.team_id}"  # registered by someone else: the team's setup fails after registering "a"
    await RoutedAgent.register(runtime, taken, lambda: RoutedAgent("squatter"))
    try:
        for _ in range(2):  # not "a_... already exists" the second time
            with pytest.raises(ValueError, match=f"type '{taken}' already exists"):
                await team.run(task="go")
    finally:
        await runtime.stop()


async def test_a_team_whose_setup_failed_runs_once_the_cause_is_removed() -> None:
    runtime = SingleThreadedAgentRuntime()
    runtime.start()
    team = _EchoChat([Talker("a"), Talker("b")], plan=lambda turn: ["a", "b"][turn - 1], max_turns=2, runtime=runtime)
    blocker = TypeSubscription(topic_type=f"group_topic_{team.team_id}", agent_type=f"b_{team.team_id}")
    await runtime.add_subscription(blocker)
    try:
        with pytest.raises(ValueError, match="Subscription already exists"):
            await team.run(task="go")
        await runtime.remove_subscription(blocker.id)
        result = await team.run(task="go")
        assert _texts(result.messages) == ["go", "a 1", "b 1"]  # each message reached each agent once
    finally:
        await runtime.stop()


class _TakeTurnsManager(BaseGroupChatManager):
    """A strategy written the short way: an option of its own, and its initial state written once."""

    def __init__(self, *args: Any, start: int, thread_lengths: list[int], **kwargs: Any) -> None:
        self._start = start  # read by _reset_strategy_state, which the base __init__ calls
        super().__init__(*args, **kwargs)
        self._thread_lengths = thread_lengths

    def _reset_strategy_state(self) -> None:
        self._next = self._start

    async def validate_group_state(self, messages: list[BaseChatMessage] | None) -> None:
        pass

    async def select_speaker(self, thread: Sequence[BaseAgentEvent | BaseChatMessage]) -> str:
        self._thread_lengths.append(len(thread))
        name = self._participant_names[self._next % len(self._participant_names)]
        self._next += 1
        return name


class _TakeTurnsChat(BaseGroupChat):
    def __init__(self, participants: list[ChatAgent | Team], *, start: int, max_turns: int) -> None:
        self._start = start
        self.thread_lengths: list[int] = []
        super().__init__(
            name="TakeTurns",
            description="A test strategy that relies on the base's manager factory and reset.",
            participants=participants,
            group_chat_manager_name="TakeTurnsManager",
            group_chat_manager_class=_TakeTurnsManager,
            max_turns=max_turns,
            emit_team_events=True,
        )

    def _manager_options(self) -> dict[str, Any]:
        return {"start": self._start, "thread_lengths": self.thread_lengths}


async def test_a_strategy_written_the_short_way_gets_its_options_and_a_full_reset() -> None:
    team = _TakeTurnsChat([Talker("a"), Talker("b"), Talker("c")], start=1, max_turns=2)
    first = await team.run(task="go")
    assert _texts([m for m in first.messages if isinstance(m, TextMessage)]) == ["go", "b 1", "c 1"]
    # emit_team_events reached the manager through the default factory.
    assert [m.content for m in first.messages if isinstance(m, SelectSpeakerEvent)] == [["b"], ["c"]]
    second = await team.run()
    assert _texts([m for m in second.messages if isinstance(m, TextMessage)]) == ["a 1", "b 2"]

    assert team.thread_lengths == [1, 2, 3, 4]

    await team.reset()  # the base's reset: thread, turn count, and the strategy's own state
    again = await team.run(task="go")
    assert _texts([m for m in again.messages if isinstance(m, TextMessage)]) == ["go", "b 1", "c 1"]
    assert team.thread_lengths[4:] == [1, 2]
