"""salon-diskcache: a persistent cache store on disk (the port of ``autogen_ext.cache_store.diskcache``).

``from salon_diskcache import DiskCacheStore`` replaces
``from autogen_ext.cache_store.diskcache import DiskCacheStore``. In a config::

    cache_stores:
      disk: {use: diskcache, options: {directory: .salon/cache}}

Salon imports this module for every ``salon`` command, so it imports neither ``diskcache`` nor pydantic
at the top: the store and its options load on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from salon.hookspecs import Register, hookimpl

if TYPE_CHECKING:
    from ._options import DiskCacheStoreConfig
    from ._store import DiskCacheStore

__version__ = "0.1.0"

__all__ = ["DiskCacheStore", "DiskCacheStoreConfig", "register_cache_stores"]

_LAZY: dict[str, str] = {"DiskCacheStore": "salon_diskcache._store", "DiskCacheStoreConfig": "salon_diskcache._options"}


def __getattr__(name: str) -> Any:
    """Import the public classes on first access, so loading the plugin stays cheap."""
    try:
        module = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'salon_diskcache' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def _options_model() -> type[DiskCacheStoreConfig]:
    from ._options import DiskCacheStoreConfig

    return DiskCacheStoreConfig


def _make_store(*, directory: str) -> DiskCacheStore[Any]:
    """Build a store from validated options: a ``diskcache.Cache`` over ``directory`` (created if missing)."""
    from ._store import DiskCacheStore

    return DiskCacheStore.from_directory(directory)


@hookimpl
def register_cache_stores(register: Register) -> None:
    """Register the ``diskcache`` cache store."""
    register(
        "diskcache",
        _make_store,
        options=_options_model,
        description="DiskCacheStore: a persistent cache in a directory on disk (diskcache).",
    )
