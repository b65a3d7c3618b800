"""salon-teams: Team strategies for Salon: round robin, selector, swarm, graph flow and Magentic-One."""

from __future__ import annotations

__version__ = "0.1.0"

__all__: list[str] = []
