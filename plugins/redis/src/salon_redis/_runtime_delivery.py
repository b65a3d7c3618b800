"""The receiving half of the Redis runtime: entries read from streams become local deliveries, and back.

This layer sits between Redis and the kernel's dispatcher. Entries read from the partitions this worker
owns are turned into the same envelopes the in-process runtime queues, so handler choice, interventions,
eager start, sequential agents and handler tasks behave exactly as in-process. When a delivery is over,
the reply (for an RPC) and the acknowledgement go back to Redis together, in batches.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import deque
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from salon import TRACE_LOGGER_NAME, AgentId, CancellationToken, MessageContext, SingleThreadedAgentRuntime, TopicId
from salon._message_dispatcher import PUBLISH, SEND, Envelope
from salon.exceptions import MessageDroppedException

from ._runtime_keys import Keys
from ._runtime_scripts import BATCH, STALE
from ._runtime_wire import decode_error, decode_value, encode_error, encode_value

__all__ = ["RedisDelivery", "Received"]

_logger = logging.getLogger(TRACE_LOGGER_NAME)

INBOX_MAXLEN = 100_000
"""Replies kept at most in one worker's inbox (approximate trim, in the ``BATCH`` script); a live worker keeps it
near empty."""

_ID_CACHE = 65_536
"""Recipient ids (and topic ids) kept for reuse; the caches start over when they reach this size."""

_STALE_RETRIES = 5
"""Times a batch of publishes is resolved again when the cluster's subscriptions changed meanwhile."""


@dataclass(slots=True)
class Received:
    """Where a delivery came from, to acknowledge it (and answer it, for an RPC) when it is done."""

    stream: str
    entry_id: bytes
    recipient: AgentId
    message: Any
    request_id: str | None = None
    reply_to: str | None = None


Write = tuple[str, Any, "asyncio.Future[Any] | None"]
"""A queued write: ``(kind, item, future)``. Kinds: ``"send"`` (item: stream, header, payload),
``"publish"`` (item: the publish, resolved to recipients when written), ``"cancel"`` (item: stream and
header), ``"ack"`` (item: stream, entry id, whether it is counted in ``pending``, optional reply
(inbox, header, payload), optional checkpoint key and state). The future learns the write's outcome.

Entries have two fields: ``h``, a JSON list (the kind first: ``s`` send, ``p`` publish, ``c`` cancel;
replies ``o`` result, ``e`` error, ``x`` cancelled), and ``d``, the serialized message or result."""

Reply = tuple[str, bytes, bytes]
"""A reply to write: the caller's inbox, the entry's header and its payload."""


class RedisDelivery(SingleThreadedAgentRuntime):
    """The in-process dispatcher, fed from Redis streams instead of ``send_message``'s queue.

    Args:
        redis: The runtime's client.
        keys: The namespace's key names.
        worker_id: This worker's id.
        max_message_bytes: The largest serialized message or result this worker sends.
        **options: The in-process runtime's options (interventions, ``ignore_unhandled_exceptions``).
    """

    def __init__(self, redis: Redis, keys: Keys, worker_id: str, max_message_bytes: int, **options: Any) -> None:
        super().__init__(**options)
        self._max_message_bytes = max_message_bytes
        self._redis = redis
        self._writes_client = redis.client()  # the writer's own connection: no pool checkout per batch
        self._keys = keys
        self._worker_id = worker_id
        self._inbox = keys.inbox(worker_id)
        self._calls: dict[str, asyncio.Future[Any]] = {}
        self._remote: dict[asyncio.Future[Any], Received] = {}
        self._remote_tokens: dict[str, CancellationToken] = {}
        self._targets: dict[asyncio.Future[Any], AgentId] = {}
        self._taken: set[tuple[str, bytes]] = set()
        self._writes: list[Write] = []
        self._writer: asyncio.Task[None] | None = None
        self._writing: list[Write] = []  # the batch being written now
        self._write_failed = False  # the last batch failed: Redis does not answer now
        self._agent_ids: dict[tuple[str, str], AgentId] = {}  # immutable, so shared by the messages to one agent
        self._topic_ids: dict[tuple[str, str], TopicId] = {}
        self._connected = False

    # ------------------------------------------------------------------ entries from Redis

    def _take(self, stream: str, entries: list[tuple[bytes, dict[bytes, bytes]]]) -> None:
        """Hand entries read from ``stream`` to the dispatcher (requests) or to waiting callers (replies)."""
        if stream == self._inbox:
            for entry_id, fields in entries:
                self._on_reply(fields)
                self._queue_ack(stream, entry_id, False, None)
            return
        self._take_requests([(stream, entry_id, fields) for entry_id, fields in entries])

    def _take_requests(self, entries: list[tuple[str, bytes, dict[bytes, bytes]]]) -> None:
        """Dispatch requests read from partition streams, in the order they were accepted (their ids)."""
        entries.sort(key=_sequence)
        for stream, entry_id, fields in entries:
            try:
                self._on_request(stream, entry_id, fields)
            except Exception:  # a malformed entry must not stop the reader
                _logger.exception("Could not read entry %s of %s; it is acknowledged and skipped.", entry_id, stream)
                self._queue_ack(stream, entry_id, True, None)

    def _on_request(self, stream: str, entry_id: bytes, fields: dict[bytes, bytes]) -> None:
        header = json.loads(fields[b"h"])
        kind = header[0]
        if kind == "c":  # cancel an RPC; it follows its request in the same stream
            token = self._remote_tokens.get(header[1])
            if token is not None:
                token.cancel()
            self._queue_ack(stream, entry_id, False, None)
            return
        if (stream, entry_id) in self._taken:
            return  # claimed again while this worker still handles it
        _, message_id, agent_type, agent_key, sender_text, type_name, content_type, extra1, extra2 = header
        recipient = self._agent_id(agent_type, agent_key)
        sender = AgentId.from_str(sender_text) if sender_text else None
        is_rpc = kind == "s"
        received = Received(stream, entry_id, recipient, None)
        if is_rpc:
            received.request_id, received.reply_to = extra1, extra2
        try:
            message = self._serialization_registry.deserialize(
                fields[b"d"], type_name=type_name, data_content_type=content_type
            )
        except ValueError as e:
            _logger.error("Worker %s cannot read a message for %s: %s", self._worker_id, recipient, e)
            self._failed += 1
            self._queue_ack(stream, entry_id, True, self._reply_fields(received, error=e))
            return
        received.message = message
        loop = self._loop or asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._remote[future] = received
        self._taken.add((stream, entry_id))
        future.add_done_callback(self._on_delivered)
        token = CancellationToken()
        if is_rpc:
            token.link_future(future)
            self._remote_tokens[extra1] = token
            self._enqueue((SEND, message, sender, recipient, future, token, message_id))
        else:
            self._targets[future] = recipient
            topic_id = self._topic_ids.get((extra1, extra2))
            if topic_id is None:
                topic_id = self._topic_ids[(extra1, extra2)] = TopicId(extra1, extra2)
            self._enqueue((PUBLISH, message, sender, topic_id, future, token, message_id))

    def _agent_id(self, agent_type: str, agent_key: str) -> AgentId:
        """The recipient's id, made (and validated) once per agent rather than once per message."""
        found = self._agent_ids.get((agent_type, agent_key))
        if found is None:
            if len(self._agent_ids) >= _ID_CACHE:
                self._agent_ids.clear()
                self._topic_ids.clear()
            found = self._agent_ids[(agent_type, agent_key)] = AgentId(agent_type, agent_key)
        return found

    def _on_reply(self, fields: dict[bytes, bytes]) -> None:
        raw = fields.get(b"h")
        if raw is None:
            return  # only wakes the reader up
        kind, request_id, *described = json.loads(raw)
        future = self._calls.get(request_id)
        if future is None or future.done():
            return  # the caller gave up already
        if kind == "o":
            try:
                future.set_result(decode_value(self._serialization_registry, (described, fields.get(b"d", b""))))
            except ValueError as e:
                future.set_exception(e)
        elif kind == "e":
            future.set_exception(decode_error(fields[b"d"]))
        else:
            future.cancel()

    def _check_size(self, encoded: tuple[str, str, bytes]) -> tuple[str, str, bytes]:
        """Refuse a payload over the limit at the sender, before anything is written.

        Raises:
            ValueError: the payload is larger than ``max_message_bytes``.
        """
        size = len(encoded[2])
        if size > self._max_message_bytes:
            raise ValueError(
                f"The {encoded[0]} is {size} bytes serialized, over max_message_bytes={self._max_message_bytes}. "
                "Send a reference to the data (a key, a path, a URL) instead, or raise max_message_bytes."
            )
        return encoded

    # ------------------------------------------------------------------ the dispatcher, for one recipient

    def _dispatch_publish(self, envelope: Envelope) -> None:
        future = envelope[4]
        recipient = self._targets.pop(future, None) if future is not None else None
        if recipient is None:
            super()._dispatch_publish(envelope)
            return
        _, message, sender, topic_id, _, token, message_id = envelope
        assert token is not None and message_id is not None
        ctx = MessageContext(sender, topic_id, False, token, message_id)
        agents = self._instances.get(recipient.type)
        if agents is None:
            raise LookupError(f"Worker {self._worker_id} owns a partition of {recipient.type!r} but does not host it.")
        agent = agents.get(recipient.key)
        if agent is None:
            self._deliver_to_new_agent(recipient, message, ctx, future)
        else:
            self._deliver(agent, message, ctx, future)

    def _finish(
        self,
        agent: Any,
        message: Any,
        ctx: MessageContext,
        future: asyncio.Future[Any] | None,
        result: Any,
        error: BaseException | None,
        handler: Any,
    ) -> None:
        if future is not None and not ctx.is_rpc:
            # A publish delivered from Redis: count and report it as a publish, then let it be acknowledged.
            super()._finish(agent, message, ctx, None, result, error, handler)
            if not future.done():
                future.set_result(None)
            return
        super()._finish(agent, message, ctx, future, result, error, handler)

    def _on_delivered(self, future: asyncio.Future[Any]) -> None:
        received = self._remote.pop(future, None)
        if received is None:
            return  # dropped by stop(): the entry stays pending in Redis for redelivery
        self._targets.pop(future, None)  # (stream, entry id) stays taken until its acknowledgement is written
        if received.request_id is not None:
            self._remote_tokens.pop(received.request_id, None)
            if future.cancelled():
                reply = self._reply_fields(received, cancelled=True)
            elif future.exception() is not None:
                reply = self._reply_fields(received, error=future.exception())
            else:
                reply = self._reply_fields(received, result=future.result())
            self._complete(received, reply)
            return
        if not future.cancelled():
            error = future.exception()
            if error is not None and not isinstance(error, MessageDroppedException):
                self._report_publish_error(received.recipient, received.message, error)
        self._complete(received, None)

    def _complete(self, received: Received, reply: Reply | None) -> None:
        """Acknowledge a finished delivery (with its reply); a subclass may checkpoint the agent first."""
        self._queue_ack(received.stream, received.entry_id, True, reply)

    def _reply_fields(
        self, received: Received, *, result: Any = None, error: BaseException | None = None, cancelled: bool = False
    ) -> Reply | None:
        if received.request_id is None or received.reply_to is None:
            return None
        if cancelled:
            return received.reply_to, json.dumps(["x", received.request_id]).encode(), b""
        if error is None:
            try:
                described, payload = encode_value(self._serialization_registry, result)
                self._check_size(("result", "", payload))
                return received.reply_to, json.dumps(["o", received.request_id, *described]).encode(), payload
            except ValueError as e:
                error = e
        return received.reply_to, json.dumps(["e", received.request_id]).encode(), encode_error(error)

    # ------------------------------------------------------------------ the writer

    def _queue_ack(
        self,
        stream: str,
        entry_id: bytes,
        counted: bool,
        reply: Reply | None,
        checkpoint: tuple[str, bytes] | None = None,
    ) -> None:
        self._write(("ack", (stream, entry_id, counted, reply, checkpoint), None))

    def _write(self, op: Write) -> None:
        """Queue a write; one task writes everything queued meanwhile in one transaction, in order.

        Keeping one ordered queue is what makes a handler's publishes reach Redis no later than the
        acknowledgement of the message that handler was handling: a crash in between redelivers the
        message instead of losing what it published.
        """
        self._writes.append(op)
        if self._writer is None and self._connected:
            loop = self._loop or asyncio.get_running_loop()
            self._writer = loop.create_task(self._flush_writes())

    async def _flush_writes(self) -> None:
        retry_delay = 0.05
        try:
            while self._writes and self._connected:
                batch, self._writes = self._writes, []
                self._writing = batch
                try:
                    await self._write_batch(batch)
                except (RedisError, ValueError) as e:
                    self._write_failed = isinstance(e, RedisError)
                    self._writes[:0] = self._after_failed_write(batch, e)
                    if self._writes:  # Redis is down or restarting: try again, a little later each time
                        await asyncio.sleep(retry_delay)
                        retry_delay = min(retry_delay * 2, 2.0)
                    continue
                finally:
                    self._writing = []
                retry_delay = 0.05
                self._write_failed = False
                for kind, item, future in batch:
                    if kind == "ack":
                        self._taken.discard((item[0], item[1]))
                    elif kind != "send" and future is not None and not future.done():
                        future.set_result(None)  # a send's future is its caller's, resolved by the reply
        finally:
            self._writing = []
            self._writer = None
            self._check_progress()

    def _after_failed_write(self, batch: list[Write], error: Exception) -> list[Write]:
        """Fail what a caller waits for (it was not accepted); return what must be written anyway, to retry.

        Acknowledgements, cancellations, the publishes of handlers and pipelined publishes were accepted
        already (their call returned): they are kept and written once Redis answers again.
        """
        _logger.error("Worker %s could not write %d operations: %s", self._worker_id, len(batch), error, exc_info=error)
        retry: list[Write] = []
        for op in batch:
            kind, _, future = op
            if kind in ("send", "publish") and future is not None:
                if not future.done():
                    future.set_exception(error)
            elif not isinstance(error, ValueError) or kind == "ack":
                retry.append(op)
        return retry

    async def _write_batch(self, batch: list[Write]) -> None:
        """Write the batch with one :data:`BATCH` script: one command, one round trip, all or nothing.

        Publishes are resolved against this worker's copy of the routing table; the script refuses the
        batch when the cluster's routing version moved since, and it is resolved again after a reload.
        """
        has_publish = any(kind == "publish" for kind, _, _ in batch)
        for _ in range(_STALE_RETRIES):
            keys, args = self._batch_args(batch, has_publish)
            if await self._writes_client.eval(BATCH, len(keys), *keys, *args) != STALE:
                return
            await self._sync_routing()
        raise ValueError("The cluster's subscriptions kept changing while a batch of publishes was written.")

    def _batch_args(self, batch: list[Write], has_publish: bool) -> tuple[list[str | bytes], list[str | bytes]]:
        key_index: dict[str | bytes, bytes] = {}
        keys: list[str | bytes] = [self._keys.sequence, self._keys.pending, self._keys.version]

        def index(key: str | bytes) -> bytes:
            found = key_index.get(key)
            if found is None:
                keys.append(key)
                found = key_index[key] = str(len(keys)).encode()
            return found

        ops: list[str | bytes] = []
        adds = 0
        for kind, item, _ in batch:
            if kind == "ack":
                stream, entry_id, is_counted, reply, checkpoint = item
                if checkpoint is not None:  # the agent's state after this message, committed with its ack
                    ops += (b"S" + index(checkpoint[0]), checkpoint[1])
                if reply is not None:
                    ops += (b"R" + index(reply[0]), reply[1], reply[2])
                ops += ((b"K" if is_counted else b"k") + index(stream), entry_id)
            elif kind == "cancel":
                adds += 1
                ops += (b"C" + index(item[0]), item[1])
            else:
                for stream, header, payload in [item] if kind == "send" else self._publish_entries(item):
                    adds += 1
                    ops += (b"A" + index(stream), header, payload)
        check = self._routing_version() if has_publish else b""
        return keys, [check, str(adds).encode(), *ops]

    def _routing_version(self) -> bytes:
        """``b"v" + version`` of the routing table publishes are resolved against (the runtime provides it)."""
        raise NotImplementedError

    async def _sync_routing(self) -> None:
        """Bring the routing table up to date before publishes are resolved (the runtime provides it)."""
        raise NotImplementedError

    def _publish_entries(self, item: Any) -> list[tuple[str, bytes, bytes]]:
        """The stream entries of one publish, one per recipient (the runtime provides it)."""
        raise NotImplementedError

    # ------------------------------------------------------------------ stop and idleness

    def _forget_undispatched(self) -> None:
        """Leave entries read but not yet dispatched pending in Redis, instead of failing them at stop."""
        kept: deque[Envelope] = deque()
        for envelope in self._queue:
            future = envelope[4]
            received = self._remote.pop(future, None) if future is not None else None
            if received is None:
                kept.append(envelope)
                continue
            self._taken.discard((received.stream, received.entry_id))
            self._targets.pop(future, None)  # type: ignore[arg-type]
            if received.request_id is not None:
                self._remote_tokens.pop(received.request_id, None)
        self._queue.clear()
        self._queue.extend(kept)

    def _is_idle(self) -> bool:
        return super()._is_idle() and not self._remote and not self._writes and self._writer is None


def _sequence(entry: tuple[str, bytes, dict[bytes, bytes]]) -> int:
    return int(entry[1].partition(b"-")[0])
