"""``agent_save_state``, ``agent_load_state`` and ``agent_metadata`` of an agent active on another worker.

They travel as control requests through the agent's partition stream to whichever worker owns it (see
``salon_redis._runtime_control``). Most tests use two runtimes in this process; one uses worker processes.

Run as a script, this module is a worker: ``python test_runtime_remote_state.py URL NAMESPACE`` hosts the types
``counter`` and ``kept`` (checkpointed) until its stdin closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
import redis.asyncio
from worker_processes import run_worker, serve_until_stdin_closes, start_worker, stop_worker

from salon import AgentId, DefaultInterventionHandler, MessageContext, RoutedAgent, message_handler
from salon.exceptions import NotAccessibleError, UndeliverableException
from salon_redis import RedisAgentRuntime


@dataclass
class Add:
    """Adds ``amount`` to the counter, after ``delay`` seconds."""

    amount: int = 1
    delay: float = 0.0


class Counter(RoutedAgent):
    """A sequential counter; its state is the count and the process id that saved it."""

    sequential = True

    def __init__(self) -> None:
        super().__init__("counts what it is sent")
        self.count = 0

    @message_handler
    async def on_add(self, message: Add, ctx: MessageContext) -> int:
        """Wait, add, and answer the new count."""
        if message.delay:
            await asyncio.sleep(message.delay)
        self.count += message.amount
        return self.count

    async def save_state(self) -> dict[str, Any]:
        """The count, and where it was saved."""
        return {"count": self.count, "pid": os.getpid()}

    async def load_state(self, state: Any) -> None:
        """Take the count over."""
        self.count = state["count"]


class StateError(Exception):
    """Raised by :class:`Broken`; importable in the caller, so it arrives with its type."""


class Broken(RoutedAgent):
    """An agent whose state cannot be saved or loaded."""

    def __init__(self) -> None:
        super().__init__("cannot save")

    @message_handler
    async def on_add(self, message: Add, ctx: MessageContext) -> None:
        """Accepts messages (a routed agent needs a handler)."""

    async def save_state(self) -> dict[str, Any]:
        """Refuse."""
        raise StateError("no state today")

    async def load_state(self, state: Any) -> None:
        """Refuse."""
        raise StateError(f"cannot load {sorted(state)}")


class Opaque(Broken):
    """An agent whose state is not JSON data."""

    async def save_state(self) -> dict[str, Any]:
        """A datetime: fine in-process, not across processes."""
        return {"when": datetime(2026, 1, 1)}


LEASE_MS = 900
"""Short leases, so that a stopped or killed owner's partitions move within about a second."""


async def _worker(url: str, namespace: str, name: str, *, start: bool = True, **options: Any) -> RedisAgentRuntime:
    runtime = RedisAgentRuntime(
        url, namespace=namespace, worker_id=name, lease_ms=LEASE_MS, checkpointed_types=["kept"], **options
    )
    await Counter.register(runtime, "counter", Counter)
    await Counter.register(runtime, "kept", Counter)
    await Broken.register(runtime, "broken", Broken)
    await Opaque.register(runtime, "opaque", Opaque)
    if start:
        await runtime.start()
    return runtime


@contextlib.asynccontextmanager
async def _owner_and_client(
    url: str, namespace: str, **owner_options: Any
) -> AsyncIterator[tuple[RedisAgentRuntime, RedisAgentRuntime]]:
    """A worker named ``owner`` that hosts the test types, and a client that hosts nothing; both closed after."""
    owner = await _worker(url, namespace, "owner", **owner_options)
    try:
        client = await _client(url, namespace)
        try:
            yield owner, client
        finally:
            await client.close()
    finally:
        await owner.close()


async def _client(url: str, namespace: str, **options: Any) -> RedisAgentRuntime:
    """A worker that hosts nothing: every agent is on another worker."""
    runtime = RedisAgentRuntime(url, namespace=namespace, worker_id="client", lease_ms=LEASE_MS, **options)
    await runtime.start()
    return runtime


async def _checkpoint(url: str, namespace: str, agent_id: AgentId) -> Any:
    client = redis.asyncio.Redis.from_url(url)
    try:
        raw = await client.get(f"salon:{namespace}:state:{agent_id.type}/{agent_id.key}")
    finally:
        await client.aclose()
    return None if raw is None else json.loads(raw)


def _namespace() -> str:
    return f"rstate-{uuid.uuid4().hex[:8]}"


async def test_state_and_metadata_of_an_agent_on_another_worker(redis_url: str) -> None:
    namespace = _namespace()
    async with _owner_and_client(redis_url, namespace) as (owner, client):
        agent = AgentId("counter", "k")
        async with asyncio.timeout(20):
            # created on demand by the owner, as in-process
            assert await client.agent_save_state(agent) == {"count": 0, "pid": os.getpid()}
            assert await client.send_message(Add(2), agent) == 2
            assert (await client.agent_save_state(agent))["count"] == 2
            await client.agent_load_state(agent, {"count": 10})
            assert await client.send_message(Add(), agent) == 11
            assert await client.agent_metadata(agent) == {
                "type": "counter",
                "key": "k",
                "description": "counts what it is sent",
            }
            assert await client.agent_metadata(AgentId("counter", "fresh")) == {
                "type": "counter",
                "key": "fresh",
                "description": "counts what it is sent",
            }
            # it all happened to the owner's one instance
            instance = await owner.try_get_underlying_agent_instance(agent, Counter)
            assert instance.count == 11
            assert "fresh" in owner._instances["counter"]
            await client.stop_when_idle()  # the control requests were counted and acknowledged


async def test_a_worker_that_hosts_the_type_reaches_the_partition_owner(redis_url: str) -> None:
    namespace = _namespace()
    owner = await _worker(redis_url, namespace, "owner", partitions=1)  # takes the only partition
    other = await _worker(redis_url, namespace, "other", partitions=1)  # hosts the types, owns nothing
    agent = AgentId("counter", "k")
    try:
        async with asyncio.timeout(20):
            await other.agent_load_state(agent, {"count": 4})
            assert await other.send_message(Add(), agent) == 5
            assert await other.agent_save_state(agent) == {"count": 5, "pid": os.getpid()}
            assert (await owner.try_get_underlying_agent_instance(agent, Counter)).count == 5
            assert "k" not in other._instances["counter"], "no second instance was made"
            with pytest.raises(NotAccessibleError, match=r"worker 'owner'.*agent_save_state / agent_load_state"):
                await other.try_get_underlying_agent_instance(agent)
            # the owner itself takes the local path: same instance, same state
            assert await owner.agent_save_state(agent) == {"count": 5, "pid": os.getpid()}
    finally:
        await other.close()
        await owner.close()


async def test_a_state_call_comes_after_the_messages_sent_before_it(redis_url: str) -> None:
    namespace = _namespace()
    async with _owner_and_client(redis_url, namespace) as (_owner, client):
        agent = AgentId("counter", "k")
        async with asyncio.timeout(20):
            assert await client.send_message(Add(), agent) == 1
            # A sequential agent handles one message at a time: the save waits for the three before it.
            adds = [asyncio.ensure_future(client.send_message(Add(delay=0.1), agent)) for _ in range(3)]
            await asyncio.sleep(0)  # each send queued its entry
            assert (await client.agent_save_state(agent))["count"] == 4
            assert [add.done() for add in adds] == [True] * 3
            # and a load comes before the messages sent after it
            load = asyncio.ensure_future(client.agent_load_state(agent, {"count": 100}))
            await asyncio.sleep(0)
            assert await client.send_message(Add(), agent) == 101
            await load


async def test_a_checkpointed_agent_loads_into_its_checkpoint_and_restores_from_it(redis_url: str) -> None:
    namespace = _namespace()
    first = await _worker(redis_url, namespace, "first")
    client = await _client(redis_url, namespace)
    remote, local = AgentId("kept", "k"), AgentId("kept", "j")
    second: RedisAgentRuntime | None = None
    closed = False
    try:
        async with asyncio.timeout(30):
            await client.agent_load_state(remote, {"count": 5})
            assert await _checkpoint(redis_url, namespace, remote) == {"count": 5, "pid": os.getpid()}
            # the owner's own call on a checkpointed agent also updates the checkpoint
            await first.agent_load_state(local, {"count": 7})
            assert (await _checkpoint(redis_url, namespace, local))["count"] == 7
            assert await first.send_message(Add(), local) == 8
            await first.close()  # gives its partitions back; its instances are gone
            closed = True

            second = await _worker(redis_url, namespace, "second")
            # created on demand on the new owner, from the checkpoint
            assert (await client.agent_save_state(remote))["count"] == 5
            assert await client.send_message(Add(), remote) == 6
            assert (await second.agent_save_state(local))["count"] == 8
    finally:
        await client.close()
        if not closed:
            await first.close()
        if second is not None:
            await second.close()


class SeenBySlowInterventions(DefaultInterventionHandler):
    """Records what intervention handlers see, and waits a little each time (so the dispatcher pauses)."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    async def on_send(self, message: Any, *, message_context: MessageContext, recipient: AgentId) -> Any:
        """Record and pass the message on."""
        self.seen.append(f"send {type(message).__name__}")
        await asyncio.sleep(0.01)
        return message

    async def on_response(self, message: Any, *, sender: AgentId, recipient: AgentId | None) -> Any:
        """Record and pass the response on."""
        self.seen.append(f"response {message!r}")
        return message


async def test_intervention_handlers_see_messages_but_not_state_calls(redis_url: str) -> None:
    namespace = _namespace()
    interventions = SeenBySlowInterventions()
    async with _owner_and_client(redis_url, namespace, intervention_handlers=[interventions]) as (_owner, client):
        agent = AgentId("counter", "k")
        async with asyncio.timeout(10):
            add = asyncio.ensure_future(client.send_message(Add(), agent))
            await asyncio.sleep(0)
            assert (await client.agent_save_state(agent))["count"] == 1, "still after the message"
            await add
            await client.agent_load_state(agent, {"count": 5})
            assert await client.agent_metadata(agent) == {
                "type": "counter",
                "key": "k",
                "description": "counts what it is sent",
            }
            assert interventions.seen == ["send Add", "response 1"]


async def test_an_unknown_type_is_refused_at_once(redis_url: str) -> None:
    namespace = _namespace()
    async with _owner_and_client(redis_url, namespace) as (owner, client):
        ghost = AgentId("ghost", "k")
        async with asyncio.timeout(10):
            with pytest.raises(
                LookupError, match=r"call agent_save_state on an agent of agent type 'ghost'.*registered: .*'counter'"
            ):
                await client.agent_save_state(ghost)
            with pytest.raises(LookupError, match="call agent_load_state on an agent of agent type 'ghost'"):
                await client.agent_load_state(ghost, {})
            with pytest.raises(LookupError, match="call agent_metadata on an agent of agent type 'ghost'"):
                await client.agent_metadata(ghost)
            with pytest.raises(LookupError, match="'ghost'"):
                await owner.agent_save_state(ghost)


async def test_errors_of_the_agent_reach_the_caller_with_their_type(redis_url: str) -> None:
    namespace = _namespace()
    async with _owner_and_client(redis_url, namespace) as (owner, client):
        async with asyncio.timeout(10):
            with pytest.raises(StateError, match="no state today") as caught:
                await client.agent_save_state(AgentId("broken", "k"))
            assert any("Raised in another process" in note for note in caught.value.__notes__)
            with pytest.raises(StateError, match=r"cannot load \['a'\]"):
                await client.agent_load_state(AgentId("broken", "k"), {"a": 1})
            with pytest.raises(
                ValueError,
                match=r"Agent opaque/k's save_state\(\) returned data that is not JSON \(Object of type datetime",
            ):
                await client.agent_save_state(AgentId("opaque", "k"))
            # in-process rules where the agent lives: the owner gets the datetime itself
            assert await owner.agent_save_state(AgentId("opaque", "k")) == {"when": datetime(2026, 1, 1)}
            with pytest.raises(ValueError, match=r"must be JSON data.*not JSON serializable"):
                await client.agent_load_state(AgentId("counter", "k"), {"when": datetime(2026, 1, 1)})
            with pytest.raises(ValueError, match="over max_message_bytes"):
                await client.agent_load_state(AgentId("counter", "k"), {"blob": "x" * (9 * 1024 * 1024)})
            await client.stop_when_idle()  # every request was answered and acknowledged


async def test_without_a_live_owner_rpc_timeout_ends_the_wait(redis_url: str) -> None:
    namespace = _namespace()
    gone = await _worker(redis_url, namespace, "gone")
    await gone.close()  # the type stays registered; no live worker hosts it
    client = await _client(redis_url, namespace, rpc_timeout=0.5)
    busy_owner: RedisAgentRuntime | None = None
    try:
        async with asyncio.timeout(20):
            with pytest.raises(UndeliverableException, match="no live worker hosts it"):
                await client.agent_save_state(AgentId("counter", "k"))
            with pytest.raises(UndeliverableException, match="no live worker hosts it"):
                await client.agent_metadata(AgentId("counter", "k"))

            # a live but busy owner: a plain TimeoutError, and the request still runs, whole, when its turn comes
            busy_owner = await _worker(redis_url, namespace, "busy")  # also handles the two abandoned requests
            slow = asyncio.ensure_future(busy_owner.send_message(Add(delay=1.5), AgentId("counter", "k")))
            await asyncio.sleep(0.3)  # it is written and being handled (another writer than the client's)
            with pytest.raises(
                TimeoutError, match=r"No reply from counter/k to agent_load_state within rpc_timeout=0.5s"
            ):
                await client.agent_load_state(AgentId("counter", "k"), {"count": 40})
            assert await slow == 1
            assert (await busy_owner.agent_save_state(AgentId("counter", "k")))["count"] == 40
            await busy_owner.stop_when_idle()  # every abandoned request was handled and acknowledged
    finally:
        await client.close()
        if busy_owner is not None:
            await busy_owner.close()


# ---------------------------------------------------------------------- the owner in another process


async def test_state_of_an_agent_in_a_worker_process_and_after_it_was_killed(redis_url: str) -> None:
    namespace = _namespace()
    doomed = await asyncio.to_thread(start_worker, __file__, redis_url, namespace)
    client = await _client(redis_url, namespace)
    counter, kept = AgentId("counter", "k"), AgentId("kept", "k")
    survivor: subprocess.Popen[str] | None = None
    try:
        async with asyncio.timeout(30):
            assert await client.agent_save_state(counter) == {"count": 0, "pid": doomed.pid}
            await client.agent_load_state(counter, {"count": 20})
            assert await client.send_message(Add(), counter) == 21
            assert await client.agent_metadata(counter) == {
                "type": "counter",
                "key": "k",
                "description": "counts what it is sent",
            }
            await client.agent_load_state(kept, {"count": 3})
            assert await client.send_message(Add(), kept) == 4

            doomed.send_signal(signal.SIGKILL)
            doomed.wait()
            # asked while no worker is alive: the request waits in the stream for the next owner
            saved = asyncio.ensure_future(client.agent_save_state(kept))
            await asyncio.sleep(0.2)
            assert not saved.done()
            survivor = await asyncio.to_thread(start_worker, __file__, redis_url, namespace)
            assert await saved == {"count": 4, "pid": survivor.pid}, "restored from the checkpoint there"
            assert await client.agent_save_state(counter) == {"count": 0, "pid": survivor.pid}, "not checkpointed"
    finally:
        await client.close()
        if doomed.poll() is None:
            doomed.kill()
            doomed.communicate()
        errors = stop_worker(survivor) if survivor is not None else ""
    assert survivor is not None and survivor.returncode == 0, errors


async def _serve(url: str, namespace: str) -> None:
    await serve_until_stdin_closes(await _worker(url, namespace, f"worker-{os.getpid()}", start=False))


if __name__ == "__main__":
    run_worker(_serve)
