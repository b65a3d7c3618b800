"""Cycle analysis for :class:`~salon_teams.DiGraph`, on plain adjacency lists.

The rule a graph must follow: every cycle contains at least one conditional edge. A cycle whose edges
are all unconditional re-activates itself forever once entered, so the flow could only be stopped by
the team's termination condition; a conditional edge on the cycle is the point where the loop can end.

AutoGen 0.7.5 checks the rule with one depth-first search that looks at a single cycle per back edge
(the one along the search tree) and accepts it when *any* edge leaving *any* of that cycle's nodes is
conditional. Both shortcuts let invalid graphs through:

* cycles that share nodes: with ``A -> B``, ``A -> C``, ``C -> A`` unconditional and ``B -> A``,
  ``B -> C`` conditional, the search walks ``A -> B -> C``, checks the cycles through ``B`` (which has
  conditions) and never examines ``A -> C -> A``, a loop without any condition;
* a conditional edge that leaves the cycle from one of its nodes (``B -> X`` conditional next to an
  unconditional ``B -> A``) is taken as the loop's exit although the loop itself never stops.

(Earlier AutoGen releases also had false alarms: callable conditions were not counted, #6628, and
stale search state after one cycle misjudged the next component, #6985; both cases are tested here.)

Here the rule is checked on the subgraph of unconditional edges: the graph breaks the rule exactly when
that subgraph has a cycle, which one search finds whatever the shape of the graph (see the property test
comparing it with an enumeration of all simple cycles).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

__all__ = ["find_cycle", "find_unconditional_cycle", "has_cycle"]

# An adjacency list: node name -> outgoing edges as (target, is_conditional), in declaration order.
Adjacency = Mapping[str, Sequence[tuple[str, bool]]]


def find_cycle(adjacency: Mapping[str, Sequence[str]]) -> list[str] | None:
    """One cycle of the graph as its node names (first node not repeated), or None when it is acyclic.

    The search visits nodes and edges in declaration order, so the cycle it reports is stable: for
    ``A -> B -> C -> A`` declared in that order it is ``["A", "B", "C"]``. It is iterative, so long
    chains do not hit Python's recursion limit.
    """
    white, grey, black = 0, 1, 2
    colour = dict.fromkeys(adjacency, white)
    for root in adjacency:
        if colour[root] != white:
            continue
        colour[root] = grey
        path = [root]
        cursors = [0]
        while path:
            node = path[-1]
            successors = adjacency[node]
            index = cursors[-1]
            if index == len(successors):
                colour[node] = black
                path.pop()
                cursors.pop()
                continue
            cursors[-1] = index + 1
            target = successors[index]
            state = colour.get(target, black)  # edges to unknown nodes are reported elsewhere
            if state == grey:
                return path[path.index(target) :]
            if state == white:
                colour[target] = grey
                path.append(target)
                cursors.append(0)
    return None


def find_unconditional_cycle(adjacency: Adjacency) -> list[str] | None:
    """A cycle made only of unconditional edges (node names, first not repeated), or None."""
    return find_cycle(
        {node: [target for target, conditional in edges if not conditional] for node, edges in adjacency.items()}
    )


def has_cycle(adjacency: Adjacency) -> bool:
    """Whether the graph has any cycle at all, conditional edges included."""
    return find_cycle({node: [target for target, _ in edges] for node, edges in adjacency.items()}) is not None
