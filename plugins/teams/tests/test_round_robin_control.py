"""RoundRobinGroupChat under stress: cancellation at each stage, failures, concurrent runs, abandoned streams."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest

from salon import CancellationToken
from salon_agentchat.conditions import MaxMessageTermination
from salon_teams import RoundRobinGroupChat


async def test_cancelled_before_the_first_speaker(kit: SimpleNamespace) -> None:
    agent = kit.ScriptedAgent("a")
    team = RoundRobinGroupChat([agent], max_turns=1)
    token = CancellationToken()
    token.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(team.run(task="go", cancellation_token=token), timeout=5)
    assert agent.count == 0
    result = await team.run(task="go")
    assert kit.texts(result.messages) == ["go", "a #1"]


async def test_cancelled_mid_agent_stops_the_agent_and_the_team_is_reusable(kit: SimpleNamespace) -> None:
    blocker = kit.BlockingAgent("a")
    other = kit.ScriptedAgent("b")
    team = RoundRobinGroupChat([blocker, other], termination_condition=MaxMessageTermination(3))
    token = CancellationToken()
    run = asyncio.create_task(team.run(task="go", cancellation_token=token))
    await asyncio.wait_for(blocker.started.wait(), timeout=5)
    token.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(run, timeout=5)
    assert blocker.cancelled == 1  # the agent's work was stopped, although it ignores its token
    blocker.blocking = False
    result = await asyncio.wait_for(team.run(task="next"), timeout=5)
    # The cancelled turn is lost and the cycle goes on with the next speaker. A cancelled run does not reset
    # the condition (as in AutoGen): it counted "go" already, so the limit of 3 is reached one message early.
    assert kit.texts(result.messages) == ["next", "b #1"]
    assert other.seen == [["go", "next"]]


async def test_cancelling_the_task_that_runs_the_team_also_stops_its_work(kit: SimpleNamespace) -> None:
    blocker = kit.BlockingAgent("a")
    team = RoundRobinGroupChat([blocker], max_turns=1)
    run = asyncio.create_task(team.run(task="go"))
    await asyncio.wait_for(blocker.started.wait(), timeout=5)
    run.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(run, timeout=5)
    assert blocker.cancelled == 1
    blocker.blocking = False
    assert kit.texts((await asyncio.wait_for(team.run(), timeout=5)).messages) == ["a #1"]


async def test_cancelled_during_the_termination_check(kit: SimpleNamespace) -> None:
    condition = kit.GatedTermination(limit=3)
    team = RoundRobinGroupChat([kit.ScriptedAgent("a"), kit.ScriptedAgent("b")], termination_condition=condition)
    token = CancellationToken()
    condition.gate.clear()
    run = asyncio.create_task(team.run(task="go", cancellation_token=token))
    await asyncio.wait_for(condition.entered.wait(), timeout=5)
    token.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(run, timeout=5)
    condition.gate.set()
    await condition.reset()
    result = await asyncio.wait_for(team.run(task="again"), timeout=5)
    assert result.stop_reason == "gated limit 3"
    assert kit.texts(result.messages) == ["again", "a #1", "b #1"]


async def test_an_agent_exception_reaches_the_caller_with_its_type(kit: SimpleNamespace) -> None:
    failing = kit.FailingAgent("b", fail_on=1)
    team = RoundRobinGroupChat([kit.ScriptedAgent("a"), failing], max_turns=4)
    with pytest.raises(kit.Boom, match="b failed on turn 1") as caught:
        await team.run(task="go")
    assert caught.value.__traceback__ is not None
    # The failed turn does not wedge the team: the next run goes on with the next speaker (the first run used
    # one of the 4 turns; the failing agent counted its failed turn).
    result = await asyncio.wait_for(team.run(task="more"), timeout=5)
    assert kit.texts(result.messages) == ["more", "a #2", "b #2", "a #3"]


async def test_an_exception_in_a_nested_team_keeps_its_type(kit: SimpleNamespace) -> None:
    inner = RoundRobinGroupChat([kit.FailingAgent("x")], name="inner", max_turns=1)
    outer = RoundRobinGroupChat([kit.ScriptedAgent("a"), inner], max_turns=3)
    with pytest.raises(kit.Boom, match="x failed"):
        await outer.run(task="go")


async def test_run_stream_raises_the_exception_after_the_messages_before_it(kit: SimpleNamespace) -> None:
    team = RoundRobinGroupChat([kit.ScriptedAgent("a"), kit.FailingAgent("b")], max_turns=4)
    seen: list[str] = []

    async def consume() -> None:
        async for item in team.run_stream(task="go"):
            seen.append(item.to_text())  # type: ignore[union-attr]

    with pytest.raises(kit.Boom):
        await consume()
    assert seen == ["go", "a #1"]


async def test_a_running_team_refuses_a_second_run(kit: SimpleNamespace) -> None:
    blocker = kit.BlockingAgent("a")
    team = RoundRobinGroupChat([blocker], max_turns=1)
    run = asyncio.create_task(team.run(task="go"))
    await asyncio.wait_for(blocker.started.wait(), timeout=5)
    with pytest.raises(ValueError, match="already running"):
        await team.run(task="again")
    with pytest.raises(RuntimeError, match="must stop before it can be reset"):
        await team.reset()
    with pytest.raises(RuntimeError, match="cannot be loaded now"):
        await team.load_state({})
    blocker.release.set()
    result = await asyncio.wait_for(run, timeout=5)
    assert kit.texts(result.messages) == ["go", "a #1"]


async def test_pause_and_resume_reach_a_busy_participant(kit: SimpleNamespace) -> None:
    blocker = kit.BlockingAgent("a")
    team = RoundRobinGroupChat([blocker], max_turns=1)
    run = asyncio.create_task(team.run(task="go"))
    await asyncio.wait_for(blocker.started.wait(), timeout=5)
    await asyncio.wait_for(team.pause(), timeout=5)  # not queued behind the agent's turn
    await asyncio.wait_for(team.resume(), timeout=5)
    assert (blocker.pauses, blocker.resumes) == (1, 1)
    blocker.release.set()
    await asyncio.wait_for(run, timeout=5)


async def test_leaving_the_stream_early_stops_the_run(kit: SimpleNamespace) -> None:
    blocker = kit.BlockingAgent("b")
    team = RoundRobinGroupChat([kit.ScriptedAgent("a"), blocker], max_turns=4)
    stream = team.run_stream(task="go")
    assert (await anext(stream)).to_text() == "go"  # type: ignore[union-attr]
    assert (await anext(stream)).to_text() == "a #1"  # type: ignore[union-attr]
    await asyncio.wait_for(blocker.started.wait(), timeout=5)
    await asyncio.wait_for(stream.aclose(), timeout=5)
    assert blocker.cancelled == 1
    blocker.blocking = False
    result = await asyncio.wait_for(team.run(), timeout=5)
    # The abandoned run had used one of the 4 turns (turn counts survive an interrupted run, as in AutoGen).
    assert kit.texts(result.messages) == ["a #2", "b #1", "a #3"]


async def test_a_stale_token_cancelled_later_does_not_touch_the_next_run(kit: SimpleNamespace) -> None:
    blocker = kit.BlockingAgent("a")
    blocker.blocking = False
    team = RoundRobinGroupChat([blocker], max_turns=1)
    old = CancellationToken()
    await team.run(task="go", cancellation_token=old)
    blocker.blocking = True
    run = asyncio.create_task(team.run(task="again"))
    await asyncio.wait_for(blocker.started.wait(), timeout=5)
    old.cancel()
    blocker.release.set()
    result = await asyncio.wait_for(run, timeout=5)
    assert kit.texts(result.messages) == ["again", "a #2"]
    assert blocker.cancelled == 0
