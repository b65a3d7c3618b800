"""Dead workers' inboxes expire, live ones stay; a worker back after its inbox expired makes it again.

Run as a script, this module is a worker: ``python test_runtime_inboxes.py URL NAMESPACE WORKER_ID`` prints
``ready``, then calls ``echo/k`` every 0.1 s and prints ``pong N`` for each answer (``timeout N`` for a call whose
reply was lost with its inbox).
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
import uuid
from dataclasses import dataclass

import redis
from worker_processes import READY, run_worker, start_worker

from salon import AgentId, MessageContext, RoutedAgent, message_handler, try_get_known_serializers_for_type
from salon_redis import RedisAgentRuntime
from salon_redis._runtime_scripts import BATCH

LEASE_MS = 300
INBOX_TTL_MS = 10 * LEASE_MS
"""Ten lease periods without a heartbeat: then a worker's inbox expires."""


@dataclass
class Ping:
    """Answered with its number."""

    n: int


class Echo(RoutedAgent):
    """Answers a ping with its number."""

    def __init__(self) -> None:
        super().__init__("echoes")

    @message_handler
    async def on_ping(self, message: Ping, ctx: MessageContext) -> int:
        """The ping's number."""
        return message.n


async def _ping_forever(url: str, namespace: str, worker_id: str) -> None:
    runtime = RedisAgentRuntime(url, namespace=namespace, worker_id=worker_id, lease_ms=LEASE_MS, rpc_timeout=2)
    runtime.add_message_serializer(try_get_known_serializers_for_type(Ping))
    await runtime.start()
    print(READY, flush=True)
    n = 0
    while True:
        n += 1
        try:
            print(f"pong {await runtime.send_message(Ping(n), AgentId('echo', 'k'))}", flush=True)
        except TimeoutError:
            print(f"timeout {n}", flush=True)
        await asyncio.sleep(0.1)


def _start_pinger(url: str, namespace: str, worker_id: str) -> subprocess.Popen[str]:
    return start_worker(__file__, url, namespace, worker_id)


async def _next_pong(proc: subprocess.Popen[str]) -> int:
    """The number of the next answer the pinger prints (skipping calls that timed out)."""
    while True:
        line = await asyncio.to_thread(proc.stdout.readline)  # type: ignore[union-attr]
        assert line, "the pinger ended"
        if line.startswith("pong "):
            return int(line.split()[1])


async def _echo_host(url: str, namespace: str) -> RedisAgentRuntime:
    host = RedisAgentRuntime(url, namespace=namespace, worker_id="host", lease_ms=LEASE_MS)
    await Echo.register(host, "echo", Echo)
    await host.start()
    return host


def _end(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.communicate(timeout=10)


async def test_a_dead_workers_inbox_expires_and_a_live_ones_stays(redis_url: str, client: redis.Redis) -> None:
    namespace = f"inbox-{uuid.uuid4().hex[:8]}"
    host = await _echo_host(redis_url, namespace)
    doomed = _start_pinger(redis_url, namespace, "doomed")
    inbox = f"salon:{namespace}:inbox:doomed"
    try:
        await _next_pong(doomed)
        assert 0 < client.pttl(inbox) <= INBOX_TTL_MS
        doomed.send_signal(signal.SIGKILL)
        killed = time.monotonic()
        await asyncio.sleep(5 * LEASE_MS / 1000)
        # Its leases and heartbeat expired long ago, but it may still be merely slow: the inbox is kept.
        assert client.exists(inbox), "deleted after 5 lease periods: too soon for a worker that is only slow"
        while client.exists(inbox):
            assert time.monotonic() - killed < INBOX_TTL_MS / 1000 + 2, "the dead worker's inbox stayed"
            await asyncio.sleep(0.1)
        assert time.monotonic() - killed >= INBOX_TTL_MS / 1000 - 0.5
        assert client.zscore(f"salon:{namespace}:workers", "doomed") is None

        # The live worker's inbox was refreshed by its heartbeat all along, and its calls still get answers.
        live_inbox = f"salon:{namespace}:inbox:host"
        assert 0 < client.pttl(live_inbox) <= INBOX_TTL_MS
        assert await host.send_message(Ping(7), AgentId("echo", "k")) == 7
    finally:
        _end(doomed)
        await host.close()


async def test_a_worker_that_stalled_until_its_inbox_expired_makes_it_again(
    redis_url: str, client: redis.Redis
) -> None:
    namespace = f"inbox-{uuid.uuid4().hex[:8]}"
    host = await _echo_host(redis_url, namespace)
    pinger = _start_pinger(redis_url, namespace, "pinger")
    inbox = f"salon:{namespace}:inbox:pinger"
    try:
        async with asyncio.timeout(30):
            await _next_pong(pinger)
            pinger.send_signal(signal.SIGSTOP)  # stalled: no heartbeat, no reads
            stopped = time.monotonic()
            while client.exists(inbox):
                assert time.monotonic() - stopped < INBOX_TTL_MS / 1000 + 2, "the stalled worker's inbox stayed"
                await asyncio.sleep(0.1)
            pinger.send_signal(signal.SIGCONT)
            # It comes back: its reads meet the missing inbox (NOGROUP), it joins again, and calls work again.
            last = await _next_pong(pinger)
            assert await _next_pong(pinger) == last + 1
            assert 0 < client.pttl(inbox) <= INBOX_TTL_MS, "made again, with the expiry its heartbeat refreshes"
            assert [group["name"] for group in client.xinfo_groups(inbox)] == [b"g"]
    finally:
        _end(pinger)
        await host.close()


def test_a_late_reply_to_a_dead_worker_does_not_make_an_inbox_that_stays(client: redis.Redis) -> None:
    """A handler that finishes after its caller died and its inbox expired writes the reply to a new stream;
    that stream gets an expiry, or it would stay forever (nobody heartbeats for it)."""
    prefix = f"salon:late-{uuid.uuid4().hex[:8]}:"
    gone, live = prefix + "inbox:gone", prefix + "inbox:live"
    client.xadd(live, {"h": "x"})
    client.pexpire(live, INBOX_TTL_MS)
    base = [prefix + "seq", prefix + "pending", prefix + "version"]
    reply = ["R4", '["o", "gone/1"]', "null", "R5", '["o", "live/1"]', "null"]
    assert client.eval(BATCH, 5, *base, gone, live, "", "0", *reply) == 1
    assert client.xlen(gone) == 1
    assert INBOX_TTL_MS < client.pttl(gone) <= 600_000, "a reply that makes an inbox gives it ten minutes"
    assert 0 < client.pttl(live) <= INBOX_TTL_MS, "a live worker's own expiry is left alone"


if __name__ == "__main__":
    run_worker(_ping_forever)
