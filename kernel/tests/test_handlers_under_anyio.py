"""Handlers use anyio (as httpx, and so the model SDKs, do) while the runtime starts them eagerly.

anyio's cancel scopes remember the task they were entered in, read private fields of it, and cancel it
from timer callbacks. A handler started without a task of its own must still look like one task to anyio
from its first line to its last.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import anyio
import anyio.lowlevel

from salon import AgentId, MessageContext, RoutedAgent, SingleThreadedAgentRuntime, message_handler


@dataclass
class Probe:
    wait_first: bool


class AnyioUser(RoutedAgent):
    def __init__(self) -> None:
        super().__init__("uses anyio")

    @message_handler
    async def on_probe(self, message: Probe, ctx: MessageContext) -> list[str]:
        seen: list[str] = []
        if message.wait_first:
            await asyncio.sleep(0)
        with anyio.move_on_after(0.02) as scope:  # entered eagerly, cancelled from a timer later
            await anyio.sleep(5)
        seen.append("timed out" if scope.cancelled_caught else "slept")
        async with anyio.create_task_group() as group:
            group.start_soon(anyio.sleep, 0.01)
        seen.append("group done")
        with anyio.fail_after(1):
            await anyio.lowlevel.checkpoint()
        seen.append("fail_after exited")
        return seen


async def _ask(wait_first: bool) -> list[str]:
    runtime = SingleThreadedAgentRuntime()
    await AnyioUser.register(runtime, "anyio_user", AnyioUser)
    runtime.start()
    try:
        result: list[str] = await asyncio.wait_for(
            runtime.send_message(Probe(wait_first), AgentId("anyio_user", "k")), 5
        )
        return result
    finally:
        await asyncio.wait_for(runtime.stop_when_idle(), 5)


async def test_anyio_scopes_entered_before_the_first_wait() -> None:
    assert await _ask(wait_first=False) == ["timed out", "group done", "fail_after exited"]


async def test_anyio_scopes_entered_after_the_first_wait() -> None:
    assert await _ask(wait_first=True) == ["timed out", "group done", "fail_after exited"]
