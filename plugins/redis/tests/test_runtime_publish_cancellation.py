"""A publish's cancellation token reaches its handlers as in-process: cancelled before the write, seen cancelled."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from salon import (
    AgentRuntime,
    CancellationToken,
    MessageContext,
    RoutedAgent,
    SingleThreadedAgentRuntime,
    TopicId,
    TypeSubscription,
    message_handler,
)
from salon_redis import RedisAgentRuntime


@dataclass
class News:
    """A published text."""

    text: str


class Listener(RoutedAgent):
    """Records each text it got and whether its context's token was cancelled then."""

    def __init__(self, seen: dict[str, bool]) -> None:
        super().__init__("listens")
        self.seen = seen

    @message_handler
    async def on_news(self, message: News, ctx: MessageContext) -> None:
        """Record the text and the token's state."""
        self.seen[message.text] = ctx.cancellation_token.is_cancelled()


def _cancelled() -> CancellationToken:
    token = CancellationToken()
    token.cancel()
    return token


async def _publish_with_tokens(runtime: AgentRuntime, start: Callable[[], Any]) -> dict[str, bool]:
    """Publish with live and cancelled tokens, before and after ``start``; return what the handlers saw."""
    seen: dict[str, bool] = {}
    await Listener.register(runtime, "listener", lambda: Listener(seen))
    await runtime.add_subscription(TypeSubscription("news", "listener"))
    topic = TopicId("news", "k")
    queued = CancellationToken()
    await runtime.publish_message(News("queued, live token"), topic, cancellation_token=CancellationToken())
    await runtime.publish_message(News("queued, token cancelled later"), topic, cancellation_token=queued)
    await runtime.publish_message(News("queued, token cancelled already"), topic, cancellation_token=_cancelled())
    queued.cancel()  # while the message waits for start(): it has not gone anywhere yet
    result = start()
    if result is not None:  # the Redis runtime's start() is awaitable: joined once it returns
        await result
    await runtime.publish_message(News("live token"), topic, cancellation_token=CancellationToken())
    await runtime.publish_message(News("token cancelled already"), topic, cancellation_token=_cancelled())
    await runtime.publish_message(News("no token"), topic)
    await runtime.stop_when_idle()  # type: ignore[attr-defined]
    return seen


EXPECTED = {
    "queued, live token": False,
    "queued, token cancelled later": True,
    "queued, token cancelled already": True,
    "live token": False,
    "token cancelled already": True,
    "no token": False,
}


async def test_handlers_see_the_token_of_a_publish_cancelled_before_it_was_written(redis_url: str) -> None:
    runtime = RedisAgentRuntime(redis_url, namespace=f"pubcancel-{uuid.uuid4().hex[:8]}")
    try:
        assert await _publish_with_tokens(runtime, runtime.start) == EXPECTED
    finally:
        await runtime.close()


async def test_in_process_the_same_publishes_are_seen_the_same_way() -> None:
    """The reference: AutoGen's in-process runtime delivers such publishes too, with the publisher's token."""
    runtime = SingleThreadedAgentRuntime()
    try:
        assert await _publish_with_tokens(runtime, runtime.start) == EXPECTED
    finally:
        await runtime.close()
