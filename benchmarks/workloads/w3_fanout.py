"""W3 publish fan-out: ``subscriber_types`` agent types on one topic, ``messages`` publishes.

Every publish reaches one instance of each subscribed type, so the workload is
dominated by per-delivery cost. Publishing happens from outside the runtime
(enqueue only), then ``stop_when_idle`` drains everything; the timed span covers
both. Every type must receive every message exactly once.
"""

from __future__ import annotations

import gc
import time

from benchmarks._measure import Clock, check
from benchmarks._spec import Metrics, Params, Workload
from benchmarks._subject import Subject


class Tally:
    """Deliveries to one agent type and the sum of their values, to prove nothing was lost or doubled.

    One tally per type, so the callback stays as cheap as the peer harness's
    (a per-delivery dict lookup would be a visible share of a 1 µs delivery).
    """

    __slots__ = ("count", "value_sum")

    def __init__(self) -> None:
        self.count = 0
        self.value_sum = 0

    def on_message(self, key: str, value: int) -> None:
        self.count += 1
        self.value_sum += value


def verify(tallies: dict[str, Tally], messages: int) -> None:
    """Every type received every message once: count ``messages`` and values summing to 0 + 1 + ... ."""
    wrong = {t: tally.count for t, tally in tallies.items() if tally.count != messages}
    check(not wrong, f"types with a delivery count other than {messages}: {wrong}")
    expected = messages * (messages - 1) // 2
    bad_sums = [t for t, tally in tallies.items() if tally.value_sum != expected]
    check(not bad_sums, f"types whose delivered values do not sum to {expected}: {bad_sums}")


async def run(subject: Subject, p: Params) -> Metrics:
    n_types, n, warmup = p["subscriber_types"], p["messages"], p["warmup"]
    tallies = {f"sub{t}": Tally() for t in range(n_types)}
    runtime = subject.make_runtime()
    for agent_type, tally in tallies.items():
        await subject.register_subscriber(runtime, agent_type, "fanout", tally.on_message)

    subject.start(runtime)  # warm-up creates one instance per type, outside the timing
    for i in range(warmup):
        await subject.publish(runtime, "fanout", "default", i)
    await subject.stop_when_idle(runtime)
    verify(tallies, warmup)
    for tally in tallies.values():
        tally.count = tally.value_sum = 0

    publish = subject.publish
    subject.start(runtime)
    gc.collect()
    with Clock() as clock:
        t0 = time.perf_counter()
        for i in range(n):
            await publish(runtime, "fanout", "default", i)
        publish_s = time.perf_counter() - t0
        await subject.stop_when_idle(runtime)

    verify(tallies, n)
    live = subject.live_agents(runtime)
    check(live == n_types, f"expected {n_types} live agents, runtime reports {live}")
    deliveries = n * n_types
    return {
        "deliveries_per_s": deliveries / clock.wall_s,
        "publishes_per_s": n / clock.wall_s,
        "publish_call_ms": publish_s * 1e3,
        "cpu_us_per_delivery": clock.cpu_s / deliveries * 1e6,
        "wall_s": clock.wall_s,
    }


WORKLOAD = Workload(
    id="W3",
    title="W3 fan-out",
    params={"subscriber_types": 50, "messages": 2_000, "warmup": 20},
    unscaled=frozenset({"subscriber_types"}),
    shown=("deliveries_per_s", "publish_call_ms", "cpu_us_per_delivery"),
    run_async=run,
)
