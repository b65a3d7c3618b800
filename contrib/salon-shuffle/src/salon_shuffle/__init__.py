"""salon-shuffle: a team strategy from outside salon-teams, plugged in through the same hook.

Registration stays cheap (no pydantic, no AgentChat import) because ``salon`` loads every plugin for
every command; the team and its options load when a config first uses ``shuffle``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from salon.hookspecs import Register, hookimpl

if TYPE_CHECKING:
    from ._team import ShuffleGroupChat

__version__ = "0.1.0"

__all__ = ["ShuffleGroupChat", "register_team_strategies"]


def __getattr__(name: str) -> Any:
    """Import the team on first use."""
    if name == "ShuffleGroupChat":
        from ._team import ShuffleGroupChat

        return ShuffleGroupChat
    raise AttributeError(f"module 'salon_shuffle' has no attribute {name!r}")


def _options() -> Any:
    from ._options import ShuffleOptions

    return ShuffleOptions


def _make_shuffle(**options: Any) -> Any:
    from ._team import ShuffleGroupChat

    options["termination_condition"] = options.pop("termination", None)
    return ShuffleGroupChat(**options)


@hookimpl
def register_team_strategies(register: Register) -> None:
    """Register ``shuffle``."""
    register(
        "shuffle",
        _make_shuffle,
        options=_options,
        description="ShuffleGroupChat: everyone speaks once per round, in a new seeded random order.",
    )
