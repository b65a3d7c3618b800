"""DiskCacheStore: a :class:`~salon.cache.CacheStore` over a ``diskcache.Cache``."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, TypeVar, cast

import diskcache  # type: ignore[import-untyped]

from salon.cache import CacheStore

__all__ = ["DiskCacheStore"]

T = TypeVar("T")


class DiskCacheStore(CacheStore[T]):
    """A cache store on disk: entries survive restarts and are shared by processes using the same directory.

    ``diskcache`` keeps keys and small values in SQLite and large values in files; every ``set`` is one
    transaction, so concurrent writers (threads or processes) never leave a mixed entry: the last complete
    write wins. Values are pickled, so they come back as the objects that were stored (a
    :class:`~salon.models.CreateResult` stays one). Only point a store at a directory you trust: unpickling
    data written by someone else can run their code.

    Args:
        cache_instance: An open ``diskcache.Cache``. The caller owns its lifetime (AutoGen's rule);
            :meth:`close` closes it for callers who prefer to let the store do it.

    Example::

        from diskcache import Cache
        store = DiskCacheStore[CHAT_CACHE_VALUE_TYPE](Cache(".salon/cache"))
    """

    def __init__(self, cache_instance: diskcache.Cache) -> None:
        self.cache = cache_instance

    @classmethod
    def from_directory(cls, directory: str | Path) -> DiskCacheStore[T]:
        """Open (creating if needed) a ``diskcache.Cache`` in ``directory`` and return a store over it."""
        return cls(diskcache.Cache(str(directory)))

    @property
    def directory(self) -> str:
        """The cache's directory."""
        return str(self.cache.directory)

    def get(self, key: str, default: T | None = None) -> T | None:
        """Return the value stored under ``key``, else ``default``."""
        return cast("T | None", self.cache.get(key, default))

    def set(self, key: str, value: T) -> None:
        """Store ``value`` under ``key``, replacing any previous value."""
        self.cache.set(key, cast(Any, value))

    async def aget(self, key: str, default: T | None = None) -> T | None:
        """Like :meth:`get`, in a worker thread: a disk read never stalls the event loop."""
        return await asyncio.to_thread(self.get, key, default)

    async def aset(self, key: str, value: T) -> None:
        """Like :meth:`set`, in a worker thread: a disk write (and its lock) never stalls the event loop."""
        await asyncio.to_thread(self.set, key, value)

    def close(self) -> None:
        """Close the underlying ``diskcache.Cache`` (it reopens itself if used again)."""
        self.cache.close()

    def __repr__(self) -> str:
        return f"DiskCacheStore(directory={self.directory!r})"
