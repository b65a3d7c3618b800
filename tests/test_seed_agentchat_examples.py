"""The seed guide's AgentChat examples and its four development patterns, ported by rewriting imports.

Imports follow DESIGN.md §2 (``autogen_agentchat.agents`` -> ``salon_agentchat.agents``,
``autogen_agentchat.teams`` -> ``salon_teams``, ``autogen_core`` -> ``salon``,
``autogen_ext.models.openai`` -> ``salon_openai``). Every ``OpenAIChatCompletionClient(...)`` also gets
``base_url``/``api_key`` for the scripted OpenAI server on 127.0.0.1, which answers as a model would.

Where the guide's snippet is not valid AutoGen 0.7.5, AutoGen wins and the port makes the smallest fix,
named in the test:

- Quick start: ``team.run_stream`` ends with the ``TaskResult``, which has no ``source`` (in AutoGen
  too), so the guide's ``print(f"{message.source}: ...")`` loop stops before it.
- Structured output and the reflection pattern pass dicts to ``create()``; AutoGen 0.7.5 takes
  ``LLMMessage`` objects (``UserMessage``), and structured output is ``json_output=MathReasoning``.
- Mixture of agents: ``BaseChatAgent`` subclasses must define ``produced_message_types`` and
  ``on_reset`` (abstract in AutoGen too), and ``Response`` is imported from ``.base``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import pytest
from pydantic import BaseModel, Field

from salon import (
    AgentId,
    FunctionCall,
    MessageContext,
    RoutedAgent,
    SingleThreadedAgentRuntime,
    TopicId,
    TypeSubscription,
    message_handler,
    type_subscription,
)
from salon.models import UserMessage
from salon.testing import OpenAIChatServer
from salon_agentchat.agents import AssistantAgent, BaseChatAgent
from salon_agentchat.base import Response
from salon_agentchat.messages import TextMessage, ToolCallSummaryMessage
from salon_openai import OpenAIChatCompletionClient
from salon_teams import RoundRobinGroupChat


@pytest.fixture
def server() -> Iterator[OpenAIChatServer]:
    with OpenAIChatServer() as running:
        yield running


# -- Quick start ----------------------------------------------------------------------------------------


async def test_quick_start(server: OpenAIChatServer, capsys: pytest.CaptureFixture[str]) -> None:
    server.script(["Quantum computers use qubits, which can be 0 and 1 at once."])

    async def basic_example() -> None:
        # Create model client
        model_client = OpenAIChatCompletionClient(model="gpt-4o", base_url=server.url, api_key="test")

        # Create assistant agent
        assistant = AssistantAgent(
            name="assistant", model_client=model_client, system_message="You are a helpful AI assistant."
        )

        # Create team and run
        team = RoundRobinGroupChat([assistant], max_turns=1)

        # Stream interaction
        async for message in team.run_stream(task="Explain quantum computing"):
            if not hasattr(message, "source"):  # the TaskResult ends the stream (see the module docstring)
                break
            print(f"{message.source}: {message.content}")

    await basic_example()

    assert capsys.readouterr().out.splitlines() == [
        "user: Explain quantum computing",
        "assistant: Quantum computers use qubits, which can be 0 and 1 at once.",
    ]
    sent = server.chat_requests[0].json["messages"]
    assert sent[0] == {"role": "system", "content": "You are a helpful AI assistant."}
    assert sent[-1]["content"] == "Explain quantum computing"


# -- Tool integration -----------------------------------------------------------------------------------


async def test_tool_integration(server: OpenAIChatServer) -> None:
    server.script([[FunctionCall(id="call-1", name="get_weather", arguments='{"city": "Paris"}')]])

    async def get_weather(city: str) -> str:
        """Get weather for a city."""
        return f"The weather in {city} is 22°C and sunny."

    # Tool-enabled agent
    weather_agent = AssistantAgent(
        name="weather_agent",
        model_client=OpenAIChatCompletionClient(model="gpt-4o", base_url=server.url, api_key="test"),
        tools=[get_weather],
    )

    result = await weather_agent.run(task="What is the weather in Paris?")

    final = result.messages[-1]
    assert isinstance(final, ToolCallSummaryMessage)
    assert final.content == "The weather in Paris is 22°C and sunny."
    (tool,) = server.chat_requests[0].json["tools"]
    assert tool["function"]["name"] == "get_weather"
    assert tool["function"]["description"] == "Get weather for a city."


# -- Structured output ----------------------------------------------------------------------------------


class ReasoningStep(BaseModel):
    explanation: str = Field(description="Step explanation")
    output: str = Field(description="Step output")


class MathReasoning(BaseModel):
    steps: list[ReasoningStep] = Field(description="Reasoning steps")
    final_answer: str = Field(description="Final answer")


async def test_structured_output(server: OpenAIChatServer) -> None:
    answer = {"steps": [{"explanation": "Add the tens and the ones", "output": "42"}], "final_answer": "42"}
    server.script([json.dumps(answer)])
    model_client = OpenAIChatCompletionClient(model="gpt-4o", base_url=server.url, api_key="test")

    # Use with structured output
    response = await model_client.create(
        messages=[UserMessage(content="What is 25 + 17?", source="user")], json_output=MathReasoning
    )

    assert isinstance(response.content, str)
    assert MathReasoning.model_validate_json(response.content).final_answer == "42"
    response_format = server.chat_requests[0].json["response_format"]
    assert response_format["type"] == "json_schema"
    assert response_format["json_schema"]["name"] == "MathReasoning"


# -- 1. Reflection pattern ------------------------------------------------------------------------------


@dataclass
class CodeTask:
    task: str
    max_iterations: int = 3


@dataclass
class CodeReview:
    code: str
    approved: bool
    feedback: str


class CoderAgent(RoutedAgent):
    def __init__(self, model_client: Any) -> None:
        super().__init__("Coder agent")
        self._model_client = model_client

    @message_handler
    async def handle_task(self, message: CodeTask, ctx: MessageContext) -> None:
        # Generate code
        code = await self._generate_code(message.task)

        # Send for review
        await self.publish_message(
            CodeReview(code=code, approved=False, feedback=""), topic_id=TopicId("review", self.id.key)
        )

    async def _generate_code(self, task: str) -> str:
        # Implementation details for code generation
        response = await self._model_client.create([UserMessage(content=f"Write code for: {task}", source="user")])
        return str(response.content)


class ReviewCollector(RoutedAgent):
    def __init__(self, reviews: list[CodeReview]) -> None:
        super().__init__("Collects reviews")
        self._reviews = reviews

    @message_handler
    async def on_review(self, message: CodeReview, ctx: MessageContext) -> None:
        self._reviews.append(message)


async def test_reflection_pattern(server: OpenAIChatServer) -> None:
    server.script(["def add(a, b):\n    return a + b"])
    reviews: list[CodeReview] = []
    runtime = SingleThreadedAgentRuntime()
    client = OpenAIChatCompletionClient(model="gpt-4o", base_url=server.url, api_key="test")
    await CoderAgent.register(runtime, "coder", lambda: CoderAgent(client))
    await ReviewCollector.register(runtime, "reviewer", lambda: ReviewCollector(reviews))
    await runtime.add_subscription(TypeSubscription("review", "reviewer"))
    runtime.start()
    await runtime.send_message(CodeTask("add two numbers"), AgentId("coder", "job-1"))
    await runtime.stop_when_idle()

    assert reviews == [CodeReview(code="def add(a, b):\n    return a + b", approved=False, feedback="")]
    assert server.chat_requests[0].json["messages"][-1]["content"] == "Write code for: add two numbers"


# -- 2. Sequential workflow -----------------------------------------------------------------------------


@dataclass
class DataMessage:
    data: str


@dataclass
class ProcessedDataMessage:
    data: str


@type_subscription(topic_type="data_processor")
class DataProcessorAgent(RoutedAgent):
    def __init__(self) -> None:
        super().__init__("Data processor")

    @message_handler
    async def process_data(self, message: DataMessage, ctx: MessageContext) -> None:
        processed_data = await self._process(message.data)

        # Pass to next stage
        await self.publish_message(
            ProcessedDataMessage(data=processed_data), topic_id=TopicId("validator", self.id.key)
        )

    async def _process(self, data: str) -> str:
        # Processing logic here
        return f"processed_{data}"


@type_subscription(topic_type="validator")
class ValidatorAgent(RoutedAgent):
    seen: ClassVar[list[tuple[str, str]]] = []

    def __init__(self) -> None:
        super().__init__("Validator")

    @message_handler
    async def validate(self, message: ProcessedDataMessage, ctx: MessageContext) -> None:
        ValidatorAgent.seen.append((self.id.key, message.data))


async def test_sequential_workflow() -> None:
    ValidatorAgent.seen = []
    runtime = SingleThreadedAgentRuntime()
    await DataProcessorAgent.register(runtime, "data_processor", DataProcessorAgent)
    await ValidatorAgent.register(runtime, "validator", ValidatorAgent)
    runtime.start()
    for source, data in (("batch-1", "a"), ("batch-2", "b")):
        await runtime.publish_message(DataMessage(data), TopicId("data_processor", source))
    await runtime.stop_when_idle()

    # Each stage's output reaches the next stage's agent of the same key (source), in order.
    assert ValidatorAgent.seen == [("batch-1", "processed_a"), ("batch-2", "processed_b")]


# -- 3. Multi-agent debate ------------------------------------------------------------------------------


@dataclass
class DebateQuestion:
    question: str


@dataclass
class DebatePrompt:
    question: str
    round: int


class DebateOrchestrator(RoutedAgent):
    def __init__(self, model_client: Any, num_agents: int = 3, rounds: int = 2) -> None:
        super().__init__("Debate orchestrator")
        self._model_client = model_client
        self._num_agents = num_agents
        self._rounds = rounds

    @message_handler
    async def start_debate(self, message: DebateQuestion, ctx: MessageContext) -> None:
        # Distribute question to all debaters
        for agent_id in range(self._num_agents):
            await self.publish_message(
                DebatePrompt(question=message.question, round=1), topic_id=TopicId(f"debater_{agent_id}", self.id.key)
            )


class Debater(RoutedAgent):
    prompts: ClassVar[list[tuple[str, str, DebatePrompt]]] = []

    def __init__(self) -> None:
        super().__init__("Debater")

    @message_handler
    async def on_prompt(self, message: DebatePrompt, ctx: MessageContext) -> None:
        Debater.prompts.append((self.id.type, self.id.key, message))


async def test_multi_agent_debate() -> None:
    Debater.prompts = []
    runtime = SingleThreadedAgentRuntime()
    await DebateOrchestrator.register(runtime, "orchestrator", lambda: DebateOrchestrator(model_client=None))
    for i in range(3):
        await Debater.register(runtime, f"debater_{i}", Debater)
        await runtime.add_subscription(TypeSubscription(f"debater_{i}", f"debater_{i}"))
    runtime.start()
    await runtime.send_message(DebateQuestion("Is P = NP?"), AgentId("orchestrator", "debate-7"))
    await runtime.stop_when_idle()

    assert sorted(Debater.prompts, key=lambda p: p[0]) == [
        (f"debater_{i}", "debate-7", DebatePrompt("Is P = NP?", 1)) for i in range(3)
    ]


# -- 4. Mixture of agents -------------------------------------------------------------------------------


WORKERS_AT_WORK = asyncio.Barrier(3)


class WorkerAgent(BaseChatAgent):
    """Simple worker agent for demonstration"""

    @property
    def produced_message_types(self) -> Sequence[type[TextMessage]]:  # required by BaseChatAgent
        return (TextMessage,)

    async def on_reset(self, cancellation_token: Any) -> None:  # required by BaseChatAgent
        pass

    async def on_messages(self, messages: Any, cancellation_token: Any) -> Response:
        task = messages[-1].content
        async with asyncio.timeout(5):  # work that needs every worker at once: they must run concurrently
            await WORKERS_AT_WORK.wait()
        result = f"Worker processed: {task}"
        return Response(chat_message=TextMessage(content=result, source=self.name))


class OrchestratorAgent(BaseChatAgent):
    def __init__(self, name: str, worker_agents: list[WorkerAgent]) -> None:
        super().__init__(name, description="Orchestrates workers.")
        self._workers = worker_agents

    @property
    def produced_message_types(self) -> Sequence[type[TextMessage]]:  # required by BaseChatAgent
        return (TextMessage,)

    async def on_reset(self, cancellation_token: Any) -> None:  # required by BaseChatAgent
        pass

    async def on_messages(self, messages: Any, cancellation_token: Any) -> Response:
        task = messages[-1].content

        # Distribute to workers
        worker_tasks = [
            worker.on_messages([TextMessage(content=task, source="user")], cancellation_token)
            for worker in self._workers
        ]

        # Gather results
        responses = await asyncio.gather(*worker_tasks)

        # Synthesize final response
        return await self._synthesize_responses(responses)

    async def _synthesize_responses(self, responses: Any) -> Response:
        # Combine worker responses into final result
        combined = " | ".join([r.chat_message.content for r in responses])
        return Response(chat_message=TextMessage(content=f"Combined: {combined}", source=self.name))


async def test_mixture_of_agents() -> None:
    workers = [WorkerAgent(f"worker{i}", description="A worker.") for i in range(3)]
    orchestrator = OrchestratorAgent("orchestrator", workers)

    result = await orchestrator.run(task="summarise")

    # The workers met at a barrier of three, so they ran concurrently (one at a time would time out).
    assert result.messages[-1].to_text() == "Combined: " + " | ".join(["Worker processed: summarise"] * 3)
