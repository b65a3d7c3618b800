"""salon-anthropic as a plugin: what it registers, its options, and that loading it stays light."""

from __future__ import annotations

import pytest
from pydantic import SecretStr, ValidationError

import salon_anthropic
from salon import PluginManager
from salon.testing import check_found_through_entry_point, check_plugin_stays_light
from salon_anthropic import AnthropicChatCompletionClient, AnthropicOptions

from .conftest import API_KEY, MODEL


def in_process_plugin_manager() -> PluginManager:
    pm = PluginManager(entry_points_enabled=False, strict=True)
    pm.add_plugin(salon_anthropic, "anthropic", distribution="salon-anthropic", version=salon_anthropic.__version__)
    return pm


def test_registers_the_anthropic_model_client() -> None:
    spec = in_process_plugin_manager().registry.get("model_client", "anthropic")
    assert (spec.plugin, spec.distribution) == ("anthropic", "salon-anthropic")
    assert spec.options_model is AnthropicOptions
    assert spec.description.startswith("AnthropicChatCompletionClient")


def test_options_validate_and_mask_the_key() -> None:
    options = AnthropicOptions.model_validate(
        {"model": MODEL, "api_key": API_KEY, "thinking": {"type": "enabled", "budget_tokens": 2048}}
    )
    assert isinstance(options.api_key, SecretStr)
    assert API_KEY not in repr(options) and API_KEY not in str(options.model_dump())
    with pytest.raises(ValidationError, match="temprature"):
        AnthropicOptions.model_validate({"model": MODEL, "temprature": 0.5})
    with pytest.raises(ValidationError, match="budget_tokens"):
        AnthropicOptions.model_validate({"model": MODEL, "thinking": {"type": "enabled", "budget_tokens": 10}})


async def test_factory_builds_the_client_from_validated_options() -> None:
    spec = in_process_plugin_manager().registry.get("model_client", "anthropic")
    options = spec.options_model.model_validate(
        {"model": MODEL, "api_key": API_KEY, "thinking": {"type": "enabled", "budget_tokens": 2048}}
    )
    client = spec.factory(**dict(options))
    assert isinstance(client, AnthropicChatCompletionClient)
    assert client.dump_options()["thinking"] == {"type": "enabled", "budget_tokens": 2048}
    await client.close()


def test_loading_the_plugin_imports_neither_the_sdk_nor_pydantic() -> None:
    """Every `salon` command imports every plugin, so the plugin module must stay light (DESIGN.md §3)."""
    heavy = ["anthropic", "pydantic", "httpx", "salon_anthropic._client"]
    check_plugin_stays_light("salon_anthropic", "anthropic", heavy=heavy)


def test_found_through_its_entry_point() -> None:
    """Needs the distribution installed (nox installs it; locally `uv pip install -e plugins/anthropic`)."""
    components = {"model_client": ["anthropic"]}
    record = check_found_through_entry_point("anthropic", distribution="salon-anthropic", components=components)
    assert record.version == salon_anthropic.__version__
