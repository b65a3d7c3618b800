"""The contract every model provider implements: :class:`ChatCompletionClient`."""

from __future__ import annotations

import warnings
from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel

from ._model_info import ModelCapabilities, ModelInfo
from ._types import CreateResult, LLMMessage, RequestUsage

if TYPE_CHECKING:  # salon.tools imports nothing from here, but keep the import graph one-way at run time
    from .._cancellation_token import CancellationToken
    from ..tools import Tool, ToolSchema

__all__ = ["ChatCompletionClient", "NO_EXTRA_ARGS"]

NO_EXTRA_ARGS: Mapping[str, Any] = MappingProxyType({})
"""The default ``extra_create_args``: an empty, read-only mapping (a shared ``{}`` could be mutated)."""


class ChatCompletionClient(ABC):
    """A chat model behind one interface, so agents work with any provider.

    Implementations keep their own usage counters (:meth:`actual_usage`, :meth:`total_usage`), count
    tokens the way their provider does, and describe the model in :attr:`model_info`. The behaviour every
    implementation must show is pinned down by :class:`salon.testing.ModelClientConformanceSuite`:

    - :meth:`create` returns one :class:`CreateResult` whose ``usage`` is the call's real usage;
    - :meth:`create_stream` yields text chunks, then exactly one :class:`CreateResult` as its last item,
      with real usage whenever the provider reports it (AutoGen's clients report zeros unless asked);
    - tool calls come back as ``list[FunctionCall]`` with ``finish_reason="function_calls"``;
    - a cancelled :class:`~salon.CancellationToken` makes a call raise :class:`asyncio.CancelledError`;
    - :meth:`close` may be called more than once.

    A provider whose ``create`` is called with messages it cannot send (images to a text model, tools to
    a model without function calling) raises :class:`ValueError` naming the problem.
    """

    @abstractmethod
    async def create(
        self,
        messages: Sequence[LLMMessage],
        *,
        tools: Sequence[Tool | ToolSchema] = (),
        tool_choice: Tool | Literal["auto", "required", "none"] = "auto",
        json_output: bool | type[BaseModel] | None = None,
        extra_create_args: Mapping[str, Any] = NO_EXTRA_ARGS,
        cancellation_token: CancellationToken | None = None,
    ) -> CreateResult:
        """Ask the model for one complete response.

        Args:
            messages: The conversation, oldest first.
            tools: Tools the model may call, as tools or bare schemas.
            tool_choice: ``"auto"``, ``"required"``, ``"none"``, or one tool the model must call.
            json_output: ``True`` for JSON mode (tell the model in the prompt too), a pydantic model class
                for schema-constrained structured output, ``None``/``False`` for free text.
            extra_create_args: Provider-specific request arguments, passed through unchanged.
            cancellation_token: Cancelling it aborts the request with :class:`asyncio.CancelledError`.

        Returns:
            The response, with this call's token usage.
        """

    @abstractmethod
    def create_stream(
        self,
        messages: Sequence[LLMMessage],
        *,
        tools: Sequence[Tool | ToolSchema] = (),
        tool_choice: Tool | Literal["auto", "required", "none"] = "auto",
        json_output: bool | type[BaseModel] | None = None,
        extra_create_args: Mapping[str, Any] = NO_EXTRA_ARGS,
        cancellation_token: CancellationToken | None = None,
    ) -> AsyncGenerator[str | CreateResult, None]:
        """Ask the model for a response delivered as it is generated.

        Takes the same arguments as :meth:`create`. The generator yields text chunks (``str``) and ends
        with exactly one :class:`CreateResult` holding the whole response and its usage. Implementations
        are usually written as ``async def`` generators.
        """

    @abstractmethod
    async def close(self) -> None:
        """Release connections; calling it again does nothing."""

    @abstractmethod
    def actual_usage(self) -> RequestUsage:
        """Usage of the most recent call."""

    @abstractmethod
    def total_usage(self) -> RequestUsage:
        """Usage summed over every call this client made (cache hits excluded)."""

    @abstractmethod
    def count_tokens(self, messages: Sequence[LLMMessage], *, tools: Sequence[Tool | ToolSchema] = ()) -> int:
        """Estimate the prompt tokens ``messages`` and ``tools`` would use, without calling the model."""

    @abstractmethod
    def remaining_tokens(self, messages: Sequence[LLMMessage], *, tools: Sequence[Tool | ToolSchema] = ()) -> int:
        """Tokens left in the model's context window after ``messages`` and ``tools`` (negative when over)."""

    @property
    def capabilities(self) -> ModelCapabilities:
        """Deprecated: use :attr:`model_info`. Derived from it here, so no client needs its own copy."""
        warnings.warn("capabilities is deprecated; use model_info instead.", DeprecationWarning, stacklevel=2)
        info = self.model_info
        return ModelCapabilities(
            vision=info["vision"], function_calling=info["function_calling"], json_output=info["json_output"]
        )

    @property
    @abstractmethod
    def model_info(self) -> ModelInfo:
        """What the model can do (vision, tools, JSON, family); see :class:`ModelInfo`."""
