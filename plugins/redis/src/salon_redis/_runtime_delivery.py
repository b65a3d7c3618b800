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

from pydantic_core import from_json  # a header costs a fifth of json.loads
from redis.asyncio import Redis

from salon import TRACE_LOGGER_NAME, AgentId, CancellationToken, MessageContext, TopicId
from salon._message_dispatcher import PUBLISH, SEND, Envelope
from salon.exceptions import MessageDroppedException

from ._runtime_keys import Keys
from ._runtime_wire import decode_error, decode_value, encode_error, encode_value
from ._runtime_writing import RedisWriting, Reply

__all__ = ["RedisDelivery", "Received"]

_logger = logging.getLogger(TRACE_LOGGER_NAME)

_ID_CACHE = 65_536
"""Recipient ids (and topic ids) kept for reuse; the caches start over when they reach this size."""


@dataclass(slots=True)
class Received:
    """Where a delivery came from, to acknowledge it (and answer it, for an RPC) when it is done."""

    stream: str
    entry_id: bytes
    recipient: AgentId
    message: Any
    request_id: str | None = None
    reply_to: str | None = None


class RedisDelivery(RedisWriting):
    """The in-process dispatcher, fed from Redis streams instead of ``send_message``'s queue.

    Args:
        redis: The runtime's client.
        keys: The namespace's key names.
        worker_id: This worker's id.
        max_message_bytes: The largest serialized message or result this worker sends.
        reply_timeout: Seconds Redis may take to answer (beyond a blocking read's own wait) before a
            connection is considered dead; ``None``: no limit.
        **options: The in-process runtime's options (interventions, ``ignore_unhandled_exceptions``).
    """

    def __init__(
        self,
        redis: Redis,
        keys: Keys,
        worker_id: str,
        max_message_bytes: int,
        reply_timeout: float | None = None,
        **options: Any,
    ) -> None:
        super().__init__(redis, keys, worker_id, reply_timeout, **options)
        self._max_message_bytes = max_message_bytes
        self._inbox = keys.inbox(worker_id)
        self._calls: dict[str, asyncio.Future[Any]] = {}
        self._remote: dict[asyncio.Future[Any], Received] = {}
        self._remote_tokens: dict[str, CancellationToken] = {}
        self._targets: dict[asyncio.Future[Any], AgentId] = {}
        self._agent_ids: dict[tuple[str, str], AgentId] = {}  # immutable, so shared by the messages to one agent
        self._topic_ids: dict[tuple[str, str], TopicId] = {}

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
        header = from_json(fields[b"h"])
        kind = header[0]
        if kind == "c":  # cancel an RPC; it follows its request in the same stream
            token = self._remote_tokens.get(header[1])
            if token is not None:
                token.cancel()
            self._queue_ack(stream, entry_id, False, None)
            return
        if (stream, entry_id) in self._taken:
            return  # claimed again while this worker still handles it
        if kind == "r":  # a control request (an agent's state or metadata): see _runtime_control
            self._on_control_request(stream, entry_id, header, fields)
            return
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
            if kind == "P":  # published with a cancelled token: its handlers see it cancelled, as in-process
                token.cancel()
            self._targets[future] = recipient
            topic_id = self._topic_ids.get((extra1, extra2))
            if topic_id is None:
                topic_id = self._topic_ids[(extra1, extra2)] = TopicId(extra1, extra2)
            self._enqueue((PUBLISH, message, sender, topic_id, future, token, message_id))

    def _on_control_request(self, stream: str, entry_id: bytes, header: list[Any], fields: dict[bytes, bytes]) -> None:
        """Dispatch a control request (kind ``r``); :class:`~salon_redis._runtime_control.RedisControl` does."""
        raise NotImplementedError

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
        kind, request_id, *described = from_json(raw)
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
        if future is None or future.done() or future not in self._remote:
            super()._finish(agent, message, ctx, future, result, error, handler)
            return
        # A delivery from Redis: acknowledged (and answered) right here rather than from the future's done
        # callback, one turn of the event loop later, on every message's path.
        future.remove_done_callback(self._on_delivered)
        if ctx.is_rpc:
            super()._finish(agent, message, ctx, future, result, error, handler)
        else:  # count and report it as a publish
            super()._finish(agent, message, ctx, None, result, error, handler)
            future.set_result(None)
        if future.done():
            self._on_delivered(future)
        else:  # answered later, through intervention handlers
            future.add_done_callback(self._on_delivered)

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
        return (
            super()._is_idle() and not self._remote and not self._writes and not self._writing and self._writer is None
        )


def _sequence(entry: tuple[str, bytes, dict[bytes, bytes]]) -> int:
    return int(entry[1].partition(b"-")[0])
