"""The fixtures and helpers every runtime conformance test uses, and the hooks an implementer overrides."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from functools import partial
from typing import Any, ClassVar, Protocol, TypeVar, runtime_checkable

import pytest
import pytest_asyncio

from salon import AgentId, AgentRuntime, ClosureAgent, InterventionHandler, Subscription

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

    The other hooks exist so that a distributed runtime can run the suite with the agents in another OS
    process (its test's runtime hosts nothing; a worker process hosts every agent). Every test registers
    its agents through :meth:`host_agent` (or :meth:`host_agent_instance`, :meth:`host_closure`), reads
    what they recorded only after :meth:`collect`, opens the gates its agents wait on with
    :meth:`open_gate`, and reads counters, logs and state through :meth:`runtime_stats`,
    :meth:`capture_logs`, :meth:`save_runtime_state` and :meth:`load_runtime_state`. The defaults do the
    plain in-process thing, so a single-process runtime overrides none of them; a cross-process
    subclass forwards each to the hosting process. Tests that inspect objects only one process can see
    (the agent object, the caller's ``asyncio`` objects) are listed in
    :attr:`~salon.testing.RuntimeConformanceSuite.single_process_tests`, with the reason.

    Attributes:
        timeout: Seconds any single wait in a test may take. Every await that could hang is bounded by
            it, so a runtime that hangs fails the test instead of blocking the run.
        settle_delay: Seconds the suite waits when it checks that something does *not* happen.
        poll_interval: Seconds between two looks of :meth:`until` and :meth:`until_recorded` (raise it
            when :meth:`collect` is a round trip to a server).
    """

    timeout: ClassVar[float] = 10.0
    settle_delay: ClassVar[float] = 0.05
    poll_interval: ClassVar[float] = 0.002

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
            intervention_handlers: Handlers to install, in order. The suite's handlers are dataclasses
                of ``salon.testing`` that report to a :class:`Recorder` field, so a cross-process
                subclass can rebuild them by name where the messages are handled.
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
        *,
        async_factory: bool = False,
        factory_only: bool = False,
        **register_options: Any,
    ) -> None:
        """Register one of the suite's agent classes as ``agent_type``, built as ``agent_class(recorder)``.

        Without a recorder the agent is built as ``agent_class()``. ``register_options`` go to
        ``agent_class.register`` (``skip_class_subscriptions``, ``skip_direct_message_subscription``).

        A distributed runtime's suite overrides this hook (with :meth:`collect`) to host the agents in a
        worker OS process: the class is a module-level class of ``salon.testing`` (importable there by
        name), and the recorder given to it there writes to storage both processes share. The default
        registers here, in the test's process. Errors of the registration (a duplicate type) must reach
        the caller with their type.

        Args:
            runtime: The test's runtime (a cross-process subclass hosts on a worker of its cluster).
            agent_type: The type to register.
            agent_class: A module-level agent class of ``salon.testing``.
            recorder: Given to the constructor, if any.
            async_factory: Register a coroutine function as the factory (AutoGen accepts both kinds).
            factory_only: Call ``runtime.register_factory`` directly instead of ``agent_class.register``
                (no class or direct-message subscriptions).
            **register_options: Passed to ``agent_class.register``.
        """
        make: Callable[..., Any] = agent_class
        build: Callable[[], Any] = make if recorder is None else partial(make, recorder)

        async def build_awaited() -> Any:
            return build()

        factory: Callable[[], Any] = build_awaited if async_factory else build
        if factory_only:
            await runtime.register_factory(agent_type, factory)
            return
        register: Callable[..., Awaitable[Any]] = agent_class.register
        await register(runtime, agent_type, factory, **register_options)

    async def host_agent_instance(
        self, runtime: ConformanceRuntime, agent_id: AgentId, agent_class: type[Any], recorder: Recorder
    ) -> None:
        """Build ``agent_class(recorder)`` outside any factory and ``register_instance`` it as ``agent_id``.

        ``register_instance`` also subscribes the agent to the topic type named by its key (AutoGen).
        A cross-process subclass builds and registers the instance in the hosting process.
        """
        await agent_class(recorder).register_instance(runtime, agent_id)

    async def host_closure(
        self,
        runtime: ConformanceRuntime,
        agent_type: str,
        make_closure: Callable[[Recorder], Callable[..., Awaitable[Any]]],
        recorder: Recorder,
        *,
        subscriptions: Callable[[], list[Subscription]] | None = None,
    ) -> None:
        """``ClosureAgent.register_closure`` with the closure ``make_closure(recorder)`` builds.

        ``make_closure`` and ``subscriptions`` are module-level functions of ``salon.testing``, so a
        cross-process subclass can look them up by name in the hosting process.
        """
        await ClosureAgent.register_closure(
            runtime, agent_type, make_closure(recorder), subscriptions=subscriptions or (lambda: [])
        )

    async def collect(self, runtime: ConformanceRuntime, recorder: Recorder) -> None:
        """Bring what agents hosted elsewhere recorded into ``recorder``; nothing to do for agents hosted here.

        Called before a test reads ``recorder.records``, ``created`` or ``closed`` (see :meth:`host_agent`).
        """

    async def open_gate(self, runtime: ConformanceRuntime, recorder: Recorder, name: str) -> None:
        """Let the handlers waiting on the gate ``name`` of ``recorder`` (:meth:`Recorder.wait_gate`) go on."""
        recorder.gate(name).set()

    async def runtime_stats(self, runtime: ConformanceRuntime) -> RuntimeStatsView:
        """The counters of ``runtime.stats()``, for the runtime and every process hosting its agents.

        A cross-process subclass adds up the message and agent counters of the test's runtime and the
        hosting workers, and counts the subscriptions of the whole cluster.
        """
        stats: RuntimeStatsView = runtime.stats()
        return stats

    async def save_runtime_state(self, runtime: ConformanceRuntime) -> Mapping[str, Any]:
        """``runtime.save_state()``; a cross-process subclass adds the hosting workers' agents' states."""
        return await runtime.save_state()

    async def load_runtime_state(self, runtime: ConformanceRuntime, state: Mapping[str, Any]) -> None:
        """``runtime.load_state(state)``; a cross-process subclass loads the agents' part where they live."""
        await runtime.load_state(state)

    async def close_runtime(self, runtime: ConformanceRuntime) -> None:
        """``runtime.close()``; a cross-process subclass also closes the workers hosting the agents.

        Closing is what makes a runtime call ``close()`` on its agents, and the agents live where they
        are hosted.
        """
        await runtime.close()

    async def stop_when_idle_everywhere(self, runtime: ConformanceRuntime) -> None:
        """``stop_when_idle()`` on the runtime and then on every runtime hosting its agents, bounded.

        A publish handler's unhandled exception surfaces from the runtime that ran the handler, so a
        cross-process subclass re-raises what the hosting workers' ``stop_when_idle()`` raised.
        """
        await self.idle(runtime)

    @contextlib.asynccontextmanager
    async def capture_logs(
        self, runtime: ConformanceRuntime, logger_name: str, level: int
    ) -> AsyncIterator[list[logging.LogRecord]]:
        """Collect the records of ``logger_name`` at ``level`` or above while the block runs.

        The list is complete when the block exits. A cross-process subclass adds the records the
        hosting workers logged meanwhile (rebuilt: the message object of the suite's event classes
        and the exception of ``exc_info``, with its type, where it is importable).
        """
        captured = _CaptureHandler(level)
        logger = logging.getLogger(logger_name)
        previous = logger.level
        logger.addHandler(captured)
        logger.setLevel(level)
        try:
            yield captured.records
        finally:
            logger.removeHandler(captured)
            logger.setLevel(previous)

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
            await asyncio.sleep(self.poll_interval)

    async def until_recorded(
        self, runtime: ConformanceRuntime, recorder: Recorder, condition: Callable[[], bool], what: str
    ) -> None:
        """:meth:`until`, with :meth:`collect` before each look at ``recorder`` (agents may live elsewhere)."""
        limit = self.timeout
        loop = asyncio.get_running_loop()
        deadline = loop.time() + limit
        while True:
            await self.within(self.collect(runtime, recorder))
            if condition():
                return
            if loop.time() > deadline:
                pytest.fail(f"timed out after {limit}s waiting until {what}", pytrace=False)
            await asyncio.sleep(self.poll_interval)

    @contextlib.asynccontextmanager
    async def collecting(self, runtime: ConformanceRuntime, recorder: Recorder) -> AsyncIterator[None]:
        """Keep ``recorder`` up to date (:meth:`collect` in the background) while the block runs.

        For conditions the runtime itself polls, such as ``stop_when``'s.
        """
        done = asyncio.Event()

        async def refresh() -> None:
            while not done.is_set():
                await self.collect(runtime, recorder)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(done.wait(), self.poll_interval)

        # Stopped by the event, not cancelled: a client library may swallow a cancellation in the middle
        # of a call to its server, and the task would then go on forever.
        task = asyncio.ensure_future(refresh())
        try:
            yield
        finally:
            done.set()
            await self.within(task)
        await self.collect(runtime, recorder)

    async def settle(self) -> None:
        """Give the runtime time to do something it should not do (used before asserting absence)."""
        await asyncio.sleep(self.settle_delay)


class _CaptureHandler(logging.Handler):
    """Keeps every record it gets."""

    def __init__(self, level: int) -> None:
        super().__init__(level)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def assert_stats(stats: Any, **expected: int) -> None:
    """Assert that ``stats`` has the given integer counters; the message lists every mismatch."""
    actual: Mapping[str, Any] = {name: getattr(stats, name, "<missing>") for name in expected}
    wrong = {name: (actual[name], want) for name, want in expected.items() if actual[name] != want}
    assert not wrong, "runtime.stats() mismatch (actual, expected): " + ", ".join(
        f"{name}={got!r} (expected {want})" for name, (got, want) in wrong.items()
    )
