"""Property: whatever the team size, limits and run boundaries, speakers follow the cycle exactly."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from hypothesis import given, settings
from hypothesis import strategies as st

from salon_agentchat.conditions import MaxMessageTermination
from salon_teams import RoundRobinGroupChat


@settings(max_examples=40, deadline=None)
@given(
    n_agents=st.integers(min_value=1, max_value=5),
    limit=st.integers(min_value=2, max_value=7),
    n_runs=st.integers(min_value=1, max_value=4),
    use_condition=st.booleans(),
    reload_between=st.booleans(),
)
def test_speakers_follow_the_cycle_across_runs_and_state_reloads(
    kit: SimpleNamespace, n_agents: int, limit: int, n_runs: int, use_condition: bool, reload_between: bool
) -> None:
    names = [f"p{i}" for i in range(n_agents)]

    def make() -> RoundRobinGroupChat:
        agents = [kit.ScriptedAgent(n) for n in names]
        if use_condition:
            return RoundRobinGroupChat(agents, termination_condition=MaxMessageTermination(limit))
        return RoundRobinGroupChat(agents, max_turns=limit)

    async def scenario() -> list[str]:
        team = make()
        result = await team.run(task="go")
        speakers = [m.source for m in result.messages[1:]]
        for _ in range(n_runs - 1):
            if reload_between:
                state = await team.save_state()
                team = make()
                await team.load_state(state)
            result = await team.run()
            assert len(result.messages) == limit  # the condition / turn count restarted after each run
            speakers += [m.source for m in result.messages]
        return speakers

    speakers = asyncio.run(scenario())
    first_run = limit - 1 if use_condition else limit  # a message limit counts the task message too
    assert len(speakers) == first_run + (n_runs - 1) * limit
    assert speakers == [names[i % n_agents] for i in range(len(speakers))]
