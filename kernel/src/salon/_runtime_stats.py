"""A read-only snapshot of a runtime's health, for health checks and metrics."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["RuntimeStats"]


@dataclass(frozen=True, slots=True)
class RuntimeStats:
    """Counters of one runtime at one moment.

    Attributes:
        live_agents: Agent instances that exist (created by factories or registered).
        registered_types: Registered agent types.
        subscriptions: Subscriptions in the routing table.
        queued_messages: Messages accepted but not yet dispatched.
        in_flight_messages: Deliveries whose handler is running or waiting (including those waiting for
            a sequential agent to become free).
        handled_messages: Deliveries whose handler returned normally, since the runtime was created.
        failed_messages: Deliveries whose handler (or the agent's factory) raised.
        dropped_messages: Messages dropped by intervention handlers or discarded by ``stop()``.
        running: Whether the runtime is processing messages.
    """

    live_agents: int
    registered_types: int
    subscriptions: int
    queued_messages: int
    in_flight_messages: int
    handled_messages: int
    failed_messages: int
    dropped_messages: int
    running: bool

    def as_dict(self) -> dict[str, Any]:
        """The snapshot as a plain dict (for JSON health endpoints)."""
        return asdict(self)
