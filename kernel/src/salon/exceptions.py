"""Exceptions raised by runtimes and agents."""

from __future__ import annotations

__all__ = [
    "CantHandleException",
    "UndeliverableException",
    "MessageDroppedException",
    "NotAccessibleError",
    "GeneralRuntimeError",
    "RemoteException",
]


class CantHandleException(Exception):
    """The receiving agent has no handler for this message (or this kind of delivery)."""


class UndeliverableException(Exception):
    """The message could not be delivered to its recipient."""


class MessageDroppedException(Exception):
    """An intervention handler dropped the message before it reached its recipient."""


class NotAccessibleError(Exception):
    """The requested value (for example an agent instance in another process) cannot be accessed from here."""


class GeneralRuntimeError(Exception):
    """An error raised by the runtime itself rather than by an agent."""


class RemoteException(Exception):
    """An error raised by a handler in another process whose type cannot be rebuilt here.

    Attributes:
        type_name: The fully qualified name of the original exception type.
        remote_traceback: The formatted traceback from the other process.
    """

    def __init__(self, type_name: str, message: str, remote_traceback: str = "") -> None:
        super().__init__(f"{type_name}: {message}")
        self.type_name = type_name
        self.remote_traceback = remote_traceback
