"""Medians and spread over repetitions, per workload, subject and metric.

The median, not the mean: one repetition disturbed by another process on the
shared machine must not move the headline figure; min and max keep the spread
visible.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from typing import Any, TypedDict


class Stat(TypedDict):
    median: float
    min: float
    max: float
    n: int


Summary = dict[str, dict[str, dict[str, Stat]]]
"""workload id -> subject -> metric -> statistics."""


def stat(values: list[float]) -> Stat:
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values)}


def summarize(records: Iterable[dict[str, Any]]) -> Summary:
    """Group successful records and reduce each numeric metric to a ``Stat``."""
    grouped: dict[tuple[str, str], list[dict[str, float]]] = {}
    for record in records:
        if "metrics" in record:
            grouped.setdefault((record["workload"], record["subject"]), []).append(record["metrics"])
    summary: Summary = {}
    for (workload, subject), runs in grouped.items():
        names = [k for k, v in runs[0].items() if isinstance(v, int | float)]
        summary.setdefault(workload, {})[subject] = {k: stat([float(r[k]) for r in runs if k in r]) for k in names}
    return summary


def median(summary: Summary, workload: str, subject: str, metric: str) -> float | None:
    """The median of one metric, or None when it was not measured."""
    found = summary.get(workload, {}).get(subject, {}).get(metric)
    return found["median"] if found else None
