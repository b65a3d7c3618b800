"""W2 concurrent RPC: sends gathered in batches to ``keys`` instances of one agent type.

Shows what a runtime does when many requests are outstanding at once: request
``i`` goes to key ``k{i % keys}`` and each batch is one ``asyncio.gather``.
The instances are created in the warm-up, so only message passing is timed.
"""

from __future__ import annotations

import asyncio
import gc

from benchmarks._measure import Clock, check, percentile
from benchmarks._spec import Metrics, Params, Workload
from benchmarks._subject import Subject


async def run(subject: Subject, p: Params) -> Metrics:
    n, batch, n_keys = p["sends"], p["batch"], p["keys"]
    runtime = subject.make_runtime()
    await subject.register_echo(runtime, "echo")
    subject.start(runtime)
    keys = [f"k{k}" for k in range(n_keys)]
    warm = await asyncio.gather(*(subject.send(runtime, "echo", key, 0) for key in keys))
    check(warm == [0] * n_keys, "warm-up replies differ from requests")

    send = subject.send
    batch_ms: list[float] = []
    wrong_batches = 0
    gc.collect()
    with Clock() as clock:
        for first in range(0, n, batch):
            last = min(n, first + batch)
            with Clock() as one:
                replies = await asyncio.gather(
                    *(send(runtime, "echo", keys[i % n_keys], i) for i in range(first, last))
                )
            batch_ms.append(one.wall_s * 1e3)
            wrong_batches += replies != list(range(first, last))
    live = subject.live_agents(runtime)
    await subject.stop(runtime)

    check(wrong_batches == 0, f"{wrong_batches} batches returned wrong replies")
    check(live == n_keys, f"expected {n_keys} live agents, runtime reports {live}")
    batch_ms.sort()
    return {
        "sends_per_s": n / clock.wall_s,
        "batch_p50_ms": percentile(batch_ms, 50),
        "batch_max_ms": batch_ms[-1],
        "cpu_us_per_op": clock.cpu_s / n * 1e6,
        "wall_s": clock.wall_s,
    }


WORKLOAD = Workload(
    id="W2",
    title="W2 concurrent RPC",
    params={"sends": 20_000, "batch": 1_000, "keys": 100},
    unscaled=frozenset({"batch", "keys"}),
    shown=("sends_per_s", "batch_p50_ms", "cpu_us_per_op"),
    run_async=run,
)
