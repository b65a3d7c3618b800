"""Checkpointed agents: an agent's ``save_state()`` is committed with each message it handled.

For the agent types a worker is told to checkpoint, the state after a message goes to Redis in the same
transaction as that message's acknowledgement, and an instance created on a worker (the first one, or
the new owner after a crash or a rebalance) loads the last committed state before its first message.
So a message is either acknowledged with the state it produced, or redelivered to an agent whose state
is from before it: agent state and delivery never disagree.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterable
from functools import partial
from typing import Any

from redis.asyncio import Redis

from salon import TRACE_LOGGER_NAME, Agent, AgentId, MessageContext

from ._runtime_delivery import Received, RedisDelivery
from ._runtime_keys import Keys, partition_of
from ._runtime_leases import LeaseKeeper
from ._runtime_writing import Fence, Reply

__all__ = ["RedisCheckpoints"]

_logger = logging.getLogger(TRACE_LOGGER_NAME)


class RedisCheckpoints(RedisDelivery):
    """Saves and restores the state of agents of the checkpointed types; evicts agents whose partition moved.

    A checkpoint goes with the acknowledgement of its message, fenced by the tenure in which the message
    was read (see the ``F`` operation of ``BATCH``): a worker that stalled past its lease and lost the
    partition cannot write its older state over the new owner's. When Redis reports such a fenced-off write,
    this worker logs a warning naming the partition, stops reading it and evicts its agents; the new owner
    handles the message again from the last committed state.

    Args:
        redis: The runtime's client.
        keys: The namespace's key names.
        worker_id: This worker's id.
        checkpointed_types: The agent types whose state is checkpointed after every handled message.
        **options: The in-process runtime's options.
    """

    def __init__(
        self, redis: Redis, keys: Keys, worker_id: str, checkpointed_types: Iterable[str], **options: Any
    ) -> None:
        super().__init__(redis, keys, worker_id, **options)
        self._checkpointed = frozenset(checkpointed_types)
        self._restoring: dict[tuple[str, str], asyncio.Task[Agent]] = {}

    _leases: LeaseKeeper  # the runtime's

    # ------------------------------------------------------------------ fencing

    def _fence_of(self, stream: str) -> Fence | None:
        leases: LeaseKeeper | None = getattr(self, "_leases", None)
        return None if leases is None else leases.fence_of(stream)

    def _on_fenced(self, fences: Iterable[Fence]) -> None:
        for fence, generation in fences:
            found = self._leases.fenced(fence, generation)
            if found is None:
                continue
            agent_type, index, dropped = found
            _logger.warning(
                "Worker %s lost %s partition %d (tenure %s) while handling messages of it: it stalled longer than "
                "its lease. Their checkpoints, acknowledgements and replies were fenced off (not written), and the "
                "partition's owner handles them again.%s",
                self._worker_id,
                agent_type,
                index,
                generation.decode(),
                " Its agents of that partition are dropped here." if dropped else "",
            )

    def _take_requests(self, entries: list[tuple[str, bytes, dict[bytes, bytes]]]) -> None:
        """Dispatch only entries of partitions this worker still holds, and only while it runs.

        A read sent before this worker learnt that it lost a partition may return entries of it. They stay
        pending, for the partition's owner to claim, instead of being handled here in a tenure that is over.
        Entries claimed while the worker stops stay pending too: it claims them again when it starts.
        """
        if not self._running:
            return
        leases: LeaseKeeper | None = getattr(self, "_leases", None)
        if leases is not None and not all(leases.reads(entry[0]) for entry in entries):
            entries = [entry for entry in entries if leases.reads(entry[0])]
        super()._take_requests(entries)

    # ------------------------------------------------------------------ restore before the first message

    def _deliver_to_new_agent(
        self, agent_id: AgentId, message: Any, ctx: MessageContext, future: asyncio.Future[Any] | None
    ) -> None:
        if agent_id.type not in self._checkpointed:
            super()._deliver_to_new_agent(agent_id, message, ctx, future)
            return
        key = (agent_id.type, agent_id.key)
        restoring = self._restoring.get(key)
        if restoring is None:  # later messages for the same new agent wait for the same restore
            assert self._loop is not None and self._context is not None
            restoring = self._loop.create_task(self._restore(agent_id), context=self._context.copy())
            self._restoring[key] = restoring
        self._in_flight += 1
        restoring.add_done_callback(partial(self._deliver_restored, agent_id, message, ctx, future))

    async def _restore(self, agent_id: AgentId) -> Agent:
        try:
            state = await self._redis.get(self._keys.state(agent_id.type, agent_id.key))
            existed = agent_id.key in self._instances.get(agent_id.type, {})
            agent = await self._agents.get(agent_id)
            if state is not None and not existed:
                await agent.load_state(json.loads(state))
            return agent
        finally:
            self._restoring.pop((agent_id.type, agent_id.key), None)

    def _deliver_restored(
        self,
        agent_id: AgentId,
        message: Any,
        ctx: MessageContext,
        future: asyncio.Future[Any] | None,
        task: asyncio.Task[Agent],
    ) -> None:
        self._in_flight -= 1
        error: BaseException | None = asyncio.CancelledError() if task.cancelled() else task.exception()
        if error is not None:
            self._fail_construction(agent_id, message, future, error)
        else:
            self._deliver(task.result(), message, ctx, future)
        self._check_progress()

    # ------------------------------------------------------------------ checkpoint with the acknowledgement

    def _complete(self, received: Received, reply: Reply | None) -> None:
        recipient = received.recipient
        agent = (
            self._instances.get(recipient.type, {}).get(recipient.key) if recipient.type in self._checkpointed else None
        )
        if agent is None:
            super()._complete(received, reply)
            return
        assert self._loop is not None
        self._in_flight += 1
        task = self._loop.create_task(self._checkpoint_then_ack(agent, received, reply))
        self._keep(task)

    async def _checkpoint_then_ack(self, agent: Agent, received: Received, reply: Reply | None) -> None:
        checkpoint: tuple[str, bytes] | None = None
        try:
            state = json.dumps(dict(await agent.save_state())).encode()
            checkpoint = (self._keys.state(received.recipient.type, received.recipient.key), state)
        except Exception:
            _logger.exception(
                "Could not checkpoint %s: its save_state() failed or is not JSON data; the message is acknowledged "
                "without a checkpoint, so a new owner would start from an older state.",
                received.recipient,
            )
        finally:
            self._in_flight -= 1
        self._queue_ack(received.stream, received.entry_id, True, reply, checkpoint)
        self._check_progress()

    # ------------------------------------------------------------------ partitions that moved away

    def _evict(self, agent_type: str, index: int, partitions: int) -> None:
        """Drop local instances of a partition another worker owns now; they would hold stale state."""
        if agent_type not in getattr(self._agents, "_factories", {}):
            return  # registered instances cannot be made again: keep them
        instances = self._instances.get(agent_type, {})
        for key in [key for key in instances if partition_of(key, partitions) == index]:
            agent = instances.pop(key)
            assert self._loop is not None
            self._keep(self._loop.create_task(agent.close()))
