"""The in-process runtime: one event loop, one FIFO queue, handlers started eagerly."""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

from ._agent import Agent
from ._agent_id import AgentId
from ._agent_metadata import AgentMetadata
from ._agent_type import AgentType
from ._cancellation_token import CancellationToken
from ._constants import EVENT_LOGGER_NAME
from ._eager import EagerStarter
from ._intervention import InterventionHandler
from ._message_dispatcher import PUBLISH, SEND, MessageDispatcher
from ._runtime_state import RuntimeStateCodec
from ._runtime_stats import RuntimeStats
from ._serialization import MessageSerializer, SerializationRegistry
from ._subscription import Subscription
from ._topic import TopicId
from .exceptions import UndeliverableException
from .logging import DeliveryStage, MessageEvent, MessageKind

__all__ = ["SingleThreadedAgentRuntime"]

T = TypeVar("T", bound=Agent)

_event_logger = logging.getLogger(EVENT_LOGGER_NAME)


class SingleThreadedAgentRuntime(MessageDispatcher):
    """Runs agents in this process, on the running asyncio event loop.

    Semantics are AutoGen's ``SingleThreadedAgentRuntime``'s, with the differences documented in
    ``docs/runtime-semantics.md`` (publishes reach each agent once; deterministic handler choice; an
    RPC nobody handles raises ``CantHandleException``; dropping a message never blocks idleness;
    opt-in sequential agents; state includes subscriptions and queued messages).

    Messages are dispatched in FIFO order by a callback on the event loop, never inside the call of
    the sender. Each handler is started inline and gets a task of its own only if it waits, so a
    handler that finishes at once costs no task, and a handler that waits on I/O holds up no other
    agent.

    Args:
        intervention_handlers: Handlers that see, change or drop every message before delivery.
        tracer_provider: Accepted for AutoGen compatibility; tracing is not implemented yet.
        ignore_unhandled_exceptions: If ``False``, an exception in a publish handler is re-raised by the
            next ``stop()``, ``stop_when_idle()`` or ``stop_when()``. RPC errors always go to the caller.
    """

    def __init__(
        self,
        *,
        intervention_handlers: list[InterventionHandler] | None = None,
        tracer_provider: Any = None,
        ignore_unhandled_exceptions: bool = True,
    ) -> None:
        super().__init__(list(intervention_handlers or []), ignore_unhandled_exceptions)
        self._serialization_registry = SerializationRegistry()

    # ------------------------------------------------------------------ introspection

    @property
    def unprocessed_messages_count(self) -> int:
        """Messages accepted but not yet dispatched."""
        return len(self._queue)

    def stats(self) -> RuntimeStats:
        """A snapshot of counters for health checks and metrics (cheap; no agent is touched)."""
        return RuntimeStats(
            live_agents=self._agents.live_agents,
            registered_types=len(self._agents.type_names),
            subscriptions=len(self._router),
            queued_messages=len(self._queue),
            in_flight_messages=self._in_flight,
            handled_messages=self._handled,
            failed_messages=self._failed,
            dropped_messages=self._dropped,
            running=self._running,
        )

    # ------------------------------------------------------------------ sending

    async def send_message(
        self,
        message: Any,
        recipient: AgentId,
        *,
        sender: AgentId | None = None,
        cancellation_token: CancellationToken | None = None,
        message_id: str | None = None,
    ) -> Any:
        """Deliver ``message`` to ``recipient`` and return its handler's response.

        Raises:
            LookupError: no agent type ``recipient.type`` is registered (raised at once).
            CantHandleException: the recipient has no handler that accepts the message.
            MessageDroppedException: an intervention handler dropped the message.
            asyncio.CancelledError: ``cancellation_token`` was cancelled.
            Exception: whatever the handler raised, with its original type.
        """
        recipient_type = recipient.type
        if recipient_type not in self._instances:
            raise LookupError(self._agents.unknown_type_message(recipient_type, f"send {type(message).__name__} to"))
        if cancellation_token is None:
            cancellation_token = CancellationToken()
        if message_id is None:
            message_id = self._next_message_id()
        loop = self._loop or asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        if _event_logger.isEnabledFor(logging.INFO):
            _event_logger.info(
                MessageEvent(
                    payload=message,
                    sender=sender,
                    receiver=recipient,
                    kind=MessageKind.DIRECT,
                    delivery_stage=DeliveryStage.SEND,
                )
            )
        cancellation_token.link_future(future)
        self._enqueue((SEND, message, sender, recipient, future, cancellation_token, message_id))
        try:
            return await future
        except asyncio.CancelledError:
            cancellation_token.cancel()  # the caller gave up: tell the handler
            raise

    async def publish_message(
        self,
        message: Any,
        topic_id: TopicId,
        *,
        sender: AgentId | None = None,
        cancellation_token: CancellationToken | None = None,
        message_id: str | None = None,
    ) -> None:
        """Queue ``message`` for every agent subscribed to ``topic_id`` (except ``sender``) and return.

        The subscribers are determined when the message is dispatched, not when it is published.
        """
        # The token and the id are made at dispatch when not given: a queued publish stays small.
        if _event_logger.isEnabledFor(logging.INFO):
            _event_logger.info(
                MessageEvent(
                    payload=message,
                    sender=sender,
                    receiver=topic_id,
                    kind=MessageKind.PUBLISH,
                    delivery_stage=DeliveryStage.SEND,
                )
            )
        self._enqueue((PUBLISH, message, sender, topic_id, None, cancellation_token, message_id))

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Start processing messages on the running event loop.

        Raises:
            RuntimeError: the runtime is already started, or no event loop is running.
        """
        if self._running:
            raise RuntimeError("Runtime is already started; call stop() before starting it again.")
        loop = asyncio.get_running_loop()
        if self._loop is not loop or self._starter is None:
            self._loop = loop
            self._starter = EagerStarter(loop)
        self._context = contextvars.copy_context()
        self._running = True
        self._background_exception = None
        if self._queue and not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._run_batch, context=self._context)

    async def stop(self) -> None:
        """Stop now: handlers already running finish, queued messages are discarded.

        RPC callers whose messages are discarded get :class:`UndeliverableException` instead of waiting
        forever (AutoGen leaves them hanging).

        Raises:
            RuntimeError: the runtime is not started.
            Exception: an unhandled publish-handler error, with ``ignore_unhandled_exceptions=False``.
        """
        if not self._running:
            raise RuntimeError("Runtime is not started.")
        self._halt()
        self._raise_background_exception()

    def _halt(self) -> None:
        self._running = False
        discarded = list(self._queue)
        self._queue.clear()
        for envelope in discarded:
            self._dropped += 1
            future = envelope[4]
            if future is not None and not future.done():
                future.set_exception(
                    UndeliverableException(
                        f"The runtime was stopped before {type(envelope[1]).__name__} reached {envelope[3]}."
                    )
                )
        for waiter in self._idle_waiters:
            if not waiter.done():
                waiter.set_result(None)
        self._idle_waiters.clear()

    def _raise_background_exception(self) -> None:
        error, self._background_exception = self._background_exception, None
        if error is not None:
            raise error

    async def stop_when_idle(self) -> None:
        """Wait until no message is queued or being handled, then stop.

        Raises:
            RuntimeError: the runtime is not started.
            Exception: an unhandled publish-handler error, with ``ignore_unhandled_exceptions=False``.
        """
        if not self._running:
            raise RuntimeError("Runtime is not started.")
        if not self._is_idle():
            assert self._loop is not None
            waiter: asyncio.Future[None] = self._loop.create_future()
            self._idle_waiters.append(waiter)
            await waiter
        if self._running:
            self._halt()
        self._raise_background_exception()

    async def stop_when(self, condition: Callable[[], bool], check_period: float = 1.0) -> None:
        """Stop as soon as ``condition()`` is true.

        The condition is checked after every dispatch turn and every handler completion, and at least
        every ``check_period`` seconds for conditions that depend on the outside world.

        Raises:
            RuntimeError: the runtime is not started.
        """
        if not self._running:
            raise RuntimeError("Runtime is not started.")
        assert self._loop is not None
        while self._running and not condition():
            waiter: asyncio.Future[None] = self._loop.create_future()
            entry = (condition, waiter)
            self._conditions.append(entry)
            handle = self._loop.call_later(check_period, _resolve, waiter)
            try:
                await waiter
            finally:
                handle.cancel()
                if entry in self._conditions:
                    self._conditions.remove(entry)
        if self._running:
            self._halt()
        self._raise_background_exception()

    async def close(self) -> None:
        """Stop if running, then call ``close()`` on every agent instance."""
        if self._running:
            await self.stop()
        for instances in list(self._instances.values()):
            for agent in list(instances.values()):
                await agent.close()

    async def process_next(self) -> None:
        """Dispatch the next queued message by hand (for tests that step the runtime).

        Raises:
            RuntimeError: the runtime is running (it dispatches by itself then).
        """
        if self._running:
            raise RuntimeError("process_next() is for a runtime that is not started; this one is running.")
        if not self._queue:
            return
        loop = asyncio.get_running_loop()
        if self._starter is None or self._loop is not loop:
            self._loop = loop
            self._starter = EagerStarter(loop)
        if self._context is None:
            self._context = contextvars.copy_context()
        envelope = self._queue.popleft()
        if self._intervention_handlers:
            self._intervene(envelope)
            self._paused = False
        elif envelope[0] == SEND:
            self._dispatch_send(envelope)
        else:
            self._dispatch_publish(envelope)
        await asyncio.sleep(0)

    # ------------------------------------------------------------------ registration

    async def register_factory(
        self,
        type: str | AgentType,
        agent_factory: Callable[[], T | Awaitable[T]],
        *,
        expected_class: type[T] | None = None,
    ) -> AgentType:
        """Register a factory that creates the instances of agent type ``type`` on first use.

        Raises:
            ValueError: ``type`` is invalid or already registered.
            TypeError: the factory takes arguments other than none or ``(runtime, agent_id)``.
        """
        type_name = type.type if isinstance(type, AgentType) else type
        self._agents.add_factory(type_name, agent_factory, expected_class)
        return AgentType(type_name)

    async def register_agent_instance(self, agent_instance: Agent, agent_id: AgentId) -> AgentId:
        """Register an already constructed agent under ``agent_id``.

        Several instances of one class may share an agent type under different keys.

        Raises:
            ValueError: the type belongs to a factory or another class, or the id is taken.
        """
        self._agents.check_instance(agent_instance, agent_id)
        await agent_instance.bind_id_and_runtime(id=agent_id, runtime=self)
        self._agents.add_instance(agent_instance, agent_id)
        return agent_id

    async def try_get_underlying_agent_instance(self, id: AgentId, type: type[T] = Agent) -> T:  # type: ignore[assignment]
        """Return the agent object for ``id``, creating it if needed.

        Raises:
            LookupError: the agent type is unknown.
            TypeError: the agent is not an instance of ``type``.
        """
        agent = await self._agents.get(id)
        if not isinstance(agent, type):
            raise TypeError(f"Agent {id} is a {agent.__class__.__name__}, not a {type.__name__}.")
        return agent

    async def get(
        self, id_or_type: AgentId | AgentType | str, /, key: str = "default", *, lazy: bool = True
    ) -> AgentId:
        """Return the id of agent ``(type, key)``; with ``lazy=False`` the agent is created now.

        Raises:
            LookupError: the agent type is unknown.
        """
        if isinstance(id_or_type, AgentId):
            agent_id = id_or_type
        else:
            agent_id = AgentId(id_or_type.type if isinstance(id_or_type, AgentType) else id_or_type, key)
        if agent_id.type not in self._instances:
            raise LookupError(self._agents.unknown_type_message(agent_id.type, "get"))
        if not lazy:
            await self._agents.get(agent_id)
        return agent_id

    async def agent_metadata(self, agent: AgentId) -> AgentMetadata:
        """Return the metadata of ``agent`` (creating it if needed)."""
        return (await self._agents.get(agent)).metadata

    async def agent_save_state(self, agent: AgentId) -> Mapping[str, Any]:
        """Return the state of one agent."""
        return await (await self._agents.get(agent)).save_state()

    async def agent_load_state(self, agent: AgentId, state: Mapping[str, Any]) -> None:
        """Restore the state of one agent."""
        await (await self._agents.get(agent)).load_state(state)

    # ------------------------------------------------------------------ subscriptions and serializers

    async def add_subscription(self, subscription: Subscription) -> None:
        """Add a subscription; it applies to messages dispatched from now on.

        Raises:
            ValueError: an equal subscription exists already.
        """
        self._router.add(subscription)

    async def remove_subscription(self, id: str) -> None:
        """Remove the subscription with ``id``.

        Raises:
            LookupError: no subscription has that id.
        """
        self._router.remove(id)

    def add_message_serializer(self, serializer: MessageSerializer[Any] | Sequence[MessageSerializer[Any]]) -> None:
        """Teach the runtime how to (de)serialize a message type (used for saved queued messages)."""
        self._serialization_registry.add_serializer(serializer)

    # ------------------------------------------------------------------ state

    async def save_state(self) -> Mapping[str, Any]:
        """Return the state of every agent, the subscriptions and the queued publishes, as JSON data.

        Queued RPC requests are not saved: their callers live in this process and get their answer
        (or an error) from it.

        Raises:
            ValueError: a queued message has no registered serializer (the error names its type).
        """
        codec = RuntimeStateCodec(self._serialization_registry)
        agents: dict[str, Any] = {}
        for agent_type, instances in self._instances.items():
            for key, agent in instances.items():
                agents[f"{agent_type}/{key}"] = dict(await agent.save_state())
        queued = [
            codec.encode_publish(e[1], e[2], e[3], e[6] or self._next_message_id())
            for e in self._queue
            if e[0] == PUBLISH
        ]
        return codec.state(agents, codec.encode_subscriptions(self._router), queued)

    async def load_state(self, state: Mapping[str, Any]) -> None:
        """Restore state from :meth:`save_state` (or from an AutoGen-style ``{agent_id: state}`` dict).

        Agents of registered types are created and given their state; subscriptions missing from this
        runtime are added; saved queued messages are queued again.

        Raises:
            ValueError: the state is malformed or names a message type with no registered serializer.
        """
        codec = RuntimeStateCodec(self._serialization_registry)
        agents, subscriptions, queued = codec.decode(state)
        for agent_id_str, agent_state in agents.items():
            agent_id = AgentId.from_str(agent_id_str)
            if agent_id.type in self._instances:
                await (await self._agents.get(agent_id)).load_state(agent_state)
        existing = list(self._router)
        for subscription in subscriptions:
            if subscription not in existing:
                self._router.add(subscription)
        for message, sender, topic_id, message_id in queued:
            self._enqueue((PUBLISH, message, sender, topic_id, None, None, message_id))


def _resolve(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)
