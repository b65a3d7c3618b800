"""The seed guide's MCP examples, ported to Salon by rewriting imports.

The guide's code is kept as written, with the import map of DESIGN.md §2 applied (``autogen_core`` ->
``salon``, ``autogen_core.models`` -> ``salon.models``, ``autogen_core.model_context`` ->
``salon.model_context``, ``autogen_core.tools`` -> ``salon.tools``, ``autogen_ext.tools.mcp`` ->
``salon_mcp``). Two substitutions, because tests reach no internet and no API: the Playwright MCP server
the guide starts with ``npx @playwright/mcp@latest --port 8931`` is Salon's demo MCP server speaking SSE
on a free 127.0.0.1 port, and ``OpenAIChatCompletionClient(model="gpt-4.1-nano")`` is a
``ReplayChatCompletionClient`` scripted with the tool calls and answer the guide shows (salon-mcp does not
depend on salon-openai).

Ported: "Security & Best Practices" -- the ``WorkbenchAgent`` with a model context that calls the tools
of an ``McpWorkbench(SseServerParams(...))`` in a loop until the model answers.

Not ported (not valid AutoGen 0.7.5): "Using Workbench", "Using MCP Workbench" and "Web Browsing Agent
Example" -- they import ``autogen_ext.mcp.mcp_workbench`` and ``autogen_ext.mcp.playwright.
PlaywrightMcpServer`` (neither exists), build ``McpWorkbench()`` without server params, read
``workbench.tools`` and call ``workbench.run_tool`` (no such members) and build ``ToolResult(call_id=...,
content=...)`` (AutoGen's ``ToolResult`` has ``name``/``result``/``is_error``).
"""

# The guide's code is kept as written: typing.List, list concatenation.
# ruff: noqa: UP006, UP035

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import List

import pytest

from salon import AgentId, FunctionCall, MessageContext, RoutedAgent, SingleThreadedAgentRuntime, message_handler
from salon.model_context import BufferedChatCompletionContext, ChatCompletionContext
from salon.models import (
    AssistantMessage,
    ChatCompletionClient,
    CreateResult,
    FunctionExecutionResult,
    FunctionExecutionResultMessage,
    LLMMessage,
    ReplayChatCompletionClient,
    RequestUsage,
    SystemMessage,
    UserMessage,
)
from salon.tools import ToolResult, Workbench
from salon_mcp import McpWorkbench, SseServerParams
from salon_mcp_test_servers import HttpDemoServer

# -- the guide's agent, as written ------------------------------------------------------------------------


@dataclass
class Message:
    content: str


class WorkbenchAgent(RoutedAgent):
    def __init__(
        self, model_client: ChatCompletionClient, model_context: ChatCompletionContext, workbench: Workbench
    ) -> None:
        super().__init__("An agent with a workbench")
        self._system_messages: List[LLMMessage] = [SystemMessage(content="You are a helpful AI assistant.")]
        self._model_client = model_client
        self._model_context = model_context
        self._workbench = workbench

    @message_handler
    async def handle_user_message(self, message: Message, ctx: MessageContext) -> Message:
        # Add the user message to the model context.
        await self._model_context.add_message(UserMessage(content=message.content, source="user"))
        print("---------User Message-----------")
        print(message.content)

        # Run the chat completion with the tools.
        create_result = await self._model_client.create(
            messages=self._system_messages + (await self._model_context.get_messages()),
            tools=(await self._workbench.list_tools()),
            cancellation_token=ctx.cancellation_token,
        )

        # Run tool call loop.
        while isinstance(create_result.content, list) and all(
            isinstance(call, FunctionCall) for call in create_result.content
        ):
            print("---------Function Calls-----------")
            for call in create_result.content:
                print(call)

            # Add the function calls to the model context.
            await self._model_context.add_message(AssistantMessage(content=create_result.content, source="assistant"))

            # Call the tools using the workbench.
            print("---------Function Call Results-----------")
            results: List[ToolResult] = []
            for call in create_result.content:
                result = await self._workbench.call_tool(
                    call.name, arguments=json.loads(call.arguments), cancellation_token=ctx.cancellation_token
                )
                results.append(result)
                print(result)

            # Add the function execution results to the model context.
            await self._model_context.add_message(
                FunctionExecutionResultMessage(
                    content=[
                        FunctionExecutionResult(
                            call_id=call.id,
                            content=result.to_text(),
                            is_error=result.is_error,
                            name=result.name,
                        )
                        for call, result in zip(create_result.content, results, strict=False)
                    ]
                )
            )

            # Run the chat completion again to reflect on the history and function execution results.
            create_result = await self._model_client.create(
                messages=self._system_messages + (await self._model_context.get_messages()),
                tools=(await self._workbench.list_tools()),
                cancellation_token=ctx.cancellation_token,
            )

        # Now we have a single message as the result.
        assert isinstance(create_result.content, str)

        print("---------Final Response-----------")
        print(create_result.content)

        # Add the assistant message to the model context.
        await self._model_context.add_message(AssistantMessage(content=create_result.content, source="assistant"))

        # Return the result as a message.
        return Message(content=create_result.content)


# -- the guide's driver -----------------------------------------------------------------------------------


def scripted_model() -> ReplayChatCompletionClient:
    """What gpt-4.1-nano does in the guide, against the demo server's tools: two calls, then an answer."""
    usage = RequestUsage(prompt_tokens=0, completion_tokens=0)
    return ReplayChatCompletionClient(
        [
            CreateResult(
                finish_reason="function_calls",
                content=[
                    FunctionCall(id="call_1", arguments='{"text": "Building 99"}', name="echo"),
                    FunctionCall(id="call_2", arguments='{"augend": 15760, "addend": 0}', name="add"),
                ],
                usage=usage,
                cached=False,
            ),
            CreateResult(
                finish_reason="stop",
                content="The address of Microsoft Building 99 is 15760 NE 32nd St, Redmond, WA 98052, USA.",
                usage=usage,
                cached=False,
            ),
        ]
    )


async def test_workbench_agent_over_an_sse_mcp_server(
    sse_server: HttpDemoServer, capsys: pytest.CaptureFixture[str]
) -> None:
    model_client = scripted_model()

    playwright_server_params = SseServerParams(
        url=sse_server.url,  # the guide: "http://localhost:8931/sse"
    )

    # Start the workbench in a context manager.
    # You can also start and stop the workbench using `workbench.start()` and `workbench.stop()`.
    async with McpWorkbench(playwright_server_params) as workbench:  # type: ignore
        # Create a single-threaded agent runtime.
        runtime = SingleThreadedAgentRuntime()

        # Register the agent with the runtime.
        await WorkbenchAgent.register(
            runtime=runtime,
            type="WebAgent",
            factory=lambda: WorkbenchAgent(
                model_client=model_client,
                model_context=BufferedChatCompletionContext(buffer_size=10),
                workbench=workbench,
            ),
        )

        # Start the runtime.
        runtime.start()

        # Send a message to the agent.
        await runtime.send_message(
            Message(content="Use Bing to find out the address of Microsoft Building 99"),
            recipient=AgentId("WebAgent", "default"),
        )

        # Stop the runtime.
        await runtime.stop()

    printed = capsys.readouterr().out
    assert printed.index("---------User Message-----------") < printed.index("---------Function Calls-----------")
    assert "FunctionCall(id='call_1', arguments='{\"text\": \"Building 99\"}', name='echo')" in printed
    assert "type='ToolResult' name='echo' result=[TextResultContent(" in printed
    assert "content='Building 99'" in printed and "content='15760'" in printed
    assert printed.rstrip().endswith("15760 NE 32nd St, Redmond, WA 98052, USA.")

    # The second model call saw the tools' results, in call order, and the server's tool list.
    second = model_client.create_calls[1]
    results = second["messages"][-1]
    assert isinstance(results, FunctionExecutionResultMessage)
    assert [(r.call_id, r.name, r.content, r.is_error) for r in results.content] == [
        ("call_1", "echo", "Building 99", False),
        ("call_2", "add", "15760", False),
    ]
    assert {"echo", "add", "crash"} <= {tool["name"] for tool in second["tools"]}
