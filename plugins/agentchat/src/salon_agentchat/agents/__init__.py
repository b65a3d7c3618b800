"""Chat agents: the port of ``autogen_agentchat.agents``.

Each agent lives in its own module and is imported on first use, so importing one agent does not pay
for the others (``CodeExecutorAgent`` and ``Console`` users should not import the assistant's tool loop).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._assistant_agent import AssistantAgent
    from ._base_chat_agent import BaseChatAgent
    from ._code_executor_agent import ApprovalFuncType, ApprovalRequest, ApprovalResponse, CodeExecutorAgent
    from ._message_filter_agent import MessageFilterAgent, MessageFilterConfig, PerSourceFilter
    from ._society_of_mind_agent import SocietyOfMindAgent
    from ._user_proxy_agent import UserProxyAgent

__all__ = [
    "ApprovalFuncType",
    "ApprovalRequest",
    "ApprovalResponse",
    "AssistantAgent",
    "BaseChatAgent",
    "CodeExecutorAgent",
    "MessageFilterAgent",
    "MessageFilterConfig",
    "PerSourceFilter",
    "SocietyOfMindAgent",
    "UserProxyAgent",
]

_LAZY: dict[str, str] = {
    "AssistantAgent": "._assistant_agent",
    "BaseChatAgent": "._base_chat_agent",
    "ApprovalFuncType": "._code_executor_agent",
    "ApprovalRequest": "._code_executor_agent",
    "ApprovalResponse": "._code_executor_agent",
    "CodeExecutorAgent": "._code_executor_agent",
    "MessageFilterAgent": "._message_filter_agent",
    "MessageFilterConfig": "._message_filter_agent",
    "PerSourceFilter": "._message_filter_agent",
    "SocietyOfMindAgent": "._society_of_mind_agent",
    "UserProxyAgent": "._user_proxy_agent",
}


def __getattr__(name: str) -> Any:
    """Import an agent's module the first time one of its names is used."""
    try:
        module = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
