"""The messages a model reads and the result it returns.

These are pydantic models (with a ``type`` literal on each message, so a list of mixed messages
round-trips through JSON) because they cross process boundaries: they are saved in agent state, cached
by :class:`~salon.cache.ChatCompletionCache` and sent between workers of a distributed runtime.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from .._function_call import FunctionCall
from .._image import Image

__all__ = [
    "SystemMessage",
    "UserMessage",
    "AssistantMessage",
    "FunctionExecutionResult",
    "FunctionExecutionResultMessage",
    "LLMMessage",
    "RequestUsage",
    "FinishReasons",
    "TopLogprob",
    "ChatCompletionTokenLogprob",
    "CreateResult",
]


ImagePart = Image
"""The type of an image inside a message: a :class:`salon.Image` (pydantic also accepts and writes
``{"data": <base64>}``, so messages holding images dump to JSON and load back)."""


class SystemMessage(BaseModel):
    """Instructions from the developer to the model.

    OpenAI calls this role ``developer`` in newer models; providers translate it, so one type serves both.
    """

    content: str
    """The instructions."""

    type: Literal["SystemMessage"] = "SystemMessage"


class UserMessage(BaseModel):
    """Input from a user, or anything else the model should read as input (another agent's words).

    ``content`` is a string, or a list mixing text and images for vision models.
    """

    content: str | list[str | ImagePart]
    """The text, or a list of text and :class:`~salon.Image` parts."""

    source: str
    """Who said it: the user's or the sending agent's name."""

    type: Literal["UserMessage"] = "UserMessage"


class AssistantMessage(BaseModel):
    """A message the model produced earlier, fed back as history.

    When ``content`` is a list of :class:`~salon.FunctionCall`, this is a *tool-call message*: providers
    require the matching :class:`FunctionExecutionResultMessage` to follow it, which is why model contexts
    never separate the two (see ``docs/models.md``).
    """

    content: str | list[FunctionCall]
    """The text, or the tool calls the model asked for."""

    thought: str | None = None
    """Reasoning text from a reasoning model, or text that came alongside tool calls."""

    source: str
    """The name of the agent that produced it."""

    type: Literal["AssistantMessage"] = "AssistantMessage"


class FunctionExecutionResult(BaseModel):
    """The output of one tool call, matched to the call by ``call_id``."""

    content: str
    """The tool's output as text."""

    name: str
    """The name of the tool that ran."""

    call_id: str
    """The id of the :class:`~salon.FunctionCall` this answers (some models send empty ids)."""

    is_error: bool | None = None
    """Whether the tool failed; the text then describes the error."""


class FunctionExecutionResultMessage(BaseModel):
    """The results of the tool calls of the preceding tool-call :class:`AssistantMessage`."""

    content: list[FunctionExecutionResult]
    """One result per call."""

    type: Literal["FunctionExecutionResultMessage"] = "FunctionExecutionResultMessage"


LLMMessage = Annotated[
    SystemMessage | UserMessage | AssistantMessage | FunctionExecutionResultMessage,
    Field(discriminator="type"),
]
"""Any message of a model conversation; validating a dict picks the class from its ``type`` field."""


@dataclass
class RequestUsage:
    """Tokens one request used (or, for totals, a sum of requests).

    A mutable dataclass rather than a model, as in AutoGen: clients add to their running totals in place.
    """

    prompt_tokens: int
    completion_tokens: int


FinishReasons = Literal["stop", "length", "function_calls", "content_filter", "unknown"]
"""Why the model stopped: natural end, token limit, tool calls, a provider filter, or not known."""


@dataclass
class TopLogprob:
    """One alternative token's log probability."""

    logprob: float
    bytes: list[int] | None = None


class ChatCompletionTokenLogprob(BaseModel):
    """The log probability of one generated token, with the most likely alternatives."""

    token: str
    logprob: float
    top_logprobs: list[TopLogprob] | None = None
    bytes: list[int] | None = None


class CreateResult(BaseModel):
    """What one model call produced."""

    finish_reason: FinishReasons
    """Why generation stopped; ``"function_calls"`` when ``content`` is a list of calls."""

    content: str | list[FunctionCall]
    """The text, or the tool calls the model asked for."""

    usage: RequestUsage
    """Tokens used by this call."""

    cached: bool
    """``True`` when the result came from a cache (or a replay) rather than from the model."""

    logprobs: list[ChatCompletionTokenLogprob] | None = None
    """Per-token log probabilities, when requested and supported."""

    thought: str | None = None
    """Reasoning text, or text that came alongside tool calls."""
