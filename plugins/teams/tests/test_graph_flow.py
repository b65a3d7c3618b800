"""GraphFlow runs: sequences, fan-out, joins, conditions, loops, activation groups, stop, resume and state."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Sequence

import pytest

from salon import CancellationToken, SingleThreadedAgentRuntime
from salon.models import ReplayChatCompletionClient
from salon_agentchat.agents import (
    AssistantAgent,
    BaseChatAgent,
    MessageFilterAgent,
    MessageFilterConfig,
    PerSourceFilter,
)
from salon_agentchat.base import Response
from salon_agentchat.conditions import MaxMessageTermination, SourceMatchTermination
from salon_agentchat.messages import BaseChatMessage, StopMessage, TextMessage
from salon_teams import DiGraph, DiGraphBuilder, DiGraphEdge, DiGraphNode, GraphFlow

COMPLETE = "Digraph execution is complete"


class _Scripted(BaseChatAgent):
    """Says its scripted lines in order (then repeats the last one) and remembers what it was given."""

    def __init__(self, name: str, *lines: str) -> None:
        super().__init__(name, f"agent {name}")
        self._lines = list(lines) or [f"{name} done"]
        self.calls = 0
        self.received: list[BaseChatMessage] = []

    @property
    def produced_message_types(self) -> Sequence[type[BaseChatMessage]]:
        return (TextMessage,)

    async def on_messages(self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken) -> Response:
        self.received.extend(messages)
        line = self._lines[min(self.calls, len(self._lines) - 1)]
        self.calls += 1
        return Response(chat_message=TextMessage(content=line, source=self.name))

    async def on_reset(self, cancellation_token: CancellationToken) -> None:
        self.received.clear()


class _Rendezvous(_Scripted):
    """Answers only once every agent sharing its barrier is speaking at the same time."""

    def __init__(self, name: str, barrier: asyncio.Barrier) -> None:
        super().__init__(name)
        self._barrier = barrier

    async def on_messages(self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken) -> Response:
        async with asyncio.timeout(5):  # run one after the other, they would wait here for ever
            await self._barrier.wait()
        return await super().on_messages(messages, cancellation_token)


class _Broken(_Scripted):
    async def on_messages(self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken) -> Response:
        raise LookupError("node B failed")


@pytest.fixture(params=["embedded", "shared"])
async def runtime(request: pytest.FixtureRequest) -> AsyncIterator[SingleThreadedAgentRuntime | None]:
    if request.param == "embedded":
        yield None
        return
    shared = SingleThreadedAgentRuntime()
    shared.start()
    yield shared
    await shared.stop()


def _sources(messages: Sequence[BaseChatMessage | object]) -> list[str]:
    return [m.source for m in messages]  # type: ignore[attr-defined]


def _chain(*agents: BaseChatAgent) -> DiGraphBuilder:
    builder = DiGraphBuilder()
    for agent in agents:
        builder.add_node(agent)
    for a, b in itertools.pairwise(agents):
        builder.add_edge(a, b)
    return builder


async def test_sequence_ends_when_no_node_is_ready(runtime: SingleThreadedAgentRuntime | None) -> None:
    a, b, c = _Scripted("A"), _Scripted("B"), _Scripted("C")
    team = GraphFlow([a, b, c], graph=_chain(a, b, c).build(), runtime=runtime)
    result = await team.run(task="Hello")
    assert _sources(result.messages) == ["user", "A", "B", "C"]
    assert result.stop_reason == COMPLETE
    assert not any(isinstance(m, StopMessage) for m in result.messages)
    # A finished flow starts over from the start nodes on the next run.
    result = await team.run(task="Again")
    assert _sources(result.messages) == ["user", "A", "B", "C"]
    assert [a.calls, b.calls, c.calls] == [2, 2, 2]


async def test_fan_out_runs_nodes_concurrently(runtime: SingleThreadedAgentRuntime | None) -> None:
    barrier = asyncio.Barrier(2)
    a, b, c = _Scripted("A"), _Rendezvous("B", barrier), _Rendezvous("C", barrier)
    graph = DiGraphBuilder().add_node(a).add_node(b).add_node(c).add_edge(a, b).add_edge(a, c).build()
    result = await GraphFlow([a, b, c], graph=graph, runtime=runtime).run(task="go")
    assert _sources(result.messages)[:2] == ["user", "A"]
    assert set(_sources(result.messages)[2:]) == {"B", "C"}
    assert result.stop_reason == COMPLETE


async def test_join_all_waits_for_every_parent(runtime: SingleThreadedAgentRuntime | None) -> None:
    s, a, x, b, c = (_Scripted(n) for n in "SAXBC")
    builder = DiGraphBuilder()
    for agent in (s, a, x, b, c):
        builder.add_node(agent)
    builder.add_edge(s, a).add_edge(s, x).add_edge(x, b).add_edge(a, c).add_edge(b, c)
    result = await GraphFlow([s, a, x, b, c], graph=builder.build(), runtime=runtime).run(task="go")
    sources = _sources(result.messages)
    assert sources.count("C") == 1
    assert sources[-1] == "C" and sources.index("B") < sources.index("C")


@pytest.mark.parametrize("how", ["node", "edge"])
async def test_join_any_runs_after_each_parent(how: str) -> None:
    # S -> A -> C and S -> X -> B -> C: A finishes a turn before B, so an "any" join runs C twice.
    s, a, x, b, c = (_Scripted(n) for n in "SAXBC")
    builder = DiGraphBuilder()
    for agent in (s, a, x, b):
        builder.add_node(agent)
    builder.add_node(c, activation="any" if how == "node" else "all")
    condition = "any" if how == "edge" else None
    builder.add_edge(s, a).add_edge(s, x).add_edge(x, b)
    builder.add_edge(a, c, activation_condition=condition).add_edge(b, c, activation_condition=condition)
    result = await GraphFlow([s, a, x, b, c], graph=builder.build()).run(task="go")
    sources = _sources(result.messages)
    assert sources[0:2] == ["user", "S"]
    assert set(sources[2:4]) == {"A", "X"}
    assert set(sources[4:6]) == {"C", "B"}
    assert sources[6:] == ["C"]
    assert c.calls == 2


async def test_string_and_callable_conditions_pick_the_branch(runtime: SingleThreadedAgentRuntime | None) -> None:
    a, b, c, d = _Scripted("A", "I choose banana"), _Scripted("B"), _Scripted("C"), _Scripted("D")
    builder = DiGraphBuilder().add_node(a).add_node(b).add_node(c).add_node(d)
    builder.add_edge(a, b, condition="apple")
    builder.add_edge(a, c, condition="banana")
    builder.add_edge(a, d, condition=lambda msg: "cherry" in msg.to_model_text())
    team = GraphFlow([a, b, c, d], graph=builder.build(), runtime=runtime)
    assert _sources((await team.run(task="x")).messages) == ["user", "A", "C"]

    a2, b2, c2 = _Scripted("A", "odd"), _Scripted("B"), _Scripted("C")
    builder2 = DiGraphBuilder().add_node(a2).add_node(b2).add_node(c2)
    builder2.add_edge(a2, b2, lambda msg: "even" in msg.to_model_text())
    builder2.add_edge(a2, c2, lambda msg: "odd" in msg.to_model_text())
    result = await GraphFlow([a2, b2, c2], graph=builder2.build(), runtime=runtime).run(task="x")
    assert _sources(result.messages) == ["user", "A", "C"]


async def test_no_branch_matches_ends_the_flow() -> None:
    a, b = _Scripted("A", "neither"), _Scripted("B")
    graph = DiGraphBuilder().add_node(a).add_node(b).add_edge(a, b, condition="yes").build()
    result = await GraphFlow([a, b], graph=graph).run(task="x")
    assert _sources(result.messages) == ["user", "A"]
    assert result.stop_reason == COMPLETE


async def test_loop_with_exit_condition_driven_by_a_model(runtime: SingleThreadedAgentRuntime | None) -> None:
    a, c = _Scripted("A"), _Scripted("C")
    b = AssistantAgent("B", model_client=ReplayChatCompletionClient(["loop", "loop", "exit"]))
    graph = DiGraph(
        nodes={
            "A": DiGraphNode(name="A", edges=[DiGraphEdge(target="B")]),
            "B": DiGraphNode(
                name="B", edges=[DiGraphEdge(target="C", condition="exit"), DiGraphEdge(target="A", condition="loop")]
            ),
            "C": DiGraphNode(name="C"),
        },
        default_start_node="A",
    )
    team = GraphFlow([a, b, c], graph=graph, runtime=runtime, termination_condition=MaxMessageTermination(20))
    result = await team.run(task="Start")
    assert _sources(result.messages) == ["user", "A", "B", "A", "B", "A", "B", "C"]
    assert result.stop_reason == COMPLETE


async def test_self_loop() -> None:
    a, b, c = _Scripted("A"), _Scripted("B", "loop", "loop", "exit"), _Scripted("C")
    builder = DiGraphBuilder().add_node(a).add_node(b).add_node(c)
    builder.add_edge(a, b).add_edge(b, c, condition="exit").add_edge(b, b, condition="loop", activation_group="again")
    team = GraphFlow([a, b, c], graph=builder.set_entry_point(a).build(), max_turns=20)
    assert _sources((await team.run(task="Start")).messages) == ["user", "A", "B", "B", "B", "C"]


async def test_activation_groups_let_a_loop_reenter_a_join() -> None:
    def agents() -> list[_Scripted]:
        return [_Scripted("A"), _Scripted("B", "CONTINUE", "CONTINUE", "STOP"), _Scripted("C"), _Scripted("E")]

    # With separate groups, C's loop-back edge alone re-activates B.
    a, b, c, e = agents()
    builder = DiGraphBuilder().add_node(a).add_node(b).add_node(c).add_node(e)
    builder.add_edge(a, b, activation_group="initial")
    builder.add_edge(b, c, condition="CONTINUE").add_edge(b, e, condition="STOP")
    builder.add_edge(c, b, activation_group="feedback")
    team = GraphFlow([a, b, c, e], graph=builder.build(), max_turns=20)
    assert _sources((await team.run(task="go")).messages) == ["user", "A", "B", "C", "B", "C", "B", "E"]

    # In one group, B waits for A *and* C, so it never runs and the flow stops after A.
    a, b, c, e = agents()
    builder = DiGraphBuilder().add_node(a).add_node(b).add_node(c).add_node(e)
    builder.add_edge(a, b).add_edge(b, c, condition="CONTINUE").add_edge(b, e, condition="STOP").add_edge(c, b)
    builder.set_entry_point(a)
    result = await GraphFlow([a, b, c, e], graph=builder.build(), max_turns=20).run(task="go")
    assert _sources(result.messages) == ["user", "A"]
    assert result.stop_reason == COMPLETE


async def test_two_loops_through_one_hub(runtime: SingleThreadedAgentRuntime | None) -> None:
    a, b, c, e = _Scripted("A"), _Scripted("B"), _Scripted("C"), _Scripted("E")
    o = _Scripted("O", "to_x", "to_y", "exit")
    x, y = _Scripted("X", "to_o"), _Scripted("Y", "to_o")
    graph = DiGraph(
        nodes={
            "A": DiGraphNode(name="A", edges=[DiGraphEdge(target="B"), DiGraphEdge(target="C")]),
            "B": DiGraphNode(name="B", edges=[DiGraphEdge(target="O")]),
            "C": DiGraphNode(name="C", edges=[DiGraphEdge(target="O")]),
            "O": DiGraphNode(
                name="O",
                edges=[
                    DiGraphEdge(target="X", condition="to_x"),
                    DiGraphEdge(target="Y", condition="to_y"),
                    DiGraphEdge(target="E", condition="exit"),
                ],
            ),
            "X": DiGraphNode(name="X", edges=[DiGraphEdge(target="O", condition="to_o", activation_group="x_o")]),
            "Y": DiGraphNode(name="Y", edges=[DiGraphEdge(target="O", condition="to_o", activation_group="y_o")]),
            "E": DiGraphNode(name="E"),
        },
        default_start_node="A",
    )
    team = GraphFlow(
        [a, o, b, c, x, y, e], graph=graph, runtime=runtime, termination_condition=MaxMessageTermination(20)
    )
    result = await team.run(task="Start")
    assert _sources(result.messages)[:2] == ["user", "A"]
    assert set(_sources(result.messages)[2:4]) == {"B", "C"}
    assert _sources(result.messages)[4:] == ["O", "X", "O", "Y", "O", "E"]


async def test_start_nodes(runtime: SingleThreadedAgentRuntime | None) -> None:
    a, b, c, d = (_Scripted(n) for n in "ABCD")
    graph = DiGraphBuilder().add_node(a).add_node(b).add_node(c).add_node(d).add_edge(a, b).add_edge(c, d).build()
    result = await GraphFlow([a, b, c, d], graph=graph, runtime=runtime).run(task="go")
    sources = _sources(result.messages)
    assert set(sources[1:3]) == {"A", "C"} and set(sources[3:5]) == {"B", "D"}

    # An entry point replaces the parentless nodes.
    graph = DiGraphBuilder().add_node(a).add_node(b).add_node(c).add_edge(a, b).set_entry_point(c).build()
    result = await GraphFlow([a, b, c], graph=graph, runtime=runtime).run(task="go")
    assert _sources(result.messages) == ["user", "C"]


async def test_termination_condition_pauses_and_the_next_run_resumes(
    runtime: SingleThreadedAgentRuntime | None,
) -> None:
    a, b, c = _Scripted("A"), _Scripted("B"), _Scripted("C")
    team = GraphFlow(
        [a, b, c], graph=_chain(a, b, c).build(), runtime=runtime, termination_condition=MaxMessageTermination(3)
    )
    first = await team.run(task="Start")
    assert _sources(first.messages) == ["user", "A", "B"]
    assert first.stop_reason == "Maximum number of messages 3 reached, current message count: 3"
    second = await team.run()
    assert _sources(second.messages) == ["C"]
    assert second.stop_reason == COMPLETE
    assert [a.calls, b.calls, c.calls] == [1, 1, 1]


async def test_max_turns_counts_rounds_of_ready_nodes() -> None:
    a, b, c, d = (_Scripted(n) for n in "ABCD")
    graph = DiGraphBuilder().add_node(a).add_node(b).add_node(c).add_node(d).add_edge(a, b).add_edge(a, c)
    graph.add_edge(b, d).add_edge(c, d)
    result = await GraphFlow([a, b, c, d], graph=graph.build(), max_turns=2).run(task="go")
    assert _sources(result.messages)[:2] == ["user", "A"] and len(result.messages) == 4  # A, then B and C
    assert result.stop_reason == "Maximum number of turns 2 reached."


async def test_state_round_trip_resumes_in_a_new_team() -> None:
    def agents() -> list[_Scripted]:
        return [_Scripted("A"), _Scripted("B", "loop", "exit"), _Scripted("C")]

    def graph() -> DiGraph:
        builder = DiGraphBuilder()
        builder.add_node(_Scripted("A")).add_node(_Scripted("B")).add_node(_Scripted("C"))
        builder.add_edge("A", "B").add_edge("B", "A", condition="loop").add_edge("B", "C", condition="exit")
        return builder.set_entry_point("A").build()

    a, b, c = agents()
    team = GraphFlow([a, b, c], graph=graph(), termination_condition=SourceMatchTermination(["B"]))
    first = await team.run(task="Start")
    assert _sources(first.messages) == ["user", "A", "B"]
    assert first.stop_reason == "'B' answered"
    state = await team.save_state()
    manager = next(v for k, v in state["agent_states"].items() if k.startswith("GraphManager"))
    assert manager["ready"] == ["A"]
    assert manager["remaining"] == {"B": {"B": 1}, "A": {"A": 0}, "C": {"C": 1}}

    a2, b2, c2 = agents()
    b2.calls = 1  # B's script continues where the first B stopped
    new_team = GraphFlow([a2, b2, c2], graph=graph(), max_turns=10)
    await new_team.load_state(state)
    assert await new_team.save_state() == state
    resumed = await new_team.run()
    assert _sources(resumed.messages) == ["A", "B", "C"]
    assert resumed.stop_reason == COMPLETE


async def test_message_filter_agent_limits_what_a_node_sees(runtime: SingleThreadedAgentRuntime | None) -> None:
    a = _Scripted("A", "draft one", "draft two")
    b_inner = _Scripted("B", "loop", "exit")
    b = MessageFilterAgent(
        name="B",
        wrapped_agent=b_inner,
        filter=MessageFilterConfig(per_source=[PerSourceFilter(source="A", position="last", count=1)]),
    )
    c_inner = _Scripted("C")
    c = MessageFilterAgent(
        name="C",
        wrapped_agent=c_inner,
        filter=MessageFilterConfig(
            per_source=[
                PerSourceFilter(source="user", position="first", count=1),
                PerSourceFilter(source="B", position="last", count=1),
            ]
        ),
    )
    builder = DiGraphBuilder().add_node(a).add_node(b).add_node(c)
    builder.add_edge(a, b).add_edge(b, a, condition="loop").add_edge(b, c, condition="exit").set_entry_point(a)
    team = GraphFlow([a, b, c], graph=builder.build(), runtime=runtime, max_turns=10)
    result = await team.run(task="Write")
    assert _sources(result.messages) == ["user", "A", "B", "A", "B", "C"]
    assert [m.to_text() for m in b_inner.received] == ["draft one", "draft two"]
    assert [(m.source, m.to_text()) for m in c_inner.received] == [("user", "Write"), ("B", "exit")]


def test_construction_errors() -> None:
    a, b = _Scripted("A"), _Scripted("B")
    loop = DiGraphBuilder().add_node(a).add_node(b).add_node(_Scripted("C"))
    loop.add_edge("A", "B").add_edge("B", "A", condition="again").add_edge("B", "C", condition="done")
    loop_graph = loop.set_entry_point("A").build()
    with pytest.raises(ValueError, match="A termination condition is required for cyclic graphs"):
        GraphFlow([a, b, _Scripted("C")], graph=loop_graph)
    with pytest.raises(ValueError, match=r"Graph nodes \['C'\] are not participants"):
        GraphFlow([a, b], graph=loop_graph, max_turns=3)
    with pytest.raises(TypeError, match="must be a ChatAgent"):
        GraphFlow(["A"], graph=loop_graph)  # type: ignore[list-item]
    with pytest.raises(ValueError, match="Graph must have at least one start node"):
        GraphFlow([a, b], graph=_graph_without_start())


def _graph_without_start() -> DiGraph:
    return DiGraph(
        nodes={
            "A": DiGraphNode(name="A", edges=[DiGraphEdge(target="B")]),
            "B": DiGraphNode(name="B", edges=[DiGraphEdge(target="A")]),
        }
    )


async def test_participant_error_reaches_the_caller_with_its_type(runtime: SingleThreadedAgentRuntime | None) -> None:
    a, b = _Scripted("A"), _Broken("B")
    team = GraphFlow([a, b], graph=_chain(a, b).build(), runtime=runtime)
    with pytest.raises(LookupError, match="node B failed"):
        await team.run(task="go")


async def test_reset_goes_back_to_the_start() -> None:
    a, b, c = _Scripted("A"), _Scripted("B"), _Scripted("C")
    team = GraphFlow([a, b, c], graph=_chain(a, b, c).build(), termination_condition=MaxMessageTermination(2))
    assert _sources((await team.run(task="one")).messages) == ["user", "A"]
    await team.reset()
    assert _sources((await team.run(task="two")).messages) == ["user", "A"]


async def test_mixed_activation_groups() -> None:
    # D runs when A and B are both done ("critical", all) or as soon as C is ("optional", any).
    def build(*agents: _Scripted) -> DiGraph:
        builder = DiGraphBuilder()
        for agent in agents:
            builder.add_node(agent)
        builder.add_edge("A", "D", activation_group="critical", activation_condition="all")
        builder.add_edge("B", "D", activation_group="critical", activation_condition="all")
        builder.add_edge("C", "D", activation_group="optional", activation_condition="any")
        return builder.build()

    # All three start together: both groups fire in the same turn, and D speaks once.
    a, b, c, d = (_Scripted(n) for n in "ABCD")
    result = await GraphFlow([a, b, c, d], graph=build(a, b, c, d)).run(task="go")
    assert _sources(result.messages)[-1] == "D" and d.calls == 1

    # C alone is enough; A and B alone are not.
    a, b, c, d = (_Scripted(n) for n in "ABCD")
    graph = build(a, b, c, d)
    graph.default_start_node = "C"
    assert _sources((await GraphFlow([a, b, c, d], graph=graph).run(task="go")).messages) == ["user", "C", "D"]
    graph = build(a, b, c, d)
    graph.default_start_node = "A"
    assert _sources((await GraphFlow([a, b, c, d], graph=graph).run(task="go")).messages) == ["user", "A"]
