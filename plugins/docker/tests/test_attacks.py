"""The container tested as an attacker would: each attack is stopped, reported, and the executor stays usable.

The shared attacks are ``salon.testing.CodeExecutorAttackSuite``; this module adds the container's own.
The executor keeps its defaults for the limits that matter (network, user, read-only root, no new
privileges); the memory, process and output bounds are lowered to keep the tests fast. The network
attack only targets servers the test starts on this machine.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import pytest

from salon.code_executor import CodeExecutor
from salon.testing import CodeExecutorAttackSuite
from salon_docker import DockerCommandLineCodeExecutor

MEM_LIMIT = "256m"


class TestContainerAttacks(CodeExecutorAttackSuite):
    # At the memory limit the kernel's OOM killer kills the code (not the container's PID 1) and the
    # result says why; a big single allocation may fail with MemoryError first.
    memory_kill_exit_codes: ClassVar[tuple[int, ...]] = (137,)
    memory_kill_note: ClassVar[str] = f"memory limit (mem_limit={MEM_LIMIT})"
    write_refusal_note: ClassVar[str | None] = "Read-only file system"

    @pytest.fixture(autouse=True)
    def _image(self, test_image: str) -> None:
        self.image = test_image

    async def make_executor(self, work_dir: Path) -> CodeExecutor:
        return DockerCommandLineCodeExecutor(
            self.image,
            work_dir=work_dir,
            timeout=int(self.execution_timeout),
            mem_limit=MEM_LIMIT,
            pids_limit=self.process_limit,
            max_output_bytes=self.max_output_bytes,
        )

    async def test_tmp_is_bounded(self, executor: CodeExecutor) -> None:
        """The writable /tmp is a small in-memory file system: filling it fails instead of eating memory or disk."""
        result = await self.run(executor, "open('/tmp/big', 'wb').write(b'x' * (100 * 1024 * 1024))")
        assert result.exit_code != 0, result
        assert "No space left on device" in result.output, result
        await self.assert_usable(executor)
