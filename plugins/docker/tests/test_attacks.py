"""The container tested as an attacker would: each attack is stopped, reported, and the executor stays usable.

Every test uses the executor's defaults for the limits that matter (network, user, read-only root, no
new privileges); the memory, process and output bounds are lowered to keep the tests fast. The network
test only ever targets a server this test starts on this machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import socket
import textwrap
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from salon import CancellationToken
from salon.code_executor import CodeBlock, CodeResult
from salon_docker import DockerCommandLineCodeExecutor

PIDS_LIMIT = 64
MAX_OUTPUT = 256 * 1024
TIMEOUT = 4


@pytest_asyncio.fixture
async def executor(test_image: str, tmp_path: Path) -> AsyncIterator[DockerCommandLineCodeExecutor]:
    async with DockerCommandLineCodeExecutor(
        test_image,
        work_dir=tmp_path / "work",
        timeout=TIMEOUT,
        mem_limit="256m",
        pids_limit=PIDS_LIMIT,
        max_output_bytes=MAX_OUTPUT,
    ) as executor:
        yield executor


def exists(path: Path) -> bool:
    return path.exists()


async def run(executor: DockerCommandLineCodeExecutor, code: str, language: str = "python") -> CodeResult:
    async with asyncio.timeout(60):
        return await executor.execute_code_blocks(
            [CodeBlock(code=textwrap.dedent(code), language=language)], CancellationToken()
        )


async def assert_usable(executor: DockerCommandLineCodeExecutor) -> None:
    result = await run(executor, "print('still here')")
    assert (result.exit_code, result.output.strip()) == (0, "still here"), result


async def assert_nothing_left(executor: DockerCommandLineCodeExecutor) -> None:
    """Only the container's PID 1 and the code asking are running: whatever earlier blocks started is gone."""
    result = await run(executor, "import os; print(sum(p.isdigit() for p in os.listdir('/proc')))")
    assert (result.exit_code, result.output.strip()) == (0, "2"), result


def host_addresses() -> list[str]:
    """This machine's addresses a container could try to reach it on."""
    addresses = {"127.0.0.1"}
    with contextlib.suppress(OSError):
        addresses.update(str(info[4][0]) for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET))
    return sorted(addresses)


async def test_code_runs_unprivileged(executor: DockerCommandLineCodeExecutor) -> None:
    """Not root, no capabilities, no way to gain privileges."""
    result = await run(
        executor,
        """
        import os
        status = dict(line.split(":\\t", 1) for line in open("/proc/self/status").read().splitlines() if ":\\t" in line)
        print(os.getuid(), os.geteuid(), os.getgid(), int(status["CapEff"], 16), status["NoNewPrivs"].strip())
        """,
    )
    assert result.exit_code == 0, result
    uid, euid, gid, caps, no_new_privs = (int(part) for part in result.output.split())
    assert 0 not in (uid, euid, gid), result
    assert (caps, no_new_privs) == (0, 1), result
    if os.geteuid() == 0:
        assert uid == 65534, result


async def test_network_is_unreachable(executor: DockerCommandLineCodeExecutor) -> None:
    """Only ``lo`` exists in the container; a server on this machine cannot be reached on any of its addresses."""
    connected = asyncio.Event()

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connected.set()
        writer.close()

    addresses = host_addresses()
    servers = [await asyncio.start_server(on_connect, address, 0) for address in addresses]
    targets = [
        (address, server.sockets[0].getsockname()[1]) for address, server in zip(addresses, servers, strict=True)
    ]
    try:
        probe = socket.create_connection(targets[0], timeout=5)  # sanity check: reachable from outside
        probe.close()
        await asyncio.wait_for(connected.wait(), 5)
        connected.clear()
        result = await run(
            executor,
            f"""
            import socket
            print(sorted(name for _, name in socket.if_nameindex()))
            for target in {targets!r}:
                try:
                    socket.create_connection(target, timeout=3)
                    print("CONNECTED", target)
                except OSError as error:
                    print("refused", type(error).__name__)
            """,
        )
    finally:
        for server in servers:
            server.close()
            await server.wait_closed()
    assert "CONNECTED" not in result.output, result
    assert "['lo']" in result.output, result
    assert result.output.count("refused") == len(targets), result
    assert not connected.is_set(), "the contained code reached this machine's server"
    await assert_usable(executor)


async def test_writes_outside_the_work_dir_fail(executor: DockerCommandLineCodeExecutor, tmp_path: Path) -> None:
    """The root file system is read-only; what the code writes to /tmp stays in the container."""
    targets = [str(tmp_path / "outside.txt"), "/etc/salon-attack", "/usr/salon-attack", "/salon-attack"]
    result = await run(
        executor,
        f"""
        import sys
        failed = 0
        for target in {targets!r}:
            try:
                open(target, "w").write("pwned")
                print("WROTE", target)
            except OSError as error:
                failed += 1
                print("refused", type(error).__name__, error.strerror)
        sys.exit(0 if failed == {len(targets)} else 1)
        """,
    )
    assert "WROTE" not in result.output, result
    assert result.exit_code == 0, result
    assert "Read-only file system" in result.output, result
    assert not exists(tmp_path / "outside.txt")
    result = await run(executor, "open('/tmp/salon-private', 'w').write('x'); print('ok')")
    assert result.exit_code == 0, result
    assert not exists(Path("/tmp/salon-private"))
    await assert_usable(executor)


async def test_tmp_is_bounded(executor: DockerCommandLineCodeExecutor) -> None:
    """The writable /tmp is a small in-memory file system: filling it fails instead of eating memory or disk."""
    result = await run(executor, "open('/tmp/big', 'wb').write(b'x' * (100 * 1024 * 1024))")
    assert result.exit_code != 0, result
    assert "No space left on device" in result.output, result
    await assert_usable(executor)


async def test_fork_bomb_is_bounded(executor: DockerCommandLineCodeExecutor) -> None:
    """Forking without bound hits the process limit; the children die with the block."""
    started = time.monotonic()
    result = await run(
        executor,
        """
        import os, time
        children = 0
        try:
            while True:
                if os.fork() == 0:
                    time.sleep(60)
                    os._exit(0)
                children += 1
        except OSError as error:
            print("fork refused after", children, type(error).__name__, flush=True)
            raise SystemExit(3)
        """,
    )
    assert result.exit_code == 3, result
    count = int(result.output.split("fork refused after")[1].split()[0])
    assert count < PIDS_LIMIT, result
    assert time.monotonic() - started < TIMEOUT, "the block waited for its sleeping children"
    await assert_nothing_left(executor)


async def test_sustained_fork_bomb_is_killed(executor: DockerCommandLineCodeExecutor) -> None:
    """Every process keeps forking, holding the process limit full until the timeout kills them all."""
    result = await run(
        executor,
        """
        import os, time
        while True:
            try:
                os.fork()
            except OSError:
                time.sleep(0.01)
        """,
    )
    assert result.exit_code == 124, result
    await assert_nothing_left(executor)


async def test_shell_fork_bomb_is_stopped(executor: DockerCommandLineCodeExecutor) -> None:
    started = time.monotonic()
    result = await run(executor, "bomb() { bomb | bomb & }; bomb; sleep 60", language="bash")
    assert result.exit_code == 124, result
    assert "timeout" in result.output.lower()
    assert time.monotonic() - started < TIMEOUT + 20
    await assert_nothing_left(executor)


async def test_unbounded_allocation_is_killed(executor: DockerCommandLineCodeExecutor) -> None:
    """At the memory limit the kernel kills the code (not the container's PID 1); the result says why."""
    result = await run(executor, "chunks = []\nwhile True:\n    chunks.append(bytearray(50 * 1024 * 1024))")
    assert result.exit_code != 0, result
    if result.exit_code == 137:
        assert "memory limit (mem_limit=256m)" in result.output, result
    else:
        assert "MemoryError" in result.output, result
    await assert_usable(executor)


async def test_infinite_loop_hits_the_timeout(executor: DockerCommandLineCodeExecutor) -> None:
    started = time.monotonic()
    result = await run(executor, "print('looping', flush=True)\nwhile True:\n    pass")
    assert result.exit_code == 124, result
    assert "looping" in result.output and "Timeout" in result.output, result
    assert TIMEOUT <= time.monotonic() - started < TIMEOUT + 10
    await assert_usable(executor)


async def test_printing_gigabytes_is_cut_off(executor: DockerCommandLineCodeExecutor) -> None:
    """Endless output is cut at the bound with a note; this process's memory does not grow with it."""
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    result = await run(executor, "import sys\nwhile True:\n    sys.stdout.write('x' * 1_000_000)")
    assert time.monotonic() - started < TIMEOUT  # stopped at the bound, not at the timeout
    assert result.exit_code != 0, result
    assert "output cut" in result.output, result.output[-200:]
    assert len(result.output) < MAX_OUTPUT + 1000
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert rss_after - rss_before < 200 * 1024, (rss_before, rss_after)  # KiB: under 200 MiB
    result = await run(executor, "yes salon", language="sh")
    assert "output cut" in result.output
    await assert_usable(executor)


async def test_environment_secrets_do_not_leak(
    executor: DockerCommandLineCodeExecutor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SALON_TEST_SECRET", "hunter2")
    result = await run(executor, "import os\nprint(os.environ.get('SALON_TEST_SECRET', 'absent'))")
    assert result.output.strip() == "absent", result


async def test_escaped_daemon_dies_with_the_block(executor: DockerCommandLineCodeExecutor, tmp_path: Path) -> None:
    """A process that detaches (new session, double fork, closed output) does not outlive its block."""
    result = await run(
        executor,
        """
        import os, time
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                devnull = os.open(os.devnull, os.O_RDWR)
                for fd in (0, 1, 2):
                    os.dup2(devnull, fd)
                for i in range(200):
                    open('daemon.txt', 'w').write(str(i))
                    time.sleep(0.05)
            os._exit(0)
        time.sleep(0.3)
        print('parent done')
        """,
    )
    assert result.exit_code == 0, result
    beat = tmp_path / "work" / "daemon.txt"
    assert exists(beat), "the daemon never ran"
    before = beat.read_text()
    await asyncio.sleep(0.4)
    assert beat.read_text() == before, "a detached process outlived its block"
