"""salon-mcp as a plugin: the ``mcp`` workbench in configs, its options, and its entry point."""

from __future__ import annotations

import sys

import pytest
from pydantic import ValidationError

import salon_mcp
from salon import Container, PluginManager
from salon.models import ReplayChatCompletionClient
from salon.testing import check_found_through_entry_point, check_plugin_stays_light
from salon.tools import ToolOverride
from salon_mcp import McpWorkbench, McpWorkbenchOptions, SseServerParams, StdioServerParams, StreamableHttpServerParams
from salon_mcp_test_servers import DEMO_SERVER


def plugin_manager() -> PluginManager:
    pm = PluginManager(entry_points_enabled=False, strict=True)
    pm.add_plugin(salon_mcp, "mcp", distribution="salon-mcp", version=salon_mcp.__version__)
    return pm


def test_registers_the_mcp_workbench() -> None:
    spec = plugin_manager().registry.get("workbench", "mcp")
    assert spec.distribution == "salon-mcp"
    assert spec.description.startswith("McpWorkbench")
    assert spec.options_model is McpWorkbenchOptions


@pytest.mark.parametrize(
    ("server", "kind"),
    [
        ({"type": "StdioServerParams", "command": "srv", "args": ["-v"], "read_timeout_seconds": 9}, StdioServerParams),
        ({"type": "SseServerParams", "url": "http://127.0.0.1:1/sse"}, SseServerParams),
        ({"type": "StreamableHttpServerParams", "url": "http://127.0.0.1:1/mcp"}, StreamableHttpServerParams),
    ],
)
def test_options_pick_the_transport_by_type(server: dict[str, object], kind: type) -> None:
    options = McpWorkbenchOptions.model_validate({"server": server})
    assert isinstance(options.server, kind)
    spec = plugin_manager().registry.get("workbench", "mcp")
    for given in (options.model_dump(), dict(options)):
        workbench = spec.factory(**given)
        assert isinstance(workbench, McpWorkbench) and isinstance(workbench.server_params, kind)


def test_bad_options_say_what_is_wrong() -> None:
    with pytest.raises(ValidationError, match="does not match any of the expected tags"):
        McpWorkbenchOptions.model_validate({"server": {"type": "WebSocket", "url": "ws://x"}})
    with pytest.raises(ValidationError, match=r"server\.StdioServerParams\.command"):
        McpWorkbenchOptions.model_validate({"server": {"type": "StdioServerParams"}})
    with pytest.raises(ValidationError, match="tool_overides"):
        McpWorkbenchOptions.model_validate({"server": {"type": "SseServerParams", "url": "u"}, "tool_overides": {}})


async def test_a_config_builds_a_working_workbench() -> None:
    config = {
        "plugins": [],
        "model_clients": {"model": {"use": "replay", "options": {"chat_completions": ["ok"]}}},
        "workbenches": {
            "demo": {
                "use": "mcp",
                "options": {
                    "server": {"type": "StdioServerParams", "command": sys.executable, "args": [str(DEMO_SERVER)]},
                    "tool_overrides": {"add": {"name": "sum"}},
                    "model_client": "model",
                },
            }
        },
    }
    container = Container.from_dict(config, plugin_manager=plugin_manager())
    workbench = container.component("workbenches.demo")
    assert isinstance(workbench, McpWorkbench)
    assert workbench._tool_overrides == {"add": ToolOverride(name="sum")}
    assert isinstance(workbench._model_client, ReplayChatCompletionClient)
    async with workbench:
        assert (await workbench.call_tool("sum", {"augend": 1, "addend": 2})).to_text() == "3"
        assert (await workbench.call_tool("sample", {"prompt": "x"})).to_text() == "model unknown said: ok"


def test_loading_the_plugin_stays_light() -> None:
    check_plugin_stays_light("salon_mcp", "mcp", heavy=["mcp", "mcp_types", "salon_mcp._workbench"])


def test_found_through_its_entry_point() -> None:
    check_found_through_entry_point("mcp", distribution="salon-mcp", components={"workbench": ["mcp"]})
