"""One Redis connection driven directly: the reader's and the writer's, on every message's path.

redis-py's client wraps each command in a pool checkout, an event dispatch, a retry policy, a response
callback and several layers of reading (stream reader, parser, timeouts); on a sequential RPC that was
most of the CPU a worker spent per call. The runtime's two hot connections skip those layers: redis-py
opens the connection (URL, TLS, credentials, database, protocol), then a small protocol of this module
takes the socket over; commands are packed by hiredis, sent several at a time in one write, and their
replies parsed by hiredis as they arrive. Everything else (leases, routing, checkpoints) keeps using the
ordinary client.

No command here is retried by the connection: a write whose reply is lost may have happened, so the
caller decides (the writer retries a batch only when it knows Redis refused it).
"""

from __future__ import annotations

import asyncio
import collections
import hashlib
from typing import Any

import hiredis
import redis
from redis.asyncio import ConnectionPool
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import InvalidResponse, NoScriptError, ResponseError
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


_WATCH_S = 0.25
"""How often a connection with replies outstanding checks that the oldest one is not overdue."""


class _Replies(asyncio.Protocol):
    """Parses what Redis sends and hands each reply to the read waiting for it, in order."""

    def __init__(self) -> None:
        self.parser = hiredis.Reader(protocolError=InvalidResponse, replyError=ResponseError)
        self.ready: collections.deque[Any] = collections.deque()  # replies nobody asked for yet
        self.waiting: collections.deque[asyncio.Future[Any]] = collections.deque()
        self.lost: Exception | None = None
        self.transport: asyncio.Transport | None = None
        self.opener: Any = None  # redis-py's connection that opened the socket

    def data_received(self, data: bytes) -> None:
        parser = self.parser
        parser.feed(data)
        waiting = self.waiting
        while True:
            reply = parser.gets()
            if reply is False:
                return
            if isinstance(reply, ResponseError) and str(reply).startswith("NOSCRIPT"):
                reply = NoScriptError(str(reply))
            while waiting:
                future = waiting.popleft()
                if not future.done():  # a read cancelled meanwhile gives its reply to nobody
                    future.set_result(reply)
                    break
            else:
                self.ready.append(reply)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.lost is None:
            self.lost = RedisConnectionError(f"Connection to Redis lost{f': {exc}' if exc else ''}.")
        self.fail_waiting(self.lost)

    def fail_waiting(self, error: Exception) -> None:
        while self.waiting:
            future = self.waiting.popleft()
            if not future.done():
                future.set_exception(error)


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
        self._replies: _Replies | None = None
        self._deadlines: collections.deque[float] = collections.deque()  # of the replies awaited, in order
        self._watch: asyncio.TimerHandle | None = None

    @staticmethod
    def pack(*commands: tuple[Any, ...]) -> list[bytes]:
        """The wire form of ``commands``, to send in one write (and to cache, for a repeated command).

        hiredis packs in C, five times faster than redis-py's Python packer; arguments are ``str``,
        ``bytes`` or ``int``.
        """
        return [hiredis.pack_command(command) for command in commands]

    async def send(self, packed: list[bytes], blocking_s: float = 0.0) -> None:
        """Write packed commands, connecting first if needed.

        Args:
            packed: The commands, from :meth:`pack`.
            blocking_s: How long the last of them may block in Redis (``XREADGROUP ... BLOCK``).

        Raises:
            redis.exceptions.ConnectionError: Redis cannot be reached.
        """
        replies = self._replies
        if replies is None or replies.lost is not None:
            replies = await self._connect()
        assert replies.transport is not None
        replies.transport.write(b"".join(packed))
        if self._read_timeout is not None:
            now = asyncio.get_running_loop().time()
            self._deadlines.extend([now + self._read_timeout] * (len(packed) - 1))
            self._deadlines.append(now + self._read_timeout + blocking_s)
            if self._watch is None:
                self._watch = asyncio.get_running_loop().call_later(_WATCH_S, self._check_overdue)

    async def read(self) -> Any:
        """The next reply, raw (bytes, lists; ``None`` for a blocking read that timed out).

        Raises:
            redis.exceptions.ResponseError: Redis answered with an error (the connection stays usable).
            redis.exceptions.ConnectionError: the connection broke (it is dropped).
            redis.exceptions.TimeoutError: no reply in time (the connection is dropped: a late reply would
                otherwise be taken for the next command's).
        """
        replies = self._replies
        if replies is None:
            raise RedisConnectionError("Nothing was sent on this connection.")
        if replies.ready:
            reply = replies.ready.popleft()
        elif replies.lost is not None:
            raise replies.lost
        else:
            future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
            replies.waiting.append(future)
            reply = await future
        if self._deadlines:
            self._deadlines.popleft()
        if isinstance(reply, ResponseError):
            raise reply
        return reply

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
        self._drop(RedisConnectionError("The connection was closed."))

    async def _connect(self) -> _Replies:
        """Let redis-py open and authenticate a connection, then take its socket over."""
        self._drop(RedisConnectionError("The connection was replaced."))
        connection: Any = self._pool.make_connection()  # type: ignore[no-untyped-call]
        await connection.connect()
        # redis-py's asyncio connection keeps an asyncio StreamReader/StreamWriter pair (redis-py 4.2 to 8 at least).
        writer, reader = getattr(connection, "_writer", None), getattr(connection, "_reader", None)
        if not isinstance(writer, asyncio.StreamWriter) or not isinstance(reader, asyncio.StreamReader):
            await connection.disconnect()
            raise RuntimeError(
                f"This redis-py ({redis.__version__}) keeps its connection's socket differently from the versions "
                "salon-redis knows; install a redis-py release salon-redis supports (see its pyproject.toml)."
            )
        transport: asyncio.Transport = writer.transport  # type: ignore[assignment]  # after redis-py's handshake
        replies = _Replies()
        replies.opener = connection  # kept alive: redis-py closes the socket when its connection object is collected
        buffered = bytes(getattr(reader, "_buffer", b""))  # nothing is expected after the handshake; kept if there is
        transport.set_protocol(replies)
        replies.transport = transport
        if buffered:
            replies.data_received(buffered)
        self._replies = replies
        self._deadlines.clear()
        return replies

    def _check_overdue(self) -> None:
        self._watch = None
        replies = self._replies
        if not self._deadlines or replies is None or replies.lost is not None:
            return
        answered = len(replies.ready)  # replies in, not read yet: their deadlines are still queued first
        if len(self._deadlines) > answered and asyncio.get_running_loop().time() > self._deadlines[answered]:
            self._drop(
                RedisTimeoutError(
                    f"Redis did not answer within {self._read_timeout:.1f}s (the URL's socket_timeout); "
                    "the connection was dropped, and a command sent on it may still be applied by Redis."
                )
            )
            return
        self._watch = asyncio.get_running_loop().call_later(_WATCH_S, self._check_overdue)

    def _drop(self, error: Exception) -> None:
        """Close the socket; reads waiting on it, and later reads, fail with ``error`` until the next send."""
        self._deadlines.clear()
        if self._watch is not None:
            self._watch.cancel()
            self._watch = None
        replies = self._replies
        if replies is None or replies.lost is not None:
            return
        replies.lost = error
        replies.fail_waiting(error)
        if replies.transport is not None:
            replies.transport.abort()  # a reply still coming must not be read by anyone
