"""salon-anthropic composed from a config, with the key from the environment: never shown, never dumped."""

from __future__ import annotations

import json
from typing import Any

import pytest

import salon_anthropic
from salon import ConfigError, Container, PluginManager, dump_component
from salon.models import UserMessage
from salon.testing import AnthropicTestServer
from salon_anthropic import AnthropicChatCompletionClient

from .conftest import MODEL

SECRET = "sk-ant-api03-very-secret-value"


def plugin_manager() -> PluginManager:
    pm = PluginManager(entry_points_enabled=False, strict=True)
    pm.add_plugin(salon_anthropic, "anthropic", distribution="salon-anthropic", version=salon_anthropic.__version__)
    return pm


def container(options: dict[str, Any], environ: dict[str, str]) -> Container:
    config = {"model_clients": {"claude": {"use": "anthropic", "options": options}}}
    return Container.from_dict(config, source="salon.yaml", plugin_manager=plugin_manager(), environ=environ)


async def test_builds_a_working_client_from_config(server: AnthropicTestServer) -> None:
    options = {
        "model": MODEL,
        "api_key": "${ANTHROPIC_API_KEY}",
        "base_url": server.url,
        "max_retries": 0,
        "temperature": 0.3,
    }
    client = container(options, {"ANTHROPIC_API_KEY": SECRET}).component("model_clients.claude")
    assert isinstance(client, AnthropicChatCompletionClient)
    server.script("configured")
    result = await client.create([UserMessage(content="Hi", source="u")])
    await client.close()
    assert result.content == "configured"
    request = server.requests[-1]
    assert SECRET in (
        request.headers.get("x-api-key"),
        request.headers.get("authorization", "").removeprefix("Bearer "),
    )
    assert request.body["temperature"] == 0.3


def test_dumps_write_the_variable_never_the_key() -> None:
    built = container({"model": MODEL, "api_key": "${ANTHROPIC_API_KEY}"}, {"ANTHROPIC_API_KEY": SECRET})
    dumped = dump_component(built.component("model_clients.claude"))
    assert dumped["use"] == "anthropic"
    assert dumped["options"]["api_key"] == "${ANTHROPIC_API_KEY}"
    text = json.dumps(built.dump(), default=str)
    assert SECRET not in text
    assert SECRET not in repr(built.component("model_clients.claude"))


def test_a_client_built_in_python_dumps_its_key_masked() -> None:
    client = AnthropicChatCompletionClient(model=MODEL, api_key=SECRET)
    dumped = dump_component(client)
    assert dumped["use"] == "anthropic"
    assert SECRET not in json.dumps(dumped, default=str)


@pytest.mark.parametrize(
    ("options", "path"),
    [
        (
            {"model": MODEL, "api_key": "${ANTHROPIC_API_KEY}", "temprature": 0.5},
            "model_clients.claude.options.temprature",
        ),
        (
            {"model": MODEL, "api_key": "${ANTHROPIC_API_KEY}", "max_tokens": "lots"},
            "model_clients.claude.options.max_tokens",
        ),
    ],
    ids=["misspelt-option", "wrong-type"],
)
def test_bad_options_are_config_errors_without_the_key(options: dict[str, Any], path: str) -> None:
    with pytest.raises(ConfigError) as raised:
        container(options, {"ANTHROPIC_API_KEY": SECRET})
    assert raised.value.path == path
    assert SECRET not in str(raised.value)


def test_unknown_model_is_a_config_error_saying_what_to_pass() -> None:
    with pytest.raises(ConfigError) as raised:
        container({"model": "my-finetune", "api_key": "${ANTHROPIC_API_KEY}"}, {"ANTHROPIC_API_KEY": SECRET}).component(
            "model_clients.claude"
        )
    assert "model_info" in str(raised.value)
    assert SECRET not in str(raised.value)


def test_unset_key_variable_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="ANTHROPIC_API_KEY"):
        container({"model": MODEL, "api_key": "${ANTHROPIC_API_KEY}"}, {})


def test_model_info_in_config_for_an_unknown_model() -> None:
    info = {
        "vision": False,
        "function_calling": True,
        "json_output": True,
        "family": "unknown",
        "structured_output": False,
    }
    client = container(
        {"model": "my-finetune", "api_key": "${ANTHROPIC_API_KEY}", "model_info": info}, {"ANTHROPIC_API_KEY": SECRET}
    ).component("model_clients.claude")
    assert client.model_info["family"] == "unknown"
