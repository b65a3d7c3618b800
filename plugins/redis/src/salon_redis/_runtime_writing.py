"""The ordered writer of the Redis runtime: every write of a worker goes through one queue, in order.

Sends, publishes, cancellations, acknowledgements with their replies and checkpoints are queued here and
written in batches, each batch one :data:`~salon_redis._runtime_scripts.BATCH` script: one command, one
round trip, all or nothing. One queue is what makes a handler's publishes reach Redis no later than the
acknowledgement of the message that handler was handling. Batches go out through the writer task, or
with the reader's next read (see :meth:`RedisWriting._carried_batch`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from salon import TRACE_LOGGER_NAME, SingleThreadedAgentRuntime

from ._runtime_connection import DirectConnection, HashedScript
from ._runtime_keys import Keys
from ._runtime_scripts import BATCH, STALE

__all__ = ["BATCH_SCRIPT", "Fence", "RedisWriting", "Reply", "TakenEntries", "Write"]

_logger = logging.getLogger(TRACE_LOGGER_NAME)

_STALE_RETRIES = 5
"""Times a batch of publishes is resolved again when the cluster's subscriptions changed meanwhile."""

BATCH_SCRIPT = HashedScript(BATCH)

Write = tuple[str, Any, "asyncio.Future[Any] | None"]
"""A queued write: ``(kind, item, future)``. Kinds: ``"send"`` (item: stream, header, payload),
``"publish"`` (item: the publish, resolved to recipients when written), ``"cancel"`` (item: stream and
header), ``"ack"`` (item: stream, entry id, whether it is counted in ``pending``, optional reply
(inbox, header, payload), optional checkpoint key and state, the :data:`Fence` of the tenure the entry
was read in, if any). The future learns the write's outcome.

Entries have two fields: ``h``, a JSON list (the kind first: ``s`` send, ``p`` publish, ``P`` publish whose
token was cancelled before it was written, ``c`` cancel; replies ``o`` result, ``e`` error, ``x`` cancelled),
and ``d``, the serialized message or result."""

Reply = tuple[str, bytes, bytes]
"""A reply to write: the caller's inbox, the entry's header and its payload."""

Fence = tuple[str, bytes]
"""A partition's fence counter and the generation (tenure) under which this worker read an entry of it."""


class TakenEntries(set[tuple[str, bytes]]):
    """Entries read and not yet acknowledged in Redis, each with the fence of the tenure it was read in.

    The fence is looked up when the entry is taken (dispatched), not when it is acknowledged: a worker that
    lost a partition and took it back meanwhile must not settle an entry of its old tenure as one of the new.

    Args:
        fence_of: The current fence of a stream (``None``: not a leased partition, or not known).
    """

    def __init__(self, fence_of: Callable[[str], Fence | None]) -> None:
        super().__init__()
        self._fence_of = fence_of
        self.fences: dict[tuple[str, bytes], Fence] = {}

    def add(self, entry: tuple[str, bytes]) -> None:
        """Take ``(stream, entry id)``, remembering the stream's fence now."""
        super().add(entry)
        fence = self._fence_of(entry[0])
        if fence is not None:
            self.fences[entry] = fence

    def discard(self, entry: object) -> None:
        """Forget ``(stream, entry id)`` (acknowledged, or left pending for redelivery)."""
        super().discard(entry)
        if self.fences:
            self.fences.pop(entry, None)  # type: ignore[call-overload]


class RedisWriting(SingleThreadedAgentRuntime):
    """The write queue and its two ways to Redis (the writer task, or carried by the reader).

    Args:
        redis: The runtime's client.
        keys: The namespace's key names.
        worker_id: This worker's id.
        reply_timeout: Seconds Redis may take to answer before a connection is considered dead.
        **options: The in-process runtime's options.
    """

    def __init__(self, redis: Redis, keys: Keys, worker_id: str, reply_timeout: float | None, **options: Any) -> None:
        super().__init__(**options)
        self._redis = redis
        self._keys = keys
        self._worker_id = worker_id
        self._reply_timeout = reply_timeout
        self._writes_connection = DirectConnection(redis.connection_pool, reply_timeout)
        self._taken = TakenEntries(self._fence_of)  # entries read and not yet acknowledged in Redis
        self._writes: list[Write] = []
        self._writer: asyncio.Task[None] | None = None
        self._writing: list[Write] = []  # the batch being written now
        self._write_failed = False  # the last batch failed: Redis does not answer now
        self._reader_holds_writes = False  # the reader sends what is queued with its next read
        self._connected = False

    def _queue_ack(
        self,
        stream: str,
        entry_id: bytes,
        counted: bool,
        reply: Reply | None,
        checkpoint: tuple[str, bytes] | None = None,
    ) -> None:
        fence = self._taken.fences.get((stream, entry_id))
        self._write(("ack", (stream, entry_id, counted, reply, checkpoint, fence), None))

    def _write(self, op: Write) -> None:
        """Queue a write; one task writes everything queued meanwhile in one transaction, in order.

        Keeping one ordered queue is what makes a handler's publishes reach Redis no later than the
        acknowledgement of the message that handler was handling: a crash in between redelivers the
        message instead of losing what it published.
        """
        self._writes.append(op)
        if not self._reader_holds_writes:
            self._start_writer()

    def _start_writer(self) -> None:
        """Start the writer task if writes wait, none runs, and the runtime is connected."""
        if self._writes and self._writer is None and self._connected:
            loop = self._loop or asyncio.get_running_loop()
            self._writer = loop.create_task(self._flush_writes())

    async def _flush_writes(self) -> None:
        retry_delay = 0.05
        try:
            while self._writes and self._connected:
                batch, self._writes = self._writes, []
                self._writing = batch
                try:
                    result = await self._write_batch(batch)
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
                self._batch_written(batch, result)
        finally:
            self._writing = []
            self._writer = None
            self._check_progress()

    def _batch_written(self, batch: list[Write], result: Any) -> None:
        self._write_failed = False
        for kind, item, future in batch:
            if kind == "ack":
                self._taken.discard((item[0], item[1]))  # fenced off or not: this worker is done with it
            elif kind != "send" and future is not None and not future.done():
                future.set_result(None)  # a send's future is its caller's, resolved by the reply
        if isinstance(result, list):  # the script skipped the writes of tenures that are over
            self._on_fenced([(_text(result[n]), _bytes(result[n + 1])) for n in range(0, len(result) - 1, 2)])

    def _on_fenced(self, fences: Iterable[Fence]) -> None:
        """Another worker took these partitions: drop them here (the runtime provides it)."""
        raise NotImplementedError

    def _fence_of(self, stream: str) -> Fence | None:
        """The fence of the tenure in which this worker reads ``stream`` now (the runtime provides it)."""
        return None

    # The reader carries writes: after a read, what the messages it read caused (replies, acknowledgements,
    # a sequential caller's next send) is queued while the reader lets them run, then goes to Redis in the
    # same socket write as the reader's next read. A sequential RPC then costs each side one write and one
    # wake-up less. Only one of the writer task and the reader writes at any time, so order is kept.

    def _hold_writes(self) -> None:
        """From now until :meth:`_release_writes`, queued writes wait for the reader instead of the writer."""
        self._reader_holds_writes = True

    def _release_writes(self) -> None:
        """Hand queued writes back to the writer task."""
        self._reader_holds_writes = False
        self._start_writer()

    def _carried_batch(self) -> tuple[list[Write], tuple[Any, ...] | None]:
        """What the reader sends before its next read: the queued writes and their command (if the writer is idle)."""
        if not self._writes or self._writer is not None or not self._connected:
            return [], None
        batch, self._writes = self._writes, []
        try:
            keys, args = self._batch_args(batch, any(kind == "publish" for kind, _, _ in batch))
        except ValueError:  # let the writer report it
            self._writes[:0] = batch
            return [], None
        self._writing = batch
        return batch, BATCH_SCRIPT.command(keys, args)

    def _carried_outcome(self, batch: list[Write], result: Any) -> None:
        """Settle a carried batch: done if Redis ran it, else back to the front of the queue for the writer.

        The writer retries it as it retries its own batches (reloading the routing table if it was stale,
        sending the script's source if Redis restarted and forgot it, waiting while Redis is down).
        """
        self._writing = []
        if isinstance(result, BaseException) or result == STALE:
            self._writes[:0] = batch
        else:
            self._batch_written(batch, result)
        self._release_writes()
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

    async def _write_batch(self, batch: list[Write]) -> Any:
        """Write the batch with one :data:`BATCH` script: one command, one round trip, all or nothing.

        Publishes are resolved against this worker's copy of the routing table; the script refuses the
        batch when the cluster's routing version moved since, and it is resolved again after a reload.
        Returns what the script returned (``1``, or the tenures whose writes it fenced off).
        """
        has_publish = any(kind == "publish" for kind, _, _ in batch)
        for _ in range(_STALE_RETRIES):
            keys, args = self._batch_args(batch, has_publish)
            result = await self._writes_connection.run_script(BATCH_SCRIPT, keys, args)
            if result != STALE:
                return result
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
        fenced_by: Fence | None = None  # the fence the F operation emitted last puts on what follows
        for kind, item, _ in batch:
            if kind == "ack":
                stream, entry_id, is_counted, reply, checkpoint, fence = item
                if fence != fenced_by:  # emitted only when it changes: a batch of one partition's acks has one
                    ops += (b"F",) if fence is None else (b"F" + index(fence[0]), fence[1])
                    fenced_by = fence
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


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _bytes(value: Any) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode()
