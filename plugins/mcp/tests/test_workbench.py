"""McpWorkbench's features over all three transports, against the demo server (nothing mocked)."""

from __future__ import annotations

import asyncio

import mcp_types
import pytest
from mcp.client.session import ClientRequestContext

from salon import Image
from salon.models import CreateResult, ReplayChatCompletionClient, RequestUsage
from salon.tools import ImageResultContent, TextResultContent, ToolOverride
from salon_mcp import McpServerParams, McpWorkbench
from salon_mcp_test_servers import demo_stdio_params


async def test_one_session_serves_every_call(server_params: McpServerParams) -> None:
    """Calls share one session: the server's per-connection state survives between them."""
    async with McpWorkbench(server_params) as workbench:
        pids = {(await workbench.call_tool("pid")).to_text() for _ in range(3)}
        counts = [(await workbench.call_tool("counter")).to_text() for _ in range(3)]
    assert len(pids) == 1
    assert counts == ["1", "2", "3"]


async def test_list_tools_gives_the_servers_schemas(server_params: McpServerParams) -> None:
    async with McpWorkbench(server_params) as workbench:
        schemas = {schema["name"]: schema for schema in await workbench.list_tools()}
    assert {"add", "crash", "sample", "picture"} <= set(schemas)
    greet = schemas["greet"]
    assert greet.get("description") == "Greet someone."
    parameters = greet["parameters"]
    assert parameters["properties"]["punctuation"]["default"] == "!"
    assert list(parameters.get("required", [])) == ["name"]


async def test_tool_overrides_rename_and_redescribe(server_params: McpServerParams) -> None:
    overrides = {"add": ToolOverride(name="sum", description="Sum two numbers."), "echo": ToolOverride(name=None)}
    async with McpWorkbench(server_params, tool_overrides=overrides) as workbench:
        schemas = {schema["name"]: schema for schema in await workbench.list_tools()}
        assert "add" not in schemas and schemas["sum"].get("description") == "Sum two numbers."
        assert "echo" in schemas
        result = await workbench.call_tool("sum", {"augend": 4, "addend": 5})
        missing = await workbench.call_tool("nothing_here", {})
    assert (result.name, result.to_text(), result.is_error) == ("sum", "9", False)
    assert missing.is_error and "sum" in missing.to_text() and "nothing_here" in missing.to_text()


def test_clashing_override_names_are_refused() -> None:
    overrides = {"add": ToolOverride(name="calc"), "echo": ToolOverride(name="calc")}
    with pytest.raises(ValueError, match="'calc' is given to both 'add' and 'echo'"):
        McpWorkbench(demo_stdio_params(), tool_overrides=overrides)


async def test_images_come_back_as_images(server_params: McpServerParams) -> None:
    async with McpWorkbench(server_params) as workbench:
        result = await workbench.call_tool("picture")
    assert not result.is_error
    text, image = result.result
    assert isinstance(text, TextResultContent) and text.content == "a pixel"
    assert isinstance(image, ImageResultContent) and isinstance(image.content, Image)
    assert image.content.image.size == (1, 1)


async def test_prompts(server_params: McpServerParams) -> None:
    async with McpWorkbench(server_params) as workbench:
        listed = await workbench.list_prompts()
        prompt = await workbench.get_prompt("review", {"code": "print(1)"})
    assert [p.name for p in listed.prompts] == ["review"]
    message = prompt.messages[0]
    assert isinstance(message.content, mcp_types.TextContent)
    assert message.content.text == "Please review this code:\nprint(1)"


async def test_resources_and_templates(server_params: McpServerParams) -> None:
    async with McpWorkbench(server_params) as workbench:
        resources = await workbench.list_resources()
        templates = await workbench.list_resource_templates()
        fixed = await workbench.read_resource("demo://greeting")
        templated = await workbench.read_resource("demo://users/ada")
    assert [str(r.uri) for r in resources.resources] == ["demo://greeting"]
    assert [t.uri_template for t in templates.resource_templates] == ["demo://users/{user_id}"]
    assert getattr(fixed.contents[0], "text", None) == "Hello from the demo server"
    assert getattr(templated.contents[0], "text", None) == "profile of ada"


async def test_sampling_is_answered_by_the_model_client(server_params: McpServerParams) -> None:
    """A tool that asks the client's model (MCP sampling) gets the Salon model client's answer."""
    model = ReplayChatCompletionClient(
        [CreateResult(finish_reason="stop", content="forty-two", usage=RequestUsage(0, 0), cached=False)]
    )
    async with McpWorkbench(server_params, model_client=model) as workbench:
        result = await workbench.call_tool("sample", {"prompt": "What is six times seven?"})
    assert (result.is_error, result.to_text()) == (False, "model unknown said: forty-two")
    assert model.create_calls[0]["messages"][0].content == "You are terse."  # type: ignore[attr-defined]


async def test_sampling_without_a_model_client_is_an_error_result() -> None:
    async with McpWorkbench(demo_stdio_params()) as workbench:
        result = await workbench.call_tool("sample", {"prompt": "hi"})
    assert result.is_error
    assert "no model for sampling" in result.to_text()


async def test_roots_are_offered_to_the_server(tmp_path: object) -> None:
    async with McpWorkbench(demo_stdio_params(), roots=[str(tmp_path), "file:///srv/data"]) as workbench:
        result = await workbench.call_tool("roots")
    assert result.to_text() == f"file://{tmp_path}\nfile:///srv/data"


async def test_elicitation_is_answered_by_the_callback(server_params: McpServerParams) -> None:
    asked: list[str] = []

    async def answer(context: ClientRequestContext, params: mcp_types.ElicitRequestParams) -> mcp_types.ElicitResult:
        asked.append(params.message)
        return mcp_types.ElicitResult(action="accept", content={"colour": "teal"})

    async with McpWorkbench(server_params, elicitation_callback=answer) as workbench:
        result = await workbench.call_tool("ask")
    assert (result.is_error, result.to_text()) == (False, "the user likes teal")
    assert asked == ["What is your favourite colour?"]


async def test_elicitation_without_a_callback_is_declined_by_the_client() -> None:
    async with McpWorkbench(demo_stdio_params()) as workbench:
        result = await workbench.call_tool("ask")
    assert result.is_error
    assert "Elicitation not supported" in result.to_text()


async def test_initialize_result_describes_the_server(server_params: McpServerParams) -> None:
    workbench = McpWorkbench(server_params)
    assert workbench.initialize_result is None
    async with workbench:
        result = workbench.initialize_result
        assert result is not None
        assert result.server_info.name == "salon-demo"
        assert result.instructions == "Test server for salon-mcp."


async def test_used_before_start_it_starts_itself() -> None:
    """As in AutoGen, listing or calling starts the session; stop() ends it; a later call starts it again."""
    workbench = McpWorkbench(demo_stdio_params())
    try:
        assert "ping" in {schema["name"] for schema in await workbench.list_tools()}
        first = (await workbench.call_tool("pid")).to_text()
        await workbench.stop()
        second = (await workbench.call_tool("pid")).to_text()
        assert first != second
    finally:
        await workbench.stop()


async def test_concurrent_first_calls_share_one_session() -> None:
    """Calls racing to start a not-started workbench start one session, not one each."""
    workbench = McpWorkbench(demo_stdio_params())
    try:
        results = await asyncio.gather(*(workbench.call_tool("pid") for _ in range(5)))
    finally:
        await workbench.stop()
    assert len({result.to_text() for result in results}) == 1


async def test_state_is_an_empty_marker() -> None:
    async with McpWorkbench(demo_stdio_params()) as workbench:
        assert await workbench.save_state() == {"type": "McpWorkBenchState"}
        await workbench.load_state({"type": "McpWorkBenchState"})
