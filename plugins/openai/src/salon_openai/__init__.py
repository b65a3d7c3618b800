"""salon-openai: OpenAI chat-completions model clients for Salon (the port of ``autogen_ext.models.openai``).

``from salon_openai import OpenAIChatCompletionClient`` replaces
``from autogen_ext.models.openai import OpenAIChatCompletionClient``. The clients work with OpenAI, Azure
OpenAI and any OpenAI-compatible server (Gemini's endpoint, Ollama, llama.cpp, vLLM). In a config::

    model_clients:
      gpt: {use: openai, options: {model: gpt-4o-mini, api_key: "${OPENAI_API_KEY}"}}

Salon imports this module for every ``salon`` command, so it imports neither the ``openai`` SDK nor
pydantic at the top: the clients and options load on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from salon.hookspecs import Register, hookimpl

if TYPE_CHECKING:
    from ._base_client import BaseOpenAIChatCompletionClient
    from ._client import AzureOpenAIChatCompletionClient, OpenAIChatCompletionClient
    from ._options import AzureOpenAIClientOptions, ModelInfoOptions, OpenAIClientOptions

__version__ = "0.1.0"

__all__ = [
    "AzureOpenAIChatCompletionClient",
    "AzureOpenAIClientOptions",
    "BaseOpenAIChatCompletionClient",
    "ModelInfoOptions",
    "OpenAIChatCompletionClient",
    "OpenAIClientOptions",
    "register_model_clients",
]

_LAZY: dict[str, str] = {
    "AzureOpenAIChatCompletionClient": "salon_openai._client",
    "BaseOpenAIChatCompletionClient": "salon_openai._base_client",
    "OpenAIChatCompletionClient": "salon_openai._client",
    "AzureOpenAIClientOptions": "salon_openai._options",
    "ModelInfoOptions": "salon_openai._options",
    "OpenAIClientOptions": "salon_openai._options",
}


def __getattr__(name: str) -> Any:
    """Import the public classes on first access, so loading the plugin stays cheap."""
    try:
        module = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'salon_openai' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def _openai_options() -> type[OpenAIClientOptions]:
    from ._options import OpenAIClientOptions

    return OpenAIClientOptions


def _azure_options() -> type[AzureOpenAIClientOptions]:
    from ._options import AzureOpenAIClientOptions

    return AzureOpenAIClientOptions


def _plain(options: dict[str, Any]) -> dict[str, Any]:
    """Validated options as client keyword arguments: unset ones left out, model_info as a dict."""
    kwargs = {name: value for name, value in options.items() if value is not None}
    info = kwargs.get("model_info")
    if info is not None and hasattr(info, "as_model_info"):
        kwargs["model_info"] = info.as_model_info()
    return kwargs


def _make_openai(**options: Any) -> OpenAIChatCompletionClient:
    """Build an :class:`OpenAIChatCompletionClient` from validated options (secrets stay ``SecretStr`` until here)."""
    from ._client import OpenAIChatCompletionClient

    return OpenAIChatCompletionClient(**_plain(options))


def _make_azure_openai(**options: Any) -> AzureOpenAIChatCompletionClient:
    """Build an :class:`AzureOpenAIChatCompletionClient` from validated options."""
    from ._client import AzureOpenAIChatCompletionClient

    return AzureOpenAIChatCompletionClient(**_plain(options))


@hookimpl
def register_model_clients(register: Register) -> None:
    """Register ``openai`` and ``azure_openai``."""
    register(
        "openai",
        _make_openai,
        options=_openai_options,
        description="OpenAIChatCompletionClient: OpenAI or any OpenAI-compatible server (Gemini, Ollama, llama.cpp).",
    )
    register(
        "azure_openai",
        _make_azure_openai,
        options=_azure_options,
        description="AzureOpenAIChatCompletionClient: a model deployed on Azure OpenAI.",
    )
