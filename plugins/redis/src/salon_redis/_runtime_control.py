"""An agent's state and metadata from any worker: control requests through the agent's partition stream.

``agent_save_state``, ``agent_load_state`` and ``agent_metadata`` act on one agent, which is active on the
worker that owns its partition. A worker that does not (or that must not use its own instance: see
:meth:`RedisControl._served_here`) adds a **control request** to the agent's partition stream instead::

    h: ["r", message_id, agent_type, agent_key, op, request_id, reply_to]     op: "save", "load" or "metadata"
    d: the state as JSON (for "load"), else empty

Being an entry of that stream, it reaches whichever worker owns the partition now (also after the lease
moved), it is handled after the messages accepted for that agent before it, it is counted in ``pending``
(``stop_when_idle`` waits for it) and it is redelivered if its worker dies before acknowledging it. The
owner dispatches it like a message to the agent: the agent is created through its factory if it does not
exist yet (a checkpointed type first loads its checkpoint), a sequential agent runs it after the message it
is handling, and the answer goes back through the normal reply path (``o`` with the JSON value, ``e`` with
the error). A checkpointed agent's state is committed with the acknowledgement, as after any message, so a
``load`` also updates its checkpoint. A caller that gives up (``rpc_timeout``, cancellation) withdraws a request
not written yet; one already in Redis still runs, whole: a state is never loaded half-way.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from functools import partial
from typing import Any

from salon import Agent, AgentId, CancellationToken, MessageContext
from salon._message_dispatcher import SEND, Envelope
from salon._message_handler_context import _HANDLING_AGENT

from ._runtime_delivery import Received
from ._runtime_keys import partition_of
from ._runtime_reading import RedisReading

__all__ = ["ControlRequest", "RedisControl"]

OPS = {"save": "agent_save_state", "load": "agent_load_state", "metadata": "agent_metadata"}
"""The operations a control request can ask for, and the runtime method each serves (for errors)."""


class ControlRequest:
    """What the dispatcher carries for a control request, in place of a message: the operation and its state."""

    __slots__ = ("op", "state")

    def __init__(self, op: str, state: Any = None) -> None:
        self.op = op
        self.state = state

    def __repr__(self) -> str:
        return f"ControlRequest({self.op!r})"


class RedisControl(RedisReading):
    """Serves ``agent_save_state``/``agent_load_state``/``agent_metadata`` for agents active on any worker.

    The caller half queues the control request and waits for its reply like an RPC; the owner half runs it
    in the dispatcher as a delivery to the agent. While control requests wait to be started on this worker,
    the dispatcher's ``_start`` and ``_intervene`` are replaced on the instance by versions that recognise
    them; otherwise the class's own run, so ordinary messages pay nothing for this feature.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._controls_waiting: set[asyncio.Future[Any]] = set()  # dispatched by this worker, not started yet

    # ------------------------------------------------------------------ the caller

    async def _served_here(self, agent_id: AgentId) -> bool:
        """Whether this worker's own instance of ``agent_id`` may serve a state or metadata call directly.

        Yes when this worker owns the agent's partition (or, before ``start()``, when no other worker owns
        it), as before. Checkpointed types always take the stream: their new owner must load the checkpoint
        first and commit a loaded state as the new checkpoint, which the stream path does.
        """
        agent_type = agent_id.type
        if agent_type not in self._instances or agent_type in self._checkpointed:
            return False
        index = partition_of(agent_id.key, self._partitions)
        if self._leases.owns(agent_type, index):
            return True
        if self._running:
            return False  # the partition is another worker's (or about to be): its stream reaches the owner
        owner = await self._lease_owner(agent_id)
        return owner is None or owner == self._worker_id

    async def _lease_owner(self, agent_id: AgentId) -> str | None:
        """The worker that holds the lease of ``agent_id``'s partition now, if any."""
        index = partition_of(agent_id.key, self._partitions)
        value: bytes | None = await self._redis.get(self._keys.lease(agent_id.type, index))  # type: ignore[assignment]
        return None if value is None else value.decode()

    async def _ask_owner(self, agent_id: AgentId, op: str, state: Mapping[str, Any] | None = None) -> Any:
        """Send a control request to whichever worker owns ``agent_id`` and return its answer.

        Raises:
            LookupError: no worker ever registered the agent's type.
            ValueError: ``state`` is not JSON data, or is larger than ``max_message_bytes``.
            TimeoutError: no answer within ``rpc_timeout``.
            UndeliverableException: no live worker hosts the type (after ``rpc_timeout``), or this worker
                was stopped before the answer came.
            Exception: what the agent's ``save_state``/``load_state`` (or its factory) raised.
        """
        self._raise_if_failed()
        method = OPS[op]
        payload = b"" if op != "load" else self._encode_state(agent_id, state)
        turn = await self._turn_for(agent_id.type, f"call {method} on an agent of")
        try:
            head = ["r", self._next_message_id(), agent_id.type, agent_id.key, op]
            request_id, _, future = self._queue_call(agent_id, head, payload)  # a "send": counted in pending
        finally:
            if turn is not None:
                self._end_turn(turn)
        # Giving up withdraws a request not written yet. One already in Redis is not cancelled at its owner,
        # unlike an RPC's handler: a state is loaded whole or not at all, never half-way.
        return await self._await_reply(request_id, future, agent_id, method, lambda: self._unqueue(future))

    def _encode_state(self, agent_id: AgentId, state: Mapping[str, Any] | None) -> bytes:
        try:
            payload = json.dumps(dict(state) if isinstance(state, Mapping) else state).encode()
        except (TypeError, ValueError) as e:
            raise ValueError(
                f"Cannot load this state into {agent_id}: it is active on another worker, and a state sent there "
                f"must be JSON data (dicts, lists, strings, numbers, booleans, None): {e}. Save it with "
                "save_state() (pydantic: model_dump(mode='json'))."
            ) from e
        self._check_size(("state", "", payload))
        return payload

    # ------------------------------------------------------------------ the owner

    def _on_control_request(self, stream: str, entry_id: bytes, header: list[Any], fields: dict[bytes, bytes]) -> None:
        """Dispatch a control request read from a partition this worker owns, in its place among the messages."""
        _, message_id, agent_type, agent_key, op, request_id, reply_to = header
        recipient = self._agent_id(agent_type, agent_key)
        received = Received(stream, entry_id, recipient, None, request_id, reply_to)
        try:
            if op not in OPS:
                raise ValueError(
                    f"Unknown control request {op!r} (a newer worker sent it?); expected one of {list(OPS)}."
                )
            request = ControlRequest(op, json.loads(fields[b"d"]) if op == "load" else None)
        except ValueError as e:
            self._queue_ack(stream, entry_id, True, self._reply_fields(received, error=e))
            return
        received.message = request
        loop = self._loop or asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._remote[future] = received
        self._taken.add((stream, entry_id))
        future.add_done_callback(self._on_delivered)  # replies, checkpoints (checkpointed types) and acknowledges
        self._controls_waiting.add(future)
        future.add_done_callback(self._control_settled)
        vars(self)["_start"] = self._start_or_control  # see the class docstring
        vars(self)["_intervene"] = self._intervene_except_control
        self._enqueue((SEND, request, None, recipient, future, CancellationToken(), message_id))

    def _start_or_control(
        self, agent: Agent, message: Any, ctx: MessageContext, future: asyncio.Future[Any] | None, routed: bool
    ) -> asyncio.Task[Any] | None:
        """The dispatcher's ``_start`` while control requests wait: runs one as the agent's next delivery."""
        if type(message) is not ControlRequest:
            return super()._start(agent, message, ctx, future, routed)
        assert future is not None and self._starter is not None and self._context is not None
        self._control_started(future)
        starter = self._starter
        task = starter.start(_serve(agent, message), self._context.copy(), _HANDLING_AGENT, agent.id)
        if task is None:
            _settle(future, starter.result, starter.error)
            return None
        self._in_flight += 1
        task.add_done_callback(partial(self._control_done, agent, future))
        self._keep(task)
        return task  # a sequential agent stays busy until it is done

    def _intervene_except_control(self, envelope: Envelope) -> None:
        """Intervention handlers see messages only: a control request goes straight to its agent."""
        if type(envelope[1]) is ControlRequest:
            self._dispatch_send(envelope)
        else:
            super()._intervene(envelope)

    def _control_done(self, agent: Agent, future: asyncio.Future[Any], task: asyncio.Task[Any]) -> None:
        self._in_flight -= 1
        if task.cancelled():
            _settle(future, None, asyncio.CancelledError())
        else:
            error = task.exception()
            _settle(future, None if error is not None else task.result(), error)
        busy = self._busy.get((agent.id.type, agent.id.key)) if self._busy else None
        if busy is not None:
            self._start_next_sequential(agent, busy)
        self._check_progress()

    def _control_settled(self, future: asyncio.Future[Any]) -> None:
        self._control_started(future)  # answered without being started (the agent could not be made)

    def _control_started(self, future: asyncio.Future[Any]) -> None:
        self._controls_waiting.discard(future)
        if not self._controls_waiting:
            vars(self).pop("_start", None)
            vars(self).pop("_intervene", None)

    def _forget_undispatched(self) -> None:
        super()._forget_undispatched()
        for future in [f for f in self._controls_waiting if f not in self._remote]:  # left pending for redelivery
            self._control_started(future)


async def _serve(agent: Agent, request: ControlRequest) -> Any:
    """Run one control request on the agent; the result is JSON data for the reply."""
    if request.op == "load":
        await agent.load_state(request.state)
        return None
    if request.op == "metadata":
        return dict(agent.metadata)
    state = await agent.save_state()
    if isinstance(state, Mapping):
        state = dict(state)
    try:
        json.dumps(state)
    except (TypeError, ValueError) as e:
        raise ValueError(
            f"Agent {agent.id}'s save_state() returned data that is not JSON ({e}), so it cannot reach a caller "
            "on another worker. Return only dicts, lists, strings, numbers, booleans and None "
            "(pydantic: model_dump(mode='json'))."
        ) from e
    return state


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.done():
        return
    if error is None:
        future.set_result(result)
    elif isinstance(error, asyncio.CancelledError):
        future.cancel()
    elif isinstance(error, StopIteration | StopAsyncIteration):
        future.set_exception(RuntimeError(f"The agent raised {type(error).__name__}"))
    else:
        future.set_exception(error)
