"""The graph a :class:`~salon_teams.GraphFlow` follows: nodes are agents, edges say who speaks after whom.

The three models keep AutoGen's field names and JSON shape, so a graph saved by AutoGen loads here and
the other way round (callable conditions are never serialised, as in AutoGen).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from pydantic import BaseModel, Field, PrivateAttr, model_validator

from salon_agentchat.messages import BaseChatMessage

from ._cycles import find_unconditional_cycle, has_cycle

__all__ = ["DiGraph", "DiGraphEdge", "DiGraphNode"]

Activation = Literal["all", "any"]


class DiGraphEdge(BaseModel):
    """A directed edge to ``target``, taken after the source node speaks when its condition holds.

    Edges into the same node are grouped by ``activation_group`` (the target's name by default): the
    target is ready once **all** edges of a group have fired (``activation_condition="all"``) or as
    soon as **any** of them fires (``"any"``). Separate groups let a loop re-enter a node without
    waiting for the edges that brought the flow there the first time.
    """

    target: str
    """The name of the node this edge leads to."""

    condition: str | Callable[[BaseChatMessage], bool] | None = None
    """When to take the edge: None always; a string when it occurs in the source's last message text
    (``to_model_text()``); a callable when it returns True for that message. A callable is moved to
    :attr:`condition_function` and this field becomes None, so the edge still serialises."""

    condition_function: Callable[[BaseChatMessage], bool] | None = Field(default=None, exclude=True)
    """The callable condition, if any (never serialised)."""

    activation_group: str = ""
    """The group of incoming edges this edge belongs to at its target (default: the target's name)."""

    activation_condition: Activation = "all"
    """Whether the target needs all edges of this group (``"all"``) or any one (``"any"``). When not given,
    the target node's :attr:`DiGraphNode.activation` decides once the edge is part of a :class:`DiGraph`."""

    @model_validator(mode="after")
    def _split_callable_condition(self) -> DiGraphEdge:
        if callable(self.condition):
            self.condition_function = self.condition
            object.__setattr__(self, "condition", None)
        if not self.activation_group:
            self.activation_group = self.target
        return self

    @property
    def is_conditional(self) -> bool:
        """Whether the edge has a condition (string or callable)."""
        return self.condition is not None or self.condition_function is not None

    def check_condition(self, message: BaseChatMessage) -> bool:
        """Whether the edge is taken after its source said ``message``."""
        if self.condition_function is not None:
            return self.condition_function(message)
        if isinstance(self.condition, str):
            return self.condition in message.to_model_text()
        return True


class DiGraphNode(BaseModel):
    """A node of the graph: the participant named ``name`` and the edges leaving it."""

    name: str
    """The participant's name."""

    edges: list[DiGraphEdge] = []
    """Outgoing edges, in the order they are evaluated."""

    activation: Activation = "all"
    """The default join rule for edges into this node that do not set ``activation_condition``:
    ``"all"`` waits for every parent, ``"any"`` runs after the first. (AutoGen 0.7.5 documents this
    field but ignores it; Salon applies it.)"""


class DiGraph(BaseModel):
    """A directed graph of agents, with conditional edges, joins and loops (loops need a condition)."""

    nodes: dict[str, DiGraphNode]
    """The nodes, keyed by name."""

    default_start_node: str | None = None
    """The node to start from; when None, every node without incoming edges starts."""

    _has_cycles: bool | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _apply_node_activation(self) -> DiGraph:
        for node in self.nodes.values():
            for edge in node.edges:
                target = self.nodes.get(edge.target)
                if target is None or "activation_condition" in edge.model_fields_set:
                    continue
                if target.activation != edge.activation_condition:
                    edge.activation_condition = target.activation
        return self

    # -- structure -------------------------------------------------------------------------------

    def get_parents(self) -> dict[str, list[str]]:
        """Each node's parents (sources of its incoming edges), in declaration order."""
        parents: dict[str, list[str]] = {name: [] for name in self.nodes}
        for node in self.nodes.values():
            for edge in node.edges:
                parents.setdefault(edge.target, []).append(node.name)
        return parents

    def start_node_list(self) -> list[str]:
        """The start nodes in declaration order (what :meth:`get_start_nodes` returns, ordered)."""
        if self.default_start_node:
            return [self.default_start_node]
        return [name for name, parents in self.get_parents().items() if not parents and name in self.nodes]

    def get_start_nodes(self) -> set[str]:
        """The nodes the flow starts from: ``default_start_node``, else every node without parents."""
        return set(self.start_node_list())

    def get_leaf_nodes(self) -> set[str]:
        """The nodes without outgoing edges."""
        return {name for name, node in self.nodes.items() if not node.edges}

    def get_remaining_map(self) -> dict[str, dict[str, int]]:
        """For each target and activation group, how many edges lead into it."""
        remaining: dict[str, dict[str, int]] = {}
        for node in self.nodes.values():
            for edge in node.edges:
                groups = remaining.setdefault(edge.target, {})
                groups[edge.activation_group] = groups.get(edge.activation_group, 0) + 1
        return remaining

    # -- validation ------------------------------------------------------------------------------

    def _adjacency(self) -> dict[str, list[tuple[str, bool]]]:
        return {name: [(edge.target, edge.is_conditional) for edge in node.edges] for name, node in self.nodes.items()}

    def has_cycles_with_exit(self) -> bool:
        """Whether the graph has a cycle, after checking that every cycle has a conditional edge.

        Raises:
            ValueError: A cycle is made only of unconditional edges; the message names it.
        """
        cycle = find_unconditional_cycle(self._adjacency())
        if cycle is not None:
            loop = " -> ".join([*cycle, cycle[0]])
            raise ValueError(
                f"Cycle detected without exit condition: {loop}. Every edge of this loop is unconditional, so "
                "it would never end; give one of its edges a condition (add_edge(..., condition=...))."
            )
        return has_cycle(self._adjacency())

    def get_has_cycles(self) -> bool:
        """Whether the graph has a cycle (each with a conditional edge); cached after the first call."""
        if self._has_cycles is None:
            self._has_cycles = self.has_cycles_with_exit()
        return self._has_cycles

    def graph_validate(self) -> None:
        """Check the graph can run, raising ``ValueError`` that says what is wrong and how to fix it.

        The checks, in order: there are nodes; each node is keyed by its own name; edges and
        ``default_start_node`` name existing nodes; there is a start node and a leaf node; no node mixes
        conditional and unconditional edges; edges of one activation group agree on all/any; every cycle
        has a conditional edge.
        """
        if not self.nodes:
            raise ValueError("Graph has no nodes. Add at least one DiGraphNode (DiGraphBuilder.add_node).")
        for key, node in self.nodes.items():
            if key != node.name:
                raise ValueError(f"Node key {key!r} differs from the node's name {node.name!r}; key nodes by name.")
            for edge in node.edges:
                if edge.target not in self.nodes:
                    raise ValueError(
                        f"Node {node.name!r} has an edge to {edge.target!r}, which is not a node of the graph. "
                        f"Add a node named {edge.target!r} or remove the edge. Nodes: {sorted(self.nodes)}."
                    )
        if self.default_start_node is not None and self.default_start_node not in self.nodes:
            raise ValueError(
                f"default_start_node {self.default_start_node!r} is not a node of the graph. "
                f"Nodes: {sorted(self.nodes)}."
            )
        if not self.get_start_nodes():
            raise ValueError(
                "Graph must have at least one start node: every node has an incoming edge. "
                "Set default_start_node (DiGraphBuilder.set_entry_point) to say where the flow begins."
            )
        if not self.get_leaf_nodes():
            raise ValueError(
                "Graph must have at least one leaf node (a node without outgoing edges) where the flow can end."
            )
        for node in self.nodes.values():
            conditional = [edge.is_conditional for edge in node.edges]
            if any(conditional) and not all(conditional):
                raise ValueError(
                    f"Node '{node.name}' has a mix of conditional and unconditional edges. Give every edge "
                    "leaving it a condition (for example the negation of the others), or none."
                )
        self._validate_activation_conditions()
        self._has_cycles = self.has_cycles_with_exit()

    def _validate_activation_conditions(self) -> None:
        seen: dict[tuple[str, str], tuple[str, str]] = {}  # (target, group) -> (condition, source)
        for node in self.nodes.values():
            for edge in node.edges:
                key = (edge.target, edge.activation_group)
                first = seen.setdefault(key, (edge.activation_condition, node.name))
                if first[0] != edge.activation_condition:
                    raise ValueError(
                        f"Conflicting activation conditions for target '{edge.target}' group "
                        f"'{edge.activation_group}': '{first[0]}' (from node '{first[1]}') and "
                        f"'{edge.activation_condition}' (from node '{node.name}'). Edges of one activation "
                        "group must agree; use separate activation_group names for different rules."
                    )
