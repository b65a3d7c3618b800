"""The cache store conformance suite on the kernel's in-memory store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from salon.cache import InMemoryStore
from salon.testing import CacheStoreConformanceSuite


class TestInMemoryStore(CacheStoreConformanceSuite):
    persistent = False

    def make_store(self, location: Path) -> InMemoryStore[Any]:
        return InMemoryStore()
