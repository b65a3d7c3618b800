"""What the code executor suites share: the hooks, fixtures and bounded helpers around the executor under test."""

from __future__ import annotations

import asyncio
import contextlib
import textwrap
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path
from typing import ClassVar, TypeVar

import pytest
import pytest_asyncio

from salon import CancellationToken
from salon.code_executor import CodeBlock, CodeExecutor, CodeResult

__all__ = ["CodeExecutorHarness", "ExecutorFactory", "snapshot"]

T = TypeVar("T")

ExecutorFactory = Callable[[Path], Awaitable[CodeExecutor]]
"""The ``executor_factory`` fixture: makes a started executor working in the given directory."""


# Tiny local file operations: cheap enough to run on the event loop in a test.
def snapshot(path: Path) -> str | None:
    """The file's text, or ``None`` if it does not exist (yet)."""
    try:
        return path.read_text()
    except FileNotFoundError:
        return None


def _make_dir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)


class CodeExecutorHarness:
    """The scaffolding of a code executor suite: the suites subclass it, executor authors subclass a suite.

    It owns the executors a test makes (started through :meth:`make_executor`, released through
    :meth:`dispose_executor` however the test ends) and bounds every wait, so that an executor that hangs
    fails its test instead of stalling the run. The defaults of the class attributes suit a fast, local
    executor; each suite states its own where they differ.
    """

    pytestmark: ClassVar[list[pytest.MarkDecorator]] = [pytest.mark.asyncio]
    timeout: ClassVar[float] = 30.0
    execution_timeout: ClassVar[float] = 2.0
    settle_delay: ClassVar[float] = 0.3

    # -- hooks for implementers -------------------------------------------------------------------------

    async def make_executor(self, work_dir: Path) -> CodeExecutor:
        """Return a new, not started executor running code in ``work_dir``, with the suite's limits.

        Its timeout is :attr:`execution_timeout`; a suite may name more limits to give it. ``work_dir``
        exists and is empty. Files the code writes there must be visible in it from this process (a
        container executor mounts it).
        """
        raise NotImplementedError(f"{type(self).__name__} must override make_executor() to return an executor.")

    async def dispose_executor(self, executor: CodeExecutor) -> None:
        """Release an executor after a test: ``stop()``, ignoring errors but not hangs."""
        with contextlib.suppress(Exception):
            await self.within(executor.stop())

    # -- fixtures ---------------------------------------------------------------------------------------

    @pytest_asyncio.fixture
    async def executor_factory(self) -> AsyncIterator[ExecutorFactory]:
        """Make started executors on demand; dispose of all of them when the test ends."""
        made: list[CodeExecutor] = []

        async def factory(work_dir: Path) -> CodeExecutor:
            _make_dir(work_dir)
            executor = await self.make_executor(work_dir)
            made.append(executor)
            await self.within(executor.start())
            return executor

        yield factory
        for executor in reversed(made):
            await self.dispose_executor(executor)

    @pytest.fixture
    def work_dir(self, tmp_path: Path) -> Path:
        """The working directory of the ``executor`` fixture, which makes it."""
        return tmp_path / "work"

    @pytest_asyncio.fixture
    async def executor(self, executor_factory: ExecutorFactory, work_dir: Path) -> CodeExecutor:
        """A started executor working in ``work_dir``."""
        return await executor_factory(work_dir)

    # -- helpers ----------------------------------------------------------------------------------------

    async def within(self, awaitable: Awaitable[T], seconds: float | None = None) -> T:
        """Await ``awaitable``, failing the test if it takes longer than :attr:`timeout` seconds."""
        limit = self.timeout if seconds is None else seconds
        try:
            async with asyncio.timeout(limit):
                return await awaitable
        except TimeoutError:
            pytest.fail(f"timed out after {limit}s awaiting {awaitable!r}: the executor hangs", pytrace=False)

    async def run_blocks(
        self,
        executor: CodeExecutor,
        blocks: Sequence[tuple[str, str]],
        token: CancellationToken | None = None,
        seconds: float | None = None,
    ) -> CodeResult:
        """Run ``(language, code)`` blocks (dedented) within ``seconds``; check a :class:`CodeResult` came back."""
        code_blocks = [CodeBlock(code=textwrap.dedent(code), language=language) for language, code in blocks]
        result = await self.within(executor.execute_code_blocks(code_blocks, token or CancellationToken()), seconds)
        assert isinstance(result, CodeResult), f"execute_code_blocks returned {type(result).__name__}"
        return result

    async def assert_stopped(
        self, heartbeat: Path, problem: str = "the code is still running after it should have been stopped"
    ) -> None:
        """Assert that code writing a heartbeat file no longer runs: the file stops changing."""
        await asyncio.sleep(self.settle_delay)
        before = snapshot(heartbeat)
        await asyncio.sleep(self.settle_delay)
        after = snapshot(heartbeat)
        assert before == after, f"{problem} ({before} -> {after})"
