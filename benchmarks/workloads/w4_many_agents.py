"""W4 many agents: one publish to each of ``agents`` topic sources creates as many agents lazily.

Measures agent creation (factory + registration + first delivery) and what each
live agent costs in memory. Retained memory is RSS after the run and a full
``gc.collect()`` minus RSS before it, divided by the agent count, as the peer
harness measures it: it includes the runtime's per-agent bookkeeping and some
allocator slack, and the 100k source strings are allocated before the baseline
so they do not count. Peak RSS includes the backlog of queued publishes.
"""

from __future__ import annotations

import gc

from benchmarks._measure import MIB, Clock, check, peak_rss_bytes, rss_bytes
from benchmarks._spec import Metrics, Params, Workload
from benchmarks._subject import Subject


class Arrivals:
    """Counts deliveries and checks each reached the instance keyed by its own source.

    Holds only integers so the check adds nothing to the retained-memory figure.
    """

    def __init__(self, sources: list[str]) -> None:
        self.sources = sources
        self.count = 0
        self.misrouted = 0

    def on_message(self, key: str, value: int) -> None:
        self.count += 1
        self.misrouted += key != self.sources[value]


async def run(subject: Subject, p: Params) -> Metrics:
    n = p["agents"]
    sources = [f"s{i}" for i in range(n)]
    arrivals = Arrivals(sources)
    runtime = subject.make_runtime()
    await subject.register_subscriber(runtime, "lazy", "spawn", arrivals.on_message)
    subject.start(runtime)
    gc.collect()
    rss_before = rss_bytes()

    publish = subject.publish
    with Clock() as clock:
        for i in range(n):
            await publish(runtime, "spawn", sources[i], i)
        await subject.stop_when_idle(runtime)

    check(arrivals.count == n, f"{arrivals.count} of {n} messages arrived")
    check(arrivals.misrouted == 0, f"{arrivals.misrouted} messages reached an agent of another key")
    live = subject.live_agents(runtime)
    check(live == n, f"expected {n} live agents, runtime reports {live}")
    peak = peak_rss_bytes()
    gc.collect()
    retained = rss_bytes() - rss_before
    return {
        "wall_s": clock.wall_s,
        "agents_per_s": n / clock.wall_s,
        "peak_rss_mb": peak / MIB,
        "retained_rss_mb": retained / MIB,
        "retained_bytes_per_agent": retained / n,
        "cpu_us_per_agent": clock.cpu_s / n * 1e6,
    }


WORKLOAD = Workload(
    id="W4",
    title="W4 many agents",
    params={"agents": 100_000},
    shown=("wall_s", "agents_per_s", "peak_rss_mb", "retained_bytes_per_agent", "cpu_us_per_agent"),
    run_async=run,
)
