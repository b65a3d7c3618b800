"""Checkpointed agent types: the state follows an agent to the next worker that hosts it; others start afresh."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from salon import AgentId, MessageContext, RoutedAgent, message_handler
from salon_redis import RedisAgentRuntime


@dataclass
class Increment:
    """Adds one to the counter."""


class Counter(RoutedAgent):
    """Counts the increments it handled; its state is the count."""

    def __init__(self) -> None:
        super().__init__("counts")
        self.count = 0

    @message_handler
    async def on_increment(self, message: Increment, ctx: MessageContext) -> int:
        """Count and answer the new count."""
        self.count += 1
        return self.count

    async def save_state(self) -> dict[str, Any]:
        """The count."""
        return {"count": self.count}

    async def load_state(self, state: Any) -> None:
        """Take the count over."""
        self.count = state["count"]


async def _worker(url: str, namespace: str, name: str) -> RedisAgentRuntime:
    runtime = RedisAgentRuntime(url, namespace=namespace, worker_id=name, checkpointed_types=["kept"])
    await Counter.register(runtime, "kept", Counter)
    await Counter.register(runtime, "plain", Counter)
    await runtime.start()
    return runtime


async def test_a_checkpointed_agent_continues_from_its_state_on_the_next_worker(redis_url: str) -> None:
    namespace = f"ckpt-{uuid.uuid4().hex[:8]}"
    first = await _worker(redis_url, namespace, "first")
    try:
        for expected in (1, 2, 3):
            assert await first.send_message(Increment(), AgentId("kept", "k")) == expected
            assert await first.send_message(Increment(), AgentId("plain", "k")) == expected
    finally:
        await first.close()  # gives its partitions back

    second = await _worker(redis_url, namespace, "second")
    try:
        assert await second.send_message(Increment(), AgentId("kept", "k")) == 4, "state loaded from the checkpoint"
        assert await second.send_message(Increment(), AgentId("plain", "k")) == 1, "not checkpointed: starts afresh"
        assert await second.send_message(Increment(), AgentId("kept", "other")) == 1, "no checkpoint yet: fresh"
    finally:
        await second.close()


async def test_a_stopped_and_restarted_worker_reloads_checkpointed_agents(redis_url: str) -> None:
    namespace = f"ckpt-{uuid.uuid4().hex[:8]}"
    runtime = await _worker(redis_url, namespace, "only")
    try:
        assert await runtime.send_message(Increment(), AgentId("kept", "k")) == 1
        await runtime.stop_when_idle()
        other = await _worker(redis_url, namespace, "meanwhile")  # takes the partitions over while it is stopped
        assert await other.send_message(Increment(), AgentId("kept", "k")) == 2
        await other.close()
        await runtime.start()
        assert await runtime.send_message(Increment(), AgentId("kept", "k")) == 3, "no stale instance kept"
    finally:
        await runtime.close()
