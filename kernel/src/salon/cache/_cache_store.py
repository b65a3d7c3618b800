"""The cache store contract and the in-memory store."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Generic, TypeVar

__all__ = ["CacheStore", "InMemoryStore"]

T = TypeVar("T")


class CacheStore(ABC, Generic[T]):
    """A key-value store for cached values; implementations own their storage's lifecycle.

    ``get``/``set`` are AutoGen's synchronous contract. ``aget``/``aset`` are what async callers
    (:class:`~salon.cache.ChatCompletionCache`) use: by default they call ``get``/``set``, and a store that
    does I/O (a disk, a network) overrides them so that the event loop never waits on it.
    """

    @abstractmethod
    def get(self, key: str, default: T | None = None) -> T | None:
        """Return the value stored under ``key``, else ``default``."""

    @abstractmethod
    def set(self, key: str, value: T) -> None:
        """Store ``value`` under ``key``, replacing any previous value."""

    async def aget(self, key: str, default: T | None = None) -> T | None:
        """:meth:`get` for async callers; override it when ``get`` blocks on I/O."""
        return self.get(key, default)

    async def aset(self, key: str, value: T) -> None:
        """:meth:`set` for async callers; override it when ``set`` blocks on I/O."""
        self.set(key, value)


class InMemoryStore(CacheStore[T]):
    """A cache store in a dict: fast, per process, gone on exit (the embedded default)."""

    def __init__(self) -> None:
        self.store: dict[str, T] = {}

    def get(self, key: str, default: T | None = None) -> T | None:
        """Return the value stored under ``key``, else ``default``."""
        return self.store.get(key, default)

    def set(self, key: str, value: T) -> None:
        """Store ``value`` under ``key``."""
        self.store[key] = value
