"""Fencing: a worker that stalled past its lease cannot write over the state the partition's new owner committed.

Run as a script, this module is a worker: ``python test_runtime_fencing.py URL NAMESPACE WORKER_ID`` hosts
checkpointed ``counter`` agents in one partition, prints ``ready``, and prints ``stalling`` when a handler starts
blocking its event loop (``time.sleep``: no heartbeat, no renewal, as in a long GC pause).
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

import redis
import redis.asyncio
from worker_processes import run_worker, serve_until_stdin_closes, start_worker

from salon import AgentId, MessageContext, RoutedAgent, message_handler
from salon_redis import RedisAgentRuntime
from salon_redis._runtime_scripts import BATCH, TAKE

LEASE_MS = 600
STALL_S = 4.0
"""How long the stalled worker blocks its event loop: several leases, time for the other worker to take over."""


@dataclass
class Bump:
    """Adds one to the counter; the worker named ``stall_on`` blocks its event loop for ``seconds`` first."""

    stall_on: str = ""
    seconds: float = 0.0


class Counter(RoutedAgent):
    """Counts the messages it handled and remembers their ids; both are its checkpointed state."""

    def __init__(self, worker_id: str) -> None:
        super().__init__("counts")
        self.worker_id = worker_id
        self.count = 0
        self.seen: list[str] = []

    @message_handler
    async def on_bump(self, message: Bump, ctx: MessageContext) -> int:
        """Count the message; stall the whole worker if it is named."""
        self.count += 1
        self.seen.append(ctx.message_id)
        if message.stall_on == self.worker_id:
            print("stalling", flush=True)
            time.sleep(message.seconds)  # noqa: ASYNC251  (on purpose: a stop-the-world pause)
            print("woke", flush=True)
        return self.count

    async def save_state(self) -> dict[str, Any]:
        """The count and the ids of the messages counted."""
        return {"count": self.count, "seen": self.seen}

    async def load_state(self, state: Any) -> None:
        """Take the count and the ids over."""
        self.count = state["count"]
        self.seen = list(state["seen"])


def _runtime(url: str, namespace: str, worker_id: str) -> RedisAgentRuntime:
    return RedisAgentRuntime(
        url, namespace=namespace, worker_id=worker_id, lease_ms=LEASE_MS, partitions=1, checkpointed_types=["counter"]
    )


async def _serve(url: str, namespace: str, worker_id: str) -> None:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(message)s")
    runtime = _runtime(url, namespace, worker_id)
    await Counter.register(runtime, "counter", lambda: Counter(worker_id))
    await serve_until_stdin_closes(runtime)


async def _line_containing(stream: Any, text: str) -> str:
    """The first line of a worker's output that contains ``text`` (reading it in a thread: it blocks)."""
    seen: list[str] = []
    while True:
        line = await asyncio.to_thread(stream.readline)
        if not line:
            raise AssertionError(f"the worker ended without printing {text!r}; it printed: {seen}")
        seen.append(line)
        if text in line:
            return str(line)


async def _checkpoint(server: redis.asyncio.Redis, key: str) -> Any:
    """The checkpointed state stored at ``key``."""
    stored = await server.get(key)
    assert stored is not None, f"no checkpoint at {key}"
    return json.loads(stored)


def _collect(stream: Any) -> list[str]:
    """Lines of a worker's stderr, appended as they come by a daemon thread (its logs)."""
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(iter(stream.readline, "")), daemon=True).start()
    return lines


async def test_a_worker_that_stalled_past_its_lease_cannot_write_over_the_new_owners_state(redis_url: str) -> None:
    namespace = f"fence-{uuid.uuid4().hex[:8]}"
    stalling = start_worker(__file__, redis_url, namespace, "stalling")
    logs = _collect(stalling.stderr)
    client = _runtime(redis_url, namespace, "client")  # hosts nothing: it only calls
    successor = _runtime(redis_url, namespace, "successor")
    await Counter.register(successor, "counter", lambda: Counter("successor"))
    server = redis.asyncio.Redis.from_url(redis_url)
    checkpoint_key = f"salon:{namespace}:state:counter/k"
    agent = AgentId("counter", "k")
    try:
        async with asyncio.timeout(60):
            await client.start()
            assert await client.send_message(Bump(), agent, message_id="m1") == 1  # the stalling worker's agent
            stalled = asyncio.ensure_future(
                client.send_message(Bump("stalling", STALL_S), agent, message_id="m2-stalled")
            )
            await _line_containing(stalling.stdout, "stalling")
            started = time.monotonic()
            await successor.start()  # takes the partition once the stalled worker's lease expired
            # It claims the stalled message and handles it again, from the checkpoint the stalled worker left.
            assert await stalled == 2
            assert await client.send_message(Bump(), agent, message_id="m3") == 3
            assert await client.send_message(Bump(), agent, message_id="m4") == 4
            assert time.monotonic() - started < STALL_S, "the takeover was slower than the stall: nothing tested"
            newer = {"count": 4, "seen": ["m1", "m2-stalled", "m3", "m4"]}
            assert await _checkpoint(server, checkpoint_key) == newer

            # The stalled worker wakes up, finishes m2 on its old instance (count 2), and tries to commit it.
            await _line_containing(stalling.stdout, "woke")
            for _ in range(100):
                if any("fenced off" in line for line in logs):
                    break
                await asyncio.sleep(0.05)
            assert await _checkpoint(server, checkpoint_key) == newer, "the stale checkpoint was not written"
            warning = next(line for line in logs if "fenced off" in line)
            assert "Worker stalling" in warning and ("counter partition 0" in warning or "fence:counter:0" in warning)
            assert await server.get(f"salon:{namespace}:lease:counter:0") == b"successor"
            assert await client.send_message(Bump(), agent, message_id="m5") == 5

            # The partition goes back to the worker that stalled: it dropped its stale agent, so the agent
            # continues from the checkpoint (6), not from its old instance's count (3).
            await successor.close()
            got6 = await client.send_message(Bump(), agent, message_id="m6")
            assert got6 == 6, (got6, logs, await server.get(checkpoint_key))
            final = await _checkpoint(server, checkpoint_key)
            assert final == {"count": 6, "seen": ["m1", "m2-stalled", "m3", "m4", "m5", "m6"]}
            await client.stop_when_idle()
            assert int(await server.get(f"salon:{namespace}:pending") or 0) == 0, "each message counted off once"
    finally:
        await client.close()
        await successor.close()
        await server.aclose()
        if stalling.poll() is None:
            assert stalling.stdin is not None
            stalling.stdin.close()  # its signal to close
            stalling.wait(timeout=30)
    assert stalling.returncode == 0, logs


async def test_a_write_of_an_older_tenure_is_fenced_off_even_when_the_same_worker_holds_the_lease_again(
    client: redis.Redis,
) -> None:
    """The ABA case a plain owner check misses: worker ``w`` lost the lease, took it back, and a write of its
    first tenure arrives late. Only the generation tells them apart."""
    prefix = f"salon:aba-{uuid.uuid4().hex[:8]}:"
    lease, fence, state, stream = (prefix + name for name in ("lease:t:0", "fence:t:0", "state:t/k", "p:t:0"))
    assert client.eval(TAKE, 2, lease, fence, "w", 10_000) == 1, "a first tenure"
    assert client.eval(TAKE, 2, lease, fence, "w", 10_000) == 1, "kept: the same tenure"
    client.delete(lease)  # expired; another worker would take it here
    assert client.eval(TAKE, 2, lease, fence, "other", 10_000) == 2
    client.delete(lease)
    assert client.eval(TAKE, 2, lease, fence, "w", 10_000) == 3, "w again, in a new tenure"
    assert client.get(lease) == b"w"

    base = [prefix + "seq", prefix + "pending", prefix + "version"]
    old_write = ["", "0", "F4", "1", "S5", '{"count": 1}', "F", "S5", '{"unfenced": true}']
    assert client.eval(BATCH, 6, *base, fence, state, stream, *old_write) == [fence.encode(), b"1"]
    assert client.get(state) == b'{"unfenced": true}', "only the write of the old tenure was skipped"
    assert client.eval(BATCH, 6, *base, fence, state, stream, "", "0", "F4", "3", "S5", '{"count": 2}') == 1
    assert client.get(state) == b'{"count": 2}'


if __name__ == "__main__":
    run_worker(_serve)
