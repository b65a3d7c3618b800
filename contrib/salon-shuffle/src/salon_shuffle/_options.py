"""The options of ``team: {use: shuffle}``."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from salon import Inline, Ref

__all__ = ["ShuffleOptions"]


class ShuffleOptions(BaseModel):
    """Options of :class:`salon_shuffle.ShuffleGroupChat`."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    participants: list[Annotated[str, Ref("agent")]] = Field(min_length=1)
    """The agents of the team."""
    seed: int | None = None
    """Seed of the shuffles; unset: a different order every run."""
    termination: Annotated[Any, Inline("termination_condition")] = None
    """When the run stops."""
    max_turns: int | None = Field(default=None, ge=1)
    """Stop after this many turns."""
