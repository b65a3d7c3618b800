"""UserProxyAgent: a person taking a turn in a team, through an input function.

A team that reaches a person waits for them, possibly for a long time, so the wait has to be cheap to
abandon: cancelling the turn's token ends it at once, even when the input function itself (``input``
in a thread, a web form) cannot be interrupted.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import inspect
import threading
import uuid
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import ClassVar, TypeAlias, cast

from salon import CancellationToken

from ..base import Response
from ..messages import BaseAgentEvent, BaseChatMessage, HandoffMessage, TextMessage, UserInputRequestedEvent
from ._base_chat_agent import BaseChatAgent

__all__ = ["AsyncInputFunc", "InputFuncType", "SyncInputFunc", "UserProxyAgent"]

SyncInputFunc: TypeAlias = Callable[[str], str]
"""An input function that blocks until the person answers (``input`` is one); it runs in a thread."""

AsyncInputFunc: TypeAlias = Callable[[str, CancellationToken | None], Awaitable[str]]
"""An input function that awaits the answer; it also receives the turn's cancellation token."""

InputFuncType: TypeAlias = SyncInputFunc | AsyncInputFunc
"""Either kind of input function; :class:`UserProxyAgent` tells them apart by whether it is a coroutine function."""


def is_async_input_func(func: InputFuncType) -> bool:
    """Whether ``func`` must be awaited (a coroutine function, or an object whose ``__call__`` is one)."""
    return inspect.iscoroutinefunction(func) or inspect.iscoroutinefunction(getattr(func, "__call__", None))  # noqa: B004


async def call_in_daemon_thread(func: SyncInputFunc, prompt: str) -> str:
    """Run a blocking input function in a daemon thread and await its answer.

    Not the event loop's default executor: a person who never answers would keep ``input()`` blocked in
    an executor thread, and ``asyncio.run`` waits for those threads at exit, so the program could not
    end. A daemon thread is simply left behind. The caller's context variables are copied into the
    thread, so :meth:`UserProxyAgent.InputRequestContext.request_id` works inside ``func``.
    """
    loop = asyncio.get_running_loop()
    answer: asyncio.Future[str] = loop.create_future()
    context = contextvars.copy_context()

    def settle(result: str | None, error: BaseException | None) -> None:
        if answer.done():  # the wait was cancelled meanwhile
            return
        if error is not None:
            answer.set_exception(error)
        else:
            answer.set_result(cast(str, result))

    def work() -> None:
        try:
            result, error = context.run(func, prompt), None
        except BaseException as exc:  # handed to the awaiting coroutine, whatever it is
            result, error = None, exc
        # The loop may have closed while the person was typing; then nobody is waiting any more.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(settle, result, error)

    threading.Thread(target=work, name="salon-user-input", daemon=True).start()
    return await answer


async def wait_cancellably(awaitable: Awaitable[str], cancellation_token: CancellationToken | None) -> str:
    """Await ``awaitable`` as a task that ``cancellation_token`` cancels (raising :class:`asyncio.CancelledError`)."""
    task = asyncio.ensure_future(awaitable)
    if cancellation_token is not None:
        cancellation_token.link_future(task)
    return await task


class UserProxyAgent(BaseChatAgent):
    """An agent whose replies come from a person, through an input function.

    Each turn yields a :class:`~salon_agentchat.messages.UserInputRequestedEvent` first (so a UI such as
    :func:`~salon_agentchat.ui.Console` can finish rendering before the prompt appears), then asks the
    input function and replies with what the person typed, as a
    :class:`~salon_agentchat.messages.TextMessage`. When the newest incoming message is a
    :class:`~salon_agentchat.messages.HandoffMessage` to this agent, the reply is a handoff back to its
    sender instead, so a :class:`~salon_teams.Swarm` returns control to the agent that asked.

    While the agent waits, the whole team waits. Cancelling the turn's token ends the wait at once with
    :class:`asyncio.CancelledError`, whichever kind of input function is used; for long human delays,
    prefer stopping the team with a ``HandoffTermination`` and running it again with the answer.

    Args:
        name: The agent's name (a Python identifier, unique in its team).
        description: What the agent is, for selectors choosing the next speaker.
        input_func: ``func(prompt) -> str`` (run in a thread) or
            ``async func(prompt, cancellation_token) -> str``. Defaults to the built-in :func:`input`.

    Example::

        agent = UserProxyAgent("user", input_func=lambda prompt: "yes")
        response = await agent.on_messages([TextMessage(content="Ship it?", source="bot")], CancellationToken())
        assert response.chat_message.to_text() == "yes"
    """

    class InputRequestContext:
        """Which input request is being answered, readable from inside an input function.

        :class:`~salon_agentchat.ui.UserInputManager` uses the id to wait until the console has shown
        the :class:`~salon_agentchat.messages.UserInputRequestedEvent` with the same ``request_id``.
        """

        _REQUEST_ID: ClassVar[ContextVar[str]] = ContextVar("salon_user_input_request_id")

        def __init__(self) -> None:
            raise TypeError("UserProxyAgent.InputRequestContext is not instantiated: call its class methods.")

        @classmethod
        @contextmanager
        def populate_context(cls, request_id: str) -> Generator[None, None, None]:
            """Make ``request_id`` the current request for the duration of the ``with`` block.

            :meta private:
            """
            token = cls._REQUEST_ID.set(request_id)
            try:
                yield
            finally:
                cls._REQUEST_ID.reset(token)

        @classmethod
        def request_id(cls) -> str:
            """The id of the request the running input function answers.

            Raises:
                RuntimeError: Called outside a :class:`UserProxyAgent`'s input function.
            """
            try:
                return cls._REQUEST_ID.get()
            except LookupError:
                raise RuntimeError(
                    "UserProxyAgent.InputRequestContext.request_id() only works inside the input function "
                    "of a UserProxyAgent, while it answers a request."
                ) from None

    def __init__(
        self,
        name: str,
        *,
        description: str = "A human user",
        input_func: InputFuncType | None = None,
    ) -> None:
        super().__init__(name=name, description=description)
        if input_func is not None and not callable(input_func):
            raise TypeError(
                f"input_func must be a function taking the prompt (sync) or the prompt and a cancellation "
                f"token (async), got {type(input_func).__name__}."
            )
        self.input_func: InputFuncType = input_func if input_func is not None else input
        self._is_async = is_async_input_func(self.input_func)

    @property
    def produced_message_types(self) -> Sequence[type[BaseChatMessage]]:
        """A plain reply, or a handoff back when the agent was handed the conversation."""
        return (TextMessage, HandoffMessage)

    def _handoff_to_answer(self, messages: Sequence[BaseChatMessage]) -> HandoffMessage | None:
        """The handoff addressed to this agent, when it is the newest message."""
        if not messages or not isinstance(messages[-1], HandoffMessage):
            return None
        handoff = messages[-1]
        if handoff.target != self.name:
            raise RuntimeError(
                f"The newest message is a handoff from {handoff.source!r} to {handoff.target!r}, but it was "
                f"delivered to {self.name!r}: a team should only hand a handoff to its target."
            )
        return handoff

    async def _get_input(self, prompt: str, cancellation_token: CancellationToken | None) -> str:
        """Ask the input function, wrapping its failures so that the team reports them as input errors."""
        try:
            if self._is_async:
                asking = cast(AsyncInputFunc, self.input_func)(prompt, cancellation_token)
            else:
                asking = call_in_daemon_thread(cast(SyncInputFunc, self.input_func), prompt)
            answer = await wait_cancellably(asking, cancellation_token)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            raise RuntimeError(f"Failed to get user input: {exc}") from exc
        if not isinstance(answer, str):
            raise RuntimeError(
                f"Failed to get user input: the input function returned {type(answer).__name__}, not str."
            )
        return answer

    async def on_messages(self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken) -> Response:
        """Ask the person and return their reply (see :meth:`on_messages_stream`)."""
        async for item in self.on_messages_stream(messages, cancellation_token):
            if isinstance(item, Response):
                return item
        raise AssertionError("UserProxyAgent.on_messages_stream ended without a Response.")

    async def on_messages_stream(
        self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken
    ) -> AsyncGenerator[BaseAgentEvent | BaseChatMessage | Response, None]:
        """Announce the input request, wait for the person, and reply with their answer."""
        try:
            handoff = self._handoff_to_answer(messages)
        except RuntimeError as exc:
            raise RuntimeError(f"Failed to get user input: {exc}") from exc
        if handoff is not None:
            prompt = f"Handoff received from {handoff.source}. Enter your response: "
        else:
            prompt = "Enter your response: "
        request_id = str(uuid.uuid4())
        yield UserInputRequestedEvent(request_id=request_id, source=self.name)
        with UserProxyAgent.InputRequestContext.populate_context(request_id):
            answer = await self._get_input(prompt, cancellation_token)
        reply: BaseChatMessage
        if handoff is not None:
            reply = HandoffMessage(content=answer, target=handoff.source, source=self.name)
        else:
            reply = TextMessage(content=answer, source=self.name)
        yield Response(chat_message=reply)

    async def on_reset(self, cancellation_token: CancellationToken | None = None) -> None:
        """Nothing to forget: the agent keeps no history."""
