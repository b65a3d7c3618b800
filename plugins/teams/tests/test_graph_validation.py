"""DiGraph structure and validation, DiGraphBuilder, and the cycle rule against a brute-force definition."""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from salon import CancellationToken
from salon_agentchat.agents import BaseChatAgent
from salon_agentchat.base import Response
from salon_agentchat.messages import BaseChatMessage, TextMessage
from salon_teams import DiGraph, DiGraphBuilder, DiGraphEdge, DiGraphNode


class _Agent(BaseChatAgent):
    def __init__(self, name: str) -> None:
        super().__init__(name, f"agent {name}")

    @property
    def produced_message_types(self) -> Sequence[type[BaseChatMessage]]:
        return (TextMessage,)

    async def on_messages(self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken) -> Response:
        return Response(chat_message=TextMessage(content="ok", source=self.name))

    async def on_reset(self, cancellation_token: CancellationToken) -> None:
        pass


def _graph(spec: dict[str, list[tuple[str, str | None]]], start: str | None = None) -> DiGraph:
    """A graph from ``{node: [(target, condition or None), ...]}``."""
    return DiGraph(
        nodes={
            name: DiGraphNode(name=name, edges=[DiGraphEdge(target=t, condition=c) for t, c in edges])
            for name, edges in spec.items()
        },
        default_start_node=start,
    )


# ---------------------------------------------------------------- structure


def test_parents_start_and_leaf_nodes() -> None:
    graph = _graph({"A": [("B", None), ("C", None)], "B": [("D", None)], "C": [("D", None)], "D": []})
    assert graph.get_parents() == {"A": [], "B": ["A"], "C": ["A"], "D": ["B", "C"]}
    assert graph.get_start_nodes() == {"A"}
    assert graph.get_leaf_nodes() == {"D"}
    assert graph.get_remaining_map() == {"B": {"B": 1}, "C": {"C": 1}, "D": {"D": 2}}
    assert not graph.get_has_cycles()


def test_default_start_node_replaces_the_parentless_nodes() -> None:
    graph = _graph({"A": [("B", None)], "B": [], "C": []}, start="B")
    assert graph.get_start_nodes() == {"B"}


def test_string_condition_and_callable_condition() -> None:
    by_text = DiGraphEdge(target="B", condition="yes")
    by_function = DiGraphEdge(target="B", condition=lambda m: m.source == "A")
    assert by_text.is_conditional and by_function.is_conditional
    assert by_function.condition is None and by_function.condition_function is not None
    assert not DiGraphEdge(target="B").is_conditional
    yes, no = TextMessage(content="I say yes", source="A"), TextMessage(content="nope", source="Z")
    assert by_text.check_condition(yes) and not by_text.check_condition(no)
    assert by_function.check_condition(yes) and not by_function.check_condition(no)
    assert DiGraphEdge(target="B").check_condition(no)


def test_json_round_trip_keeps_string_conditions_and_drops_callables() -> None:
    graph = DiGraph(
        nodes={
            "A": DiGraphNode(
                name="A", edges=[DiGraphEdge(target="B", condition="go"), DiGraphEdge(target="C", condition=len)]
            ),
            "B": DiGraphNode(name="B"),
            "C": DiGraphNode(name="C"),
        }
    )
    data = graph.model_dump()
    assert data["nodes"]["A"]["edges"][0]["condition"] == "go"
    assert data["nodes"]["A"]["edges"][1]["condition"] is None
    assert "condition_function" not in data["nodes"]["A"]["edges"][1]
    loaded = DiGraph.model_validate_json(graph.model_dump_json())
    assert loaded.nodes["A"].edges[0].condition == "go"
    assert loaded.nodes["A"].edges[0].activation_group == "B"


def test_node_activation_is_the_default_of_its_incoming_edges() -> None:
    graph = DiGraph(
        nodes={
            "A": DiGraphNode(
                name="A", edges=[DiGraphEdge(target="C"), DiGraphEdge(target="D", activation_condition="all")]
            ),
            "B": DiGraphNode(
                name="B", edges=[DiGraphEdge(target="C"), DiGraphEdge(target="D", activation_condition="all")]
            ),
            "C": DiGraphNode(name="C", activation="any"),
            "D": DiGraphNode(name="D", activation="any"),
        }
    )
    assert [e.activation_condition for e in graph.nodes["A"].edges] == ["any", "all"]  # explicit wins
    # ... and survives a JSON round trip.
    loaded = DiGraph.model_validate_json(graph.model_dump_json())
    assert loaded.nodes["B"].edges[0].activation_condition == "any"


# ---------------------------------------------------------------- validation errors


@pytest.mark.parametrize(
    ("graph", "message"),
    [
        (DiGraph(nodes={}), "Graph has no nodes"),
        (_graph({"A": [("B", None)], "B": [("A", None)]}), "Graph must have at least one start node"),
        (
            _graph({"A": [("B", None)], "B": [("C", None)], "C": [("B", None)]}),
            "Graph must have at least one leaf node",
        ),
        (_graph({"A": [("B", "cond"), ("C", None)], "B": [], "C": []}), "Node 'A' has a mix of conditional and"),
        (_graph({"A": [("X", None)]}), "Node 'A' has an edge to 'X', which is not a node"),
        (_graph({"A": []}, start="Z"), "default_start_node 'Z' is not a node"),
        (DiGraph(nodes={"A": DiGraphNode(name="B")}), "Node key 'A' differs from the node's name 'B'"),
    ],
)
def test_invalid_graphs_say_what_is_wrong(graph: DiGraph, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        graph.graph_validate()


def test_mixed_callable_and_unconditional_edges_are_refused() -> None:
    graph = DiGraph(
        nodes={
            "A": DiGraphNode(
                name="A", edges=[DiGraphEdge(target="B", condition=lambda m: True), DiGraphEdge(target="C")]
            ),
            "B": DiGraphNode(name="B"),
            "C": DiGraphNode(name="C"),
        }
    )
    with pytest.raises(ValueError, match="Node 'A' has a mix of conditional and unconditional edges"):
        graph.graph_validate()


def test_conflicting_activation_conditions_in_one_group() -> None:
    graph = DiGraph(
        nodes={
            "A": DiGraphNode(name="A", edges=[DiGraphEdge(target="B"), DiGraphEdge(target="C")]),
            "B": DiGraphNode(name="B", edges=[DiGraphEdge(target="D", activation_condition="all")]),
            "C": DiGraphNode(name="C", edges=[DiGraphEdge(target="D", activation_condition="any")]),
            "D": DiGraphNode(name="D"),
        }
    )
    with pytest.raises(
        ValueError,
        match=re.escape(
            "Conflicting activation conditions for target 'D' group 'D': "
            "'all' (from node 'B') and 'any' (from node 'C')"
        ),
    ):
        graph.graph_validate()


def test_cycle_without_condition_names_the_cycle() -> None:
    graph = _graph({"A": [("B", None)], "B": [("C", None)], "C": [("A", None)], "D": [("E", None)], "E": []})
    with pytest.raises(ValueError, match="Cycle detected without exit condition: A -> B -> C -> A"):
        graph.has_cycles_with_exit()


# ---------------------------------------------------------------- the cycle rule: cases AutoGen misjudges


def test_cycles_sharing_nodes_are_each_checked() -> None:
    """AutoGen 0.7.5 accepts this graph: its search meets A -> B -> A and A -> B -> C -> A first (both
    through B, whose edges are conditional) and never examines A -> C -> A, which is all unconditional.
    With "any" joins that loop re-runs A and C forever, whatever the agents say."""
    graph = DiGraph(
        nodes={
            "S": DiGraphNode(name="S", edges=[DiGraphEdge(target="A")]),
            "A": DiGraphNode(name="A", edges=[DiGraphEdge(target="B"), DiGraphEdge(target="C")], activation="any"),
            "B": DiGraphNode(
                name="B",
                edges=[
                    DiGraphEdge(target="A", condition="retry"),
                    DiGraphEdge(target="C", condition="delegate"),
                    DiGraphEdge(target="E", condition="done"),
                ],
            ),
            "C": DiGraphNode(name="C", edges=[DiGraphEdge(target="A"), DiGraphEdge(target="B")], activation="any"),
            "E": DiGraphNode(name="E"),
        }
    )
    with pytest.raises(ValueError, match="Cycle detected without exit condition: A -> C -> A"):
        graph.graph_validate()


def test_conditional_edge_leaving_an_unconditional_loop_is_not_its_exit() -> None:
    """AutoGen 0.7.5's has_cycles_with_exit accepts A -> B -> A (both unconditional) because B also has a
    conditional edge to C; B -> A still always fires. (graph_validate rejects B earlier as mixed.)"""
    graph = _graph({"A": [("B", None)], "B": [("A", None), ("C", "done")], "C": []})
    with pytest.raises(ValueError, match="Cycle detected without exit condition: A -> B -> A"):
        graph.has_cycles_with_exit()


def test_exit_condition_on_another_node_of_the_loop_is_accepted() -> None:
    # The loop A -> B -> C -> A can end at C, whose edges (back to A, out to D) are both conditional.
    graph = _graph({"A": [("B", None)], "B": [("C", None)], "C": [("A", "loop"), ("D", "exit")], "D": []}, start="A")
    graph.graph_validate()
    assert graph.get_has_cycles()


def test_callable_condition_counts_as_exit() -> None:
    # AutoGen issue #6628: callable conditions were once ignored by the cycle check.
    graph = _graph({"A": [("B", None)], "B": [("C", None)], "C": []})
    graph.nodes["C"].edges.append(DiGraphEdge(target="A", condition=lambda m: "again" in m.to_model_text()))
    assert graph.has_cycles_with_exit()


def test_several_components_and_cycles() -> None:
    # AutoGen issue #6985: stale search state after one cycle broke the check of the next component.
    graph = _graph(
        {"A": [("B", None)], "B": [("A", "c1")], "C": [("D", None)], "D": [("C", "c2")], "E": [("F", None)], "F": []}
    )
    assert graph.has_cycles_with_exit()
    graph = _graph({"A": [("B", None), ("D", None)], "B": [("C", None)], "C": [("A", "loop")], "D": [], "E": []})
    assert graph.has_cycles_with_exit()


def test_two_loops_through_one_hub_with_conditions_are_accepted() -> None:
    graph = _graph(
        {
            "A": [("O", None)],
            "O": [("X", "to_x"), ("Y", "to_y"), ("E", "exit")],
            "X": [("O", "to_o")],
            "Y": [("O", "to_o")],
            "E": [],
        }
    )
    graph.graph_validate()
    assert graph.get_has_cycles()


def test_self_loop() -> None:
    assert _graph({"A": [("B", None)], "B": [("B", "again"), ("C", "done")], "C": []}).has_cycles_with_exit()
    with pytest.raises(ValueError, match="Cycle detected without exit condition: B -> B"):
        _graph({"A": [("B", None)], "B": [("B", None)]}).has_cycles_with_exit()


def test_long_chain_does_not_hit_the_recursion_limit() -> None:
    size = 5000
    spec: dict[str, list[tuple[str, str | None]]] = {f"n{i}": [(f"n{i + 1}", None)] for i in range(size)}
    spec[f"n{size}"] = [("n0", "again")]
    assert _graph(spec).has_cycles_with_exit()


# ---------------------------------------------------------------- property test against brute force


def _brute_force(spec: dict[str, list[tuple[str, bool]]]) -> tuple[bool, bool]:
    """(has any cycle, has a cycle of only unconditional edges), by trying every sequence of distinct nodes."""
    names = list(spec)
    any_cycle = unconditional_cycle = False
    for size in range(1, len(names) + 1):
        for order in itertools.permutations(names, size):
            hops = list(zip(order, order[1:] + order[:1], strict=True))
            kinds = [{conditional for target, conditional in spec[a] if target == b} for a, b in hops]
            if all(kinds):
                any_cycle = True
                if all(False in kind for kind in kinds):
                    unconditional_cycle = True
    return any_cycle, unconditional_cycle


@st.composite
def _random_graphs(draw: st.DrawFn) -> dict[str, list[tuple[str, bool]]]:
    names = [chr(ord("A") + i) for i in range(draw(st.integers(min_value=1, max_value=5)))]
    edge = st.tuples(st.sampled_from(names), st.booleans())
    return {name: draw(st.lists(edge, max_size=4)) for name in names}


@settings(max_examples=400, deadline=None)
@given(_random_graphs())
def test_cycle_rule_matches_brute_force(spec: dict[str, list[tuple[str, bool]]]) -> None:
    graph = _graph({name: [(t, "cond" if c else None) for t, c in edges] for name, edges in spec.items()})
    any_cycle, unconditional_cycle = _brute_force(spec)
    if unconditional_cycle:
        with pytest.raises(ValueError, match="Cycle detected without exit condition") as info:
            graph.has_cycles_with_exit()
        # The reported loop is real and unconditional.
        loop = str(info.value).split(": ", 1)[1].split(".", 1)[0].split(" -> ")
        assert loop[0] == loop[-1]
        for a, b in itertools.pairwise(loop):
            assert (b, False) in spec[a]
    else:
        assert graph.has_cycles_with_exit() is any_cycle


# ---------------------------------------------------------------- builder


def test_builder_builds_a_validated_graph() -> None:
    a, b, c = _Agent("A"), _Agent("B"), _Agent("C")
    builder = DiGraphBuilder().add_node(a).add_node(b).add_node(c, activation="any")
    builder.add_edge(a, b).add_edge("B", "C", condition="yes").add_edge(b, a, condition=lambda m: "no" in m.to_text())
    builder.set_entry_point(a)
    graph = builder.build()
    assert graph.default_start_node == "A"
    assert graph.get_leaf_nodes() == {"C"}
    assert graph.get_has_cycles()
    assert graph.nodes["B"].edges[0].activation_condition == "any"  # from C's activation
    assert builder.get_participants() == [a, b, c]


def test_builder_conditional_edges_warn_like_autogen() -> None:
    a, b, c = _Agent("A"), _Agent("B"), _Agent("C")
    builder = DiGraphBuilder().add_node(a).add_node(b).add_node(c)
    with pytest.warns(DeprecationWarning, match="add_conditional_edges"):
        builder.add_conditional_edges(a, {"yes": b, "no": "C"})
    assert [(e.target, e.condition) for e in builder.nodes["A"].edges] == [("B", "yes"), ("C", "no")]


def test_builder_activation_group_and_condition() -> None:
    a, b, c, d = _Agent("A"), _Agent("B"), _Agent("C"), _Agent("D")
    builder = DiGraphBuilder().add_node(a).add_node(b).add_node(c).add_node(d)
    builder.add_edge(a, b).add_edge(b, c, condition="go").add_edge(b, b, condition="again", activation_group="loop")
    builder.add_edge(b, d, condition="done")
    builder.add_edge(c, b, activation_group="loop", activation_condition="any")
    edges = builder.nodes["C"].edges
    assert (edges[0].activation_group, edges[0].activation_condition) == ("loop", "any")
    with pytest.raises(ValueError, match="Conflicting activation conditions for target 'B' group 'loop'"):
        builder.build()


def test_builder_errors() -> None:
    a = _Agent("A")
    builder = DiGraphBuilder().add_node(a)
    builder.add_node(a)  # the same agent again is fine
    with pytest.raises(ValueError, match="Another agent named 'A'"):
        builder.add_node(_Agent("A"))
    with pytest.raises(ValueError, match="Target node 'B' must be added before"):
        builder.add_edge(a, "B")
    with pytest.raises(ValueError, match="Source node 'Z' must be added before"):
        builder.add_edge("Z", a)
    with pytest.raises(ValueError, match="Start node 'Q' must be added before"):
        builder.set_entry_point("Q")
    with pytest.raises(ValueError, match="Cycle detected without exit condition: A -> A"):
        DiGraphBuilder().add_node(a).add_node(_Agent("B")).add_edge("A", "A").set_entry_point("A").build()
