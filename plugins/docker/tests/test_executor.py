"""DockerCommandLineCodeExecutor's own behaviour: AutoGen's options, the safe defaults, and what relaxes them."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import inspect
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker  # type: ignore[import-untyped]
import pytest
from docker.errors import NotFound  # type: ignore[import-untyped]

from salon import CancellationToken
from salon.code_executor import CodeBlock, FunctionWithRequirements, with_requirements
from salon_docker import CommandLineCodeResult, DockerCommandLineCodeExecutor


def add_two(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


@with_requirements(python_packages=[], global_imports=["math"])
def hypotenuse(a: float, b: float) -> float:
    """The hypotenuse of a right triangle."""
    return math.hypot(a, b)  # type: ignore[name-defined,no-any-return]  # noqa: F821 - imported in the functions module


@pytest.fixture
def client() -> Iterator[Any]:
    client = docker.from_env()
    yield client
    client.close()


def container_gone(client: Any, name: str) -> bool:
    try:
        client.containers.get(name)
    except NotFound:
        return True
    return False


def wait_removed(client: Any, name: str) -> None:
    with contextlib.suppress(NotFound):
        client.api.wait(name, timeout=20, condition="removed")


async def until_gone(client: Any, name: str) -> None:
    """Docker removes an auto-remove container shortly after it stops; wait for that, bounded."""
    await asyncio.to_thread(wait_removed, client, name)
    assert container_gone(client, name)


def wait_for_file(path: Path, seconds: float = 30) -> None:
    """Block until the contained code created ``path`` (it is in the mounted work dir); run in a thread."""
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert time.monotonic() < deadline, f"{path.name} never appeared: the code did not start"
        time.sleep(0.02)


def exists(path: Path) -> bool:
    return path.exists()


def real_path(path: Path) -> str:
    return str(path.resolve())


def read(path: str | Path) -> str:
    return Path(path).read_text()


async def run(executor: DockerCommandLineCodeExecutor, code: str, language: str = "python") -> CommandLineCodeResult:
    async with asyncio.timeout(60):
        return await executor.execute_code_blocks(
            [CodeBlock(code=textwrap.dedent(code), language=language)], CancellationToken()
        )


# -- safe defaults ----------------------------------------------------------------------------------------


async def test_the_container_is_locked_down_by_default(test_image: str, tmp_path: Path, client: Any) -> None:
    async with DockerCommandLineCodeExecutor(test_image, work_dir=tmp_path) as executor:
        attrs = client.containers.get(executor.container_name).attrs
    host = attrs["HostConfig"]
    assert host["NetworkMode"] == "none"
    assert host["Memory"] == host["MemorySwap"] == 512 * 1024**2
    assert host["PidsLimit"] == 256
    assert host["ReadonlyRootfs"] is True
    assert "no-new-privileges" in host["SecurityOpt"]
    assert host["CapDrop"] == ["ALL"]
    assert host["Tmpfs"] == {"/tmp": "rw,nosuid,nodev,size=64m"}
    user = attrs["Config"]["User"]
    assert user and not user.startswith("0:") and user != "root"
    assert [(m["Source"], m["Destination"], m["RW"]) for m in attrs["Mounts"]] == [
        (real_path(tmp_path), "/workspace", True)
    ]


async def test_relaxing_options(test_image: str, tmp_path: Path) -> None:
    """Each safe default has an option that lifts it, for images and tasks that need it."""
    async with DockerCommandLineCodeExecutor(
        test_image,
        work_dir=tmp_path,
        network_mode="host",
        mem_limit=None,
        pids_limit=None,
        user="0:0",
        read_only=False,
        no_new_privileges=False,
    ) as executor:
        result = await run(
            executor,
            """
            import os, socket
            open('/etc/salon-relaxed', 'w').write('x')
            status = open('/proc/self/status').read()
            print(os.getuid(), 'lo' in [n for _, n in socket.if_nameindex()], len(socket.if_nameindex()) > 1,
                  'NoNewPrivs:\\t0' in status)
            """,
        )
    assert (result.exit_code, result.output.split()) == (0, ["0", "True", "True", "True"]), result


def test_default_image_is_autogens() -> None:
    assert inspect.signature(DockerCommandLineCodeExecutor).parameters["image"].default == "python:3-slim"


# -- AutoGen's options ------------------------------------------------------------------------------------


async def test_code_file_is_reported_and_kept(test_image: str, tmp_path: Path) -> None:
    async with DockerCommandLineCodeExecutor(test_image, work_dir=tmp_path) as executor:
        result = await run(executor, "print('Hello, World!')")
    digest = hashlib.sha256(b"print('Hello, World!')").hexdigest()
    assert result == CommandLineCodeResult(
        exit_code=0, output="Hello, World!\n", code_file=str(tmp_path / f"tmp_code_{digest}.python")
    )
    assert (tmp_path / f"tmp_code_{digest}.python").read_text() == "print('Hello, World!')"


async def test_python_variant_tags(test_image: str, tmp_path: Path) -> None:
    """``py`` is python; ``python3`` runs that interpreter, as in AutoGen."""
    async with DockerCommandLineCodeExecutor(test_image, work_dir=tmp_path) as executor:
        for language in ("py", "python3", "PYTHON"):
            result = await run(executor, "import sys; print(sys.version_info[0])", language=language)
            assert (result.exit_code, result.output) == (0, "3\n"), (language, result)


async def test_delete_tmp_files(test_image: str, tmp_path: Path) -> None:
    async with DockerCommandLineCodeExecutor(test_image, work_dir=tmp_path, delete_tmp_files=True) as executor:
        result = await run(executor, "echo gone", language="sh")
    assert result.exit_code == 0 and result.code_file is not None, result
    assert not exists(Path(result.code_file))
    assert not any(name.startswith("tmp_code_") for name in os.listdir(tmp_path))


async def test_filename_comment_names_the_file(test_image: str, tmp_path: Path) -> None:
    async with DockerCommandLineCodeExecutor(test_image, work_dir=tmp_path) as executor:
        result = await run(executor, "# filename: pkg/hello.py\nprint('named')")
        assert (result.exit_code, result.output) == (0, "named\n"), result
        assert result.code_file == str(tmp_path / "pkg" / "hello.py")
        escaping = await run(executor, "# filename: ../escape.py\nprint('escaped')")
    assert (escaping.exit_code, escaping.output) == (1, "Filename is not in the workspace"), escaping
    assert not (tmp_path.parent / "escape.py").exists()


async def test_pip_install_lines_are_silenced(test_image: str, tmp_path: Path) -> None:
    """``pip install`` gets ``-qqq`` (here it fails anyway: the image has no pip and there is no network)."""
    async with DockerCommandLineCodeExecutor(test_image, work_dir=tmp_path) as executor:
        result = await run(executor, "pip install requests", language="sh")
    assert result.exit_code != 0
    assert result.code_file is not None
    assert read(result.code_file) == "pip install -qqq requests"


async def test_functions_are_importable(test_image: str, tmp_path: Path) -> None:
    functions: list[object] = [add_two, hypotenuse]
    async with DockerCommandLineCodeExecutor(
        test_image, work_dir=tmp_path, functions=functions, functions_module="toolbox"
    ) as executor:
        result = await run(executor, "from toolbox import add_two, hypotenuse\nprint(add_two(2, 3), hypotenuse(3, 4))")
    assert (result.exit_code, result.output.strip()) == (0, "5 5.0"), result
    assert (tmp_path / "toolbox.py").exists()


async def test_functions_that_fail_to_load_are_an_error(test_image: str, tmp_path: Path) -> None:
    broken = FunctionWithRequirements.from_callable(add_two, global_imports=["salon_no_such_module"])
    async with DockerCommandLineCodeExecutor(test_image, work_dir=tmp_path, functions=[broken]) as executor:
        with pytest.raises(ValueError, match="Functions failed to load"):
            await run(executor, "print(1)")


async def test_function_packages_need_a_network(test_image: str, tmp_path: Path) -> None:
    """Installing packages cannot work in the default container; the error says what to do instead."""
    needs = FunctionWithRequirements.from_callable(add_two, python_packages=["salon-nonexistent-package"])
    async with DockerCommandLineCodeExecutor(test_image, work_dir=tmp_path, functions=[needs]) as executor:
        with pytest.raises(ValueError, match="network_mode='none'"):
            await run(executor, "print(1)")


async def test_init_command_runs_once_and_its_services_survive(test_image: str, tmp_path: Path) -> None:
    """init_command runs before any code; a process it leaves running is not killed with the code."""
    async with DockerCommandLineCodeExecutor(
        test_image, work_dir=tmp_path, init_command="echo ready > /tmp/init.txt; sleep 1000 &"
    ) as executor:
        count_sleepers = (
            "import os\n"
            "cmds = [open(f'/proc/{p}/cmdline').read() for p in os.listdir('/proc') if p.isdigit()]\n"
            "print(open('/tmp/init.txt').read().strip(), sum(c.startswith('sleep') for c in cmds))"
        )
        first = await run(executor, count_sleepers)
        second = await run(executor, count_sleepers)
    assert first.output.split() == second.output.split() == ["ready", "1"], (first, second)


async def test_container_name_and_auto_remove(test_image: str, tmp_path: Path, client: Any) -> None:
    name = f"salon-test-{os.getpid()}-{tmp_path.name}"
    async with DockerCommandLineCodeExecutor(test_image, name, work_dir=tmp_path, auto_remove=False) as executor:
        assert executor.container_name == name
        assert client.containers.get(name).status == "running"
    try:
        kept = client.containers.get(name)
        assert kept.status == "exited"
        # Starting again with the same name replaces the stopped container.
        async with DockerCommandLineCodeExecutor(test_image, name, work_dir=tmp_path) as executor:
            assert (await run(executor, "print('again')")).output == "again\n"
        await until_gone(client, name)
    finally:
        if not container_gone(client, name):
            client.containers.get(name).remove(force=True)


async def test_extra_volumes(test_image: str, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "input.txt").write_text("from the host")
    work = tmp_path / "work"
    async with DockerCommandLineCodeExecutor(
        test_image, work_dir=work, extra_volumes={str(data): {"bind": "/mnt/data", "mode": "ro"}}
    ) as executor:
        result = await run(
            executor,
            """
            print(open('/mnt/data/input.txt').read())
            try:
                open('/mnt/data/new.txt', 'w')
            except OSError as error:
                print(error.strerror)
            """,
        )
    assert result.output.splitlines() == ["from the host", "Read-only file system"], result


async def test_bind_dir_is_what_docker_mounts(test_image: str, tmp_path: Path, client: Any) -> None:
    """work_dir is this process's view, bind_dir the daemon's (here: a symlink and its target)."""
    real = tmp_path / "real"
    real.mkdir()
    view = tmp_path / "view"
    view.symlink_to(real)
    async with DockerCommandLineCodeExecutor(test_image, work_dir=view, bind_dir=real) as executor:
        assert (executor.work_dir, executor.bind_dir) == (view, real)
        mounts = client.containers.get(executor.container_name).attrs["Mounts"]
        result = await run(executor, "open('out.txt', 'w').write('through bind_dir')")
    assert [m["Source"] for m in mounts] == [str(real.resolve())]
    assert result.exit_code == 0, result
    assert (real / "out.txt").read_text() == "through bind_dir"


async def test_timeout_is_reported_as_autogen_does(test_image: str, tmp_path: Path) -> None:
    async with DockerCommandLineCodeExecutor(test_image, work_dir=tmp_path, timeout=1) as executor:
        result = await run(executor, "sleep 30", language="bash")
        assert result.exit_code == 124
        assert result.output.startswith("\n Timeout"), result
        assert (await run(executor, "echo fine", language="bash")).output == "fine\n"


async def test_temporary_work_dir_is_removed_on_stop(test_image: str, client: Any) -> None:
    executor = DockerCommandLineCodeExecutor(test_image)
    with pytest.raises(RuntimeError, match="start"):
        _ = executor.work_dir
    async with executor:
        work_dir = executor.work_dir
        await run(executor, "open('x.txt', 'w').write('x')")
        assert (work_dir / "x.txt").exists()
    assert not work_dir.exists()
    await until_gone(client, executor.container_name)


async def test_stop_kills_running_code(test_image: str, tmp_path: Path, client: Any) -> None:
    executor = DockerCommandLineCodeExecutor(test_image, work_dir=tmp_path)
    await executor.start()
    running = asyncio.ensure_future(run(executor, "import time\nopen('started', 'w')\ntime.sleep(600)"))
    await asyncio.to_thread(wait_for_file, tmp_path / "started")
    await executor.stop()
    await until_gone(client, executor.container_name)
    result = await asyncio.wait_for(running, 30)
    assert result.exit_code != 0
    assert "The container was stopped while the code ran" in result.output, result


async def test_concurrent_calls_take_turns(test_image: str, tmp_path: Path) -> None:
    async with DockerCommandLineCodeExecutor(test_image, work_dir=tmp_path) as executor:
        results = await asyncio.gather(*(run(executor, f"print({i})") for i in range(4)))
    assert [r.output for r in results] == ["0\n", "1\n", "2\n", "3\n"]


# -- errors -----------------------------------------------------------------------------------------------


async def test_missing_image_says_how_to_build_one(tmp_path: Path) -> None:
    executor = DockerCommandLineCodeExecutor("salon-no-such-image:never", work_dir=tmp_path)
    with pytest.raises(RuntimeError, match="salon-no-such-image:never") as error:
        await executor.start()
    assert "build-test-image.sh" in str(error.value) and "docs/plugins/docker.md" in str(error.value)
    assert not executor.running


async def test_unreachable_daemon_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-daemon.sock")
    executor = DockerCommandLineCodeExecutor(work_dir=tmp_path)
    with pytest.raises(RuntimeError, match="Cannot reach the Docker daemon") as error:
        await executor.start()
    assert "no-daemon.sock" in str(error.value) and "docs/plugins/docker.md" in str(error.value)


async def test_running_code_needs_a_started_executor(test_image: str, tmp_path: Path) -> None:
    executor = DockerCommandLineCodeExecutor(test_image, work_dir=tmp_path)
    with pytest.raises(ValueError, match="start"):
        await run(executor, "print(1)")
    with pytest.raises(ValueError, match="start"):
        await executor.restart()
    async with executor:
        with pytest.raises(ValueError, match="No code blocks"):
            await executor.execute_code_blocks([], CancellationToken())


def test_invalid_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="timeout"):
        DockerCommandLineCodeExecutor(timeout=0)
    with pytest.raises(ValueError, match="identifier"):
        DockerCommandLineCodeExecutor(functions_module="not a module")
    with pytest.raises(ValueError, match="max_output_bytes"):
        DockerCommandLineCodeExecutor(max_output_bytes=0)
    with pytest.raises(ValueError, match="pids_limit"):
        DockerCommandLineCodeExecutor(pids_limit=2)
    with pytest.raises(ValueError, match="network_mode='bridge'"):
        DockerCommandLineCodeExecutor(extra_hosts={"example.internal": "10.1.2.3"})


# -- stop_container: the exit hook ------------------------------------------------------------------------


@pytest.mark.parametrize("stop_container", [True, False])
def test_stop_container_at_exit(test_image: str, tmp_path: Path, client: Any, stop_container: bool) -> None:
    name = f"salon-test-exit-{os.getpid()}-{stop_container}"
    script = textwrap.dedent(
        f"""
        import asyncio
        from salon_docker import DockerCommandLineCodeExecutor

        async def main():
            executor = DockerCommandLineCodeExecutor(
                {test_image!r}, {name!r}, work_dir={str(tmp_path)!r}, stop_container={stop_container}
            )
            await executor.start()

        asyncio.run(main())
        """
    )
    try:
        subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
        if stop_container:
            assert asyncio.run(_gone_eventually(client, name))
        else:
            assert client.containers.get(name).status == "running"
    finally:
        if not container_gone(client, name):
            client.containers.get(name).remove(force=True)


async def _gone_eventually(client: Any, name: str) -> bool:
    await until_gone(client, name)
    return True
