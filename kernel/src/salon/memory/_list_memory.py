"""The simplest memory: a list whose items are all added to the context, in the order they were stored."""

from __future__ import annotations

from typing import Any

from .._cancellation_token import CancellationToken
from ..model_context import ChatCompletionContext
from ..models import SystemMessage
from ._base_memory import Memory, MemoryContent, MemoryQueryResult, UpdateContextResult

__all__ = ["ListMemory"]


class ListMemory(Memory):
    """Keeps items in a list and gives the model all of them.

    :meth:`update_context` adds one :class:`~salon.models.SystemMessage` that numbers every item in the
    order it was stored (nothing when the memory is empty); :meth:`query` ignores its query and returns
    every item. The list is also reachable as :attr:`content`, so an application can edit it directly.

    Args:
        name: Identifies this memory (``"default_list_memory"`` if not given).
        memory_contents: Items to start with; the list is used as is, not copied.

    Example::

        memory = ListMemory(name="preferences")
        await memory.add(MemoryContent(content="The user prefers metric units.", mime_type=MemoryMimeType.TEXT))
        await memory.update_context(model_context)  # the context now ends with the numbered memories
    """

    def __init__(self, name: str | None = None, memory_contents: list[MemoryContent] | None = None) -> None:
        self._name = name or "default_list_memory"
        self._contents: list[MemoryContent] = memory_contents if memory_contents is not None else []

    @property
    def name(self) -> str:
        """This memory's name."""
        return self._name

    @property
    def content(self) -> list[MemoryContent]:
        """The stored items, oldest first (the list itself: changes to it change the memory)."""
        return self._contents

    @content.setter
    def content(self, value: list[MemoryContent]) -> None:
        self._contents = value

    async def update_context(self, model_context: ChatCompletionContext) -> UpdateContextResult:
        """Append every item to ``model_context`` as one numbered system message; return the items."""
        if not self._contents:
            return UpdateContextResult(memories=MemoryQueryResult(results=[]))
        lines = "\n".join(f"{number}. " + str(item.content) for number, item in enumerate(self._contents, 1))
        text = f"\nRelevant memory content (in chronological order):\n{lines}\n"
        await model_context.add_message(SystemMessage(content=text))
        return UpdateContextResult(memories=MemoryQueryResult(results=list(self._contents)))

    async def query(
        self,
        query: str | MemoryContent = "",
        cancellation_token: CancellationToken | None = None,
        **kwargs: Any,
    ) -> MemoryQueryResult:
        """Return every item; the query and options are ignored by this implementation."""
        return MemoryQueryResult(results=list(self._contents))

    async def add(self, content: MemoryContent, cancellation_token: CancellationToken | None = None) -> None:
        """Append ``content``."""
        self._contents.append(content)

    async def clear(self) -> None:
        """Remove every item."""
        self._contents = []

    async def close(self) -> None:
        """Nothing to release."""
