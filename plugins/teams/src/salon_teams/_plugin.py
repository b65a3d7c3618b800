"""The salon-teams plugin: registers the team strategies for config files (``team: {use: round_robin}``)."""

from __future__ import annotations

from salon.hookspecs import Register, hookimpl

__all__ = ["register_team_strategies"]


@hookimpl
def register_team_strategies(register: Register) -> None:
    """Register ``round_robin``, ``selector``, ``swarm``, ``graph_flow`` and ``magentic_one``."""
    from . import _register_teams

    _register_teams.register_teams(register)
