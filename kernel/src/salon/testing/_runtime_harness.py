"""The fixtures and helpers every runtime conformance test uses, and the hooks an implementer overrides."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from functools import partial
from typing import Any, ClassVar, Protocol, TypeVar, runtime_checkable

import pytest
import pytest_asyncio

from salon import AgentRuntime, InterventionHandler

from ._runtime_agents import Recorder

__all__ = ["ConformanceRuntime", "RuntimeFactory", "RuntimeHarness", "RuntimeStatsView"]

T = TypeVar("T")


@runtime_checkable
class RuntimeStatsView(Protocol):
    """The part of ``runtime.stats()`` the suite reads: plain integer counters."""

    @property
    def live_agents(self) -> int:
        """Agent instances that exist now."""
        ...

    @property
    def queued_messages(self) -> int:
        """Envelopes accepted but not yet dispatched."""
        ...

    @property
    def in_flight_messages(self) -> int:
        """Deliveries whose handler has started and not finished."""
        ...

    @property
    def handled_messages(self) -> int:
        """Deliveries whose handler finished."""
        ...

    @property
    def failed_messages(self) -> int:
        """Deliveries whose handler (or the agent's factory) raised."""
        ...

    @property
    def registered_types(self) -> int:
        """Registered agent types."""
        ...

    @property
    def subscriptions(self) -> int:
        """Active subscriptions."""
        ...


class ConformanceRuntime(AgentRuntime, Protocol):
    """What the suite needs from a runtime: the :class:`~salon.AgentRuntime` contract plus its lifecycle.

    These are the methods :class:`~salon.SingleThreadedAgentRuntime` has beyond the protocol; a
    distributed runtime offers the same ones (DESIGN.md §6).
    """

    def start(self) -> None:
        """Start delivering messages."""
        ...

    async def stop(self) -> None:
        """Stop delivering messages now."""
        ...

    async def stop_when_idle(self) -> None:
        """Stop once nothing is queued or being handled."""
        ...

    async def stop_when(self, condition: Callable[[], bool]) -> None:
        """Stop once ``condition()`` is true."""
        ...

    async def close(self) -> None:
        """Stop if running and close every agent."""
        ...

    def stats(self) -> Any:
        """Counters for health checks (see :class:`RuntimeStatsView`)."""
        ...


class RuntimeFactory(Protocol):
    """The ``runtime_factory`` fixture: makes a fresh runtime that the suite disposes of after the test."""

    async def __call__(
        self,
        *,
        intervention_handlers: Sequence[InterventionHandler] = (),
        ignore_unhandled_exceptions: bool = True,
    ) -> ConformanceRuntime:
        """Make a runtime with the given options (see :meth:`RuntimeHarness.make_runtime`)."""
        ...


class RuntimeHarness:
    """Hooks and helpers shared by the conformance test classes.

    Subclasses (see :class:`~salon.testing.RuntimeConformanceSuite`) override :meth:`make_runtime`,
    and may override :meth:`dispose_runtime` and the class attributes below.

    Attributes:
        timeout: Seconds any single wait in a test may take. Every await that could hang is bounded by
            it, so a runtime that hangs fails the test instead of blocking the run.
        settle_delay: Seconds the suite waits when it checks that something does *not* happen.
        cross_process_tests: The tests that register agents only through :meth:`host_agent` and read
            recorders only after :meth:`collect`: the ones that still hold when the agents live in another
            OS process (a distributed runtime's suite runs them with agents in a worker process).
    """

    timeout: ClassVar[float] = 10.0
    settle_delay: ClassVar[float] = 0.05
    cross_process_tests: ClassVar[frozenset[str]] = frozenset(
        {
            "test_send_message_returns_the_handler_response",
            "test_message_ids_reach_the_handler",
            "test_agent_to_agent_send",
            "test_rpc_handler_exception_reaches_caller_with_its_type",
            "test_send_to_unregistered_type_raises_lookup_error",
            "test_publish_fans_out_to_every_subscribed_type",
            "test_a_publish_reaches_each_agent_once_when_subscriptions_overlap",
            "test_publish_skips_the_sender",
            "test_publish_without_subscribers_is_a_no_op",
            "test_type_subscription_keys_the_recipient_by_topic_source",
            "test_type_prefix_subscription",
            "test_default_subscription_and_default_topic",
            "test_default_topic_inside_a_handler_uses_the_handling_agents_key",
            "test_default_subscription_class_decorator",
            "test_type_subscription_class_decorator",
            "test_register_adds_the_direct_message_prefix_subscription",
            "test_union_annotation_handles_each_member",
            "test_most_specific_annotated_type_wins",
            "test_declaration_order_then_match_chooses_among_equals",
            "test_event_handlers_only_see_publishes_and_rpc_handlers_only_sends",
            "test_rpc_that_no_handler_accepts_raises_cant_handle",
            "test_publish_that_no_handler_accepts_is_ignored",
            "test_strict_handler_rejects_a_response_outside_its_annotation",
            "test_plain_base_agent",
            "test_overridden_on_message_impl_is_honoured",
        }
    )

    # -- hooks for implementers -------------------------------------------------------------------------

    async def make_runtime(
        self,
        *,
        intervention_handlers: Sequence[InterventionHandler] = (),
        ignore_unhandled_exceptions: bool = True,
    ) -> ConformanceRuntime:
        """Return a new, isolated, not yet started runtime.

        Each call must return a runtime that shares no agents, subscriptions or messages with the
        runtimes made before (a distributed runtime would use a fresh namespace per call). Agents
        registered on it run in this process, because the suite's agents report to in-memory
        recorders (see :meth:`host_agent` for hosting them elsewhere).

        Args:
            intervention_handlers: Handlers to install, in order.
            ignore_unhandled_exceptions: ``False`` makes exceptions raised by publish handlers
                surface from ``stop()``/``stop_when_idle()`` (AutoGen's switch of the same name).
        """
        raise NotImplementedError(f"{type(self).__name__} must override make_runtime() to return a new runtime.")

    async def host_agent(
        self,
        runtime: ConformanceRuntime,
        agent_type: str,
        agent_class: type[Any],
        recorder: Recorder | None = None,
        **register_options: Any,
    ) -> None:
        """Register one of the suite's agent classes as ``agent_type``, built as ``agent_class(recorder)``.

        Without a recorder the agent is built as ``agent_class()``. ``register_options`` go to
        ``agent_class.register`` (``skip_class_subscriptions``, ``skip_direct_message_subscription``).

        The tests in :attr:`cross_process_tests` register every agent through this hook and read what the
        agents recorded only after :meth:`collect`, so a distributed runtime's suite can override both to
        host the agents in a worker OS process: the class is a module-level class of ``salon.testing``
        (importable there by name), and the recorder given to it there writes to storage both processes
        share. The default registers here, in the test's process.
        """
        build: Callable[..., Any] = agent_class
        factory = build if recorder is None else partial(build, recorder)
        register: Callable[..., Awaitable[Any]] = agent_class.register
        await register(runtime, agent_type, factory, **register_options)

    async def collect(self, runtime: ConformanceRuntime, recorder: Recorder) -> None:
        """Bring what agents hosted elsewhere recorded into ``recorder``; nothing to do for agents hosted here.

        Called before a cross-process test reads ``recorder`` (see :meth:`host_agent`).
        """

    async def dispose_runtime(self, runtime: ConformanceRuntime) -> None:
        """Release a runtime after a test; by default ``close()`` (which stops it if it is running).

        Errors are ignored here (a test that expected none has already checked); a hang is not.
        """
        with contextlib.suppress(Exception):
            await self.within(runtime.close())

    # -- fixtures ---------------------------------------------------------------------------------------

    @pytest_asyncio.fixture
    async def runtime_factory(self) -> AsyncIterator[RuntimeFactory]:
        """Make runtimes on demand and dispose of all of them when the test ends."""
        created: list[ConformanceRuntime] = []

        async def factory(
            *,
            intervention_handlers: Sequence[InterventionHandler] = (),
            ignore_unhandled_exceptions: bool = True,
        ) -> ConformanceRuntime:
            runtime = await self.make_runtime(
                intervention_handlers=intervention_handlers,
                ignore_unhandled_exceptions=ignore_unhandled_exceptions,
            )
            created.append(runtime)
            return runtime

        yield factory
        for runtime in reversed(created):
            await self.dispose_runtime(runtime)

    @pytest_asyncio.fixture
    async def runtime(self, runtime_factory: RuntimeFactory) -> ConformanceRuntime:
        """A fresh runtime with default options, not started."""
        return await runtime_factory()

    # -- helpers ----------------------------------------------------------------------------------------

    async def within(self, awaitable: Awaitable[T], seconds: float | None = None) -> T:
        """Await ``awaitable``, failing the test if it takes longer than :attr:`timeout` seconds."""
        limit = self.timeout if seconds is None else seconds
        try:
            async with asyncio.timeout(limit):
                return await awaitable
        except TimeoutError:
            pytest.fail(f"timed out after {limit}s awaiting {awaitable!r}: the runtime hangs", pytrace=False)

    async def idle(self, runtime: ConformanceRuntime) -> None:
        """``stop_when_idle()``, bounded: the usual way a test waits for all deliveries."""
        await self.within(runtime.stop_when_idle())

    async def until(self, condition: Callable[[], bool], what: str, seconds: float | None = None) -> None:
        """Poll ``condition`` until it holds; fail naming ``what`` if it does not within the timeout."""
        limit = self.timeout if seconds is None else seconds
        loop = asyncio.get_running_loop()
        deadline = loop.time() + limit
        while not condition():
            if loop.time() > deadline:
                pytest.fail(f"timed out after {limit}s waiting until {what}", pytrace=False)
            await asyncio.sleep(0.002)

    async def settle(self) -> None:
        """Give the runtime time to do something it should not do (used before asserting absence)."""
        await asyncio.sleep(self.settle_delay)


def assert_stats(stats: Any, **expected: int) -> None:
    """Assert that ``stats`` has the given integer counters; the message lists every mismatch."""
    actual: Mapping[str, Any] = {name: getattr(stats, name, "<missing>") for name in expected}
    wrong = {name: (actual[name], want) for name, want in expected.items() if actual[name] != want}
    assert not wrong, "runtime.stats() mismatch (actual, expected): " + ", ".join(
        f"{name}={got!r} (expected {want})" for name, (got, want) in wrong.items()
    )
