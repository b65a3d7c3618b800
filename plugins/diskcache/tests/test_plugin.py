"""salon-diskcache as a plugin and from a config: registration, light import, options."""

from __future__ import annotations

from pathlib import Path

import pytest

import salon_diskcache
from salon import ConfigError, Container, PluginManager
from salon.testing import check_found_through_entry_point, check_plugin_stays_light
from salon_diskcache import DiskCacheStore, DiskCacheStoreConfig


def plugin_manager() -> PluginManager:
    pm = PluginManager(entry_points_enabled=False, strict=True)
    pm.add_plugin(salon_diskcache, "diskcache", distribution="salon-diskcache", version=salon_diskcache.__version__)
    return pm


def test_registers_the_store() -> None:
    spec = plugin_manager().registry.get("cache_store", "diskcache")
    assert (spec.distribution, spec.options_model) == ("salon-diskcache", DiskCacheStoreConfig)
    assert spec.description.startswith("DiskCacheStore")


def test_loading_the_plugin_imports_neither_diskcache_nor_pydantic() -> None:
    check_plugin_stays_light("salon_diskcache", "diskcache", heavy=["diskcache", "pydantic", "salon_diskcache._store"])


def test_found_through_its_entry_point() -> None:
    record = check_found_through_entry_point(
        "diskcache", distribution="salon-diskcache", components={"cache_store": ["diskcache"]}
    )
    assert record.version == salon_diskcache.__version__


def test_config_builds_a_store_over_the_directory(tmp_path: Path) -> None:
    directory = tmp_path / "nested" / "cache"
    container = Container.from_dict(
        {"cache_stores": {"disk": {"use": "diskcache", "options": {"directory": str(directory)}}}},
        source="cache.yaml",
        plugin_manager=plugin_manager(),
    )
    store = container.component("cache_stores.disk")
    assert isinstance(store, DiskCacheStore)
    try:
        assert Path(store.directory) == directory and directory.is_dir()
        store.set("k", "v")
        assert store.get("k") == "v"
    finally:
        store.close()


def test_missing_or_misspelt_options_are_config_errors(tmp_path: Path) -> None:
    for options in ({}, {"directory": str(tmp_path), "dir": "x"}):
        with pytest.raises(ConfigError) as caught:
            Container.from_dict(
                {"cache_stores": {"disk": {"use": "diskcache", "options": options}}},
                source="cache.yaml",
                plugin_manager=plugin_manager(),
            )
        assert "cache_stores.disk.options" in str(caught.value)


def test_repr_names_the_directory(tmp_path: Path) -> None:
    store = DiskCacheStore[str].from_directory(tmp_path)
    try:
        assert repr(store) == f"DiskCacheStore(directory={str(tmp_path)!r})"
    finally:
        store.close()
