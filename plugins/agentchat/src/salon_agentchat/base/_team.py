"""The team contract: several agents run as one task runner."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any

from ._task import TaskRunner

__all__ = ["Team"]


class Team(ABC, TaskRunner):
    """A group of agents that runs tasks together (the strategies live in ``salon_teams``)."""

    @property
    @abstractmethod
    def name(self) -> str:
        """The team's name, unique among the members of an enclosing team."""

    @property
    @abstractmethod
    def description(self) -> str:
        """What the team does, for an enclosing orchestrator to decide when to use it."""

    @abstractmethod
    async def reset(self) -> None:
        """Return the team and all its participants to their initial state."""

    @abstractmethod
    async def pause(self) -> None:
        """Pause the participants while a run is in progress, keeping it alive."""

    @abstractmethod
    async def resume(self) -> None:
        """Resume after :meth:`pause`."""

    @abstractmethod
    async def save_state(self) -> Mapping[str, Any]:
        """The team's state (its conversation and each participant's) as JSON-ready data."""

    @abstractmethod
    async def load_state(self, state: Mapping[str, Any]) -> None:
        """Restore what :meth:`save_state` returned."""
