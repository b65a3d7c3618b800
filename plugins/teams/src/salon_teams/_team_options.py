"""The options of the team strategies in config files (``team: {use: round_robin, options: {...}}``).

``termination`` is written in place: ``{use: max_messages, options: {...}}``, or ``{any: [...]}`` /
``{all: [...]}`` for ``|`` / ``&``. Python-only arguments (``selector_func``, ``candidate_func``, callable
edge conditions) stay out of configs.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from salon import Inline, Ref

__all__ = [
    "GraphEdgeOptions",
    "GraphFlowOptions",
    "MagenticOneOptions",
    "RoundRobinOptions",
    "SelectorOptions",
    "SwarmOptions",
]

_STRICT = ConfigDict(extra="forbid", use_attribute_docstrings=True)


class _TeamOptions(BaseModel):
    model_config = _STRICT

    participants: list[Annotated[str, Ref("agent")]] = Field(min_length=1)
    """The agents of the team, by their names under ``agents:``."""
    termination: Annotated[Any, Inline("termination_condition")] = None
    """When the run stops: an inline condition, or ``any:`` / ``all:`` of them."""
    max_turns: int | None = Field(default=None, ge=1)
    """Stop after this many agent turns (with or without a termination condition)."""
    name: str | None = None
    """The team's name (shown when it is nested); default: the strategy's."""
    description: str | None = None
    """What an outer team reads about this one; default: the strategy's."""
    emit_team_events: bool = False
    """Also stream the team's own events (who was selected to speak)."""


class RoundRobinOptions(_TeamOptions):
    """Options of :class:`salon_teams.RoundRobinGroupChat`."""


class SelectorOptions(_TeamOptions):
    """Options of :class:`salon_teams.SelectorGroupChat`."""

    model_client: Annotated[str, Ref("model_client")]
    """The model that picks the next speaker."""
    selector_prompt: str | None = None
    """The prompt for picking; ``{roles}``, ``{participants}`` and ``{history}`` are filled in."""
    allow_repeated_speaker: bool = False
    """Whether the same agent may speak twice in a row."""
    max_selector_attempts: int = Field(default=3, ge=1)
    """Tries to get a valid name from the model before falling back."""
    model_client_streaming: bool = False
    """Stream the selector model's tokens."""


class SwarmOptions(_TeamOptions):
    """Options of :class:`salon_teams.Swarm` (the first participant speaks first)."""


class GraphEdgeOptions(BaseModel):
    """One edge of a graph flow."""

    model_config = _STRICT

    source: str
    """The agent that speaks first."""
    target: str
    """The agent that may speak next."""
    condition: str | None = None
    """Follow the edge only when the source's last message contains this text; unset: always."""
    activation_group: str | None = None
    """Edges into ``target`` that share a group are joined together (default: the source's name)."""
    activation_condition: Literal["all", "any"] | None = None
    """Whether ``target`` waits for all edges of the group, or any one."""


class GraphFlowOptions(BaseModel):
    """Options of :class:`salon_teams.GraphFlow`: participants and the edges between them."""

    model_config = _STRICT

    participants: list[Annotated[str, Ref("agent")]] = Field(min_length=1)
    """The agents (the graph's nodes)."""
    edges: list[GraphEdgeOptions] = Field(default_factory=list)
    """Who may speak after whom."""
    entry_point: str | None = None
    """The node that starts; default: every node without incoming edges."""
    activation: dict[str, Literal["all", "any"]] = Field(default_factory=dict)
    """Per node: wait for all incoming edges (default) or any one."""
    termination: Annotated[Any, Inline("termination_condition")] = None
    """An extra termination condition (a graph also stops when no node is ready)."""
    max_turns: int | None = Field(default=None, ge=1)
    """Stop after this many agent turns."""
    name: str | None = None
    """The team's name."""
    description: str | None = None
    """What an outer team reads about this one."""


class MagenticOneOptions(_TeamOptions):
    """Options of :class:`salon_teams.MagenticOneGroupChat`."""

    model_client: Annotated[str, Ref("model_client")]
    """The orchestrator's model."""
    max_stalls: int = Field(default=3, ge=1)
    """Turns without progress before the orchestrator re-plans."""
    final_answer_prompt: str | None = None
    """The prompt for the final answer; default: the orchestrator's."""
