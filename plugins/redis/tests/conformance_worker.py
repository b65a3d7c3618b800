"""A worker OS process that hosts the runtime conformance suite's agents for ``test_runtime_conformance_processes``.

Run as ``python conformance_worker.py URL``. It reads one JSON command per line on stdin and answers one
JSON line on stdout once the command is done:

- ``{"op": "host", "namespace": N, "type": T, "class": "module:qualname", "recorder": KEY | null,
  "options": {...}}`` registers the suite's agent class as type ``T`` on this process's worker of
  namespace ``N`` (started on first use), built with a recorder that writes to Redis under ``KEY``;
- ``{"op": "close", "namespace": N}`` closes that worker (its partitions go back).

The recorder writes each record synchronously, inside the handler, so it is in Redis before the message is
acknowledged: once the test's ``stop_when_idle()`` returns (no message pending in the cluster), every
record is there to read.
"""

from __future__ import annotations

import asyncio
import dataclasses
import importlib
import json
import sys
from functools import partial
from typing import Any

import redis

from salon import AgentId, MessageSerializer, try_get_known_serializers_for_type
from salon.testing._runtime_agents import Record, Recorder
from salon_redis import RedisAgentRuntime

SUITE_MODULES = (
    "salon.testing._runtime_agents",
    "salon.testing._conformance_delivery",
    "salon.testing._conformance_handlers",
)
"""The modules whose agents this worker hosts; their message classes are known on both sides."""


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


class _PushedList(list[Any]):
    """A list whose appends are also pushed to a Redis list (``Recorder.created`` of a remote recorder)."""

    def __init__(self, client: redis.Redis, key: str) -> None:
        super().__init__()
        self._client = client
        self._key = key

    def append(self, item: Any) -> None:
        super().append(item)
        self._client.rpush(self._key, str(item))


class RedisRecorder(Recorder):
    """A recorder whose records and created agents also go to Redis (blocking writes: they land before the ack)."""

    def __init__(self, client: redis.Redis, key: str) -> None:
        super().__init__()
        self._client = client
        self._key = key
        self.created = _PushedList(client, f"{key}:created")

    def add(self, record: Record) -> None:
        super().add(record)
        self._client.rpush(f"{self._key}:records", encode_record(record))


async def _serve(url: str) -> None:
    client = redis.Redis.from_url(url)
    workers: dict[str, RedisAgentRuntime] = {}
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            break
        command = json.loads(line)
        try:
            namespace = command["namespace"]
            if command["op"] == "host":
                runtime = workers.get(namespace)
                if runtime is None:
                    runtime = RedisAgentRuntime(url, namespace=namespace, worker_id=f"host-{namespace}")
                    runtime.add_message_serializer(suite_message_serializers())
                    workers[namespace] = runtime
                    await runtime.start()
                module, _, name = command["class"].partition(":")
                cls: Any = importlib.import_module(module)
                for part in name.split("."):
                    cls = getattr(cls, part)
                key = command["recorder"]
                factory = cls if key is None else partial(cls, RedisRecorder(client, key))
                await cls.register(runtime, command["type"], factory, **command["options"])
            elif command["op"] == "close":
                runtime = workers.pop(namespace, None)
                if runtime is not None:
                    await runtime.close()
            answer: dict[str, Any] = {"ok": True}
        except Exception as e:  # reported to the test, which fails with it
            answer = {"error": f"{type(e).__name__}: {e}"}
        print(json.dumps(answer), flush=True)
    for runtime in workers.values():
        await runtime.close()
    client.close()


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


if __name__ == "__main__":
    asyncio.run(_serve(sys.argv[1]))
