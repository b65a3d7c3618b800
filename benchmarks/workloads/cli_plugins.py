"""CLI: wall time of the whole ``salon plugins`` process, with every installed plugin loaded.

``salon plugins`` is the first thing a user runs after installing a plugin and the command a broken
install is diagnosed with; it loads every installed plugin (as every ``salon`` command does), so its
time is the floor of the whole command line. The budget is 300 ms for the whole process, interpreter
start-up included. Plugins must keep their SDKs and option models lazy for it to hold as plugins
are added, which is why the benchmark runs in the environment with everything installed.

The command is run as users run it: the ``salon`` console script next to the interpreter (or
``python -m salon`` when there is none), with ``SALON_LOAD_PLUGINS`` and ``SALON_STRICT_PLUGINS``
removed from the environment so that every installed plugin is loaded. One unmeasured run first
makes sure byte-code caches are written. AutoGen has no command line: its column is ``n/a``.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks._measure import check
from benchmarks._spec import Metrics, Params, Workload
from benchmarks._subject import Subject

#: Console script per subject; a subject without one is not measured.
COMMANDS = {"salon": "salon"}


def command(script: str) -> list[str]:
    """The console script installed beside this interpreter, else ``python -m <script>``."""
    for name in (script, script + ".exe"):
        installed = Path(sys.executable).parent / name
        if installed.is_file():
            return [str(installed)]
    return [sys.executable, "-m", script]


def plugins_run(argv: list[str], env: dict[str, str]) -> tuple[float, int]:
    """Seconds one ``salon plugins --all --json`` process takes, and how many plugins it listed."""
    t0 = time.perf_counter()
    done = subprocess.run([*argv, "plugins", "--all", "--json"], capture_output=True, text=True, env=env, check=False)
    elapsed = time.perf_counter() - t0
    check(done.returncode == 0, f"salon plugins exited {done.returncode}: {done.stderr.strip()[-500:]}")
    listed = json.loads(done.stdout)
    check(isinstance(listed, list) and any(p.get("builtin") for p in listed), "salon plugins listed no built-ins")
    return elapsed, len(listed)


def run(subject: Subject, p: Params) -> Metrics:
    script = COMMANDS.get(subject.NAME)
    if script is None:
        return {}
    argv = command(script)
    env = {k: v for k, v in os.environ.items() if k not in ("SALON_LOAD_PLUGINS", "SALON_STRICT_PLUGINS")}
    _, plugins = plugins_run(argv, env)
    samples_ms = sorted(plugins_run(argv, env)[0] * 1e3 for _ in range(p["samples"]))
    return {
        "plugins_ms": statistics.median(samples_ms),
        "plugins_min_ms": samples_ms[0],
        "plugins_max_ms": samples_ms[-1],
        "plugins_listed": float(plugins),
    }


WORKLOAD = Workload(
    id="CLI",
    title="salon plugins (process)",
    params={"samples": 20},
    shown=("plugins_ms",),
    run_sync=run,
)
