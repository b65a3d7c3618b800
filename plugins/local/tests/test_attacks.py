"""The sandbox tested as an attacker would: each attack is stopped, reported, and the executor stays usable.

The shared attacks are ``salon.testing.CodeExecutorAttackSuite``; this module adds the sandbox's own
limits. Every test runs with the sandbox on (``sandbox=True``: a missing ``bwrap`` is an error, not a
skip). The network attack only targets servers the test starts on this machine, outside the sandbox.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from salon.code_executor import CodeExecutor
from salon.testing import CodeExecutorAttackSuite
from salon_local import LocalCommandLineCodeExecutor, SandboxLimits

LIMITS = SandboxLimits(cpu_seconds=2, memory_bytes=512 * 1024**2, max_processes=64, max_file_size_bytes=8 * 1024**2)


class TestSandboxAttacks(CodeExecutorAttackSuite):
    execution_timeout: ClassVar[float] = 5.0  # above the CPU limit, so an endless loop meets that first
    process_limit: ClassVar[int] = LIMITS.max_processes
    # RLIMIT_AS makes allocations fail (MemoryError) rather than getting the code killed.
    memory_kill_exit_codes: ClassVar[tuple[int, ...]] = ()
    # RLIMIT_CPU stops a busy loop with SIGXCPU, long before the timeout.
    endless_loop_exit_code: ClassVar[int] = 128 + 24
    endless_loop_note: ClassVar[str] = "CPU time"
    write_refusal_note: ClassVar[str | None] = "Read-only file system"

    async def make_executor(self, work_dir: Path) -> CodeExecutor:
        executor = LocalCommandLineCodeExecutor(
            work_dir=work_dir,
            timeout=int(self.execution_timeout),
            sandbox=True,
            sandbox_limits=LIMITS,
            max_output_bytes=self.max_output_bytes,
        )
        assert executor.sandboxed
        return executor

    async def test_huge_file_is_refused(self, executor: CodeExecutor, work_dir: Path) -> None:
        """RLIMIT_FSIZE: a file bigger than the limit cannot be written, not even in the work dir."""
        result = await self.run(executor, "open('big.bin', 'wb').write(b'x' * (64 * 1024 * 1024))")
        assert result.exit_code != 0, result
        assert "File too large" in result.output, result
        big = work_dir / "big.bin"
        assert not big.exists() or big.stat().st_size <= LIMITS.max_file_size_bytes
        await self.assert_usable(executor)
