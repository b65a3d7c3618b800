"""The workloads, in table order, and lookup by id.

Sizes default to the shared peer harness's, so our AutoGen column can be checked
against the peer baseline measured on the same machine.
"""

from __future__ import annotations

from benchmarks._spec import Workload
from benchmarks.workloads import (
    cli_plugins,
    d_cluster,
    import_time,
    w1_rpc,
    w2_concurrent_rpc,
    w3_fanout,
    w4_many_agents,
    w5_chain,
    w6_team,
)

ALL: tuple[Workload, ...] = (
    w1_rpc.WORKLOAD,
    w2_concurrent_rpc.WORKLOAD,
    w3_fanout.WORKLOAD,
    w4_many_agents.WORKLOAD,
    w5_chain.WORKLOAD,
    w6_team.WORKLOAD,
    w6_team.WORKLOAD_TOOL,
    *d_cluster.WORKLOADS,
    import_time.WORKLOAD,
    cli_plugins.WORKLOAD,
)


def by_id(workload_id: str) -> Workload:
    """The workload whose id is ``workload_id`` (case-insensitive)."""
    for workload in ALL:
        if workload.id.lower() == workload_id.lower():
            return workload
    raise KeyError(f"unknown workload {workload_id!r}; known: {', '.join(w.id for w in ALL)}")


def select(only: str) -> tuple[Workload, ...]:
    """Workloads named in a comma list such as ``W1,W3,import`` (empty: all of them)."""
    wanted = [part.strip() for part in only.split(",") if part.strip()]
    return tuple(by_id(w) for w in wanted) if wanted else ALL
