"""Clocks, percentiles and memory probes shared by every workload.

Wall time is what users feel, but on a shared 2-core machine it moves with other
load; CPU time of this single-threaded process (``time.process_time``) is the
steadier cost figure, so every workload reports both.
"""

from __future__ import annotations

import math
import os
import resource
import time
from collections.abc import Sequence
from types import TracebackType

MIB = 1024 * 1024


class Clock:
    """Wall and CPU seconds spent inside a ``with`` block."""

    __slots__ = ("_cpu0", "_wall0", "cpu_s", "wall_s")

    def __init__(self) -> None:
        self.wall_s = 0.0
        self.cpu_s = 0.0
        self._wall0 = 0.0
        self._cpu0 = 0.0

    def __enter__(self) -> Clock:
        self._wall0 = time.perf_counter()
        self._cpu0 = time.process_time()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.wall_s = time.perf_counter() - self._wall0
        self.cpu_s = time.process_time() - self._cpu0


def percentile(ordered: Sequence[float], q: float) -> float:
    """Nearest-rank percentile, ``q`` in [0, 100], of an ascending sequence.

    Nearest rank (no interpolation) so a reported p99 is a latency that was
    actually observed.
    """
    if not ordered:
        return math.nan
    rank = max(1, math.ceil(q / 100.0 * len(ordered)))
    return float(ordered[rank - 1])


def latencies_us(samples_ns: Sequence[int], prefix: str = "") -> dict[str, float]:
    """p50, p99 and max of nanosecond samples, in microseconds."""
    ordered = sorted(samples_ns)
    return {
        f"{prefix}p50_us": percentile(ordered, 50) / 1e3,
        f"{prefix}p99_us": percentile(ordered, 99) / 1e3,
        f"{prefix}max_us": (ordered[-1] / 1e3) if ordered else math.nan,
    }


def rss_bytes() -> int:
    """Resident set size now (Linux ``/proc/self/statm``), counted in whole pages."""
    with open("/proc/self/statm") as statm:
        resident_pages = int(statm.read().split()[1])
    return resident_pages * os.sysconf("SC_PAGE_SIZE")


def peak_rss_bytes() -> int:
    """Highest resident set size of this process so far (``ru_maxrss`` is KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class VerificationError(AssertionError):
    """A workload saw the wrong messages: its timing must not be reported."""


def check(condition: bool, what: str) -> None:
    """Fail the repetition when ``condition`` is false.

    An explicit check rather than ``assert`` so ``python -O`` cannot turn a broken
    runtime into a fast one.
    """
    if not condition:
        raise VerificationError(what)
