"""PythonCodeExecutionTool over a code executor (the tiny subprocess executor used for tests)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from subprocess_executor import SubprocessCodeExecutor

from salon import CancellationToken
from salon.tools import CodeExecutionResult, PythonCodeExecutionTool, StaticWorkbench


@pytest_asyncio.fixture
async def executor(tmp_path: Path) -> AsyncIterator[SubprocessCodeExecutor]:
    async with SubprocessCodeExecutor(tmp_path, timeout=5) as started:
        yield started


async def test_seed_example_prints_hello_world(executor: SubprocessCodeExecutor) -> None:
    # The seed's example, imports rewritten (the executor stands in for DockerCommandLineCodeExecutor).
    code_execution_tool = PythonCodeExecutionTool(executor)
    result = await code_execution_tool.run_json({"code": "print('Hello, world!')"}, CancellationToken())
    assert code_execution_tool.return_value_as_string(result) == "Hello, world!\n"
    assert result == CodeExecutionResult(success=True, output="Hello, world!\n")


def test_schema_matches_autogen(executor: SubprocessCodeExecutor) -> None:
    assert PythonCodeExecutionTool(executor).schema == {
        "name": "CodeExecutor",
        "description": "Execute Python code blocks.",
        "parameters": {
            "type": "object",
            "properties": {
                "code": {
                    "description": "The contents of the Python code block that should be executed",
                    "title": "Code",
                    "type": "string",
                }
            },
            "required": ["code"],
            "additionalProperties": False,
        },
        "strict": False,
    }


async def test_failing_code_is_a_result_with_the_traceback(executor: SubprocessCodeExecutor) -> None:
    tool = PythonCodeExecutionTool(executor)
    result = await tool.run_json({"code": "1 / 0"}, CancellationToken())
    assert result.success is False
    assert "ZeroDivisionError" in tool.return_value_as_string(result)


async def test_through_a_workbench(executor: SubprocessCodeExecutor) -> None:
    workbench = StaticWorkbench([PythonCodeExecutionTool(executor)])
    ok = await workbench.call_tool("CodeExecutor", {"code": "print(6 * 7)"})
    assert (ok.is_error, ok.to_text()) == (False, "42\n")
    failed = await workbench.call_tool("CodeExecutor", {"code": "import sys; sys.exit(3)"})
    assert failed.is_error is False  # the call worked; the code's failure is in the output for the model
    missing = await workbench.call_tool("CodeExecutor", {})
    assert missing.is_error and "argument 'code': is required but missing" in missing.to_text()


async def test_cancelling_stops_the_code(executor: SubprocessCodeExecutor, tmp_path: Path) -> None:
    token = CancellationToken()
    code = "import pathlib, time\npathlib.Path('started').touch()\ntime.sleep(60)"
    call = asyncio.ensure_future(PythonCodeExecutionTool(executor).run_json({"code": code}, token))
    for _ in range(500):
        if (tmp_path / "started").exists():
            break
        await asyncio.sleep(0.01)
    token.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(call, 5)
