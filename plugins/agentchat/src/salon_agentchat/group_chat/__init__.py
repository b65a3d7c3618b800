"""The team base of AgentChat: the port of ``autogen_agentchat.teams._group_chat``'s shared parts.

Team strategies (``salon_teams``: round robin, selector, swarm, graph flow, Magentic-One, and third-party
ones) build on these classes as AutoGen's do on theirs: subclass :class:`BaseGroupChatManager` (implement
``select_speaker`` and ``validate_group_state``; ``reset``, ``save_state`` and ``load_state`` when the
strategy keeps state) and :class:`BaseGroupChat` (name the manager class). The shared parts AutoGen makes
every strategy write (the manager factory, the common half of ``reset``) have defaults here, with small
hooks for what differs (``_manager_options``, ``_reset_strategy_state``); AutoGen's way of overriding
``_create_group_chat_manager_factory`` and ``reset`` works as well.
"""

from __future__ import annotations

from ._base_group_chat import BaseGroupChat
from ._base_group_chat_manager import BaseGroupChatManager, OutputQueue
from ._chat_agent_container import ChatAgentContainer
from ._events import (
    GROUP_CHAT_EVENT_TYPES,
    GroupChatAgentResponse,
    GroupChatError,
    GroupChatMessage,
    GroupChatPause,
    GroupChatRequestPublish,
    GroupChatReset,
    GroupChatResume,
    GroupChatStart,
    GroupChatTeamResponse,
    GroupChatTermination,
    SerializableException,
)
from ._sequential_routed_agent import FIFOLock, SequentialRoutedAgent

__all__ = [
    "GROUP_CHAT_EVENT_TYPES",
    "BaseGroupChat",
    "BaseGroupChatManager",
    "ChatAgentContainer",
    "FIFOLock",
    "GroupChatAgentResponse",
    "GroupChatError",
    "GroupChatMessage",
    "GroupChatPause",
    "GroupChatRequestPublish",
    "GroupChatReset",
    "GroupChatResume",
    "GroupChatStart",
    "GroupChatTeamResponse",
    "GroupChatTermination",
    "OutputQueue",
    "SequentialRoutedAgent",
    "SerializableException",
]
