"""The workbench conformance suite: the behaviour every :class:`~salon.tools.Workbench` must show."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any, ClassVar, TypeVar

import pytest
import pytest_asyncio

from salon import CancellationToken
from salon.tools import Tool, ToolResult, ToolSchema, Workbench

from ._workbench_tools import CONFORMANCE_TOOL_NAMES, conformance_tools

__all__ = ["WorkbenchConformanceSuite", "WorkbenchFactory"]

T = TypeVar("T")

WorkbenchFactory = Callable[[], Awaitable[Workbench]]
"""The ``workbench_factory`` fixture: makes a new, not started workbench over the conformance tools."""

_ARGUMENTS = {
    "add": ({"augend", "addend"}, {"augend", "addend"}),
    "echo": ({"text"}, {"text"}),
    "greet": ({"name", "punctuation"}, {"name"}),
    "ping": (set(), set()),
    "fail": ({"reason"}, {"reason"}),
    "wait": ({"seconds"}, {"seconds"}),
}


class WorkbenchConformanceSuite:
    """The behaviour every :class:`~salon.tools.Workbench` must show, as pytest tests.

    It pins down the contract agents rely on: ``list_tools`` describes each tool's arguments; a call
    returns a :class:`~salon.tools.ToolResult`; every failure (an exception in the tool, invalid or
    missing arguments, an unknown tool) is a result with ``is_error=True`` whose text says what was
    wrong, naming the argument, and never an exception; cancelling the token raises
    :class:`asyncio.CancelledError` promptly; a slow call never holds up others; start and stop may be
    called twice; state round-trips through JSON.

    How a workbench author uses it: subclass it in a test module, name the subclass ``Test...``, and
    override :meth:`make_workbench` to return a new, not yet started workbench exposing the tools it is
    given (see :func:`~salon.testing.conformance_tools` for what they do; a workbench backed by a remote
    server serves equivalents under the same names)::

        from salon.testing import WorkbenchConformanceSuite

        class TestMyWorkbench(WorkbenchConformanceSuite):
            async def make_workbench(self, tools):
                return MyWorkbench(tools)

    Every workbench a test makes is passed to :meth:`dispose_workbench` at the end (``stop()`` by
    default). Every wait is bounded by the class attribute ``timeout`` (raise it for slow back ends).
    A test that cannot apply may be switched off with ``test_name = None`` in the subclass, with a
    comment saying why.
    """

    pytestmark: ClassVar[list[pytest.MarkDecorator]] = [pytest.mark.asyncio]
    timeout: ClassVar[float] = 10.0
    settle_delay: ClassVar[float] = 0.05

    # -- hooks for implementers -------------------------------------------------------------------------

    async def make_workbench(self, tools: Sequence[Tool]) -> Workbench:
        """Return a new, not started workbench that exposes ``tools`` under their own names."""
        raise NotImplementedError(f"{type(self).__name__} must override make_workbench() to return a workbench.")

    async def dispose_workbench(self, workbench: Workbench) -> None:
        """Release a workbench after a test: ``stop()``, ignoring errors but not hangs."""
        with contextlib.suppress(Exception):
            await self.within(workbench.stop())

    # -- fixtures ---------------------------------------------------------------------------------------

    @pytest_asyncio.fixture
    async def workbench_factory(self) -> AsyncIterator[WorkbenchFactory]:
        """Make workbenches over fresh conformance tools; dispose of all of them after the test."""
        made: list[Workbench] = []

        async def factory() -> Workbench:
            workbench = await self.make_workbench(conformance_tools())
            made.append(workbench)
            return workbench

        yield factory
        for workbench in reversed(made):
            await self.dispose_workbench(workbench)

    @pytest_asyncio.fixture
    async def workbench(self, workbench_factory: WorkbenchFactory) -> Workbench:
        """A started workbench over the conformance tools."""
        workbench = await workbench_factory()
        await self.within(workbench.start())
        return workbench

    # -- helpers ----------------------------------------------------------------------------------------

    async def within(self, awaitable: Awaitable[T], seconds: float | None = None) -> T:
        """Await ``awaitable``, failing the test if it takes longer than :attr:`timeout` seconds."""
        limit = self.timeout if seconds is None else seconds
        try:
            async with asyncio.timeout(limit):
                return await awaitable
        except TimeoutError:
            pytest.fail(f"timed out after {limit}s awaiting {awaitable!r}: the workbench hangs", pytrace=False)

    async def call(self, workbench: Workbench, name: str, arguments: dict[str, Any] | None = None) -> ToolResult:
        """Call a tool, bounded by the timeout, and check that a :class:`ToolResult` came back."""
        result = await self.within(workbench.call_tool(name, arguments))
        assert isinstance(result, ToolResult), f"call_tool returned {type(result).__name__}, not a ToolResult"
        return result

    async def schemas(self, workbench: Workbench) -> dict[str, ToolSchema]:
        """``list_tools()`` keyed by name (failing if a name repeats)."""
        listed = await self.within(workbench.list_tools())
        names = [schema["name"] for schema in listed]
        assert len(names) == len(set(names)), f"list_tools repeats names: {names}"
        return {schema["name"]: schema for schema in listed}

    # -- listing ----------------------------------------------------------------------------------------

    async def test_list_tools_gives_every_tool(self, workbench: Workbench) -> None:
        """Every conformance tool is listed, once, under its name."""
        schemas = await self.schemas(workbench)
        assert set(CONFORMANCE_TOOL_NAMES) <= set(schemas), (
            f"missing tools: {set(CONFORMANCE_TOOL_NAMES) - set(schemas)}"
        )

    async def test_schemas_describe_the_arguments(self, workbench: Workbench) -> None:
        """Each schema is an object schema with the tool's arguments, the required ones marked, and a description."""
        schemas = await self.schemas(workbench)
        for name, (properties, required) in _ARGUMENTS.items():
            schema = schemas[name]
            assert isinstance(schema.get("description"), str) and schema.get("description"), f"{name}: no description"
            parameters = schema.get("parameters", {"type": "object", "properties": {}})
            assert parameters["type"] == "object", f"{name}: parameters are not an object schema"
            assert set(parameters["properties"]) == properties, f"{name}: wrong properties"
            assert set(parameters.get("required", [])) == required, f"{name}: wrong required arguments"

    async def test_schemas_give_argument_types_and_are_json(self, workbench: Workbench) -> None:
        """Argument types are JSON Schema types, and the whole list survives ``json.dumps``."""
        schemas = await self.schemas(workbench)
        json.loads(json.dumps(list(schemas.values())))
        assert schemas["add"]["parameters"]["properties"]["augend"]["type"] == "integer"
        assert schemas["echo"]["parameters"]["properties"]["text"]["type"] == "string"
        assert schemas["wait"]["parameters"]["properties"]["seconds"]["type"] == "number"

    # -- successful calls -------------------------------------------------------------------------------

    async def test_call_returns_the_result_as_text(self, workbench: Workbench) -> None:
        """A sync tool's return value comes back as text in a result that is not an error."""
        result = await self.call(workbench, "add", {"augend": 2, "addend": 3})
        assert (result.name, result.is_error, result.to_text()) == ("add", False, "5")

    async def test_async_tool(self, workbench: Workbench) -> None:
        """An async tool is awaited and its value returned."""
        result = await self.call(workbench, "echo", {"text": "héllo ✓"})
        assert (result.is_error, result.to_text()) == (False, "héllo ✓")

    async def test_no_arguments(self, workbench: Workbench) -> None:
        """``arguments=None`` and ``{}`` both call a tool without arguments."""
        assert (await self.call(workbench, "ping", None)).to_text() == "pong"
        assert (await self.call(workbench, "ping", {})).to_text() == "pong"

    async def test_optional_argument(self, workbench: Workbench) -> None:
        """An omitted optional argument takes its default; a given one is used."""
        assert (await self.call(workbench, "greet", {"name": "Ada"})).to_text() == "Hello, Ada!"
        assert (await self.call(workbench, "greet", {"name": "Ada", "punctuation": "?"})).to_text() == "Hello, Ada?"

    async def test_concurrent_calls_get_their_own_results(self, workbench: Workbench) -> None:
        """Many calls at once each return their own value."""
        texts = [f"message {i}" for i in range(20)]
        results = await self.within(asyncio.gather(*(workbench.call_tool("echo", {"text": t}) for t in texts)))
        assert [result.to_text() for result in results] == texts

    async def test_call_id_is_accepted(self, workbench: Workbench) -> None:
        """``call_id`` (the model's id for the call) may be given."""
        result = await self.within(workbench.call_tool("echo", {"text": "x"}, None, call_id="call_1"))
        assert result.to_text() == "x"

    async def test_results_round_trip_through_json(self, workbench: Workbench) -> None:
        """Results are pydantic models that survive JSON (they are stored in agent state and sent between workers)."""
        for result in (
            await self.call(workbench, "add", {"augend": 1, "addend": 1}),
            await self.call(workbench, "fail", {"reason": "x"}),
        ):
            assert ToolResult.model_validate_json(result.model_dump_json()) == result

    # -- failures are results ---------------------------------------------------------------------------

    async def test_tool_exception_is_an_error_result(self, workbench: Workbench) -> None:
        """An exception raised by the tool becomes an error result carrying its message."""
        result = await self.call(workbench, "fail", {"reason": "the disk is full"})
        assert result.is_error and result.name == "fail"
        assert "the disk is full" in result.to_text()

    async def test_wrong_argument_type_names_the_argument(self, workbench: Workbench) -> None:
        """An argument of the wrong type is an error result naming that argument."""
        result = await self.call(workbench, "add", {"augend": "many", "addend": 1})
        assert result.is_error
        assert "augend" in result.to_text()

    async def test_missing_argument_names_the_argument(self, workbench: Workbench) -> None:
        """A missing required argument is an error result naming it."""
        result = await self.call(workbench, "add", {"augend": 1})
        assert result.is_error
        assert "addend" in result.to_text()

    async def test_unknown_tool_is_an_error_result(self, workbench: Workbench) -> None:
        """Calling a tool that does not exist is an error result naming it, under the name used."""
        result = await self.call(workbench, "no_such_tool", {})
        assert result.is_error and result.name == "no_such_tool"
        assert "no_such_tool" in result.to_text()

    async def test_failures_leave_the_workbench_usable(self, workbench: Workbench) -> None:
        """After failures of every kind the workbench still serves calls."""
        await self.call(workbench, "fail", {"reason": "x"})
        await self.call(workbench, "add", {"augend": "x"})
        await self.call(workbench, "no_such_tool", {})
        assert (await self.call(workbench, "add", {"augend": 20, "addend": 22})).to_text() == "42"

    # -- cancellation and concurrency -------------------------------------------------------------------

    async def test_cancelling_the_token_cancels_the_call(self, workbench: Workbench) -> None:
        """Cancelling the token during a call makes ``call_tool`` raise ``CancelledError`` promptly."""
        token = CancellationToken()
        call = asyncio.ensure_future(workbench.call_tool("wait", {"seconds": 60}, token))
        await asyncio.sleep(self.settle_delay)
        assert not call.done(), f"the 60 s call finished early: {call.result() if not call.cancelled() else call}"
        token.cancel()
        with pytest.raises(asyncio.CancelledError):
            await self.within(call)

    async def test_already_cancelled_token(self, workbench: Workbench) -> None:
        """A token cancelled before the call makes it raise ``CancelledError`` at once."""
        token = CancellationToken()
        token.cancel()
        with pytest.raises(asyncio.CancelledError):
            await self.within(workbench.call_tool("wait", {"seconds": 60}, token))

    async def test_slow_call_does_not_hold_up_others(self, workbench: Workbench) -> None:
        """While one call waits, other calls complete."""
        token = CancellationToken()
        slow = asyncio.ensure_future(workbench.call_tool("wait", {"seconds": 60}, token))
        try:
            assert (await self.call(workbench, "echo", {"text": "meanwhile"})).to_text() == "meanwhile"
            assert not slow.done()
        finally:
            token.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.within(slow)

    # -- lifecycle and state ----------------------------------------------------------------------------

    async def test_start_and_stop_are_idempotent(self, workbench_factory: WorkbenchFactory) -> None:
        """``start`` twice and ``stop`` twice are harmless; calls work in between."""
        workbench = await workbench_factory()
        await self.within(workbench.start())
        await self.within(workbench.start())
        assert (await self.call(workbench, "ping")).to_text() == "pong"
        await self.within(workbench.stop())
        await self.within(workbench.stop())

    async def test_async_context_manager(self, workbench_factory: WorkbenchFactory) -> None:
        """``async with`` starts the workbench, gives it back, and stops it."""
        workbench = await workbench_factory()
        async with workbench as entered:
            assert entered is workbench
            assert (await self.call(workbench, "ping")).to_text() == "pong"

    async def test_reset_keeps_the_tools(self, workbench: Workbench) -> None:
        """After ``reset`` the same tools are listed and callable."""
        before = set(await self.schemas(workbench))
        await self.within(workbench.reset())
        assert set(await self.schemas(workbench)) == before
        assert (await self.call(workbench, "ping")).to_text() == "pong"

    async def test_state_round_trips_through_json(self, workbench: Workbench) -> None:
        """``save_state`` is JSON data that ``load_state`` accepts back."""
        state = await self.within(workbench.save_state())
        restored = json.loads(json.dumps(state))
        await self.within(workbench.load_state(restored))
        assert (await self.call(workbench, "ping")).to_text() == "pong"
