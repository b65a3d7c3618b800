"""What a workload is: default sizes, which of them ``--scale`` touches, and its run function.

Workload modules only describe *what* to measure; running them in a fresh process,
repeating and summarising is the job of ``benchmarks.rep`` and ``benchmarks._orchestrate``.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any

from benchmarks._subject import Subject

Params = Mapping[str, int]
Metrics = dict[str, float]
AsyncRun = Callable[[Subject, Params], Coroutine[Any, Any, Metrics]]
SyncRun = Callable[[Subject, Params], Metrics]


@dataclass(frozen=True)
class Workload:
    """One benchmark workload.

    Attributes:
        id: short id used by ``--only`` and in results (``W1``, ``IMPORT``).
        title: row label in the table.
        params: default sizes (the peer harness's sizes).
        shown: metrics shown in the table, in order; the JSON keeps every metric.
        run_async: one measured repetition inside an event loop (runtime workloads).
        run_sync: one measured repetition outside any event loop (import time spawns processes).
        unscaled: sizes that define the *shape* (keys, stages, types) and stay fixed under ``--scale``.
    """

    id: str
    title: str
    params: Mapping[str, int]
    shown: tuple[str, ...]
    run_async: AsyncRun | None = None
    run_sync: SyncRun | None = None
    unscaled: frozenset[str] = field(default_factory=frozenset)

    def scaled(self, scale: float, overrides: Mapping[str, int] | None = None) -> dict[str, int]:
        """Effective sizes: defaults times ``scale`` (at least 1), then explicit overrides as given."""
        sizes = {
            name: value if name in self.unscaled else max(1, round(value * scale))
            for name, value in self.params.items()
        }
        for name, value in (overrides or {}).items():
            if name not in sizes:
                raise KeyError(f"{self.id} has no size {name!r}; known: {', '.join(sizes)}")
            sizes[name] = value
        return sizes


def higher_is_better(metric: str) -> bool:
    """Throughputs end in ``_per_s``; every other metric is a time or a size, where less is better."""
    return metric.endswith("_per_s")
