"""Options of the termination conditions in config files; field names are the constructors' argument names."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "FunctionCallTerminationOptions",
    "HandoffTerminationOptions",
    "MaxMessageTerminationOptions",
    "NoOptions",
    "SourceMatchTerminationOptions",
    "TextMentionTerminationOptions",
    "TextMessageTerminationOptions",
    "TimeoutTerminationOptions",
    "TokenUsageTerminationOptions",
]

_CONFIG = ConfigDict(extra="forbid", use_attribute_docstrings=True)


class NoOptions(BaseModel):
    """Conditions without options (``stop_message``, ``external``)."""

    model_config = _CONFIG


class MaxMessageTerminationOptions(BaseModel):
    """Options of ``max_messages``."""

    model_config = _CONFIG

    max_messages: int = Field(gt=0)
    """How many messages end the conversation (the task counts)."""
    include_agent_event: bool = False
    """Count agent events (tool calls, thoughts) too."""


class TextMentionTerminationOptions(BaseModel):
    """Options of ``text_mention``."""

    model_config = _CONFIG

    text: str = Field(min_length=1)
    """The text to look for."""
    sources: list[str] | None = None
    """Only look at messages from these agents; unset: from anyone."""


class TokenUsageTerminationOptions(BaseModel):
    """Options of ``token_usage`` (give at least one limit)."""

    model_config = _CONFIG

    max_total_token: int | None = Field(default=None, gt=0)
    """Limit on prompt + completion tokens."""
    max_prompt_token: int | None = Field(default=None, gt=0)
    """Limit on prompt tokens."""
    max_completion_token: int | None = Field(default=None, gt=0)
    """Limit on completion tokens."""

    @model_validator(mode="after")
    def _one_limit(self) -> TokenUsageTerminationOptions:
        if self.max_total_token is None and self.max_prompt_token is None and self.max_completion_token is None:
            raise ValueError("give at least one of max_total_token, max_prompt_token, max_completion_token")
        return self


class HandoffTerminationOptions(BaseModel):
    """Options of ``handoff``."""

    model_config = _CONFIG

    target: str
    """The handoff target that ends the conversation (often ``user``)."""


class TimeoutTerminationOptions(BaseModel):
    """Options of ``timeout``."""

    model_config = _CONFIG

    timeout_seconds: float = Field(gt=0)
    """Seconds until the conversation stops (checked after each turn)."""


class SourceMatchTerminationOptions(BaseModel):
    """Options of ``source_match``."""

    model_config = _CONFIG

    sources: list[str] = Field(min_length=1)
    """Agent names; the conversation stops once one of them has spoken."""


class TextMessageTerminationOptions(BaseModel):
    """Options of ``text_message``."""

    model_config = _CONFIG

    source: str | None = None
    """Only text messages from this agent count; unset: from anyone."""


class FunctionCallTerminationOptions(BaseModel):
    """Options of ``function_call``."""

    model_config = _CONFIG

    function_name: str
    """The tool whose execution ends the conversation."""
