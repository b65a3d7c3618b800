"""The kernel's runtime conformance suite with the agents in another OS process.

The suite's ``cross_process_tests`` (sends, RPC results and errors, agent-to-agent RPC, publish fan-out,
sender exclusion, each subscription kind, class subscriptions, message ids) register their agents through
the suite's ``host_agent`` hook; here that hook hands the registration to a worker process
(``conformance_worker.py``) that hosts the agents on its own ``RedisAgentRuntime`` in the test's
namespace, with recorders that write to Redis. The test's runtime hosts nothing: every message it sends or
publishes is handled in the worker process, and ``collect`` reads the records back before the test
asserts. The other tests of the suite run in ``test_runtime_conformance.py`` (one worker per runtime).
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import redis
import redis.asyncio

from salon import AgentId, InterventionHandler
from salon.testing import RuntimeConformanceSuite
from salon.testing._runtime_agents import Recorder
from salon_redis import RedisAgentRuntime

sys.path.insert(0, str(Path(__file__).parent))
from conformance_worker import decode_record, suite_message_serializers


class WorkerProcess:
    """The agents' host: one OS process for the whole class, driven by JSON lines over its stdin/stdout."""

    def __init__(self, url: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("conformance_worker.py")), url],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._lock = threading.Lock()

    def call(self, command: dict[str, Any]) -> None:
        """Send one command and wait until the worker did it (called from a thread)."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        with self._lock:
            self.proc.stdin.write(json.dumps(command) + "\n")
            self.proc.stdin.flush()
            line = self.proc.stdout.readline()
        if not line:
            pytest.fail(f"the conformance worker process died: {self.proc.communicate(timeout=10)[1]}")
        answer = json.loads(line)
        if "error" in answer:
            pytest.fail(f"the conformance worker could not {command['op']}: {answer['error']}")

    def stop(self) -> str:
        try:
            _, err = self.proc.communicate(input="", timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        return err


@pytest.fixture(scope="module")
def worker_process(redis_url: str) -> Iterator[WorkerProcess]:
    worker = WorkerProcess(redis_url)
    try:
        yield worker
    finally:
        errors = worker.stop()
        assert worker.proc.returncode == 0, errors


class TestRedisRuntimeConformanceAcrossProcesses(RuntimeConformanceSuite):
    """The suite's cross-process tests; agents hosted by a worker OS process, messages from this one."""

    timeout = 20.0

    @pytest.fixture(autouse=True)
    def _server(self, redis_url: str, worker_process: WorkerProcess) -> None:
        self.url = redis_url
        self.worker = worker_process

    async def make_runtime(
        self,
        *,
        intervention_handlers: Sequence[InterventionHandler] = (),
        ignore_unhandled_exceptions: bool = True,
    ) -> Any:
        runtime = RedisAgentRuntime(
            self.url,
            namespace=f"xconf-{uuid.uuid4().hex[:12]}",
            worker_id="test-process",
            intervention_handlers=list(intervention_handlers),
            ignore_unhandled_exceptions=ignore_unhandled_exceptions,
        )
        runtime.add_message_serializer(suite_message_serializers())  # it hosts no agent that would add them
        return runtime

    async def host_agent(
        self,
        runtime: Any,
        agent_type: str,
        agent_class: type[Any],
        recorder: Recorder | None = None,
        **register_options: Any,
    ) -> None:
        import asyncio

        command = {
            "op": "host",
            "namespace": runtime.namespace,
            "type": agent_type,
            "class": f"{agent_class.__module__}:{agent_class.__qualname__}",
            "recorder": None if recorder is None else self._key(runtime, recorder),
            "options": register_options,
        }
        await self.within(asyncio.to_thread(self.worker.call, command))

    async def collect(self, runtime: Any, recorder: Recorder) -> None:
        key = self._key(runtime, recorder)
        client = redis.asyncio.Redis.from_url(self.url)
        try:
            records = await client.lrange(f"{key}:records", 0, -1)
            created = await client.lrange(f"{key}:created", 0, -1)
        finally:
            await client.aclose()
        recorder.records[:] = [decode_record(data) for data in records]
        recorder.created[:] = [AgentId.from_str(data.decode()) for data in created]

    @staticmethod
    def _key(runtime: Any, recorder: Recorder) -> str:
        return f"xconf-records:{runtime.namespace}:{id(recorder)}"

    async def dispose_runtime(self, runtime: Any) -> None:
        import asyncio

        with contextlib.suppress(Exception):
            await self.within(runtime.close())
        await self.within(asyncio.to_thread(self.worker.call, {"op": "close", "namespace": runtime.namespace}))
        client = redis.Redis.from_url(self.url)
        try:
            for pattern in (f"salon:{runtime.namespace}:*", f"xconf-records:{runtime.namespace}:*"):
                keys = list(client.scan_iter(match=pattern, count=1000))
                if keys:
                    client.delete(*keys)
        finally:
            client.close()


# Only the tests that hold with the agents in another process run here (the others run in
# test_runtime_conformance.py): they inspect agent objects, stats, gates or tokens of this process.
for _name in dir(TestRedisRuntimeConformanceAcrossProcesses):
    if _name.startswith("test_") and _name not in RuntimeConformanceSuite.cross_process_tests:
        setattr(TestRedisRuntimeConformanceAcrossProcesses, _name, None)


def test_every_cross_process_test_exists() -> None:
    """A renamed suite test must not silently drop out of the cross-process run."""
    assert RuntimeConformanceSuite.cross_process_tests <= set(dir(RuntimeConformanceSuite))
    assert len(RuntimeConformanceSuite.cross_process_tests) == 25
