"""GraphFlow: a team that follows a directed graph of agents (the port of AutoGen's ``GraphFlow``)."""

from __future__ import annotations

from typing import Any

from salon import AgentRuntime
from salon_agentchat.base import ChatAgent, TerminationCondition
from salon_agentchat.group_chat import BaseGroupChat
from salon_agentchat.messages import BaseAgentEvent, BaseChatMessage

from ._digraph import DiGraph
from ._manager import GraphFlowManager

__all__ = ["GraphFlow"]


class GraphFlow(BaseGroupChat):
    """A team whose speakers follow the edges of a :class:`DiGraph`: sequences, fan-out, joins and loops.

    The flow starts at the graph's start nodes. After a node speaks, each edge whose condition holds for
    its message fires; a node whose incoming edges say it is ready (all of a group, or any, see
    :class:`DiGraphEdge`) speaks next. Nodes ready at the same time speak concurrently. When nothing is
    ready, the run ends with the stop reason ``"Digraph execution is complete"`` and the next run starts
    over; a run stopped by the termination condition or ``max_turns`` instead resumes where it stopped.

    A graph with a loop needs ``termination_condition`` or ``max_turns``. Build graphs with
    :class:`DiGraphBuilder`; wrap an agent in ``MessageFilterAgent`` to limit what it sees of the thread.

    Args:
        participants: The agents; node names are agent names. Teams cannot be participants.
        graph: The graph to follow; it is validated here.
        name: The team's name (default :attr:`DEFAULT_NAME`).
        description: What the team does (default :attr:`DEFAULT_DESCRIPTION`).
        termination_condition: An extra condition to stop on.
        max_turns: Stop after this many turns (a turn is one round of concurrently ready nodes).
        runtime: Run on this runtime instead of a private one.
        custom_message_types: Message classes of your own the agents produce, so saved state can be read.

    Raises:
        ValueError: The graph is invalid (the message says how to fix it), a node is not a participant,
            or a cyclic graph has neither a termination condition nor ``max_turns``.

    Example::

        builder = DiGraphBuilder()
        builder.add_node(writer).add_node(reviewer).add_node(publisher)
        builder.add_edge(writer, reviewer)
        builder.add_edge(reviewer, writer, condition=lambda msg: "APPROVE" not in msg.to_model_text())
        builder.add_edge(reviewer, publisher, condition=lambda msg: "APPROVE" in msg.to_model_text())
        builder.set_entry_point(writer)
        team = GraphFlow(builder.get_participants(), graph=builder.build(), max_turns=20)
        result = await team.run(task="A haiku about graphs.")
    """

    DEFAULT_NAME = "GraphFlow"
    DEFAULT_DESCRIPTION = "A team of agents"

    def __init__(
        self,
        participants: list[ChatAgent],
        graph: DiGraph,
        *,
        name: str | None = None,
        description: str | None = None,
        termination_condition: TerminationCondition | None = None,
        max_turns: int | None = None,
        runtime: AgentRuntime | None = None,
        custom_message_types: list[type[BaseAgentEvent | BaseChatMessage]] | None = None,
    ) -> None:
        for participant in participants:
            if not isinstance(participant, ChatAgent):
                raise TypeError(
                    f"Participant {participant!r} must be a ChatAgent; a GraphFlow cannot have teams as participants."
                )
        graph.graph_validate()
        names = [participant.name for participant in participants]
        missing = [node for node in graph.nodes if node not in names]
        if missing:
            raise ValueError(
                f"Graph nodes {missing} are not participants of the team; participants: {names}. "
                "Node names must be the participants' names (DiGraphBuilder.get_participants() lists them)."
            )
        if graph.get_has_cycles() and termination_condition is None and max_turns is None:
            raise ValueError(
                "A termination condition is required for cyclic graphs without a maximum turn limit. "
                "Pass termination_condition=... or max_turns=... to GraphFlow."
            )
        self._graph = graph
        super().__init__(
            name=name or self.DEFAULT_NAME,
            description=description or self.DEFAULT_DESCRIPTION,
            participants=list(participants),
            group_chat_manager_name="GraphManager",
            group_chat_manager_class=GraphFlowManager,
            termination_condition=termination_condition,
            max_turns=max_turns,
            runtime=runtime,
            custom_message_types=custom_message_types,
        )

    def _manager_options(self) -> dict[str, Any]:
        return {"graph": self._graph}
