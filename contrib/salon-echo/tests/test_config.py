"""salon-echo composed from a config: what a user's YAML does, checked through Container.from_dict."""

from __future__ import annotations

from typing import Any

import pytest

import salon_echo
from salon import AgentId, ConfigError, Container, PluginManager, dump_component
from salon_echo import EchoAgent


def plugin_manager() -> PluginManager:
    pm = PluginManager(entry_points_enabled=False, strict=True)
    pm.add_plugin(salon_echo, "echo", distribution="salon-echo", version=salon_echo.__version__)
    return pm


def container(agents: dict[str, Any]) -> Container:
    return Container.from_dict(
        {"runtime": {"use": "local"}, "agents": agents}, source="echo.yaml", plugin_manager=plugin_manager()
    )


def test_builds_the_agent_with_its_options() -> None:
    agent = container({"echo": {"use": "echo", "options": {"prefix": "> "}}}).component("agents.echo")
    assert isinstance(agent, EchoAgent)
    assert agent.prefix == "> "


def test_default_options() -> None:
    agent = container({"echo": {"use": "echo"}}).component("agents.echo")
    assert agent.prefix == "echo: "


def test_dumps_back_to_config() -> None:
    agent = container({"echo": {"use": "echo", "options": {"prefix": "> "}}}).component("agents.echo")
    dumped = dump_component(agent)
    assert (dumped["use"], dumped["options"]) == ("echo", {"prefix": "> "})


async def test_runs_in_the_configured_runtime() -> None:
    composed = container({"loud": {"use": "echo", "options": {"prefix": "! "}}, "echo": {"use": "echo"}})
    async with composed.running() as runtime:
        assert await runtime.send_message("hi", AgentId("loud", "default")) == "! hi"
        assert await runtime.send_message("hi", AgentId("echo", "default")) == "echo: hi"


@pytest.mark.parametrize(
    ("options", "path", "found"),
    [
        ({"prefx": "> "}, "agents.echo.options.prefx", "prefx"),
        ({"prefix": 3}, "agents.echo.options.prefix", "3"),
    ],
    ids=["misspelt-option", "wrong-type"],
)
def test_bad_options_are_config_errors(options: dict[str, Any], path: str, found: str) -> None:
    with pytest.raises(ConfigError) as raised:
        container({"echo": {"use": "echo", "options": options}})
    assert raised.value.source == "echo.yaml"
    assert raised.value.path == path
    assert found in raised.value.found


def test_unknown_component_names_what_is_installed() -> None:
    with pytest.raises(ConfigError) as raised:
        container({"echo": {"use": "ecko"}})
    assert raised.value.path == "agents.echo.use"
    assert "echo" in str(raised.value)
