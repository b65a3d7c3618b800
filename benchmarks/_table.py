"""The one Markdown table: each shown metric with Salon beside AutoGen and the advantage ratio."""

from __future__ import annotations

from collections.abc import Sequence

from benchmarks._compare import advantage
from benchmarks._spec import Workload
from benchmarks._summary import Stat, Summary


def number(value: float) -> str:
    """Three significant digits, thousands separators for large values."""
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}"


def cell(found: Stat | None, note: str) -> str:
    if found is None:
        return note
    if found["n"] == 1:
        return number(found["median"])
    return f"{number(found['median'])} [{number(found['min'])}-{number(found['max'])}]"


def render(
    summary: Summary,
    workloads: Sequence[Workload],
    candidate: str,
    baseline: str,
    missing: dict[str, str],
) -> str:
    """Markdown table; ``missing`` maps a subject to the word shown instead of numbers (absent, error)."""
    header = [
        "workload",
        "metric",
        f"{candidate} median [min-max]",
        f"{baseline} median [min-max]",
        f"{candidate} vs {baseline}",
    ]
    rows = ["| " + " | ".join(header) + " |", "|---|---|--:|--:|--:|"]
    for workload in workloads:
        measured = summary.get(workload.id, {})
        for metric in workload.shown:
            ours = measured.get(candidate, {}).get(metric)
            theirs = measured.get(baseline, {}).get(metric)
            ratio = advantage(metric, ours["median"] if ours else None, theirs["median"] if theirs else None)
            rows.append(
                "| "
                + " | ".join(
                    [
                        workload.title,
                        metric,
                        cell(ours, _note(measured, candidate, missing)),
                        cell(theirs, _note(measured, baseline, missing)),
                        f"{ratio:.1f}x" if ratio else "-",
                    ]
                )
                + " |"
            )
    return "\n".join(rows)


def _note(measured: dict[str, dict[str, Stat]], subject: str, missing: dict[str, str]) -> str:
    """What a cell without numbers says: why the subject is missing, ``n/a`` if it ran but has no such metric."""
    if subject in missing:
        return missing[subject]
    return "n/a" if subject in measured else "error"
