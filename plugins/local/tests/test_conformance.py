"""The code executor conformance suite, sandboxed and unsandboxed."""

from __future__ import annotations

from pathlib import Path

from salon.code_executor import CodeExecutor
from salon.testing import CodeExecutorConformanceSuite
from salon_local import LocalCommandLineCodeExecutor


class TestSandboxed(CodeExecutorConformanceSuite):
    async def make_executor(self, work_dir: Path) -> CodeExecutor:
        executor = LocalCommandLineCodeExecutor(work_dir=work_dir, timeout=int(self.execution_timeout), sandbox=True)
        assert executor.sandboxed
        return executor


class TestUnsandboxed(CodeExecutorConformanceSuite):
    async def make_executor(self, work_dir: Path) -> CodeExecutor:
        return LocalCommandLineCodeExecutor(work_dir=work_dir, timeout=int(self.execution_timeout), sandbox=False)
