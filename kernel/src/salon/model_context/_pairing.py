"""Tool-call pairing: the unit a model context may keep or drop, but never split.

Providers reject a request in which a tool-call :class:`~salon.models.AssistantMessage` is not followed
by its :class:`~salon.models.FunctionExecutionResultMessage`, or in which results appear without the call
before them. So the contexts do not window over messages but over *units*:

- a **tool-call unit** is a tool-call message together with the result messages directly after it
  (one or several; pairing is by position, because some models send empty call ids);
- every other message is a unit of its own.

A tool-call message with no result after it, and result messages with no tool-call message before them,
are *broken*: they cannot be sent as they are, so no view includes them. In a conversation built the
usual way (call, then its results) nothing is broken, except for the moment between adding a call and
adding its results.

Both walks below agree on what a unit is; the backward walk lets a window that needs only the newest
messages stop early instead of scanning the whole history.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from ..models import AssistantMessage, FunctionExecutionResultMessage, LLMMessage

__all__ = ["is_tool_call", "units", "units_newest_first", "newest_within", "flatten", "UnitCache"]

Span = tuple[int, int]
"""A unit as ``(start, end)`` indexes into the history, end exclusive."""


def is_tool_call(message: LLMMessage) -> bool:
    """Return whether ``message`` asks for tool calls (an assistant message whose content is a list)."""
    return isinstance(message, AssistantMessage) and isinstance(message.content, list)


def _is_result(message: LLMMessage) -> bool:
    return isinstance(message, FunctionExecutionResultMessage)


def units(messages: Sequence[LLMMessage], start: int = 0) -> Iterator[Span]:
    """Yield the spans of the unbroken units of ``messages``, oldest first.

    ``start`` must be a unit boundary (as :func:`resume_point` returns); the walk begins there.
    """
    count = len(messages)
    i = start
    while i < count:
        message = messages[i]
        if _is_result(message):  # results with no call before them: broken
            i += 1
            continue
        if is_tool_call(message):
            end = i + 1
            while end < count and _is_result(messages[end]):
                end += 1
            if end > i + 1:
                yield i, end
            i = end  # a call with no results is broken and skipped
            continue
        yield i, i + 1
        i += 1


def resume_point(messages: Sequence[LLMMessage]) -> int:
    """Where the units of ``messages`` may change when messages are appended: earlier units are final.

    Appending can only grow a trailing tool-call unit (more results) or complete a trailing call that has
    no results yet; a trailing run of results without a call stays broken but is walked again, so the walk
    starts on a unit boundary. Everything before the returned index is settled.
    """
    end = len(messages)
    if end == 0:
        return 0
    if is_tool_call(messages[-1]):
        return end - 1
    if not _is_result(messages[-1]):
        return end
    start = end
    while start > 0 and _is_result(messages[start - 1]):
        start -= 1
    return start - 1 if start > 0 and is_tool_call(messages[start - 1]) else start


class UnitCache:
    """The units of a history that only grows, computed once for what is settled.

    A context that sends its whole history would otherwise walk all of it on every model call, making a
    long conversation quadratic. The cache is tied to one list object: a context that replaces its list
    (``clear``, ``load_state``) starts a fresh walk.
    """

    __slots__ = ("_covered", "_list", "_settled", "_spans")

    def __init__(self) -> None:
        self._list: list[LLMMessage] | None = None  # held, not its id: a freed list's id can be reused
        self._settled = 0  # spans ending at or before this index are final
        self._spans: list[Span] = []
        self._covered = 0  # how many messages the final spans hold

    def view(self, messages: list[LLMMessage]) -> list[LLMMessage]:
        """The messages of every unbroken unit, oldest first (a new list)."""
        if messages is not self._list or len(messages) < self._settled:
            self._list, self._settled, self._spans, self._covered = messages, 0, [], 0
        settled = resume_point(messages)  # never behind self._settled while the list only grows
        tail = list(units(messages, self._settled))
        final = [span for span in tail if span[1] <= settled]
        pending = tail[len(final) :]
        self._spans.extend(final)
        self._covered += sum(end - start for start, end in final)
        self._settled = settled
        if self._covered + sum(end - start for start, end in pending) == len(messages):
            return list(messages)  # nothing broken: the whole history, copied at C speed
        return flatten(messages, [*self._spans, *pending])


def units_newest_first(messages: Sequence[LLMMessage]) -> Iterator[Span]:
    """Yield the same spans as :func:`units`, newest first, looking only as far back as the caller reads."""
    end = len(messages)
    while end > 0:
        start = end
        while start > 0 and _is_result(messages[start - 1]):
            start -= 1
        if start < end:  # a run of results: a unit with the call before it, else broken
            if start > 0 and is_tool_call(messages[start - 1]):
                yield start - 1, end
                end = start - 1
            else:
                end = start
            continue
        if not is_tool_call(messages[end - 1]):  # a call here has no results after it: broken
            yield end - 1, end
        end -= 1


def newest_within(messages: Sequence[LLMMessage], limit: int) -> list[Span]:
    """Return the newest units (oldest first) whose messages number at most ``limit``.

    The newest unit is always included, even when it alone is larger than ``limit``: a window without the
    latest turn would make the model answer something other than what was just said, and an empty window
    would send no conversation at all.
    """
    taken: list[Span] = []
    size = 0
    for start, end in units_newest_first(messages):
        if taken and size + (end - start) > limit:
            break
        taken.append((start, end))
        size += end - start
    taken.reverse()
    return taken


def flatten(messages: Sequence[LLMMessage], spans: Sequence[Span]) -> list[LLMMessage]:
    """Return the messages of ``spans`` (oldest first) as one new list."""
    out: list[LLMMessage] = []
    for start, end in spans:
        out.extend(messages[start:end])
    return out
