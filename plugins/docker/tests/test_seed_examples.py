"""The seed guide's Docker code-execution examples, ported by rewriting imports.

``autogen_core`` became ``salon``, ``autogen_ext.code_executors.docker`` ``salon_docker`` and
``autogen_ext.tools.code_execution`` ``salon.tools``. Two deliberate differences, both forced by the
environment rather than the port: the examples name no image (AutoGen's default ``python:3-slim``, which
cannot be pulled here), so they get the locally built test image; and their working directories live
under ``tmp_path``. Where the guide is not valid AutoGen 0.7.5, AutoGen wins (see the last test).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from salon import CancellationToken
from salon.code_executor import CodeBlock
from salon.tools import PythonCodeExecutionTool
from salon_docker import CommandLineCodeResult, DockerCommandLineCodeExecutor


async def test_python_code_execution_tool(test_image: str) -> None:
    """Guide, "Built-in Tools": the tool run directly, without an agent."""
    # Create the tool.
    code_executor = DockerCommandLineCodeExecutor(test_image)
    await code_executor.start()
    try:
        code_execution_tool = PythonCodeExecutionTool(code_executor)
        cancellation_token = CancellationToken()

        # Use the tool directly without an agent.
        code = "print('Hello, world!')"
        result = await code_execution_tool.run_json({"code": code}, cancellation_token)
        printed = code_execution_tool.return_value_as_string(result)
    finally:
        await code_executor.stop()
    assert printed.strip() == "Hello, world!"


async def test_command_line_code_executor_docker(
    test_image: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Guide, "Command Line Code Executors / Docker": the executor as a context manager, a relative work_dir."""
    monkeypatch.chdir(tmp_path)
    work_dir = Path("coding")
    work_dir.mkdir(exist_ok=True)  # noqa: ASYNC240 - verbatim from the guide

    async with DockerCommandLineCodeExecutor(test_image, work_dir=work_dir) as executor:
        result = await executor.execute_code_blocks(
            code_blocks=[
                CodeBlock(language="python", code="print('Hello, World!')"),
            ],
            cancellation_token=CancellationToken(),
        )
    # The guide shows a 32-digit name; AutoGen 0.7.5 names the file by the code's SHA-256.
    digest = hashlib.sha256(b"print('Hello, World!')").hexdigest()
    assert result == CommandLineCodeResult(
        exit_code=0, output="Hello, World!\n", code_file=f"coding/tmp_code_{digest}.python"
    )
    assert repr(result).startswith("CommandLineCodeResult(exit_code=0, output='Hello, World!\\n', code_file='coding/")


async def test_studio_safe_usage_config(test_image: str, tmp_path: Path) -> None:
    """Guide, "AutoGen Studio / Safe Usage": its config is not valid AutoGen 0.7.5; the valid spelling runs.

    ``use_docker`` and ``docker_image`` are AutoGen 0.2 options; 0.7.5's executor rejects them (a
    TypeError), and so does Salon's. The 0.7.5 spelling is ``image=...``.
    """
    docker_config = {
        "use_docker": True,
        "docker_image": "python:3.11-slim",
        "timeout": 30,
        "work_dir": str(tmp_path / "autogen_work"),
    }
    with pytest.raises(TypeError, match="use_docker"):
        DockerCommandLineCodeExecutor(**docker_config, auto_remove=True, stop_container=True)  # type: ignore[arg-type]

    valid_config = {"image": test_image, "timeout": 30, "work_dir": str(tmp_path / "autogen_work")}
    code_executor = DockerCommandLineCodeExecutor(**valid_config, auto_remove=True, stop_container=True)  # type: ignore[arg-type]
    async with code_executor:
        result = await code_executor.execute_code_blocks(
            [CodeBlock(code="print(6 * 7)", language="python")], CancellationToken()
        )
    assert (result.exit_code, result.output) == (0, "42\n")
    assert code_executor.timeout == 30
