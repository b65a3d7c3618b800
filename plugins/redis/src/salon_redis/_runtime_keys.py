"""Where a cluster keeps things in Redis: one place that names every key and picks partitions."""

from __future__ import annotations

import zlib

__all__ = ["GROUP", "Keys", "partition_of"]

GROUP = "g"
"""The consumer group every stream is read through (one per stream; consumers are worker ids)."""


def partition_of(key: str, partitions: int) -> int:
    """The partition an agent key falls in.

    crc32 rather than ``hash()``: every worker, in every process and Python version, must agree.
    """
    return zlib.crc32(key.encode("utf-8")) % partitions


class Keys:
    r"""The key names of one namespace (``salon:{namespace}:...``), built once per runtime.

    Agent types and keys are validated by the kernel (``^[\w\-\.]+$``), so they never contain the
    ``:`` that separates parts of a key name.
    """

    def __init__(self, namespace: str) -> None:
        if not namespace or any(ch.isspace() for ch in namespace) or "{" in namespace or "}" in namespace:
            raise ValueError(
                f"Invalid namespace {namespace!r}: use a non-empty name without spaces or braces, "
                "for example 'myapp' or 'tenant-42'."
            )
        self.namespace = namespace
        self.prefix = f"salon:{namespace}:"
        self.types = self.prefix + "types"
        self.workers = self.prefix + "workers"
        self.subscriptions = self.prefix + "subs"
        self.version = self.prefix + "version"
        self.pending = self.prefix + "pending"
        self.sequence = self.prefix + "seq"

    def hosts(self, agent_type: str) -> str:
        """Sorted set of the live workers that host ``agent_type`` (score: lease deadline in ms)."""
        return f"{self.prefix}hosts:{agent_type}"

    def partition(self, agent_type: str, index: int) -> str:
        """The stream of partition ``index`` of ``agent_type``."""
        return f"{self.prefix}p:{agent_type}:{index}"

    def lease(self, agent_type: str, index: int) -> str:
        """The lease of partition ``index`` of ``agent_type``: the owner's worker id, with an expiry."""
        return f"{self.prefix}lease:{agent_type}:{index}"

    def fence(self, agent_type: str, index: int) -> str:
        """The fence counter of partition ``index`` of ``agent_type``: incremented by every new owner (see ``TAKE``)."""
        return f"{self.prefix}fence:{agent_type}:{index}"

    def inbox(self, worker_id: str) -> str:
        """The stream of RPC replies (and cancellation acknowledgements) for ``worker_id``."""
        return f"{self.prefix}inbox:{worker_id}"

    def state(self, agent_type: str, key: str) -> str:
        """An agent's checkpointed state."""
        return f"{self.prefix}state:{agent_type}/{key}"
