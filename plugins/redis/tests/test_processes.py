"""Across processes: a cached answer survives a restart, and concurrent writer processes never corrupt entries."""

from __future__ import annotations

import pytest

from salon.testing import CacheStoreProcessSuite


class TestRedisStoreAcrossProcesses(CacheStoreProcessSuite):
    store_source = (
        "from salon_redis import RedisStore\n"
        "def open_store(location, prefix):\n"
        "    return RedisStore.from_url(location, prefix=prefix)\n"
    )

    @pytest.fixture
    def location(self, redis_url: str) -> str:
        return redis_url
