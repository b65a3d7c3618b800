"""The runtime conformance suite: one class that gathers every runtime conformance test."""

from __future__ import annotations

from collections.abc import Mapping
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
    By default the suite's agents run in the test's process. A distributed runtime can also run the
    tests named in ``cross_process_tests`` (all but ``single_process_tests``) with the agents in another
    OS process: override the hooks of :class:`~salon.testing.RuntimeHarness` (:meth:`host_agent` and its
    siblings register the named suite classes in a worker process with a recorder that writes to
    storage both processes share, :meth:`collect` reads it back, :meth:`open_gate`,
    :meth:`runtime_stats`, :meth:`capture_logs` and the state hooks reach the worker), and switch
    ``single_process_tests`` off in that subclass (``salon_redis``'s tests do this).

    Attributes:
        single_process_tests: The tests that only hold when the agents live in the test's process, each
            with the reason: they compare or inspect objects of the test's process (the runtime object a
            factory sees, an agent object, the handler's ``asyncio.Task``, a future of the test's loop),
            or need what a distributed runtime does only where the agent lives (named in the reason).
        cross_process_tests: Every other test of the suite.
    """

    pytestmark: ClassVar[list[pytest.MarkDecorator]] = [pytest.mark.asyncio]
    cross_process_tests: ClassVar[frozenset[str]]  # set below the class: every test not in single_process_tests

    single_process_tests: ClassVar[Mapping[str, str]] = {
        "test_factory_runs_inside_instantiation_context": (
            "asserts that the factory sees the very runtime object the test made (`is`) and reads the agent object"
        ),
        "test_register_agent_instance": (
            "registers an agent object the test built and checks that the runtime hands back that object"
        ),
        "test_try_get_underlying_agent_instance": (
            "returns the agent object itself, which only exists in the process that hosts the agent"
        ),
        "test_handlers_may_first_wait_on_the_same_future": (
            "the handlers await a future of the test's event loop, which no other process can await"
        ),
        "test_a_finished_handlers_task_is_done_and_cancelling_it_changes_nothing": (
            "inspects and cancels the handler's asyncio.Task object from the test's coroutine"
        ),
    }


RuntimeConformanceSuite.cross_process_tests = frozenset(
    name
    for name in dir(RuntimeConformanceSuite)
    if name.startswith("test_") and name not in RuntimeConformanceSuite.single_process_tests
)
