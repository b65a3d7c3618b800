"""MagenticOneGroupChat and its orchestrator: the port of AutoGen's ``teams._group_chat._magentic_one``."""

from __future__ import annotations

from ._group_chat import MagenticOneGroupChat
from ._orchestrator import MagenticOneOrchestrator

__all__ = ["MagenticOneGroupChat", "MagenticOneOrchestrator"]
