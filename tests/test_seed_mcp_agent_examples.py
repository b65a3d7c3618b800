"""MCP examples that need an ``AssistantAgent``: the seed guide's, and those of AutoGen 0.7.5's MCP docstrings.

The docstrings are those of ``autogen_ext.tools.mcp`` (``mcp_server_tools``, ``McpWorkbench``,
``SseMcpToolAdapter``, ``StreamableHttpMcpToolAdapter``).

Ported by rewriting imports (DESIGN.md §2: ``autogen_agentchat.agents`` -> ``salon_agentchat.agents``,
``autogen_agentchat.teams`` -> ``salon_teams``, ``autogen_agentchat.conditions``/``.ui`` ->
``salon_agentchat.conditions``/``.ui``, ``autogen_core`` -> ``salon``, ``autogen_ext.tools.mcp`` ->
``salon_mcp``, ``autogen_ext.models.openai`` -> ``salon_openai``), with two substitutions, because tests
reach neither the internet nor an API:

- every ``OpenAIChatCompletionClient(...)`` also gets ``base_url``/``api_key`` for the scripted OpenAI server
  on 127.0.0.1 (``salon.testing.OpenAIChatServer``), scripted with the tool calls a model would make;
- the MCP servers the examples start (``npx @modelcontextprotocol/server-filesystem``, ``uvx
  mcp-server-fetch``, ``npx @playwright/mcp``, the GitHub server in docker, remote SSE/HTTP "translate"
  services) are Salon's demo server (``plugins/mcp/tests/servers/demo_server.py``, over the example's
  transport) or the reference ``mcp-server-fetch`` installed by ``plugins/mcp/scripts/install-test-servers.sh``
  (``SALON_MCP_THIRD_PARTY_DIR``; these tests fail, never skip, when it is missing); ``fetch`` reads a page
  served by the test on 127.0.0.1 (``--ignore-robots-txt --allow-private-ips``).

The demo server's tools stand in for the example's: ``echo`` for the filesystem server's file writing
and for "translate", ``greet`` for the GitHub server, the per-session ``counter`` for Playwright's browser
state (what a shared session is for). As in AutoGen, a tool adapter's result is the JSON list of the MCP
content blocks, so the tests read its text out of that JSON.

The seed guide has no MCP example with an ``AssistantAgent``: its MCP code drives ``McpWorkbench`` from a
hand-written ``RoutedAgent`` (ported, where valid, in ``plugins/mcp/tests/test_seed_examples.py``; its
"Using MCP Workbench" and "Web Browsing Agent" snippets are not valid AutoGen 0.7.5: they import
``autogen_ext.mcp.mcp_workbench`` and ``PlaywrightMcpServer``, which do not exist), and it names
``mcp_server_tools`` only in a list of built-in tools. That mention is covered by the ``mcp_server_tools``
examples below, which are AutoGen's own. The docstring examples are valid AutoGen 0.7.5; beyond the
substitutions, each ``asyncio.run(main())`` becomes ``await main()`` inside the test, Windows'
``npx.cmd`` goes with the filesystem server, and the "Remote MCP service over SSE" example, which stops
once its agent exists, is followed by one run of that agent.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from salon import FunctionCall
from salon.testing import OpenAIChatServer
from salon_agentchat.messages import ToolCallExecutionEvent, ToolCallSummaryMessage

ROOT = Path(__file__).resolve().parent.parent
MCP_TESTS = ROOT / "plugins" / "mcp" / "tests"
PAGE = """<html><head><title>Contributors</title></head>
<body><article><h1>Contributors</h1><p>This repository has <b>42</b> contributors.</p></article></body></html>"""


def _load_test_servers() -> ModuleType:
    """salon-mcp's test helpers (the demo server over stdio, SSE or streamable HTTP), loaded from their file."""
    spec = importlib.util.spec_from_file_location("salon_mcp_test_servers", MCP_TESTS / "salon_mcp_test_servers.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


servers = _load_test_servers()


@pytest.fixture
def model_server() -> Iterator[OpenAIChatServer]:
    with OpenAIChatServer() as running:
        yield running


@pytest.fixture
def fetch_bin() -> Path:
    """The installed ``mcp-server-fetch`` (failing, never skipping, when it is missing)."""
    return Path(servers.third_party_bin()) / "mcp-server-fetch"


@pytest.fixture
def local_page() -> Iterator[str]:
    """A page on 127.0.0.1 for ``mcp-server-fetch`` to read."""
    with servers.served_page("/contributors", PAGE) as url:
        yield url


@pytest.fixture
def sse_demo() -> Iterator[Any]:
    server = servers.HttpDemoServer("sse").start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def http_demo() -> Iterator[Any]:
    server = servers.HttpDemoServer("streamable-http").start()
    try:
        yield server
    finally:
        server.stop()


def tool_names(request: Any) -> list[str]:
    return [tool["function"]["name"] for tool in request.json.get("tools", [])]


def adapter_text(result: str) -> str:
    """The text of a tool adapter's result: as in AutoGen, the JSON list of the MCP content blocks."""
    return "".join(block["text"] for block in json.loads(result) if block["type"] == "text")


def tool_results(messages: Any) -> list[str]:
    return [result.content for m in messages if isinstance(m, ToolCallExecutionEvent) for result in m.content]


# -- mcp_server_tools ---------------------------------------------------------------------------------------


async def test_mcp_server_tools_local_stdio_example(model_server: OpenAIChatServer) -> None:
    """``mcp_server_tools``: "Local file system MCP service over standard I/O" (the demo server for the filesystem)."""
    model_server.script([[FunctionCall(id="call-1", name="echo", arguments='{"text": "some content"}')]])
    outcome: dict[str, Any] = {}

    from salon import CancellationToken
    from salon_agentchat.agents import AssistantAgent
    from salon_mcp import StdioServerParams, mcp_server_tools
    from salon_openai import OpenAIChatCompletionClient

    async def main() -> None:
        # Setup server params for local filesystem access
        demo = servers.demo_stdio_params()
        server_params = StdioServerParams(command=demo.command, args=demo.args)

        # Get all available tools from the server
        tools = await mcp_server_tools(server_params)

        # Create an agent that can use all the tools
        agent = AssistantAgent(
            name="file_manager",
            model_client=OpenAIChatCompletionClient(model="gpt-4", base_url=model_server.url, api_key="test"),
            tools=tools,  # type: ignore
        )

        # The agent can now use any of the filesystem tools
        outcome["result"] = await agent.run(
            task="Create a file called test.txt with some content", cancellation_token=CancellationToken()
        )
        await tools[0].close()

    await main()

    final = outcome["result"].messages[-1]
    assert isinstance(final, ToolCallSummaryMessage)
    assert adapter_text(final.content) == "some content"
    assert {"add", "echo", "greet", "counter"} <= set(tool_names(model_server.chat_requests[0]))


async def test_mcp_server_tools_fetch_example(
    model_server: OpenAIChatServer, fetch_bin: Path, local_page: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """``mcp_server_tools``: "Local fetch MCP service over standard I/O" (the installed mcp-server-fetch)."""
    model_server.script(
        [
            [FunctionCall(id="call-1", name="fetch", arguments=f'{{"url": "{local_page}"}}')],
            "The page says the repository has 42 contributors.",
        ]
    )

    from salon_agentchat.agents import AssistantAgent
    from salon_mcp import StdioServerParams, mcp_server_tools
    from salon_openai import OpenAIChatCompletionClient

    async def main() -> None:
        # Get the fetch tool from mcp-server-fetch.
        fetch_mcp_server = StdioServerParams(
            command=str(fetch_bin), args=["--ignore-robots-txt", "--allow-private-ips"], read_timeout_seconds=30
        )
        tools = await mcp_server_tools(fetch_mcp_server)

        # Create an agent that can use the fetch tool.
        model_client = OpenAIChatCompletionClient(model="gpt-4o", base_url=model_server.url, api_key="test")
        agent = AssistantAgent(name="fetcher", model_client=model_client, tools=tools, reflect_on_tool_use=True)  # type: ignore

        # Let the agent fetch the content of a URL and summarize it.
        result = await agent.run(task=f"Summarize the content of {local_page}")
        print(result.messages[-1])
        (fetched,) = tool_results(result.messages)
        assert "42" in fetched and "contributors" in fetched
        await tools[0].close()

    await main()

    assert "The page says the repository has 42 contributors." in capsys.readouterr().out
    assert tool_names(model_server.chat_requests[0]) == ["fetch"]
    assert "42" in model_server.chat_requests[1].json["messages"][-1]["content"]  # the reflection saw the page


async def test_mcp_server_tools_shared_session_example(
    model_server: OpenAIChatServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """``mcp_server_tools``: "Sharing an MCP client session across multiple tools" (the demo server's
    per-session ``counter`` stands for Playwright's browser state)."""
    model_server.script(
        [
            [FunctionCall(id="call-1", name="counter", arguments="{}")],
            [FunctionCall(id="call-2", name="counter", arguments="{}")],
            "The counter reached 2 in one session. TERMINATE",
        ]
    )

    from salon_agentchat.agents import AssistantAgent
    from salon_agentchat.conditions import TextMentionTermination
    from salon_agentchat.ui import Console
    from salon_mcp import create_mcp_server_session, mcp_server_tools
    from salon_openai import OpenAIChatCompletionClient
    from salon_teams import RoundRobinGroupChat

    outcome: dict[str, Any] = {}

    async def main() -> None:
        model_client = OpenAIChatCompletionClient(
            model="gpt-4o", parallel_tool_calls=False, base_url=model_server.url, api_key="test"
        )  # type: ignore
        params = servers.demo_stdio_params(read_timeout_seconds=60)
        async with create_mcp_server_session(params) as session:
            await session.initialize()
            tools = await mcp_server_tools(server_params=params, session=session)
            print(f"Tools: {[tool.name for tool in tools]}")

            agent = AssistantAgent(
                name="Assistant",
                model_client=model_client,
                tools=tools,  # type: ignore
            )

            termination = TextMentionTermination("TERMINATE")
            team = RoundRobinGroupChat([agent], termination_condition=termination)
            outcome["result"] = await Console(team.run_stream(task="Count twice in the same session."))

    await main()

    result = outcome["result"]
    assert [adapter_text(text) for text in tool_results(result.messages)] == [
        "1",
        "2",
    ]  # one session: the server's state carried over
    assert result.stop_reason == "Text 'TERMINATE' mentioned"
    assert "Tools: ['add', 'echo'" in capsys.readouterr().out
    assert model_server.chat_requests[0].json["parallel_tool_calls"] is False


async def test_mcp_server_tools_remote_sse_example(model_server: OpenAIChatServer, sse_demo: Any) -> None:
    """``mcp_server_tools``: "Remote MCP service over SSE" (the demo server over SSE on 127.0.0.1)."""
    model_server.script([[FunctionCall(id="call-1", name="greet", arguments='{"name": "Ada"}')]])

    from salon_agentchat.agents import AssistantAgent
    from salon_mcp import SseServerParams, mcp_server_tools
    from salon_openai import OpenAIChatCompletionClient

    created: dict[str, Any] = {}

    async def main() -> None:
        # Setup server params for remote service
        server_params = SseServerParams(url=sse_demo.url, headers={"Authorization": "Bearer token"})

        # Get all available tools
        tools = await mcp_server_tools(server_params)

        # Create an agent with all tools
        agent = AssistantAgent(
            name="tool_user",
            model_client=OpenAIChatCompletionClient(model="gpt-4", base_url=model_server.url, api_key="test"),
            tools=tools,  # type: ignore
        )
        created["agent"], created["tools"] = agent, tools

    await main()

    # The example stops once the agent exists; run it once to show that the remote tools work.
    result = await created["agent"].run(task="Greet Ada.")
    await created["tools"][0].close()
    assert adapter_text(result.messages[-1].content) == "Hello, Ada!"


# -- McpWorkbench -----------------------------------------------------------------------------------------


async def test_mcp_workbench_github_example(model_server: OpenAIChatServer, capsys: pytest.CaptureFixture[str]) -> None:
    """``McpWorkbench``: the GitHub MCP server example (the demo server over stdio stands for the GitHub server
    in docker; the token in ``env`` is passed on as in the example)."""
    model_server.script(
        [
            [FunctionCall(id="call-1", name="greet", arguments='{"name": "Autogen"}')],
            "Yes: the server knows a repository named Autogen.",
        ]
    )

    from salon_agentchat.agents import AssistantAgent
    from salon_agentchat.ui import Console
    from salon_mcp import McpWorkbench, StdioServerParams
    from salon_openai import OpenAIChatCompletionClient

    outcome: dict[str, Any] = {}

    async def main() -> None:
        model_client = OpenAIChatCompletionClient(model="gpt-4.1-nano", base_url=model_server.url, api_key="test")
        demo = servers.demo_stdio_params()
        server_params = StdioServerParams(
            command=demo.command,
            args=demo.args,
            env={
                "GITHUB_PERSONAL_ACCESS_TOKEN": "ghp_XXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
            },
        )
        async with McpWorkbench(server_params) as mcp:
            agent = AssistantAgent(
                "github_assistant",
                model_client=model_client,
                workbench=mcp,
                reflect_on_tool_use=True,
                model_client_stream=True,
            )
            outcome["result"] = await Console(agent.run_stream(task="Is there a repository named Autogen"))

    await main()

    result = outcome["result"]
    assert tool_results(result.messages) == ["Hello, Autogen!"]
    assert result.messages[-1].content == "Yes: the server knows a repository named Autogen."
    assert "Yes: the server knows a repository named Autogen." in capsys.readouterr().out
    assert all(request.json["stream"] for request in model_server.chat_requests)


async def test_mcp_workbench_playwright_example(
    model_server: OpenAIChatServer, fetch_bin: Path, local_page: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """``McpWorkbench``: the Playwright MCP server example (mcp-server-fetch on a local page stands for the
    headless browser)."""
    model_server.script(
        [
            [FunctionCall(id="call-1", name="fetch", arguments=f'{{"url": "{local_page}"}}')],
            "The repository has 42 contributors.",
        ]
    )

    from salon_agentchat.agents import AssistantAgent
    from salon_agentchat.conditions import TextMessageTermination
    from salon_agentchat.ui import Console
    from salon_mcp import McpWorkbench, StdioServerParams
    from salon_openai import OpenAIChatCompletionClient
    from salon_teams import RoundRobinGroupChat

    outcome: dict[str, Any] = {}

    async def main() -> None:
        model_client = OpenAIChatCompletionClient(model="gpt-4.1-nano", base_url=model_server.url, api_key="test")
        server_params = StdioServerParams(
            command=str(fetch_bin),
            args=[
                "--ignore-robots-txt",
                "--allow-private-ips",
            ],
            read_timeout_seconds=30,
        )
        async with McpWorkbench(server_params) as mcp:
            agent = AssistantAgent(
                "web_browsing_assistant",
                model_client=model_client,
                workbench=mcp,
                model_client_stream=True,
            )
            team = RoundRobinGroupChat(
                [agent],
                termination_condition=TextMessageTermination(source="web_browsing_assistant"),
            )
            outcome["result"] = await Console(
                team.run_stream(task=f"Find out how many contributors there are at {local_page}")
            )

    await main()

    result = outcome["result"]
    (fetched,) = tool_results(result.messages)
    assert "42" in fetched
    # The tool call's summary is not a TextMessage, so the team goes on until the model answers in text.
    assert result.messages[-1].content == "The repository has 42 contributors."
    assert result.stop_reason == "Text message received from 'web_browsing_assistant'"
    assert "The repository has 42 contributors." in capsys.readouterr().out


# -- the tool adapters ------------------------------------------------------------------------------------


async def test_sse_tool_adapter_example(model_server: OpenAIChatServer, sse_demo: Any) -> None:
    """``SseMcpToolAdapter``: a remote "translate" tool over SSE (the demo server's ``echo`` over SSE)."""
    model_server.script([[FunctionCall(id="call-1", name="echo", arguments='{"text": "Hola, ¿cómo estás?"}')]])

    from salon import CancellationToken
    from salon_agentchat.agents import AssistantAgent
    from salon_agentchat.ui import Console
    from salon_mcp import SseMcpToolAdapter, SseServerParams
    from salon_openai import OpenAIChatCompletionClient

    outcome: dict[str, Any] = {}

    async def main() -> None:
        # Create server params for the remote MCP service
        server_params = SseServerParams(
            url=sse_demo.url,
            headers={"Authorization": "Bearer your-api-key", "Content-Type": "application/json"},
            timeout=30,  # Connection timeout in seconds
        )

        # Get the translation tool from the server
        adapter = await SseMcpToolAdapter.from_server_params(server_params, "echo")

        # Create an agent that can use the translation tool
        model_client = OpenAIChatCompletionClient(model="gpt-4", base_url=model_server.url, api_key="test")
        agent = AssistantAgent(
            name="translator",
            model_client=model_client,
            tools=[adapter],
            system_message="You are a helpful translation assistant.",
        )

        # Let the agent translate some text
        outcome["result"] = await Console(
            agent.run_stream(task="Translate 'Hello, how are you?' to Spanish", cancellation_token=CancellationToken())
        )
        await adapter.close()

    await main()

    assert adapter_text(outcome["result"].messages[-1].content) == "Hola, ¿cómo estás?"
    sent = model_server.chat_requests[0].json
    assert sent["messages"][0] == {"role": "system", "content": "You are a helpful translation assistant."}
    assert tool_names(model_server.chat_requests[0]) == ["echo"]


async def test_streamable_http_tool_adapter_example(model_server: OpenAIChatServer, http_demo: Any) -> None:
    """``StreamableHttpMcpToolAdapter``: a remote "translate" tool over streamable HTTP (the demo server's ``echo``)."""
    model_server.script([[FunctionCall(id="call-1", name="echo", arguments='{"text": "Hola, ¿cómo estás?"}')]])

    from salon import CancellationToken
    from salon_agentchat.agents import AssistantAgent
    from salon_agentchat.ui import Console
    from salon_mcp import StreamableHttpMcpToolAdapter, StreamableHttpServerParams
    from salon_openai import OpenAIChatCompletionClient

    outcome: dict[str, Any] = {}

    async def main() -> None:
        # Create server params for the remote MCP service
        server_params = StreamableHttpServerParams(
            url=http_demo.url,
            headers={"Authorization": "Bearer your-api-key", "Content-Type": "application/json"},
            timeout=30.0,  # HTTP timeout in seconds
            sse_read_timeout=300.0,  # SSE read timeout in seconds (5 minutes)
            terminate_on_close=True,
        )

        # Get the translation tool from the server
        adapter = await StreamableHttpMcpToolAdapter.from_server_params(server_params, "echo")

        # Create an agent that can use the translation tool
        model_client = OpenAIChatCompletionClient(model="gpt-4", base_url=model_server.url, api_key="test")
        agent = AssistantAgent(
            name="translator",
            model_client=model_client,
            tools=[adapter],
            system_message="You are a helpful translation assistant.",
        )

        # Let the agent translate some text
        outcome["result"] = await Console(
            agent.run_stream(task="Translate 'Hello, how are you?' to Spanish", cancellation_token=CancellationToken())
        )
        await adapter.close()

    await main()

    assert adapter_text(outcome["result"].messages[-1].content) == "Hola, ¿cómo estás?"
    assert tool_names(model_server.chat_requests[0]) == ["echo"]
