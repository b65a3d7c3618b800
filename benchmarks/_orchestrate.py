"""Start one child process per (repetition, workload, subject), interleaved.

Repetition 1 of every workload and subject runs before repetition 2 of any, and
the subject order alternates between repetitions, so a slow drift in machine
load (the reference machine has 2 shared cores) hits both frameworks alike
instead of biasing whichever runs last.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks._spec import Workload
from benchmarks.rep import RESULT_PREFIX

REPO_ROOT = Path(__file__).resolve().parent.parent
"""Children run from here so ``-m benchmarks.rep`` resolves under any interpreter."""

Record = dict[str, Any]


@dataclass(frozen=True)
class Plan:
    """What to run: workloads, the interpreter per present subject, and how often and how big."""

    workloads: Sequence[Workload]
    pythons: Mapping[str, str]
    reps: int
    scale: float
    timeout_s: float


def child(python: str, args: Sequence[str], timeout_s: float) -> Record:
    """Run ``python -m benchmarks.rep --json ARGS`` and return its record, or an ``error`` record.

    The record keeps the child's arguments but not the interpreter path, so a
    results file holds nothing specific to one machine's layout.
    """
    cmd = [python, "-m", "benchmarks.rep", "--json", *args]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, cwd=REPO_ROOT, check=False)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout_s:.0f}s", "args": list(args)}
    except OSError as exc:
        return {"error": f"cannot start the interpreter: {exc}", "args": list(args)}
    lines = [line for line in done.stdout.splitlines() if line.startswith(RESULT_PREFIX)]
    if not lines:
        tail = (done.stderr or done.stdout).strip()[-2000:]
        return {"error": f"exit {done.returncode} without a result: {tail}", "args": list(args)}
    record: Record = json.loads(lines[-1][len(RESULT_PREFIX) :])
    record["args"] = list(args)
    return record


def probe(subject: str, python: str, timeout_s: float = 120.0) -> Record:
    """Whether ``subject`` imports under ``python``, and its version."""
    return child(python, ["--subject", subject, "--probe"], timeout_s)


def execute(plan: Plan, progress: Callable[[str], None] | None = None) -> list[Record]:
    """Every repetition of the plan; a record per child, in the order they ran."""
    report = progress or (lambda line: print(line, file=sys.stderr, flush=True))
    subjects = list(plan.pythons)
    records: list[Record] = []
    for rep in range(1, plan.reps + 1):
        order = subjects if rep % 2 else subjects[::-1]
        for workload in plan.workloads:
            for subject in order:
                t0 = time.perf_counter()
                args = ["--subject", subject, "--workload", workload.id, "--scale", repr(plan.scale)]
                record = child(plan.pythons[subject], args, plan.timeout_s)
                record.update(subject=subject, workload=workload.id, rep=rep)
                records.append(record)
                status = "ERROR" if "error" in record else f"{time.perf_counter() - t0:5.1f}s"
                report(f"[rep {rep}/{plan.reps}] {workload.id:<6} {subject:<8} {status}")
    return records
