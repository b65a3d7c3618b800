"""The base contracts of AgentChat (the port of ``autogen_agentchat.base``): agents, teams, tasks, termination."""

from __future__ import annotations

from ._chat_agent import ChatAgent, Response
from ._handoff import Handoff
from ._task import TaskResult, TaskRunner
from ._team import Team
from ._termination import AndTerminationCondition, OrTerminationCondition, TerminatedException, TerminationCondition

__all__ = [
    "AndTerminationCondition",
    "ChatAgent",
    "Handoff",
    "OrTerminationCondition",
    "Response",
    "TaskResult",
    "TaskRunner",
    "Team",
    "TerminatedException",
    "TerminationCondition",
]
