"""The ``diskcache`` cache store's options, validated by Salon when a config says ``use: diskcache``."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["DiskCacheStoreConfig"]


class DiskCacheStoreConfig(BaseModel):
    """Options of the ``diskcache`` cache store (AutoGen's ``DiskCacheStoreConfig``)."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    directory: str
    """The cache's directory; created if missing. Relative paths are relative to the working directory."""
