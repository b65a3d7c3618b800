"""Agents and teams as tools (the port of ``autogen_agentchat.tools``).

Wrapping an agent in :class:`AgentTool` (or a team in :class:`TeamTool`) lets another agent's model
delegate a sub-task to it: the model calls the tool with a ``task``, the inner agent or team runs it, and
its messages stream into the outer agent's output while the result text goes back to the model.
"""

from ._agent_tool import AgentTool
from ._task_runner_tool import TaskRunnerTool, TaskRunnerToolArgs
from ._team_tool import TeamTool

__all__ = ["AgentTool", "TaskRunnerTool", "TaskRunnerToolArgs", "TeamTool"]
