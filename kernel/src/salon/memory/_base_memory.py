"""The memory contract: a store an agent consults to add relevant knowledge to its model context."""

from __future__ import annotations

from abc import ABC, abstractmethod
from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict, field_serializer

from .._cancellation_token import CancellationToken
from ..model_context import ChatCompletionContext
from ..models._types import ImagePart

__all__ = ["Memory", "MemoryContent", "MemoryMimeType", "MemoryQueryResult", "UpdateContextResult"]


class MemoryMimeType(Enum):
    """The kinds of content a memory item can hold (any other MIME type may be given as a string)."""

    TEXT = "text/plain"
    JSON = "application/json"
    MARKDOWN = "text/markdown"
    IMAGE = "image/*"
    BINARY = "application/octet-stream"


ContentType = str | bytes | dict[str, Any] | ImagePart
"""What a memory item holds: text, bytes, a JSON object, or an image."""


class MemoryContent(BaseModel):
    """One item in a memory, with its MIME type and optional metadata."""

    content: ContentType
    """The item itself."""

    mime_type: MemoryMimeType | str
    """What ``content`` is; a :class:`MemoryMimeType` or any MIME type string."""

    metadata: dict[str, Any] | None = None
    """Anything the memory implementation wants to keep with the item (source, score, timestamps)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    @field_serializer("mime_type")
    def _serialize_mime_type(self, mime_type: MemoryMimeType | str) -> str:
        """Write the MIME type as its string, whichever form it was given in."""
        return mime_type.value if isinstance(mime_type, MemoryMimeType) else mime_type


class MemoryQueryResult(BaseModel):
    """What :meth:`Memory.query` found."""

    results: list[MemoryContent]


class UpdateContextResult(BaseModel):
    """What :meth:`Memory.update_context` added to the context."""

    memories: MemoryQueryResult


class Memory(ABC):
    """A store of knowledge that enriches an agent's model context.

    How items are stored (a list, a database, a vector index) and how relevant ones are found (all of
    them, text search, similarity) is the implementation's choice; so is how they are put into the
    context in :meth:`update_context`. Agents call :meth:`update_context` before each model call.
    """

    @abstractmethod
    async def update_context(self, model_context: ChatCompletionContext) -> UpdateContextResult:
        """Add relevant memories to ``model_context`` (which this changes) and return what was added."""

    @abstractmethod
    async def query(
        self,
        query: str | MemoryContent,
        cancellation_token: CancellationToken | None = None,
        **kwargs: Any,
    ) -> MemoryQueryResult:
        """Return the items relevant to ``query``; ``kwargs`` carry implementation-specific options."""

    @abstractmethod
    async def add(self, content: MemoryContent, cancellation_token: CancellationToken | None = None) -> None:
        """Store ``content``."""

    @abstractmethod
    async def clear(self) -> None:
        """Remove every item."""

    @abstractmethod
    async def close(self) -> None:
        """Release resources (connections, files)."""
