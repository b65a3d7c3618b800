"""DiskCacheStore runs the cache store conformance suite."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from salon.testing import CacheStoreConformanceSuite
from salon_diskcache import DiskCacheStore


class TestDiskCacheStore(CacheStoreConformanceSuite):
    persistent = True

    def make_store(self, location: Path) -> DiskCacheStore[Any]:
        return DiskCacheStore.from_directory(location)


class TestDiskCacheStoreOverAnOpenCache(CacheStoreConformanceSuite):
    """AutoGen's way in: the caller opens the ``diskcache.Cache`` and hands it over."""

    persistent = True

    def make_store(self, location: Path) -> DiskCacheStore[Any]:
        from diskcache import Cache  # type: ignore[import-untyped]

        return DiskCacheStore(Cache(str(location)))
