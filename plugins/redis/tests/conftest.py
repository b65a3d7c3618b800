"""A real redis-server on 127.0.0.1, started by the tests on a free port and stopped after them.

The server is :class:`salon.testing.RedisServer`. If redis-server is missing or does not answer, every
test that needs it fails (never skips): CI installs it (``.ci/run``), and developers install it with
``apt-get install redis-server``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from salon.testing import RedisServer


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """The URL of a redis-server that lives for the test session (no persistence: ``--save ''``)."""
    with RedisServer() as server:
        yield server.url


@pytest.fixture
def client(redis_url: str) -> Iterator[redis.Redis]:
    """A client of the session's server, closed after the test."""
    made = redis.Redis.from_url(redis_url)
    try:
        yield made
    finally:
        made.close()
