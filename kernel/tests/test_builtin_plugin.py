"""The kernel's own components are registered through the hooks, like any plugin's, and build from config."""

from __future__ import annotations

from salon import Container, PluginManager, SingleThreadedAgentRuntime, dump_component
from salon.cache import InMemoryStore
from salon.models import ReplayChatCompletionClient, UserMessage


def test_builtins_are_a_plugin_with_hooks() -> None:
    pm = PluginManager(entry_points_enabled=False)
    (record,) = pm.records
    assert (record.name, record.distribution, record.builtin, record.error) == ("builtin", "salon", True, None)
    assert set(record.hooks) == {"register_runtimes", "register_cache_stores", "register_model_clients"}
    assert {(spec.kind, spec.name, spec.plugin) for spec in pm.registry} == {
        ("runtime", "local", "builtin"),
        ("cache_store", "memory", "builtin"),
        ("model_client", "replay", "builtin"),
    }


async def test_builtins_build_from_a_config_and_dump_back() -> None:
    config = {
        "runtime": {"use": "local", "options": {"ignore_unhandled_exceptions": False}},
        "cache_stores": {"mem": {"use": "memory"}},
        "model_clients": {"scripted": {"use": "replay", "options": {"chat_completions": ["first", "second"]}}},
    }
    container = Container.from_dict(config, plugin_manager=PluginManager(entry_points_enabled=False))
    runtime = container.runtime()
    assert isinstance(runtime, SingleThreadedAgentRuntime)
    assert runtime._ignore_unhandled_exceptions is False
    assert isinstance(container.component("cache_stores.mem"), InMemoryStore)
    client = container.component("model_clients.scripted")
    assert isinstance(client, ReplayChatCompletionClient)
    result = await client.create([UserMessage(content="hi", source="user")])
    assert result.content == "first"
    assert dump_component(client) == {
        "use": "replay",
        "version": 1,
        "options": {"chat_completions": ["first", "second"]},
    }
    assert dump_component(runtime) == {"use": "local", "version": 1, "options": {"ignore_unhandled_exceptions": False}}
