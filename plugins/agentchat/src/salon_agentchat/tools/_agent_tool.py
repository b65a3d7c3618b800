"""AgentTool: a chat agent offered to another agent's model as a tool."""

from __future__ import annotations

from ..base import ChatAgent
from ._task_runner_tool import TaskRunnerTool

__all__ = ["AgentTool"]


class AgentTool(TaskRunnerTool):
    """Run a task on ``agent`` when a model calls this tool; the tool is named and described like the agent.

    The agent keeps its conversation between calls, so a second call continues where the first ended
    (reset it with ``await agent.on_reset(...)`` for a fresh start). Agents cannot run concurrently: give
    the calling model ``parallel_tool_calls=False`` when it might call the tool twice in one response.

    Args:
        agent: The agent that runs the tasks.
        return_value_as_last_message: Return only the agent's last message to the calling model, instead of
            every message the agent produced as ``"<source>: <text>"``.

    Example::

        writer = AssistantAgent("writer", model_client=client, description="Writes poems.")
        main = AssistantAgent("main", model_client=client, tools=[AgentTool(writer)])
        await main.run(task="Write a poem about the sea.")
    """

    def __init__(self, agent: ChatAgent, return_value_as_last_message: bool = False) -> None:
        self._agent = agent
        super().__init__(
            agent, agent.name, agent.description, return_value_as_last_message=return_value_as_last_message
        )

    @property
    def agent(self) -> ChatAgent:
        """The wrapped agent."""
        return self._agent
