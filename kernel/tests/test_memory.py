"""Memory: the contract's data types and ListMemory."""

from __future__ import annotations

import json

import pytest

from salon.memory import ListMemory, Memory, MemoryContent, MemoryMimeType, MemoryQueryResult, UpdateContextResult
from salon.model_context import BufferedChatCompletionContext, UnboundedChatCompletionContext
from salon.models import SystemMessage, UserMessage


def test_memory_is_abstract() -> None:
    with pytest.raises(TypeError):
        Memory()  # type: ignore[abstract]


def test_mime_types_serialize_as_strings_either_way() -> None:
    enum_typed = MemoryContent(content="x", mime_type=MemoryMimeType.MARKDOWN, metadata={"k": 1})
    string_typed = MemoryContent(content={"a": 1}, mime_type="application/x-custom")
    assert enum_typed.model_dump()["mime_type"] == "text/markdown"
    assert json.loads(string_typed.model_dump_json()) == {
        "content": {"a": 1},
        "mime_type": "application/x-custom",
        "metadata": None,
    }


async def test_list_memory_adds_all_items_to_the_context_as_one_system_message() -> None:
    memory = ListMemory(name="prefs")
    await memory.add(MemoryContent(content="Use metric units.", mime_type=MemoryMimeType.TEXT))
    await memory.add(MemoryContent(content="Answer briefly.", mime_type=MemoryMimeType.TEXT))
    context = BufferedChatCompletionContext(buffer_size=10)
    await context.add_message(UserMessage(content="How far is the moon?", source="user"))
    result = await memory.update_context(context)
    assert isinstance(result, UpdateContextResult)
    assert [item.content for item in result.memories.results] == ["Use metric units.", "Answer briefly."]
    messages = await context.get_messages()
    assert messages[-1] == SystemMessage(
        content="\nRelevant memory content (in chronological order):\n1. Use metric units.\n2. Answer briefly.\n"
    )
    assert memory.name == "prefs"


async def test_an_empty_list_memory_leaves_the_context_alone() -> None:
    context = UnboundedChatCompletionContext()
    result = await ListMemory().update_context(context)
    assert result.memories.results == []
    assert await context.get_messages() == []


async def test_query_returns_everything_and_the_list_is_editable() -> None:
    items = [MemoryContent(content="a", mime_type="text/plain")]
    memory = ListMemory(memory_contents=items)
    assert memory.name == "default_list_memory"
    memory.content.append(MemoryContent(content="b", mime_type="text/plain"))
    found = await memory.query("anything")
    assert isinstance(found, MemoryQueryResult)
    assert [item.content for item in found.results] == ["a", "b"]
    found.results.clear()  # the result is a copy of the list, not the memory itself
    assert len(memory.content) == 2
    memory.content = [MemoryContent(content="c", mime_type="text/plain")]
    assert [item.content for item in (await memory.query()).results] == ["c"]
    await memory.clear()
    assert memory.content == []
    await memory.close()


async def test_bytes_and_json_contents_are_rendered_as_text() -> None:
    memory = ListMemory(
        memory_contents=[
            MemoryContent(content={"city": "Oslo"}, mime_type=MemoryMimeType.JSON),
            MemoryContent(content=b"raw", mime_type=MemoryMimeType.BINARY),
        ]
    )
    context = UnboundedChatCompletionContext()
    await memory.update_context(context)
    (message,) = await context.get_messages()
    assert message.content == "\nRelevant memory content (in chronological order):\n1. {'city': 'Oslo'}\n2. b'raw'\n"
