"""Conformance: what a handler may do with asyncio (its current task, cancellation, futures, task groups).

A runtime may start handlers without a task of their own and create one only when they first wait
(DESIGN.md §10). These tests pin down that a handler cannot tell the difference: its
``asyncio.current_task()`` cancels only itself, timeouts and task groups work before and after the
first suspension, several handlers may wait on one future, and context variables stay per handler.
"""

from __future__ import annotations

import asyncio
import contextvars
from dataclasses import dataclass

import pytest

from salon import AgentId, MessageContext, RoutedAgent, message_handler

from ._runtime_agents import ConformanceError, Nap, Ping, Pong, ProbeAgent, Recorder
from ._runtime_harness import ConformanceRuntime, RuntimeHarness

__all__ = ["HandlerTaskConformance"]

_PROBE_VAR: contextvars.ContextVar[str] = contextvars.ContextVar("salon_conformance_probe", default="unset")


@dataclass
class TaskMode:
    """Makes :class:`TaskProbe` exercise asyncio in the way ``mode`` names (``arg`` is mode-specific)."""

    mode: str
    arg: str = ""


async def _fail_soon() -> None:
    await asyncio.sleep(0.01)
    raise ConformanceError("child failed")


class TaskProbe(RoutedAgent):
    """Does asyncio things inside its handler and reports how they ended."""

    def __init__(self, recorder: Recorder) -> None:
        super().__init__("task probe")
        self.recorder = recorder
        # sniffio (hence anyio, httpx) detects asyncio through the current task, also in constructors
        self.constructed_in_task = asyncio.current_task() is not None

    @message_handler
    async def on_mode(self, message: TaskMode, ctx: MessageContext) -> str:
        """Run the scenario ``message.mode``; return how it ended."""
        task = asyncio.current_task()
        assert task is not None
        mode = message.mode
        try:
            if mode == "timeout":
                try:
                    async with asyncio.timeout(0.01):
                        await asyncio.sleep(30)
                except TimeoutError:
                    return "timed out"
            elif mode == "wait-for":
                try:
                    await asyncio.wait_for(asyncio.sleep(30), 0.01)
                except TimeoutError:
                    return "timed out"
            elif mode == "cancel-now":
                task.cancel()
                await asyncio.sleep(30)
            elif mode == "cancel-after-first-wait":
                await asyncio.sleep(0)
                task.cancel()
                await asyncio.sleep(30)
            elif mode == "cancel-later" or mode == "propagate":
                asyncio.get_running_loop().call_later(0.01, task.cancel)
                await asyncio.sleep(30)
            elif mode == "same-task":
                await asyncio.sleep(0)
                return "same" if asyncio.current_task() is task else "different"
            elif mode == "task-group":
                outcome = "group finished"
                try:
                    async with asyncio.TaskGroup() as group:
                        group.create_task(asyncio.sleep(30))
                        group.create_task(_fail_soon())
                except* ConformanceError:
                    outcome = "group failed"
                return outcome
            elif mode == "await-shared":
                return str(await self.recorder.shared[message.arg])
            elif mode == "set-var":
                _PROBE_VAR.set(message.arg)
                await asyncio.sleep(0.02)
                return _PROBE_VAR.get()
            elif mode == "read-var":
                return _PROBE_VAR.get()
            elif mode == "keep-task":
                self.recorder.kept.append(task)  # e.g. a watchdog: loop.call_later(t, task.cancel)
                return "kept"
            elif mode == "constructed-in-task":
                return str(self.constructed_in_task)
            elif mode == "self-rpc":
                answer = await self.send_message(TaskMode("same-task"), self.id)
                return f"self:{answer}"
        except asyncio.CancelledError:
            if mode == "propagate":
                raise
            return "cancelled"
        return "not cancelled"


class HandlerTaskConformance(RuntimeHarness):
    """A handler's task: cancellation, timeouts, task groups, shared futures and context variables."""

    async def _probes(self, runtime: ConformanceRuntime, rec: Recorder) -> None:
        await self.host_agent(runtime, "task", TaskProbe, rec)
        await self.host_agent(runtime, "probe", ProbeAgent, rec)
        runtime.start()

    async def _ask(self, runtime: ConformanceRuntime, mode: str, key: str = "k", arg: str = "") -> object:
        return await self.within(runtime.send_message(TaskMode(mode, arg), AgentId("task", key)))

    @pytest.mark.parametrize(
        ("mode", "expected"),
        [
            ("timeout", "timed out"),
            ("wait-for", "timed out"),
            ("cancel-now", "cancelled"),
            ("cancel-after-first-wait", "cancelled"),
            ("cancel-later", "cancelled"),
            ("task-group", "group failed"),
        ],
    )
    async def test_current_task_inside_a_handler_is_the_handlers_own(
        self, runtime: ConformanceRuntime, mode: str, expected: str
    ) -> None:
        """A handler's current task cancels that handler and nothing else.

        ``asyncio.current_task()`` in a handler is a task whose ``cancel()`` cancels that handler only,
        before or after its first suspension; ``asyncio.timeout``, ``wait_for`` and ``TaskGroup`` rely on
        it. Another agent's handler running meanwhile and the runtime are unaffected (AutoGen gives every
        handler its own task, so all of this holds there).
        """
        rec = Recorder()
        await self._probes(runtime, rec)
        bystander = asyncio.ensure_future(runtime.send_message(Nap(0.05, "bystander"), AgentId("probe", "k")))
        assert await self._ask(runtime, mode) == expected
        assert await self.within(bystander) == "bystander"
        assert await self.within(runtime.send_message(Ping("after"), AgentId("probe", "k"))) == Pong("after")
        assert await self._ask(runtime, mode) == expected, "the second time differs: state leaked between runs"
        await self.idle(runtime)

    async def test_current_task_is_stable_across_suspension(self, runtime: ConformanceRuntime) -> None:
        """A handler sees the same ``asyncio.current_task()`` before and after it first waits."""
        await self._probes(runtime, Recorder())
        assert await self._ask(runtime, "same-task") == "same"

    async def test_a_handler_cancelled_by_its_own_task_cancels_the_rpc(self, runtime: ConformanceRuntime) -> None:
        """A handler that lets its own cancellation propagate cancels the RPC.

        A handler that lets its cancellation propagate makes the caller's await raise ``CancelledError``
        (AutoGen sets the CancelledError on the response); the runtime keeps working.
        """
        await self._probes(runtime, Recorder())
        with pytest.raises(asyncio.CancelledError):
            await self._ask(runtime, "propagate")
        assert await self.within(runtime.send_message(Ping("after"), AgentId("probe", "k"))) == Pong("after")
        await self.idle(runtime)

    @pytest.mark.parametrize("kind", ["future", "task"])
    async def test_handlers_may_first_wait_on_the_same_future(self, runtime: ConformanceRuntime, kind: str) -> None:
        """Handlers started together may all wait on one future.

        Several handlers started in one dispatch turn may all await one future or task (a shared lazy
        initialisation, say); each gets its result. Awaiting a future from outside a task and handing it
        to a task later must keep asyncio's future protocol intact for every waiter.
        """
        rec = Recorder()
        await self._probes(runtime, rec)
        loop = asyncio.get_running_loop()
        if kind == "future":
            shared: asyncio.Future[str] = loop.create_future()
            loop.call_later(0.02, shared.set_result, "ready")
        else:
            shared = asyncio.ensure_future(asyncio.sleep(0.02, result="ready"))
        rec.shared["x"] = shared
        calls = [
            asyncio.ensure_future(runtime.send_message(TaskMode("await-shared", "x"), AgentId("task", str(i))))
            for i in range(4)
        ]
        assert await self.within(asyncio.gather(*calls)) == ["ready"] * 4
        await self.idle(runtime)

    async def test_context_variables_stay_inside_their_handler(self, runtime: ConformanceRuntime) -> None:
        """Context variables set in a handler stay in that handler.

        A context variable a handler sets is seen by that handler across waits, and by no other handler
        and not by the caller (AutoGen runs each handler in a task with its own context copy).
        """
        await self._probes(runtime, Recorder())
        setter = asyncio.ensure_future(runtime.send_message(TaskMode("set-var", "mine"), AgentId("task", "a")))
        reader = asyncio.ensure_future(runtime.send_message(TaskMode("read-var"), AgentId("task", "b")))
        assert await self.within(reader) == "unset"
        assert await self.within(setter) == "mine"
        assert await self._ask(runtime, "read-var", key="a") == "unset"
        assert _PROBE_VAR.get() == "unset"

    async def test_an_agent_can_send_to_itself(self, runtime: ConformanceRuntime) -> None:
        """An agent may send to itself.

        A (non-sequential) agent awaiting an RPC to itself gets the answer: its own handlers run
        concurrently, so this does not deadlock.
        """
        await self._probes(runtime, Recorder())
        assert await self._ask(runtime, "self-rpc") == "self:same"

    @pytest.mark.parametrize("suspend_first", [False, True])
    async def test_a_finished_handlers_task_is_done_and_cancelling_it_changes_nothing(
        self, runtime: ConformanceRuntime, suspend_first: bool
    ) -> None:
        """A handler's task outlives the handler only as a finished task.

        Code may keep ``asyncio.current_task()`` (a watchdog calling ``task.cancel`` later, a library
        keying state by task). Once the handler returned, that task is ``done()``, ``cancel()`` returns
        False, and no later handler is cancelled by it (AutoGen: each handler has its own task). A
        runtime that recycles a stand-in task between handlers must not leak such a cancel.
        """
        rec = Recorder()
        await self._probes(runtime, rec)
        if suspend_first:
            await self.within(runtime.send_message(TaskMode("same-task"), AgentId("task", "warm")))
        assert await self._ask(runtime, "keep-task") == "kept"
        (kept,) = rec.kept
        assert kept.done(), "the task of a handler that returned is not done"
        assert kept.cancel() is False
        assert await self.within(runtime.send_message(Nap(0.02, "later"), AgentId("probe", "k"))) == "later"
        assert await self._ask(runtime, "same-task", key="other") == "same"
        await self.idle(runtime)

    async def test_agents_are_constructed_inside_a_task(self, runtime: ConformanceRuntime) -> None:
        """Agent constructors run with a current task, as in AutoGen.

        AutoGen creates agents inside the delivery task, so libraries that detect asyncio through
        ``asyncio.current_task()`` (sniffio, hence anyio primitives made in ``__init__``) work there.
        """
        await self._probes(runtime, Recorder())
        assert await self._ask(runtime, "constructed-in-task") == "True"
