"""The kernel's runtime conformance suite with the agents in another OS process.

Every test of the suite but its ``single_process_tests`` runs here. The suite's hooks (``host_agent``,
``host_agent_instance``, ``host_closure``, ``collect``, ``open_gate``, ``runtime_stats``, ``capture_logs``,
``save_runtime_state``/``load_runtime_state``, ``close_runtime``, ``stop_when_idle_everywhere``) are
forwarded to a worker process (``conformance_worker.py``) that hosts the agents on its own
``RedisAgentRuntime`` in the test's namespace, with recorders that write to Redis and wait on gates the
test opens in Redis, and with the test runtime's intervention handlers rebuilt by name. The test's runtime
hosts nothing: every message it sends or publishes is handled in the worker process, and ``collect`` reads
the records back before the test asserts. All tests also run in ``test_runtime_conformance.py`` (one
worker per runtime, agents in the test's process).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import subprocess
import sys
import tempfile
import threading
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import redis
import redis.asyncio

import salon.logging
from salon import AgentId, InterventionHandler
from salon.testing import RuntimeConformanceSuite
from salon.testing._runtime_agents import Recorder
from salon_redis import RedisAgentRuntime
from salon_redis._runtime_keys import Keys

sys.path.insert(0, str(Path(__file__).parent))
from conformance_worker import by_name, decode_record, gate_key, qualified_name, suite_message_serializers


class WorkerProcess:
    """The agents' host: one OS process for the whole class, driven by JSON lines over its stdin/stdout."""

    def __init__(self, url: str) -> None:
        # Its log output goes to a file: the tests make handlers fail on purpose, and a pipe nobody reads
        # until the end would fill up and block the worker.
        self.log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed by stop(), it outlives __init__)
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("conformance_worker.py")), url],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
        )
        self._lock = threading.Lock()

    def output(self) -> str:
        """What the worker wrote to stderr so far (its last 20,000 characters)."""
        self.log.seek(0)
        return self.log.read()[-20_000:]

    def call(self, command: dict[str, Any]) -> dict[str, Any]:
        """Send one command and wait until the worker did it (called from a thread); re-raise its error."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        with self._lock:
            self.proc.stdin.write(json.dumps(command) + "\n")
            self.proc.stdin.flush()
            line = self.proc.stdout.readline()
        if not line:
            self.proc.wait(timeout=10)
            pytest.fail(f"the conformance worker process died: {self.output()}")
        answer: dict[str, Any] = json.loads(line)
        if "error" in answer:
            raise _rebuild_error(answer["error_type"], answer["error"])
        return answer

    def stop(self) -> str:
        """End the worker (end of its stdin) and return its stderr."""
        try:
            self.proc.communicate(input="", timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.communicate()
        try:
            return self.output()
        finally:
            self.log.close()


@pytest.fixture(scope="module")
def worker_process(redis_url: str) -> Iterator[WorkerProcess]:
    worker = WorkerProcess(redis_url)
    try:
        yield worker
    finally:
        errors = worker.stop()
        assert worker.proc.returncode == 0, errors


def _rebuild_error(type_name: str, text: str) -> Exception:
    """The worker's exception with its type, where the type is importable and takes a message."""
    with contextlib.suppress(Exception):
        error_type = by_name(type_name)
        if isinstance(error_type, type) and issubclass(error_type, Exception):
            return error_type(text)
    return RuntimeError(f"{type_name}: {text}")


def _rebuild_log_record(data: dict[str, Any]) -> logging.LogRecord:
    """A log record of the worker: its event object rebuilt from kwargs, its exception rebuilt with its type."""
    message: Any = data["message"]
    if data["event"] is not None:
        kwargs = {k: v for k, v in data["event"]["kwargs"].items() if k != "type"}
        message = getattr(salon.logging, data["event"]["class"])(**kwargs)
    exc = data["exc"]
    error = None if exc is None else _rebuild_error(exc["class"], exc["text"])
    return logging.makeLogRecord(
        {
            "name": data["name"],
            "levelno": data["levelno"],
            "levelname": logging.getLevelName(data["levelno"]),
            "msg": message,
            "exc_info": None if error is None else (type(error), error, None),
        }
    )


class TestRedisRuntimeConformanceAcrossProcesses(RuntimeConformanceSuite):
    """The suite's cross-process tests; agents hosted by a worker OS process, messages from this one."""

    timeout = 20.0
    poll_interval = 0.005  # collect() is a round trip to Redis

    @pytest.fixture(autouse=True)
    def _server(self, redis_url: str, worker_process: WorkerProcess) -> None:
        self.url = redis_url
        self.worker = worker_process

    async def _worker_do(self, runtime: Any, op: str, **fields: Any) -> dict[str, Any]:
        command = {"op": op, "namespace": runtime.namespace, **fields}
        return await self.within(asyncio.to_thread(self.worker.call, command))

    async def make_runtime(
        self,
        *,
        intervention_handlers: Sequence[InterventionHandler] = (),
        ignore_unhandled_exceptions: bool = True,
    ) -> Any:
        # The handlers run where messages are handled (RedisAgentRuntime's rule): on the worker, which
        # rebuilds them by name; this runtime handles nothing.
        runtime = RedisAgentRuntime(
            self.url,
            namespace=f"xconf-{uuid.uuid4().hex[:12]}",
            worker_id="test-process",
            ignore_unhandled_exceptions=ignore_unhandled_exceptions,
        )
        runtime.add_message_serializer(suite_message_serializers())  # it hosts no agent that would add them
        await self._worker_do(
            runtime,
            "create",
            interventions=[self._intervention_spec(runtime, h) for h in intervention_handlers],
            ignore_unhandled_exceptions=ignore_unhandled_exceptions,
        )
        return runtime

    def _intervention_spec(self, runtime: Any, handler: InterventionHandler) -> dict[str, Any]:
        described: Any = handler  # the suite's intervention handlers are dataclasses
        fields = {
            field.name: {"recorder": self._key(runtime, value)} if isinstance(value, Recorder) else value
            for field in dataclasses.fields(described)
            for value in [getattr(handler, field.name)]
        }
        return {"class": qualified_name(type(handler)), "fields": fields}

    async def host_agent(
        self,
        runtime: Any,
        agent_type: str,
        agent_class: type[Any],
        recorder: Recorder | None = None,
        *,
        async_factory: bool = False,
        factory_only: bool = False,
        **register_options: Any,
    ) -> None:
        await self._worker_do(
            runtime,
            "host",
            type=agent_type,
            **{"class": qualified_name(agent_class)},
            recorder=None if recorder is None else self._key(runtime, recorder),
            options=register_options,
            async_factory=async_factory,
            factory_only=factory_only,
        )

    async def host_agent_instance(
        self, runtime: Any, agent_id: AgentId, agent_class: type[Any], recorder: Recorder
    ) -> None:
        await self._worker_do(
            runtime,
            "host_instance",
            agent_id=str(agent_id),
            recorder=self._key(runtime, recorder),
            **{"class": qualified_name(agent_class)},
        )

    async def host_closure(
        self,
        runtime: Any,
        agent_type: str,
        make_closure: Callable[[Recorder], Any],
        recorder: Recorder,
        *,
        subscriptions: Callable[[], Any] | None = None,
    ) -> None:
        await self._worker_do(
            runtime,
            "host_closure",
            type=agent_type,
            make_closure=qualified_name(make_closure),
            recorder=self._key(runtime, recorder),
            subscriptions=None if subscriptions is None else qualified_name(subscriptions),
        )

    async def collect(self, runtime: Any, recorder: Recorder) -> None:
        key = self._key(runtime, recorder)
        client = redis.asyncio.Redis.from_url(self.url)
        try:
            pipe = client.pipeline(transaction=True)
            for part in ("records", "created", "closed"):
                pipe.lrange(f"{key}:{part}", 0, -1)
            records, created, closed = await pipe.execute()
        finally:
            await client.aclose()
        recorder.records[:] = [decode_record(data) for data in records]
        recorder.created[:] = [AgentId.from_str(data.decode()) for data in created]
        recorder.closed[:] = [AgentId.from_str(data.decode()) for data in closed]

    async def open_gate(self, runtime: Any, recorder: Recorder, name: str) -> None:
        client = redis.asyncio.Redis.from_url(self.url)
        try:
            await client.set(gate_key(self._key(runtime, recorder), name), 1)
        finally:
            await client.aclose()

    async def runtime_stats(self, runtime: Any) -> Any:
        """The cluster's counters: message and agent counters of both processes added, subscriptions from Redis.

        Built-in subscriptions live in the cluster's table (every worker mirrors it lazily); custom
        subscription classes stay on the worker that added them (this one, in the suite's tests).
        """
        here = dataclasses.asdict(runtime.stats())
        there = (await self._worker_do(runtime, "stats"))["stats"]
        counters = {name: here[name] + there[name] for name in here if name != "subscriptions"}
        client = redis.asyncio.Redis.from_url(self.url)
        try:
            table = await client.hlen(Keys(runtime.namespace).subscriptions)
        finally:
            await client.aclose()
        return SimpleNamespace(**counters, subscriptions=table)

    async def save_runtime_state(self, runtime: Any) -> Mapping[str, Any]:
        """The agents' states from the worker; subscriptions and messages queued before ``start()`` from here."""
        state = dict(await runtime.save_state())
        hosted = (await self._worker_do(runtime, "save_state"))["state"]
        state["agents"] = {**state["agents"], **hosted["agents"]}
        return state

    async def load_runtime_state(self, runtime: Any, state: Mapping[str, Any]) -> None:
        """The agents' states into the worker that hosts them, the rest (subscriptions, queue) here."""
        await self._worker_do(runtime, "load_state", state={**state, "subscriptions": [], "queued_messages": []})
        await runtime.load_state({**state, "agents": {}})

    async def close_runtime(self, runtime: Any) -> None:
        await runtime.close()
        await self._worker_do(runtime, "close")

    async def stop_when_idle_everywhere(self, runtime: Any) -> None:
        await self.idle(runtime)
        await self._worker_do(runtime, "idle")

    @contextlib.asynccontextmanager
    async def capture_logs(self, runtime: Any, logger_name: str, level: int) -> AsyncIterator[list[logging.LogRecord]]:
        async with super().capture_logs(runtime, logger_name, level) as records:
            await self._worker_do(runtime, "capture_start", logger=logger_name, level=level)
            try:
                yield records
            finally:
                captured = (await self._worker_do(runtime, "capture_end"))["records"]
                records.extend(_rebuild_log_record(data) for data in captured)

    @staticmethod
    def _key(runtime: Any, recorder: Recorder) -> str:
        return f"xconf-records:{runtime.namespace}:{id(recorder)}"

    async def dispose_runtime(self, runtime: Any) -> None:
        with contextlib.suppress(Exception):
            await self.within(runtime.close())
        await self._worker_do(runtime, "close")
        client = redis.Redis.from_url(self.url)
        try:
            for pattern in (f"salon:{runtime.namespace}:*", f"xconf-records:{runtime.namespace}:*"):
                keys = list(client.scan_iter(match=pattern, count=1000))
                if keys:
                    client.delete(*keys)
        finally:
            client.close()


# The tests that only hold with the agents in this process run in test_runtime_conformance.py only.
for _name in RuntimeConformanceSuite.single_process_tests:
    setattr(TestRedisRuntimeConformanceAcrossProcesses, _name, None)


def test_exactly_the_single_process_tests_are_switched_off() -> None:
    """Every suite test runs here but the ones the suite names, with a reason, as single-process only."""
    suite_tests = {name for name in dir(RuntimeConformanceSuite) if name.startswith("test_")}
    switched_off = {name for name in suite_tests if getattr(TestRedisRuntimeConformanceAcrossProcesses, name) is None}
    reasons = RuntimeConformanceSuite.single_process_tests
    assert switched_off == set(reasons), "a renamed suite test must not silently drop out (or stay in)"
    assert all(reason.strip() for reason in reasons.values())
    assert RuntimeConformanceSuite.cross_process_tests == suite_tests - set(reasons)
