"""TeamTool: a whole team offered to an agent's model as one tool."""

from __future__ import annotations

from ..base import Team
from ._task_runner_tool import TaskRunnerTool

__all__ = ["TeamTool"]


class TeamTool(TaskRunnerTool):
    """Run a task on ``team`` when a model calls this tool.

    The team keeps its conversation between calls; a run ends when the team's termination condition
    fires, so give the team one. Teams cannot run concurrently: give the calling model
    ``parallel_tool_calls=False`` when it might call the tool twice in one response.

    Args:
        team: The team that runs the tasks (a ``RoundRobinGroupChat`` from ``salon_teams``, for example).
        name: The tool's name.
        description: What the team does, which the calling model reads.
        return_value_as_last_message: Return only the team's last message to the calling model, instead of
            every message the team produced as ``"<source>: <text>"``.

    Example::

        team = RoundRobinGroupChat([writer, reviewer], termination_condition=MaxMessageTermination(3))
        tool = TeamTool(team, name="writing_team", description="Writes and reviews texts.")
        main = AssistantAgent("main", model_client=client, tools=[tool])
    """

    def __init__(self, team: Team, name: str, description: str, return_value_as_last_message: bool = False) -> None:
        self._team = team
        super().__init__(team, name, description, return_value_as_last_message=return_value_as_last_message)

    @property
    def team(self) -> Team:
        """The wrapped team."""
        return self._team
