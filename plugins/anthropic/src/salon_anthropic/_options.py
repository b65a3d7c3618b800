"""The ``anthropic`` model client's options, validated by Salon when a config says ``use: anthropic``."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

__all__ = ["AnthropicOptions", "ThinkingOptions"]


class ThinkingOptions(BaseModel):
    """Extended thinking: ``{type: enabled, budget_tokens: 2048}``, or ``{type: adaptive}`` on models that have it."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    type: Literal["enabled", "disabled", "adaptive"]
    """``enabled`` (with a budget) or ``adaptive`` (Claude decides) to let Claude reason before answering."""
    budget_tokens: int | None = Field(default=None, ge=1024)
    """Most tokens the reasoning may use (at least 1024; required when ``enabled``)."""
    display: Literal["summarized", "omitted"] | None = None
    """How thinking appears in answers, on models that support the choice."""


class AnthropicOptions(BaseModel):
    """Options of :class:`~salon_anthropic.AnthropicChatCompletionClient` (a misspelt option is an error)."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True, protected_namespaces=())

    model: str
    """The Claude model, e.g. ``claude-sonnet-4-6``."""
    api_key: SecretStr | None = None
    """The API key, best written ``${ANTHROPIC_API_KEY}``; unset reads that variable at start-up."""
    base_url: str | None = None
    """Another endpoint speaking the Messages API (proxy, gateway)."""
    max_tokens: int = Field(default=4096, ge=1)
    """Most tokens one answer may have."""
    temperature: float | None = Field(default=None, ge=0.0, le=1.0)
    """Sampling temperature; unset uses the API's default."""
    top_p: float | None = Field(default=None, ge=0.0, le=1.0)
    """Nucleus sampling."""
    top_k: int | None = Field(default=None, ge=1)
    """Top-k sampling."""
    stop_sequences: list[str] | None = None
    """Texts that end the answer."""
    metadata: dict[str, str] | None = None
    """The request's metadata, e.g. ``{user_id: ...}``."""
    thinking: ThinkingOptions | None = None
    """Extended thinking; the reasoning arrives as the result's ``thought``."""
    model_info: dict[str, Any] | None = None
    """What the model can do (vision, function_calling, json_output, family, structured_output); required
    for models salon-anthropic does not know."""
    timeout: float | None = Field(default=None, gt=0)
    """Seconds before one attempt is abandoned."""
    max_retries: int | None = Field(default=None, ge=0)
    """Retries of 429, 529 and 5xx answers, with backoff honouring retry-after (the SDK's default is 2)."""
    default_headers: dict[str, str] | None = None
    """Headers sent with every request."""
