"""The reader of the Redis runtime: one blocking ``XREADGROUP`` over the inbox and every owned partition.

The reader owns one connection. Each turn it sends, in one socket write, the writes queued while the
last read's messages ran (see :meth:`~salon_redis._runtime_delivery.RedisDelivery._carried_batch`) and its
next blocking read, settles the writes as soon as their reply arrives, then waits for entries. Entries
from partitions go to the dispatcher in the order they were accepted; entries of the inbox are replies.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from redis.exceptions import RedisError, ResponseError

from salon import TRACE_LOGGER_NAME

from ._runtime_connection import DirectConnection
from ._runtime_keys import GROUP
from ._runtime_leases import LeaseKeeper
from ._runtime_sending import RedisSending

__all__ = ["RedisReading"]

_logger = logging.getLogger(TRACE_LOGGER_NAME)

READ_BATCH = 512
"""Entries read per stream per XREADGROUP call."""

_YIELDS = 5
"""Turns of the event loop the reader gives away after a read: the replies and messages that what it read
causes are then queued before its next read, which carries them (an RPC's critical path)."""

Entries = list[tuple[bytes, dict[bytes, bytes]]]


async def _let_others_run() -> None:
    """Give the loop up to ``_YIELDS`` turns, and stop early once nothing else is ready to run.

    Every turn costs a poll of the selector; after a read that caused one reply, two or three turns are
    enough for it to be queued, so the reader does not pay for the turns nobody needs. An event loop that
    does not expose its ready queue (uvloop) gets all ``_YIELDS`` turns.
    """
    ready = getattr(asyncio.get_running_loop(), "_ready", None)
    for _ in range(_YIELDS):
        await asyncio.sleep(0)
        if ready is not None and not ready:
            return


class _ReadCommands:
    """The packed ``XREADGROUP`` commands for one set of streams, kept until the set changes."""

    def __init__(self, connection: DirectConnection, worker_id: str, streams: tuple[str, ...], block_ms: int) -> None:
        self.streams = streams
        self.names = {name.encode(): name for name in streams}
        head = ("XREADGROUP", "GROUP", GROUP, worker_id, "COUNT", READ_BATCH)
        tail = ("STREAMS", *streams, *[">"] * len(streams))
        self.blocking = connection.pack((*head, "BLOCK", block_ms, *tail))
        self.immediate = connection.pack((*head, *tail))


def parse_read(reply: Any, names: dict[bytes, str]) -> list[tuple[str, Entries]]:
    """A raw ``XREADGROUP`` reply (RESP2 list or RESP3 map) as ``(stream, [(entry id, fields)])``."""
    if not reply:
        return []
    parsed: list[tuple[str, Entries]] = []
    for name, raw_entries in reply.items() if isinstance(reply, dict) else reply:
        entries: Entries = []
        for entry_id, fields in raw_entries:
            if fields is None:
                continue  # deleted while pending: nothing to deliver
            if isinstance(fields, dict):
                entries.append((entry_id, fields))
            else:
                pairs = iter(fields)
                entries.append((entry_id, dict(zip(pairs, pairs, strict=True))))
        parsed.append((names.get(name) or name.decode(), entries))
    return parsed


class RedisReading(RedisSending):
    """Adds the read loop to the runtime (which provides the leases, ``_join`` and the block time)."""

    _leases: LeaseKeeper
    _block_ms: int
    _pump: asyncio.Task[None] | None
    _reads_started: int
    _reads_finished: int

    async def _join(self) -> None:
        raise NotImplementedError

    async def _read_forever(self) -> None:
        connection = DirectConnection(self._redis.connection_pool, self._reply_timeout)
        try:
            await self._read_with(connection)
        finally:
            self._release_writes()
            await connection.close()

    async def _read_with(self, connection: DirectConnection) -> None:
        # Not cancelled by stop(): a read cancelled in flight would break its connection. It ends after its
        # current read (at most block_ms) once it is no longer the runtime's pump.
        me = asyncio.current_task()
        commands: _ReadCommands | None = None
        block_s = self._block_ms / 1000
        while self._pump is me:
            streams = (self._inbox, *self._leases.streams())
            if commands is None or commands.streams != streams:
                commands = _ReadCommands(connection, self._worker_id, streams, self._block_ms)
            carried, command = self._carried_batch()
            if command is None:
                self._release_writes()  # nothing to carry: later writes go through the writer task
                packed = commands.blocking
            else:
                packed = connection.pack(command) + commands.blocking
            self._reads_started += 1
            try:
                await connection.send(packed, block_s)
                if carried:
                    outcome: Any
                    try:
                        outcome = await connection.read()
                    except ResponseError as e:  # NOSCRIPT (Redis restarted) or a refused write: the writer retries
                        outcome = e
                    self._carried_outcome(carried, outcome)
                    carried = []
                reply = parse_read(await connection.read(), commands.names)
                self._hold_writes()  # what this read causes waits for the next read to carry it
                if len(reply) == 1 and len(streams) > 2 and reply[0][0] != self._inbox and len(reply[0][1]) > 1:
                    # A read woken up by one stream returns that stream only (Redis < 7.2): read the other
                    # partitions too, so what was accepted together is dispatched in order (replies need not).
                    # One entry needs no second read: Redis serves a blocked reader on the first stream written
                    # after it blocked, and entries of the other streams written since have later ids.
                    await connection.send(commands.immediate)
                    reply += parse_read(await connection.read(), commands.names)
            except ResponseError as e:
                if carried:
                    self._carried_outcome(carried, e)
                if self._pump is not me:
                    break
                if "NOGROUP" not in str(e):
                    raise
                await self._recover_lost_keys()
                continue
            except RedisError as e:
                if carried:
                    self._carried_outcome(carried, e)
                if self._pump is not me:
                    break
                _logger.warning("Worker %s could not read from Redis (%s); retrying.", self._worker_id, e)
                await asyncio.sleep(0.5)
                continue
            requests: list[tuple[str, bytes, dict[bytes, bytes]]] = []
            for stream, entries in reply:
                if stream == self._inbox:
                    self._take(stream, entries)
                else:
                    requests.extend((stream, entry_id, fields) for entry_id, fields in entries)
            if not self._running:
                break  # stopped while reading: requests read stay pending and are claimed again at start()
            if requests:
                self._take_requests(requests)
            self._reads_finished = self._reads_started
            await _let_others_run()  # what was read runs first (handlers, woken callers), queuing their writes

    async def _recover_lost_keys(self) -> None:
        """Join again after a stream this worker reads is gone.

        Either only this worker's inbox expired (it was away longer than its inbox lives: stopped, or
        paused) and the namespace is intact, or Redis lost the namespace (restarted without persistence,
        or flushed). Only the second loses messages and checkpoints.
        """
        try:
            namespace_intact = bool(await self._redis.exists(self._keys.types))
        except RedisError:
            namespace_intact = False
        if namespace_intact:
            _logger.warning(
                "Worker %s: its inbox expired while it was away (longer than 10 lease periods); joining again.",
                self._worker_id,
            )
        else:
            _logger.error(
                "Worker %s: Redis lost the streams of namespace %r (restarted without persistence, or flushed); "
                "messages accepted before are lost. Joining again.",
                self._worker_id,
                self.namespace,
            )
            for agent_type in self._checkpointed:  # their checkpoints are gone too: start them afresh, as a new owner
                for index in range(self._partitions):
                    self._evict(agent_type, index, self._partitions)
        try:
            if not namespace_intact:
                await self._routing.restore()
            await self._join()
        except RedisError as e:
            _logger.warning("Worker %s could not join again yet (%s); retrying.", self._worker_id, e)
            await asyncio.sleep(0.5)
