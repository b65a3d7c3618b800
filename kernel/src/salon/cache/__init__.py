"""Caches: where cached values live, and model-response caching on top of them.

``autogen_core``'s ``CacheStore`` and ``InMemoryStore`` and ``autogen_ext.models.cache``'s
``ChatCompletionCache`` and ``CHAT_CACHE_VALUE_TYPE`` port here. The model-response names load on first
use, so importing a store does not import pydantic and the model contracts.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._cache_store import CacheStore, InMemoryStore

if TYPE_CHECKING:
    from ._chat_completion_cache import CHAT_CACHE_VALUE_TYPE, ChatCompletionCache, chat_cache_key

_LAZY = frozenset({"CHAT_CACHE_VALUE_TYPE", "ChatCompletionCache", "chat_cache_key"})


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'salon.cache' has no attribute {name!r}")
    value = getattr(importlib.import_module("salon.cache._chat_completion_cache"), name)
    globals()[name] = value
    return value


__all__ = ["CHAT_CACHE_VALUE_TYPE", "CacheStore", "ChatCompletionCache", "InMemoryStore", "chat_cache_key"]
