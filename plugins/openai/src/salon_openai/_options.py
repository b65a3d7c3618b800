"""The options of the ``openai`` and ``azure_openai`` model clients, validated when a config uses them."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

__all__ = ["AzureOpenAIClientOptions", "ModelInfoOptions", "OpenAIClientOptions"]


class ModelInfoOptions(BaseModel):
    """What a model can do (:class:`salon.models.ModelInfo`), as written in a config."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    vision: bool
    """The model accepts images."""
    function_calling: bool
    """The model can call tools."""
    json_output: bool
    """The model has a JSON mode."""
    family: str
    """A salon.models.ModelFamily name, or "unknown"."""
    structured_output: bool | None = None
    """The model can be constrained to a JSON schema (leaving it out warns)."""
    multiple_system_messages: bool | None = None
    """The model accepts several system messages."""

    def as_model_info(self) -> dict[str, Any]:
        """The :class:`~salon.models.ModelInfo` dict (unset keys left out)."""
        return self.model_dump(exclude_none=True)


class _CommonOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    model: str
    """The model name sent with each request (on Azure: the model behind the deployment)."""
    timeout: float | None = Field(default=None, gt=0)
    """Seconds to wait for a response, per attempt."""
    max_retries: int | None = Field(default=None, ge=0)
    """Retries of a request that failed with 429, 5xx or a connection error (default 2)."""
    model_info: ModelInfoOptions | None = None
    """What the model can do; required for a model Salon does not know."""
    add_name_prefixes: bool = False
    """Prefix each user message with "<source> said:"."""
    include_name_in_message: bool = True
    """Send each message's source as its name."""
    default_headers: dict[str, str] | None = None
    """Headers added to every request."""
    token_limit: int | None = Field(default=None, gt=0)
    """The context window in tokens (known models have theirs)."""
    temperature: float | None = None
    """Sampling temperature."""
    top_p: float | None = None
    """Nucleus sampling mass."""
    seed: int | None = None
    """Seed for (mostly) reproducible sampling."""
    max_tokens: int | None = Field(default=None, gt=0)
    """Most tokens to generate (older models)."""
    max_completion_tokens: int | None = Field(default=None, gt=0)
    """Most tokens to generate, reasoning included (newer models)."""
    stop: str | list[str] | None = None
    """Stop sequences."""
    frequency_penalty: float | None = None
    """Penalty for frequent tokens."""
    presence_penalty: float | None = None
    """Penalty for tokens already present."""
    parallel_tool_calls: bool | None = None
    """Whether the model may call several tools at once."""
    reasoning_effort: Literal["minimal", "low", "medium", "high"] | None = None
    """Reasoning effort of reasoning models."""
    response_format: dict[str, Any] | None = None
    """A response format dict, e.g. {"type": "json_object"}."""
    stream_options: dict[str, Any] | None = None
    """Streaming options; include_usage defaults to true."""
    user: str | None = None
    """An end-user id for abuse monitoring."""
    extra_body: dict[str, Any] | None = None
    """Extra JSON fields for servers with their own options."""


class OpenAIClientOptions(_CommonOptions):
    """Options of ``use: openai`` (:class:`~salon_openai.OpenAIChatCompletionClient`)."""

    api_key: SecretStr | None = None
    """The API key; write "${OPENAI_API_KEY}" (the default when left out is that variable)."""
    base_url: str | None = None
    """Another OpenAI-compatible server, e.g. http://localhost:11434/v1."""
    organization: str | None = None
    """The OpenAI organization id."""
    project: str | None = None
    """The OpenAI project id."""


class AzureOpenAIClientOptions(_CommonOptions):
    """Options of ``use: azure_openai`` (:class:`~salon_openai.AzureOpenAIChatCompletionClient`)."""

    azure_endpoint: str
    """The resource's endpoint, e.g. https://my-resource.openai.azure.com/."""
    api_version: str
    """The Azure OpenAI API version."""
    azure_deployment: str | None = None
    """The deployment name."""
    api_key: SecretStr | None = None
    """The key; write "${AZURE_OPENAI_API_KEY}" (the default when left out is that variable)."""
    azure_ad_token: SecretStr | None = None
    """An Entra ID token, instead of a key."""
