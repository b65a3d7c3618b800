"""Control messages to every agent of a team: reset, pause and resume.

Each goes to every participant's container and then to the manager, directly, through the runtime; when
the team runs on its own runtime and no run is in progress, that runtime is started just for the
delivery. Kept apart from the run loop, which these calls must work without.
"""

from __future__ import annotations

from typing import Any

from salon import AgentId, SingleThreadedAgentRuntime

from ._events import GroupChatPause, GroupChatReset, GroupChatResume
from ._group_chat_setup import GroupChatSetup

__all__ = ["GroupChatControl"]


class GroupChatControl(GroupChatSetup):
    """The part of :class:`~salon_agentchat.group_chat.BaseGroupChat` that resets, pauses and resumes the team."""

    async def _call_all(self, message: Any) -> None:
        """Send ``message`` to every participant container, then to the manager."""
        for agent_type in self._participant_topic_types:
            await self._runtime.send_message(message, recipient=AgentId(agent_type, self._team_id))
        await self._runtime.send_message(message, recipient=self._manager_id)

    async def _with_runtime(self, message: Any) -> None:
        """Deliver a control message, starting the embedded runtime for it when no run is in progress."""
        runtime = self._runtime
        if not self._embedded_runtime or self._is_running:
            await self._call_all(message)
            return
        assert isinstance(runtime, SingleThreadedAgentRuntime)
        runtime.start()
        try:
            await self._call_all(message)
        finally:
            await runtime.stop_when_idle()

    async def reset(self) -> None:
        """Return the team and its participants to their initial state (the team must not be running).

        Raises:
            RuntimeError: the team is running.
        """
        if self._is_running:
            raise RuntimeError(f"Team {self._name!r} is running; it must stop before it can be reset.")
        if not self._initialized:
            await self._init(self._runtime)
        self._is_running = True
        try:
            runtime = self._runtime
            if self._embedded_runtime:
                assert isinstance(runtime, SingleThreadedAgentRuntime)
                runtime.start()
                try:
                    await self._call_all(GroupChatReset())
                finally:
                    await runtime.stop_when_idle()
            else:
                await self._call_all(GroupChatReset())
        finally:
            while self._output_message_queue.qsize():
                self._output_message_queue.get_nowait()
            self._is_running = False

    async def pause(self) -> None:
        """Call ``on_pause`` on every participant (the run itself goes on; agents decide what pausing means).

        Raises:
            RuntimeError: the team has never run.
        """
        if not self._initialized:
            raise RuntimeError(f"Team {self._name!r} has not run yet; there is nothing to pause.")
        await self._with_runtime(GroupChatPause())

    async def resume(self) -> None:
        """Call ``on_resume`` on every participant.

        Raises:
            RuntimeError: the team has never run.
        """
        if not self._initialized:
            raise RuntimeError(f"Team {self._name!r} has not run yet; there is nothing to resume.")
        await self._with_runtime(GroupChatResume())
