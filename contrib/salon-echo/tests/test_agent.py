"""EchoAgent on a real runtime, with salon.testing's harness (bounded waits, runtime cleanup)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import pytest

from salon import AgentId, InterventionHandler, SingleThreadedAgentRuntime
from salon.exceptions import CantHandleException
from salon.testing import ConformanceRuntime, RuntimeHarness
from salon_echo import EchoAgent
from salon_echo._command import echo_once


class TestEchoAgent(RuntimeHarness):
    timeout: ClassVar[float] = 5.0

    async def make_runtime(
        self, *, intervention_handlers: Sequence[InterventionHandler] = (), ignore_unhandled_exceptions: bool = True
    ) -> ConformanceRuntime:
        return SingleThreadedAgentRuntime(
            intervention_handlers=list(intervention_handlers), ignore_unhandled_exceptions=ignore_unhandled_exceptions
        )

    async def test_answers_text_with_the_prefix(self, runtime: ConformanceRuntime) -> None:
        await EchoAgent.register(runtime, "echo", lambda: EchoAgent(prefix="> "))
        runtime.start()
        assert await self.within(runtime.send_message("hi", AgentId("echo", "default"))) == "> hi"
        assert await self.within(runtime.send_message("", AgentId("echo", "other"))) == "> "

    async def test_default_prefix(self, runtime: ConformanceRuntime) -> None:
        await EchoAgent.register(runtime, "echo", lambda: EchoAgent())
        runtime.start()
        assert await self.within(runtime.send_message("hi", AgentId("echo", "default"))) == "echo: hi"

    async def test_refuses_what_is_not_text(self, runtime: ConformanceRuntime) -> None:
        await EchoAgent.register(runtime, "echo", lambda: EchoAgent())
        runtime.start()
        with pytest.raises(CantHandleException):
            await self.within(runtime.send_message(42, AgentId("echo", "default")))


async def test_echo_once_runs_a_whole_runtime() -> None:
    assert await echo_once("ping", prefix="") == "ping"
