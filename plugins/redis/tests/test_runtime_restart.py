"""Redis restarted mid-run: the worker reconnects and resumes; with persistence nothing accepted is lost, and
without it the worker joins again (its types and subscriptions are written again) and goes on."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis

from salon import AgentId, MessageContext, RoutedAgent, TopicId, TypeSubscription, message_handler
from salon.testing import RedisServer
from salon_redis import RedisAgentRuntime


@dataclass
class Tally:
    """Counted by the agent; answered with the count so far."""

    text: str


class Tallier(RoutedAgent):
    """Keeps the texts it was sent or published, in order."""

    def __init__(self) -> None:
        super().__init__("tallies")
        self.texts: list[str] = []

    @message_handler
    async def on_tally(self, message: Tally, ctx: MessageContext) -> list[str]:
        """Record, and answer everything recorded."""
        self.texts.append(message.text)
        return self.texts

    async def save_state(self) -> dict[str, list[str]]:
        """The texts."""
        return {"texts": self.texts}

    async def load_state(self, state: Any) -> None:
        """Take the texts over."""
        self.texts = list(state["texts"])


@pytest.fixture(params=[True, False], ids=["persistent", "not-persistent"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server of this test's own, so that restarting it disturbs no other test."""
    with RedisServer(persistent=request.param, workdir=tmp_path) as made:
        yield made


async def test_a_worker_resumes_after_redis_restarts(server: RedisServer) -> None:
    persistent = server.persistent
    runtime = RedisAgentRuntime(server.url, namespace="restart", lease_ms=600, checkpointed_types=["tally"])
    await Tallier.register(runtime, "tally", Tallier)
    await runtime.add_subscription(TypeSubscription("tallies", "tally"))
    await runtime.start()
    try:
        assert await runtime.send_message(Tally("before"), AgentId("tally", "k")) == ["before"]
        server.stop()
        server.start()
        # The call may first meet the restart (not accepted: an error, nothing half-done); then it goes through.
        answer = None
        for _ in range(100):
            try:
                answer = await runtime.send_message(Tally("after"), AgentId("tally", "k"))
                break
            except redis.ConnectionError:
                continue
        assert answer == (["before", "after"] if persistent else ["after"]), "the checkpoint survives with AOF only"
        await runtime.publish_message(Tally("published"), TopicId("tallies", "k"))
        await runtime.stop_when_idle()
        runtime.start()
        final = await runtime.send_message(Tally("last"), AgentId("tally", "k"))
        assert final[-2:] == ["published", "last"]
    finally:
        await runtime.close()
