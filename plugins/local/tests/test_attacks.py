"""The sandbox tested as an attacker would: each attack is stopped, reported, and the executor stays usable.

Every test runs with the sandbox on (``sandbox=True``: a missing ``bwrap`` is an error, not a skip).
The network test only ever targets a server this test starts on 127.0.0.1, outside the sandbox.
"""

from __future__ import annotations

import asyncio
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
from salon_local import LocalCommandLineCodeExecutor, SandboxLimits

LIMITS = SandboxLimits(cpu_seconds=2, memory_bytes=512 * 1024**2, max_processes=64, max_file_size_bytes=8 * 1024**2)


@pytest_asyncio.fixture
async def executor(tmp_path: Path) -> AsyncIterator[LocalCommandLineCodeExecutor]:
    work_dir = tmp_path / "work"
    async with LocalCommandLineCodeExecutor(
        work_dir=work_dir, timeout=10, sandbox=True, sandbox_limits=LIMITS, max_output_bytes=256 * 1024
    ) as executor:
        yield executor


def exists(path: Path) -> bool:
    return path.exists()


async def run(executor: LocalCommandLineCodeExecutor, code: str, language: str = "python") -> CodeResult:
    async with asyncio.timeout(60):
        return await executor.execute_code_blocks(
            [CodeBlock(code=textwrap.dedent(code), language=language)], CancellationToken()
        )


async def assert_usable(executor: LocalCommandLineCodeExecutor) -> None:
    result = await run(executor, "print('still here')")
    assert (result.exit_code, result.output.strip()) == (0, "still here"), result


async def test_code_runs_as_a_non_root_uid(executor: LocalCommandLineCodeExecutor) -> None:
    result = await run(executor, "import os; print(os.getuid(), os.geteuid(), os.getgid())")
    assert result.exit_code == 0, result
    uid, euid, gid = (int(part) for part in result.output.split())
    assert uid != 0 and euid != 0 and gid != 0, result
    if os.geteuid() == 0:
        assert uid == 65534, result


async def test_network_is_unreachable(executor: LocalCommandLineCodeExecutor) -> None:
    """A server listening on the host's loopback cannot be reached from the sandbox; only ``lo`` exists."""
    connected = asyncio.Event()

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connected.set()
        writer.close()

    server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        # Sanity check: the server is reachable from outside the sandbox.
        probe = socket.create_connection(("127.0.0.1", port), timeout=5)
        probe.close()
        await asyncio.wait_for(connected.wait(), 5)
        connected.clear()
        result = await run(
            executor,
            f"""
            import socket
            print(sorted(name for _, name in socket.if_nameindex()))
            socket.create_connection(("127.0.0.1", {port}), timeout=3)
            print("CONNECTED")
            """,
        )
    finally:
        server.close()
        await server.wait_closed()
    assert result.exit_code != 0, result
    assert "CONNECTED" not in result.output
    assert "['lo']" in result.output, result
    assert "ConnectionRefusedError" in result.output or "OSError" in result.output, result
    assert not connected.is_set(), "the sandboxed code reached the host's server"
    await assert_usable(executor)


async def test_writes_outside_the_work_dir_fail(executor: LocalCommandLineCodeExecutor, tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    targets = [outside, Path("/etc/salon-attack"), Path("/usr/salon-attack"), Path.home() / "salon-attack"]
    code = "import sys\nfailed = 0\n"
    for target in targets:
        code += textwrap.dedent(
            f"""
            try:
                open({str(target)!r}, "w").write("pwned")
                print("WROTE", {str(target)!r})
            except OSError as error:
                failed += 1
                print("refused", type(error).__name__)
            """
        )
    code += f"sys.exit(0 if failed == {len(targets)} else 1)\n"
    result = await run(executor, code)
    assert "WROTE" not in result.output, result
    assert result.exit_code == 0, result
    assert [target for target in targets if exists(target)] == []
    # Inside, /tmp is private: what the code writes there never reaches the host's /tmp.
    result = await run(executor, "open('/tmp/salon-private', 'w').write('x'); print('ok')")
    assert result.exit_code == 0, result
    assert not exists(Path("/tmp/salon-private"))
    await assert_usable(executor)


async def test_fork_bomb_is_bounded(executor: LocalCommandLineCodeExecutor) -> None:
    """Forking without bound hits the process limit (also when the caller is root), then everything dies."""
    result = await run(
        executor,
        """
        import os, time
        children = 0
        try:
            while True:
                if os.fork() == 0:
                    time.sleep(30)
                    os._exit(0)
                children += 1
        except OSError as error:
            print("fork refused after", children, type(error).__name__)
            raise SystemExit(3)
        """,
    )
    assert result.exit_code == 3, result
    count = int(result.output.split("fork refused after")[1].split()[0])
    assert count < LIMITS.max_processes, result
    await assert_usable(executor)


async def test_shell_fork_bomb_is_stopped(executor: LocalCommandLineCodeExecutor) -> None:
    started = time.monotonic()
    result = await run(executor, "bomb() { bomb | bomb & }; bomb; sleep 60", language="bash")
    assert result.exit_code == 124, result
    assert "timeout" in result.output.lower()
    assert time.monotonic() - started < 40
    await assert_usable(executor)


async def test_unbounded_allocation_fails(executor: LocalCommandLineCodeExecutor) -> None:
    result = await run(executor, "chunks = []\nwhile True:\n    chunks.append(bytearray(50 * 1024 * 1024))")
    assert result.exit_code != 0, result
    assert "MemoryError" in result.output, result
    await assert_usable(executor)


async def test_infinite_loop_hits_the_cpu_limit(executor: LocalCommandLineCodeExecutor) -> None:
    started = time.monotonic()
    result = await run(executor, "while True:\n    pass")
    assert result.exit_code == 128 + 24, result  # SIGXCPU
    assert "CPU time" in result.output, result
    assert time.monotonic() - started < 9  # stopped by the CPU limit, before the 10 s timeout
    await assert_usable(executor)


async def test_sleeping_forever_hits_the_timeout(tmp_path: Path) -> None:
    async with LocalCommandLineCodeExecutor(work_dir=tmp_path, timeout=2, sandbox=True) as executor:
        result = await run(executor, "import time\nprint('going to sleep', flush=True)\ntime.sleep(3600)")
        assert result.exit_code == 124, result
        assert "going to sleep" in result.output and "timeout" in result.output.lower(), result
        await assert_usable(executor)


async def test_printing_gigabytes_is_cut_off(executor: LocalCommandLineCodeExecutor) -> None:
    """Endless output is cut at the bound with a note; the executor's memory does not grow with it."""
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    result = await run(executor, "import sys\nwhile True:\n    sys.stdout.write('x' * 1_000_000)")
    assert time.monotonic() - started < 9  # stopped at the bound, not at the timeout
    assert result.exit_code != 0, result
    assert "output cut" in result.output, result.output[-200:]
    assert len(result.output) < 256 * 1024 + 1000
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert rss_after - rss_before < 200 * 1024, (rss_before, rss_after)  # KiB: under 200 MiB
    result = await run(executor, "yes salon", language="sh")
    assert "output cut" in result.output
    await assert_usable(executor)


async def test_huge_file_is_refused(executor: LocalCommandLineCodeExecutor, tmp_path: Path) -> None:
    result = await run(executor, "open('big.bin', 'wb').write(b'x' * (64 * 1024 * 1024))")
    assert result.exit_code != 0, result
    assert "File too large" in result.output, result
    big = tmp_path / "work" / "big.bin"
    assert not big.exists() or big.stat().st_size <= LIMITS.max_file_size_bytes
    await assert_usable(executor)


async def test_environment_secrets_do_not_leak(
    executor: LocalCommandLineCodeExecutor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SALON_TEST_SECRET", "hunter2")
    result = await run(executor, "import os\nprint(os.environ.get('SALON_TEST_SECRET', 'absent'))")
    assert result.output.strip() == "absent", result


async def test_escaped_daemon_dies_with_the_block(executor: LocalCommandLineCodeExecutor, tmp_path: Path) -> None:
    """A process that detaches (new session, double fork) does not outlive its block: the pid namespace ends."""
    result = await run(
        executor,
        """
        import os, time
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                for i in range(100):
                    open('daemon.txt', 'w').write(str(i))
                    time.sleep(0.05)
            os._exit(0)
        time.sleep(0.3)
        print('parent done')
        """,
    )
    assert result.exit_code == 0, result
    beat = tmp_path / "work" / "daemon.txt"
    await asyncio.sleep(0.3)
    before = beat.read_text() if beat.exists() else None
    await asyncio.sleep(0.4)
    after = beat.read_text() if beat.exists() else None
    assert before == after, "a detached process outlived its block"
