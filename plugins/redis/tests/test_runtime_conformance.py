"""The kernel's runtime conformance suite, run against RedisAgentRuntime on a real redis-server."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Sequence
from typing import Any

import pytest
import redis

from salon import InterventionHandler
from salon.testing import RuntimeConformanceSuite
from salon_redis import RedisAgentRuntime


class TestRedisRuntimeConformance(RuntimeConformanceSuite):
    """Every runtime behaviour of the in-process runtime, one worker per runtime, a fresh namespace per runtime."""

    timeout = 20.0

    @pytest.fixture(autouse=True)
    def _server(self, redis_url: str) -> None:
        self.url = redis_url

    async def make_runtime(
        self,
        *,
        intervention_handlers: Sequence[InterventionHandler] = (),
        ignore_unhandled_exceptions: bool = True,
    ) -> Any:
        return RedisAgentRuntime(
            self.url,
            namespace=f"conf-{uuid.uuid4().hex[:12]}",
            intervention_handlers=list(intervention_handlers),
            ignore_unhandled_exceptions=ignore_unhandled_exceptions,
        )

    async def dispose_runtime(self, runtime: Any) -> None:
        with contextlib.suppress(Exception):
            await self.within(runtime.close())
        client = redis.Redis.from_url(self.url)
        try:
            keys = list(client.scan_iter(match=f"salon:{runtime.namespace}:*", count=1000))
            if keys:
                client.delete(*keys)
        finally:
            client.close()
