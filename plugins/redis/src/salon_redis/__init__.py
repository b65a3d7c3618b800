"""salon-redis: Redis for Salon (the port of ``autogen_ext.cache_store.redis`` and ``autogen_ext.runtimes.grpc``).

``from salon_redis import RedisStore`` replaces ``from autogen_ext.cache_store.redis import RedisStore``;
``from salon_redis import RedisAgentRuntime`` replaces AutoGen's ``GrpcWorkerAgentRuntime`` (and its host:
Redis is the host; see ``docs/distributed.md``). In a config::

    cache_stores:
      shared: {use: redis, options: {url: "${REDIS_URL}", prefix: "myapp:cache:", ttl: 86400}}
    runtime: {use: redis, options: {url: "${REDIS_URL}", namespace: myapp}}

``salon worker CONFIG`` runs a worker process of the cluster a config's runtime names.

Salon imports this module for every ``salon`` command, so it imports neither ``redis`` nor pydantic at
the top: the store, the runtime and their options load on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from salon.hookspecs import Register, hookimpl

if TYPE_CHECKING:
    from pydantic import SecretStr

    from ._options import RedisStoreConfig
    from ._runtime import RedisAgentRuntime
    from ._runtime_options import RedisRuntimeConfig
    from ._store import RedisStore

__version__ = "0.1.0"

__all__ = [
    "RedisAgentRuntime",
    "RedisRuntimeConfig",
    "RedisStore",
    "RedisStoreConfig",
    "register_cache_stores",
    "register_commands",
    "register_runtimes",
]

_LAZY: dict[str, str] = {
    "RedisAgentRuntime": "salon_redis._runtime",
    "RedisRuntimeConfig": "salon_redis._runtime_options",
    "RedisStore": "salon_redis._store",
    "RedisStoreConfig": "salon_redis._options",
}


def __getattr__(name: str) -> Any:
    """Import the public classes on first access, so loading the plugin stays cheap."""
    try:
        module = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'salon_redis' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def _options_model() -> type[RedisStoreConfig]:
    from ._options import RedisStoreConfig

    return RedisStoreConfig


def _make_store(*, url: SecretStr, prefix: str, ttl: float | None = None) -> RedisStore[Any]:
    """Build a store from validated options; the URL (which may hold a password) stays secret until here."""
    from ._store import RedisStore

    return RedisStore.from_url(url.get_secret_value(), prefix=prefix, ttl=ttl)


@hookimpl
def register_cache_stores(register: Register) -> None:
    """Register the ``redis`` cache store."""
    register(
        "redis",
        _make_store,
        options=_options_model,
        description="RedisStore: a cache in Redis, shared by processes and machines, with prefix and TTL.",
    )


def _runtime_options_model() -> type[RedisRuntimeConfig]:
    from ._runtime_options import RedisRuntimeConfig

    return RedisRuntimeConfig


def _make_runtime(*, url: SecretStr, **options: Any) -> RedisAgentRuntime:
    """Build a worker from validated options; the URL (which may hold a password) stays secret until here."""
    from ._runtime import RedisAgentRuntime

    return RedisAgentRuntime(url.get_secret_value(), **options)


@hookimpl
def register_runtimes(register: Register) -> None:
    """Register the ``redis`` runtime."""
    register(
        "redis",
        _make_runtime,
        options=_runtime_options_model,
        description="RedisAgentRuntime: agents across processes and machines sharing a Redis server.",
    )


@hookimpl
def register_commands(cli: Any) -> None:
    """Add ``salon worker``; its module imports only the standard library until the command runs."""
    from ._cli import add_worker_command

    add_worker_command(cli)
