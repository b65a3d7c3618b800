"""The cluster's routing table: the type registry and the subscriptions, kept in Redis and mirrored here."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from redis.asyncio import Redis

from salon import DefaultSubscription, Subscription, TypePrefixSubscription, TypeSubscription
from salon._subscription_router import SubscriptionRouter

from ._runtime_keys import Keys
from ._runtime_support import execute

__all__ = ["ClusterRouting"]

_BUILT_IN = (TypeSubscription, TypePrefixSubscription, DefaultSubscription)


def canonical(subscription: Subscription) -> str | None:
    """The subscription's routing as a stable string, or ``None`` for classes that cannot be stored."""
    if type(subscription) in (TypeSubscription, DefaultSubscription):
        described = {"kind": "type", "topic": subscription.topic_type, "agent_type": subscription.agent_type}  # type: ignore[attr-defined]
    elif type(subscription) is TypePrefixSubscription:
        described = {
            "kind": "type_prefix",
            "topic": subscription.topic_type_prefix,
            "agent_type": subscription.agent_type,
        }
    else:
        return None
    return json.dumps(described, sort_keys=True)


def _rebuild(canon: str, subscription_id: str) -> Subscription:
    described = json.loads(canon)
    if described["kind"] == "type":
        return TypeSubscription(described["topic"], described["agent_type"], id=subscription_id)
    return TypePrefixSubscription(described["topic"], described["agent_type"], id=subscription_id)


class ClusterRouting:
    """Keeps this worker's :class:`SubscriptionRouter` equal to the cluster's table in Redis.

    Built-in subscriptions live in a Redis hash keyed by their routing (so two workers that register the
    same agent class add one entry, not two); a version counter tells workers when to reload. Custom
    subscription classes cannot be rebuilt from data and stay local to the worker that added them.

    Args:
        redis: The runtime's client.
        keys: The namespace's key names.
        router: The local table the dispatcher and the publisher read.
    """

    def __init__(self, redis: Redis, keys: Keys, router: SubscriptionRouter) -> None:
        self._redis = redis
        self._keys = keys
        self._router = router
        self._version: bytes | None = None
        self.types: set[str] = set()
        self.types_here: set[str] = set()
        self._mirrored: dict[str, Subscription] = {}  # canonical -> the subscription in the router
        self._added_here: set[str] = set()
        self._lock = asyncio.Lock()

    async def register_type(self, agent_type: str) -> None:
        """Record in the cluster that ``agent_type`` exists (some worker can host it)."""
        pipe = self._redis.pipeline(transaction=True)
        pipe.hsetnx(self._keys.types, agent_type, json.dumps({"since": time.time()}))
        pipe.incr(self._keys.version)
        await execute(pipe)
        self.types.add(agent_type)
        self.types_here.add(agent_type)

    async def has_type(self, agent_type: str) -> bool:
        """Whether any worker ever registered ``agent_type`` (cached once true)."""
        if agent_type in self.types:
            return True
        if await self._redis.hexists(self._keys.types, agent_type):
            self.types.add(agent_type)
            return True
        return False

    async def type_names(self) -> list[str]:
        """Every registered agent type of the cluster, sorted."""
        names: list[bytes] = await self._redis.hkeys(self._keys.types)  # type: ignore[assignment]
        return sorted(name.decode() for name in names)

    async def add(self, subscription: Subscription) -> None:
        """Add ``subscription`` here and, if it is built in, to the cluster.

        Raises:
            ValueError: this worker added an equal subscription already.
        """
        canon = canonical(subscription)
        async with self._lock:
            if canon is None:
                self._router.add(subscription)
                return
            if canon in self._added_here:
                self._router.add(subscription)  # raises the router's "already exists" error
            pipe = self._redis.pipeline(transaction=True)
            pipe.hsetnx(self._keys.subscriptions, canon, subscription.id)
            pipe.incr(self._keys.version)
            await execute(pipe)
            mirrored = self._mirrored.pop(canon, None)
            if mirrored is not None:  # the same routing, added by another worker: keep this worker's object
                self._router.remove(mirrored.id)
            self._router.add(subscription)
            self._mirrored[canon] = subscription
            self._added_here.add(canon)

    async def remove(self, subscription_id: str) -> None:
        """Remove the subscription with ``subscription_id`` here and from the cluster.

        Raises:
            LookupError: no subscription has that id.
        """
        async with self._lock:
            subscription = self._router.remove(subscription_id)
            canon = canonical(subscription)
            if canon is None:
                return
            self._mirrored.pop(canon, None)
            self._added_here.discard(canon)
            pipe = self._redis.pipeline(transaction=True)
            pipe.hdel(self._keys.subscriptions, canon)
            pipe.incr(self._keys.version)
            await execute(pipe)

    async def restore(self) -> None:
        """Write this worker's types and subscriptions again (after Redis lost them: a restart without persistence)."""
        async with self._lock:
            pipe = self._redis.pipeline(transaction=True)
            for agent_type in sorted(self.types_here):
                pipe.hsetnx(self._keys.types, agent_type, json.dumps({"since": time.time()}))
            for canon in sorted(self._added_here):
                pipe.hsetnx(self._keys.subscriptions, canon, self._mirrored[canon].id)
            pipe.incr(self._keys.version)
            await execute(pipe)

    async def sync(self) -> None:
        """Reload the types and subscriptions if another worker changed them since the last look."""
        version = await self._redis.get(self._keys.version)
        if version == self._version:
            return
        async with self._lock:
            pipe = self._redis.pipeline(transaction=True)
            pipe.get(self._keys.version)
            pipe.hkeys(self._keys.types)
            pipe.hgetall(self._keys.subscriptions)
            version, type_names, table = await execute(pipe)
            self.types.update(name.decode() for name in type_names)
            remote: dict[str, str] = {canon.decode(): sid.decode() for canon, sid in table.items()}
            for canon, subscription in list(self._mirrored.items()):
                if canon not in remote:
                    del self._mirrored[canon]
                    self._added_here.discard(canon)
                    self._router.remove(subscription.id)
            for canon, subscription_id in remote.items():
                if canon not in self._mirrored:
                    subscription = _rebuild(canon, subscription_id)
                    try:
                        self._router.add(subscription)
                    except ValueError:  # an equal custom subscription of this worker routes it already
                        continue
                    self._mirrored[canon] = subscription
            self._version = version

    @property
    def version(self) -> bytes:
        """``b"v"`` + the routing version this worker's table reflects (what the ``BATCH`` script checks)."""
        return b"v" + (self._version or b"")

    def describe(self) -> dict[str, Any]:
        """For logs and errors: how many types and subscriptions this worker knows."""
        return {"types": len(self.types), "subscriptions": len(self._router)}
