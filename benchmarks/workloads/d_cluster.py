"""D1-D3: the distributed runtimes, with the agents in 1 or 2 worker processes and the caller in another.

The measuring process is a client runtime that hosts no agents; every message crosses processes through
the framework's message server (Salon: a ``redis-server``; AutoGen: its ``GrpcWorkerAgentRuntimeHost`` in
a process of its own). Agent types are dealt to the workers round robin, because AutoGen's host accepts
one worker per agent type; Salon runs the very same placement. Each workload exists for 1 and 2
workers (``D1-1w``, ``D1-2w``, ...), so the table shows what a second worker process buys.
"""

from __future__ import annotations

import asyncio
import gc
import time

from benchmarks._cluster import TOPIC, Cluster, Placement
from benchmarks._measure import Clock, check, latencies_us, percentile
from benchmarks._spec import Metrics, Params, Workload
from benchmarks._subject import Subject

ECHO_TYPES = ("e0", "e1")
"""Two echo types, so with 2 workers each serves half of the calls."""


async def sequential_rpc(subject: Subject, p: Params) -> Metrics:
    """D1: one call at a time, alternating between the echo types (and so between workers)."""
    n, warmup = p["round_trips"], p["warmup"]
    async with Cluster(subject, Placement.spread(p["workers"], ECHO_TYPES, ())) as cluster:
        runtime, send = cluster.client, subject.send
        for i in range(warmup):
            check(await send(runtime, ECHO_TYPES[i % 2], "default", i) == i, "warm-up reply differs from request")
        now = time.perf_counter_ns
        latencies = [0] * n
        wrong = 0
        gc.collect()
        with Clock() as clock:
            for i in range(n):
                t0 = now()
                reply = await send(runtime, ECHO_TYPES[i % 2], "default", i)
                latencies[i] = now() - t0
                wrong += reply != i
    check(wrong == 0, f"{wrong} of {n} replies differ from their request")
    return {
        "round_trips_per_s": n / clock.wall_s,
        **latencies_us(latencies),
        "client_cpu_us_per_op": clock.cpu_s / n * 1e6,
        "wall_s": clock.wall_s,
    }


async def concurrent_rpc(subject: Subject, p: Params) -> Metrics:
    """D2: ``asyncio.gather`` batches of calls to ``keys`` agents spread over the echo types."""
    n, batch, n_keys = p["sends"], p["batch"], p["keys"]
    targets = [(ECHO_TYPES[k % 2], f"k{k}") for k in range(n_keys)]
    async with Cluster(subject, Placement.spread(p["workers"], ECHO_TYPES, ())) as cluster:
        runtime, send = cluster.client, subject.send
        warm = await asyncio.gather(*(send(runtime, t, key, 0) for t, key in targets))
        check(warm == [0] * n_keys, "warm-up replies differ from requests")
        batch_ms: list[float] = []
        wrong_batches = 0
        gc.collect()
        with Clock() as clock:
            for first in range(0, n, batch):
                last = min(n, first + batch)
                with Clock() as one:
                    replies = await asyncio.gather(
                        *(send(runtime, *targets[i % n_keys], i) for i in range(first, last))
                    )
                batch_ms.append(one.wall_s * 1e3)
                wrong_batches += replies != list(range(first, last))
    check(wrong_batches == 0, f"{wrong_batches} batches returned wrong replies")
    batch_ms.sort()
    return {
        "sends_per_s": n / clock.wall_s,
        "batch_p50_ms": percentile(batch_ms, 50),
        "client_cpu_us_per_op": clock.cpu_s / n * 1e6,
        "wall_s": clock.wall_s,
    }


async def fanout(subject: Subject, p: Params) -> Metrics:
    """D3: sequential publishes from the client to a topic with ``subscriber_types`` subscribed types.

    The clock stops when every worker reported that each of its subscriber types received every message
    (workers count deliveries and print their tallies), so slow delivery cannot hide behind a fast
    ``publish_message``.
    """
    n_types, n, warmup = p["subscriber_types"], p["messages"], p["warmup"]
    types = [f"s{t}" for t in range(n_types)]
    placement = Placement.spread(p["workers"], (), types)
    async with Cluster(subject, placement, milestones=(warmup, warmup + n)) as cluster:
        runtime, publish = cluster.client, subject.publish
        for i in range(warmup):
            await publish(runtime, TOPIC, "default", i)
        await cluster.reached(warmup)
        gc.collect()
        with Clock() as clock:
            t0 = time.perf_counter()
            for i in range(warmup, warmup + n):
                await publish(runtime, TOPIC, "default", i)
            publish_s = time.perf_counter() - t0
            tallies = await cluster.reached(warmup + n)
    expected_sum = (warmup + n) * (warmup + n - 1) // 2
    wrong = {t: v for t, v in tallies.items() if v != (warmup + n, expected_sum)}
    check(sorted(tallies) == sorted(types), f"tallies for {sorted(tallies)}, expected {types}")
    check(not wrong, f"types with a wrong (count, sum): {wrong}; expected {(warmup + n, expected_sum)}")
    deliveries = n * n_types
    return {
        "deliveries_per_s": deliveries / clock.wall_s,
        "publish_call_ms": publish_s * 1e3,
        "client_cpu_us_per_delivery": clock.cpu_s / deliveries * 1e6,
        "wall_s": clock.wall_s,
    }


def _variants() -> tuple[Workload, ...]:
    made: list[Workload] = []
    for workers in (1, 2):
        made += [
            Workload(
                id=f"D1-{workers}w",
                title=f"D1 sequential RPC, {workers} worker{'s' * (workers > 1)}",
                params={"round_trips": 3_000, "warmup": 200, "workers": workers},
                unscaled=frozenset({"workers"}),
                shown=("round_trips_per_s", "p50_us", "client_cpu_us_per_op"),
                run_async=sequential_rpc,
            ),
            Workload(
                id=f"D2-{workers}w",
                title=f"D2 concurrent RPC, {workers} worker{'s' * (workers > 1)}",
                params={"sends": 10_000, "batch": 500, "keys": 100, "workers": workers},
                unscaled=frozenset({"batch", "keys", "workers"}),
                shown=("sends_per_s", "batch_p50_ms", "client_cpu_us_per_op"),
                run_async=concurrent_rpc,
            ),
            Workload(
                id=f"D3-{workers}w",
                title=f"D3 publish fan-out, {workers} worker{'s' * (workers > 1)}",
                params={"subscriber_types": 10, "messages": 1_000, "warmup": 20, "workers": workers},
                unscaled=frozenset({"subscriber_types", "workers", "warmup"}),
                shown=("deliveries_per_s", "publish_call_ms", "client_cpu_us_per_delivery"),
                run_async=fanout,
            ),
        ]
    return tuple(sorted(made, key=lambda w: w.id))


WORKLOADS = _variants()
