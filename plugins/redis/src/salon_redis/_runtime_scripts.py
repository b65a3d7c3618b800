"""The Lua scripts that make lease steps and the ordered writer's batches atomic on the server."""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis

__all__ = ["BATCH", "RELEASE", "RENEW", "STALE", "TAKE", "Script"]

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

TAKE = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return redis.call('INCR', KEYS[2])
end
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return tonumber(redis.call('GET', KEYS[2])) or redis.call('INCR', KEYS[2])
end
return 0
"""
"""Take a free lease, or keep one this worker holds already; return its fencing generation (``0``: not taken).

``KEYS``: the lease and its fence counter; ``ARGV``: worker id, ms. Every new acquisition increments the
counter, in the same script, so a generation names one owner's tenure: a write made under an older one
(see the ``F`` operation of :data:`BATCH`) comes from a worker that lost the partition since, even when that
same worker holds the lease again now. A lease this worker still holds keeps its generation (the tenure goes on).
"""

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
local fenced = false
local checked = {}
local lost = {}
local i = 3
local n = #ARGV
while i <= n do
  local op = string.sub(ARGV[i], 1, 1)
  local key = KEYS[tonumber(string.sub(ARGV[i], 2))]
  if op == 'F' then
    if key == nil then
      fenced = false
      i = i + 1
    else
      local tenure = ARGV[i] .. '/' .. ARGV[i + 1]
      local held = checked[tenure]
      if held == nil then
        held = redis.call('GET', key) == ARGV[i + 1]
        checked[tenure] = held
        if not held then
          lost[#lost + 1] = key
          lost[#lost + 1] = ARGV[i + 1]
        end
      end
      fenced = not held
      i = i + 2
    end
  elseif fenced and op ~= 'A' and op ~= 'C' then
    if op == 'R' then
      i = i + 3
    else
      i = i + 2
    end
  elseif op == 'K' or op == 'k' then
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
    -- The inbox normally exists (its worker's heartbeat keeps it): one call. A reply that makes it (its worker
    -- is gone) gives it an expiry, so that late replies to a dead worker do not keep a stream for ever.
    if not redis.call('XADD', key, 'NOMKSTREAM', 'MAXLEN', '~', '100000', '*', 'h', ARGV[i + 1], 'd', ARGV[i + 2]) then
      redis.call('XADD', key, 'MAXLEN', '~', '100000', '*', 'h', ARGV[i + 1], 'd', ARGV[i + 2])
      redis.call('PEXPIRE', key, '600000')
    end
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
if #lost > 0 then
  return lost
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
its acknowledged message. A reply that creates an inbox (its worker is gone and its inbox expired) gives it
a ten-minute expiry, so late replies to a dead worker do not stay forever; a live worker refreshes its own.

**Fencing.** ``F fence generation`` (the fence counter of a partition, see :data:`TAKE`) makes the ``S``,
``R``, ``K`` and ``k`` operations that follow, up to the next ``F``, conditional: they are applied only if
the counter still holds ``generation``, the tenure in which this worker read the message they settle. An
``F`` without a key ends the condition. A stalled worker whose partition another worker took meanwhile
(and claimed its unacknowledged entries) therefore can neither write an older checkpoint over the new
owner's, nor acknowledge an entry the new owner handles, nor answer for it: those writes are skipped, and
the new owner handles the message again (at-least-once) and replies. ``A`` and ``C`` are never fenced: what a
handler sent or published is written, as a crash after its write would have left it. Each distinct
``(fence, generation)`` costs one ``GET`` per batch, however many operations it guards. A generation rather
than the lease's owner: the owner check would pass again once the same worker took the lease back, while
its stale writes were still queued (the classic ABA of leases); a lease that merely expired with nobody
taking it keeps its generation, and the late writes are still the newest, so they are applied.

Returns ``STALE``, ``1``, or, when fenced operations were skipped, a flat list ``[fence, generation, ...]``
of the tenures that were over (the worker then drops those partitions and their agents).
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
