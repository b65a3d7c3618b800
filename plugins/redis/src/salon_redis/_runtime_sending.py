"""The sending half of the Redis runtime: ``send_message`` and ``publish_message`` become stream entries.

A send is one entry in the recipient's partition plus a waiting future keyed by a request id; the reply
comes back through this worker's inbox. A publish becomes one entry per recipient, resolved from the
cluster's subscription table when it is written. Both go through the ordered writer of
:class:`~salon_redis._runtime_delivery.RedisDelivery`.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import time
from collections.abc import Awaitable, Callable
from json.encoder import encode_basestring_ascii as _json_str  # what json.dumps does to one string
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from salon import EVENT_LOGGER_NAME, AgentId, CancellationToken, TopicId
from salon._message_handler_context import _HANDLING_AGENT
from salon.exceptions import UndeliverableException
from salon.logging import DeliveryStage, MessageEvent, MessageKind

from ._runtime_checkpoints import RedisCheckpoints
from ._runtime_keys import Keys, partition_of
from ._runtime_routing import ClusterRouting
from ._runtime_wire import encode_message

__all__ = ["RedisSending"]

_event_logger = logging.getLogger(EVENT_LOGGER_NAME)

Turn = tuple["asyncio.Future[None]", "asyncio.Future[None] | None"]
"""A call's place in line (see ``RedisSending._take_turn``): its own future and the previous call's."""

_PIPELINED = 1024
"""Writes queued at most before a publish from outside a handler waits for its own write."""


class RedisSending(RedisCheckpoints):
    """Turns sends and publishes into stream entries, and cancellations into cancel entries.

    Args:
        redis: The runtime's client.
        keys: The namespace's key names.
        worker_id: This worker's id.
        partitions: Partitions per agent type.
        cancel_timeout: Seconds a cancelled RPC waits for the handling worker to confirm.
        rpc_timeout: Seconds ``send_message`` waits for a reply (``None``: no limit, as in-process).
        **options: The options of the layers below (checkpointed types, the in-process runtime's).
    """

    def __init__(
        self,
        redis: Redis,
        keys: Keys,
        worker_id: str,
        partitions: int,
        cancel_timeout: float,
        rpc_timeout: float | None,
        **options: Any,
    ) -> None:
        super().__init__(redis, keys, worker_id, **options)
        self._rpc_timeout = rpc_timeout
        self._partitions = partitions
        self._cancel_timeout = cancel_timeout
        self._routing = ClusterRouting(redis, keys, self._router)
        self._request_ids = itertools.count(1)
        self._ready: asyncio.Future[None] | None = None
        self._helpers: set[asyncio.Task[Any]] = set()
        self._last_turn: asyncio.Future[None] | None = None
        self._targets_made: dict[tuple[str, int], tuple[str, str]] = {}  # bounded: agent types x partitions

    @property
    def namespace(self) -> str:
        """The namespace this worker's cluster lives in."""
        return self._keys.namespace

    async def send_message(
        self,
        message: Any,
        recipient: AgentId,
        *,
        sender: AgentId | None = None,
        cancellation_token: CancellationToken | None = None,
        message_id: str | None = None,
    ) -> Any:
        """Deliver ``message`` to ``recipient``, on whichever worker hosts it, and return the response.

        Raises:
            LookupError: no worker ever registered ``recipient.type`` (raised at once).
            ValueError: the message's type cannot be serialized.
            CantHandleException: the recipient has no handler that accepts the message.
            MessageDroppedException: an intervention handler dropped the message.
            asyncio.CancelledError: ``cancellation_token`` was cancelled.
            UndeliverableException: this runtime was stopped before the reply came.
            Exception: whatever the handler raised, with its type where importable here, else
                :class:`~salon.exceptions.RemoteException`.
        """
        self._raise_if_failed()
        turn = await self._turn_for(recipient.type, f"send {type(message).__name__} to")
        try:
            token = cancellation_token or CancellationToken()
            if token.is_cancelled():
                raise asyncio.CancelledError()
            message_id = message_id or self._next_message_id()
            type_name, content_type, payload = self._check_size(encode_message(self._serialization_registry, message))
            if _event_logger.isEnabledFor(logging.INFO):
                _log_sent(message, sender, recipient, MessageKind.DIRECT)
            sender_text = "" if sender is None else str(sender)
            head = ["s", message_id, recipient.type, recipient.key, sender_text, type_name, content_type]
            request_id, stream, future = self._queue_call(recipient, head, payload)
        finally:
            if turn is not None:
                self._end_turn(turn)
        token.add_callback(lambda: self._cancel_call(request_id, stream, future))
        # Giving up (cancelled, or rpc_timeout) tells the handler, through its token.
        result = await self._await_reply(request_id, future, recipient, type(message).__name__, token.cancel)
        if token.is_cancelled():
            raise asyncio.CancelledError()
        return result

    async def _turn_for(self, agent_type: str, action: str) -> Turn | None:
        """Wait until a call to ``agent_type`` may queue its entry; the caller ends the turn it returns.

        The type is looked up in Redis unless it is known here; while that lookup (or an earlier call's) is
        in flight, calls take turns, so entries are queued in the order the calls were made.

        Raises:
            LookupError: no worker ever registered ``agent_type`` (``action`` says what was tried).
        """
        turn = None
        if agent_type not in self._routing.types or self._last_turn is not None:
            turn = self._take_turn()
        try:
            if not await self._routing.has_type(agent_type):
                raise LookupError(await self._unknown_type(agent_type, action))
            if turn is not None and turn[1] is not None:
                await turn[1]
        except BaseException:
            if turn is not None:
                self._end_turn(turn)
            raise
        return turn

    async def _await_reply(
        self,
        request_id: str,
        future: asyncio.Future[Any],
        recipient: AgentId,
        what: str,
        give_up: Callable[[], object],
    ) -> Any:
        """The reply to a queued call, within ``rpc_timeout``; ``give_up`` runs when the caller stops waiting.

        Raises:
            TimeoutError: no reply within ``rpc_timeout`` (``UndeliverableException``: no live worker hosts
                the type); a ``TimeoutError`` the handler raised itself comes through as it is.
            asyncio.CancelledError: the caller was cancelled.
        """
        try:
            if self._rpc_timeout is None:
                return await future
            return await asyncio.wait_for(asyncio.shield(future), self._rpc_timeout)
        except asyncio.CancelledError:
            give_up()
            raise
        except TimeoutError:
            if future.done():
                raise  # the handler's own TimeoutError, not rpc_timeout
            give_up()
            raise await self._timeout_error(recipient, what) from None
        finally:
            self._calls.pop(request_id, None)

    def _take_turn(self) -> Turn:
        """A place in line for a send or publish that must await something before it is queued.

        Messages are queued for Redis in the order ``send_message`` and ``publish_message`` were called,
        as in-process: a send whose recipient type must first be looked up in Redis, and every call made
        while it waits, queue only after the calls before them. Returns this call's turn and the previous one.
        """
        mine: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        previous, self._last_turn = self._last_turn, mine
        return mine, previous

    def _end_turn(self, turn: Turn) -> None:
        mine, previous = turn
        if self._last_turn is mine:
            self._last_turn = None
        if previous is not None and not previous.done():  # left early (cancelled): keep the line's order
            previous.add_done_callback(lambda _: _settle(mine))
        elif not mine.done():
            mine.set_result(None)

    def _queue_call(self, recipient: AgentId, head: list[str], payload: bytes) -> tuple[str, str, asyncio.Future[Any]]:
        """Queue an entry that expects a reply (an RPC, a control request) in ``recipient``'s partition.

        Its header is ``head`` followed by the request id and this worker's inbox. Returns the request id,
        the stream and the future the reply resolves.
        """
        request_id = f"{self._worker_id}/{next(self._request_ids)}"
        stream = self._keys.partition(recipient.type, partition_of(recipient.key, self._partitions))
        header = json.dumps([*head, request_id, self._inbox]).encode()
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._calls[request_id] = future
        self._write(("send", (stream, header, payload), future))
        return request_id, stream, future

    def _unqueue(self, future: asyncio.Future[Any]) -> bool:
        """Take a call's entry out of the write queue if it is still there (cancelling its future)."""
        for op in self._writes:
            if op[0] == "send" and op[2] is future:
                self._writes.remove(op)
                future.cancel()
                return True
        return False

    async def _timeout_error(self, recipient: AgentId, what: str) -> Exception:
        hosts = self._keys.hosts(recipient.type)
        try:
            alive = await self._redis.zcount(hosts, int(time.time() * 1000), "+inf")
        except RedisError:
            alive = -1
        if alive == 0:
            return UndeliverableException(
                f"No reply from {recipient} within rpc_timeout={self._rpc_timeout}s: agent type {recipient.type!r} "
                f"is registered in namespace {self.namespace!r}, but no live worker hosts it now. Start a worker "
                "that registers it; the message stays queued for it, but this call has given up."
            )
        return TimeoutError(
            f"No reply from {recipient} to {what} within rpc_timeout={self._rpc_timeout}s "
            f"({alive if alive >= 0 else 'an unknown number of'} live workers host {recipient.type!r})."
        )

    async def publish_message(
        self,
        message: Any,
        topic_id: TopicId,
        *,
        sender: AgentId | None = None,
        cancellation_token: CancellationToken | None = None,
        message_id: str | None = None,
    ) -> None:
        """Deliver ``message`` to every agent of the cluster subscribed to ``topic_id`` (except ``sender``).

        Returns once the message is stored in Redis for every recipient (or queued here until
        ``start()``). Recipients are fixed when the message is published.

        ``cancellation_token`` reaches the handlers as in-process, where they share the publisher's token:
        a token cancelled before the message is written to Redis (already when this is called, or while
        the message waits in this worker's write queue) is delivered cancelled, so every recipient's
        ``ctx.cancellation_token.is_cancelled()`` is true, and what a handler links to it (a model call)
        is cancelled at once. A token cancelled after the write does not reach handlers on other workers.

        Raises:
            ValueError: the message's type cannot be serialized.
        """
        self._raise_if_failed()
        message_id = message_id or self._next_message_id()
        encoded = self._check_size(encode_message(self._serialization_registry, message))
        if _event_logger.isEnabledFor(logging.INFO):
            _log_sent(message, sender, topic_id, MessageKind.PUBLISH)
        item = (message, sender, topic_id, message_id, encoded, cancellation_token)
        if self._last_turn is not None:  # a send before this one waits for a lookup: queue after it
            turn = self._take_turn()
            try:
                if turn[1] is not None:
                    await turn[1]
                self._write(("publish", item, None))
            finally:
                self._end_turn(turn)
            return
        if not self._connected or _HANDLING_AGENT.get(None) is not None:
            # Before start(): queued here. From a handler: written before that handler's own message is
            # acknowledged (same ordered writer), so returning at once loses nothing and never recurses.
            self._write(("publish", item, None))
            return
        if self._may_pipeline():
            # Pipelined while Redis answers: the batch after the one in flight carries it. One turn of the
            # loop still, so a loop of publishes lets the writer, the reader and other tasks run.
            self._write(("publish", item, None))
            await asyncio.sleep(0)
            return
        written: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._write(("publish", item, written))
        await written

    def _may_pipeline(self) -> bool:
        """Whether a publish from outside a handler may return before it is written.

        While the last write succeeded and fewer than ``_PIPELINED`` operations wait for the writer, a
        publish returns once it is in the ordered writer, as AutoGen's worker returns once its message is
        on the wire: consecutive publishes then share one transaction instead of a round trip each. Past
        the window, or while Redis does not answer, the caller waits for the write (backpressure; the
        connection error reaches it).
        """
        return not self._write_failed and len(self._writes) < _PIPELINED

    async def _sync_routing(self) -> None:
        await self._routing.sync()

    def _routing_version(self) -> bytes:
        return self._routing.version

    def _publish_entries(self, item: Any) -> list[tuple[str, bytes, bytes]]:
        _, sender, topic_id, message_id, (type_name, content_type, payload), token = item
        types = self._routing.types
        sender_text = "" if sender is None else str(sender)
        # The header is the same JSON list for every recipient but for its type and key: encode the rest once.
        # Kind "P": published with a token cancelled before this write; the recipients' tokens start cancelled.
        kind = "P" if token is not None and token.is_cancelled() else "p"
        head = json.dumps([kind, message_id])[:-1]
        tail = json.dumps([sender_text, type_name, content_type, topic_id.type, topic_id.source])[1:]
        entries: list[tuple[str, bytes, bytes]] = []
        # Type subscriptions key every recipient by the topic's source: one key, one partition for all of them.
        key = topic_id.source
        key_json = _json_str(key)
        index = partition_of(key, self._partitions)
        reached: list[str] = []
        for agent_type in self._router.agent_types_for(topic_id.type):
            if agent_type not in types or (sender is not None and sender.key == key and sender.type == agent_type):
                continue
            stream, type_json = self._partition_target(agent_type, index)
            entries.append((stream, f"{head}, {type_json}, {key_json}, {tail}".encode(), payload))
            reached.append(agent_type)
        for recipient in self._router.custom_recipients(topic_id):
            if (
                recipient == sender
                or recipient.type not in types
                or (recipient.key == key and recipient.type in reached)
            ):
                continue
            stream, type_json = self._partition_target(recipient.type, partition_of(recipient.key, self._partitions))
            entries.append((stream, f"{head}, {type_json}, {_json_str(recipient.key)}, {tail}".encode(), payload))
        return entries

    def _partition_target(self, agent_type: str, index: int) -> tuple[str, str]:
        """The stream of a partition and the agent type as JSON, made once per partition."""
        found = self._targets_made.get((agent_type, index))
        if found is None:
            found = self._targets_made[(agent_type, index)] = (
                self._keys.partition(agent_type, index),
                _json_str(agent_type),
            )
        return found

    def _cancel_call(self, request_id: str, stream: str, future: asyncio.Future[Any]) -> None:
        if self._unqueue(future):  # never left this process: nothing to tell anyone
            return
        if request_id in self._calls:
            self._spawn_helper(self._send_cancel(request_id, stream, future))

    async def _send_cancel(self, request_id: str, stream: str, future: asyncio.Future[Any]) -> None:
        """Tell the handling worker, then wait (bounded) for it to confirm, so its token is cancelled first."""
        try:
            written: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
            self._write(("cancel", (stream, json.dumps(["c", request_id]).encode()), written))
            await written
            if not future.done():
                await asyncio.wait_for(asyncio.shield(future), self._cancel_timeout)
        except (RedisError, TimeoutError, asyncio.CancelledError, Exception):
            pass
        if not future.done():
            future.cancel()

    def _spawn_helper(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._helpers.add(task)
        task.add_done_callback(self._helpers.discard)

    async def _unknown_type(self, agent_type: str, action: str) -> str:
        try:
            known = ", ".join(map(repr, await self._routing.type_names())) or "none"
        except RedisError:
            known = "unknown (Redis did not answer)"
        return (
            f"Cannot {action} agent type {agent_type!r}: no worker of namespace {self.namespace!r} registered it "
            f"(registered: {known}). Register it on some worker first, e.g. "
            f"`await MyAgent.register(runtime, {agent_type!r}, factory)`."
        )

    def _raise_if_failed(self) -> None:
        ready = self._ready
        if ready is not None and ready.done() and not ready.cancelled() and ready.exception() is not None:
            raise ready.exception()  # type: ignore[misc]


def _settle(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _log_sent(message: Any, sender: AgentId | None, receiver: AgentId | TopicId, kind: MessageKind) -> None:
    """The structured event of a message leaving this worker (as the in-process runtime logs it)."""
    _event_logger.info(
        MessageEvent(payload=message, sender=sender, receiver=receiver, kind=kind, delivery_stage=DeliveryStage.SEND)
    )
