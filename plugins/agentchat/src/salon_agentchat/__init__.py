"""salon-agentchat: the AgentChat layer for Salon (the port of ``autogen_agentchat``).

Chat agents, the messages they exchange, termination conditions, the team base classes and Console
live in subpackages (``salon_agentchat.agents``, ``.messages``, ``.conditions``, ``.base``, ...), so
importing this package costs nothing beyond the logger names.
"""

from __future__ import annotations

__version__ = "0.1.0"

TRACE_LOGGER_NAME = "salon_agentchat"
"""Logger for developer traces of agents and teams (what a debugger wants to see)."""

EVENT_LOGGER_NAME = "salon_agentchat.events"
"""Logger for structured events of agents and teams (what a monitoring tool wants to consume)."""

__all__ = ["EVENT_LOGGER_NAME", "TRACE_LOGGER_NAME", "__version__"]
