"""Subject ``salon``: Salon's in-process runtime through its public, AutoGen-named API.

Idiomatic application code: ``RoutedAgent`` subclasses with ``@message_handler``,
dataclass messages, ``TypeSubscription``; a new message object, ``AgentId`` and
``TopicId`` for every call. Must stay line-for-line the same work as
``benchmarks/subjects/autogen.py`` apart from the imports and ``live_agents``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as dist_version
from typing import Any

from benchmarks._subject import OnMessage
from salon import (
    EVENT_LOGGER_NAME,
    AgentId,
    MessageContext,
    RoutedAgent,
    SingleThreadedAgentRuntime,
    TopicId,
    TypeSubscription,
    message_handler,
)

NAME = "salon"
IMPORT_NAME = "salon"


def version() -> str:
    try:
        return f"salon {dist_version('salon')}"
    except PackageNotFoundError:
        return "salon (not installed as a distribution)"


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
    return runtime.stats().live_agents


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


# --------------------------------------------------------------------------- team layer (W6)
# Imported on first use: the runtime workloads need only the kernel.


def _add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def make_team(n_agents: int, n_turns: int, with_tool: bool) -> Any:
    """A round robin of ``n_agents`` AssistantAgents on scripted models, stopping after ``n_turns`` turns."""
    from salon import FunctionCall
    from salon.models import CreateResult, ModelFamily, ModelInfo, ReplayChatCompletionClient, RequestUsage
    from salon.tools import FunctionTool
    from salon_agentchat.agents import AssistantAgent
    from salon_agentchat.conditions import MaxMessageTermination
    from salon_teams import RoundRobinGroupChat

    # The replay model warns about every non-text message when it "counts tokens" (tool-call history):
    # an artefact of the test double, silenced the same way for both subjects.
    logging.getLogger(EVENT_LOGGER_NAME).setLevel(logging.ERROR)
    per_agent = n_turns // n_agents + 2
    info = ModelInfo(
        vision=False, function_calling=with_tool, json_output=False, family=ModelFamily.UNKNOWN, structured_output=False
    )
    agents: list[Any] = []
    for a in range(n_agents):
        script: list[Any]
        if with_tool:
            script = [
                CreateResult(
                    finish_reason="function_calls",
                    content=[FunctionCall(id=f"call-{a}-{i}", name="_add", arguments=f'{{"a": {i}, "b": {a}}}')],
                    usage=RequestUsage(prompt_tokens=0, completion_tokens=0),
                    cached=False,
                )
                for i in range(per_agent)
            ]
        else:
            script = [f"agent {a} answer {i}: some scripted text" for i in range(per_agent)]
        client = ReplayChatCompletionClient(script, model_info=info)
        tools = [FunctionTool(_add, description="Add two integers.")] if with_tool else None
        agents.append(AssistantAgent(f"agent{a}", model_client=client, tools=tools))
    # The task message counts too, hence + 1.
    return RoundRobinGroupChat(agents, termination_condition=MaxMessageTermination(n_turns + 1))


async def run_team(team: Any, task: str) -> int:
    """Run the team to its termination; the number of agent chat messages (turns)."""
    from salon_agentchat.messages import BaseChatMessage

    result = await team.run(task=task)
    return sum(1 for m in result.messages if isinstance(m, BaseChatMessage) and m.source != "user")


# --------------------------------------------------------------------------- distributed workloads (D1-D3)
# Salon's distributed runtime is RedisAgentRuntime; Redis itself is the message server.

NAMESPACE = "bench"


def cluster_address(port: int) -> str:
    return f"redis://127.0.0.1:{port}/0"


def cluster_server(port: int) -> tuple[list[str], bool]:
    import shutil

    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed (apt-get install redis-server): the D workloads need it")
    # No persistence, as the in-memory AutoGen host: both lose queued messages when the server dies.
    return [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], False


async def serve_host(address: str) -> None:
    raise RuntimeError("Salon needs no host process: the Redis server is the host")


async def connect(address: str) -> Any:
    from salon import try_get_known_serializers_for_type
    from salon_redis import RedisAgentRuntime

    runtime = RedisAgentRuntime(address, namespace=NAMESPACE)
    for cls in (Request, Response, Event):
        runtime.add_message_serializer(try_get_known_serializers_for_type(cls))
    await runtime.start()
    return runtime


async def disconnect(runtime: Any) -> None:
    await runtime.close()
