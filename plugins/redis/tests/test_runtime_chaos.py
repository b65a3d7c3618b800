"""Chaos: three worker processes, thousands of mixed RPCs and publishes to a thousand agents; one worker is
SIGKILLed and another started mid-run. Every message is handled; only messages in flight on the killed worker
are handled twice; the checkpointed state of every agent counts each message exactly once.

Run as a script, this module is a worker: ``python test_runtime_chaos.py URL NAMESPACE LOG`` hosts ``acc``
agents and appends one line per handled message to LOG (line-buffered, so lines written before a SIGKILL stay).
"""

from __future__ import annotations

import asyncio
import collections
import json
import os
import signal
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis
from worker_processes import serve_until_stdin_closes, start_worker

from salon import AgentId, MessageContext, RoutedAgent, TopicId, TypeSubscription, message_handler
from salon_redis import RedisAgentRuntime

MESSAGES = 10_000
AGENTS = 1_000
LEASE_MS = 1_500
KILL_AT, JOIN_AT = 3_000, 5_000
"""Messages accepted before the first worker is killed, and before a new worker joins."""


@dataclass
class Add:
    """One unit of work for an accumulator."""

    n: int


class Accumulator(RoutedAgent):
    """Remembers which messages it handled (by id); its state is that set, checkpointed after each message."""

    def __init__(self, log: Any) -> None:
        super().__init__("accumulates")
        self.seen: set[str] = set()
        self.log = log

    @message_handler
    async def on_add(self, message: Add, ctx: MessageContext) -> int:
        """Record the handling, and the message in the state (a redelivered one is counted once)."""
        self.log.write(f"{ctx.message_id} {os.getpid()}\n")
        self.seen.add(ctx.message_id)
        await asyncio.sleep(0.05)  # a handler that waits, so that the kill finds messages in flight
        return len(self.seen)

    async def save_state(self) -> dict[str, Any]:
        """The ids of the messages handled."""
        return {"seen": sorted(self.seen)}

    async def load_state(self, state: Any) -> None:
        """Take the ids over."""
        self.seen = set(state["seen"])


async def _serve(url: str, namespace: str, log: Any) -> None:
    runtime = RedisAgentRuntime(
        url, namespace=namespace, worker_id=f"w-{os.getpid()}", lease_ms=LEASE_MS, checkpointed_types=["acc"]
    )
    await Accumulator.register(runtime, "acc", lambda: Accumulator(log))
    await serve_until_stdin_closes(runtime)


def _start(url: str, namespace: str, log: Path) -> subprocess.Popen[str]:
    return start_worker(__file__, url, namespace, str(log))


async def _when_handling(log: Path, message_ids: set[str]) -> None:
    """Return once the worker writing ``log`` started handling one of ``message_ids`` (it is in flight then)."""
    while True:
        lines = (await asyncio.to_thread(log.read_text)).splitlines()
        if any(line.split()[0] in message_ids for line in lines):
            return
        await asyncio.sleep(0.001)  # the worker is another process: its log is what there is to watch


async def test_a_sigkilled_worker_loses_nothing_and_duplicates_only_what_was_in_flight(
    redis_url: str, tmp_path: Path
) -> None:
    namespace = f"chaos-{uuid.uuid4().hex[:8]}"
    logs = [tmp_path / f"worker-{n}.log" for n in range(4)]
    workers = list(await asyncio.gather(*(asyncio.to_thread(_start, redis_url, namespace, logs[n]) for n in range(3))))
    client = RedisAgentRuntime(redis_url, namespace=namespace, worker_id="client", lease_ms=LEASE_MS)
    await client.add_subscription(TypeSubscription("tick", "acc"))
    sent: dict[str, str] = {}  # message id -> agent key
    try:
        async with asyncio.timeout(240):
            await client.start()
            calls: list[asyncio.Future[Any]] = []
            for n in range(MESSAGES):
                key, message_id = f"a{n % AGENTS}", f"m{n}"
                sent[message_id] = key
                if n % 2:
                    await client.publish_message(Add(n), TopicId("tick", key), message_id=message_id)
                else:
                    call = client.send_message(Add(n), AgentId("acc", key), message_id=message_id)
                    calls.append(asyncio.ensure_future(call))
                if len(calls) >= 200:
                    await asyncio.gather(*calls)
                    calls.clear()
                if n == KILL_AT:
                    await _when_handling(logs[0], {f"m{m}" for m in range(n - 2 * len(calls), n + 1, 2)})
                    workers[0].send_signal(signal.SIGKILL)
                if n == JOIN_AT:
                    workers.append(await asyncio.to_thread(_start, redis_url, namespace, logs[3]))
            results = await asyncio.gather(*calls)
            assert all(isinstance(result, int) and result >= 1 for result in results)
            await client.stop_when_idle()  # every accepted message handled and acknowledged, cluster-wide
    finally:
        await client.close()
        for proc in workers:
            if proc.poll() is None:
                proc.communicate(input="", timeout=60)
    assert workers[0].returncode == -signal.SIGKILL
    assert [proc.returncode for proc in workers[1:]] == [0, 0, 0]

    handled: dict[str, list[int]] = collections.defaultdict(list)
    for log in logs:
        for line in log.read_text().splitlines():
            message_id, pid = line.split()
            handled[message_id].append(int(pid))
    assert set(handled) == set(sent), "every accepted message was handled"
    twice = {message_id: pids for message_id, pids in handled.items() if len(pids) > 1}
    assert twice, "the kill found no message in flight: the test did not exercise redelivery"
    assert workers[3].pid in {pid for pids in handled.values() for pid in pids}, "the joining worker got partitions"
    assert all(pids[0] == workers[0].pid and len(pids) == 2 for pids in twice.values()), (
        "only messages in flight on the killed worker are handled again, once"
    )

    expected: dict[str, set[str]] = collections.defaultdict(set)
    for message_id, key in sent.items():
        expected[key].add(message_id)
    server = redis.Redis.from_url(redis_url)
    try:
        states = server.mget([f"salon:{namespace}:state:acc/{key}" for key in sorted(expected)])
    finally:
        server.close()
    for key, state in zip(sorted(expected), states, strict=True):
        assert state is not None and set(json.loads(state)["seen"]) == expected[key], f"state of acc/{key}"


if __name__ == "__main__":
    with open(sys.argv[3], "a", buffering=1) as worker_log:
        asyncio.run(_serve(sys.argv[1], sys.argv[2], worker_log))
