"""The options of the chat agents in config files, validated when a config uses them.

A config names an agent by its registered name (``use: assistant``); the options below mirror the
agents' constructor arguments, with references (``model_client: gpt``) naming other components of the
same config. What cannot be written as data (a Python ``output_content_type``, an ``input_func``, a
``selector_func``) stays a Python-only argument. An agent's ``name`` defaults to its key in the config.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from salon import Ref

__all__ = [
    "AssistantAgentOptions",
    "CodeExecutorAgentOptions",
    "HandoffOptions",
    "MessageFilterAgentOptions",
    "PerSourceFilterOptions",
    "UserProxyAgentOptions",
]

_STRICT = ConfigDict(extra="forbid", use_attribute_docstrings=True)


class HandoffOptions(BaseModel):
    """A handoff written out in full (a bare agent name is the short form)."""

    model_config = _STRICT

    target: str
    """The agent (or ``user``) the conversation is handed to."""
    description: str | None = None
    """What the model reads about this handoff; default: ``Handoff to <target>.``"""
    name: str | None = None
    """The handoff tool's name; default: ``transfer_to_<target>``."""
    message: str | None = None
    """The text of the HandoffMessage; default: ``Transferred to <target>, adopting the role of <target>...``"""


class AssistantAgentOptions(BaseModel):
    """Options of :class:`salon_agentchat.agents.AssistantAgent` (``output_content_type`` is Python-only)."""

    model_config = _STRICT

    name: str | None = None
    """The agent's name; default: its key under ``agents:``."""
    model_client: Annotated[str, Ref("model_client")]
    """The model client that answers for the agent."""
    description: str = "An agent that provides assistance with ability to use tools."
    """What other agents (and selectors) read about this one."""
    system_message: str | None = (
        "You are a helpful AI assistant. Solve tasks using your tools. "
        "Reply with TERMINATE when the task has been completed."
    )
    """The system message; null for none."""
    tools: list[Annotated[str, Ref("tool")]] | None = None
    """Tools the model may call (not together with ``workbench``)."""
    workbench: Annotated[str, Ref("workbench")] | None = None
    """A workbench (an MCP server, say) whose tools the model may call."""
    handoffs: list[str | HandoffOptions] | None = None
    """Agents the conversation can be handed to (Swarm)."""
    model_context: Annotated[str, Ref("model_context")] | None = None
    """How much history the model sees; default: all of it."""
    memory: list[Annotated[str, Ref("memory")]] | None = None
    """Memories queried before each model call."""
    model_client_stream: bool = False
    """Stream tokens as they come (shown inline by the console)."""
    reflect_on_tool_use: bool | None = None
    """Ask the model again after its tool calls; default: only with structured output."""
    max_tool_iterations: int = Field(default=1, ge=1)
    """Rounds of tool calls before the agent answers."""
    tool_call_summary_format: str = "{result}"
    """How tool results are summarised when the agent does not reflect."""
    metadata: dict[str, str] | None = None
    """Free-form labels attached to the agent."""


class UserProxyAgentOptions(BaseModel):
    """Options of :class:`salon_agentchat.agents.UserProxyAgent` (its ``input_func`` is Python-only: stdin)."""

    model_config = _STRICT

    name: str | None = None
    """The agent's name; default: its key under ``agents:``."""
    description: str = "A human user"
    """What other agents read about this one."""


class CodeExecutorAgentOptions(BaseModel):
    """Options of :class:`salon_agentchat.agents.CodeExecutorAgent` (``approval_func`` is Python-only)."""

    model_config = _STRICT

    name: str | None = None
    """The agent's name; default: its key under ``agents:``."""
    code_executor: Annotated[str, Ref("code_executor")]
    """Where the code runs (``local``, ``docker``, ...)."""
    model_client: Annotated[str, Ref("model_client")] | None = None
    """With a model, the agent writes code itself; without, it runs code found in messages."""
    description: str | None = None
    """What other agents read about this one; default: AutoGen's."""
    system_message: str | None = None
    """The system message when a model writes code; default: AutoGen's."""
    sources: list[str] | None = None
    """Only run code from messages of these agents."""
    supported_languages: list[str] | None = None
    """Code block languages that run; default: python and sh."""
    max_retries_on_error: int = Field(default=0, ge=0)
    """With a model: rewrite and rerun failing code this many times."""
    model_client_stream: bool = False
    """Stream the model's tokens."""


class PerSourceFilterOptions(BaseModel):
    """Which of one source's messages a filtered agent sees."""

    model_config = _STRICT

    source: str
    """The agent (or ``user``) whose messages are kept."""
    position: Literal["first", "last"] | None = None
    """Keep the first or last ``count`` messages; unset: all."""
    count: int | None = Field(default=None, ge=1)
    """How many messages to keep."""


class MessageFilterAgentOptions(BaseModel):
    """Options of :class:`salon_agentchat.agents.MessageFilterAgent`."""

    model_config = _STRICT

    name: str | None = None
    """The agent's name; default: its key under ``agents:``."""
    wrapped_agent: Annotated[str, Ref("agent")]
    """The agent that answers, given only the filtered messages."""
    per_source: list[PerSourceFilterOptions]
    """Which messages of which sources the wrapped agent sees."""
