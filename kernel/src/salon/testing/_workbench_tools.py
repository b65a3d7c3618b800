"""The tools every workbench under conformance test exposes, with behaviour the suite can predict."""

from __future__ import annotations

import asyncio
from typing import Annotated

from salon.tools import FunctionTool, Tool

__all__ = ["CONFORMANCE_TOOL_NAMES", "ConformanceToolError", "conformance_tools"]


class ConformanceToolError(RuntimeError):
    """What the ``fail`` conformance tool raises."""


def add(
    augend: Annotated[int, "The number to add to"],
    addend: Annotated[int, "The number to add"],
) -> int:
    """Add two integers (sync: runs in a thread)."""
    return augend + addend


async def echo(text: Annotated[str, "The text to send back"]) -> str:
    """Return the text unchanged (async)."""
    return text


def greet(name: Annotated[str, "Who to greet"], punctuation: Annotated[str, "How to end"] = "!") -> str:
    """``Hello, <name><punctuation>``: one required and one optional argument."""
    return f"Hello, {name}{punctuation}"


def ping() -> str:
    """No arguments; returns ``pong``."""
    return "pong"


def fail(reason: Annotated[str, "Why the tool fails"]) -> str:
    """Always raise :class:`ConformanceToolError` with ``reason``."""
    raise ConformanceToolError(reason)


async def wait(seconds: Annotated[float, "How long to wait"]) -> str:
    """Sleep ``seconds`` without blocking the event loop, then return ``done``."""
    await asyncio.sleep(seconds)
    return "done"


CONFORMANCE_TOOL_NAMES = ("add", "echo", "greet", "ping", "fail", "wait")
"""The names :func:`conformance_tools` returns, in order."""


def conformance_tools() -> list[Tool]:
    """Return fresh instances of the conformance tools.

    A workbench under test must expose exactly these behaviours under these names (a workbench that
    cannot take Python tools, such as one backed by a remote server, must serve equivalents):

    - ``add(augend: int, addend: int) -> int``: the sum.
    - ``echo(text: str) -> str``: ``text``.
    - ``greet(name: str, punctuation: str = "!") -> str``: ``f"Hello, {name}{punctuation}"``.
    - ``ping() -> str``: ``"pong"``.
    - ``fail(reason: str)``: raises an error whose message is ``reason``.
    - ``wait(seconds: float) -> str``: sleeps, then ``"done"``.
    """
    return [
        FunctionTool(add, description="Add two integers."),
        FunctionTool(echo, description="Send the text back unchanged."),
        FunctionTool(greet, description="Greet someone."),
        FunctionTool(ping, description="Answer pong."),
        FunctionTool(fail, description="Fail with the given reason."),
        FunctionTool(wait, description="Wait for a number of seconds."),
    ]
