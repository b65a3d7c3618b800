"""The messages a group chat's manager and participant containers exchange through the runtime.

Every one is a pydantic model, so a team works on any runtime, including one that spreads the manager and
the containers over several processes: the team registers a JSON serializer for each of them (see
:data:`GROUP_CHAT_EVENT_TYPES`). Names and fields are AutoGen 0.7.5's, so managers written for AutoGen port
unchanged.
"""

from __future__ import annotations

import sys
import traceback
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, PrivateAttr

from salon.exceptions import RemoteException

from ..messages import StopMessage
from ._wire import AnyMessageField, ChatMessageField, ResponseField, TaskResultField, chat_messages_from_data

__all__ = [
    "GROUP_CHAT_EVENT_TYPES",
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
    "SerializableException",
]


class SerializableException(BaseModel):
    """An exception as data, so that an agent's failure can travel to the caller of ``run()``.

    In the process where it was raised the original exception object rides along (not serialized), and
    :meth:`to_exception` gives it back, type and traceback intact: AutoGen turns every failure into a bare
    ``RuntimeError``; Salon does that in no case. After a trip through JSON the type is rebuilt when its class
    is already imported here and accepts a message argument, else the error arrives as
    :class:`~salon.exceptions.RemoteException` carrying the type name and the remote traceback.
    """

    error_type: str
    """The exception's class name (AutoGen's field)."""

    error_message: str
    """``str(exception)``."""

    traceback: str | None = None
    """The formatted traceback, where it was raised."""

    error_module: str | None = None
    """The module of the exception's class (Salon addition; lets the type be rebuilt in another process)."""

    _exception: BaseException | None = PrivateAttr(default=None)

    @classmethod
    def from_exception(cls, exc: BaseException) -> SerializableException:
        """Describe ``exc`` and keep the object itself for callers in this process."""
        error = cls(
            error_type=type(exc).__name__,
            error_message=str(exc),
            traceback="".join(traceback.format_exception(type(exc), exc, exc.__traceback__)),
            error_module=type(exc).__module__,
        )
        error._exception = exc
        return error

    def to_exception(self) -> BaseException:
        """Return the original exception, or the best rebuild of it (see the class docstring)."""
        if self._exception is not None:
            return self._exception
        # Only classes already imported are considered: importing a module named by a message would let the
        # sender run code here.
        module = sys.modules.get(self.error_module or "builtins")
        cls = getattr(module, self.error_type, None) if module is not None else None
        if isinstance(cls, type) and issubclass(cls, Exception):
            try:
                rebuilt = cls(self.error_message)
            except Exception:
                pass
            else:
                if self.traceback:
                    rebuilt.add_note(f"Raised in another process:\n{self.traceback}")
                return rebuilt
        qualified = f"{self.error_module}.{self.error_type}" if self.error_module else self.error_type
        return RemoteException(qualified, self.error_message, self.traceback or "")

    def __str__(self) -> str:
        text = f"{self.error_type}: {self.error_message}"
        return f"{text}\nTraceback:\n{self.traceback}" if self.traceback else text


class GroupChatStart(BaseModel):
    """Starts (or continues) a run: sent to the manager, then relayed to every participant."""

    messages: Annotated[list[ChatMessageField] | None, BeforeValidator(chat_messages_from_data)] = None
    """The task's messages, if any."""

    output_task_messages: bool = True
    """Whether the task's messages appear in the run's output."""


class GroupChatAgentResponse(BaseModel):
    """A participant agent's response, published to the whole group."""

    response: ResponseField
    """What the agent answered."""

    name: str
    """The participant's name."""


class GroupChatTeamResponse(BaseModel):
    """A participant team's result, published to the whole group."""

    result: TaskResultField
    """What the inner team produced."""

    name: str
    """The participant's name."""


class GroupChatRequestPublish(BaseModel):
    """Asks one participant to speak: run its agent on the buffered messages and publish the response."""


class GroupChatMessage(BaseModel):
    """A message for the run's output stream (published on the team's output topic)."""

    message: AnyMessageField
    """The message or event to show."""


class GroupChatTermination(BaseModel):
    """Ends a run: the stop message, and the error when the run failed."""

    message: StopMessage
    """Why the run stopped."""

    error: SerializableException | None = None
    """The failure, if the run ended with one."""


class GroupChatReset(BaseModel):
    """Asks the manager or a participant to return to its initial state."""


class GroupChatPause(BaseModel):
    """Asks the manager or a participant to pause."""


class GroupChatResume(BaseModel):
    """Asks the manager or a participant to resume after a pause."""


class GroupChatError(BaseModel):
    """A participant failed; the manager ends the run with this error."""

    error: SerializableException
    """The failure."""


GROUP_CHAT_EVENT_TYPES: tuple[type[BaseModel], ...] = (
    GroupChatStart,
    GroupChatAgentResponse,
    GroupChatTeamResponse,
    GroupChatRequestPublish,
    GroupChatMessage,
    GroupChatTermination,
    GroupChatReset,
    GroupChatPause,
    GroupChatResume,
    GroupChatError,
)
"""Every event class a team sends or publishes; the team registers a serializer for each with its runtime."""
