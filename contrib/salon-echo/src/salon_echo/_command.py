"""``salon echo TEXT``: the command this plugin adds to the ``salon`` command line."""

from __future__ import annotations

import asyncio

from salon import AgentId, SingleThreadedAgentRuntime

from ._agent import EchoAgent

__all__ = ["main", "echo_once"]


async def echo_once(text: str, *, prefix: str = "echo: ") -> str:
    """Send ``text`` to an :class:`EchoAgent` on a new in-process runtime and return the answer.

    This is the whole life of a runtime in a few lines: register a type, start, send, stop.
    """
    runtime = SingleThreadedAgentRuntime()
    await EchoAgent.register(runtime, "echo", lambda: EchoAgent(prefix=prefix))
    runtime.start()
    try:
        answer = await runtime.send_message(text, AgentId("echo", "default"))
    finally:
        await runtime.stop()
    return str(answer)


def main(*, text: str, prefix: str = "echo: ") -> int:
    """Print the echo agent's answer to ``text``; returns the exit status."""
    print(asyncio.run(echo_once(text, prefix=prefix)))
    return 0
