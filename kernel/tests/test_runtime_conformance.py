"""The runtime conformance suite, run on the in-process ``SingleThreadedAgentRuntime``."""

from __future__ import annotations

from collections.abc import Sequence

from salon import InterventionHandler, SingleThreadedAgentRuntime
from salon.testing import RuntimeConformanceSuite


class TestSingleThreadedAgentRuntime(RuntimeConformanceSuite):
    async def make_runtime(
        self,
        *,
        intervention_handlers: Sequence[InterventionHandler] = (),
        ignore_unhandled_exceptions: bool = True,
    ) -> SingleThreadedAgentRuntime:
        return SingleThreadedAgentRuntime(
            intervention_handlers=list(intervention_handlers),
            ignore_unhandled_exceptions=ignore_unhandled_exceptions,
        )
