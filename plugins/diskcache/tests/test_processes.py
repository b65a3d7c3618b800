"""Across processes: a cached answer survives a restart, and concurrent writer processes never corrupt entries."""

from __future__ import annotations

from pathlib import Path

import pytest

from salon.testing import CacheStoreProcessSuite


class TestDiskCacheStoreAcrossProcesses(CacheStoreProcessSuite):
    store_source = (
        "from salon_diskcache import DiskCacheStore\n"
        "def open_store(location, prefix):  # one directory per store: no prefix needed\n"
        "    return DiskCacheStore.from_directory(location)\n"
    )

    @pytest.fixture
    def location(self, tmp_path: Path) -> str:
        return str(tmp_path / "cache")
