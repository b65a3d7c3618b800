"""The ``redis`` runtime's options, validated by Salon when a config says ``runtime: {use: redis}``."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr

__all__ = ["RedisRuntimeConfig"]


class RedisRuntimeConfig(BaseModel):
    """Options of the distributed runtime (see ``docs/distributed.md``)."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    url: SecretStr = SecretStr("redis://127.0.0.1:6379/0")
    """The server, as a redis-py URL: ``redis://[[user]:password@]host[:port][/db]``, ``rediss://`` for TLS."""

    namespace: str = Field(default="salon", min_length=1)
    """Workers with the same URL and namespace form one cluster; other namespaces are invisible to it."""

    partitions: int = Field(default=8, ge=1)
    """Partitions per agent type, the unit of placement; every worker of a cluster must use the same number."""

    lease_ms: int = Field(default=5000, ge=300)
    """Milliseconds after which a silent (dead) worker's partitions move to the other workers."""

    worker_id: str | None = None
    """This worker's name in the cluster; default: host name, process id and a random suffix."""

    rpc_timeout: float | None = Field(default=None, gt=0)
    """Seconds ``send_message`` waits for a reply; unset means no limit (as in-process)."""

    max_message_bytes: int = Field(default=8 * 1024 * 1024, gt=0)
    """The largest serialized message or result a worker sends; larger ones are refused at the sender."""

    max_connections: int = Field(default=32, ge=2)
    """Connections a worker opens at most (one is held by its reader); more concurrent calls wait for one."""

    checkpointed_types: list[str] = []
    """Agent types whose state is committed to Redis with every handled message and follows them to a new worker."""

    ignore_unhandled_exceptions: bool = True
    """If false, an exception in a publish handler is re-raised by the next stop call."""
