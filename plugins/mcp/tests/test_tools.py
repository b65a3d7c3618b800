"""mcp_server_tools and the tool adapters: one shared session instead of a process per call."""

from __future__ import annotations

import asyncio

import mcp_types
import pytest

from salon import CancellationToken
from salon.tools import ToolArgumentsError
from salon_mcp import (
    McpConnectionError,
    McpServerParams,
    SseMcpToolAdapter,
    StdioMcpToolAdapter,
    StreamableHttpMcpToolAdapter,
    create_mcp_server_session,
    mcp_server_tools,
)
from salon_mcp_test_servers import HttpDemoServer, demo_stdio_params

ADAPTERS = {"stdio": StdioMcpToolAdapter, "sse": SseMcpToolAdapter, "streamable-http": StreamableHttpMcpToolAdapter}


def by_name(tools: list[StdioMcpToolAdapter | SseMcpToolAdapter | StreamableHttpMcpToolAdapter]) -> dict[str, object]:
    return {tool.name: tool for tool in tools}


async def test_adapters_of_the_transports_class(server_params: McpServerParams, transport: str) -> None:
    tools = await mcp_server_tools(server_params)
    try:
        assert {type(tool) for tool in tools} == {ADAPTERS[transport]}
        add = next(tool for tool in tools if tool.name == "add")
        assert add.description == "Add two integers."
        assert add.schema["parameters"]["required"] == ["augend", "addend"]
        result = await add.run_json({"augend": 2, "addend": 40}, CancellationToken())
        assert [block.text for block in result] == ["42"]
        assert add.return_value_as_string(result) == '[{"type": "text", "text": "42"}]'
    finally:
        await tools[0].close()


async def test_the_tools_share_one_session(server_params: McpServerParams) -> None:
    """Every call of every tool goes through one session (AutoGen 0.7.5 starts one per call)."""
    tools = await mcp_server_tools(server_params)
    named = {tool.name: tool for tool in tools}
    token = CancellationToken()
    try:
        pids = {(await named["pid"].run_json({}, token))[0].text for _ in range(3)}
        counts = [(await named["counter"].run_json({}, token))[0].text for _ in range(3)]
        await named["echo"].run_json({"text": "x"}, token)
    finally:
        await tools[0].close()
    assert len(pids) == 1
    assert counts == ["1", "2", "3"]


async def test_a_failed_call_raises_with_the_servers_content() -> None:
    tools = await mcp_server_tools(demo_stdio_params())
    fail = next(tool for tool in tools if tool.name == "fail")
    try:
        with pytest.raises(Exception, match="the disk is full") as caught:
            await fail.run_json({"reason": "the disk is full"}, CancellationToken())
        assert '"type": "text"' in str(caught.value)
    finally:
        await tools[0].close()


async def test_argument_errors_are_tool_argument_errors() -> None:
    tools = await mcp_server_tools(demo_stdio_params())
    add = next(tool for tool in tools if tool.name == "add")
    try:
        with pytest.raises(ToolArgumentsError, match="argument 'addend': is required but missing"):
            await add.run_json({"augend": 1}, CancellationToken())
        with pytest.raises(ToolArgumentsError, match="argument 'augend'"):
            await add.run_json({"augend": "many", "addend": 1}, CancellationToken())
    finally:
        await tools[0].close()


async def test_unset_optional_arguments_are_not_sent() -> None:
    tools = await mcp_server_tools(demo_stdio_params())
    greet = next(tool for tool in tools if tool.name == "greet")
    try:
        assert (await greet.run_json({"name": "Ada"}, CancellationToken()))[0].text == "Hello, Ada!"
        assert (await greet.run_json({"name": "Ada", "punctuation": "?"}, CancellationToken()))[0].text == "Hello, Ada?"
    finally:
        await tools[0].close()


async def test_cancelling_a_call() -> None:
    tools = await mcp_server_tools(demo_stdio_params())
    wait = next(tool for tool in tools if tool.name == "wait")
    token = CancellationToken()
    try:
        call = asyncio.ensure_future(wait.run_json({"seconds": 60}, token))
        await asyncio.sleep(0.05)
        token.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(call, 5)
    finally:
        await tools[0].close()


async def test_the_shared_session_is_reopened_after_a_crash() -> None:
    tools = await mcp_server_tools(demo_stdio_params())
    named = {tool.name: tool for tool in tools}
    token = CancellationToken()
    try:
        before = (await named["pid"].run_json({}, token))[0].text
        with pytest.raises(McpConnectionError, match="exit code 3") as caught:
            await named["crash"].run_json({}, token)
        assert "crashing on purpose" in str(caught.value)
        after = (await named["pid"].run_json({}, token))[0].text
        assert after != before
    finally:
        await tools[0].close()


async def test_with_a_session_you_manage(sse_server: HttpDemoServer) -> None:
    params = sse_server.params()
    async with create_mcp_server_session(params) as session:
        await session.initialize()
        tools = await mcp_server_tools(params, session=session)
        named = {tool.name: tool for tool in tools}
        counts = [(await named["counter"].run_json({}, CancellationToken()))[0].text for _ in range(2)]
    assert counts == ["1", "2"]
    assert all(isinstance(tool, SseMcpToolAdapter) for tool in tools)


async def test_from_server_params_finds_one_tool(http_server: HttpDemoServer) -> None:
    adapter = await StreamableHttpMcpToolAdapter.from_server_params(http_server.params(), "echo")
    try:
        assert isinstance(adapter.tool, mcp_types.Tool) and adapter.name == "echo"
        assert (await adapter.run_json({"text": "hi"}, CancellationToken()))[0].text == "hi"
    finally:
        await adapter.close()
    with pytest.raises(ValueError, match="Tool 'nope' not found on the MCP server; available tools: add, echo"):
        await StreamableHttpMcpToolAdapter.from_server_params(http_server.params(), "nope")
