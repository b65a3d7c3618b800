"""Running a task: the interface agents and teams share, and the result it returns."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from typing import Protocol

from pydantic import BaseModel, SerializeAsAny

from salon import CancellationToken

from ..messages import BaseAgentEvent, BaseChatMessage

__all__ = ["TaskResult", "TaskRunner"]


class TaskResult(BaseModel):
    """What a run produced: its messages in order, and why it stopped."""

    messages: Sequence[SerializeAsAny[BaseAgentEvent | BaseChatMessage]]
    """The messages and events of the run (the task's own messages too, unless left out)."""

    stop_reason: str | None = None
    """Why the run ended (a termination condition's message), or None when it was not stopped by one."""


class TaskRunner(Protocol):
    """Something that runs a task: a chat agent or a team.

    Runners keep their state between runs: a later run continues the conversation, and a run without
    a task continues the current one.
    """

    async def run(
        self,
        *,
        task: str | BaseChatMessage | Sequence[BaseChatMessage] | None = None,
        cancellation_token: CancellationToken | None = None,
        output_task_messages: bool = True,
    ) -> TaskResult:
        """Run to the end and return the result.

        Args:
            task: Text (sent as a ``TextMessage`` from ``"user"``), a message, a non-empty list of
                messages, or None to continue.
            cancellation_token: Cancels the run at once.
            output_task_messages: Include the task's messages in :attr:`TaskResult.messages`.
        """
        ...

    def run_stream(
        self,
        *,
        task: str | BaseChatMessage | Sequence[BaseChatMessage] | None = None,
        cancellation_token: CancellationToken | None = None,
        output_task_messages: bool = True,
    ) -> AsyncGenerator[BaseAgentEvent | BaseChatMessage | TaskResult, None]:
        """Run, yielding each message as it is produced and the :class:`TaskResult` last.

        Arguments as for :meth:`run`; ``output_task_messages`` decides whether the task's messages are
        yielded.
        """
        ...
