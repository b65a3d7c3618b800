"""TaskRunnerTool: the common ground of :class:`AgentTool` and :class:`TeamTool`."""

from __future__ import annotations

from abc import ABC
from collections.abc import AsyncGenerator, Mapping
from typing import Any

from pydantic import BaseModel, Field

from salon import CancellationToken
from salon.tools import BaseStreamTool

from ..base import ChatAgent, TaskResult, Team
from ..messages import BaseAgentEvent, BaseChatMessage

__all__ = ["TaskRunnerTool", "TaskRunnerToolArgs"]


class TaskRunnerToolArgs(BaseModel):
    """The arguments a model passes to an agent or team tool."""

    task: str = Field(description="The task to be executed.")


class TaskRunnerTool(BaseStreamTool[TaskRunnerToolArgs, BaseAgentEvent | BaseChatMessage, TaskResult], ABC):
    """A tool that runs a task on an agent or a team and returns its :class:`~salon_agentchat.base.TaskResult`.

    As a stream tool it reports the inner run's messages while it runs; an :class:`AssistantAgent` passes
    them on to its own caller, so a console shows the nested conversation as it happens.

    The runner keeps its conversation between calls (a later call continues it) and is not safe to run
    twice at once: give the calling model ``parallel_tool_calls=False`` if it might call the tool in parallel.

    Args:
        task_runner: The agent or team that runs the tasks.
        name: The tool's name.
        description: What the tool does, which the model reads to decide when to call it.
        return_value_as_last_message: Give the model only the last message's text; otherwise every message
            the runner produced (not the task itself), each as ``"<source>: <text>"``, blank-line separated.
    """

    def __init__(
        self,
        task_runner: ChatAgent | Team,
        name: str,
        description: str,
        return_value_as_last_message: bool,
    ) -> None:
        self._task_runner = task_runner
        self._return_value_as_last_message = return_value_as_last_message
        super().__init__(
            args_type=TaskRunnerToolArgs,
            return_type=TaskResult,
            name=name,
            description=description,
            strict=True,
        )

    async def run(self, args: TaskRunnerToolArgs, cancellation_token: CancellationToken) -> TaskResult:
        """Run the task to its end and return the result."""
        return await self._task_runner.run(task=args.task, cancellation_token=cancellation_token)

    async def run_stream(
        self, args: TaskRunnerToolArgs, cancellation_token: CancellationToken
    ) -> AsyncGenerator[BaseAgentEvent | BaseChatMessage | TaskResult, None]:
        """Yield the run's messages and events as they come, then its :class:`TaskResult`."""
        async for item in self._task_runner.run_stream(task=args.task, cancellation_token=cancellation_token):
            yield item

    def return_value_as_string(self, value: Any) -> str:
        """Render a task result as the text the calling model reads (see ``return_value_as_last_message``).

        Raises:
            ValueError: ``return_value_as_last_message`` is set and the run did not end with a chat message.
        """
        if not isinstance(value, TaskResult):
            return super().return_value_as_string(value)
        if self._return_value_as_last_message:
            if value.messages and isinstance(value.messages[-1], BaseChatMessage):
                return value.messages[-1].to_model_text()
            last = type(value.messages[-1]).__name__ if value.messages else "nothing"
            raise ValueError(
                f"The last message is not a BaseChatMessage (the run of {self.name!r} ended with {last}), so "
                "there is no last message to return; use return_value_as_last_message=False."
            )
        parts = [
            f"{message.source}: {message.to_model_text()}"
            for message in value.messages
            if isinstance(message, BaseChatMessage) and message.source != "user"
        ]
        return "\n\n".join(parts)

    async def save_state_json(self) -> Mapping[str, Any]:
        """Return the runner's state (its conversation), so a workbench can save it with the agent."""
        return await self._task_runner.save_state()

    async def load_state_json(self, state: Mapping[str, Any]) -> None:
        """Restore the runner's state from :meth:`save_state_json`."""
        await self._task_runner.load_state(state)
