"""One Redis connection driven directly: the reader's and the writer's, on every message's path.

redis-py's client wraps each command in a pool checkout, an event dispatch, a retry policy and a
response callback; on a sequential RPC that is a good part of the CPU a worker spends per call. The
runtime's two hot connections skip those layers: commands are packed by redis-py's own connection, sent
several at a time in one write, and read back raw. Everything else (leases, routing, checkpoints) keeps
using the ordinary client.

No command here is retried by the connection: a write whose reply is lost may have happened, so the
caller decides (the writer retries a batch only when it knows Redis refused it).
"""

from __future__ import annotations

import asyncio
import hashlib
import math
from typing import Any

from redis.asyncio import ConnectionPool
from redis.exceptions import NoScriptError
from redis.exceptions import TimeoutError as RedisTimeoutError

__all__ = ["DirectConnection", "HashedScript"]


class HashedScript:
    """A Lua script run with ``EVALSHA``, sent whole with ``EVAL`` only when Redis does not know it.

    Redis forgets cached scripts when it restarts, so every caller must be ready to see ``NOSCRIPT``
    once and send the source again (:meth:`DirectConnection.run_script` does).
    """

    def __init__(self, source: str) -> None:
        self.source = source
        self.sha = hashlib.sha1(source.encode(), usedforsecurity=False).hexdigest()

    def command(self, keys: list[Any], args: list[Any]) -> tuple[Any, ...]:
        """The ``EVALSHA`` command that runs the script on ``keys`` and ``args``."""
        return ("EVALSHA", self.sha, len(keys), *keys, *args)


class DirectConnection:
    """A connection made from the runtime's pool (with its URL, TLS and credentials) but owned by one task.

    Args:
        pool: The runtime's pool; only its settings are used, the connection is not counted in it.
        read_timeout: Seconds a reply may take beyond a command's own blocking time before the
            connection is considered dead (``None``: wait forever).
    """

    def __init__(self, pool: ConnectionPool, read_timeout: float | None) -> None:
        self._pool = pool
        self._read_timeout = read_timeout
        self._connection: Any = None

    def pack(self, *commands: tuple[Any, ...]) -> list[bytes]:
        """The wire form of ``commands``, to send in one write (and to cache, for a repeated command)."""
        connection = self._connection_object()
        packed: list[bytes] = []
        for command in commands:
            packed += connection.pack_command(*command)
        return packed

    async def send(self, packed: list[bytes]) -> None:
        """Write packed commands, connecting first if needed.

        Raises:
            redis.exceptions.ConnectionError: Redis cannot be reached (the connection is dropped).
        """
        connection = self._connection_object()
        if not connection.is_connected:
            await connection.connect()
        await connection.send_packed_command(packed, check_health=False)

    async def read(self, blocking_s: float = 0.0) -> Any:
        """The next reply, raw (bytes, lists; ``None`` for a blocking read that timed out).

        Args:
            blocking_s: How long the command itself may block in Redis (``XREADGROUP ... BLOCK``).

        Raises:
            redis.exceptions.ResponseError: Redis answered with an error (the connection stays usable).
            redis.exceptions.ConnectionError: the connection broke (it is dropped).
            redis.exceptions.TimeoutError: no reply in time (the connection is dropped: a late reply would
                otherwise be taken for the next command's).
        """
        connection = self._connection_object()
        if self._read_timeout is None:
            return await connection.read_response(timeout=math.inf)
        try:
            async with asyncio.timeout(self._read_timeout + blocking_s):
                return await connection.read_response(timeout=math.inf)
        except TimeoutError:
            await connection.disconnect(nowait=True)
            raise RedisTimeoutError(
                f"Redis did not answer within {self._read_timeout + blocking_s:.1f}s (the URL's socket_timeout); "
                "the connection was dropped, and a command sent on it may still be applied by Redis."
            ) from None

    async def run(self, command: tuple[Any, ...]) -> Any:
        """Send one command and return its reply."""
        await self.send(self.pack(command))
        return await self.read()

    async def run_script(self, script: HashedScript, keys: list[Any], args: list[Any]) -> Any:
        """Run ``script`` by its hash, and by its source if Redis lost it."""
        try:
            return await self.run(script.command(keys, args))
        except NoScriptError:
            pass
        return await self.run(("EVAL", script.source, len(keys), *keys, *args))

    async def close(self) -> None:
        """Close the socket (safe to call more than once, or before any use)."""
        if self._connection is not None:
            await self._connection.disconnect(nowait=True)

    def _connection_object(self) -> Any:
        if self._connection is None:
            self._connection = self._pool.make_connection()  # type: ignore[no-untyped-call]
        return self._connection
