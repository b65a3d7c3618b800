"""Checking and normalising what an :class:`AssistantAgent` is built from: tools, handoffs, workbenches.

Every mistake here is found when the agent is made, not at the first model call in the middle of a
team run, and every error says how to fix the configuration.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from salon.memory import Memory
from salon.models import ChatCompletionClient
from salon.tools import BaseTool, FunctionTool, StaticStreamWorkbench, Tool, Workbench

from ..base import Handoff

__all__ = ["ToolSetup", "ToolSpec", "build_tool_setup", "check_memory", "check_max_tool_iterations"]

ToolSpec = BaseTool[Any, Any] | Tool | Callable[..., Any] | Callable[..., Awaitable[Any]]
"""What ``tools=`` accepts: tool objects, or plain (sync or async) functions wrapped as :class:`FunctionTool`."""


@dataclass(frozen=True, slots=True)
class ToolSetup:
    """The tool side of an agent, checked and ready to use.

    Attributes:
        tools: The agent's own tools (empty when a workbench was given instead).
        workbenches: Where tool calls go; a single :class:`StaticStreamWorkbench` over ``tools`` by default.
        owns_workbench: Whether ``workbenches`` is the agent's own static workbench, whose tool list never
            changes (so its schemas can be listed once instead of before every model call).
        handoff_tools: One tool per handoff, in the order the handoffs were given.
        handoffs: The handoffs by tool name.
    """

    tools: list[Tool]
    workbenches: list[Workbench]
    owns_workbench: bool
    handoff_tools: list[Tool]
    handoffs: dict[str, Handoff]


def _supports_function_calling(model_client: ChatCompletionClient) -> bool:
    return bool(model_client.model_info.get("function_calling", False))


def _as_tool(spec: object) -> Tool:
    if isinstance(spec, BaseTool | Tool):
        return spec
    if callable(spec):
        description = getattr(spec, "__doc__", None) or ""
        return FunctionTool(spec, description=description)
    raise ValueError(
        f"Unsupported tool type: {type(spec).__name__}. Pass a tool (a BaseTool such as FunctionTool) or a "
        "plain Python function, which is wrapped in a FunctionTool."
    )


def _build_tools(tools: Sequence[ToolSpec] | None, model_client: ChatCompletionClient) -> list[Tool]:
    if tools is None:
        return []
    if tools and not _supports_function_calling(model_client):
        raise ValueError(
            "The model does not support function calling, so it cannot use tools. Use a model whose "
            "model_info has function_calling=True, or remove tools=."
        )
    built = [_as_tool(spec) for spec in tools]
    names = [tool.name for tool in built]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(
            f"Tool names must be unique: {names}; {', '.join(map(repr, duplicates))} appear more than once. "
            "Give each tool its own name (FunctionTool(func, description=..., name=...))."
        )
    return built


def _build_handoffs(
    handoffs: Sequence[Handoff | str] | None, model_client: ChatCompletionClient, tool_names: set[str]
) -> tuple[list[Tool], dict[str, Handoff]]:
    if not handoffs:
        return [], {}
    if not _supports_function_calling(model_client):
        raise ValueError(
            "The model does not support function calling, which is needed for handoffs (each handoff is a "
            "tool the model calls). Use a model whose model_info has function_calling=True, or remove handoffs=."
        )
    handoff_tools: list[Tool] = []
    by_name: dict[str, Handoff] = {}
    for spec in handoffs:
        handoff = Handoff(target=spec) if isinstance(spec, str) else spec
        if not isinstance(handoff, Handoff):
            raise ValueError(
                f"Unsupported handoff type: {type(spec).__name__}. Pass Handoff objects or the names of the "
                "agents to hand off to."
            )
        if handoff.name in by_name:
            names = [h.name if isinstance(h, Handoff) else str(h) for h in handoffs]
            raise ValueError(
                f"Handoff names must be unique: {handoff.name!r} appears more than once in {names}. Give each "
                "Handoff its own name= (two handoffs to one target need different names)."
            )
        if handoff.name in tool_names or handoff.target in tool_names:
            clash = handoff.name if handoff.name in tool_names else handoff.target
            raise ValueError(
                f"Handoff names must be unique from tool names: the handoff to {handoff.target!r} clashes with "
                f"the tool {clash!r}. Rename the tool, or give the Handoff another name=."
            )
        by_name[handoff.name] = handoff
        handoff_tools.append(handoff.handoff_tool)
    return handoff_tools, by_name


def build_tool_setup(
    model_client: ChatCompletionClient,
    tools: Sequence[ToolSpec] | None,
    workbench: Workbench | Sequence[Workbench] | None,
    handoffs: Sequence[Handoff | str] | None,
) -> ToolSetup:
    """Check the agent's tools, workbenches and handoffs, and put them in the shape the turn loop uses.

    Raises:
        ValueError: Tools and a workbench together, tools or handoffs for a model without function
            calling, duplicate tool or handoff names, a handoff named like a tool, an unsupported tool or
            handoff type.
    """
    built = _build_tools(tools, model_client)
    tool_names = {tool.name for tool in built}
    handoff_tools, by_name = _build_handoffs(handoffs, model_client, tool_names)
    if workbench is None:
        return ToolSetup(built, [StaticStreamWorkbench(built)], True, handoff_tools, by_name)
    if built:
        raise ValueError(
            "Tools cannot be used with a workbench: pass either tools= or workbench=, not both. To combine "
            "them, put the tools in a StaticWorkbench and pass it in the workbench= list."
        )
    workbenches = list(workbench) if isinstance(workbench, Sequence) else [workbench]
    return ToolSetup([], workbenches, False, handoff_tools, by_name)


def check_memory(memory: Sequence[Memory] | None) -> list[Memory] | None:
    """Return the memories as a list, refusing a single memory or anything else passed by mistake.

    Raises:
        TypeError: ``memory`` is not a list (or tuple) of memories.
    """
    if memory is None:
        return None
    if not isinstance(memory, list | tuple):
        raise TypeError(
            f"Expected Memory, List[Memory], or None, got {type(memory).__name__}. Pass memories as a list: "
            "memory=[my_memory]."
        )
    return list(memory)


def check_max_tool_iterations(max_tool_iterations: int) -> int:
    """Return ``max_tool_iterations`` if it allows at least one round of tool calls.

    Raises:
        ValueError: It is below 1.
    """
    if max_tool_iterations < 1:
        raise ValueError(
            "Maximum number of tool iterations must be greater than or equal to 1, got "
            f"{max_tool_iterations}. Use 1 (the default) for one round of tool calls per turn."
        )
    return max_tool_iterations
