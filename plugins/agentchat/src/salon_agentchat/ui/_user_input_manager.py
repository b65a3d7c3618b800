"""UserInputManager: keeps a person's prompt from appearing before the messages it answers.

A team's messages reach the console through a queue, so a :class:`~salon_agentchat.agents.UserProxyAgent`
can call its input function while the console is still printing what came before; the prompt would
then be buried in the output. The manager makes the input function wait until the console has
rendered everything up to the agent's :class:`~salon_agentchat.messages.UserInputRequestedEvent`.
"""

from __future__ import annotations

import asyncio
from typing import cast

from salon import CancellationToken

from ..agents._user_proxy_agent import (
    AsyncInputFunc,
    InputFuncType,
    SyncInputFunc,
    UserProxyAgent,
    call_in_daemon_thread,
    is_async_input_func,
)

__all__ = ["UserInputManager"]


class UserInputManager:
    """Pairs a console with the input function of the :class:`~salon_agentchat.agents.UserProxyAgent` s it shows.

    Give the agent :meth:`get_wrapped_callback` as its ``input_func`` and give the manager to
    :func:`~salon_agentchat.ui.Console` as ``user_input_manager``.

    Args:
        callback: The real input function, sync (``func(prompt) -> str``, run in a thread) or async
            (``async func(prompt, cancellation_token) -> str``).

    Example::

        manager = UserInputManager(callback=input)
        user = UserProxyAgent("user", input_func=manager.get_wrapped_callback())
        team = RoundRobinGroupChat([assistant, user], max_turns=4)
        await Console(team.run_stream(task="Plan a trip."), user_input_manager=manager)
    """

    def __init__(self, callback: InputFuncType) -> None:
        if not callable(callback):
            raise TypeError(f"callback must be an input function, got {type(callback).__name__}.")
        self.input_events: dict[str, asyncio.Event] = {}
        """One event per pending request id, set once the console has shown the request."""
        self.callback = callback

    def _event(self, request_id: str) -> asyncio.Event:
        event = self.input_events.get(request_id)
        if event is None:
            event = self.input_events[request_id] = asyncio.Event()
        return event

    def get_wrapped_callback(self) -> AsyncInputFunc:
        """An input function for a :class:`~salon_agentchat.agents.UserProxyAgent` that waits for the console."""

        async def wait_then_ask(prompt: str, cancellation_token: CancellationToken | None) -> str:
            request_id = UserProxyAgent.InputRequestContext.request_id()
            try:
                await self._event(request_id).wait()
            finally:
                self.input_events.pop(request_id, None)
            if is_async_input_func(self.callback):
                return await cast(AsyncInputFunc, self.callback)(prompt, cancellation_token)
            return await call_in_daemon_thread(cast(SyncInputFunc, self.callback), prompt)

        return wait_then_ask

    def notify_event_received(self, request_id: str) -> None:
        """Let the request ``request_id`` proceed: the console has shown everything before it.

        The console may get here first, before the input function starts waiting; the request then
        proceeds as soon as it does (AutoGen 0.7.5 left it waiting forever in that order).
        """
        self._event(request_id).set()
