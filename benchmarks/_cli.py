"""``python -m benchmarks``: run the suite, print the table and the targets, write JSON.

    python -m benchmarks                                    # everything, 5 reps
    python -m benchmarks --autogen-python OTHER/bin/python  # autogen-core lives in another venv
    python -m benchmarks --only W1,W3 --reps 3
    python -m benchmarks --scale 0.02 --reps 1              # smoke run, seconds

Exit status 1 when a run failed (crash, timeout, or a workload's message check)
or Salon could not be imported, or with ``--strict`` when a target FAILs; 0
otherwise. AutoGen missing is not a failure: it is reported as absent and the
relative targets are SKIP.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks import _orchestrate, _table, _targets, subjects, workloads
from benchmarks._summary import summarize

DEFAULT_OUT = Path("benchmarks") / "results" / "latest.json"


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reps", type=int, default=5, help="repetitions per workload and subject (default 5)")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply message and agent counts (default 1)")
    parser.add_argument(
        "--only", default="", help="comma list of workload ids: " + ",".join(w.id for w in workloads.ALL)
    )
    parser.add_argument(
        "--subjects", default=",".join(subjects.ALL), help="comma list of subjects (default: salon,autogen)"
    )
    parser.add_argument(
        "--autogen-python",
        default=sys.executable,
        metavar="PATH",
        help="interpreter that has autogen-core installed (default: this one)",
    )
    parser.add_argument(
        "--salon-python", default=sys.executable, metavar="PATH", help="interpreter for salon (default: this one)"
    )
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds allowed per child run (default 600)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"JSON results (default {DEFAULT_OUT})")
    parser.add_argument("--strict", action="store_true", help="exit 1 when any target FAILs")
    args = parser.parse_args(argv)
    if args.reps < 1 or args.scale <= 0:
        parser.error("--reps must be >= 1 and --scale > 0")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    started = time.time()
    chosen = [s.strip() for s in args.subjects.split(",") if s.strip()]
    unknown = sorted(set(chosen) - set(subjects.ALL))
    if unknown:
        print(f"unknown subject(s) {', '.join(unknown)}; known: {', '.join(subjects.ALL)}", file=sys.stderr)
        return 2
    try:
        plan_workloads = workloads.select(args.only)
    except KeyError as exc:
        print(exc.args[0], file=sys.stderr)
        return 2
    interpreter = {subjects.CANDIDATE: args.salon_python, subjects.BASELINE: args.autogen_python}

    probes = {name: _orchestrate.probe(name, interpreter[name]) for name in chosen}
    missing: dict[str, str] = {name: "not run" for name in subjects.ALL if name not in chosen}
    for name, found in probes.items():
        if "absent" in found or "error" in found:
            missing[name] = "absent"
            print(f"{name}: absent ({found.get('absent') or found.get('error')})", file=sys.stderr)
    present = {name: interpreter[name] for name in chosen if name not in missing}

    plan = _orchestrate.Plan(plan_workloads, present, args.reps, args.scale, args.timeout)
    records = _orchestrate.execute(plan)
    summary = summarize(records)
    table = _table.render(summary, plan_workloads, subjects.CANDIDATE, subjects.BASELINE, missing)
    outcomes = _targets.evaluate(summary, subjects.CANDIDATE, subjects.BASELINE)
    errors = [r for r in records if "error" in r]

    result: dict[str, Any] = {
        "meta": {
            "date": dt.datetime.now().isoformat(timespec="seconds"),
            "options": {k: v for k, v in vars(args).items() if k not in ("autogen_python", "salon_python", "out")},
            "host_cpus": os.cpu_count(),
            "platform": platform.platform(),
            "reps": args.reps,
            "scale": args.scale,
            "workloads": [w.id for w in plan_workloads],
            "elapsed_s": round(time.time() - started, 1),
        },
        "subjects": {name: _subject_meta(probes.get(name), missing.get(name)) for name in subjects.ALL},
        "summary": summary,
        "targets": outcomes,
        "table_markdown": table,
        "runs": records,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")

    versions = ", ".join(f"{name}: {result['subjects'][name]['version']}" for name in subjects.ALL)
    print(f"scale {args.scale:g}, {args.reps} rep(s), {versions}\n")
    print(table)
    print()
    print(_targets.render(outcomes))
    print(f"\nJSON: {args.out}  ({len(records)} runs, {len(errors)} errors, {time.time() - started:.0f}s)")
    for record in errors:
        print(f"ERROR {record['workload']} {record['subject']} rep {record['rep']}: {record['error']}", file=sys.stderr)
    if errors:
        return 1
    if subjects.CANDIDATE in chosen and subjects.CANDIDATE in missing:
        print(f"{subjects.CANDIDATE} could not be measured (absent): failing the run", file=sys.stderr)
        return 1
    return 1 if args.strict and any(o["verdict"] == "FAIL" for o in outcomes) else 0


def _subject_meta(found: dict[str, Any] | None, missing: str | None) -> dict[str, Any]:
    """What is known about a subject for the JSON: version, or why it is missing, and its interpreter's facts.

    No interpreter paths: a results file must not depend on one machine's layout.
    """
    if found is None:
        return {"version": missing or "-"}
    return {
        "version": found.get("version", missing or "-"),
        "why_missing": found.get("absent") or found.get("error"),
        "env": found.get("env"),
    }
