"""Subject ``autogen``: autogen-core's ``SingleThreadedAgentRuntime``, the baseline.

Idiomatic application code: ``RoutedAgent`` subclasses with ``@message_handler``,
dataclass messages, ``TypeSubscription``; a new message object, ``AgentId`` and
``TopicId`` for every call. Must stay line-for-line the same work as
``benchmarks/subjects/salon.py`` apart from the imports and ``live_agents``.
"""

# autogen-core is normally absent from the dev venv where mypy runs; without it its
# names are Any, so allow subclassing and decorating with them in this file only.
# mypy: disallow-subclassing-any=False, disallow-untyped-decorators=False

from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as dist_version

from autogen_core import (  # type: ignore[import-not-found, unused-ignore]
    AgentId,
    MessageContext,
    RoutedAgent,
    SingleThreadedAgentRuntime,
    TopicId,
    TypeSubscription,
    message_handler,
)

from benchmarks._subject import OnMessage

NAME = "autogen"
IMPORT_NAME = "autogen_core"


def version() -> str:
    try:
        return f"autogen-core {dist_version('autogen-core')}"
    except PackageNotFoundError:
        return "autogen-core (not installed as a distribution)"


@dataclass
class Request:
    value: int


@dataclass
class Response:
    value: int


@dataclass
class Event:
    value: int


class Echo(RoutedAgent):
    def __init__(self) -> None:
        super().__init__("echo")

    @message_handler
    async def on_request(self, message: Request, ctx: MessageContext) -> Response:
        return Response(message.value)


class Subscriber(RoutedAgent):
    def __init__(self, on_message: OnMessage) -> None:
        super().__init__("subscriber")
        self._on_message = on_message

    @message_handler
    async def on_event(self, message: Event, ctx: MessageContext) -> None:
        self._on_message(self.id.key, message.value)


class Forwarder(RoutedAgent):
    def __init__(self, out_topic: str) -> None:
        super().__init__("forwarder")
        self._out_topic = out_topic

    @message_handler
    async def on_event(self, message: Event, ctx: MessageContext) -> None:
        source = ctx.topic_id.source if ctx.topic_id is not None else "default"
        await self.publish_message(message, TopicId(self._out_topic, source))


def make_runtime() -> SingleThreadedAgentRuntime:
    return SingleThreadedAgentRuntime()


def start(runtime: SingleThreadedAgentRuntime) -> None:
    runtime.start()


async def stop(runtime: SingleThreadedAgentRuntime) -> None:
    await runtime.stop()


async def stop_when_idle(runtime: SingleThreadedAgentRuntime) -> None:
    await runtime.stop_when_idle()


def live_agents(runtime: SingleThreadedAgentRuntime) -> int:
    # autogen-core has no public count of instantiated agents; read the private map.
    return len(runtime._instantiated_agents)


async def register_echo(runtime: SingleThreadedAgentRuntime, agent_type: str) -> None:
    await Echo.register(runtime, agent_type, Echo)


async def register_subscriber(
    runtime: SingleThreadedAgentRuntime, agent_type: str, topic_type: str, on_message: OnMessage
) -> None:
    await Subscriber.register(runtime, agent_type, lambda: Subscriber(on_message))
    await runtime.add_subscription(TypeSubscription(topic_type=topic_type, agent_type=agent_type))


async def register_forwarder(
    runtime: SingleThreadedAgentRuntime, agent_type: str, in_topic: str, out_topic: str
) -> None:
    await Forwarder.register(runtime, agent_type, lambda: Forwarder(out_topic))
    await runtime.add_subscription(TypeSubscription(topic_type=in_topic, agent_type=agent_type))


async def send(runtime: SingleThreadedAgentRuntime, agent_type: str, key: str, value: int) -> int:
    response = await runtime.send_message(Request(value), AgentId(agent_type, key))
    return int(response.value)


async def publish(runtime: SingleThreadedAgentRuntime, topic_type: str, source: str, value: int) -> None:
    await runtime.publish_message(Event(value), TopicId(topic_type, source))
