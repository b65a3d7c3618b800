"""Worker processes and a client process form one cluster: RPC (also agent to agent) and publish cross them,
a type hosted by two processes is split between them, and a SIGKILLed worker's messages are redelivered.

Run as a script, this module is a worker: ``python test_runtime_processes.py URL NAMESPACE ROLE`` hosts the
agent type ROLE until its stdin closes (with ``SALON_TEST_HANG=1``, ``Job`` handlers never finish).
"""

from __future__ import annotations

import asyncio
import collections
import json
import os
import signal
import subprocess
import uuid
from dataclasses import dataclass, field

import pytest
import redis
import redis.asyncio
from worker_processes import run_worker, serve_until_stdin_closes, start_worker, stop_worker

from salon import (
    AgentId,
    MessageContext,
    RoutedAgent,
    TopicId,
    TypeSubscription,
    message_handler,
    try_get_known_serializers_for_type,
    type_subscription,
)
from salon.exceptions import RemoteException
from salon_redis import RedisAgentRuntime
from salon_redis._runtime_keys import partition_of


@dataclass
class Ask:
    """Asks for an answer; ``beta`` asks ``alpha`` in turn."""

    text: str


@dataclass
class Answer:
    """Says who answered: the text passed along, and the process ids it went through."""

    text: str
    pids: list[int] = field(default_factory=list)


@dataclass
class Note:
    """Published to the ``news`` topic."""

    text: str


@dataclass
class Report:
    """Asks an agent for the notes it received."""


@dataclass
class Fail:
    """Makes the agent raise: ``value`` a ValueError, anything else an error type only the worker knows."""

    kind: str


@dataclass
class Job:
    """Recorded (message id, process id) in the Redis list ``jobs:{namespace}``, then answered."""

    name: str


class WorkerOnlyError(Exception):
    """Defined in the worker (where this module is ``__main__``), so the client cannot rebuild it."""


@type_subscription("news")
class Member(RoutedAgent):
    """Answers, forwards (as ``beta``), records notes and fails on demand."""

    def __init__(self) -> None:
        super().__init__("a cluster member")
        self.notes: list[str] = []

    @message_handler
    async def on_ask(self, message: Ask, ctx: MessageContext) -> Answer:
        """``beta`` asks ``alpha`` (in the other process) first."""
        if self.id.type == "beta":
            inner = await self.send_message(Ask(message.text), AgentId("alpha", self.id.key))
            assert isinstance(inner, Answer)
            return Answer(f"beta({inner.text})", [os.getpid(), *inner.pids])
        return Answer(f"{self.id.type}({message.text})", [os.getpid()])

    @message_handler
    async def on_note(self, message: Note, ctx: MessageContext) -> None:
        """Remember the note."""
        self.notes.append(message.text)

    @message_handler
    async def on_report(self, message: Report, ctx: MessageContext) -> list[str]:
        """The notes received so far."""
        return self.notes

    @message_handler
    async def on_fail(self, message: Fail, ctx: MessageContext) -> None:
        """Raise the requested error."""
        if message.kind == "value":
            raise ValueError("bad input from the test")
        raise WorkerOnlyError("only the worker knows this type")

    @message_handler
    async def on_job(self, message: Job, ctx: MessageContext) -> Answer:
        """Record the attempt where the test can see it even if this process is killed, then answer (or hang)."""
        client = redis.asyncio.Redis.from_url(os.environ["SALON_TEST_URL"])
        await client.rpush(f"jobs:{os.environ['SALON_TEST_NAMESPACE']}", json.dumps([ctx.message_id, os.getpid()]))
        await client.aclose()
        if os.environ.get("SALON_TEST_HANG"):
            await asyncio.Event().wait()
        return Answer(f"{self.id.type}({message.name})", [os.getpid()])


LEASE_MS = 900
"""Short leases, so that a killed worker's partitions move within about a second."""


async def _serve(url: str, namespace: str, role: str) -> None:
    runtime = RedisAgentRuntime(url, namespace=namespace, worker_id=f"{role}-{os.getpid()}", lease_ms=LEASE_MS)
    await Member.register(runtime, role, Member)
    await serve_until_stdin_closes(runtime)


def _start_worker(url: str, namespace: str, role: str, *, hang: bool = False) -> subprocess.Popen[str]:
    env = {"SALON_TEST_URL": url, "SALON_TEST_NAMESPACE": namespace, **({"SALON_TEST_HANG": "1"} if hang else {})}
    return start_worker(__file__, url, namespace, role, env=env)


async def test_two_worker_processes_exchange_rpc_and_publish(redis_url: str) -> None:
    namespace = f"procs-{uuid.uuid4().hex[:8]}"
    workers = await asyncio.gather(
        asyncio.to_thread(_start_worker, redis_url, namespace, "alpha"),
        asyncio.to_thread(_start_worker, redis_url, namespace, "beta"),
    )
    client = RedisAgentRuntime(redis_url, namespace=namespace, worker_id="client")
    client.add_message_serializer(try_get_known_serializers_for_type(Answer))
    try:
        async with asyncio.timeout(30):
            await client.start()
            # client -> beta (process 2) -> alpha (process 1) -> back
            answer = await client.send_message(Ask("hi"), AgentId("beta", "k1"))
            assert answer == Answer("beta(alpha(hi))", [workers[1].pid, workers[0].pid])

            # publish: each subscribed agent once, across processes; the sender is left out
            await client.publish_message(Note("to both"), TopicId("news", "k1"))
            await client.publish_message(Note("not to alpha"), TopicId("news", "k1"), sender=AgentId("alpha", "k1"))
            await client.stop_when_idle()  # the whole cluster is idle: every note was handled
            client.start()
            assert await client.send_message(Report(), AgentId("alpha", "k1")) == ["to both"]
            assert await client.send_message(Report(), AgentId("beta", "k1")) == ["to both", "not to alpha"]

            # errors keep their type where the client can import it, else arrive as RemoteException
            with pytest.raises(ValueError, match="bad input from the test"):
                await client.send_message(Fail("value"), AgentId("alpha", "k2"))
            with pytest.raises(RemoteException) as caught:
                await client.send_message(Fail("custom"), AgentId("beta", "k2"))
            assert caught.value.type_name == "__main__.WorkerOnlyError"
            assert "only the worker knows this type" in str(caught.value)
            assert "Traceback" in caught.value.remote_traceback

            # a type no worker registered is refused at once, naming the ones that exist
            with pytest.raises(LookupError, match=r"'gamma'.*'alpha', 'beta'"):
                await client.send_message(Ask("x"), AgentId("gamma", "k"))
    finally:
        await client.close()
        errors = [stop_worker(proc) for proc in workers]
    assert [proc.returncode for proc in workers] == [0, 0], errors


async def _lease_owners(url: str, namespace: str) -> list[int]:
    """The process id holding each partition lease of type ``shared`` (0 for a free one)."""
    client = redis.asyncio.Redis.from_url(url)
    owners = await client.mget([f"salon:{namespace}:lease:shared:{index}" for index in range(8)])
    await client.aclose()
    return [int(owner.decode().rsplit("-", 1)[1]) if owner else 0 for owner in owners]


async def test_a_type_hosted_by_two_processes_is_split_between_them(redis_url: str) -> None:
    namespace = f"split-{uuid.uuid4().hex[:8]}"
    first = await asyncio.to_thread(_start_worker, redis_url, namespace, "shared")
    client = RedisAgentRuntime(redis_url, namespace=namespace, worker_id="client")
    client.add_message_serializer(try_get_known_serializers_for_type(Answer))
    second: subprocess.Popen[str] | None = None
    try:
        async with asyncio.timeout(30):
            await client.start()
            keys = [f"k{n}" for n in range(24)]
            before = {key: (await client.send_message(Ask(key), AgentId("shared", key))).pids[0] for key in keys}
            assert set(before.values()) == {first.pid}, "one worker hosts everything"
            second = await asyncio.to_thread(_start_worker, redis_url, namespace, "shared")
            owners = await _lease_owners(redis_url, namespace)
            while 0 in owners or sorted(collections.Counter(owners).values()) != [4, 4]:  # half moves over
                await asyncio.sleep(LEASE_MS / 3000)
                owners = await _lease_owners(redis_url, namespace)
            assert set(owners) == {first.pid, second.pid}
            for _ in range(3):  # every agent is handled by the owner of its partition, and stays there
                for key in keys:
                    answer = await client.send_message(Ask(key), AgentId("shared", key))
                    assert answer.pids == [owners[partition_of(key, 8)]]
    finally:
        await client.close()
        errors = [stop_worker(proc) for proc in (first, second) if proc is not None]
    assert [proc.returncode for proc in (first, second) if proc is not None] == [0, 0], errors


async def test_messages_of_a_sigkilled_worker_are_redelivered_to_the_next_owner(redis_url: str) -> None:
    namespace = f"kill-{uuid.uuid4().hex[:8]}"
    jobs = redis.Redis.from_url(redis_url)
    doomed = await asyncio.to_thread(_start_worker, redis_url, namespace, "shared", hang=True)
    client = RedisAgentRuntime(redis_url, namespace=namespace, worker_id="client")
    client.add_message_serializer(try_get_known_serializers_for_type(Answer))
    survivor: subprocess.Popen[str] | None = None
    try:
        async with asyncio.timeout(30):
            await client.start()
            await client.add_subscription(TypeSubscription("work", "shared"))
            call = asyncio.ensure_future(client.send_message(Job("rpc"), AgentId("shared", "a"), message_id="job-rpc"))
            await client.publish_message(Job("event"), TopicId("work", "b"), message_id="job-event")
            while jobs.llen(f"jobs:{namespace}") < 2:  # noqa: ASYNC110 (the handlers run in another process)
                await asyncio.sleep(0.01)  # both started on the doomed worker, and hang
            doomed.send_signal(signal.SIGKILL)
            doomed.wait()
            survivor = await asyncio.to_thread(_start_worker, redis_url, namespace, "shared")
            assert await call == Answer("shared(rpc)", [survivor.pid])
            await client.stop_when_idle()  # the redelivered publish was handled too
        attempts = sorted(tuple(json.loads(item)) for item in jobs.lrange(f"jobs:{namespace}", 0, -1))
        assert attempts == sorted(
            [("job-event", doomed.pid), ("job-event", survivor.pid), ("job-rpc", doomed.pid), ("job-rpc", survivor.pid)]
        ), "each message handled again by the next owner, with the same message id, and no more"
    finally:
        await client.close()
        jobs.close()
        if survivor is not None:
            errors = stop_worker(survivor)
            assert survivor.returncode == 0, errors


if __name__ == "__main__":
    run_worker(_serve)
