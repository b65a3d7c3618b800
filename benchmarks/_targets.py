"""The acceptance targets from the performance issues, checked against the medians.

Relative targets compare with AutoGen measured in the *same* sitting on the same
machine (never with numbers from elsewhere); they are SKIP when AutoGen was not
measured. Absolute targets need only Salon.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypedDict

from benchmarks._compare import advantage
from benchmarks._summary import Summary, median
from benchmarks._table import number

Verdict = Literal["PASS", "FAIL", "SKIP"]


class Outcome(TypedDict):
    target: str
    verdict: Verdict
    detail: str


@dataclass(frozen=True)
class Relative:
    """Salon at least ``factor`` times better than AutoGen on ``metric`` (see ``_compare.advantage``)."""

    label: str
    workload: str
    metric: str
    factor: float

    def check(self, summary: Summary, candidate: str, baseline: str) -> Outcome:
        ours = median(summary, self.workload, candidate, self.metric)
        theirs = median(summary, self.workload, baseline, self.metric)
        ratio = advantage(self.metric, ours, theirs)
        if ratio is None:
            absent = [name for name, value in ((candidate, ours), (baseline, theirs)) if not value]
            detail = f"{self.metric} not measured for {' and '.join(absent)}"
            return {"target": self.label, "verdict": "SKIP", "detail": detail}
        verdict: Verdict = "PASS" if ratio >= self.factor else "FAIL"
        detail = f"{ratio:.1f}x ({self.metric}: {number(ours or 0)} vs {number(theirs or 0)})"
        return {"target": self.label, "verdict": verdict, "detail": detail}


@dataclass(frozen=True)
class Ceiling:
    """Salon's median of ``metric`` at most ``limit``."""

    label: str
    workload: str
    metric: str
    limit: float

    def check(self, summary: Summary, candidate: str, baseline: str) -> Outcome:
        ours = median(summary, self.workload, candidate, self.metric)
        if ours is None:
            return {"target": self.label, "verdict": "SKIP", "detail": f"{self.metric} not measured for {candidate}"}
        verdict: Verdict = "PASS" if ours <= self.limit else "FAIL"
        return {"target": self.label, "verdict": verdict, "detail": f"{self.metric} = {number(ours)}"}


TARGETS: tuple[Relative | Ceiling, ...] = (
    Relative("W1 round trips/s >= 8x AutoGen", "W1", "round_trips_per_s", 8.0),
    Relative("W3 deliveries/s >= 20x AutoGen", "W3", "deliveries_per_s", 20.0),
    Relative("W4 wall time <= 1/10 of AutoGen", "W4", "wall_s", 10.0),
    Ceiling("W4 retained memory <= 400 B per agent", "W4", "retained_bytes_per_agent", 400.0),
    Ceiling("W5 <= 10 us per hop (p50)", "W5", "per_hop_p50_us", 10.0),
    Relative("W6 team: time per turn <= 1/3 of AutoGen's", "W6", "ms_per_turn", 3.0),
    Relative("W6 team + tool: time per turn <= 1/3 of AutoGen's", "W6T", "ms_per_turn", 3.0),
    Relative(
        "D1 distributed sequential RPC, 2 workers: round trips/s >= 2x AutoGen gRPC", "D1-2w", "round_trips_per_s", 2.0
    ),
    Relative("D2 distributed concurrent RPC, 2 workers: sends/s >= 3x AutoGen gRPC", "D2-2w", "sends_per_s", 3.0),
    Relative("D3 distributed publish, 2 workers: deliveries/s >= 3x AutoGen gRPC", "D3-2w", "deliveries_per_s", 3.0),
    Relative("import salon <= 0.5x import autogen_core", "IMPORT", "import_ms", 2.0),
    Ceiling("salon plugins < 300 ms (whole process, every plugin installed)", "CLI", "plugins_ms", 300.0),
)


def evaluate(summary: Summary, candidate: str, baseline: str) -> list[Outcome]:
    return [target.check(summary, candidate, baseline) for target in TARGETS]


def render(outcomes: list[Outcome]) -> str:
    return "\n".join(f"{o['verdict']}  {o['target']}: {o['detail']}" for o in outcomes)
