"""Failures: servers that do not start, crash mid-call or vanish, and bad arguments (real processes)."""

from __future__ import annotations

import sys

import pytest

from salon_mcp import (
    McpServerStartError,
    McpWorkbench,
    SseServerParams,
    StdioServerParams,
    StreamableHttpServerParams,
)
from salon_mcp_test_servers import HttpDemoServer, demo_stdio_params, free_port


async def test_a_server_that_exits_at_start_reports_stderr_exit_code_and_command() -> None:
    params = StdioServerParams(
        command=sys.executable, args=["-c", "import sys; sys.stderr.write('config file missing\\n'); sys.exit(7)"]
    )
    with pytest.raises(McpServerStartError) as caught:
        await McpWorkbench(params).start()
    error = caught.value
    assert (error.exit_code, error.stderr) == (7, "config file missing")
    assert error.command_line == f"`{params.command_line()}`"
    assert "failed to start" in str(error) and "exit code: 7" in str(error) and "config file missing" in str(error)
    assert sys.executable in str(error)


async def test_a_command_that_does_not_exist() -> None:
    with pytest.raises(McpServerStartError, match="`no-such-mcp-server --flag` failed to start: FileNotFoundError"):
        await McpWorkbench(StdioServerParams(command="no-such-mcp-server", args=["--flag"])).start()


async def test_a_program_that_is_not_an_mcp_server() -> None:
    """A program that prints something else and exits: reported with its exit code, not a hang."""
    params = StdioServerParams(command=sys.executable, args=["-c", "print('hello, I am not MCP')"])
    with pytest.raises(McpServerStartError) as caught:
        await McpWorkbench(params).start()
    assert caught.value.exit_code == 0


async def test_a_server_that_never_answers_times_out() -> None:
    params = StdioServerParams(
        command=sys.executable, args=["-c", "import time; time.sleep(60)"], read_timeout_seconds=0.5
    )
    with pytest.raises(McpServerStartError, match="MCP handshake failed"):
        await McpWorkbench(params).start()


async def test_an_unreachable_url_names_it() -> None:
    port = free_port()
    for params in (
        SseServerParams(url=f"http://127.0.0.1:{port}/sse"),
        StreamableHttpServerParams(url=f"http://127.0.0.1:{port}/mcp"),
    ):
        with pytest.raises(McpServerStartError, match=f"http://127.0.0.1:{port}/.* could not be reached"):
            await McpWorkbench(params).start()


async def test_stdio_crash_mid_call_is_an_error_result_and_the_next_call_restarts() -> None:
    async with McpWorkbench(demo_stdio_params()) as workbench:
        before = (await workbench.call_tool("pid")).to_text()
        crashed = await workbench.call_tool("crash")
        assert crashed.is_error and crashed.name == "crash"
        text = crashed.to_text()
        assert "went away" in text and "exit code 3" in text and "crashing on purpose" in text
        assert "The next call starts a new session" in text
        after = await workbench.call_tool("pid")
        assert not after.is_error and after.to_text() != before
        assert (await workbench.call_tool("counter")).to_text() == "1"  # a new process, fresh state


async def test_stdio_crash_fails_concurrent_calls_too() -> None:
    """Calls in flight when the server dies end with error results instead of hanging."""
    import asyncio

    async with McpWorkbench(demo_stdio_params()) as workbench:
        slow = asyncio.ensure_future(workbench.call_tool("wait", {"seconds": 30}))
        await workbench.call_tool("ping")
        crashed = await workbench.call_tool("crash")
        waited = await asyncio.wait_for(slow, 10)
        assert crashed.is_error and waited.is_error
        assert "went away" in waited.to_text()
        assert (await workbench.call_tool("ping")).to_text() == "pong"


@pytest.mark.parametrize("kind", ["sse", "streamable-http"])
async def test_http_crash_mid_call_and_recovery_after_the_server_returns(kind: str) -> None:
    server = HttpDemoServer(kind).start()  # type: ignore[arg-type]
    try:
        async with McpWorkbench(server.params()) as workbench:
            assert (await workbench.call_tool("ping")).to_text() == "pong"
            crashed = await workbench.call_tool("crash")
            assert crashed.is_error and "went away" in crashed.to_text() and server.url in crashed.to_text()
            assert server.wait_exit() == 3
            down = await workbench.call_tool("ping")
            assert down.is_error and "could not be reached" in down.to_text() and server.url in down.to_text()
            server.start()  # same port
            assert (await workbench.call_tool("ping")).to_text() == "pong"
    finally:
        server.stop()


async def test_a_request_timeout_is_an_error_result_and_the_session_survives() -> None:
    async with McpWorkbench(demo_stdio_params(read_timeout_seconds=2)) as workbench:
        pid = (await workbench.call_tool("pid")).to_text()
        result = await workbench.call_tool("wait", {"seconds": 30})
        assert result.is_error and "refused the call to 'wait'" in result.to_text()
        assert "timed out" in result.to_text().lower()
        assert (await workbench.call_tool("pid")).to_text() == pid


async def test_argument_errors_name_each_argument() -> None:
    async with McpWorkbench(demo_stdio_params()) as workbench:
        wrong = await workbench.call_tool("add", {"augend": "many", "addend": 1})
        missing = await workbench.call_tool("greet", {})
        extra = await workbench.call_tool("ping", {"loud": True})  # its schema allows extra arguments
    assert wrong.is_error and wrong.to_text() == (
        "Invalid arguments for tool 'add':\n  - argument 'augend': 'many' is not of type 'integer'"
    )
    assert missing.to_text() == "Invalid arguments for tool 'greet':\n  - argument 'name': is required but missing"
    assert (extra.is_error, extra.to_text()) == (False, "pong")


async def test_a_tool_error_keeps_the_servers_message() -> None:
    async with McpWorkbench(demo_stdio_params()) as workbench:
        result = await workbench.call_tool("fail", {"reason": "the disk is full"})
    assert result.is_error and result.to_text() == "Error executing tool fail: the disk is full"
