"""MCP servers written by someone else: the modelcontextprotocol project's reference servers from PyPI.

``mcp-server-time`` and ``mcp-server-fetch`` are installed ahead of time into a venv of their own by
``scripts/install-test-servers.sh`` (CI runs it in .ci/run); these tests fail, never skip, without them.
They are started over stdio, as a user would start them. ``fetch`` only fetches a page served here, on
127.0.0.1, by the test itself.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from salon import CancellationToken
from salon.tools import ToolOverride
from salon_mcp import McpWorkbench, StdioMcpToolAdapter, StdioServerParams, mcp_server_tools
from salon_mcp_test_servers import served_page

PAGE = """<html><head><title>Salon test page</title></head>
<body><article><h1>Opening hours</h1><p>The salon opens at <b>nine</b> and closes at six.</p></article></body></html>"""


def time_server(bin_dir: Path) -> StdioServerParams:
    return StdioServerParams(command=str(bin_dir / "mcp-server-time"), args=["--local-timezone", "UTC"])


def fetch_server(bin_dir: Path) -> StdioServerParams:
    return StdioServerParams(
        command=str(bin_dir / "mcp-server-fetch"),
        args=["--ignore-robots-txt", "--allow-private-ips"],
        read_timeout_seconds=30,
    )


@pytest.fixture
def local_page() -> Iterator[str]:
    """A page served on 127.0.0.1 for the fetch server to read."""
    with served_page("/hours", PAGE) as url:
        yield url


async def test_time_server_over_a_workbench(third_party_bin: Path) -> None:
    async with McpWorkbench(time_server(third_party_bin)) as workbench:
        assert workbench.initialize_result is not None
        assert workbench.initialize_result.server_info.name == "mcp-time"
        names = {schema["name"] for schema in await workbench.list_tools()}
        assert names == {"get_current_time", "convert_time"}
        result = await workbench.call_tool(
            "convert_time", {"source_timezone": "Europe/Paris", "time": "14:30", "target_timezone": "Asia/Tokyo"}
        )
    assert not result.is_error
    converted = json.loads(result.to_text())
    assert converted["source"]["datetime"].endswith("T14:30:00+01:00")
    assert converted["target"]["datetime"].endswith("T22:30:00+09:00")
    assert converted["time_difference"] == "+8.0h"


async def test_time_server_errors(third_party_bin: Path) -> None:
    async with McpWorkbench(time_server(third_party_bin)) as workbench:
        bad_zone = await workbench.call_tool("get_current_time", {"timezone": "Mars/Olympus_Mons"})
        wrong_type = await workbench.call_tool("get_current_time", {"timezone": 5})
        missing = await workbench.call_tool("convert_time", {"time": "14:30"})
    assert bad_zone.is_error and "Mars/Olympus_Mons" in bad_zone.to_text()
    # Checked against the server's schema before the call is sent.
    assert wrong_type.to_text() == (
        "Invalid arguments for tool 'get_current_time':\n  - argument 'timezone': 5 is not of type 'string'"
    )
    assert missing.is_error and "'source_timezone': is required" in missing.to_text()
    assert "'target_timezone': is required" in missing.to_text()


async def test_time_server_tool_override(third_party_bin: Path) -> None:
    overrides = {"get_current_time": ToolOverride(name="now", description="The time now.")}
    async with McpWorkbench(time_server(third_party_bin), tool_overrides=overrides) as workbench:
        schemas = {schema["name"]: schema for schema in await workbench.list_tools()}
        result = await workbench.call_tool("now", {"timezone": "UTC"})
    assert schemas["now"].get("description") == "The time now."
    assert json.loads(result.to_text())["timezone"] == "UTC"


async def test_time_server_as_tools(third_party_bin: Path) -> None:
    tools = await mcp_server_tools(time_server(third_party_bin))
    try:
        assert all(isinstance(tool, StdioMcpToolAdapter) for tool in tools)
        convert = next(tool for tool in tools if tool.name == "convert_time")
        blocks = await convert.run_json(
            {"source_timezone": "UTC", "time": "00:00", "target_timezone": "Asia/Kolkata"}, CancellationToken()
        )
        assert json.loads(blocks[0].text)["time_difference"] == "+5.5h"
    finally:
        await tools[0].close()


async def test_fetch_server_reads_a_local_page(third_party_bin: Path, local_page: str) -> None:
    async with McpWorkbench(fetch_server(third_party_bin)) as workbench:
        prompts = await workbench.list_prompts()
        result = await workbench.call_tool("fetch", {"url": local_page})
    assert [prompt.name for prompt in prompts.prompts] == ["fetch"]
    assert not result.is_error, result.to_text()
    text = result.to_text()
    assert "Opening hours" in text and "**nine**" in text


async def test_fetch_server_argument_constraints(third_party_bin: Path) -> None:
    async with McpWorkbench(fetch_server(third_party_bin)) as workbench:
        result = await workbench.call_tool("fetch", {"url": "http://127.0.0.1:9/", "max_length": 0})
    assert result.is_error
    assert "argument 'max_length': 0 is less than the minimum of 1" in result.to_text()
