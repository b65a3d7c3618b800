"""A model client's `cache:` key wraps it in ChatCompletionCache, namespaced by the client's config name."""

from __future__ import annotations

from salon import Container, PluginManager
from salon.cache import ChatCompletionCache
from salon.models import UserMessage

QUESTION = [UserMessage(content="Which model are you?", source="user")]


async def test_cached_clients_sharing_a_store_never_answer_for_each_other() -> None:
    config = {
        "cache_stores": {"shared": {"use": "memory"}},
        "model_clients": {
            "first": {"use": "replay", "options": {"chat_completions": ["I am first"] * 3}, "cache": "shared"},
            "second": {"use": "replay", "options": {"chat_completions": ["I am second"] * 3}, "cache": "shared"},
        },
    }
    container = Container.from_dict(config, plugin_manager=PluginManager(entry_points_enabled=False))
    first = container.component("model_clients.first")
    second = container.component("model_clients.second")
    assert isinstance(first, ChatCompletionCache)
    assert isinstance(second, ChatCompletionCache)
    assert (await first.create(QUESTION)).content == "I am first"
    assert (await second.create(QUESTION)).content == "I am second"  # same request, same store, own entry
    again = await first.create(QUESTION)
    assert (again.content, again.cached) == ("I am first", True)
    assert len(first.client.create_calls) == 1  # type: ignore[attr-defined]  # the hit made no model call
