"""The runtime conformance suite: one class that gathers every runtime conformance test."""

from __future__ import annotations

from typing import ClassVar

import pytest

from ._conformance_delivery import DeliveryConformance
from ._conformance_handler_tasks import HandlerTaskConformance
from ._conformance_handlers import HandlerConformance
from ._conformance_interventions import InterventionConformance
from ._conformance_lifecycle import LifecycleConformance
from ._conformance_robustness import RobustnessConformance
from ._conformance_scheduling import SchedulingConformance

__all__ = ["RuntimeConformanceSuite"]


class RuntimeConformanceSuite(
    DeliveryConformance,
    HandlerConformance,
    LifecycleConformance,
    InterventionConformance,
    SchedulingConformance,
    HandlerTaskConformance,
    RobustnessConformance,
):
    """The behaviour every :class:`~salon.AgentRuntime` must show, as pytest tests.

    It pins down AutoGen 0.7's runtime semantics plus Salon's deliberate differences (DESIGN.md §5):
    each publish reaches a matching agent once, handler choice by MRO then declaration order,
    ``CantHandleException`` for an RPC nobody handles, drops never block idleness, opt-in sequential
    agents, state that includes run-time subscriptions and queued messages, and the scheduling rules
    (no recursion, FIFO dispatch, waiting handlers never block others, caller cancellation reaches the
    handler, ``asyncio.current_task()`` is the handler's own).

    How a runtime author uses it: subclass it in a test module whose name pytest collects, name the
    subclass ``Test...``, and override :meth:`make_runtime` to return a new, isolated, not yet started
    runtime::

        # tests/test_conformance.py
        from salon.testing import RuntimeConformanceSuite

        class TestMyRuntime(RuntimeConformanceSuite):
            async def make_runtime(self, *, intervention_handlers=(), ignore_unhandled_exceptions=True):
                return MyRuntime(
                    url=..., namespace=unique_name(),
                    intervention_handlers=list(intervention_handlers),
                    ignore_unhandled_exceptions=ignore_unhandled_exceptions,
                )

    Every runtime the tests make is disposed of with :meth:`dispose_runtime` (``close()`` by default;
    override it to also delete server-side data). Raise the class attribute ``timeout`` for slow
    back ends. The tests need ``pytest`` and ``pytest-asyncio`` (any mode: the suite marks its tests
    itself). A test that does not apply to a runtime can be switched off in the subclass with
    ``test_name = None`` — say why in a comment, and never hide a real bug that way.

    Each test bounds every wait, so a runtime that hangs fails the test instead of stalling the run.
    The suite's agents record into in-memory objects, so by default they run in the test's process. A
    distributed runtime can also run the tests named in ``cross_process_tests`` with the agents in
    another OS process: override :meth:`host_agent` (register the named suite class in a worker process,
    with a recorder that writes to storage both processes share) and :meth:`collect` (read it back), and
    switch the other tests off in that subclass (``salon_redis``'s tests do this).
    """

    pytestmark: ClassVar[list[pytest.MarkDecorator]] = [pytest.mark.asyncio]
