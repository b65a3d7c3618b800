"""The code executor conformance suite, run against a real container."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import pytest

from salon.code_executor import CodeExecutor
from salon.testing import CodeExecutorConformanceSuite
from salon_docker import DockerCommandLineCodeExecutor


class TestDockerExecutor(CodeExecutorConformanceSuite):
    timeout: ClassVar[float] = 60.0  # bounds container start-up too

    @pytest.fixture(autouse=True)
    def _image(self, test_image: str) -> None:
        self.image = test_image

    async def make_executor(self, work_dir: Path) -> CodeExecutor:
        return DockerCommandLineCodeExecutor(self.image, work_dir=work_dir, timeout=int(self.execution_timeout))
