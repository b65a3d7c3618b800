"""W1 sequential RPC: round trips to one echo agent, one request in flight at a time.

This is the latency of ``send_message`` itself: the caller awaits each reply
before sending the next, so nothing overlaps and every per-message cost of the
runtime shows. Latency is timed around each call with ``perf_counter_ns``.
"""

from __future__ import annotations

import gc
import time

from benchmarks._measure import Clock, check, latencies_us
from benchmarks._spec import Metrics, Params, Workload
from benchmarks._subject import Subject


async def run(subject: Subject, p: Params) -> Metrics:
    n, warmup = p["round_trips"], p["warmup"]
    runtime = subject.make_runtime()
    await subject.register_echo(runtime, "echo")
    subject.start(runtime)
    send = subject.send
    for i in range(warmup):
        check(await send(runtime, "echo", "default", i) == i, "warm-up reply differs from request")

    now = time.perf_counter_ns
    latencies = [0] * n
    wrong = 0
    gc.collect()
    with Clock() as clock:
        for i in range(n):
            t0 = now()
            reply = await send(runtime, "echo", "default", i)
            latencies[i] = now() - t0
            wrong += reply != i
    await subject.stop(runtime)

    check(wrong == 0, f"{wrong} of {n} replies differ from their request")
    check(subject.live_agents(runtime) == 1, "expected exactly one echo agent")
    return {
        "round_trips_per_s": n / clock.wall_s,
        **latencies_us(latencies),
        "cpu_us_per_op": clock.cpu_s / n * 1e6,
        "wall_s": clock.wall_s,
    }


WORKLOAD = Workload(
    id="W1",
    title="W1 sequential RPC",
    params={"round_trips": 20_000, "warmup": 1_000},
    shown=("round_trips_per_s", "p50_us", "p99_us", "cpu_us_per_op"),
    run_async=run,
)
