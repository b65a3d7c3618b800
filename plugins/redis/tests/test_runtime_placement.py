"""One active instance per agent id: local access to an agent another worker owns is refused; signals stop a worker."""

from __future__ import annotations

import asyncio
import os
import signal
import uuid

import pytest

from salon import AgentId
from salon.exceptions import NotAccessibleError
from salon.testing import ProbeAgent, Recorder
from salon_redis import RedisAgentRuntime


async def test_a_worker_does_not_make_a_second_instance_of_an_agent_another_worker_owns(redis_url: str) -> None:
    namespace = f"place-{uuid.uuid4().hex[:8]}"
    owner = RedisAgentRuntime(redis_url, namespace=namespace, worker_id="owner")
    other = RedisAgentRuntime(redis_url, namespace=namespace, worker_id="other")
    rec = Recorder()
    await ProbeAgent.register(owner, "probe", lambda: ProbeAgent(rec))
    await ProbeAgent.register(other, "probe", lambda: ProbeAgent(rec))
    await owner.start()  # holds every partition; "other" is not started, so it holds none
    try:
        agent = await owner.try_get_underlying_agent_instance(AgentId("probe", "k"), ProbeAgent)
        assert agent.id == AgentId("probe", "k")
        with pytest.raises(NotAccessibleError, match=r"probe/k is active on worker 'owner'.*send_message"):
            await other.try_get_underlying_agent_instance(AgentId("probe", "k"))
        assert rec.created == [AgentId("probe", "k")]
    finally:
        await other.close()
        await owner.close()


async def test_stop_when_signal_stops_the_worker(redis_url: str) -> None:
    runtime = RedisAgentRuntime(redis_url, namespace=f"sig-{uuid.uuid4().hex[:8]}")
    await runtime.start()
    try:
        waiting = asyncio.ensure_future(runtime.stop_when_signal([signal.SIGUSR1]))
        await asyncio.sleep(0)  # let it install the handler
        os.kill(os.getpid(), signal.SIGUSR1)
        await asyncio.wait_for(waiting, 10)
        assert not runtime.stats().running
    finally:
        await runtime.close()
