"""The Lua scripts that make lease steps and the ordered writer's batches atomic on the server."""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis

__all__ = ["BATCH", "RELEASE", "RENEW", "STALE", "Script"]

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

BATCH = """
if ARGV[1] ~= '' and ('v' .. (redis.call('GET', KEYS[3]) or '')) ~= ARGV[1] then
  return -1
end
local adds = tonumber(ARGV[2])
local seq = 0
if adds > 0 then
  seq = redis.call('INCRBY', KEYS[1], adds) - adds
end
local pending = 0
local acks = {}
local order = {}
local i = 3
local n = #ARGV
while i <= n do
  local op = string.sub(ARGV[i], 1, 1)
  local key = KEYS[tonumber(string.sub(ARGV[i], 2))]
  if op == 'K' or op == 'k' then
    local group = ARGV[i]
    if acks[group] == nil then
      acks[group] = {}
      order[#order + 1] = group
    end
    local ids = acks[group]
    ids[#ids + 1] = ARGV[i + 1]
    i = i + 2
  elseif op == 'S' then
    redis.call('SET', key, ARGV[i + 1])
    i = i + 2
  elseif op == 'R' then
    redis.call('XADD', key, 'MAXLEN', '~', '100000', '*', 'h', ARGV[i + 1], 'd', ARGV[i + 2])
    i = i + 3
  elseif op == 'C' then
    seq = seq + 1
    redis.call('XADD', key, seq .. '-0', 'h', ARGV[i + 1])
    i = i + 2
  else
    seq = seq + 1
    redis.call('XADD', key, seq .. '-0', 'h', ARGV[i + 1], 'd', ARGV[i + 2])
    pending = pending + 1
    i = i + 3
  end
end
for _, group in ipairs(order) do
  local key = KEYS[tonumber(string.sub(group, 2))]
  local ids = acks[group]
  for first = 1, #ids, 1000 do
    local last = math.min(first + 999, #ids)
    local acked = redis.call('XACK', key, 'g', unpack(ids, first, last))
    redis.call('XDEL', key, unpack(ids, first, last))
    if string.sub(group, 1, 1) == 'K' then
      pending = pending - acked
    end
  end
end
if pending ~= 0 then
  redis.call('INCRBY', KEYS[2], pending)
end
return 1
"""
"""Every write of one batch of the ordered writer, atomically, in one round trip and one command.

``KEYS``: sequence counter, pending counter, routing version, then every key the operations name. Each
operation starts with one argument, its letter and the index of its key (``A7``), so that a batch costs
few arguments to pack. ``ARGV[1]``: ``'v' .. version`` the batch's publishes were resolved against, or
``''``; when the version moved meanwhile, nothing is written and the script returns ``STALE`` (the caller
reloads the routing table and tries again). ``ARGV[2]``: how many entries take a sequence number. Then:
``A header payload`` an entry counted in ``pending`` (its id the next sequence number: one order across
every stream of the namespace), ``C header`` the same uncounted (a cancellation), ``R header payload`` a
reply (auto id, inbox trimmed to about 100,000 entries), ``K id`` / ``k id`` acknowledge and delete an
entry, counted off ``pending`` (``K``) only if the ``XACK`` removed it, so a redelivered message is counted
once (acknowledgements are gathered per stream and run last, one ``XACK`` and one ``XDEL`` for up to 1,000
entries: the script is atomic, so their place in it is invisible), ``S value`` a checkpoint. ``pending``
changes once, by the net count, so nobody sees it pass through zero while a handler's publishes replace
its acknowledged message.
"""

STALE = -1
"""What :data:`BATCH` returns when the routing version moved since the batch was resolved."""


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
