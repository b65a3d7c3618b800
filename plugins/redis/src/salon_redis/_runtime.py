"""``RedisAgentRuntime``: the distributed runtime — workers that share a Redis server form one cluster."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import signal
import socket
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError, ResponseError

from salon import (
    TRACE_LOGGER_NAME,
    Agent,
    AgentId,
    AgentMetadata,
    AgentType,
    InterventionHandler,
    Subscription,
)
from salon._runtime_state import RuntimeStateCodec
from salon._runtime_stats import RuntimeStats
from salon.exceptions import NotAccessibleError, UndeliverableException

from ._runtime_control import RedisControl
from ._runtime_keys import GROUP, Keys, partition_of
from ._runtime_leases import Claimed, LeaseKeeper
from ._runtime_support import Started, connection_pool, mask_url, retrieve

__all__ = ["RedisAgentRuntime"]

T = TypeVar("T", bound=Agent)

_logger = logging.getLogger(TRACE_LOGGER_NAME)

_CLOSE_WAIT = 30.0
"""Seconds ``close()`` waits for running handlers and pending writes before it abandons them."""


class RedisAgentRuntime(RedisControl):
    """Hosts agents in this process as one worker of a cluster that shares a Redis server.

    Workers given the same ``url`` and ``namespace`` form one cluster: a message sent in any of them
    reaches the agent wherever it lives, publishes reach every subscribed agent in the cluster, and an
    agent type may be hosted by many workers (each ``AgentId`` is active on one of them at a time). The
    semantics are those of :class:`~salon.SingleThreadedAgentRuntime`; ``docs/distributed.md`` describes
    the design, the guarantees and where they differ.

    Args:
        url: The Redis server, as a redis-py URL (``redis://[[user]:password@]host[:port][/db]``,
            ``rediss://`` for TLS).
        namespace: Isolates one application (or tenant) from others on the same server.
        partitions: Partitions per agent type; the unit of placement. All workers must agree.
        lease_ms: How long a partition stays with a worker that stopped renewing (a dead one).
        worker_id: This worker's name in the cluster (default: host, pid and a random suffix).
        intervention_handlers: Run on the worker that handles each message.
        tracer_provider: Accepted for AutoGen compatibility; tracing is not implemented yet.
        ignore_unhandled_exceptions: If ``False``, an exception in a publish handler on this worker is
            re-raised by the next ``stop()``, ``stop_when_idle()`` or ``stop_when()``.
        checkpointed_types: Agent types whose ``save_state()`` is committed to Redis with every message
            they handled, and loaded by the next worker that hosts the agent (after a crash or a rebalance).
        rpc_timeout: Seconds ``send_message`` waits for a reply before it raises (``TimeoutError``, or
            ``UndeliverableException`` when no live worker hosts the recipient's type); ``None``: no limit.
        max_message_bytes: The largest serialized message (or result) a worker sends; larger ones are
            refused at the sender with a ``ValueError``.
        max_connections: Connections this worker opens at most; more concurrent calls wait for one.
        cancel_timeout: Seconds a cancelled RPC waits for the handling worker to confirm the cancellation.
        block_ms: Longest wait of one read; bounds how late a newly taken partition is first read.
    """

    def __init__(
        self,
        url: str = "redis://127.0.0.1:6379/0",
        *,
        namespace: str = "salon",
        partitions: int = 8,
        lease_ms: int = 5000,
        worker_id: str | None = None,
        intervention_handlers: list[InterventionHandler] | None = None,
        tracer_provider: Any = None,
        ignore_unhandled_exceptions: bool = True,
        checkpointed_types: Iterable[str] = (),
        rpc_timeout: float | None = None,
        max_message_bytes: int = 8 * 1024 * 1024,
        max_connections: int = 32,
        cancel_timeout: float = 2.0,
        block_ms: int = 100,
    ) -> None:
        if partitions < 1:
            raise ValueError(f"partitions must be at least 1, got {partitions}.")
        if lease_ms < 300:
            raise ValueError(f"lease_ms must be at least 300 (renewal runs every lease_ms / 3), got {lease_ms}.")
        keys = Keys(namespace)
        worker_id = worker_id or f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        if any(ch.isspace() for ch in worker_id) or ":" in worker_id:
            raise ValueError(f"Invalid worker_id {worker_id!r}: use letters, digits, '-', '_' or '.'.")
        pool, reply_timeout = connection_pool(url, max_connections)
        super().__init__(
            Redis.from_pool(pool),
            keys,
            worker_id,
            partitions,
            cancel_timeout,
            rpc_timeout,
            checkpointed_types=checkpointed_types,
            max_message_bytes=max_message_bytes,
            reply_timeout=reply_timeout,
            intervention_handlers=intervention_handlers,
            tracer_provider=tracer_provider,
            ignore_unhandled_exceptions=ignore_unhandled_exceptions,
        )
        self._url = url
        self._block_ms = block_ms
        self._reads_started = 0
        self._reads_finished = 0
        self._leases = LeaseKeeper(
            self._redis,
            keys,
            worker_id,
            partitions,
            lease_ms,
            self._on_claimed,
            self._read_mark,
            self._can_release,
            lambda agent_type, index: self._evict(agent_type, index, partitions),
            lambda stream, entry_id: (stream, entry_id) in self._taken,
        )
        self._pump: asyncio.Task[None] | None = None
        self._pumps: set[asyncio.Task[None]] = set()
        self._keeper: asyncio.Task[None] | None = None
        self._leaving: asyncio.Task[None] | None = None
        self._leave_started = False

    @property
    def worker_id(self) -> str:
        """This worker's name in the cluster (its consumer name and lease value in Redis)."""
        return self._worker_id

    def stats(self) -> RuntimeStats:
        """Counters of this worker; ``queued_messages`` includes messages waiting for ``start()``."""
        stats = super().stats()
        waiting = 0 if self._connected else sum(1 for kind, _, _ in self._writes if kind != "ack")
        return dataclasses.replace(stats, queued_messages=stats.queued_messages + waiting)

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> Started:  # type: ignore[override]
        """Join the cluster and start handling messages; await the result to wait until connected.

        Raises:
            RuntimeError: the runtime is already started, or no event loop is running.
        """
        super().start()
        loop = asyncio.get_running_loop()
        leaving = self._leaving
        if leaving is not None and not leaving.done() and not self._leave_started:
            leaving.cancel()  # still waiting for handlers: safe to cancel (no Redis call in flight)
        ready: asyncio.Future[None] = loop.create_future()
        ready.add_done_callback(retrieve)
        self._ready = ready
        self._pump = pump = loop.create_task(self._run(ready))
        self._pumps.add(pump)
        pump.add_done_callback(self._pumps.discard)
        return Started(ready)

    async def _run(self, ready: asyncio.Future[None]) -> None:
        try:
            if self._leaving is not None and not self._leaving.done():
                await asyncio.wait([self._leaving])  # giving the leases back: let it finish, then take them again
            await self._join()
            self._connected = True
            self._start_writer()  # what was queued before start()
        except Exception as e:
            _logger.error("Worker %s could not join the cluster: %s", self._worker_id, e)
            if not ready.done():
                ready.set_exception(e)
            return
        if not ready.done():
            ready.set_result(None)
        await self._read_forever()

    async def _join(self) -> None:
        try:
            try:
                await self._redis.ping()
            except RedisConnectionError:  # a pooled connection Redis closed (it restarted): the next one is new
                await self._redis.ping()
        except RedisError as e:
            raise ConnectionError(
                f"Cannot reach Redis at {mask_url(self._url)}: {str(e).rstrip('.')}. Check that the server runs "
                "and that the URL, user and password are right."
            ) from e
        for stream in [self._inbox]:
            try:
                await self._redis.xgroup_create(stream, GROUP, id="0", mkstream=True)
            except ResponseError as e:
                if "BUSYGROUP" not in str(e):
                    raise
        for agent_type in self._agents.type_names:
            self._leases.host(agent_type)
        self._leases.forget()
        await self._leases.tick()
        await self._routing.sync()
        if self._keeper is None or self._keeper.done():
            self._keeper = asyncio.get_running_loop().create_task(self._leases.run())

    def _read_mark(self) -> int:
        return self._reads_started

    def _can_release(self, stream: str, mark: int) -> bool:
        reads_done = not self._running or self._reads_finished >= mark
        unfinished = any(taken[0] == stream for taken in self._taken) or any(
            kind == "ack" and item[0] == stream for kind, item, _ in (*self._writes, *self._writing)
        )
        return reads_done and not unfinished

    def _on_claimed(self, claimed: list[Claimed]) -> None:
        for stream, entries in claimed:
            self._take(stream, [entry for entry in entries if (stream, entry[0]) not in self._taken])

    def _halt(self) -> None:
        self._forget_undispatched()
        if not self._connected:  # messages waiting for start() are discarded, as queued ones in-process
            for kind, _, future in self._writes:
                self._dropped += 1
                if kind == "send" and future is not None and not future.done():
                    future.set_exception(UndeliverableException("The runtime was stopped before the message was sent."))
            self._writes.clear()
        for future in self._calls.values():
            if not future.done():
                future.set_exception(
                    UndeliverableException(f"Worker {self._worker_id} was stopped before the reply arrived.")
                )
        super()._halt()
        self._pump = None  # the reader sees it and ends after its current read, which this entry wakes up
        if self._connected:
            self._spawn_helper(self._redis.xadd(self._inbox, {b"k": b"w"}))
        self._leave_started = False
        self._leaving = asyncio.ensure_future(self._leave_when_drained())

    async def _leave_when_drained(self) -> None:
        """Keep the leases while handlers started here finish, then give them back."""
        if not self._is_idle():
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._idle_waiters.append(waiter)
            await waiter
        self._leave_started = True
        try:
            await self._leases.leave()
        except RedisError as e:
            _logger.warning("Worker %s could not give its leases back (%s); they expire.", self._worker_id, e)
        if self._keeper is not None:  # after leave(): it is sleeping or idle now, never inside a Redis call
            self._keeper.cancel()
            self._keeper = None
        for agent_type in self._checkpointed:  # their state is in Redis: load it again when started again
            for index in range(self._partitions):
                self._evict(agent_type, index, self._partitions)

    async def stop_when_idle(self) -> None:
        """Wait until the whole cluster is idle, then stop this worker.

        Idle means: nothing queued or running here, no reply awaited here, and no message accepted
        anywhere in the cluster left unacknowledged.

        Raises:
            RuntimeError: the runtime is not started.
            Exception: an unhandled publish-handler error, with ``ignore_unhandled_exceptions=False``;
                the error that kept the runtime from joining the cluster.
        """
        if not self._running:
            raise RuntimeError("Runtime is not started.")
        assert self._ready is not None
        await asyncio.shield(self._ready)
        while self._running:
            if self._is_idle() and not self._calls:
                pending = int(await self._redis.get(self._keys.pending) or 0)
                if pending <= 0 and self._is_idle() and not self._calls:
                    break
            await asyncio.sleep(0.002)
        if self._running:
            self._halt()
        self._raise_background_exception()

    async def stop_when_signal(self, signals: Sequence[signal.Signals] = (signal.SIGTERM, signal.SIGINT)) -> None:
        """Wait for one of ``signals``, then stop (what a worker process does until it is told to end).

        Raises:
            RuntimeError: the runtime is not started.
        """
        if not self._running:
            raise RuntimeError("Runtime is not started.")
        loop = asyncio.get_running_loop()
        received = asyncio.Event()
        for sig in signals:
            loop.add_signal_handler(sig, received.set)
        try:
            await received.wait()
        finally:
            for sig in signals:
                loop.remove_signal_handler(sig)
        if self._running:
            await self.stop()

    async def close(self) -> None:
        """Stop if running, close every local agent, give the leases back and close the connection.

        Running handlers and pending writes get ``_CLOSE_WAIT`` seconds (Redis may be down); what is left
        then is abandoned: its entries stay pending and go to the next owner.
        """
        await super().close()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + _CLOSE_WAIT
        while True:  # a reader's last read may queue one more write: look again after each wait
            waiting = [t for t in (self._leaving, self._writer, *self._pumps, *self._helpers) if t and not t.done()]
            if not waiting or loop.time() >= deadline:
                break
            # Waited for, not cancelled: a Redis call cancelled in flight breaks its connection.
            await asyncio.wait(waiting, timeout=deadline - loop.time())
        self._connected = False
        for task in waiting:
            task.cancel()
        await self._writes_connection.close()
        await self._redis.aclose()

    # ------------------------------------------------------------------ registration and routing

    async def register_factory(
        self,
        type: str | AgentType,
        agent_factory: Callable[[], T | Awaitable[T]],
        *,
        expected_class: type[T] | None = None,
    ) -> AgentType:
        """Register a factory here and the type in the cluster; this worker competes for its partitions.

        Raises:
            ValueError: ``type`` is invalid or already registered on this worker.
        """
        agent_type = await super().register_factory(type, agent_factory, expected_class=expected_class)
        await self._host(agent_type.type)
        return agent_type

    async def register_agent_instance(self, agent_instance: Agent, agent_id: AgentId) -> AgentId:
        """Register an existing agent here; its type is registered in the cluster."""
        await super().register_agent_instance(agent_instance, agent_id)
        await self._host(agent_id.type)
        return agent_id

    async def _host(self, agent_type: str) -> None:
        await self._routing.register_type(agent_type)
        self._leases.host(agent_type)
        if self._connected:
            await self._leases.tick()

    async def get(
        self, id_or_type: AgentId | AgentType | str, /, key: str = "default", *, lazy: bool = True
    ) -> AgentId:
        """Return the id of agent ``(type, key)``; ``lazy=False`` creates it now, on whichever worker owns it.

        Raises:
            LookupError: no worker registered the type.
            Exception: with ``lazy=False``, what the agent's factory raised (as ``agent_metadata``).
        """
        if isinstance(id_or_type, AgentId):
            agent_id = id_or_type
        else:
            agent_id = AgentId(id_or_type.type if isinstance(id_or_type, AgentType) else id_or_type, key)
        if not await self._routing.has_type(agent_id.type):
            raise LookupError(await self._unknown_type(agent_id.type, "get"))
        if not lazy:
            await self.agent_metadata(agent_id)  # made where it lives: here, or on its owner
        return agent_id

    async def try_get_underlying_agent_instance(self, id: AgentId, type: type[T] = Agent) -> T:  # type: ignore[assignment]
        """Return the local agent object for ``id``, creating it here if this worker may host it.

        An object cannot cross processes: for an agent active on another worker, send it messages, or read
        and restore its state with :meth:`agent_save_state` / :meth:`agent_load_state` (which reach it there).

        Raises:
            LookupError: the agent type is unknown.
            NotAccessibleError: another worker owns the agent's partition; the agent lives there.
            TypeError: the agent is not an instance of ``type``.
        """
        await self._check_local(id)
        return await super().try_get_underlying_agent_instance(id, type)

    # agent_metadata, agent_save_state and agent_load_state: this worker's own instance when it owns the
    # agent's partition, else a control request through the partition's stream (see _runtime_control).
    # Each may raise LookupError (type unknown in the cluster), TimeoutError / UndeliverableException
    # (rpc_timeout), ValueError (a state that is not JSON data, across workers) and what the agent raised.

    async def agent_metadata(self, agent: AgentId) -> AgentMetadata:
        """The metadata of ``agent``, on whichever worker it is active (created there if needed)."""
        if await self._served_here(agent):
            return await super().agent_metadata(agent)
        metadata: AgentMetadata = await self._ask_owner(agent, "metadata")
        return metadata

    async def agent_save_state(self, agent: AgentId) -> Mapping[str, Any]:
        """The state of ``agent`` on whichever worker it is active, after the messages accepted for it before.

        Raises:
            LookupError: no worker registered the agent's type.
            ValueError: the agent is on another worker and its ``save_state()`` returned data that is not JSON.
            TimeoutError: no answer within ``rpc_timeout`` (``UndeliverableException``: no live worker hosts it).
            Exception: what the agent's ``save_state()`` or factory raised, with its type where importable here.
        """
        if await self._served_here(agent):
            return await super().agent_save_state(agent)
        state: Mapping[str, Any] = await self._ask_owner(agent, "save")
        return state

    async def agent_load_state(self, agent: AgentId, state: Mapping[str, Any]) -> None:
        """Restore ``agent``'s state on whichever worker it is active (a checkpointed agent's checkpoint too).

        Raises:
            LookupError: no worker registered the agent's type.
            ValueError: the agent is on another worker and ``state`` is not JSON data, or is too large.
            TimeoutError: no answer within ``rpc_timeout`` (``UndeliverableException``: no live worker hosts it).
            Exception: what the agent's ``load_state()`` or factory raised.
        """
        if await self._served_here(agent):
            await super().agent_load_state(agent, state)
            return
        await self._ask_owner(agent, "load", state)

    async def _check_local(self, agent_id: AgentId) -> None:
        """Refuse to make a second instance of an agent that is active on another worker."""
        index = partition_of(agent_id.key, self._partitions)
        if agent_id.type not in self._instances or self._leases.owns(agent_id.type, index):
            return
        owner = await self._lease_owner(agent_id)
        if owner is not None and owner != self._worker_id:
            raise NotAccessibleError(
                f"Agent {agent_id} is active on worker {owner!r}, not on this one ({self._worker_id!r}), and an "
                "agent object cannot cross processes. Reach it with send_message, or read and restore its state "
                "with agent_save_state / agent_load_state, which work from any worker."
            )

    async def add_subscription(self, subscription: Subscription) -> None:
        """Add a subscription for the whole cluster (custom subscription classes: for this worker only).

        Raises:
            ValueError: this worker added an equal subscription already.
        """
        await self._routing.add(subscription)

    async def remove_subscription(self, id: str) -> None:
        """Remove the subscription with ``id`` from the cluster.

        Raises:
            LookupError: no subscription has that id.
        """
        await self._routing.remove(id)

    # ------------------------------------------------------------------ state

    async def save_state(self) -> Mapping[str, Any]:
        """Return this worker's agents' states, the cluster's subscriptions and messages waiting for ``start()``.

        Raises:
            ValueError: a waiting message has no registered serializer.
        """
        codec = RuntimeStateCodec(self._serialization_registry)
        agents: dict[str, Any] = {}
        for agent_type, instances in self._instances.items():
            for key, agent in instances.items():
                agents[f"{agent_type}/{key}"] = dict(await agent.save_state())
        queued = [
            codec.encode_publish(item[0], item[1], item[2], item[3])
            for kind, item, _ in self._writes
            if kind == "publish"
        ]
        return codec.state(agents, codec.encode_subscriptions(self._router), queued)

    async def load_state(self, state: Mapping[str, Any]) -> None:
        """Restore state from :meth:`save_state` (or an AutoGen-style ``{agent_id: state}`` mapping).

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
                await self._routing.add(subscription)
        for message, sender, topic_id, message_id in queued:
            await self.publish_message(message, topic_id, sender=sender, message_id=message_id)
