"""The manager that walks a :class:`~salon_teams.DiGraph`: who is ready, who speaks, when the flow is done."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any

from salon_agentchat.group_chat import BaseGroupChatManager
from salon_agentchat.messages import BaseAgentEvent, BaseChatMessage, StopMessage

from ._digraph import DiGraph, DiGraphEdge

__all__ = ["DIGRAPH_STOP_MESSAGE", "GraphFlowManager"]

DIGRAPH_STOP_MESSAGE = "Digraph execution is complete"
"""The stop reason of a flow that ran out of ready nodes (AutoGen's wording)."""


class GraphFlowManager(BaseGroupChatManager):
    """Runs the ready nodes of the graph, all at once, and follows their edges when they answer.

    Bookkeeping per target node and activation group: ``remaining`` counts the "all" edges still to
    fire, ``enqueued_any`` remembers that an "any" group already queued the node. When a node is picked
    to speak, the groups that made it ready are re-armed, so a loop can bring the flow back to it.
    When no node is ready after a turn, the flow is complete: the run stops with
    ``"Digraph execution is complete"`` and the next run starts from the start nodes again.
    """

    def __init__(self, *args: Any, graph: DiGraph, **kwargs: Any) -> None:
        # The graph's tables come first: the base __init__ ends by resetting the execution state from them.
        graph.graph_validate()
        self._graph = graph
        self._edges: dict[str, list[DiGraphEdge]] = {name: node.edges for name, node in graph.nodes.items()}
        self._activation: dict[str, dict[str, str]] = {}
        for node in graph.nodes.values():
            for edge in node.edges:
                self._activation.setdefault(edge.target, {}).setdefault(
                    edge.activation_group, edge.activation_condition
                )
        self._origin_remaining = graph.get_remaining_map()
        super().__init__(*args, **kwargs)
        if graph.get_has_cycles() and self._termination_condition is None and self._max_turns is None:
            raise ValueError(
                "A termination condition is required for cyclic graphs without a maximum turn limit. "
                "Pass termination_condition=... or max_turns=... to GraphFlow."
            )
        missing = [node for node in graph.nodes if node not in self._participant_names]
        if missing:
            raise ValueError(
                f"Graph nodes {missing} are not participants of the team; participants: {self._participant_names}. "
                "Node names must be the participants' names."
            )

    def _reset_strategy_state(self) -> None:
        """Back to the start nodes, with every activation group armed."""
        self._remaining = {target: dict(groups) for target, groups in self._origin_remaining.items()}
        self._enqueued_any = {target: dict.fromkeys(groups, False) for target, groups in self._activation.items()}
        self._ready = deque(self._graph.start_node_list())
        self._triggered: dict[str, set[str]] = {}

    async def update_message_thread(self, messages: Sequence[BaseAgentEvent | BaseChatMessage]) -> None:
        """Record the messages, then follow the edges of the node that said the last one."""
        await super().update_message_thread(messages)
        if not messages:
            return
        message = messages[-1]
        if not isinstance(message, BaseChatMessage) or message.source not in self._edges:
            return  # the task, or a message from outside the graph
        for edge in self._edges[message.source]:
            if edge.check_condition(message):
                self._fire(edge)

    def _fire(self, edge: DiGraphEdge) -> None:
        target, group = edge.target, edge.activation_group
        if self._activation[target][group] == "all":
            self._remaining[target][group] -= 1
            if self._remaining[target][group] == 0:
                self._ready.append(target)
                self._triggered.setdefault(target, set()).add(group)
        elif not self._enqueued_any[target][group]:
            self._enqueued_any[target][group] = True
            self._ready.append(target)
            self._triggered.setdefault(target, set()).add(group)

    def _rearm(self, speaker: str) -> None:
        for group in self._triggered.pop(speaker, set()):
            if self._activation[speaker][group] == "any":
                self._enqueued_any[speaker][group] = False
            else:
                self._remaining[speaker][group] = self._origin_remaining[speaker][group]

    async def select_speaker(self, thread: Sequence[BaseAgentEvent | BaseChatMessage]) -> list[str]:
        """Every ready node, in the order they became ready (they speak concurrently).

        A node made ready by two activation groups in the same turn speaks once (AutoGen asks it twice).
        """
        speakers: list[str] = []
        while self._ready:
            speaker = self._ready.popleft()
            if speaker not in speakers:
                speakers.append(speaker)
                self._rearm(speaker)
        return speakers

    async def validate_group_state(self, messages: list[BaseChatMessage] | None) -> None:
        """Any task is accepted: the graph, not the messages, decides who speaks."""

    async def _apply_termination_condition(
        self, delta: Sequence[BaseAgentEvent | BaseChatMessage], increment_turn_count: bool = False
    ) -> bool:
        """Stop when no node is ready (the flow is complete), else apply the team's own conditions."""
        if not self._ready:
            self._reset_strategy_state()
            if self._termination_condition is not None:
                await self._termination_condition.reset()
            self._current_turn = 0
            await self._signal_termination(StopMessage(content=DIGRAPH_STOP_MESSAGE, source=self._name))
            return True
        return await super()._apply_termination_condition(delta, increment_turn_count)

    async def save_state(self) -> Mapping[str, Any]:
        """The thread, the turn count and where the flow is (AutoGen's keys, plus the re-arm bookkeeping)."""
        return {
            **self._thread_state(),
            "remaining": {target: dict(groups) for target, groups in self._remaining.items()},
            "enqueued_any": {target: dict(groups) for target, groups in self._enqueued_any.items()},
            "ready": list(self._ready),
            "triggered_activation_groups": {node: sorted(groups) for node, groups in self._triggered.items()},
        }

    async def load_state(self, state: Mapping[str, Any]) -> None:
        """Restore what :meth:`save_state` returned (AutoGen's saved flows load too)."""
        self._load_thread_state(state["message_thread"], state["current_turn"])
        self._remaining = {target: dict(groups) for target, groups in state["remaining"].items()}
        self._enqueued_any = {target: dict(groups) for target, groups in state["enqueued_any"].items()}
        self._ready = deque(state["ready"])
        triggered = state.get("triggered_activation_groups", {})
        self._triggered = {node: set(groups) for node, groups in triggered.items()}
