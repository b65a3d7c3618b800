"""One measured repetition of one workload for one subject, in this (fresh) process.

``python -m benchmarks`` starts this module once per (repetition, workload,
subject) so that GC state, warmed caches and peak RSS never leak from one
measurement into the next. Run it by hand to look at a single case:

    python -m benchmarks.rep --subject salon --workload W1
    python -m benchmarks.rep --subject salon --workload W3 --set messages=500 --cprofile w3.prof
    python -m benchmarks.rep --subject autogen --probe

With ``--json`` it prints exactly one line starting with ``RESULT_PREFIX``, which
is what the orchestrator reads (anything a framework prints is ignored).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import platform
import pstats
import sys
import traceback
from collections.abc import Sequence
from typing import Any

from benchmarks import subjects, workloads
from benchmarks._measure import VerificationError
from benchmarks._spec import Metrics, Workload
from benchmarks._subject import Subject

RESULT_PREFIX = "BENCHMARK-RESULT "


def parse_sets(pairs: Sequence[str]) -> dict[str, int]:
    """``["messages=500"]`` -> ``{"messages": 500}``."""
    sizes: dict[str, int] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep:
            raise SystemExit(f"--set expects NAME=INT, got {pair!r}")
        sizes[name.strip().replace("-", "_")] = int(value)
    return sizes


def environment() -> dict[str, Any]:
    """Facts that explain a number later: interpreter, cores and how busy the machine was."""
    return {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "loadavg_1m": os.getloadavg()[0],
    }


def measure(workload: Workload, subject: Subject, sizes: dict[str, int], profile_to: str | None) -> Metrics:
    """Run the workload once, optionally under cProfile (then timings are inflated: diagnostics only)."""
    profiler = cProfile.Profile() if profile_to else None
    if profiler:
        profiler.enable()
    try:
        if workload.run_async is not None:
            return asyncio.run(workload.run_async(subject, sizes))
        assert workload.run_sync is not None
        return workload.run_sync(subject, sizes)
    finally:
        if profiler and profile_to:
            profiler.disable()
            profiler.dump_stats(profile_to)
            pstats.Stats(profile_to, stream=sys.stderr).sort_stats("tottime").print_stats(30)


def run(args: argparse.Namespace) -> dict[str, Any]:
    """The JSON record of this process: the probe, an absence, a failure or the metrics."""
    record: dict[str, Any] = {"subject": args.subject, "env": environment()}
    try:
        subject = subjects.load(args.subject)
    except subjects.SubjectAbsent as exc:
        return record | {"absent": str(exc)}
    record["version"] = subject.version()
    if args.probe:
        return record
    workload = workloads.by_id(args.workload)
    sizes = workload.scaled(args.scale, parse_sets(args.set))
    record |= {"workload": workload.id, "params": sizes}
    try:
        record["metrics"] = measure(workload, subject, sizes, args.cprofile)
    except VerificationError as exc:
        record["error"] = f"verification failed: {exc}"
    except Exception:
        record["error"] = traceback.format_exc(limit=8)
    return record


def print_human(record: dict[str, Any]) -> None:
    print(f"{record.get('workload', 'probe')}  {record['subject']} ({record.get('version', '-')})")
    print(f"  params: {record.get('params', {})}")
    for key in ("absent", "error"):
        if key in record:
            print(f"  {key}: {record[key]}")
    for name, value in record.get("metrics", {}).items():
        print(f"  {name:<28} {value:,.3f}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subject", required=True, choices=subjects.ALL)
    parser.add_argument("--workload", default="W1", help="workload id: " + ", ".join(w.id for w in workloads.ALL))
    parser.add_argument("--scale", type=float, default=1.0, help="multiply message and agent counts")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=INT", help="override one size exactly")
    parser.add_argument("--probe", action="store_true", help="only report whether the subject imports, and its version")
    parser.add_argument("--cprofile", metavar="FILE", help="profile the repetition; top functions go to stderr")
    parser.add_argument("--json", action="store_true", help=f"print one '{RESULT_PREFIX.strip()}' JSON line")
    args = parser.parse_args(argv)

    record = run(args)
    if args.json:
        print(RESULT_PREFIX + json.dumps(record), flush=True)
    else:
        print_human(record)
    return 1 if "error" in record else 0


if __name__ == "__main__":
    sys.exit(main())
