"""Config support for the team strategies: factories and registration (options live in ``_team_options``).

Imported whenever plugins register, for every ``salon`` command, so it imports neither pydantic nor the
strategies: both load when a config first uses a team.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from salon.hookspecs import Register

__all__ = ["register_teams"]


def _options(name: str) -> Any:
    def load() -> Any:
        from . import _team_options

        return getattr(_team_options, name)

    return load


def _common(options: dict[str, Any]) -> dict[str, Any]:
    """AutoGen's argument names from the config's (``termination`` -> ``termination_condition``); unset dropped."""
    options["termination_condition"] = options.pop("termination", None)
    return {key: value for key, value in options.items() if value is not None or key == "termination_condition"}


def _make_round_robin(**options: Any) -> Any:
    from ._round_robin import RoundRobinGroupChat

    return RoundRobinGroupChat(**_common(options))


def _make_selector(**options: Any) -> Any:
    from ._selector import SelectorGroupChat

    return SelectorGroupChat(**_common(options))


def _make_swarm(**options: Any) -> Any:
    from ._swarm import Swarm

    return Swarm(**_common(options))


def _make_magentic_one(**options: Any) -> Any:
    from ._magentic_one import MagenticOneGroupChat

    return MagenticOneGroupChat(**_common(options))


def _make_graph_flow(**options: Any) -> Any:
    from ._graph import DiGraphBuilder, GraphFlow

    participants = options.pop("participants")
    by_name = {agent.name: agent for agent in participants}
    builder = DiGraphBuilder()
    for agent in participants:
        builder.add_node(agent, activation=options["activation"].get(agent.name, "all"))
    for edge in options.pop("edges"):
        for end in (edge.source, edge.target):
            if end not in by_name:
                raise ValueError(
                    f"edge {edge.source} -> {edge.target}: {end!r} is not a participant "
                    f"(participants: {', '.join(by_name)}); add it to participants or fix the edge"
                )
        builder.add_edge(
            by_name[edge.source],
            by_name[edge.target],
            condition=edge.condition,
            activation_group=edge.activation_group,
            activation_condition=edge.activation_condition,
        )
    entry = options.pop("entry_point")
    if entry is not None:
        if entry not in by_name:
            raise ValueError(f"entry_point {entry!r} is not a participant (participants: {', '.join(by_name)})")
        builder.set_entry_point(by_name[entry])
    options.pop("activation")
    return GraphFlow(participants=builder.get_participants(), graph=builder.build(), **_common(options))


def register_teams(register: Register) -> None:
    """Register ``round_robin``, ``selector``, ``swarm``, ``graph_flow`` and ``magentic_one``."""
    register(
        "round_robin",
        _make_round_robin,
        options=_options("RoundRobinOptions"),
        description="RoundRobinGroupChat: participants speak in turn.",
    )
    register(
        "selector",
        _make_selector,
        options=_options("SelectorOptions"),
        description="SelectorGroupChat: a model picks who speaks next.",
    )
    register(
        "swarm",
        _make_swarm,
        options=_options("SwarmOptions"),
        description="Swarm: agents hand the conversation to each other.",
    )
    register(
        "graph_flow",
        _make_graph_flow,
        options=_options("GraphFlowOptions"),
        description="GraphFlow: who speaks next follows a directed graph (fan-out, joins, conditions, loops).",
    )
    register(
        "magentic_one",
        _make_magentic_one,
        options=_options("MagenticOneOptions"),
        description="MagenticOneGroupChat: an orchestrator plans, tracks progress and re-plans.",
    )
