"""salon-teams: the team strategies of AgentChat (the port of ``autogen_agentchat.teams``).

``from salon_teams import RoundRobinGroupChat`` replaces ``from autogen_agentchat.teams import
RoundRobinGroupChat``. The team base (``BaseGroupChat``) lives in salon-agentchat and is re-exported here
so ported imports keep working. Strategies load on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from salon_agentchat.group_chat import BaseGroupChat

    from ._graph import DiGraph, DiGraphBuilder, DiGraphEdge, DiGraphNode, GraphFlow
    from ._magentic_one import MagenticOneGroupChat
    from ._round_robin import RoundRobinGroupChat
    from ._selector import SelectorGroupChat
    from ._swarm import Swarm

__version__ = "0.1.0"

__all__ = [
    "BaseGroupChat",
    "DiGraph",
    "DiGraphBuilder",
    "DiGraphEdge",
    "DiGraphNode",
    "GraphFlow",
    "MagenticOneGroupChat",
    "RoundRobinGroupChat",
    "SelectorGroupChat",
    "Swarm",
]

_LAZY: dict[str, str] = {
    "BaseGroupChat": "salon_agentchat.group_chat",
    "DiGraph": "salon_teams._graph",
    "DiGraphBuilder": "salon_teams._graph",
    "DiGraphEdge": "salon_teams._graph",
    "DiGraphNode": "salon_teams._graph",
    "GraphFlow": "salon_teams._graph",
    "MagenticOneGroupChat": "salon_teams._magentic_one",
    "RoundRobinGroupChat": "salon_teams._round_robin",
    "SelectorGroupChat": "salon_teams._selector",
    "Swarm": "salon_teams._swarm",
}


def __getattr__(name: str) -> Any:
    """Import a strategy's module the first time it is used."""
    try:
        module = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'salon_teams' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
