"""The code executor conformance suite: the behaviour every :class:`~salon.code_executor.CodeExecutor` must show."""

from __future__ import annotations

import asyncio
import textwrap
from pathlib import Path
from typing import ClassVar

import pytest

from salon import CancellationToken
from salon.code_executor import CodeBlock, CodeExecutor, CodeResult

from ._code_executor_harness import CodeExecutorHarness, ExecutorFactory, snapshot

__all__ = ["CodeExecutorConformanceSuite", "ExecutorFactory"]

# Writes a counter to heartbeat.txt every 20 ms, for ever: the file stops changing once the code is stopped.
_HEARTBEAT = textwrap.dedent(
    """
    import pathlib, time
    beat = pathlib.Path("heartbeat.txt")
    for i in range(10**9):
        beat.write_text(str(i))
        time.sleep(0.02)
    """
)


class CodeExecutorConformanceSuite(CodeExecutorHarness):
    """The behaviour every :class:`~salon.code_executor.CodeExecutor` must show, as pytest tests.

    What it pins down (agents and :class:`~salon.tools.PythonCodeExecutionTool` rely on all of it):

    - ``python`` and shell (``sh``, ``bash``, ``shell``) blocks run; language tags are case-insensitive.
    - The output holds everything the code wrote to stdout and stderr, complete and decoded as UTF-8.
    - ``exit_code`` is the code's exit status; blocks run in order and execution stops at the first
      failing block (later blocks do not run).
    - An unsupported language is a failed result (non-zero exit code) whose output names the language.
    - Code runs in the executor's working directory; files persist between calls; two executors with
      different directories do not see each other's files.
    - A block that runs past the executor's timeout is stopped and reported with exit code 124 and
      "timeout" in the output (the ``timeout`` command's convention).
    - Cancelling the token stops the running code and raises :class:`asyncio.CancelledError`.
    - ``start``/``stop`` may be called twice, the executor is an async context manager, and it works
      after ``restart``, after a timeout and after a cancellation.

    How an executor author uses it: subclass it in a test module, name the subclass ``Test...``, and
    override :meth:`make_executor`::

        from salon.testing import CodeExecutorConformanceSuite

        class TestMyExecutor(CodeExecutorConformanceSuite):
            async def make_executor(self, work_dir):
                return MyExecutor(work_dir=work_dir, timeout=self.execution_timeout)

    Class attributes to adjust: ``execution_timeout`` (seconds; give it to the executors you make as
    their timeout, and the timeout test waits that long), ``timeout`` (the bound on any single wait in
    a test; raise it for executors that start slowly, such as containers) and ``shell_languages``. A
    test that cannot apply may be switched off with ``test_name = None`` in the subclass, with a
    comment saying why.
    """

    timeout: ClassVar[float] = 30.0
    execution_timeout: ClassVar[float] = 2.0
    settle_delay: ClassVar[float] = 0.3
    shell_languages: ClassVar[tuple[str, ...]] = ("sh", "bash", "shell")

    # -- fixtures ---------------------------------------------------------------------------------------

    @pytest.fixture
    def work_dir(self, tmp_path: Path) -> Path:
        """The working directory of the ``executor`` fixture, there (and empty) before the executor is made."""
        path = tmp_path / "work"
        path.mkdir()
        return path

    # -- helpers ----------------------------------------------------------------------------------------

    async def run(
        self, executor: CodeExecutor, *blocks: tuple[str, str], token: CancellationToken | None = None
    ) -> CodeResult:
        """Run ``(language, code)`` blocks, bounded, and check that a :class:`CodeResult` came back."""
        return await self.run_blocks(executor, blocks, token)

    async def until_exists(self, path: Path) -> None:
        """Wait until the code under test has created ``path``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        while snapshot(path) is None:
            if loop.time() > deadline:
                pytest.fail(f"the code never created {path.name}: it did not start", pytrace=False)
            await asyncio.sleep(0.02)

    async def assert_usable(self, executor: CodeExecutor) -> None:
        """Assert that the executor still runs code."""
        result = await self.run(executor, ("python", "print('still here')"))
        assert (result.exit_code, "still here" in result.output) == (0, True), result

    # -- languages and output ---------------------------------------------------------------------------

    async def test_python_output(self, executor: CodeExecutor) -> None:
        """A Python block's stdout is the output; exit code 0."""
        result = await self.run(executor, ("python", "print('hello from python')"))
        assert result.exit_code == 0, result
        assert "hello from python" in result.output

    async def test_shell_languages(self, executor: CodeExecutor) -> None:
        """Each shell language tag runs its block."""
        for language in self.shell_languages:
            result = await self.run(executor, (language, f"echo shell-{language}"))
            assert result.exit_code == 0, (language, result)
            assert f"shell-{language}" in result.output, (language, result)

    async def test_language_tags_are_case_insensitive(self, executor: CodeExecutor) -> None:
        """``Python`` is ``python``."""
        result = await self.run(executor, ("Python", "print('capital')"))
        assert (result.exit_code, "capital" in result.output) == (0, True), result

    async def test_stderr_is_in_the_output(self, executor: CodeExecutor) -> None:
        """What the code writes to stderr is in the output too."""
        result = await self.run(executor, ("python", "import sys\nprint('to-out')\nprint('to-err', file=sys.stderr)"))
        assert "to-out" in result.output and "to-err" in result.output, result

    async def test_output_is_complete(self, executor: CodeExecutor) -> None:
        """Large output comes back whole."""
        result = await self.run(executor, ("python", "print('x' * 200_000)\nprint('end-marker')"))
        assert result.output.count("x") >= 200_000 and "end-marker" in result.output

    async def test_output_is_utf8(self, executor: CodeExecutor) -> None:
        """Non-ASCII output is decoded as UTF-8."""
        result = await self.run(executor, ("python", "print('h\\u00e9llo \\u2713 \\u65e5\\u672c')"))
        assert "héllo ✓ 日本" in result.output, result

    async def test_silent_code_has_empty_output(self, executor: CodeExecutor) -> None:
        """Code that prints nothing gives (at most) whitespace."""
        result = await self.run(executor, ("python", "x = 1"))
        assert (result.exit_code, result.output.strip()) == (0, ""), result

    # -- exit codes and failures ------------------------------------------------------------------------

    async def test_exit_codes_are_reported(self, executor: CodeExecutor) -> None:
        """The code's exit status is the result's exit code, for Python and shell."""
        assert (await self.run(executor, ("python", "import sys\nsys.exit(3)"))).exit_code == 3
        assert (await self.run(executor, (self.shell_languages[0], "exit 7"))).exit_code == 7

    async def test_exception_gives_its_traceback(self, executor: CodeExecutor) -> None:
        """An uncaught exception fails the block, and the traceback is in the output for the model to read."""
        result = await self.run(executor, ("python", "raise ValueError('kaboom')"))
        assert result.exit_code != 0
        assert "ValueError" in result.output and "kaboom" in result.output, result

    async def test_blocks_run_in_order(self, executor: CodeExecutor) -> None:
        """Blocks run one after another; their outputs appear in order."""
        result = await self.run(executor, ("python", "print('first-block')"), ("sh", "echo second-block"))
        assert result.exit_code == 0, result
        assert 0 <= result.output.find("first-block") < result.output.find("second-block"), result

    async def test_execution_stops_at_the_first_failing_block(self, executor: CodeExecutor, work_dir: Path) -> None:
        """After a block fails, later blocks do not run; the result carries the failing block's exit code."""
        result = await self.run(
            executor,
            ("python", "print('before-failure')"),
            ("python", "import sys\nsys.exit(2)"),
            ("python", "import pathlib\npathlib.Path('after.txt').write_text('ran')"),
        )
        assert result.exit_code == 2, result
        assert "before-failure" in result.output
        assert not (work_dir / "after.txt").exists(), "a block after the failing one ran"

    async def test_unsupported_language_is_a_failed_result(self, executor: CodeExecutor) -> None:
        """A block in a language the executor cannot run fails, and the output names the language."""
        result = await self.run(executor, ("klingon", "Qapla'"))
        assert result.exit_code != 0, result
        assert "klingon" in result.output.lower(), result

    # -- working directory ------------------------------------------------------------------------------

    async def test_code_runs_in_the_work_dir(self, executor: CodeExecutor, work_dir: Path) -> None:
        """Relative paths are relative to the executor's working directory."""
        result = await self.run(executor, ("python", "open('made.txt', 'w').write('made by code')"))
        assert result.exit_code == 0, result
        assert (work_dir / "made.txt").read_text() == "made by code"

    async def test_files_persist_between_calls(self, executor: CodeExecutor) -> None:
        """A file written by one call is there for the next."""
        await self.run(executor, ("sh", "echo kept > kept.txt"))
        result = await self.run(executor, ("python", "print(open('kept.txt').read().strip())"))
        assert "kept" in result.output, result

    async def test_executors_do_not_share_work_dirs(self, executor_factory: ExecutorFactory, tmp_path: Path) -> None:
        """Executors with different working directories do not see each other's files."""
        first = await executor_factory(tmp_path / "first")
        second = await executor_factory(tmp_path / "second")
        await self.run(first, ("python", "open('secret.txt', 'w').write('1')"))
        result = await self.run(
            second, ("python", "import os\nprint('exists' if os.path.exists('secret.txt') else 'absent')")
        )
        assert "absent" in result.output, result
        assert not (tmp_path / "second" / "secret.txt").exists()

    # -- timeouts and cancellation ----------------------------------------------------------------------

    async def test_timeout_stops_the_code(self, executor: CodeExecutor, work_dir: Path) -> None:
        """Code running past the timeout is stopped and reported with exit code 124 and "timeout" in the output."""
        blocks = [CodeBlock(code=_HEARTBEAT, language="python")]
        result = await self.within(
            executor.execute_code_blocks(blocks, CancellationToken()), seconds=self.execution_timeout + self.timeout
        )
        assert result.exit_code == 124, result
        assert "timeout" in result.output.lower(), result
        await self.assert_stopped(work_dir / "heartbeat.txt")
        await self.assert_usable(executor)

    async def test_cancellation_stops_the_code(self, executor: CodeExecutor, work_dir: Path) -> None:
        """Cancelling the token stops the running code and raises ``CancelledError``."""
        token = CancellationToken()
        blocks = [CodeBlock(code=_HEARTBEAT, language="python")]
        execution = asyncio.ensure_future(executor.execute_code_blocks(blocks, token))
        try:
            await self.until_exists(work_dir / "heartbeat.txt")
        finally:
            token.cancel()
        with pytest.raises(asyncio.CancelledError):
            await self.within(execution)
        await self.assert_stopped(work_dir / "heartbeat.txt")
        await self.assert_usable(executor)

    async def test_cancelled_token_runs_nothing(self, executor: CodeExecutor, work_dir: Path) -> None:
        """A token cancelled before the call raises ``CancelledError`` and runs no code."""
        token = CancellationToken()
        token.cancel()
        blocks = [CodeBlock(code="open('ran.txt', 'w').write('1')", language="python")]
        with pytest.raises(asyncio.CancelledError):
            await self.within(executor.execute_code_blocks(blocks, token))
        await asyncio.sleep(self.settle_delay)
        assert not (work_dir / "ran.txt").exists()

    # -- lifecycle --------------------------------------------------------------------------------------

    async def test_start_and_stop_are_idempotent(self, tmp_path: Path) -> None:
        """``start`` twice and ``stop`` twice are harmless; code runs in between."""
        executor = await self.make_executor(tmp_path)
        try:
            await self.within(executor.start())
            await self.within(executor.start())
            await self.assert_usable(executor)
            await self.within(executor.stop())
        finally:
            await self.dispose_executor(executor)

    async def test_async_context_manager(self, tmp_path: Path) -> None:
        """``async with`` starts the executor and gives it back; leaving stops it."""
        executor = await self.make_executor(tmp_path)
        try:
            async with executor as entered:
                assert entered is executor
                await self.assert_usable(executor)
        finally:
            await self.dispose_executor(executor)

    async def test_restart(self, executor: CodeExecutor) -> None:
        """After ``restart`` the executor runs code."""
        await self.within(executor.restart())
        await self.assert_usable(executor)
