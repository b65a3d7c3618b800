"""salon-redis as a plugin and from a config: registration, light import, options, the URL kept secret."""

from __future__ import annotations

import pytest

import salon_redis
from salon import ConfigError, Container, PluginManager
from salon.testing import check_found_through_entry_point, check_plugin_stays_light
from salon_redis import RedisStore, RedisStoreConfig


def plugin_manager() -> PluginManager:
    pm = PluginManager(entry_points_enabled=False, strict=True)
    pm.add_plugin(salon_redis, "redis", distribution="salon-redis", version=salon_redis.__version__)
    return pm


def test_registers_the_store() -> None:
    spec = plugin_manager().registry.get("cache_store", "redis")
    assert (spec.distribution, spec.options_model) == ("salon-redis", RedisStoreConfig)
    assert spec.description.startswith("RedisStore")


def test_loading_the_plugin_imports_neither_redis_nor_pydantic() -> None:
    heavy = ["redis", "pydantic", "salon_redis._store", "salon_redis._runtime"]
    check_plugin_stays_light("salon_redis", "redis", heavy=heavy)


def test_found_through_its_entry_point() -> None:
    components = {"cache_store": ["redis"], "runtime": ["redis"]}
    record = check_found_through_entry_point("redis", distribution="salon-redis", components=components)
    assert record.version == salon_redis.__version__


def test_config_builds_a_store_from_a_secret_url(redis_url: str) -> None:
    container = Container.from_dict(
        {"cache_stores": {"shared": {"use": "redis", "options": {"url": "${REDIS_URL}", "prefix": "cfg:", "ttl": 60}}}},
        source="cache.yaml",
        plugin_manager=plugin_manager(),
        environ={"REDIS_URL": redis_url},
    )
    store = container.component("cache_stores.shared")
    assert isinstance(store, RedisStore)
    try:
        assert (store.prefix, store.ttl) == ("cfg:", 60)
        store.set("k", "v")
        assert store.get("k") == "v" and 0 < store.cache.ttl("cfg:k") <= 60
    finally:
        store.close()


def test_defaults() -> None:
    options = RedisStoreConfig()
    assert options.url.get_secret_value() == "redis://127.0.0.1:6379/0"
    assert (options.prefix, options.ttl) == ("salon:cache:", None)
    assert "6379" not in repr(options)


@pytest.mark.parametrize(
    ("options", "expected"),
    [({"ttl": 0}, "ttl"), ({"ttl": "soon"}, "ttl"), ({"urls": "redis://x"}, "urls")],
)
def test_bad_options_are_config_errors(options: dict[str, object], expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Container.from_dict(
            {"cache_stores": {"shared": {"use": "redis", "options": options}}},
            source="cache.yaml",
            plugin_manager=plugin_manager(),
        )
    assert f"cache_stores.shared.options.{expected}" in str(caught.value)


def test_a_password_in_the_url_is_never_shown() -> None:
    secret = "s3cret-password"
    with pytest.raises(ConfigError) as caught:
        Container.from_dict(
            {"cache_stores": {"shared": {"use": "redis", "options": {"url": f"redis://:{secret}@h:1/0", "ttl": -1}}}},
            source="cache.yaml",
            plugin_manager=plugin_manager(),
        )
    assert secret not in str(caught.value)
    assert secret not in repr(RedisStoreConfig(url=f"redis://:{secret}@h:1/0"))  # type: ignore[arg-type]
