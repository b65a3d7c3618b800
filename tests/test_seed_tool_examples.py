"""The seed guide's tool examples, ported to Salon by rewriting imports.

Each test keeps the guide's code as written, with the import map of DESIGN.md §2 applied
(``autogen_core`` -> ``salon``, ``autogen_core.models`` -> ``salon.models``, ``autogen_core.tools`` ->
``salon.tools``, ``autogen_ext.models.openai`` -> ``salon_openai``). Every ``OpenAIChatCompletionClient``
also gets ``base_url`` and ``api_key="test"`` so that it talks to a scripted
:class:`~salon.testing.OpenAIChatServer` on 127.0.0.1, which answers with the tool calls and replies the
guide shows. ``get_stock_price`` returns a random price, so tests check the range rather than the
guide's number.

Not ported here:

- "Built-in Tools" (``PythonCodeExecutionTool`` over ``DockerCommandLineCodeExecutor``): needs a Docker
  daemon; it belongs to the code-executor plugins' tests.
- "Using Workbench" (``WorkbenchAgent``): not valid AutoGen 0.7.5 -- it builds ``ToolResult(call_id=...,
  content=...)`` (AutoGen's ``ToolResult`` has ``name``/``result``/``is_error``) and runs it with
  ``McpWorkbench()`` without server params.
"""

# The guide's code is kept as written: typing.List, typing_extensions.Annotated, list concatenation.
# ruff: noqa: UP006, UP035, RUF005

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import List

import pytest
from typing_extensions import Annotated

from salon import (
    AgentId,
    CancellationToken,
    FunctionCall,
    MessageContext,
    RoutedAgent,
    SingleThreadedAgentRuntime,
    message_handler,
)
from salon.models import (
    AssistantMessage,
    ChatCompletionClient,
    FunctionExecutionResult,
    FunctionExecutionResultMessage,
    LLMMessage,
    SystemMessage,
    UserMessage,
)
from salon.testing import OpenAIChatServer
from salon.tools import FunctionTool, Tool
from salon_openai import OpenAIChatCompletionClient


@pytest.fixture
def server() -> Iterator[OpenAIChatServer]:
    with OpenAIChatServer() as running:
        yield running


# -- "Custom Function Tools" ----------------------------------------------------------------------------


async def get_stock_price(ticker: str, date: Annotated[str, "Date in YYYY/MM/DD"]) -> float:
    # Returns a random stock price for demonstration purposes.
    return random.uniform(10, 200)


async def test_custom_function_tool_run_json(capsys: pytest.CaptureFixture[str]) -> None:
    # Create a function tool.
    stock_price_tool = FunctionTool(get_stock_price, description="Get the stock price.")

    # Run the tool.
    cancellation_token = CancellationToken()
    result = await stock_price_tool.run_json({"ticker": "AAPL", "date": "2021/01/01"}, cancellation_token)

    # Print the result.
    print(stock_price_tool.return_value_as_string(result))

    printed = capsys.readouterr().out
    assert printed == f"{result}\n"
    assert isinstance(result, float)
    assert 10 <= float(printed) <= 200


def test_function_tool_schema_is_the_one_the_seed_prints() -> None:
    stock_price_tool = FunctionTool(get_stock_price, description="Get the stock price.")
    assert stock_price_tool.schema == {
        "name": "get_stock_price",
        "description": "Get the stock price.",
        "parameters": {
            "type": "object",
            "properties": {
                "ticker": {"description": "ticker", "title": "Ticker", "type": "string"},
                "date": {"description": "Date in YYYY/MM/DD", "title": "Date", "type": "string"},
            },
            "required": ["ticker", "date"],
            "additionalProperties": False,
        },
        "strict": False,
    }


# -- "Calling Tools with Model Clients" -----------------------------------------------------------------

SEED_CALL = FunctionCall(
    id="call_tpJ5J1Xoxi84Sw4v0scH0qBM", arguments='{"ticker":"AAPL","date":"2021/01/01"}', name="get_stock_price"
)
AAPL_ANSWER = "The stock price of AAPL (Apple Inc.) on January 1, 2021, was approximately $32.38."


async def test_calling_tools_with_model_clients(server: OpenAIChatServer, capsys: pytest.CaptureFixture[str]) -> None:
    server.script([[SEED_CALL], AAPL_ANSWER])
    stock_price_tool = FunctionTool(get_stock_price, description="Get the stock price.")

    # Create the OpenAI chat completion client. Using OPENAI_API_KEY from environment variable.
    model_client = OpenAIChatCompletionClient(model="gpt-4o-mini", base_url=server.url, api_key="test")

    # Create a user message.
    user_message = UserMessage(content="What is the stock price of AAPL on 2021/01/01?", source="user")

    # Run the chat completion with the stock_price_tool defined above.
    cancellation_token = CancellationToken()
    create_result = await model_client.create(
        messages=[user_message], tools=[stock_price_tool], cancellation_token=cancellation_token
    )
    assert create_result.content == [SEED_CALL]

    assert isinstance(create_result.content, list)
    arguments = json.loads(create_result.content[0].arguments)  # type: ignore
    tool_result = await stock_price_tool.run_json(arguments, cancellation_token)
    tool_result_str = stock_price_tool.return_value_as_string(tool_result)
    assert 10 <= float(tool_result_str) <= 200

    # Create a function execution result
    exec_result = FunctionExecutionResult(
        call_id=create_result.content[0].id,  # type: ignore
        content=tool_result_str,
        is_error=False,
        name=stock_price_tool.name,
    )

    # Make another chat completion with the history and function execution result message.
    messages = [
        user_message,
        AssistantMessage(content=create_result.content, source="assistant"),  # assistant message with tool call
        FunctionExecutionResultMessage(content=[exec_result]),  # function execution result message
    ]
    create_result = await model_client.create(messages=messages, cancellation_token=cancellation_token)  # type: ignore
    print(create_result.content)
    await model_client.close()

    assert capsys.readouterr().out == AAPL_ANSWER + "\n"
    first, second = (request.json for request in server.chat_requests)
    # The tool went out with the schema above (the name, description and parameters the guide prints).
    [sent_tool] = first["tools"]
    assert sent_tool["type"] == "function"
    schema = stock_price_tool.schema
    assert sent_tool["function"]["name"] == schema["name"]
    assert sent_tool["function"]["description"] == schema["description"]
    assert sent_tool["function"]["parameters"] == schema["parameters"]
    # The reflection request carries the call and its result.
    assert second["messages"][1]["tool_calls"][0]["id"] == "call_tpJ5J1Xoxi84Sw4v0scH0qBM"
    assert second["messages"][2] == {
        "role": "tool",
        "tool_call_id": "call_tpJ5J1Xoxi84Sw4v0scH0qBM",
        "content": tool_result_str,
    }


# -- "Tool-Equipped Agent" ------------------------------------------------------------------------------


@dataclass
class Message:
    content: str


class ToolUseAgent(RoutedAgent):
    def __init__(self, model_client: ChatCompletionClient, tool_schema: List[Tool]) -> None:
        super().__init__("An agent with tools")
        self._system_messages: List[LLMMessage] = [SystemMessage(content="You are a helpful AI assistant.")]
        self._model_client = model_client
        self._tools = tool_schema

    @message_handler
    async def handle_user_message(self, message: Message, ctx: MessageContext) -> Message:
        # Create a session of messages.
        session: List[LLMMessage] = self._system_messages + [UserMessage(content=message.content, source="user")]

        # Run the chat completion with the tools.
        create_result = await self._model_client.create(
            messages=session,
            tools=self._tools,
            cancellation_token=ctx.cancellation_token,
        )

        # If there are no tool calls, return the result.
        if isinstance(create_result.content, str):
            return Message(content=create_result.content)
        assert isinstance(create_result.content, list) and all(
            isinstance(call, FunctionCall) for call in create_result.content
        )

        # Add the first model create result to the session.
        session.append(AssistantMessage(content=create_result.content, source="assistant"))

        # Execute the tool calls.
        results = await asyncio.gather(
            *[self._execute_tool_call(call, ctx.cancellation_token) for call in create_result.content]
        )

        # Add the function execution results to the session.
        session.append(FunctionExecutionResultMessage(content=results))

        # Run the chat completion again to reflect on the history and function execution results.
        create_result = await self._model_client.create(
            messages=session,
            cancellation_token=ctx.cancellation_token,
        )
        assert isinstance(create_result.content, str)

        # Return the result as a message.
        return Message(content=create_result.content)

    async def _execute_tool_call(
        self, call: FunctionCall, cancellation_token: CancellationToken
    ) -> FunctionExecutionResult:
        # Find the tool by name.
        tool = next((tool for tool in self._tools if tool.name == call.name), None)
        assert tool is not None

        # Run the tool and capture the result.
        try:
            arguments = json.loads(call.arguments)
            result = await tool.run_json(arguments, cancellation_token)
            return FunctionExecutionResult(
                call_id=call.id, content=tool.return_value_as_string(result), is_error=False, name=tool.name
            )
        except Exception as e:
            return FunctionExecutionResult(call_id=call.id, content=str(e), is_error=True, name=tool.name)


NVDA_CALL = FunctionCall(id="call_nvda", arguments='{"ticker":"NVDA","date":"2024/06/01"}', name="get_stock_price")
NVDA_ANSWER = "The stock price of NVIDIA (NVDA) on June 1, 2024, was approximately $140.05."


async def test_tool_equipped_agent(server: OpenAIChatServer, capsys: pytest.CaptureFixture[str]) -> None:
    server.script([[NVDA_CALL], NVDA_ANSWER])

    # Create the model client.
    model_client = OpenAIChatCompletionClient(model="gpt-4o-mini", base_url=server.url, api_key="test")
    # Create a runtime.
    runtime = SingleThreadedAgentRuntime()
    # Create the tools.
    tools: List[Tool] = [FunctionTool(get_stock_price, description="Get the stock price.")]
    # Register the agents.
    agent_type = await ToolUseAgent.register(
        runtime,
        "tool_use_agent",
        lambda: ToolUseAgent(
            model_client=model_client,
            tool_schema=tools,
        ),
    )
    assert repr(agent_type) == "AgentType(type='tool_use_agent')"

    # Start processing messages.
    runtime.start()
    # Send a direct message to the tool agent.
    tool_use_agent = AgentId("tool_use_agent", "default")
    response = await runtime.send_message(Message("What is the stock price of NVDA on 2024/06/01?"), tool_use_agent)
    print(response.content)
    # Stop processing messages.
    await runtime.stop()
    await model_client.close()

    assert capsys.readouterr().out == NVDA_ANSWER + "\n"
    first, second = (request.json for request in server.chat_requests)
    assert [m["role"] for m in first["messages"]] == ["system", "user"]
    assert first["tools"][0]["function"]["name"] == "get_stock_price"
    # The agent ran the tool and sent its (successful) result back for the reflection.
    assert [m["role"] for m in second["messages"]] == ["system", "user", "assistant", "tool"]
    tool_message = second["messages"][3]
    assert tool_message["tool_call_id"] == "call_nvda"
    assert 10 <= float(tool_message["content"]) <= 200
    assert "tools" not in second
