"""One model call of an :class:`AssistantAgent`: the prompt, the tools offered, and the streamed result.

The tool listing is the one place per turn where AutoGen does avoidable work: it lists every workbench
(re-building each tool's schema) before each model call and again for each tool call. Here the listing
made for a model call also records which workbench serves each name, and tool calls are routed by that
record; the agent's own static workbench is listed only once, since its tools cannot change.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from typing import Any

from salon.model_context import ChatCompletionContext
from salon.models import ChatCompletionClient, CreateResult, LLMMessage, SystemMessage, UserMessage
from salon.tools import StreamTool, StreamWorkbench, Tool, ToolSchema, Workbench

from ..messages import ModelClientStreamingChunkEvent
from ..utils import remove_images
from ._assistant_tool_calls import Route

__all__ = ["ImageScan", "ToolListing", "ToolRouter", "call_model", "compatible_messages", "prompt"]

ToolListing = tuple[list[ToolSchema], dict[str, Route]]
"""The schemas offered to the model, and the route of each tool name."""


class ToolRouter:
    """Lists the tools for a model call and remembers which workbench serves each name.

    Args:
        workbenches: Where tool calls go, searched in order (the first workbench listing a name serves it).
        handoff_tools: The handoff tools, offered after the workbenches' tools.
        static_tools: The tools of the agent's own static workbench (the only workbench then), or ``None`` for
            workbenches given by the caller. A static tool list never changes, so one listing serves every
            call, and only its stream tools need the streaming call path (telling a stream tool from a plain
            one is a protocol check too slow to repeat on every call).
    """

    __slots__ = ("_cached", "_handoff_schemas", "_plain_tools", "_static", "_workbenches")

    def __init__(
        self, workbenches: Sequence[Workbench], handoff_tools: Sequence[Tool], *, static_tools: Sequence[Tool] | None
    ) -> None:
        self._workbenches = list(workbenches)
        self._handoff_schemas = [tool.schema for tool in handoff_tools]
        self._static = static_tools is not None
        self._plain_tools = {tool.name for tool in static_tools or () if not isinstance(tool, StreamTool)}
        self._cached: ToolListing | None = None

    @property
    def workbenches(self) -> list[Workbench]:
        """The workbenches, in search order."""
        return self._workbenches

    async def listing(self) -> ToolListing:
        """Return the tools to offer now and the route of each name."""
        cached = self._cached
        if cached is not None:
            return cached
        schemas: list[ToolSchema] = []
        routes: dict[str, Route] = {}
        plain = self._plain_tools
        for workbench in self._workbenches:
            streams = isinstance(workbench, StreamWorkbench)
            for schema in await workbench.list_tools():
                schemas.append(schema)
                name = schema["name"]
                routes.setdefault(name, (workbench, streams and name not in plain))
        schemas.extend(self._handoff_schemas)
        listing = (schemas, routes)
        if self._static:
            self._cached = listing
        return listing


def _is_multimodal(message: LLMMessage) -> bool:
    return isinstance(message, UserMessage) and not isinstance(message.content, str)


def compatible_messages(model_client: ChatCompletionClient, messages: list[LLMMessage]) -> list[LLMMessage]:
    """Return ``messages`` as the model can read them: images become placeholders for a text-only model.

    The list is returned unchanged (no copy) when nothing needs changing, the usual case.
    """
    if model_client.model_info.get("vision", False) or not any(_is_multimodal(m) for m in messages):
        return messages
    return remove_images(messages)


class ImageScan:
    """Tells whether a conversation holds images, looking closely only at what is new since the last look.

    A model context returns a fresh list each turn, but with the same message objects, and a growing
    conversation keeps its old messages in place. So the part seen last time is compared with what was
    seen (a list comparison that stops at identity, in C), and only the messages after it are examined:
    the check costs microseconds instead of a Python-level pass over the whole history every turn.
    A context that trims or rewrites its history fails the comparison and is examined in full.
    """

    __slots__ = ("_seen",)

    def __init__(self) -> None:
        self._seen: list[LLMMessage] = []

    def has_images(self, history: list[LLMMessage]) -> bool:
        """Return whether any message of ``history`` has image parts."""
        seen = self._seen
        count = len(seen)
        start = count if count and len(history) >= count and history[:count] == seen else 0
        for index in range(start, len(history)):
            if _is_multimodal(history[index]):
                self._seen = []
                return True
        self._seen = list(history)  # a copy: a context may hand out, and then grow, its own list
        return False


async def prompt(
    model_client: ChatCompletionClient,
    system_messages: list[SystemMessage],
    model_context: ChatCompletionContext,
    scan: ImageScan,
) -> list[LLMMessage]:
    """Return the system messages followed by the context's view, with images removed for a text-only model."""
    history = await model_context.get_messages()
    if not model_client.model_info.get("vision", False) and scan.has_images(history):
        history = remove_images(history)
    return [*system_messages, *history] if system_messages else history


async def call_model(
    model_client: ChatCompletionClient,
    messages: list[LLMMessage],
    options: dict[str, Any],
    *,
    stream: bool,
    agent_name: str,
    message_id: str,
) -> AsyncGenerator[ModelClientStreamingChunkEvent | CreateResult, None]:
    """Ask the model once; yield a chunk event per streamed text chunk, then the :class:`CreateResult`.

    ``options`` are the keyword arguments of ``create``/``create_stream`` (tools, json_output, ...).

    Every chunk carries ``full_message_id=message_id``, the id the final message will have, so a UI can
    replace the chunks it showed with that message.

    Raises:
        RuntimeError: A streaming client yielded something other than text and one final result, or no
            final result at all.
    """
    if not stream:
        yield await model_client.create(messages, **options)
        return
    result: CreateResult | None = None
    async for chunk in model_client.create_stream(messages, **options):
        if isinstance(chunk, CreateResult):
            result = chunk
        elif isinstance(chunk, str):
            yield ModelClientStreamingChunkEvent(content=chunk, source=agent_name, full_message_id=message_id)
        else:
            raise RuntimeError(
                f"Invalid chunk type: {type(chunk).__name__}. A model client's create_stream must yield text "
                "chunks (str) and then one CreateResult; this is a bug in the model client."
            )
    if result is None:
        raise RuntimeError(
            "No final model result in streaming mode: the model client's create_stream ended without yielding "
            "a CreateResult; this is a bug in the model client."
        )
    yield result
