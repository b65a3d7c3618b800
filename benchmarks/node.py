"""A process of a benchmark cluster: a worker that hosts agents, or (AutoGen) the gRPC host.

Started by ``benchmarks._cluster.Cluster``; runs until its stdin closes (or SIGTERM, for the host):

    python -m benchmarks.node --subject salon worker redis://127.0.0.1:PORT/0 --echo e0 --subscribe s0,s2
    python -m benchmarks.node --subject autogen host 127.0.0.1:PORT

A worker prints ``NODE-READY`` once its agents are registered, and ``NODE-REACHED <i> <tallies>``
when every subscriber type it hosts received ``milestones[i]`` messages (the tallies are
``{type: [count, sum of values]}``, so the measuring process can check nothing was lost or doubled).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Sequence

from benchmarks import subjects
from benchmarks._cluster import REACHED, READY
from benchmarks._subject import OnMessage, Subject


class Tallies:
    """Deliveries per subscriber type; reports each milestone once all types here reached it."""

    def __init__(self, types: Sequence[str], milestones: Sequence[int]) -> None:
        self.counts = dict.fromkeys(types, 0)
        self.sums = dict.fromkeys(types, 0)
        self.milestones = list(milestones)
        self.next = 0
        self.total = 0

    def for_type(self, agent_type: str) -> OnMessage:
        counts, sums = self.counts, self.sums

        def on_message(key: str, value: int) -> None:
            counts[agent_type] += 1
            sums[agent_type] += value
            self.total += 1
            if self.next < len(self.milestones) and self.total >= self.milestones[self.next] * len(counts):
                self._report()

        return on_message

    def _report(self) -> None:
        while self.next < len(self.milestones) and all(c >= self.milestones[self.next] for c in self.counts.values()):
            tallies = {t: [self.counts[t], self.sums[t]] for t in self.counts}
            sys.stdout.write(f"{REACHED}{self.next} {json.dumps(tallies)}\n")
            sys.stdout.flush()
            self.next += 1


async def _stdin_closed() -> None:
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.buffer.read)


async def worker(subject: Subject, args: argparse.Namespace) -> None:
    echo = [t for t in args.echo.split(",") if t]
    subscribers = [t for t in args.subscribe.split(",") if t]
    milestones = [int(m) for m in args.milestones.split(",") if m]
    tallies = Tallies(subscribers, milestones)
    runtime = await subject.connect(args.address)
    for agent_type in echo:
        await subject.register_echo(runtime, agent_type)
    for agent_type in subscribers:
        await subject.register_subscriber(runtime, agent_type, args.topic, tallies.for_type(agent_type))
    print(READY, flush=True)
    await _stdin_closed()
    await subject.disconnect(runtime)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subject", required=True, choices=subjects.ALL)
    parser.add_argument("role", choices=("worker", "host"))
    parser.add_argument("address")
    parser.add_argument("--echo", default="", help="comma list of echo agent types to host")
    parser.add_argument("--subscribe", default="", help="comma list of subscriber agent types to host")
    parser.add_argument("--topic", default="fanout")
    parser.add_argument("--milestones", default="", help="comma list of deliveries per type to report at")
    args = parser.parse_args(argv)
    subject = subjects.load(args.subject)
    if args.role == "host":
        asyncio.run(subject.serve_host(args.address))
        return 0
    profile_dir = os.environ.get("BENCH_PROFILE_DIR")  # diagnostics: profile each worker process
    if not profile_dir:
        asyncio.run(worker(subject, args))
        return 0
    import cProfile

    with cProfile.Profile() as profiler:
        asyncio.run(worker(subject, args))
    profiler.dump_stats(os.path.join(profile_dir, f"worker-{os.getpid()}.prof"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
