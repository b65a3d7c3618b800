"""Config support for the chat agents: factories and registration (options live in ``_agent_options``).

This module is imported whenever plugins register, for every ``salon`` command, so it imports neither
pydantic nor the agents: both load when a config first uses an agent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from salon.hookspecs import Register

__all__ = ["register_agents"]


def _options(name: str) -> Any:
    def load() -> Any:
        from . import _agent_options

        return getattr(_agent_options, name)

    return load


def _make_assistant(**options: Any) -> Any:
    from .agents import AssistantAgent
    from .base import Handoff

    handoffs = options.pop("handoffs", None)
    if handoffs is not None:
        handoffs = [h if isinstance(h, str) else Handoff(**h.model_dump(exclude_none=True)) for h in handoffs]
    tools = options.pop("tools", None)
    return AssistantAgent(handoffs=handoffs, tools=tools, **options)


def _make_user_proxy(**options: Any) -> Any:
    from .agents import UserProxyAgent

    return UserProxyAgent(**options)


def _make_code_executor(**options: Any) -> Any:
    from .agents import CodeExecutorAgent

    return CodeExecutorAgent(**{key: value for key, value in options.items() if value is not None})


def _make_message_filter(**options: Any) -> Any:
    from .agents import MessageFilterAgent, MessageFilterConfig, PerSourceFilter

    per_source = [PerSourceFilter(**f.model_dump()) for f in options.pop("per_source")]
    return MessageFilterAgent(filter=MessageFilterConfig(per_source=per_source), **options)


def register_agents(register: Register) -> None:
    """Register ``assistant``, ``user_proxy``, ``code_executor`` and ``message_filter``."""
    register(
        "assistant",
        _make_assistant,
        options=_options("AssistantAgentOptions"),
        description="AssistantAgent: a model with tools, handoffs, memory and streaming.",
    )
    register(
        "user_proxy",
        _make_user_proxy,
        options=_options("UserProxyAgentOptions"),
        description="UserProxyAgent: a human at the terminal takes a turn.",
    )
    register(
        "code_executor",
        _make_code_executor,
        options=_options("CodeExecutorAgentOptions"),
        description="CodeExecutorAgent: runs code blocks (and, with a model, writes them).",
    )
    register(
        "message_filter",
        _make_message_filter,
        options=_options("MessageFilterAgentOptions"),
        description="MessageFilterAgent: shows the wrapped agent only some messages.",
    )
