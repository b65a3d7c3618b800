"""A tiny subprocess-based code executor, only for testing the code executor conformance suite.

It is not a product: real executors (sandboxed, containerised) come from the salon-local and
salon-docker plugins. Its switches make it misbehave on purpose, to check that the suite notices.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from pathlib import Path

from salon import CancellationToken
from salon.code_executor import CodeBlock, CodeExecutor, CodeResult

_SHELLS = {"sh": "sh", "shell": "sh", "bash": "bash"}


class SubprocessCodeExecutor(CodeExecutor):
    def __init__(
        self,
        work_dir: Path,
        *,
        timeout: float = 60.0,
        kill_on_cancel: bool = True,
        stop_at_failure: bool = True,
        timeout_exit_code: int = 124,
    ) -> None:
        self.work_dir = work_dir
        self.timeout = timeout
        self.kill_on_cancel = kill_on_cancel
        self.stop_at_failure = stop_at_failure
        self.timeout_exit_code = timeout_exit_code
        self.started = False
        self.starts = 0
        self.left_running: list[asyncio.subprocess.Process] = []  # with kill_on_cancel=False: the test kills them

    def _argv(self, block: CodeBlock) -> list[str] | None:
        language = block.language.lower()
        if language in ("python", "py"):
            return [sys.executable, "-c", block.code]
        if language in _SHELLS:
            return [_SHELLS[language], "-c", block.code]
        return None

    async def execute_code_blocks(
        self, code_blocks: list[CodeBlock], cancellation_token: CancellationToken
    ) -> CodeResult:
        if not self.started:
            raise ValueError("The executor is not started: call start() or use `async with`.")
        if cancellation_token.is_cancelled():
            raise asyncio.CancelledError
        output: list[str] = []
        exit_code = 0
        for block in code_blocks:
            argv = self._argv(block)
            if argv is None:
                output.append(f"Unsupported language: {block.language}")
                exit_code = 1
                break
            proc = await asyncio.create_subprocess_exec(
                *argv,
                cwd=self.work_dir,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,
                env={**os.environ, "PYTHONIOENCODING": "utf-8"},
            )
            try:
                async with asyncio.timeout(self.timeout):
                    out, _ = await cancellation_token.link_future(asyncio.ensure_future(proc.communicate()))
            except TimeoutError:
                await kill_group(proc)
                output.append("Timeout")
                exit_code = self.timeout_exit_code
                break
            except asyncio.CancelledError:
                if self.kill_on_cancel:
                    await kill_group(proc)
                else:
                    self.left_running.append(proc)
                raise
            output.append(out.decode("utf-8", errors="replace"))
            exit_code = proc.returncode or 0
            if exit_code != 0 and self.stop_at_failure:
                break
        return CodeResult(exit_code=exit_code, output="".join(output))

    async def start(self) -> None:
        self.started = True
        self.starts += 1

    async def stop(self) -> None:
        self.started = False

    async def restart(self) -> None:
        await self.stop()
        await self.start()


async def kill_group(proc: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    await proc.wait()
