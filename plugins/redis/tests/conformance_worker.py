"""A worker OS process that hosts the runtime conformance suite's agents for ``test_runtime_conformance_processes``.

Run as ``python conformance_worker.py URL``. It reads one JSON command per line on stdin and answers one
JSON line on stdout once the command is done: ``{"ok": true, ...}`` or, when the command raised,
``{"error": message, "error_type": "module:qualname"}`` (the test re-raises it with its type). Every
command names the ``namespace`` of one test runtime; this process keeps one ``RedisAgentRuntime`` per
namespace, a worker of that test runtime's cluster.

- ``create``: make (and start) the namespace's worker with ``interventions`` (suite intervention
  handler classes by name, with their dataclass fields; a ``{"recorder": KEY}`` field becomes a
  :class:`RedisRecorder`) and ``ignore_unhandled_exceptions``;
- ``host``: register the suite's agent ``class`` as ``type`` (``options`` go to ``register``;
  ``async_factory`` and ``factory_only`` as in ``RuntimeHarness.host_agent``), built with the recorder
  ``KEY`` if given;
- ``host_instance``: build ``class(recorder)`` and ``register_instance`` it as ``agent_id``;
- ``host_closure``: ``ClosureAgent.register_closure`` with ``make_closure(recorder)`` and ``subscriptions``;
- ``stats``: the worker's ``stats()`` counters; ``save_state``/``load_state``: the worker's state;
- ``idle``: the worker's ``stop_when_idle()`` (what it raises is the command's error);
- ``capture_start``/``capture_end``: collect the log records of ``logger`` at ``level`` in between and
  return them as JSON;
- ``close``: close the worker (its partitions go back) and forget the namespace's recorders.

The recorder writes each record synchronously, inside the handler, so it is in Redis before the message is
acknowledged: once the test's ``stop_when_idle()`` returns (no message pending in the cluster), every
record is there to read.
"""

from __future__ import annotations

import asyncio
import dataclasses
import importlib
import json
import logging
import sys
from collections.abc import Callable
from functools import partial
from typing import Any

import redis
import redis.asyncio

from salon import AgentId, ClosureAgent, MessageSerializer, try_get_known_serializers_for_type
from salon.testing._runtime_agents import Record, Recorder
from salon_redis import RedisAgentRuntime

SUITE_MODULES = (
    "salon.testing._runtime_agents",
    "salon.testing._conformance_delivery",
    "salon.testing._conformance_handlers",
    "salon.testing._conformance_scheduling",
    "salon.testing._conformance_handler_tasks",
)
"""The modules whose agents this worker hosts; their message classes are known on both sides."""

GATE_POLL_SECONDS = 0.005
"""How often a handler waiting on a gate looks whether the test opened it."""


def suite_message_serializers() -> list[MessageSerializer[Any]]:
    """Serializers of every message class of :data:`SUITE_MODULES`.

    Messages travel by class name, so both processes must know a class: as a real deployment registers
    its message types everywhere (the ``register_message_serializers`` hook), the test process and the
    worker register all of the suite's.
    """
    serializers: list[MessageSerializer[Any]] = []
    for name in SUITE_MODULES:
        module = importlib.import_module(name)
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and dataclasses.is_dataclass(value)
                and value.__module__ == name
                and value not in (Record, Recorder)
            ):
                serializers.extend(try_get_known_serializers_for_type(value))
    return serializers


def qualified_name(value: Any) -> str:
    """``module:qualname`` of a module-level class or function (what :func:`by_name` looks up)."""
    return f"{value.__module__}:{value.__qualname__}"


def by_name(name: str) -> Any:
    """The object ``module:qualname`` names."""
    module, _, path = name.partition(":")
    found: Any = importlib.import_module(module)
    for part in path.split("."):
        found = getattr(found, part)
    return found


def encode_record(record: Record) -> str:
    """One record as JSON (ids and topics as ``type/key`` strings)."""
    return json.dumps(
        {
            "kind": record.kind,
            "agent": str(record.agent),
            "text": record.text,
            "sender": None if record.sender is None else str(record.sender),
            "topic": None if record.topic is None else [record.topic.type, record.topic.source],
            "is_rpc": record.is_rpc,
            "message_id": record.message_id,
        }
    )


def decode_record(data: bytes) -> Record:
    """The inverse of :func:`encode_record`."""
    from salon import TopicId

    fields = json.loads(data)
    return Record(
        fields["kind"],
        AgentId.from_str(fields["agent"]),
        fields["text"],
        sender=None if fields["sender"] is None else AgentId.from_str(fields["sender"]),
        topic=None if fields["topic"] is None else TopicId(*fields["topic"]),
        is_rpc=fields["is_rpc"],
        message_id=fields["message_id"],
    )


def gate_key(recorder_key: str, name: str) -> str:
    """The Redis key whose existence means the gate ``name`` of the recorder ``recorder_key`` is open."""
    return f"{recorder_key}:gate:{name}"


class _PushedList(list[Any]):
    """A list whose appends are also pushed to a Redis list (``created``/``closed`` of a remote recorder)."""

    def __init__(self, client: redis.Redis, key: str) -> None:
        super().__init__()
        self._client = client
        self._key = key

    def append(self, item: Any) -> None:
        super().append(item)
        self._client.rpush(self._key, str(item))


class RedisRecorder(Recorder):
    """A recorder whose records, created and closed agents also go to Redis, and whose gates open from Redis.

    Writes block (they land before the message is acknowledged); gates are polled with an async client,
    so a waiting handler never blocks the worker's loop.
    """

    def __init__(self, client: redis.Redis, async_client: redis.asyncio.Redis, key: str) -> None:
        super().__init__()
        self._client = client
        self._async_client = async_client
        self._key = key
        self.created = _PushedList(client, f"{key}:created")
        self.closed = _PushedList(client, f"{key}:closed")

    def add(self, record: Record) -> None:
        super().add(record)
        self._client.rpush(f"{self._key}:records", encode_record(record))

    async def wait_gate(self, name: str) -> None:
        while True:  # polled, not BLPOPed: any number of handlers may wait on one gate
            if await self._async_client.exists(gate_key(self._key, name)):
                return
            await asyncio.sleep(GATE_POLL_SECONDS)


class _Captured(logging.Handler):
    def __init__(self, level: int) -> None:
        super().__init__(level)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def encode_log_record(record: logging.LogRecord) -> dict[str, Any]:
    """A log record as JSON: the suite's event objects as class name and kwargs, the exception by name."""
    message = record.msg
    event = None
    if type(message).__module__ == "salon.logging" and hasattr(message, "kwargs"):
        event = {"class": type(message).__name__, "kwargs": message.kwargs}
    error = record.exc_info[1] if record.exc_info else None
    return {
        "name": record.name,
        "levelno": record.levelno,
        "message": record.getMessage(),
        "event": event,
        "exc": None if error is None else {"class": qualified_name(type(error)), "text": str(error)},
    }


class Worker:
    """The namespaces' worker runtimes and the state of the commands."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.client = redis.Redis.from_url(url)
        self.async_client = redis.asyncio.Redis.from_url(url)
        self.runtimes: dict[str, RedisAgentRuntime] = {}
        self.recorders: dict[str, RedisRecorder] = {}
        self.capture: tuple[logging.Logger, _Captured, int] | None = None

    def recorder(self, key: str | None) -> RedisRecorder | None:
        if key is None:
            return None
        found = self.recorders.get(key)
        if found is None:
            found = self.recorders[key] = RedisRecorder(self.client, self.async_client, key)
        return found

    def _field(self, value: Any) -> Any:
        if isinstance(value, dict) and set(value) == {"recorder"}:
            return self.recorder(value["recorder"])
        return value

    async def runtime(self, command: dict[str, Any]) -> RedisAgentRuntime:
        namespace = command["namespace"]
        runtime = self.runtimes.get(namespace)
        if runtime is None:
            handlers = [
                by_name(spec["class"])(**{name: self._field(value) for name, value in spec["fields"].items()})
                for spec in command.get("interventions", [])
            ]
            runtime = RedisAgentRuntime(
                self.url,
                namespace=namespace,
                worker_id=f"host-{namespace}",
                intervention_handlers=handlers,
                ignore_unhandled_exceptions=command.get("ignore_unhandled_exceptions", True),
            )
            runtime.add_message_serializer(suite_message_serializers())
            self.runtimes[namespace] = runtime
            await runtime.start()
        return runtime

    async def do(self, command: dict[str, Any]) -> dict[str, Any]:
        op = command["op"]
        if op == "close":
            namespace = command["namespace"]
            runtime = self.runtimes.pop(namespace, None)
            if runtime is not None:
                await runtime.close()
            for key in [key for key in self.recorders if f":{namespace}:" in key]:
                del self.recorders[key]
            return {}
        if op == "capture_start":
            logger = logging.getLogger(command["logger"])
            handler = _Captured(command["level"])
            self.capture = (logger, handler, logger.level)
            logger.addHandler(handler)
            logger.setLevel(command["level"])
            return {}
        if op == "capture_end":
            assert self.capture is not None, "capture_end without capture_start"
            logger, handler, previous = self.capture
            self.capture = None
            logger.removeHandler(handler)
            logger.setLevel(previous)
            return {"records": [encode_log_record(r) for r in handler.records]}
        runtime = await self.runtime(command)
        if op == "host":
            await self._host(runtime, command)
        elif op == "host_instance":
            agent = by_name(command["class"])(self.recorder(command["recorder"]))
            await agent.register_instance(runtime, AgentId.from_str(command["agent_id"]))
        elif op == "host_closure":
            closure = by_name(command["make_closure"])(self.recorder(command["recorder"]))
            subscriptions = command["subscriptions"]
            await ClosureAgent.register_closure(
                runtime,
                command["type"],
                closure,
                subscriptions=by_name(subscriptions) if subscriptions else (lambda: []),
            )
        elif op == "stats":
            return {"stats": dataclasses.asdict(runtime.stats())}
        elif op == "save_state":
            return {"state": await runtime.save_state()}
        elif op == "load_state":
            await runtime.load_state(command["state"])
        elif op == "idle":
            await runtime.stop_when_idle()
        elif op != "create":
            raise ValueError(f"unknown command {op!r}")
        return {}

    async def _host(self, runtime: RedisAgentRuntime, command: dict[str, Any]) -> None:
        cls = by_name(command["class"])
        recorder = self.recorder(command["recorder"])
        build: Callable[[], Any] = cls if recorder is None else partial(cls, recorder)

        async def build_awaited() -> Any:
            return build()

        factory: Callable[[], Any] = build_awaited if command.get("async_factory") else build
        if command.get("factory_only"):
            await runtime.register_factory(command["type"], factory)
        else:
            await cls.register(runtime, command["type"], factory, **command["options"])

    async def close(self) -> None:
        for runtime in self.runtimes.values():
            await runtime.close()
        self.client.close()
        await self.async_client.aclose()


async def _serve(url: str) -> None:
    worker = Worker(url)
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            break
        command = json.loads(line)
        try:
            answer: dict[str, Any] = {"ok": True, **await worker.do(command)}
        except Exception as e:  # reported to the test, which re-raises it with its type
            answer = {"error": str(e), "error_type": qualified_name(type(e))}
        print(json.dumps(answer, default=str), flush=True)
    await worker.close()


if __name__ == "__main__":
    asyncio.run(_serve(sys.argv[1]))
