"""salon-agentchat: The AgentChat layer for Salon: chat agents, messages, termination conditions, the team base and Console."""

from __future__ import annotations

__version__ = "0.1.0"

__all__: list[str] = []
