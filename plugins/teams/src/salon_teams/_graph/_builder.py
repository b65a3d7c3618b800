"""A fluent way to build a :class:`~salon_teams.DiGraph` from agent objects."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal

from ._digraph import DiGraph, DiGraphEdge, DiGraphNode

if TYPE_CHECKING:
    from salon_agentchat.base import ChatAgent
    from salon_agentchat.messages import BaseChatMessage

__all__ = ["DiGraphBuilder"]


class DiGraphBuilder:
    """Collects agents and the edges between them, then validates the result in :meth:`build`.

    Nodes and edges accept agents or their names, so a graph can be written next to the agents it uses::

        builder = DiGraphBuilder()
        builder.add_node(writer).add_node(reviewer).add_node(publisher)
        builder.add_edge(writer, reviewer)
        builder.add_edge(reviewer, writer, condition=lambda msg: "APPROVE" not in msg.to_model_text())
        builder.add_edge(reviewer, publisher, condition=lambda msg: "APPROVE" in msg.to_model_text())
        builder.set_entry_point(writer)
        team = GraphFlow(builder.get_participants(), graph=builder.build())

    Attributes:
        nodes: The nodes added so far, by name.
        agents: The agents added so far, by name, in insertion order.
    """

    def __init__(self) -> None:
        self.nodes: dict[str, DiGraphNode] = {}
        self.agents: dict[str, ChatAgent] = {}
        self._default_start_node: str | None = None

    @staticmethod
    def _name(item: str | ChatAgent) -> str:
        return item if isinstance(item, str) else item.name

    def _require(self, name: str, role: str) -> None:
        if name not in self.nodes:
            raise ValueError(
                f"{role} node '{name}' must be added before it is used (add_node). Known nodes: {sorted(self.nodes)}."
            )

    def add_node(self, agent: ChatAgent, activation: Literal["all", "any"] = "all") -> DiGraphBuilder:
        """Add ``agent`` as a node; ``activation`` is its default join rule (see :class:`DiGraphNode`).

        Adding the same agent again changes nothing; a different agent with a taken name is an error,
        because the graph addresses participants by name.
        """
        name = agent.name
        existing = self.agents.get(name)
        if existing is not None:
            if existing is not agent:
                raise ValueError(f"Another agent named '{name}' is already a node; agent names must be unique.")
            return self
        self.nodes[name] = DiGraphNode(name=name, edges=[], activation=activation)
        self.agents[name] = agent
        return self

    def add_edge(
        self,
        source: str | ChatAgent,
        target: str | ChatAgent,
        condition: str | Callable[[BaseChatMessage], bool] | None = None,
        activation_group: str | None = None,
        activation_condition: Literal["all", "any"] | None = None,
    ) -> DiGraphBuilder:
        """Add an edge from ``source`` to ``target``.

        Args:
            source: The node (or its name) the edge leaves.
            target: The node (or its name) the edge enters.
            condition: None for always; a string that must occur in the source's message; or a callable
                that gets the message and returns whether to follow the edge.
            activation_group: The group of edges into ``target`` this one joins (default: ``target``'s name).
            activation_condition: ``"all"`` or ``"any"`` for that group; default: the target node's
                ``activation``.
        """
        source_name, target_name = self._name(source), self._name(target)
        self._require(source_name, "Source")
        self._require(target_name, "Target")
        fields: dict[str, Any] = {"target": target_name, "condition": condition}
        if activation_group is not None:
            fields["activation_group"] = activation_group
        if activation_condition is not None:
            fields["activation_condition"] = activation_condition
        self.nodes[source_name].edges.append(DiGraphEdge(**fields))
        return self

    def add_conditional_edges(
        self, source: str | ChatAgent, condition_to_target: Mapping[str, str | ChatAgent]
    ) -> DiGraphBuilder:
        """Add one string-conditioned edge per entry: ``{"keyword": target}``.

        Emits a ``DeprecationWarning`` as AutoGen does (its signature is due to change); ``add_edge`` with
        ``condition=`` does the same without the warning.
        """
        warnings.warn(
            "add_conditional_edges will change to support callable conditions; use add_edge(..., condition=...).",
            DeprecationWarning,
            stacklevel=2,
        )
        for keyword, target in condition_to_target.items():
            self.add_edge(source, target, condition=keyword)
        return self

    def set_entry_point(self, name: str | ChatAgent) -> DiGraphBuilder:
        """Start the flow at this node only (instead of every node without incoming edges)."""
        node_name = self._name(name)
        self._require(node_name, "Start")
        self._default_start_node = node_name
        return self

    def build(self) -> DiGraph:
        """The validated graph (``ValueError`` saying what to fix when it is not valid)."""
        graph = DiGraph(nodes=self.nodes, default_start_node=self._default_start_node)
        graph.graph_validate()
        return graph

    def get_participants(self) -> list[ChatAgent]:
        """The agents in the order they were added: what :class:`GraphFlow` takes as ``participants``."""
        return list(self.agents.values())
