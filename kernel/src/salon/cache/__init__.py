"""Cache stores: where cached model responses (and other values) live.

``autogen_core``'s ``CacheStore`` and ``InMemoryStore`` port here; model-response caching
(``ChatCompletionCache``) arrives with the models contracts.
"""

from ._cache_store import CacheStore, InMemoryStore

__all__ = ["CacheStore", "InMemoryStore"]
