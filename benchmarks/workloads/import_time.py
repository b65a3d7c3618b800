"""IMPORT: time of ``import <framework>`` in a fresh interpreter, median over samples.

Import time is what every CLI call and test process pays before doing anything,
so it is measured in fresh interpreters (``-I``: no user site, no cwd on the
path, no ``PYTHON*`` variables) with only ``time`` imported before the timer
starts. One unmeasured import first makes sure byte-code caches are written.
"""

from __future__ import annotations

import statistics
import subprocess
import sys

from benchmarks._measure import check
from benchmarks._spec import Metrics, Params, Workload
from benchmarks._subject import Subject

PROGRAM = "import time; t0 = time.perf_counter(); import {name}; print(time.perf_counter() - t0)"


def import_seconds(module: str) -> float:
    """Seconds ``import module`` takes in a new interpreter (the one running this code)."""
    done = subprocess.run(
        [sys.executable, "-I", "-c", PROGRAM.format(name=module)], capture_output=True, text=True, check=False
    )
    check(done.returncode == 0, f"import {module} failed: {done.stderr.strip()[-500:]}")
    return float(done.stdout.strip().splitlines()[-1])


def run(subject: Subject, p: Params) -> Metrics:
    import_seconds(subject.IMPORT_NAME)
    samples_ms = sorted(import_seconds(subject.IMPORT_NAME) * 1e3 for _ in range(p["samples"]))
    return {"import_ms": statistics.median(samples_ms), "import_min_ms": samples_ms[0], "import_max_ms": samples_ms[-1]}


WORKLOAD = Workload(
    id="IMPORT",
    title="import time",
    params={"samples": 5},
    shown=("import_ms",),
    run_sync=run,
)
