"""The workbench contract: a set of tools behind one interface, and the results its calls return."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, Mapping
from types import TracebackType
from typing import Annotated, Any, ClassVar, Literal, Self

from pydantic import BaseModel, Field

from .._cancellation_token import CancellationToken
from ._schema import ToolSchema

__all__ = ["ImageResultContent", "ResultContent", "StreamWorkbench", "TextResultContent", "ToolResult", "Workbench"]


class TextResultContent(BaseModel):
    """A piece of text in a tool's result.

    Attributes:
        content: The text.
    """

    type: Literal["TextResultContent"] = "TextResultContent"
    content: str


class ImageResultContent(BaseModel):
    """An image in a tool's result (a screenshot from a browser tool, a rendered chart).

    Attributes:
        content: The image: a :class:`salon.Image`, or any object with a ``to_base64()`` method.
    """

    type: Literal["ImageResultContent"] = "ImageResultContent"
    content: Any


ResultContent = Annotated[TextResultContent | ImageResultContent, Field(discriminator="type")]
"""One part of a :class:`ToolResult`, told apart by its ``type`` field when loaded from JSON."""


class ToolResult(BaseModel):
    """What calling a tool through a workbench produced: content parts and whether it failed.

    A failed call (unknown tool, invalid arguments, an exception in the tool) is a result with
    ``is_error=True`` whose text says what went wrong, never an exception: the model that made the call
    reads the text and can correct itself.

    Attributes:
        name: The tool's name as the caller used it.
        result: The content, in order.
        is_error: Whether the call failed.
    """

    type: Literal["ToolResult"] = "ToolResult"
    name: str
    result: list[ResultContent]
    is_error: bool = False

    def to_text(self, replace_image: str | None = None) -> str:
        """Join the content into one text, one part per line.

        Args:
            replace_image: Text to put where an image is; ``None`` writes the image as base64 instead.
        """
        parts: list[str] = []
        for part in self.result:
            if isinstance(part, TextResultContent):
                parts.append(part.content)
            elif replace_image is not None:
                parts.append(replace_image)
            else:
                to_base64 = getattr(part.content, "to_base64", None)
                parts.append(f"[Image: {to_base64() if callable(to_base64) else part.content}]")
        return "\n".join(parts)


class Workbench(ABC):
    """A set of tools that may share resources and state (a browser session, an MCP server), called by name.

    Agents talk to tools through a workbench, so a static list of Python functions and a remote MCP
    server look the same to them. The set of tools may change as tools run: call :meth:`list_tools`
    before each model request. A workbench is started before use and stopped afterwards; as an async
    context manager it does both. Every implementation must pass
    :class:`salon.testing.WorkbenchConformanceSuite`.
    """

    component_type: ClassVar[str] = "workbench"

    @abstractmethod
    async def list_tools(self) -> list[ToolSchema]:
        """Return the schemas of the tools available now."""

    @abstractmethod
    async def call_tool(
        self,
        name: str,
        arguments: Mapping[str, Any] | None = None,
        cancellation_token: CancellationToken | None = None,
        call_id: str | None = None,
    ) -> ToolResult:
        """Call the tool ``name`` and return its result.

        Args:
            name: The tool's name, as :meth:`list_tools` gives it.
            arguments: The arguments (decoded JSON from the model); ``None`` means none.
            cancellation_token: Cancelling it cancels the call.
            call_id: The model's id for this call (for tracing).

        Returns:
            The result. Failures are results with ``is_error=True`` that say what went wrong.

        Raises:
            asyncio.CancelledError: The call was cancelled.
        """

    @abstractmethod
    async def start(self) -> None:
        """Acquire the workbench's resources. Calling it twice is harmless."""

    @abstractmethod
    async def stop(self) -> None:
        """Release the workbench's resources. Calling it twice is harmless."""

    @abstractmethod
    async def reset(self) -> None:
        """Return to the state right after :meth:`start`."""

    @abstractmethod
    async def save_state(self) -> Mapping[str, Any]:
        """Return the workbench's state (its tools' states) as JSON-compatible data."""

    @abstractmethod
    async def load_state(self, state: Mapping[str, Any]) -> None:
        """Restore state produced by :meth:`save_state`."""

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        await self.stop()


class StreamWorkbench(Workbench, ABC):
    """A workbench whose calls can report progress: stream tools' intermediate values, then the result."""

    @abstractmethod
    def call_tool_stream(
        self,
        name: str,
        arguments: Mapping[str, Any] | None = None,
        cancellation_token: CancellationToken | None = None,
        call_id: str | None = None,
    ) -> AsyncGenerator[Any | ToolResult, None]:
        """Call the tool ``name``, yielding its progress values and then, last, a :class:`ToolResult`.

        Args:
            name: The tool's name.
            arguments: The arguments; ``None`` means none.
            cancellation_token: Cancelling it cancels the call.
            call_id: The model's id for this call.
        """
