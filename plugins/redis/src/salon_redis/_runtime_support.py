"""Small helpers of the Redis runtime: masking URLs, the awaitable ``start()`` result, reply merging."""

from __future__ import annotations

import asyncio
from collections.abc import Generator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from redis.asyncio.client import Pipeline

__all__ = ["Started", "execute", "mask_url", "merge_replies", "retrieve"]


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


def merge_replies(first: Any, second: Any) -> list[Any]:
    """Join two XREADGROUP replies (RESP2 lists or RESP3 dicts) into one list of ``(stream, entries)``."""
    merged: list[Any] = []
    for reply in (first, second):
        if reply:
            merged.extend(reply.items() if isinstance(reply, dict) else reply)
    return merged


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
