"""The Lua scripts that make lease and acknowledgement steps atomic on the server."""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis

__all__ = ["ACK", "ADD", "RELEASE", "RENEW", "Script"]

RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
"""Extend a lease only if this worker still holds it (``KEYS[1]`` lease, ``ARGV`` worker id, ms)."""

RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""
"""Give a lease back only if this worker holds it, so a late release never frees someone else's."""

ACK = """
local acked = redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
if acked == 1 and ARGV[3] == '1' then
  redis.call('DECR', KEYS[2])
end
return acked
"""
"""Acknowledge and delete one entry; count it off ``pending`` only the first time it is acknowledged.

``KEYS``: stream, pending counter. ``ARGV``: group, entry id, ``'1'`` if the entry is counted.
A message redelivered after a crash may be acknowledged twice; only one of them decrements.
"""

ADD = """
local n = redis.call('INCR', KEYS[2])
redis.call('XADD', KEYS[1], n .. '-0', unpack(ARGV))
if #KEYS == 3 then
  redis.call('INCR', KEYS[3])
end
return n
"""
"""Add an entry whose id comes from the namespace's sequence, and count it as pending if ``KEYS[3]`` is given.

``KEYS``: stream, sequence counter, [pending counter]. ``ARGV``: the entry's field/value pairs.
Ids from one counter order entries across all streams of a namespace, so a worker that reads several
partitions at once dispatches what it read in the order it was accepted, as the in-process runtime does.
"""


class Script:
    """A Lua script sent with ``EVAL`` (Redis caches it compiled by its hash).

    Not redis-py's ``register_script``: in a pipeline that one asks ``SCRIPT EXISTS`` first, one more round
    trip on every write, and ``EVALSHA`` fails after a Redis restart has emptied the script cache.
    """

    def __init__(self, redis: Redis, source: str) -> None:
        self._redis = redis
        self._source = source

    def __call__(self, *, keys: list[Any], args: list[Any], client: Any = None) -> Any:
        """Queue the script on ``client`` (a pipeline) or run it on the runtime's client; await the result."""
        return (client if client is not None else self._redis).eval(self._source, len(keys), *keys, *args)
