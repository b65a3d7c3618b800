"""Placement: which worker owns which partitions, through leases that expire when a worker dies."""

from __future__ import annotations

import asyncio
import logging
import math
import time
import zlib
from collections.abc import Callable
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError

from salon import TRACE_LOGGER_NAME

from ._runtime_keys import GROUP, Keys
from ._runtime_scripts import RELEASE, RENEW, TAKE, Script
from ._runtime_support import execute

__all__ = ["INBOX_TTL_LEASES", "Claimed", "LeaseKeeper"]

_logger = logging.getLogger(TRACE_LOGGER_NAME)

Claimed = tuple[str, list[tuple[bytes, dict[bytes, bytes]]]]
"""A stream name and the entries claimed from it (left pending by its previous owner)."""

INBOX_TTL_LEASES = 10
"""A worker's inbox expires this many lease periods after its last heartbeat. Each heartbeat pushes the
expiry on, so only the inbox of a worker that stopped beating for that long goes: a dead one, or one stalled
far beyond losing its partitions (it makes its inbox again when it comes back, see ``_recover_lost_keys``)."""

_SWEEP_COUNT = 100
"""Pending entries idle for a lease period looked at per partition per heartbeat for leftovers (``_sweep``)."""


class LeaseKeeper:
    """Takes, renews and gives back the partition leases of one worker.

    Every ``lease_ms / 3`` the worker refreshes its heartbeat (and its inbox's expiry), renews what it holds
    and takes free partitions of each type it hosts up to its fair share, ``ceil(partitions / live hosts)``.
    Taking a partition claims the entries its previous owner left unacknowledged, which ``on_claimed`` hands
    to the runtime for redelivery. Each tenure has a generation, the fence its writes carry (see ``TAKE`` and
    the ``F`` operation of ``BATCH``). The owner also claims, every heartbeat, entries of its partitions idle
    for a lease period under another consumer: a stalled worker may read a few entries of a partition it
    lost before it notices, and its acknowledgements of them are fenced off, so nobody else would handle them.

    Args:
        redis: The runtime's client.
        keys: The namespace's key names.
        worker_id: This worker's id (its consumer name and lease value).
        partitions: Partitions per agent type; all workers of a cluster must agree.
        lease_ms: How long a lease lives without renewal; a dead worker's partitions move after this.
        on_claimed: Receives entries claimed from a newly taken partition.
        read_mark: Returns a mark of the reader's progress (reads started so far).
        can_release: Whether a partition given up at ``mark`` may be released now: no read that
            started before the mark is still running, and nothing read from the stream is unfinished.
        on_moved: Called with ``(agent_type, index)`` when a partition this worker held is another's now.
        is_taken: Whether this worker still handles ``(stream, entry id)`` (read and not yet acknowledged).
    """

    def __init__(
        self,
        redis: Redis,
        keys: Keys,
        worker_id: str,
        partitions: int,
        lease_ms: int,
        on_claimed: Callable[[list[Claimed]], None],
        read_mark: Callable[[], int],
        can_release: Callable[[str, int], bool],
        on_moved: Callable[[str, int], None],
        is_taken: Callable[[str, bytes], bool] = lambda stream, entry_id: False,
    ) -> None:
        self._redis = redis
        self._keys = keys
        self._worker_id = worker_id
        self._partitions = partitions
        self._lease_ms = lease_ms
        self._on_claimed = on_claimed
        self._read_mark = read_mark
        self._can_release = can_release
        self._on_moved = on_moved
        self._is_taken = is_taken
        self._releasing: dict[tuple[str, int], int] = {}  # given up, released once drained
        self._types: list[str] = []
        self._owned: dict[str, set[int]] = {}
        self._renew: Any = Script(redis, RENEW)
        self._release: Any = Script(redis, RELEASE)
        self._take: Any = Script(redis, TAKE)
        self._fences: dict[str, tuple[str, bytes]] = {}  # stream -> (fence counter, generation of this tenure)
        self._partition_of_fence: dict[str, tuple[str, int]] = {}
        self._partition_of_stream: dict[str, tuple[str, int]] = {}
        self._lock = asyncio.Lock()
        self._left = False

    def streams(self) -> list[str]:
        """The partition streams this worker reads now."""
        return [self._keys.partition(t, i) for t, owned in self._owned.items() for i in sorted(owned)]

    def owns(self, agent_type: str, index: int) -> bool:
        """Whether this worker holds the lease of partition ``index`` of ``agent_type``."""
        return index in self._owned.get(agent_type, ())

    def fence_of(self, stream: str) -> tuple[str, bytes] | None:
        """The fence of this worker's current (or last) tenure of the partition ``stream``; ``None``: never held."""
        return self._fences.get(stream)

    def reads(self, stream: str) -> bool:
        """Whether ``stream`` is a partition this worker holds now (owned, or being given back)."""
        partition = self._partition_of_stream.get(stream)
        if partition is None:
            return False
        return partition[1] in self._owned.get(partition[0], ()) or partition in self._releasing

    def fenced(self, fence: str, generation: bytes) -> tuple[str, int, bool] | None:
        """A write of tenure ``generation`` was fenced off: drop the partition if that is still the tenure here.

        Returns ``(agent_type, index, dropped)``: ``dropped`` if this worker held the partition in that tenure
        until now (it stops reading it and evicts its agents, as when a renewal fails); else it had noticed
        already, and its agents of the partition are evicted again only if it does not hold it now (an agent
        made by a read that was in flight when it noticed). ``None``: not a fence of this worker.
        """
        partition = self._partition_of_fence.get(fence)
        if partition is None:
            return None
        agent_type, index = partition
        stream = self._keys.partition(agent_type, index)
        if self._fences.get(stream) == (fence, generation) and self.reads(stream):
            self._owned[agent_type].discard(index)
            self._releasing.pop(partition, None)
            self._on_moved(agent_type, index)
            return agent_type, index, True
        if not self.reads(stream):
            self._on_moved(agent_type, index)
        return agent_type, index, False

    def forget(self) -> None:
        """Treat every held partition as new, so the next :meth:`tick` claims its pending entries again.

        Used when a stopped worker starts again: entries it read but never handled are still pending.
        """
        for owned in self._owned.values():
            owned.clear()
        self._left = False

    def host(self, agent_type: str) -> None:
        """Start competing for the partitions of ``agent_type`` (at the next :meth:`tick`)."""
        if agent_type not in self._types:
            self._types.append(agent_type)
            self._owned.setdefault(agent_type, set())

    async def tick(self) -> None:
        """Heartbeat, renew, and take free partitions up to the fair share (one round of balancing)."""
        async with self._lock:
            if not self._left:
                await self._tick()

    async def _tick(self) -> None:
        now = int(time.time() * 1000)
        deadline = now + self._lease_ms
        keys = self._keys
        pipe = self._redis.pipeline(transaction=False)
        pipe.zadd(keys.workers, {self._worker_id: deadline})
        pipe.zremrangebyscore(keys.workers, 0, now)
        pipe.pexpire(keys.inbox(self._worker_id), INBOX_TTL_LEASES * self._lease_ms)
        for agent_type in self._types:
            pipe.zadd(keys.hosts(agent_type), {self._worker_id: deadline})
            pipe.zremrangebyscore(keys.hosts(agent_type), 0, now)
            pipe.zcard(keys.hosts(agent_type))
        replies = await execute(pipe)
        hosts = {t: max(1, int(replies[5 + 3 * n])) for n, t in enumerate(self._types)}
        await self._renew_owned()
        await self._release_drained()
        await self._sweep()
        claimed: list[Claimed] = []
        taken: list[tuple[str, int]] = []
        for agent_type in self._types:
            share = math.ceil(self._partitions / hosts[agent_type])
            owned = self._owned[agent_type]
            if len(owned) > share:
                self._give_up(agent_type, len(owned) - share)
                continue
            wanted = share - len(owned)
            for index in self._preferred_order(agent_type):
                if wanted <= 0:
                    break
                if index in owned:
                    continue
                fence = keys.fence(agent_type, index)
                generation = await self._take(
                    keys=[keys.lease(agent_type, index), fence], args=[self._worker_id, self._lease_ms]
                )
                if not generation:
                    continue
                wanted -= 1
                taken.append((agent_type, index))
                stream = keys.partition(agent_type, index)
                self._fences[stream] = (fence, str(generation).encode())
                self._partition_of_fence[fence] = self._partition_of_stream[stream] = (agent_type, index)
                claimed.append(await self._adopt(stream))
        # Read from now on, not before: the reader would otherwise read an entry with ">" while its claim is in
        # flight, and the claim would hand it over a second time once its acknowledgement was written.
        for agent_type, index in taken:
            self._owned[agent_type].add(index)
        claimed = [c for c in claimed if c[1]]
        if claimed:
            self._on_claimed(claimed)

    async def _sweep(self) -> None:
        """Claim entries of owned partitions left pending for a lease period by a worker that lost them.

        In a partition this worker owns, an entry pending for another consumer can only be left over: read by
        a stalled worker that lost the partition (its acknowledgement is fenced off) or by one that died. An
        entry pending for this worker that it no longer handles is left over too: read in an earlier tenure
        whose acknowledgement was fenced off. Entries this worker still handles are not claimed: their
        acknowledgement may be written while the claim is in flight, and the claim would hand them over again.
        """
        streams = self.streams()
        if not streams:
            return
        pipe = self._redis.pipeline(transaction=False)
        for stream in streams:
            pipe.xpending_range(stream, GROUP, "-", "+", _SWEEP_COUNT, idle=self._lease_ms)
        me = self._worker_id.encode()
        left: dict[str, list[Any]] = {}
        for stream, pending in zip(streams, await execute(pipe), strict=True):
            for entry in pending:
                if entry["consumer"] != me or not self._is_taken(stream, entry["message_id"]):
                    left.setdefault(stream, []).append(entry["message_id"])
        if not left:
            return
        pipe = self._redis.pipeline(transaction=False)
        for stream, ids in left.items():
            pipe.xclaim(stream, GROUP, self._worker_id, self._lease_ms, ids)
        claimed: list[Claimed] = []
        for stream, entries in zip(left, await execute(pipe), strict=True):
            entries = [entry for entry in entries if entry is not None and entry[1] is not None]
            if entries:
                _logger.warning(
                    "Worker %s claims %d entries of %s left pending by a worker that lost the partition.",
                    self._worker_id,
                    len(entries),
                    stream,
                )
                claimed.append((stream, entries))
        if claimed:
            self._on_claimed(claimed)

    def _give_up(self, agent_type: str, count: int) -> None:
        """Stop reading ``count`` partitions; their leases are released once what was read is finished.

        Releasing only then is what keeps a rebalance from handling a message twice: the next owner
        claims what is still pending, and nothing this worker is still handling is pending.
        """
        owned = self._owned[agent_type]
        order = self._preferred_order(agent_type)
        mark = self._read_mark()
        for index in sorted(owned, key=order.index, reverse=True)[:count]:
            owned.discard(index)
            self._releasing[(agent_type, index)] = mark
            _logger.info("Worker %s gives %s partition %d back (rebalancing).", self._worker_id, agent_type, index)

    async def _release_drained(self) -> None:
        for (agent_type, index), mark in list(self._releasing.items()):
            if self._can_release(self._keys.partition(agent_type, index), mark):
                await self._release(keys=[self._keys.lease(agent_type, index)], args=[self._worker_id])
                del self._releasing[(agent_type, index)]
                self._on_moved(agent_type, index)

    def _preferred_order(self, agent_type: str) -> list[int]:
        # Start at a point that depends on the worker, so that workers joining together try different partitions.
        start = zlib.crc32(f"{self._worker_id}/{agent_type}".encode()) % self._partitions
        return [(start + n) % self._partitions for n in range(self._partitions)]

    async def _renew_owned(self) -> None:
        pairs = [(t, i) for t, owned in self._owned.items() for i in owned] + list(self._releasing)
        if not pairs:
            return
        pipe = self._redis.pipeline(transaction=False)
        for agent_type, index in pairs:
            await self._renew(
                keys=[self._keys.lease(agent_type, index)], args=[self._worker_id, self._lease_ms], client=pipe
            )
        for (agent_type, index), kept in zip(pairs, await execute(pipe), strict=True):
            if not kept:
                _logger.warning("Worker %s lost the lease of %s partition %d.", self._worker_id, agent_type, index)
                self._owned[agent_type].discard(index)
                self._releasing.pop((agent_type, index), None)
                self._on_moved(agent_type, index)

    async def _adopt(self, stream: str) -> Claimed:
        """Make sure the partition's group exists, then claim what the previous owner left pending."""
        try:
            await self._redis.xgroup_create(stream, GROUP, id="0", mkstream=True)
        except ResponseError as e:
            if "BUSYGROUP" not in str(e):
                raise
        entries: list[tuple[bytes, dict[bytes, bytes]]] = []
        cursor: Any = "0-0"
        while True:
            reply = await self._redis.xautoclaim(stream, GROUP, self._worker_id, min_idle_time=0, start_id=cursor)
            cursor = reply[0]
            entries.extend(entry for entry in reply[1] if entry is not None and entry[1] is not None)
            if cursor in (b"0-0", "0-0"):
                return stream, entries

    async def run(self) -> None:
        """Balance every ``lease_ms / 3`` until cancelled; errors are logged and retried."""
        while True:
            await asyncio.sleep(self._lease_ms / 3000)
            try:
                await self.tick()
            except RedisError as e:
                _logger.warning("Worker %s could not renew its leases: %s", self._worker_id, e)

    async def leave(self) -> None:
        """Give every lease back and leave the host lists, so other workers take over at once."""
        async with self._lock:
            pipe = self._redis.pipeline(transaction=False)
            for agent_type, owned in self._owned.items():
                for index in owned:
                    await self._release(keys=[self._keys.lease(agent_type, index)], args=[self._worker_id], client=pipe)
                pipe.zrem(self._keys.hosts(agent_type), self._worker_id)
                owned.clear()
            for agent_type, index in self._releasing:
                await self._release(keys=[self._keys.lease(agent_type, index)], args=[self._worker_id], client=pipe)
            self._releasing.clear()
            self._left = True
            pipe.zrem(self._keys.workers, self._worker_id)
            await execute(pipe)
