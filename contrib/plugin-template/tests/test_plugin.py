"""Tests of the plugin: it loads cleanly, registers its component, validates options, works, and works from a config.

Nothing has to be installed for these tests: ``PluginManager(entry_points_enabled=False)`` loads only
Salon's built-ins plus the plugin objects you add, so the tests see exactly this plugin whatever else
is installed. ``strict=True`` turns a load problem (such as a misspelt hook name) into an exception.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from pydantic import ValidationError

import salon_PLUGIN_NAME
from salon import AgentId, ConfigError, Container, PluginManager, SingleThreadedAgentRuntime
from salon.testing import ConformanceRuntime, RuntimeHarness, check_plugin_stays_light


def _plugin_manager() -> PluginManager:
    manager = PluginManager(entry_points_enabled=False, strict=True)
    manager.add_plugin(salon_PLUGIN_NAME, "PLUGIN_NAME", distribution="salon-PLUGIN_NAME")
    return manager


@pytest.fixture
def plugin_manager() -> PluginManager:
    return _plugin_manager()


def test_the_plugin_loads_with_its_hooks(plugin_manager: PluginManager) -> None:
    record = next(r for r in plugin_manager.records if r.name == "PLUGIN_NAME")
    assert record.error is None
    assert record.hooks == ["register_agents"]


def test_it_registers_its_agent(plugin_manager: PluginManager) -> None:
    spec = plugin_manager.registry.get("agent", "PLUGIN_NAME")
    assert spec.plugin == "PLUGIN_NAME"
    assert spec.distribution == "salon-PLUGIN_NAME"
    assert spec.description


def test_options_are_validated(plugin_manager: PluginManager) -> None:
    options_model = plugin_manager.registry.get("agent", "PLUGIN_NAME").options_model
    assert options_model.model_validate({}).greeting == "Hello"
    with pytest.raises(ValidationError, match="greting"):
        options_model.model_validate({"greting": "Hi"})  # a misspelt option is an error, not ignored


class TestExampleAgent(RuntimeHarness):
    """The component on a real runtime, with salon.testing's harness.

    The harness gives a ``runtime`` fixture that is disposed of after each test, and ``within()``, which
    bounds every wait so that a hung test fails instead of hanging CI.
    """

    async def make_runtime(self, **options: Any) -> ConformanceRuntime:
        return SingleThreadedAgentRuntime(**options)

    async def test_the_registered_agent_answers(self, runtime: ConformanceRuntime) -> None:
        spec = _plugin_manager().registry.get("agent", "PLUGIN_NAME")
        options = spec.options_model.model_validate({"greeting": "Hi"})
        await salon_PLUGIN_NAME.ExampleAgent.register(runtime, "PLUGIN_NAME", lambda: spec.factory(**dict(options)))
        runtime.start()
        answer = await self.within(runtime.send_message("Ada", AgentId("PLUGIN_NAME", "default")))
        assert answer == "Hi, Ada!"


async def test_a_config_can_use_it(plugin_manager: PluginManager) -> None:
    """What users do: name the agent in a config. The container validates the options and builds it."""
    config = {"agents": {"greeter": {"use": "PLUGIN_NAME", "options": {"greeting": "Hi"}}}}
    container = Container.from_dict(config, plugin_manager=plugin_manager)
    async with container.running() as runtime:  # registers the agent type "greeter", starts, stops
        answer = await asyncio.wait_for(runtime.send_message("Ada", AgentId("greeter", "default")), timeout=5)
    assert answer == "Hi, Ada!"


def test_a_misspelt_option_is_a_config_error(plugin_manager: PluginManager) -> None:
    config = {"agents": {"greeter": {"use": "PLUGIN_NAME", "options": {"greting": "Hi"}}}}
    with pytest.raises(ConfigError, match=r"agents\.greeter\.options\.greting"):
        Container.from_dict(config, plugin_manager=plugin_manager)


def test_importing_the_plugin_stays_cheap() -> None:
    """Every `salon` command loads every installed plugin: keep pydantic, your SDK and your component out of it.

    Add your SDK's import name to ``heavy``. Once the plugin is installed, ``check_found_through_entry_point``
    (also in ``salon.testing``) checks its packaging the same way.
    """
    heavy = ["pydantic", "salon_PLUGIN_NAME._agent", "salon_PLUGIN_NAME._options"]
    check_plugin_stays_light("salon_PLUGIN_NAME", "PLUGIN_NAME", heavy=heavy)
