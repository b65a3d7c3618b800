"""Small helpers of the Redis runtime: the connection pool, masking URLs, the awaitable ``start()`` result."""

from __future__ import annotations

import asyncio
from collections.abc import Generator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from redis.asyncio import BlockingConnectionPool
from redis.asyncio.client import Pipeline
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff

__all__ = ["Started", "connection_pool", "execute", "mask_url", "retrieve"]


def connection_pool(url: str, max_connections: int) -> tuple[BlockingConnectionPool, float | None]:
    """A blocking pool for ``url`` whose connections time out their reads, not their writes, and that timeout.

    redis-py applies ``socket_timeout`` (5 s by default) to writes with ``asyncio.wait_for``, which on
    Python 3.11 wraps every command's write in a task of its own: one more task and one more turn of the
    event loop per command, a tenth of a sequential RPC's CPU. Writes go to a local socket buffer and do
    not block; reads keep the same timeout, so a server that stops answering is still noticed. Blocking
    reads (``block_ms``) are much shorter than it.
    """
    # Blocking pool: a burst (a thousand new agents restoring at once) waits for a connection. A pooled
    # connection Redis closed (it restarted) fails once, then is opened again: retried, since the pool serves
    # only commands that are safe to repeat (leases, routing, checkpoint reads; the message path has its own).
    pool = BlockingConnectionPool.from_url(
        url, max_connections=max_connections, timeout=None, retry=Retry(ExponentialBackoff(cap=0.5, base=0.02), 3)
    )
    probe: Any = pool.make_connection()  # type: ignore[no-untyped-call]  # not connected: for its settings
    read_timeout = probe.socket_timeout  # the URL's, else redis-py's default
    if read_timeout is not None:
        base: Any = pool.connection_class

        class ReadTimeoutConnection(base):  # type: ignore[misc]
            async def read_response(
                self,
                disable_decoding: bool = False,
                timeout: Any = None,  # noqa: ASYNC109 (redis-py's signature)
                **kwargs: Any,
            ) -> Any:
                if timeout is None:
                    timeout = read_timeout
                return await super().read_response(disable_decoding, timeout, **kwargs)

        pool.connection_class = ReadTimeoutConnection
        pool.connection_kwargs["socket_timeout"] = None
    return pool, read_timeout


def mask_url(url: str) -> str:
    """The URL with its password replaced by ``***``, for errors and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    netloc = f"{user}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


class Started:
    """What ``start()`` returns: ignore it (AutoGen's in-process style) or await it (AutoGen's gRPC style)."""

    __slots__ = ("_ready",)

    def __init__(self, ready: asyncio.Future[None]) -> None:
        self._ready = ready

    def __await__(self) -> Generator[Any, None, None]:
        return asyncio.shield(self._ready).__await__()


def retrieve(future: asyncio.Future[None]) -> None:
    # The failure is raised by later calls; mark it retrieved so asyncio does not log it a second time.
    if not future.cancelled():
        future.exception()


async def execute(pipe: Pipeline) -> list[Any]:
    """Run a pipeline and always give its connection back, even when loading its scripts failed.

    redis-py releases the connection only if the pipeline got past loading its scripts; a pipeline that
    failed there (Redis down) would keep a broken connection until garbage collection.
    """
    try:
        return await pipe.execute()
    finally:
        await pipe.reset()  # type: ignore[no-untyped-call]
