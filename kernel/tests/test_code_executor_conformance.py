"""The code executor conformance suite, run on a tiny subprocess executor; and checks that it catches faults."""

from __future__ import annotations

from pathlib import Path

import pytest
from subprocess_executor import SubprocessCodeExecutor, kill_group

from salon.code_executor import CodeExecutor
from salon.testing import CodeExecutorConformanceSuite


class TestSubprocessCodeExecutor(CodeExecutorConformanceSuite):
    async def make_executor(self, work_dir: Path) -> CodeExecutor:
        return SubprocessCodeExecutor(work_dir, timeout=self.execution_timeout)


class _Suite(CodeExecutorConformanceSuite):
    """The suite driven by hand, to show that its tests fail on executors that break the contract."""

    timeout = 10.0
    execution_timeout = 1.0


@pytest.fixture
def suite() -> _Suite:
    return _Suite()


async def _started(executor: SubprocessCodeExecutor) -> SubprocessCodeExecutor:
    await executor.start()
    return executor


async def test_suite_catches_code_left_running_after_cancellation(suite: _Suite, tmp_path: Path) -> None:
    executor = await _started(SubprocessCodeExecutor(tmp_path, kill_on_cancel=False))
    try:
        with pytest.raises(AssertionError, match="still running"):
            await suite.test_cancellation_stops_the_code(executor, tmp_path)
    finally:  # the faulty executor leaves its code running on purpose: it must not outlive the test
        for proc in executor.left_running:
            await kill_group(proc)
    assert executor.left_running, "the faulty executor was expected to leave the code running"


async def test_suite_catches_blocks_run_after_a_failure(suite: _Suite, tmp_path: Path) -> None:
    executor = await _started(SubprocessCodeExecutor(tmp_path, stop_at_failure=False))
    with pytest.raises(AssertionError):
        await suite.test_execution_stops_at_the_first_failing_block(executor, tmp_path)


async def test_suite_catches_a_wrong_timeout_exit_code(suite: _Suite, tmp_path: Path) -> None:
    executor = await _started(SubprocessCodeExecutor(tmp_path, timeout=1.0, timeout_exit_code=1))
    with pytest.raises(AssertionError, match="124"):
        await suite.test_timeout_stops_the_code(executor, tmp_path)


async def test_make_executor_must_be_overridden(tmp_path: Path) -> None:
    with pytest.raises(NotImplementedError, match="make_executor"):
        await CodeExecutorConformanceSuite().make_executor(tmp_path)


def test_suite_is_not_collected_by_itself() -> None:
    assert not CodeExecutorConformanceSuite.__name__.startswith("Test")
