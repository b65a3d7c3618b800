"""Start handler coroutines eagerly and give them a task of their own only when they really wait.

Most handlers finish without ever suspending (they compute, publish or send, and return). Running
each one in its own ``asyncio.Task`` costs an allocation, a scheduled callback and an extra trip
through the event loop per delivery - more than the rest of a delivery put together. So the runtime
runs the handler's first step inline, in the dispatcher, and creates a real task only if the handler
suspends (awaits I/O, a lock, a response), so a waiting handler never holds up other agents.

Python 3.12 has this as ``eager_start``; on 3.11 this module provides it. The handler must still see
one consistent ``asyncio.current_task()`` for its whole life - ``asyncio.timeout``, ``TaskGroup``
and anyio cancel scopes (used by httpx, hence by the model SDKs) remember the task they were entered
in and check or cancel it later. Each handler therefore runs under a :class:`HandlerTask`, a stand-in
that is the current task during every step of the handler, and forwards ``cancel()`` and friends to
the real task once one exists.
"""

from __future__ import annotations

import asyncio
import contextvars
from asyncio import AbstractEventLoop
from collections.abc import Callable, Coroutine, Generator
from sys import getrefcount
from typing import Any

__all__ = ["EagerStarter", "HandlerTask"]

_current_tasks: dict[AbstractEventLoop, Any] = asyncio.tasks._current_tasks  # type: ignore[attr-defined]


class HandlerTask:
    """Stands in for the ``asyncio.Task`` of one handler: ``asyncio.current_task()`` inside the handler.

    Before the handler suspends, cancellation requests are recorded and applied to the real task as
    soon as it is created; afterwards every call is forwarded to the real task.
    """

    __slots__ = (
        "__weakref__",
        "_callbacks",
        "_cancel_message",
        "_cancel_requests",
        "_coro",
        "_finished",
        "_loop",
        "_task",
    )

    def __init__(self, loop: AbstractEventLoop) -> None:
        self._loop = loop
        self._coro: Coroutine[Any, Any, Any] | None = None
        self._task: asyncio.Task[Any] | None = None
        self._cancel_requests = 0
        self._cancel_message: Any = None
        self._callbacks: list[Callable[[Any], object]] | None = None
        self._finished = False

    # The subset of the asyncio.Task API that asyncio, anyio and user code use on the current task.
    def get_loop(self) -> AbstractEventLoop:
        """The event loop the handler runs on."""
        return self._loop

    def get_coro(self) -> Coroutine[Any, Any, Any] | None:
        """The handler's coroutine."""
        return self._coro

    def get_name(self) -> str:
        """A name for debugging output."""
        return self._task.get_name() if self._task is not None else f"salon-handler-{id(self):x}"

    def cancel(self, msg: Any | None = None) -> bool:
        """Request cancellation: ``CancelledError`` is raised in the handler where it next waits."""
        if self._task is not None:
            return self._task.cancel(msg)
        if self._finished:
            return False
        self._cancel_requests += 1
        self._cancel_message = msg
        return True

    def cancelling(self) -> int:
        """How many cancellation requests are pending."""
        return self._task.cancelling() if self._task is not None else self._cancel_requests

    def uncancel(self) -> int:
        """Withdraw one cancellation request (used by ``asyncio.timeout`` and ``TaskGroup``)."""
        if self._task is not None:
            return self._task.uncancel()
        if self._cancel_requests > 0:
            self._cancel_requests -= 1
        return self._cancel_requests

    def done(self) -> bool:
        """Whether the handler has finished."""
        return self._task.done() if self._task is not None else self._finished

    def cancelled(self) -> bool:
        """Whether the handler ended by cancellation."""
        return self._task.cancelled() if self._task is not None else False

    def add_done_callback(self, fn: Callable[[Any], object], *, context: contextvars.Context | None = None) -> None:
        """Call ``fn(self)`` when the handler finishes."""
        if self._task is not None:
            self._task.add_done_callback(_CallWith(fn, self), context=context)
            return
        if self._callbacks is None:
            self._callbacks = []
        self._callbacks.append(fn)

    def remove_done_callback(self, fn: Callable[[Any], object]) -> int:
        """Forget a callback added before the handler first waited."""
        if not self._callbacks:
            return 0
        before = len(self._callbacks)
        self._callbacks = [cb for cb in self._callbacks if cb != fn]
        return before - len(self._callbacks)

    # asyncio.Task internals that anyio reads to decide how to deliver a cancellation.
    @property
    def _fut_waiter(self) -> Any:
        return getattr(self._task, "_fut_waiter", None)

    @property
    def _must_cancel(self) -> bool:
        if self._task is not None:
            return bool(getattr(self._task, "_must_cancel", False))
        return self._cancel_requests > 0

    def __repr__(self) -> str:
        state = "pending" if self._task is None else repr(self._task)
        return f"<HandlerTask {state}>"


class _Continue:
    """Awaitable that drives a partly run coroutine to its end, with its HandlerTask as current task."""

    __slots__ = ("_coro", "_first", "_handler_task")

    def __init__(self, coro: Coroutine[Any, Any, Any], first: Any, handler_task: HandlerTask) -> None:
        self._coro = coro
        self._first = first
        self._handler_task = handler_task

    def __await__(self) -> Generator[Any, Any, Any]:
        coro = self._coro
        handler_task = self._handler_task
        loop = handler_task._loop
        yielded = self._first
        self._first = None
        thrown: BaseException | None = None
        if handler_task._cancel_requests:
            # cancel() was called while the handler ran eagerly: do what a task does when it finds a pending
            # cancellation at a suspension point - cancel the awaited future, or throw into the coroutine.
            message = handler_task._cancel_message
            if not (isinstance(yielded, asyncio.Future) and yielded.cancel(message)):
                thrown = asyncio.CancelledError(message) if message is not None else asyncio.CancelledError()
        if isinstance(yielded, asyncio.Future):
            # Other waiters on the same future may have cleared the flag since the eager step set it.
            yielded._asyncio_future_blocking = True
        while True:
            sent: Any = None
            if thrown is None:
                try:
                    sent = yield yielded
                except GeneratorExit:
                    coro.close()
                    raise
                except BaseException as e:  # CancelledError and friends, thrown in by the task
                    thrown = e
            real_task = _current_tasks.get(loop)
            _current_tasks[loop] = handler_task
            try:
                yielded = coro.send(sent) if thrown is None else coro.throw(thrown)
            except StopIteration as stop:
                return stop.value
            finally:
                _current_tasks[loop] = real_task
            thrown = None


async def _continue(awaitable: _Continue) -> Any:
    return await awaitable


class EagerStarter:
    """Runs handler coroutines up to their first suspension; see the module docstring.

    After :meth:`start` returns ``None`` the handler has finished and its outcome is in
    :attr:`result` / :attr:`error`. Otherwise it returns the :class:`HandlerTask` whose
    :meth:`task` finishes when the handler does.
    """

    __slots__ = ("_loop", "_spare", "error", "result")

    def __init__(self, loop: AbstractEventLoop) -> None:
        self._loop = loop
        self._spare = HandlerTask(loop)
        self.result: Any = None
        self.error: BaseException | None = None

    def start(
        self,
        coro: Coroutine[Any, Any, Any],
        context: contextvars.Context,
        var: contextvars.ContextVar[Any] | None = None,
        value: Any = None,
    ) -> asyncio.Task[Any] | None:
        """Run ``coro`` in ``context`` (with ``var`` set to ``value`` there) until it finishes or first waits.

        Returns:
            ``None`` when it finished (see :attr:`result` and :attr:`error`), else the task that now
            runs the rest of it.
        """
        handler_task = self._spare
        handler_task._coro = coro
        yielded = context.run(_first_step, coro, handler_task, var, value, self)
        if yielded is _FINISHED:
            handler_task._coro = None
            if getrefcount(handler_task) > _UNSHARED_REFS or handler_task._callbacks is not None:
                # Someone kept the stand-in (asyncio.current_task() stored away, a done callback): it must
                # stay "this finished handler", so it is retired and the next handler gets a fresh one.
                handler_task._finished = True
                self._spare = HandlerTask(self._loop)
                for callback in handler_task._callbacks or ():
                    self._loop.call_soon(callback, handler_task)
                handler_task._callbacks = None
            elif handler_task._cancel_requests:
                handler_task._cancel_requests = 0
                handler_task._cancel_message = None
            return None
        # The handler waits: it keeps this HandlerTask for the rest of its life; a fresh one serves the next.
        self._spare = HandlerTask(self._loop)
        if isinstance(yielded, asyncio.Future):
            # A future marks itself "blocking" when yielded and refuses a second awaiter until a task takes
            # it (which clears the mark). No task has it yet, so clear the mark for other handlers that
            # await the same future in this dispatch turn; _Continue sets it again for the real task.
            yielded._asyncio_future_blocking = False
        task = self._loop.create_task(_continue(_Continue(coro, yielded, handler_task)), context=context)
        handler_task._task = task
        if handler_task._callbacks:
            for callback in handler_task._callbacks:
                task.add_done_callback(_CallWith(callback, handler_task))
            handler_task._callbacks = None
        return task

    def call_as_task(self, function: Callable[..., Any], *args: Any) -> Any:
        """Call ``function(*args)`` with the next handler's stand-in as the current task.

        Agent factories run this way, so code that asks for the current task in a constructor (sniffio,
        anyio) finds one, as it does in AutoGen, where agents are built inside the delivery's task.
        """
        loop = self._loop
        previous = _current_tasks.get(loop)
        _current_tasks[loop] = self._spare
        try:
            return function(*args)
        finally:
            if previous is None:
                del _current_tasks[loop]
            else:
                _current_tasks[loop] = previous


class _CallWith:
    """Done callback that reports the HandlerTask, not the real task, to a callback added before it existed."""

    __slots__ = ("_callback", "_handler_task")

    def __init__(self, callback: Callable[[Any], object], handler_task: HandlerTask) -> None:
        self._callback = callback
        self._handler_task = handler_task

    def __call__(self, _task: Any) -> None:
        self._callback(self._handler_task)


_FINISHED = object()
# References to the spare HandlerTask when nobody else holds it: EagerStarter._spare, start()'s local
# variable, and getrefcount's own argument.
_UNSHARED_REFS = 3


def _first_step(
    coro: Coroutine[Any, Any, Any],
    handler_task: HandlerTask,
    var: contextvars.ContextVar[Any] | None,
    value: Any,
    starter: EagerStarter,
) -> Any:
    # Catching StopIteration here, in the frame that called send(), is the cheapest way to learn that
    # the coroutine finished; this function runs once per delivery.
    if var is not None:
        var.set(value)
    loop = handler_task._loop
    previous = _current_tasks.get(loop)
    _current_tasks[loop] = handler_task
    try:
        return coro.send(None)
    except StopIteration as stop:
        starter.result = stop.value
        starter.error = None
        return _FINISHED
    except BaseException as e:
        starter.result = None
        starter.error = e
        return _FINISHED
    finally:
        if previous is None:
            del _current_tasks[loop]
        else:
            _current_tasks[loop] = previous
