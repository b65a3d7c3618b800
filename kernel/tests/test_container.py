"""The dependency-injection container: references resolved, singletons, overrides, running the runtime."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from dependency_injector import containers, providers
from test_config_support import ENV, SECRET, ConfigTestPlugin, FakeClient, HelperAgent, Note, base_config, make_pm

from salon import AgentId, SingleThreadedAgentRuntime
from salon._config_errors import ConfigError
from salon._container import Container
from salon.cache import InMemoryStore


def _container(plugin: ConfigTestPlugin | None = None, data: dict[str, Any] | None = None) -> Container:
    return Container.from_dict(data or base_config(), plugin_manager=make_pm(plugin), environ=ENV)


def test_components_are_built_with_their_references_resolved() -> None:
    container = _container()
    writer = container.component("agents.writer")
    critic = container.component("agents.critic")
    client = container.component("model_clients.gpt")
    assert isinstance(writer, HelperAgent) and isinstance(client, FakeClient)
    assert writer.model_client is client and critic.model_client is client
    assert writer.tools == [container.component("tools.add")]
    assert critic.peers == [writer]
    assert client.api_key.get_secret_value() == SECRET
    assert isinstance(container.runtime(), SingleThreadedAgentRuntime)
    assert isinstance(container.component("cache_stores.mem"), InMemoryStore)
    team = container.component("team")
    assert team.participants == [writer, critic]


def test_inline_termination_algebra_combines_with_or_and_and() -> None:
    data = base_config()
    data["team"]["options"]["termination"] = {
        "any": [
            {"use": "max_messages", "options": {"max_messages": 3}},
            {
                "all": [
                    {"use": "text_mention", "options": {"text": "A"}},
                    {"use": "text_mention", "options": {"text": "B"}},
                    {"any": [{"use": "text_mention", "options": {"text": "C"}}]},
                ]
            },
        ]
    }
    team = _container(data=data).component("team")
    assert team.termination.label == "(max3 | ((text:A & text:B) & text:C))"


def test_a_single_inline_condition_and_no_condition() -> None:
    data = base_config()
    data["team"]["options"]["termination"] = {"use": "text_mention", "options": {"text": "STOP"}}
    assert _container(data=data).component("team").termination.label == "text:STOP"
    del data["team"]["options"]["termination"]
    assert _container(data=data).component("team").termination is None


def test_each_component_is_built_once_and_on_demand() -> None:
    container = _container()
    assert container.component("agents.writer") is container.component("agents.writer")
    assert container.components()["agents.writer"] is container.component("agents.writer")
    container.reset()
    assert container.component("model_clients.gpt") is not None


def test_the_container_is_a_dependency_injector_container_with_path_named_singletons() -> None:
    container = _container()
    assert isinstance(container.di, containers.DynamicContainer)
    assert isinstance(container.provider("agents.writer"), providers.Singleton)
    assert "team.options.termination.any[0]" in container.di.providers  # inline parts are providers too
    with pytest.raises(LookupError, match=r"no component at 'agents\.nobody'; components: runtime, model_clients"):
        container.component("agents.nobody")


def test_overriding_a_provider_replaces_the_component_for_its_users() -> None:
    container = _container()
    fake = FakeClient("stub", None, 0.0, {})
    with container.override_providers({"model_clients.gpt": fake}):
        assert container.component("agents.writer").model_client is fake
        assert container.component("model_clients.gpt") is fake
    container.reset()
    assert container.component("agents.writer").model_client is not fake


def test_provider_override_of_dependency_injector_works_directly() -> None:
    container = _container()
    container.provider("tools.add").override(providers.Object("a tool"))
    try:
        assert container.component("agents.writer").tools == ["a tool"]
    finally:
        container.provider("tools.add").reset_override()


def test_overriding_an_unknown_path_is_an_error() -> None:
    with pytest.raises(LookupError):
        _container().override_providers(**{"agents.ghost": object()})


def test_container_built_hook_is_called_once_before_anything_is_built() -> None:
    plugin = ConfigTestPlugin()
    container = _container(plugin)
    assert [name for name, _ in plugin.events] == ["container_built"]
    assert plugin.events[0][1] is container


def test_paths_source_plugin_manager_and_repr() -> None:
    pm = make_pm()
    container = Container.from_dict(base_config(), source="mine.yaml", plugin_manager=pm, environ=ENV)
    assert container.plugin_manager is pm
    assert container.source == "mine.yaml"
    assert repr(container) == (
        "<Container 'mine.yaml': runtime, model_clients.gpt, cache_stores.mem, tools.add, agents.writer, "
        "agents.critic, agents.notes, team>"
    )


async def test_running_registers_runtime_agents_under_their_keys_and_calls_the_hooks() -> None:
    plugin = ConfigTestPlugin()
    container = _container(plugin)
    async with container.running() as runtime:
        assert runtime is container.runtime()
        assert runtime.stats().running
        answer = await runtime.send_message("hello", AgentId("writer", "k1"))
        assert answer == "W: hello (writer/k1)"
        assert await runtime.send_message("hi", AgentId("critic", "default")) == "C: hi (critic/default)"
        first = await runtime.try_get_underlying_agent_instance(AgentId("writer", "k1"), HelperAgent)
        second = await runtime.try_get_underlying_agent_instance(AgentId("writer", "k2"), HelperAgent)
        assert first is not second  # a fresh instance per agent id, made inside the runtime's factory call
        assert first is not container.component("agents.writer")
        assert first.model_client is container.component("model_clients.gpt")  # references stay shared
        with pytest.raises(LookupError):
            await runtime.send_message("x", AgentId("notes", "default"))  # not a runtime agent: not registered
        assert runtime.stats().registered_types == 2
    assert not runtime.stats().running
    assert [name for name, _ in plugin.events] == ["container_built", "runtime_started", "runtime_stopping"]
    assert plugin.events[1][1] is runtime


async def test_running_stops_the_runtime_when_the_block_raises() -> None:
    plugin = ConfigTestPlugin()
    container = _container(plugin)
    with pytest.raises(RuntimeError, match="inside"):
        async with container.running() as runtime:
            raise RuntimeError("inside")
    assert not runtime.stats().running
    assert [name for name, _ in plugin.events][-1] == "runtime_stopping"


async def test_running_twice_registers_agents_once() -> None:
    container = _container()
    async with container.running():
        pass
    async with container.running() as runtime:
        assert await runtime.send_message("again", AgentId("writer", "default")) == "W: again (writer/default)"


async def test_an_overridden_agent_provider_is_what_the_runtime_creates() -> None:
    container = _container()

    def make() -> HelperAgent:
        return HelperAgent(FakeClient("x", None, 0, {}), "OVERRIDDEN", [], [])

    with container.override_providers({"agents.writer": providers.Factory(make)}):
        async with container.running() as runtime:
            assert await runtime.send_message("q", AgentId("writer", "default")) == "OVERRIDDEN: q (writer/default)"


async def test_agents_from_factory_functions_are_registered_when_they_build_runtime_agents() -> None:
    class FunctionPlugin:
        from salon.hookspecs import hookimpl

        @hookimpl
        def register_agents(self, register: Any) -> None:
            def build(model_client: Any, system_message: str, peers: Any, tools: Any) -> HelperAgent:
                return HelperAgent(model_client, system_message, peers, tools)

            from test_config_support import HelperOptions

            register("helper_fn", build, options=HelperOptions)

    pm = make_pm()
    pm.add_plugin(FunctionPlugin(), "fn")
    data = {
        "model_clients": {"gpt": {"use": "fake", "options": {"model": "m"}}},
        "agents": {"f": {"use": "helper_fn", "options": {"model_client": "gpt", "system_message": "F"}}},
    }
    container = Container.from_dict(data, plugin_manager=pm)
    async with container.running() as runtime:
        assert await runtime.send_message("z", AgentId("f", "default")) == "F: z (f/default)"


def test_a_factory_error_is_a_config_error_naming_the_component() -> None:
    data = {"agents": {"n": {"use": "note", "options": {"text": "x"}}}}

    class Failing:
        from salon.hookspecs import hookimpl

        @hookimpl
        def register_memories(self, register: Any) -> None:
            def boom() -> None:
                raise OSError("disk full")

            register("boom", boom)

    pm = make_pm()
    pm.add_plugin(Failing(), "failing")
    data["memories"] = {"m": {"use": "boom"}}
    container = Container.from_dict(data, source="s.yaml", plugin_manager=pm)
    assert isinstance(container.component("agents.n"), Note)
    with pytest.raises(ConfigError) as info:
        container.component("memories.m")
    assert str(info.value) == (
        "s.yaml: memories.m: expected options that memory 'boom' can be built from, found an error: OSError: disk full"
    )
    assert isinstance(info.value.__cause__, OSError)


def test_a_cache_reference_needs_chat_completion_cache_or_says_why() -> None:
    data = base_config()
    data["model_clients"]["gpt"]["cache"] = "mem"
    container = _container(data=data)
    try:
        from salon.cache import ChatCompletionCache  # type: ignore[attr-defined]
    except ImportError:
        with pytest.raises(ConfigError) as info:
            container.component("model_clients.gpt")
        assert info.value.path == "model_clients.gpt.cache"
        assert "ChatCompletionCache" in info.value.expected
    else:
        client = container.component("model_clients.gpt")
        assert isinstance(client, ChatCompletionCache)
        assert container.dump()["model_clients.gpt"]["cache"] == "mem"


def test_building_logs_nothing_secret(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="salon")
    container = _container()
    container.components()
    assert SECRET not in caplog.text


def test_plugins_default_to_a_new_plugin_manager_that_loads_what_the_config_selects() -> None:
    container = Container.from_dict({"plugins": []})
    assert [record.name for record in container.plugin_manager.records] == ["builtin"]
    assert container.dump() == {"runtime": {"use": "local", "version": 1, "options": {}}}


def test_importing_the_config_modules_loads_no_heavy_library() -> None:
    """pydantic, PyYAML and dependency-injector load when a container is built, not on import."""
    import subprocess
    import sys

    code = (
        "import sys, salon, salon._container, salon._component_dump, salon._config_schema, salon._config_refs\n"
        "heavy = [m for m in ('pydantic', 'yaml', 'dependency_injector') if m in sys.modules]\n"
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
