"""Salon quick start: the core agent runtime, written the way AutoGen's core guide writes it.

What it shows:

1. A ``RoutedAgent`` whose ``@message_handler`` methods are chosen by the message's type.
2. A direct request/response call (RPC) with ``runtime.send_message`` to one ``AgentId``.
3. A broadcast with ``runtime.publish_message`` to ``DefaultTopicId()``, received by two
   subscriber agent types: one subscribed with the ``@default_subscription`` class decorator,
   one with an explicit ``TypeSubscription`` added to the runtime.

Run it with ``nox -s example`` from the repository root, or with ``python examples/runtime_quickstart.py``
in any environment where ``salon`` is installed. It exits non-zero if a message went missing,
so it doubles as a smoke test. Code written for ``autogen_core`` runs unchanged after swapping the import.
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass

from salon import (
    AgentId,
    DefaultTopicId,
    MessageContext,
    RoutedAgent,
    SingleThreadedAgentRuntime,
    TypeSubscription,
    default_subscription,
    message_handler,
)


@dataclass
class Greeting:
    """A request sent directly to one agent."""

    name: str


@dataclass
class Reply:
    """The answer to a ``Greeting``."""

    text: str


@dataclass
class News:
    """An announcement published to a topic; every subscriber gets a copy."""

    headline: str


class Greeter(RoutedAgent):
    """Answers ``Greeting`` requests (direct messages / RPC)."""

    def __init__(self) -> None:
        super().__init__("Answers greetings.")

    @message_handler
    async def on_greeting(self, message: Greeting, ctx: MessageContext) -> Reply:
        """Return a reply; the value travels back to the caller of ``send_message``."""
        return Reply(text=f"Hello, {message.name}! (from {self.id})")


@default_subscription
class Reader(RoutedAgent):
    """Subscribed to the default topic by the ``@default_subscription`` decorator."""

    def __init__(self, seen: list[str]) -> None:
        super().__init__("Reads the news.")
        self._seen = seen

    @message_handler
    async def on_news(self, message: News, ctx: MessageContext) -> None:
        """Handle a published ``News``; published messages have no reply."""
        print(f"  {self.id} read {message.headline!r} on topic {ctx.topic_id}")
        self._seen.append(self.id.type)


class Archivist(RoutedAgent):
    """Subscribed to the default topic by an explicit ``TypeSubscription`` (see ``main``)."""

    def __init__(self, seen: list[str]) -> None:
        super().__init__("Files the news away.")
        self._seen = seen

    @message_handler
    async def on_news(self, message: News, ctx: MessageContext) -> None:
        """Handle a published ``News``."""
        print(f"  {self.id} archived {message.headline!r}")
        self._seen.append(self.id.type)


async def main() -> int:
    """Register three agent types, make one RPC and one publish, and check what arrived."""
    seen: list[str] = []
    runtime = SingleThreadedAgentRuntime()

    await Greeter.register(runtime, "greeter", lambda: Greeter())
    await Reader.register(runtime, "reader", lambda: Reader(seen))
    await Archivist.register(runtime, "archivist", lambda: Archivist(seen))
    # "Every topic of type 'default' goes to the agent type 'archivist'" (keyed by the topic's source).
    await runtime.add_subscription(TypeSubscription(topic_type="default", agent_type="archivist"))

    runtime.start()

    print("1. send_message (RPC) to greeter/default:")
    reply = await runtime.send_message(Greeting(name="Salon"), AgentId("greeter", "default"))
    print(f"  got {reply!r}")

    print("2. publish_message to DefaultTopicId() (two subscriber types):")
    await runtime.publish_message(News(headline="Salon speaks AutoGen"), DefaultTopicId())

    await runtime.stop_when_idle()  # returns once every queued message has been handled

    ok = isinstance(reply, Reply) and reply.text.startswith("Hello, Salon!") and sorted(seen) == ["archivist", "reader"]
    print("3. result:", "OK" if ok else f"UNEXPECTED (reply={reply!r}, subscribers reached={seen!r})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
