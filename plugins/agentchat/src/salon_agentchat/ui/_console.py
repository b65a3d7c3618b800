"""Console: prints a team's or an agent's stream as it happens, in AutoGen's layout, through rich.

The layout is AutoGen's (a ``---------- Type (source) ----------`` header, then the message's
:meth:`~salon_agentchat.messages.BaseMessage.to_text`), so transcripts look the same after porting;
streamed text is headed ``<source> (streaming)``, where AutoGen names the chunk event's type.
rich adds styling on terminals and nothing otherwise: a file or pipe receives plain text.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import AsyncIterable
from typing import TextIO, TypeVar

from rich.console import Console as RichConsole
from rich.text import Text

from salon.models import RequestUsage

from ..base import Response, TaskResult
from ..messages import (
    BaseAgentEvent,
    BaseChatMessage,
    HandoffMessage,
    ModelClientStreamingChunkEvent,
    MultiModalMessage,
    UserInputRequestedEvent,
)
from ._user_input_manager import UserInputManager

__all__ = ["Console"]

T = TypeVar("T", bound=TaskResult | Response)

_RULE = "-" * 10
_HEADER_STYLE = "bold"
_STATS_STYLE = "dim"


class _Renderer:
    """What the console has printed so far: an unfinished streamed line, and token totals."""

    def __init__(self, output: TextIO, *, inline_images: bool, output_stats: bool) -> None:
        self._output = output
        self._rich = RichConsole(file=output, highlight=False, markup=False, emoji=False, soft_wrap=True)
        self._inline_images = inline_images
        self._output_stats = output_stats
        self.total = RequestUsage(prompt_tokens=0, completion_tokens=0)
        self._stream_source: str | None = None
        self._stream_text: list[str] = []
        self._stream_ids: set[str] = set()

    # -- low level ---------------------------------------------------------------------------------------

    def _line(self, text: str, style: str | None = None) -> None:
        self._rich.print(Text(text, style=style or ""))

    def _header(self, title: str) -> None:
        self._line(f"{_RULE} {title} {_RULE}", _HEADER_STYLE)

    def _body(self, message: BaseAgentEvent | BaseChatMessage) -> None:
        if isinstance(message, MultiModalMessage) and self._inline_images:
            # rich drops the terminal escape codes that carry inline images, so those go to the file as is.
            self._output.write(message.to_text(iterm=True) + "\n")
            self._output.flush()
        else:
            self._line(message.to_text())

    def _count(self, usage: RequestUsage | None) -> None:
        if usage is None:
            return
        if self._output_stats:
            self._line(
                f"[Prompt tokens: {usage.prompt_tokens}, Completion tokens: {usage.completion_tokens}]", _STATS_STYLE
            )
        self.total.prompt_tokens += usage.prompt_tokens
        self.total.completion_tokens += usage.completion_tokens

    # -- streamed text -----------------------------------------------------------------------------------

    def chunk(self, event: ModelClientStreamingChunkEvent) -> None:
        """Print a chunk inline, after a header when it starts a new streamed message."""
        if self._stream_text and event.source != self._stream_source:
            self.end_stream()
        if not self._stream_text:
            # What the chunks become (a text, a thought, a structured reply) is known only at the end.
            self._header(f"{event.source} (streaming)")
            self._stream_source = event.source
        self._rich.print(Text(event.content), end="")
        self._stream_text.append(event.content)
        if event.full_message_id is not None:
            self._stream_ids.add(event.full_message_id)

    def end_stream(self) -> None:
        """Finish the streamed line, if one is open."""
        if self._stream_text:
            self._rich.print()
        self._stream_source = None
        self._stream_text.clear()
        self._stream_ids.clear()

    def _take_streamed(self, message: BaseAgentEvent | BaseChatMessage) -> bool:
        """Close an open stream and say whether ``message`` is what it streamed (then it is not printed again).

        Chunks that name their message (``full_message_id``) match by id; older-style chunks without it
        match when the message's text is exactly the streamed text. Anything else is printed in full,
        so nothing is ever hidden.
        """
        if not self._stream_text:
            return False
        if self._stream_ids:
            streamed = message.id in self._stream_ids
        else:
            streamed = message.source == self._stream_source and message.to_text() == "".join(self._stream_text)
        self.end_stream()
        return streamed

    # -- whole messages ----------------------------------------------------------------------------------

    def message(self, message: BaseAgentEvent | BaseChatMessage) -> None:
        """Print a message or event with its header, unless it was just streamed."""
        if not self._take_streamed(message):
            if isinstance(message, HandoffMessage):
                self._header(f"{type(message).__name__} ({message.source} -> {message.target})")
            else:
                self._header(f"{type(message).__name__} ({message.source})")
            self._body(message)
        self._count(message.models_usage)

    def response(self, response: Response, duration: float) -> None:
        """Print an agent's reply (and, with stats, a summary of its turn)."""
        reply = response.chat_message
        if not self._take_streamed(reply):
            self._header(reply.source)
            self._body(reply)
        self._count(reply.models_usage)
        if self._output_stats:
            inner = len(response.inner_messages) if response.inner_messages is not None else 0
            self._summary(f"Number of inner messages: {inner}", duration)

    def task_result(self, result: TaskResult, duration: float) -> None:
        """Close the run (and, with stats, print its summary)."""
        self.end_stream()
        if self._output_stats:
            self._summary(f"Number of messages: {len(result.messages)}\nFinish reason: {result.stop_reason}", duration)

    def _summary(self, first_lines: str, duration: float) -> None:
        self._header("Summary")
        self._line(
            f"{first_lines}\n"
            f"Total prompt tokens: {self.total.prompt_tokens}\n"
            f"Total completion tokens: {self.total.completion_tokens}\n"
            f"Duration: {duration:.2f} seconds"
        )


def _inline_images_possible(output: TextIO) -> bool:
    """iTerm2 draws inline images, but only on a terminal (never into a file or pipe)."""
    if os.environ.get("TERM_PROGRAM") != "iTerm.app":
        return False
    try:
        return output.isatty()
    except (AttributeError, ValueError):  # a closed or unusual file object
        return False


async def Console(
    stream: AsyncIterable[BaseAgentEvent | BaseChatMessage | T],
    *,
    no_inline_images: bool = False,
    output_stats: bool = False,
    user_input_manager: UserInputManager | None = None,
    output: TextIO | None = None,
) -> T:
    """Render a ``run_stream()`` or ``on_messages_stream()`` stream and return its final item.

    Each message is printed under a header naming its type and source, as AutoGen does. Streamed
    model output (:class:`~salon_agentchat.messages.ModelClientStreamingChunkEvent`) appears inline
    as it arrives, under ``---------- <source> (streaming) ----------`` (a new header whenever another
    source starts streaming), and the message it turns into is not printed a second time. Usage of
    the messages is summed; with ``output_stats`` it is shown per message and in a closing summary
    with the duration. Writing happens in a worker thread, so a slow terminal does not stall the agents.

    Args:
        stream: From :meth:`~salon_agentchat.base.TaskRunner.run_stream` (ends with a
            :class:`~salon_agentchat.base.TaskResult`) or
            :meth:`~salon_agentchat.base.ChatAgent.on_messages_stream` (ends with a
            :class:`~salon_agentchat.base.Response`).
        no_inline_images: Never draw images inline, even in iTerm2 on a terminal.
        output_stats: Also print token usage and summaries.
        user_input_manager: Told about each
            :class:`~salon_agentchat.messages.UserInputRequestedEvent` (which is not printed), so that
            the person's prompt appears only after everything before it.
        output: Where to write; ``sys.stdout`` (at call time) by default.

    Returns:
        The last :class:`~salon_agentchat.base.TaskResult` or :class:`~salon_agentchat.base.Response`.

    Raises:
        ValueError: The stream ended without either.
    """
    target = output if output is not None else sys.stdout
    renderer = _Renderer(
        target,
        inline_images=not no_inline_images and _inline_images_possible(target),
        output_stats=output_stats,
    )
    started = time.monotonic()
    last: T | None = None
    async for item in stream:
        if isinstance(item, TaskResult):
            await asyncio.to_thread(renderer.task_result, item, time.monotonic() - started)
            last = item
        elif isinstance(item, Response):
            await asyncio.to_thread(renderer.response, item, time.monotonic() - started)
            last = item
        elif isinstance(item, UserInputRequestedEvent):
            if user_input_manager is not None:
                user_input_manager.notify_event_received(item.request_id)
        elif isinstance(item, ModelClientStreamingChunkEvent):
            await asyncio.to_thread(renderer.chunk, item)
        elif isinstance(item, BaseAgentEvent | BaseChatMessage):
            await asyncio.to_thread(renderer.message, item)
        else:
            raise TypeError(
                f"Console got a {type(item).__name__}; it renders the streams of run_stream() and "
                "on_messages_stream() (messages, events, then a TaskResult or Response)."
            )
    await asyncio.to_thread(renderer.end_stream)
    if last is None:
        raise ValueError(
            "No TaskResult or Response was processed: the stream ended without its final result. Pass Console the "
            "stream of run_stream() or on_messages_stream()."
        )
    return last
