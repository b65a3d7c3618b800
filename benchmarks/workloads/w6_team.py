"""W6 team layer: a round robin of assistant agents on a scripted model, the peer harness's W6.

The models replay scripted answers without any network, so the time per turn is the orchestration
cost of the team layer and the runtime under it: the group chat manager, the participant containers,
the termination check, the agent's own bookkeeping. ``W6T`` makes every turn one FunctionTool call
(the agent runs the tool and answers with its summary), which adds the tool path.

One repetition runs ``runs`` fresh teams of ``turns`` turns back to back; building a team is timed
apart (``setup_ms``) and left out of the per-turn figures. A small team runs first, unmeasured, so
imports and first-use costs are not counted.
"""

from __future__ import annotations

import gc

from benchmarks._measure import Clock, check
from benchmarks._spec import Metrics, Params, Workload
from benchmarks._subject import Subject


async def _run(subject: Subject, p: Params, with_tool: bool) -> Metrics:
    agents, turns, runs = p["agents"], p["turns"], p["runs"]
    warm = subject.make_team(agents, agents * 2, with_tool)
    check(await subject.run_team(warm, "warm up") == agents * 2, "the warm-up team took the wrong number of turns")

    setup_s = wall_s = cpu_s = 0.0
    gc.collect()
    for _ in range(runs):
        with Clock() as setup:
            team = subject.make_team(agents, turns, with_tool)
        with Clock() as clock:
            produced = await subject.run_team(team, "Count to a large number, one step per turn.")
        check(produced == turns, f"the team took {produced} turns, expected {turns}")
        setup_s += setup.wall_s
        wall_s += clock.wall_s
        cpu_s += clock.cpu_s
    total = turns * runs
    return {
        "turns_per_s": total / wall_s,
        "ms_per_turn": wall_s / total * 1e3,
        "cpu_ms_per_turn": cpu_s / total * 1e3,
        "setup_ms": setup_s / runs * 1e3,
        "wall_s": wall_s,
    }


async def run_plain(subject: Subject, p: Params) -> Metrics:
    return await _run(subject, p, with_tool=False)


async def run_with_tool(subject: Subject, p: Params) -> Metrics:
    return await _run(subject, p, with_tool=True)


_PARAMS = {"agents": 3, "turns": 200, "runs": 8}
_SHOWN = ("turns_per_s", "ms_per_turn", "cpu_ms_per_turn", "setup_ms")

WORKLOAD = Workload(
    id="W6",
    title="W6 team (round robin, 3 agents)",
    params=_PARAMS,
    shown=_SHOWN,
    run_async=run_plain,
    unscaled=frozenset({"agents", "runs"}),
)

WORKLOAD_TOOL = Workload(
    id="W6T",
    title="W6 team + one tool call per turn",
    params=_PARAMS,
    shown=_SHOWN,
    run_async=run_with_tool,
    unscaled=frozenset({"agents", "runs"}),
)
