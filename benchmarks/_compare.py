"""How much better the candidate is than the baseline on one metric.

One number per metric whose meaning does not depend on the metric's direction:
``advantage > 1`` always means Salon is better (throughput: salon / autogen;
time, latency, memory: autogen / salon), so the ratio column and the relative
targets read the same way.
"""

from __future__ import annotations

from benchmarks._spec import higher_is_better


def advantage(metric: str, candidate: float | None, baseline: float | None) -> float | None:
    """Times better the candidate is on ``metric``; None when either side is missing or zero."""
    if not candidate or not baseline:
        return None
    return candidate / baseline if higher_is_better(metric) else baseline / candidate
