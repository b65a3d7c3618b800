"""The dispatch engine of the in-process runtime: FIFO queue, eager handler start, completion."""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import itertools
import logging
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from functools import partial
from typing import Any, cast

from ._agent import Agent
from ._agent_directory import AgentDirectory
from ._agent_id import AgentId
from ._cancellation_token import CancellationToken
from ._constants import EVENT_LOGGER_NAME, TRACE_LOGGER_NAME
from ._eager import EagerStarter
from ._intervention import Dropped, InterventionHandler, run_interventions, run_response_interventions
from ._message_context import MessageContext
from ._message_handler import check_result
from ._message_handler_context import _HANDLING_AGENT
from ._subscription_router import SubscriptionRouter
from .logging import (
    AgentConstructionExceptionEvent,
    DeliveryStage,
    MessageDroppedEvent,
    MessageEvent,
    MessageHandlerExceptionEvent,
    MessageKind,
)

__all__ = ["MessageDispatcher", "Envelope", "SEND", "PUBLISH"]

_logger = logging.getLogger(TRACE_LOGGER_NAME)
_event_logger = logging.getLogger(EVENT_LOGGER_NAME)

SEND = 0
PUBLISH = 1
_BATCH = 512
"""Envelopes dispatched per event-loop turn before other tasks get the loop back."""

# An envelope is a tuple, the cheapest record Python has:
# (kind, message, sender, recipient_or_topic, future_or_None, cancellation_token, message_id)
# A publish's token and id may be None until dispatch, so a queued publish stays small.
Envelope = tuple[int, Any, AgentId | None, Any, "asyncio.Future[Any] | None", CancellationToken | None, str | None]
PendingDelivery = tuple[Agent, Any, MessageContext, "asyncio.Future[Any] | None"]


class MessageDispatcher:
    """Moves envelopes from the queue to handlers and their outcomes back to callers.

    A dispatch turn is a plain event-loop callback (not a task) that handles up to ``_BATCH``
    envelopes in FIFO order and reschedules itself while work remains, so other tasks get the loop
    between turns. Each handler is started eagerly by :class:`EagerStarter`: one that finishes at once
    is completed inline; one that waits continues in a task of its own and is completed by that
    task's done callback. Intervention handlers run in the dispatcher; one that waits pauses the
    queue until it is done, which keeps FIFO order.
    """

    def __init__(self, intervention_handlers: list[InterventionHandler], ignore_unhandled_exceptions: bool) -> None:
        self._intervention_handlers = intervention_handlers
        self._ignore_unhandled_exceptions = ignore_unhandled_exceptions
        self._background_exception: BaseException | None = None
        self._agents = AgentDirectory(cast(Any, self))
        self._instances = self._agents.instances  # type -> key -> agent, read on every delivery
        self._router = SubscriptionRouter()
        self._queue: deque[Envelope] = deque()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._starter: EagerStarter | None = None
        self._context: contextvars.Context | None = None
        self._running = False
        self._scheduled = False
        self._paused = False
        self._in_flight = 0
        self._busy: dict[tuple[str, str], deque[PendingDelivery]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._idle_waiters: list[asyncio.Future[None]] = []
        self._conditions: list[tuple[Callable[[], bool], asyncio.Future[None]]] = []
        self._handled = 0
        self._failed = 0
        self._dropped = 0
        self._class_modes: dict[type, str] = {}
        self._log_deliveries = False  # event logger enabled? read once per dispatch turn
        self._id_prefix = uuid.uuid4().hex[:12]
        self._id_counter = itertools.count(1)

    def _next_message_id(self) -> str:
        # Unique per runtime and cheap; a uuid4 per message would cost more than the delivery itself.
        return f"{self._id_prefix}-{next(self._id_counter)}"

    def _enqueue(self, envelope: Envelope) -> None:
        self._queue.append(envelope)
        if self._running and not self._scheduled and not self._paused:
            self._scheduled = True
            assert self._loop is not None
            self._loop.call_soon(self._run_batch, context=self._context)

    # ------------------------------------------------------------------ the dispatcher

    def _run_batch(self) -> None:
        """Dispatch up to ``_BATCH`` envelopes, then give the loop back (rescheduling if work remains)."""
        self._scheduled = False
        self._log_deliveries = _event_logger.isEnabledFor(logging.INFO)
        queue = self._queue
        remaining = _BATCH
        intervene = bool(self._intervention_handlers)
        while queue and self._running and not self._paused and remaining:
            remaining -= 1
            envelope = queue.popleft()
            try:
                if intervene:
                    self._intervene(envelope)
                elif envelope[0] == SEND:
                    self._dispatch_send(envelope)
                else:
                    self._dispatch_publish(envelope)
            except Exception as e:  # a bug outside any handler (a custom subscription, say) must not stall us
                self._dispatch_failed(envelope, e)
        if queue and self._running and not self._paused:
            self._scheduled = True
            assert self._loop is not None
            self._loop.call_soon(self._run_batch, context=self._context)
        self._check_progress()

    def _dispatch_failed(self, envelope: Envelope, error: Exception) -> None:
        self._failed += 1
        future = envelope[4]
        if future is not None and not future.done():
            future.set_exception(error)
            return
        _logger.error("Could not dispatch %s to %s", type(envelope[1]).__name__, envelope[3], exc_info=error)
        if not self._ignore_unhandled_exceptions and self._background_exception is None:
            self._background_exception = error

    def _dispatch_send(self, envelope: Envelope) -> None:
        _, message, sender, recipient, future, token, message_id = envelope
        assert future is not None and token is not None and message_id is not None  # sends carry both
        if future.done():  # the caller gave up while the message was queued
            return
        ctx = MessageContext(sender, None, True, token, message_id)
        agent = self._instances[recipient.type].get(recipient.key)
        if agent is None:
            self._deliver_to_new_agent(recipient, message, ctx, future)
            return
        self._deliver(agent, message, ctx, future)

    def _dispatch_publish(self, envelope: Envelope) -> None:
        _, message, sender, topic_id, _, token, message_id = envelope
        ctx = MessageContext(
            sender, topic_id, False, token or CancellationToken(), message_id or self._next_message_id()
        )
        source = topic_id.source
        instances = self._instances
        modes = self._class_modes
        delivered: set[tuple[str, str]] | None = set() if self._router.has_custom else None
        for agent_type in self._router.agent_types_for(topic_id.type):
            if sender is not None and sender._key == source and sender._type == agent_type:
                continue
            agents = instances.get(agent_type)
            if agents is None:
                continue  # a subscription for a type that is not registered (yet)
            if delivered is not None:
                delivered.add((agent_type, source))
            agent = agents.get(source)
            if agent is None:
                self._deliver_to_new_agent(AgentId._trusted(agent_type, source), message, ctx, None)
            elif modes.get(type(agent)) is _ROUTED:  # the common case, without the extra call
                self._start(agent, message, ctx, None, True)
            else:
                self._deliver(agent, message, ctx, None)
        if delivered is not None:
            for agent_id in self._router.custom_recipients(topic_id):
                key = (agent_id.type, agent_id.key)
                if key in delivered or agent_id == sender or agent_id.type not in instances:
                    continue
                delivered.add(key)
                agent = instances[agent_id.type].get(agent_id.key)
                if agent is None:
                    self._deliver_to_new_agent(agent_id, message, ctx, None)
                else:
                    self._deliver(agent, message, ctx, None)

    # ------------------------------------------------------------------ delivery

    def _deliver(self, agent: Agent, message: Any, ctx: MessageContext, future: asyncio.Future[Any] | None) -> None:
        """Start ``agent``'s handler for ``message``; ``future`` receives an RPC's outcome."""
        cls = type(agent)
        mode = self._class_modes.get(cls)
        if mode is None:
            mode = self._class_modes[cls] = _delivery_mode(cls)
        if mode is _SEQUENTIAL:
            self._deliver_sequential(agent, message, ctx, future)
        else:
            self._start(agent, message, ctx, future, mode is _ROUTED)

    def _start(
        self, agent: Agent, message: Any, ctx: MessageContext, future: asyncio.Future[Any] | None, routed: bool
    ) -> asyncio.Task[Any] | None:
        handler: Any = None
        coro: Coroutine[Any, Any, Any]
        if routed:  # a RoutedAgent on the default path: call the selected handler directly
            handler = agent._select(message, ctx)  # type: ignore[attr-defined]
            coro = handler(agent, message, ctx) if handler is not None else agent.on_unhandled_message(message, ctx)  # type: ignore[attr-defined]
        else:
            coro = agent.on_message(message, ctx)
        starter = self._starter
        assert starter is not None
        assert self._context is not None
        if self._log_deliveries:
            self._log_delivery(agent, message, ctx)
        task = starter.start(coro, self._context.copy(), _HANDLING_AGENT, agent._id if routed else agent.id)  # type: ignore[attr-defined]
        if task is None:
            error = starter.error
            if error is None and future is None and handler is not None:
                result = starter.result
                returns = handler._salon_returns
                if returns is None or isinstance(result, returns):  # the common case: a publish handled
                    self._handled += 1
                    return None
            self._finish(agent, message, ctx, future, starter.result, error, handler)
            return None
        self._in_flight += 1
        if ctx.is_rpc:
            ctx.cancellation_token.add_callback(task.cancel)
        task.add_done_callback(partial(self._on_task_done, agent, message, ctx, future, handler))
        self._keep(task)
        return task

    def _log_delivery(self, agent: Agent, message: Any, ctx: MessageContext) -> None:
        _event_logger.info(
            MessageEvent(
                payload=message,
                sender=ctx.sender,
                receiver=agent.id if ctx.is_rpc else ctx.topic_id,
                kind=MessageKind.DIRECT if ctx.is_rpc else MessageKind.PUBLISH,
                delivery_stage=DeliveryStage.DELIVER,
            )
        )

    def _on_task_done(
        self,
        agent: Agent,
        message: Any,
        ctx: MessageContext,
        future: asyncio.Future[Any] | None,
        handler: Any,
        task: asyncio.Task[Any],
    ) -> None:
        self._in_flight -= 1
        if task.cancelled():
            self._finish(agent, message, ctx, future, None, asyncio.CancelledError(), handler)
        else:
            error = task.exception()
            self._finish(agent, message, ctx, future, None if error is not None else task.result(), error, handler)
        busy = self._busy.get((agent.id.type, agent.id.key)) if self._busy else None
        if busy is not None:
            self._start_next_sequential(agent, busy)
        self._check_progress()

    def _finish(
        self,
        agent: Agent,
        message: Any,
        ctx: MessageContext,
        future: asyncio.Future[Any] | None,
        result: Any,
        error: BaseException | None,
        handler: Any,
    ) -> None:
        if error is None and handler is not None:
            try:
                check_result(handler, result)
            except ValueError as e:
                error = e
        if error is None:
            self._handled += 1
            if future is not None and self._log_deliveries:
                self._log_response(agent.id, ctx.sender, result)
            if future is not None and not future.done():
                if self._intervention_handlers:
                    self._respond_through_interventions(agent.id, ctx.sender, result, future)
                else:
                    future.set_result(result)
            return
        self._failed += 1
        if future is not None:
            if _event_logger.isEnabledFor(logging.INFO):
                _event_logger.info(
                    MessageHandlerExceptionEvent(payload=message, handling_agent=agent.id, exception=error)
                )
            if not future.done():
                if isinstance(error, asyncio.CancelledError):
                    future.cancel()
                elif isinstance(error, StopIteration | StopAsyncIteration):
                    future.set_exception(RuntimeError(f"Handler raised {type(error).__name__}"))
                else:
                    future.set_exception(error)
            return
        if isinstance(error, asyncio.CancelledError):
            return
        self._report_publish_error(agent.id, message, error)

    def _log_response(self, responder: AgentId, caller: AgentId | None, result: Any) -> None:
        for stage in (DeliveryStage.SEND, DeliveryStage.DELIVER):
            _event_logger.info(
                MessageEvent(
                    payload=result, sender=responder, receiver=caller, kind=MessageKind.RESPOND, delivery_stage=stage
                )
            )

    def _report_publish_error(self, agent_id: AgentId, message: Any, error: BaseException) -> None:
        if _event_logger.isEnabledFor(logging.INFO):
            _event_logger.info(MessageHandlerExceptionEvent(payload=message, handling_agent=agent_id, exception=error))
        _logger.error("Error processing publish message for %s", agent_id, exc_info=error)
        if not self._ignore_unhandled_exceptions and self._background_exception is None:
            self._background_exception = error

    # ------------------------------------------------------------------ sequential agents

    def _deliver_sequential(
        self, agent: Agent, message: Any, ctx: MessageContext, future: asyncio.Future[Any] | None
    ) -> None:
        key = (agent.id.type, agent.id.key)
        waiting = self._busy.get(key)
        if waiting is not None:
            waiting.append((agent, message, ctx, future))
            self._in_flight += 1
            return
        if self._start(agent, message, ctx, future, _routes_by_default(type(agent))) is not None:
            self._busy[key] = deque()

    def _start_next_sequential(
        self, agent: Agent, waiting: deque[tuple[Agent, Any, MessageContext, asyncio.Future[Any] | None]]
    ) -> None:
        fast = _routes_by_default(type(agent))
        while waiting:
            _, message, ctx, future = waiting.popleft()
            self._in_flight -= 1
            if self._start(agent, message, ctx, future, fast) is not None:
                return  # still busy; its completion starts the next one
        del self._busy[(agent.id.type, agent.id.key)]

    # ------------------------------------------------------------------ agent instances

    def _deliver_to_new_agent(
        self, agent_id: AgentId, message: Any, ctx: MessageContext, future: asyncio.Future[Any] | None
    ) -> None:
        assert self._starter is not None
        assert self._context is not None
        try:
            created = self._context.copy().run(self._starter.call_as_task, self._agents.create, agent_id)
        except BaseException as e:
            self._fail_construction(agent_id, message, future, e)
            return
        if inspect.isawaitable(created):
            self._in_flight += 1
            self._spawn(self._deliver_after_async_factory(created, agent_id, message, ctx, future))
            return
        self._deliver(created, message, ctx, future)

    async def _deliver_after_async_factory(
        self,
        creating: Awaitable[Agent],
        agent_id: AgentId,
        message: Any,
        ctx: MessageContext,
        future: asyncio.Future[Any] | None,
    ) -> None:
        try:
            agent = await creating
        except BaseException as e:
            self._fail_construction(agent_id, message, future, e)
            return
        finally:
            self._in_flight -= 1
        self._deliver(agent, message, ctx, future)
        self._check_progress()

    def _fail_construction(
        self, agent_id: AgentId, message: Any, future: asyncio.Future[Any] | None, error: BaseException
    ) -> None:
        self._failed += 1
        if _event_logger.isEnabledFor(logging.INFO):
            _event_logger.info(AgentConstructionExceptionEvent(agent_id=agent_id, exception=error))
        if future is not None:
            if not future.done():
                future.set_exception(error)
            return
        self._report_publish_error(agent_id, message, error)

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any] | None:
        assert self._starter is not None
        assert self._context is not None
        return self._keep(self._starter.start(coro, self._context.copy()))

    def _keep(self, task: asyncio.Task[Any] | None) -> asyncio.Task[Any] | None:
        # The event loop holds tasks weakly; the runtime keeps its handlers' tasks until they finish.
        if task is not None:
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return task

    def _intervene(self, envelope: Envelope) -> None:
        """Run the intervention handlers on ``envelope`` in FIFO order, then dispatch what they return."""
        assert self._starter is not None and self._context is not None
        task = self._spawn(self._apply_interventions(envelope))
        if task is not None:  # an intervention waits: hold the queue so order is kept
            self._paused = True
            self._in_flight += 1
            task.add_done_callback(self._on_intervention_done)

    def _on_intervention_done(self, task: asyncio.Task[Any]) -> None:
        self._in_flight -= 1
        self._paused = False
        if not task.cancelled() and task.exception() is not None:
            _logger.error("Intervention handler failed", exc_info=task.exception())
        if self._queue and self._running and not self._scheduled:
            self._scheduled = True
            assert self._loop is not None
            self._loop.call_soon(self._run_batch, context=self._context)
        self._check_progress()

    async def _apply_interventions(self, envelope: Envelope) -> None:
        kind, message, sender, target, future, token, message_id = envelope
        if kind == SEND and future is not None and future.done():
            return
        if token is None:
            token = CancellationToken()
        if message_id is None:
            message_id = self._next_message_id()
        ctx = MessageContext(sender, None if kind == SEND else target, kind == SEND, token, message_id)
        try:
            message = await run_interventions(
                self._intervention_handlers, message, ctx, target if kind == SEND else None
            )
        except BaseException as e:
            if future is not None and not future.done():
                future.set_exception(e)
            else:
                _logger.error("Intervention handler failed on %s", type(message).__name__, exc_info=e)
            return
        if isinstance(message, Dropped):
            self._dropped += 1
            if _event_logger.isEnabledFor(logging.INFO):
                kind_of = MessageKind.DIRECT if kind == SEND else MessageKind.PUBLISH
                _event_logger.info(
                    MessageDroppedEvent(payload=envelope[1], sender=sender, receiver=target, kind=kind_of)
                )
            if future is not None and not future.done():
                future.set_exception(message.error())
            return
        final: Envelope = (kind, message, sender, target, future, token, message_id)
        if kind == SEND:
            self._dispatch_send(final)
        else:
            self._dispatch_publish(final)

    def _respond_through_interventions(
        self, responder: AgentId, caller: AgentId | None, result: Any, future: asyncio.Future[Any]
    ) -> None:
        async def respond() -> None:
            try:
                response = await run_response_interventions(self._intervention_handlers, result, responder, caller)
            except BaseException as e:
                if not future.done():
                    future.set_exception(e)
                return
            if isinstance(response, Dropped):
                self._dropped += 1
                if not future.done():
                    future.set_exception(response.error("Response"))
            elif not future.done():
                future.set_result(response)

        self._spawn(respond())

    def _is_idle(self) -> bool:
        return not self._queue and self._in_flight == 0

    def _check_progress(self) -> None:
        if self._conditions:
            for condition, waiter in list(self._conditions):
                if not waiter.done() and condition():
                    waiter.set_result(None)
        if self._idle_waiters and self._is_idle():
            waiters, self._idle_waiters = self._idle_waiters, []
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(None)


_ROUTED = "routed"  # a RoutedAgent that kept the default on_message path: the runtime calls its handler directly
_GENERIC = "generic"  # any other agent: through agent.on_message
_SEQUENTIAL = "sequential"  # sequential = True: one message at a time per instance


def _routes_by_default(cls: type) -> bool:
    return getattr(cls, "_routes_by_default", False) is True


def _delivery_mode(cls: type) -> str:
    if getattr(cls, "sequential", False) is True:
        return _SEQUENTIAL
    return _ROUTED if _routes_by_default(cls) else _GENERIC
