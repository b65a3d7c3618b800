"""The surface a framework module in ``benchmarks.subjects`` offers to the workloads.

Workloads pass plain ints and strings; each subject wraps them in its own dataclass
messages, ``AgentId`` and ``TopicId`` per call, the way application code does, so
building those objects is part of the measured cost for every framework alike.
Functions live at module level (a subject is a module), which keeps the adapter
layer to one plain call per operation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

OnMessage = Callable[[str, int], None]
"""Called by a subscriber's handler as ``on_message(agent_key, value)``.

Kept as cheap as the peer harness's callback: at Salon's speed (about 1 µs per
delivery) a heavier callback would be a visible share of the measured cost.
Workloads that must tell agent types apart register one callback per type.
"""


class Subject(Protocol):
    """A framework under test; see ``benchmarks/subjects/salon.py`` for the reference shape."""

    NAME: str
    IMPORT_NAME: str

    def version(self) -> str:
        """Distribution name(s) and version(s), shown in the results."""
        ...

    def make_runtime(self) -> Any:
        """A fresh in-process runtime with default settings."""
        ...

    def start(self, runtime: Any) -> None:
        """Begin processing; called again after a ``stop_when_idle``."""
        ...

    async def stop(self, runtime: Any) -> None:
        """Stop now."""
        ...

    async def stop_when_idle(self, runtime: Any) -> None:
        """Return once every queued and in-flight message is handled."""
        ...

    def live_agents(self, runtime: Any) -> int:
        """Number of agent instances the runtime holds."""
        ...

    async def register_echo(self, runtime: Any, agent_type: str) -> None:
        """An RPC agent type whose handler answers a request with its value."""
        ...

    async def register_subscriber(self, runtime: Any, agent_type: str, topic_type: str, on_message: OnMessage) -> None:
        """An agent type subscribed to ``topic_type``; instance key = topic source; calls ``on_message``."""
        ...

    async def register_forwarder(self, runtime: Any, agent_type: str, in_topic: str, out_topic: str) -> None:
        """An agent type on ``in_topic`` that republishes each message to ``(out_topic, same source)``."""
        ...

    async def send(self, runtime: Any, agent_type: str, key: str, value: int) -> int:
        """Request/response to ``(agent_type, key)``; returns the echoed value."""
        ...

    async def publish(self, runtime: Any, topic_type: str, source: str, value: int) -> None:
        """Publish ``value`` to ``(topic_type, source)`` from outside any agent."""
        ...

    def make_team(self, n_agents: int, n_turns: int, with_tool: bool) -> Any:
        """A round robin of assistant agents on scripted models that stops after ``n_turns`` agent turns (W6)."""
        ...

    async def run_team(self, team: Any, task: str) -> int:
        """Run a team from :meth:`make_team` to its end; the number of agent chat messages."""
        ...

    # ------------------------------------------------------------------ distributed workloads (D1-D3)

    def cluster_address(self, port: int) -> str:
        """How runtimes reach the message server listening on ``127.0.0.1:port``."""
        ...

    def cluster_server(self, port: int) -> tuple[list[str], bool]:
        """The command that runs the message server on ``127.0.0.1:port``, and whether it ends on stdin EOF.

        Otherwise it is ended with SIGTERM.
        """
        ...

    async def serve_host(self, address: str) -> None:
        """Run the framework's own host process until SIGTERM (AutoGen); Salon needs none (Redis is the host)."""
        ...

    async def connect(self, address: str) -> Any:
        """A started distributed runtime connected to the cluster at ``address`` (a worker or the client)."""
        ...

    async def disconnect(self, runtime: Any) -> None:
        """Stop a runtime from :meth:`connect` and close its connections."""
        ...
