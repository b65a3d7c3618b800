"""salon-anthropic: Claude models through Anthropic's Messages API (the port of ``autogen_ext.models.anthropic``).

Provides :class:`AnthropicChatCompletionClient`, registered as the model client ``anthropic``
(``model_clients: {claude: {use: anthropic, options: {model: claude-sonnet-4-6, api_key: "${ANTHROPIC_API_KEY}"}}}``
in a config).

This module is imported by every ``salon`` command, so the ``anthropic`` SDK and pydantic are imported
only when a client or its options are used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from salon.hookspecs import Register, hookimpl

if TYPE_CHECKING:
    from ._client import AnthropicChatCompletionClient
    from ._options import AnthropicOptions

__version__ = "0.1.0"

__all__ = ["AnthropicChatCompletionClient", "AnthropicOptions", "register_model_clients"]

_LAZY: dict[str, str] = {
    "AnthropicChatCompletionClient": "salon_anthropic._client",
    "AnthropicOptions": "salon_anthropic._options",
}


def __getattr__(name: str) -> Any:
    """Import the public names on first access, so loading the plugin stays cheap."""
    try:
        module = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'salon_anthropic' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def _options_model() -> type[AnthropicOptions]:
    from ._options import AnthropicOptions

    return AnthropicOptions


def _make_client(**options: Any) -> AnthropicChatCompletionClient:
    from ._client import AnthropicChatCompletionClient

    thinking = options.get("thinking")
    if thinking is not None and not isinstance(thinking, dict):
        options["thinking"] = thinking.model_dump(exclude_none=True)
    return AnthropicChatCompletionClient(**options)


@hookimpl
def register_model_clients(register: Register) -> None:
    """Register the ``anthropic`` model client."""
    register(
        "anthropic",
        _make_client,
        options=_options_model,
        description="AnthropicChatCompletionClient: Claude models through Anthropic's Messages API.",
    )
