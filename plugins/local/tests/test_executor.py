"""LocalCommandLineCodeExecutor's own options: functions, virtual environments, temp files, sandbox choice."""

from __future__ import annotations

import asyncio
import logging
import textwrap
import venv
from pathlib import Path

import pytest

import salon_local._executor as executor_module
from salon import CancellationToken
from salon.code_executor import CodeBlock, CodeResult, FunctionWithRequirements, with_requirements
from salon_local import LocalCommandLineCodeExecutor


def add_two(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


@with_requirements(python_packages=[], global_imports=["math"])
def hypotenuse(a: float, b: float) -> float:
    """The hypotenuse of a right triangle."""
    return math.hypot(a, b)  # type: ignore[name-defined,no-any-return]  # noqa: F821 - imported in the functions module


def code_files(directory: Path) -> list[Path]:
    return list(directory.glob("tmp_code_*"))


def exists(path: Path) -> bool:
    return path.exists()


async def run(executor: LocalCommandLineCodeExecutor, code: str, language: str = "python") -> CodeResult:
    async with asyncio.timeout(60):
        return await executor.execute_code_blocks(
            [CodeBlock(code=textwrap.dedent(code), language=language)], CancellationToken()
        )


@pytest.mark.parametrize("sandbox", [True, False])
async def test_functions_are_importable(tmp_path: Path, sandbox: bool) -> None:
    functions: list[object] = [add_two, hypotenuse]
    assert isinstance(hypotenuse, FunctionWithRequirements)
    async with LocalCommandLineCodeExecutor(work_dir=tmp_path, functions=functions, sandbox=sandbox) as executor:
        assert executor.functions == ["add_two", "hypotenuse"]
        result = await run(
            executor, "from functions import add_two, hypotenuse\nprint(add_two(2, 3), hypotenuse(3, 4))"
        )
    assert (result.exit_code, result.output.strip()) == (0, "5 5.0"), result


async def test_functions_module_name(tmp_path: Path) -> None:
    async with LocalCommandLineCodeExecutor(
        work_dir=tmp_path, functions=[add_two], functions_module="tools_mod", sandbox=True
    ) as executor:
        assert executor.functions_module == "tools_mod"
        result = await run(executor, "import tools_mod\nprint(tools_mod.add_two(1, 1))")
    assert result.output.strip() == "2", result
    with pytest.raises(ValueError, match="identifier"):
        LocalCommandLineCodeExecutor(functions_module="not a module")


def test_format_functions_for_prompt() -> None:
    executor = LocalCommandLineCodeExecutor(functions=[add_two], functions_module="helpers", sandbox=False)
    prompt = executor.format_functions_for_prompt()
    assert "from helpers import" in prompt
    assert "def add_two(a: int, b: int) -> int:" in prompt and "Add two numbers." in prompt


@pytest.mark.parametrize("cleanup", [True, False])
async def test_cleanup_temp_files(tmp_path: Path, cleanup: bool) -> None:
    async with LocalCommandLineCodeExecutor(work_dir=tmp_path, cleanup_temp_files=cleanup, sandbox=True) as executor:
        assert executor.cleanup_temp_files is cleanup
        await run(executor, "print(1)")
    left = code_files(tmp_path)
    assert (left == []) is cleanup, left


@pytest.mark.parametrize("sandbox", [True, False])
async def test_virtual_env_context(tmp_path: Path, sandbox: bool) -> None:
    builder = venv.EnvBuilder(with_pip=False)
    context = builder.ensure_directories(tmp_path / "venv")
    await asyncio.to_thread(builder.create, tmp_path / "venv")
    async with LocalCommandLineCodeExecutor(
        work_dir=tmp_path / "work", virtual_env_context=context, sandbox=sandbox
    ) as executor:
        result = await run(executor, "import sys\nprint(sys.prefix)")
        shell = await run(executor, "command -v python", language="sh")
    assert result.output.strip() == str(tmp_path / "venv"), result
    assert shell.output.strip().startswith(str(tmp_path / "venv")), shell


async def test_temporary_work_dir_is_removed_on_stop() -> None:
    executor = LocalCommandLineCodeExecutor(sandbox=True)
    async with executor:
        work_dir = executor.work_dir
        result = await run(executor, "open('x.txt', 'w').write('1')")
        assert result.exit_code == 0, result
        assert (work_dir / "x.txt").exists()
    assert not work_dir.exists()


async def test_cancellation_kills_sandboxed_code(tmp_path: Path) -> None:
    async with LocalCommandLineCodeExecutor(work_dir=tmp_path, timeout=30, sandbox=True) as executor:
        token = CancellationToken()
        code = "import time\nfor i in range(10**6):\n    open('beat', 'w').write(str(i)); time.sleep(0.02)"
        task = asyncio.ensure_future(executor.execute_code_blocks([CodeBlock(code, "python")], token))
        deadline = asyncio.get_running_loop().time() + 20
        while not exists(tmp_path / "beat"):
            assert asyncio.get_running_loop().time() < deadline, "the code never started"
            await asyncio.sleep(0.02)
        token.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(task, 10)
        before = (tmp_path / "beat").read_text()
        await asyncio.sleep(0.3)
        assert (tmp_path / "beat").read_text() == before
        assert (await run(executor, "print('ok')")).output.strip() == "ok"


async def test_stop_kills_running_code(tmp_path: Path) -> None:
    executor = LocalCommandLineCodeExecutor(work_dir=tmp_path, timeout=30, sandbox=True)
    await executor.start()
    task = asyncio.ensure_future(run(executor, "import time\ntime.sleep(60)"))
    await asyncio.sleep(0.5)
    await asyncio.wait_for(executor.stop(), 15)
    result = await asyncio.wait_for(task, 15)
    assert result.exit_code != 0


def test_without_bwrap_the_default_warns_and_runs_unsandboxed(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(executor_module, "bwrap_path", lambda: None)
    with caplog.at_level(logging.WARNING, logger="salon_local"):
        executor = LocalCommandLineCodeExecutor()
    assert not executor.sandboxed
    assert "UNSANDBOXED" in caplog.text and "apt-get install bubblewrap" in caplog.text
    with pytest.raises(RuntimeError, match="bubblewrap"):
        LocalCommandLineCodeExecutor(sandbox=True)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="salon_local"):
        assert not LocalCommandLineCodeExecutor(sandbox=False).sandboxed
    assert caplog.text == ""


def test_sandbox_is_on_by_default_with_bwrap() -> None:
    assert LocalCommandLineCodeExecutor().sandboxed
    assert not LocalCommandLineCodeExecutor(sandbox=False).sandboxed


async def test_unsandboxed_code_can_reach_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The opt-out is real: unsandboxed code sees the caller's environment (as AutoGen's executor does)."""
    monkeypatch.setenv("SALON_TEST_VISIBLE", "yes")
    async with LocalCommandLineCodeExecutor(work_dir=tmp_path, sandbox=False) as executor:
        result = await run(executor, "import os\nprint(os.environ['SALON_TEST_VISIBLE'])")
    assert result.output.strip() == "yes"


def test_invalid_arguments() -> None:
    with pytest.raises(ValueError, match="timeout"):
        LocalCommandLineCodeExecutor(timeout=0)
    with pytest.raises(ValueError, match="max_output_bytes"):
        LocalCommandLineCodeExecutor(max_output_bytes=0)
