"""RedisStore: a :class:`~salon.cache.CacheStore` in Redis, with prefix, TTL and an async path."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, TypeVar, cast

import redis
from pydantic import BaseModel

from salon.cache import CacheStore

__all__ = ["RedisStore"]

T = TypeVar("T")

logger = logging.getLogger("salon_redis")


def _plain(value: Any) -> Any:
    """``value`` as JSON data: pydantic models through their JSON form, containers item by item."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


class RedisStore(CacheStore[T]):
    """A cache store in Redis: entries are shared by every process and machine using the same server.

    Values are stored as JSON text (pydantic models through ``model_dump(mode="json")``), never pickled, so
    a shared server cannot make a reader run code. ``get`` returns the JSON data: a stored
    :class:`~salon.models.CreateResult` comes back as a dict, which
    :class:`~salon.cache.ChatCompletionCache` rebuilds (as with AutoGen's ``RedisStore``); strings, numbers,
    lists and dicts come back equal to what was stored. Each ``set`` is one ``SET`` command, so concurrent
    writers never mix entries: the last write wins.

    Blocking and the event loop: the cache store contract (``get``/``set``) is synchronous, because
    :class:`~salon.cache.ChatCompletionCache` calls it synchronously. Those calls make one round trip with
    the given redis-py client (about 0.1 ms on a local server). Async code that must not block its loop on a
    slow or remote server uses :meth:`aget`/:meth:`aset`, which run the same calls in a worker thread
    (``asyncio.to_thread``; redis-py clients are thread-safe through their connection pool). We chose a
    thread over a second ``redis.asyncio`` client so that one store has one client, one pool and one set of
    connection options, and works with any ``redis.Redis`` the caller hands in.

    Errors: a cache must not take the application down, so a Redis error (server down, timeout) is logged
    as a warning on the ``salon_redis`` logger and treated as a miss by ``get`` and as not stored by
    ``set`` (AutoGen's behaviour). A value that cannot be written as JSON is a ``TypeError``.

    Args:
        redis_instance: A ``redis.Redis`` client. The caller owns its lifetime (AutoGen's rule);
            :meth:`close` closes it for callers who prefer to let the store do it.
        prefix: Put before every key (e.g. ``"myapp:cache:"``); empty by default, as in AutoGen.
        ttl: Seconds an entry lives after each write; ``None`` (the default) keeps entries until Redis
            evicts them.
    """

    def __init__(self, redis_instance: redis.Redis, *, prefix: str = "", ttl: float | None = None) -> None:
        if ttl is not None and not ttl > 0:
            raise ValueError(f"ttl must be a positive number of seconds or None, not {ttl!r}")
        self.cache = redis_instance
        self.prefix = prefix
        self.ttl = ttl

    @classmethod
    def from_url(cls, url: str, *, prefix: str = "", ttl: float | None = None, **kwargs: Any) -> RedisStore[T]:
        """Return a store over a new client for ``url`` (``redis://[[user]:password@]host[:port][/db]``).

        The client connects on first use. Extra keyword arguments go to ``redis.Redis.from_url``.
        """
        return cls(redis.Redis.from_url(url, **kwargs), prefix=prefix, ttl=ttl)

    def _key(self, key: str) -> str:
        return self.prefix + key

    def _encode(self, value: T) -> bytes:
        try:
            return json.dumps(_plain(value), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        except (TypeError, ValueError) as error:
            raise TypeError(
                f"RedisStore stores JSON data and pydantic models; cannot store a {type(value).__name__}: {error}"
            ) from error

    def _decode(self, raw: Any, key: str, default: T | None) -> T | None:
        if raw is None:
            return default
        if isinstance(raw, bytes):
            try:
                raw = raw.decode("utf-8")
            except UnicodeDecodeError:
                logger.warning("RedisStore: the entry under %r is not UTF-8 text; treated as a miss", key)
                return default
        if isinstance(raw, str):
            try:
                return cast("T", json.loads(raw))
            except ValueError:
                return cast("T", raw)  # text that some other writer stored as is
        return cast("T", raw)

    def get(self, key: str, default: T | None = None) -> T | None:
        """Return the value stored under ``key`` (as JSON data), else ``default``; one blocking round trip."""
        try:
            raw = self.cache.get(self._key(key))
        except redis.RedisError as error:
            logger.warning("RedisStore: reading %r failed (%s); treated as a miss", key, error)
            return default
        return self._decode(raw, key, default)

    def set(self, key: str, value: T) -> None:
        """Store ``value`` under ``key`` (with the store's TTL); one blocking round trip."""
        data = self._encode(value)
        try:
            if self.ttl is None:
                self.cache.set(self._key(key), data)
            else:
                self.cache.set(self._key(key), data, px=max(1, round(self.ttl * 1000)))
        except redis.RedisError as error:
            logger.warning("RedisStore: writing %r failed (%s); not stored", key, error)

    async def aget(self, key: str, default: T | None = None) -> T | None:
        """Like :meth:`get`, run in a worker thread so that the event loop never waits on Redis."""
        return await asyncio.to_thread(self.get, key, default)

    async def aset(self, key: str, value: T) -> None:
        """Like :meth:`set`, run in a worker thread so that the event loop never waits on Redis."""
        await asyncio.to_thread(self.set, key, value)

    def close(self) -> None:
        """Close the client and its connections (a redis-py client reconnects if used again)."""
        self.cache.close()

    def __repr__(self) -> str:
        return f"RedisStore(prefix={self.prefix!r}, ttl={self.ttl!r})"
