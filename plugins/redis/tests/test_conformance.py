"""RedisStore runs the cache store conformance suite against a real redis-server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import redis

from salon.testing import CacheStoreConformanceSuite
from salon_redis import RedisStore


class TestRedisStore(CacheStoreConformanceSuite):
    """Each test location becomes a key prefix; a fresh client over the same prefix sees the same entries."""

    persistent = True

    @pytest.fixture(autouse=True)
    def _server(self, redis_url: str) -> None:
        self.url = redis_url

    def make_store(self, location: Path) -> RedisStore[Any]:
        return RedisStore(redis.Redis.from_url(self.url), prefix=f"{location}:")


class TestRedisStoreWithTTL(TestRedisStore):
    """The same behaviour with a TTL long enough not to expire during a test."""

    def make_store(self, location: Path) -> RedisStore[Any]:
        return RedisStore.from_url(self.url, prefix=f"ttl:{location}:", ttl=300)
