"""Memories: knowledge an agent adds to its model context (the port of ``autogen_core.memory``)."""

from ._base_memory import Memory, MemoryContent, MemoryMimeType, MemoryQueryResult, UpdateContextResult
from ._list_memory import ListMemory

__all__ = ["ListMemory", "Memory", "MemoryContent", "MemoryMimeType", "MemoryQueryResult", "UpdateContextResult"]
