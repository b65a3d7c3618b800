"""A routed agent that handles chosen message types one at a time, in arrival order.

The team's manager and containers keep a conversation: a response must be recorded before the next one is
read, even when a handler waits (on a model, a tool, a nested team). Only the conversation's own messages
are serialized this way; pause and resume stay concurrent so they can reach an agent that is busy speaking.
(The kernel's ``sequential = True`` would serialize every message, pause included.)

The agents also stop work promptly when the run is cancelled: the runtime cancels a direct message's
handler when its token is cancelled, but not a published one's, so these agents watch the token of the
message in hand themselves. They register one callback per token (tokens are per run), not one per message.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Sequence
from functools import partial
from typing import Any

from salon import CancellationToken, MessageContext, RoutedAgent

__all__ = ["FIFOLock", "SequentialRoutedAgent"]


class FIFOLock:
    """An asyncio lock granted strictly in request order (asyncio.Lock is not fair to new arrivals).

    Taking a free lock does not suspend; releasing hands the lock straight to the oldest waiter.
    """

    __slots__ = ("_locked", "_waiters")

    def __init__(self) -> None:
        self._locked = False
        self._waiters: deque[asyncio.Future[None]] = deque()

    def locked(self) -> bool:
        """Whether some coroutine holds the lock."""
        return self._locked

    async def acquire(self) -> None:
        """Wait for the lock; waiters get it in the order they asked."""
        if not self._locked:
            self._locked = True
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()  # handed over just as we were cancelled: pass it on
            else:
                self._waiters.remove(waiter)
            raise

    def release(self) -> None:
        """Give the lock to the oldest live waiter, or free it."""
        waiters = self._waiters
        while waiters:
            waiter = waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self._locked = False


class SequentialRoutedAgent(RoutedAgent):
    """A :class:`~salon.RoutedAgent` that handles ``sequential_message_types`` one at a time, in order.

    Args:
        description: The agent's description.
        sequential_message_types: Messages of these types (and subclasses) wait for the previous one of
            these types to be fully handled; other messages are handled at once.
    """

    def __init__(self, description: str, sequential_message_types: Sequence[type[Any]]) -> None:
        super().__init__(description=description)
        self._fifo_lock = FIFOLock()
        self._sequential_message_types = tuple(sequential_message_types)
        self._running_task: asyncio.Task[Any] | None = None
        self._watched_token: CancellationToken | None = None

    async def on_message_impl(self, message: Any, ctx: MessageContext) -> Any:
        """Route ``message``, in turn with the other sequential messages when it is one of them."""
        if not isinstance(message, self._sequential_message_types):
            return await super().on_message_impl(message, ctx)
        await self._fifo_lock.acquire()
        try:
            if ctx.is_rpc:  # the runtime cancels a direct message's handler with its token already
                return await super().on_message_impl(message, ctx)
            self._watch(ctx.cancellation_token)
            try:
                return await super().on_message_impl(message, ctx)
            finally:
                self._running_task = None
        finally:
            self._fifo_lock.release()

    def _watch(self, token: CancellationToken) -> None:
        if token.is_cancelled():  # queued behind the work of a run that was cancelled meanwhile
            raise asyncio.CancelledError("the run was cancelled")
        self._running_task = asyncio.current_task()
        if token is not self._watched_token:
            self._watched_token = token
            token.add_callback(partial(self._cancel_running, token))

    def _cancel_running(self, token: CancellationToken) -> None:
        # A token of an earlier run may be cancelled late: it must not stop the current run's work.
        task = self._running_task
        if token is self._watched_token and task is not None:
            task.cancel()
