"""The seed guide's core-runtime examples, ported to Salon by rewriting their imports only.

Each test keeps the guide's code as written (``autogen_core`` -> ``salon``) and asserts what the guide
says happens. Snippets that are not valid AutoGen 0.7.5 (handlers without a return annotation, dicts
passed to a model client) are out of scope, as DESIGN.md §2 says.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from salon import (
    AgentId,
    DefaultSubscription,
    DefaultTopicId,
    MessageContext,
    RoutedAgent,
    SingleThreadedAgentRuntime,
    TopicId,
    TypeSubscription,
    message_handler,
)

processed: list[str] = []


# -- "Agent Implementation" (seed: Core Architecture) ---------------------------------------------


@dataclass
class TaskMessage:
    content: str
    priority: int = 1


class MyAgent(RoutedAgent):
    def __init__(self, name: str):
        super().__init__(name)

    @message_handler
    async def handle_task(self, message: TaskMessage, ctx: MessageContext) -> None:
        processed.append(f"{self.id.type}/{self.id.key} processing: {message.content}")
        # Process the task and optionally publish results


async def test_runtime_management_example() -> None:
    """Seed "Runtime Management": register, start, send, stop_when_idle, close."""
    processed.clear()

    async def setup_runtime() -> None:
        runtime = SingleThreadedAgentRuntime()

        # Register agent type
        await MyAgent.register(runtime, "my_agent_type", lambda: MyAgent("agent_instance"))

        # Start processing
        runtime.start()

        # Send message
        await runtime.send_message(TaskMessage("Hello World"), AgentId("my_agent_type", "default"))

        # Wait for completion and cleanup
        await runtime.stop_when_idle()
        await runtime.close()

    await asyncio.wait_for(setup_runtime(), 10)
    assert processed == ["my_agent_type/default processing: Hello World"]


# -- "Topic & Subscription Patterns" -----------------------------------------------------------------


async def _runtime_with(*agent_types: str) -> SingleThreadedAgentRuntime:
    runtime = SingleThreadedAgentRuntime()
    for agent_type in agent_types:
        await MyAgent.register(runtime, agent_type, lambda: MyAgent("subscriber"))
    return runtime


async def test_single_scope_all_agents_get_all_messages() -> None:
    """Seed pattern 1: every agent subscribed to the default topic gets every default publish."""
    processed.clear()
    runtime = await _runtime_with("MyAgent", "OtherAgent")
    message = TaskMessage("broadcast")

    # All agents subscribe to default topic
    await runtime.add_subscription(DefaultSubscription(agent_type="MyAgent"))
    await runtime.add_subscription(DefaultSubscription(agent_type="OtherAgent"))
    runtime.start()
    await runtime.publish_message(message, topic_id=DefaultTopicId())
    await asyncio.wait_for(runtime.stop_when_idle(), 10)
    assert sorted(processed) == [
        "MyAgent/default processing: broadcast",
        "OtherAgent/default processing: broadcast",
    ]


async def test_multi_tenant_isolated_by_source() -> None:
    """Seed pattern 2: the topic source selects the agent instance, so tenants never share one."""
    processed.clear()
    runtime = await _runtime_with("MyAgent")
    await runtime.add_subscription(DefaultSubscription(agent_type="MyAgent"))
    runtime.start()

    # Tenant-specific topics
    tenant_id = "client123"
    topic_id = DefaultTopicId(source=tenant_id)
    await runtime.publish_message(TaskMessage("for client123"), topic_id=topic_id)
    await runtime.publish_message(TaskMessage("for client456"), topic_id=DefaultTopicId(source="client456"))
    await asyncio.wait_for(runtime.stop_when_idle(), 10)
    assert sorted(processed) == [
        "MyAgent/client123 processing: for client123",
        "MyAgent/client456 processing: for client456",
    ]
    assert runtime.stats().live_agents == 2


async def test_specialized_topics_role_based_routing() -> None:
    """Seed pattern 3: a TypeSubscription routes one topic type to one agent type only."""
    processed.clear()
    runtime = await _runtime_with("AnalystAgent", "WriterAgent")
    message = TaskMessage("numbers")

    # Agents subscribe to specific roles
    await runtime.add_subscription(TypeSubscription(topic_type="analysis", agent_type="AnalystAgent"))
    await runtime.add_subscription(TypeSubscription(topic_type="writing", agent_type="WriterAgent"))
    runtime.start()
    await runtime.publish_message(message, topic_id=TopicId(type="analysis", source="default"))
    await asyncio.wait_for(runtime.stop_when_idle(), 10)
    assert processed == ["AnalystAgent/default processing: numbers"]
