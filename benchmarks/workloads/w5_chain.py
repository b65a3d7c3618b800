"""W5 chain: ``stages`` agents in a line, each republishing to the next topic from inside its handler.

Stages 0..S-2 are forwarders, the last stage is a sink, so one message takes S
publish hops that all originate *inside* a handler, which is where a runtime
that runs every delivery in its own task pays most. Two phases on one runtime:

* latency: one message in flight at a time; end-to-end p50/p99, per hop = e2e / S;
* pipelined: all messages published at once; messages/s through the whole chain.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Callable

from benchmarks._measure import Clock, check, latencies_us
from benchmarks._spec import Metrics, Params, Workload
from benchmarks._subject import Subject


class Sink:
    """Routes arrivals at the last stage to whatever the current phase installed."""

    def __init__(self) -> None:
        self.arrived: Callable[[int], None] = lambda value: None
        self.foreign_keys = 0

    def on_message(self, key: str, value: int) -> None:
        self.foreign_keys += key != "default"
        self.arrived(value)


async def one_at_a_time(subject: Subject, runtime: object, sink: Sink, count: int) -> tuple[list[int], int]:
    """Latency phase: publish, wait for the sink, repeat. Returns latencies and wrong arrivals."""
    loop = asyncio.get_running_loop()
    now = time.perf_counter_ns
    latencies = [0] * count
    wrong = 0
    for i in range(count):
        done: asyncio.Future[int] = loop.create_future()
        sink.arrived = done.set_result
        t0 = now()
        await subject.publish(runtime, "chain0", "default", i)
        wrong += await done != i
        latencies[i] = now() - t0
    return latencies, wrong


async def run(subject: Subject, p: Params) -> Metrics:
    stages, n, warmup = p["stages"], p["messages"], p["warmup"]
    sink = Sink()
    runtime = subject.make_runtime()
    for k in range(stages - 1):
        await subject.register_forwarder(runtime, f"stage{k}", f"chain{k}", f"chain{k + 1}")
    await subject.register_subscriber(runtime, f"stage{stages - 1}", f"chain{stages - 1}", sink.on_message)
    subject.start(runtime)

    _, wrong_warm = await one_at_a_time(subject, runtime, sink, warmup)
    check(wrong_warm == 0, "warm-up messages arrived out of order")
    gc.collect()
    with Clock() as seq_clock:
        seq_latencies, wrong = await one_at_a_time(subject, runtime, sink, n)
    check(wrong == 0, f"{wrong} sequential messages arrived with another value")

    loop = asyncio.get_running_loop()
    now = time.perf_counter_ns
    sent_at = [0] * n
    pipe_latencies: list[int] = []
    seen = bytearray(n)
    all_done: asyncio.Future[None] = loop.create_future()

    def record(value: int) -> None:
        pipe_latencies.append(now() - sent_at[value])
        seen[value] += 1
        if len(pipe_latencies) == n:
            all_done.set_result(None)

    sink.arrived = record
    publish = subject.publish
    gc.collect()
    with Clock() as pipe_clock:
        for i in range(n):
            sent_at[i] = now()
            await publish(runtime, "chain0", "default", i)
        await asyncio.wait_for(all_done, timeout=max(60.0, n * 0.01))
    await subject.stop(runtime)

    check(seen == bytearray(b"\x01") * n, "pipelined phase lost or duplicated messages")
    check(sink.foreign_keys == 0, "messages reached the sink under another key")
    check(subject.live_agents(runtime) == stages, f"expected {stages} live agents")
    e2e = latencies_us(seq_latencies, prefix="e2e_")
    return {
        **e2e,
        "per_hop_p50_us": e2e["e2e_p50_us"] / stages,
        "seq_cpu_us_per_msg": seq_clock.cpu_s / n * 1e6,
        "pipelined_msgs_per_s": n / pipe_clock.wall_s,
        "pipelined_hops_per_s": n * stages / pipe_clock.wall_s,
        **latencies_us(pipe_latencies, prefix="pipelined_e2e_"),
        "pipelined_cpu_us_per_msg": pipe_clock.cpu_s / n * 1e6,
        "wall_s": seq_clock.wall_s + pipe_clock.wall_s,
    }


WORKLOAD = Workload(
    id="W5",
    title="W5 chain",
    params={"stages": 10, "messages": 2_000, "warmup": 50},
    unscaled=frozenset({"stages"}),
    shown=("e2e_p50_us", "e2e_p99_us", "per_hop_p50_us", "pipelined_msgs_per_s", "seq_cpu_us_per_msg"),
    run_async=run,
)
