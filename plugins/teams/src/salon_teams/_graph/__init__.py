"""GraphFlow and its graph: the port of AutoGen's ``teams._group_chat._graph`` package.

The graph models (:class:`DiGraph`, :class:`DiGraphNode`, :class:`DiGraphEdge`) and
:class:`DiGraphBuilder` need no runtime; :class:`GraphFlow` and its manager load the team base with them.
"""

from __future__ import annotations

from ._builder import DiGraphBuilder
from ._digraph import DiGraph, DiGraphEdge, DiGraphNode
from ._flow import GraphFlow
from ._manager import GraphFlowManager

__all__ = ["DiGraph", "DiGraphBuilder", "DiGraphEdge", "DiGraphNode", "GraphFlow", "GraphFlowManager"]
