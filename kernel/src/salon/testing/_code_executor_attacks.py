"""The code executor attack suite: a sandboxing executor tested as hostile, model-written code would test it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import socket
import time
from pathlib import Path
from typing import ClassVar

import pytest

from salon.code_executor import CodeExecutor, CodeResult

from ._code_executor_harness import CodeExecutorHarness, ExecutorFactory

__all__ = ["CodeExecutorAttackSuite"]

# Counts the processes the code can see: in a pid namespace, only the sandbox's own and whatever earlier
# blocks left running.
_COUNT_PROCESSES = "import os; print(sum(name.isdigit() for name in os.listdir('/proc')))"

# Forks a detached grandchild (new session, double fork) that writes a heartbeat to daemon.txt for 10 s;
# with ``{close}`` true it also lets go of the block's stdin/stdout/stderr, so pipes alone cannot tell
# the executor it is still there.
_DAEMON = """
import os, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        if {close}:
            devnull = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(devnull, fd)
        for i in range(200):
            open("daemon.txt", "w").write(str(i))
            time.sleep(0.05)
    os._exit(0)
time.sleep(0.3)
print("parent done")
"""


# A tiny local file operation: cheap enough to run on the event loop in a test.
def _exists(path: Path) -> bool:
    return path.exists()


def host_addresses() -> list[str]:
    """This machine's IPv4 addresses (loopback included) that sandboxed code could try to reach it on."""
    addresses = {"127.0.0.1"}
    with contextlib.suppress(OSError):
        addresses.update(str(info[4][0]) for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET))
    return sorted(addresses)


class CodeExecutorAttackSuite(CodeExecutorHarness):
    """Attacks a sandboxing :class:`~salon.code_executor.CodeExecutor` must stop, as pytest tests.

    Each test runs hostile code and asserts three things: the attack is stopped (by the sandbox, a limit
    or the timeout), the :class:`~salon.code_executor.CodeResult` reports it (exit code and a note in the
    output the model can read), and the executor still runs code afterwards. The attacks:

    - Run as root or with privileges: the code's uid is not 0 (``uid_when_root`` when the tests run as
      root), it has no effective capabilities and cannot gain privileges (``NoNewPrivs``).
    - Reach the network: only the interfaces in ``network_interfaces`` exist, and servers this test
      starts on each of :meth:`network_addresses` are never reached. Nothing leaves this machine.
    - Write outside the working directory (host directories, ``/etc``, ``/usr``, ``/``, the home
      directory); what the code writes to ``/tmp`` stays private to the sandbox.
    - Fork without bound: the process limit (``process_limit``) refuses, the block returns without
      waiting for its children, and no process outlives the block; a bomb that keeps the limit full,
      and a shell fork bomb, are stopped by the timeout (exit code 124).
    - Allocate without bound: ``MemoryError``, or a kill with an exit code in ``memory_kill_exit_codes``
      whose output says ``memory_kill_note``.
    - Loop for ever: stopped with ``endless_loop_exit_code`` and ``endless_loop_note`` in the output (the
      timeout's 124 and "timeout" by default; a CPU limit stops it sooner), keeping what was printed.
      Sleeping for ever hits the timeout.
    - Print gigabytes: the output is cut near ``max_output_bytes`` with an "output cut" note, well
      before the timeout, and this process's memory does not grow with it.
    - Read this process's environment: a secret in it is not visible to the code.
    - Detach a daemon (new session, double fork, with and without closing its output): it dies with
      its block.

    How an executor author uses it: subclass it in a test module, name the subclass ``Test...``, and
    override :meth:`make_executor`, giving the executor the suite's limits (timeout :attr:`execution_timeout`,
    process limit :attr:`process_limit`, output bound :attr:`max_output_bytes`)::

        from salon.testing import CodeExecutorAttackSuite

        class TestMyExecutorAttacks(CodeExecutorAttackSuite):
            async def make_executor(self, work_dir):
                return MyExecutor(
                    work_dir=work_dir,
                    timeout=self.execution_timeout,
                    max_processes=self.process_limit,
                    max_output_bytes=self.max_output_bytes,
                )

    Class attributes to adjust are the knobs named above plus ``execution_timeout`` (seconds; the
    executor's timeout), ``timeout`` (the bound on any single wait in a test; raise it for executors
    that start slowly) and ``kill_grace`` (how long after its timeout a block may take to be killed). A
    test that cannot apply may be switched off with ``test_name = None`` in the subclass, with a comment
    saying why. Add the attacks only your executor must stop as more tests in the subclass: it has the
    ``executor`` and ``work_dir`` fixtures and the :meth:`run` and :meth:`assert_usable` helpers.
    """

    timeout: ClassVar[float] = 60.0
    execution_timeout: ClassVar[float] = 4.0
    kill_grace: ClassVar[float] = 20.0
    settle_delay: ClassVar[float] = 0.4
    process_limit: ClassVar[int] = 64
    max_output_bytes: ClassVar[int] = 256 * 1024
    memory_kill_exit_codes: ClassVar[tuple[int, ...]] = ()
    memory_kill_note: ClassVar[str] = "memory"
    endless_loop_exit_code: ClassVar[int] = 124
    endless_loop_note: ClassVar[str] = "timeout"
    write_refusal_note: ClassVar[str | None] = None
    network_interfaces: ClassVar[tuple[str, ...]] = ("lo",)
    uid_when_root: ClassVar[int | None] = 65534

    # -- hooks for implementers -------------------------------------------------------------------------

    def network_addresses(self) -> list[str]:
        """The addresses of this machine the network attack serves on and tries to reach."""
        return host_addresses()

    # -- helpers ----------------------------------------------------------------------------------------

    async def run(self, executor: CodeExecutor, code: str, language: str = "python") -> CodeResult:
        """Run one block, bounded by the executor's timeout plus :attr:`timeout`; check a result came back."""
        return await self.run_blocks(executor, [(language, code)], seconds=self.execution_timeout + self.timeout)

    async def assert_usable(self, executor: CodeExecutor) -> None:
        """Assert that the executor still runs code."""
        result = await self.run(executor, "print('still here')")
        assert (result.exit_code, result.output.strip()) == (0, "still here"), result

    async def count_processes(self, executor: CodeExecutor) -> int:
        """How many processes code run by ``executor`` sees (itself included)."""
        result = await self.run(executor, _COUNT_PROCESSES)
        assert result.exit_code == 0, result
        return int(result.output.strip())

    # -- privileges and isolation -----------------------------------------------------------------------

    async def test_code_runs_unprivileged(self, executor: CodeExecutor) -> None:
        """Not root, no effective capabilities, no way to gain privileges."""
        result = await self.run(
            executor,
            """
            import os
            lines = open("/proc/self/status").read().splitlines()
            status = dict(line.split(":\\t", 1) for line in lines if ":\\t" in line)
            print(os.getuid(), os.geteuid(), os.getgid(), int(status["CapEff"], 16), status["NoNewPrivs"].strip())
            """,
        )
        assert result.exit_code == 0, result
        uid, euid, gid, caps, no_new_privs = (int(part) for part in result.output.split())
        assert 0 not in (uid, euid, gid), result
        assert (caps, no_new_privs) == (0, 1), result
        if self.uid_when_root is not None and os.geteuid() == 0:
            assert uid == self.uid_when_root, result

    async def test_network_is_unreachable(self, executor: CodeExecutor) -> None:
        """Servers on this machine's addresses, reachable from here, cannot be reached from the code."""
        connected = asyncio.Event()

        async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            connected.set()
            writer.close()

        addresses = self.network_addresses()
        servers = [await self.within(asyncio.start_server(on_connect, address, 0)) for address in addresses]
        targets = [
            (address, server.sockets[0].getsockname()[1]) for address, server in zip(addresses, servers, strict=True)
        ]
        try:
            for target in targets:  # sanity check: each server is reachable from outside
                _, writer = await self.within(asyncio.open_connection(*target))
                writer.close()
                await self.within(connected.wait())
                connected.clear()
            result = await self.run(
                executor,
                f"""
                import socket, sys
                print(sorted(name for _, name in socket.if_nameindex()))
                refused = 0
                for target in {targets!r}:
                    try:
                        socket.create_connection(target, timeout=3)
                        print("CONNECTED", target)
                    except OSError as error:
                        refused += 1
                        print("refused", type(error).__name__)
                sys.exit(0 if refused == {len(targets)} else 1)
                """,
            )
        finally:
            for server in servers:
                server.close()
                await self.within(server.wait_closed())
        assert "CONNECTED" not in result.output, result
        assert not connected.is_set(), "the sandboxed code reached this machine's server"
        assert result.exit_code == 0, result
        assert str(sorted(self.network_interfaces)) in result.output, result
        assert result.output.count("refused") == len(targets), result
        await self.assert_usable(executor)

    async def test_writes_outside_the_work_dir_fail(self, executor: CodeExecutor, tmp_path: Path) -> None:
        """Writes to this machine's directories fail; what the code writes to /tmp stays in the sandbox."""
        targets = [tmp_path / "outside.txt", Path("/etc/salon-attack"), Path("/usr/salon-attack")]
        targets += [Path("/salon-attack"), Path.home() / "salon-attack"]
        result = await self.run(
            executor,
            f"""
            import sys
            failed = 0
            for target in {[str(target) for target in targets]!r}:
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
        if self.write_refusal_note is not None:
            assert self.write_refusal_note in result.output, result
        assert [target for target in targets if _exists(target)] == []
        private = Path(f"/tmp/salon-private-{tmp_path.name}")
        result = await self.run(executor, f"open({str(private)!r}, 'w').write('x'); print('ok')")
        assert (result.exit_code, result.output.strip()) == (0, "ok"), result
        assert not _exists(private), "the code's /tmp is this machine's /tmp"
        await self.assert_usable(executor)

    async def test_environment_secrets_do_not_leak(
        self, executor: CodeExecutor, executor_factory: ExecutorFactory, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        """A secret in this process's environment is not visible to the code, set before or after start."""
        monkeypatch.setenv("SALON_TEST_SECRET", "hunter2")
        started_after = await executor_factory(tmp_path / "started-after")
        for each in (executor, started_after):
            result = await self.run(each, "import os\nprint(os.environ.get('SALON_TEST_SECRET', 'absent'))")
            assert (result.exit_code, result.output.strip()) == (0, "absent"), result

    @pytest.mark.parametrize("close_output", [False, True], ids=["keeps-output", "closes-output"])
    async def test_detached_process_dies_with_the_block(
        self, executor: CodeExecutor, work_dir: Path, close_output: bool
    ) -> None:
        """A process that detaches (new session, double fork) does not outlive its block."""
        result = await self.run(executor, _DAEMON.format(close=close_output))
        assert (result.exit_code, "parent done" in result.output) == (0, True), result
        beat = work_dir / "daemon.txt"
        assert _exists(beat), "the daemon never ran"
        await self.assert_stopped(beat, "a detached process outlived its block")
        await self.assert_usable(executor)

    # -- processes --------------------------------------------------------------------------------------

    async def test_fork_bomb_is_bounded(self, executor: CodeExecutor) -> None:
        """Forking without bound hits the process limit; the block returns at once and its children die."""
        idle = await self.count_processes(executor)
        started = time.monotonic()
        result = await self.run(
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
        assert count < self.process_limit, result
        assert time.monotonic() - started < self.execution_timeout, "the block waited for its sleeping children"
        assert await self.count_processes(executor) == idle, "processes outlived their block"

    async def test_sustained_fork_bomb_is_killed(self, executor: CodeExecutor) -> None:
        """Every process keeps forking, holding the process limit full until the timeout kills them all."""
        idle = await self.count_processes(executor)
        started = time.monotonic()
        result = await self.run(
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
        assert "timeout" in result.output.lower(), result
        assert time.monotonic() - started < self.execution_timeout + self.kill_grace
        assert await self.count_processes(executor) == idle, "processes outlived their block"

    async def test_shell_fork_bomb_is_stopped(self, executor: CodeExecutor) -> None:
        """The classic shell fork bomb is stopped by the timeout; nothing of it is left."""
        idle = await self.count_processes(executor)
        started = time.monotonic()
        result = await self.run(executor, "bomb() { bomb | bomb & }; bomb; sleep 60", language="bash")
        assert result.exit_code == 124, result
        assert "timeout" in result.output.lower(), result
        assert time.monotonic() - started < self.execution_timeout + self.kill_grace
        assert await self.count_processes(executor) == idle, "processes outlived their block"

    # -- resources --------------------------------------------------------------------------------------

    async def test_unbounded_allocation_is_stopped(self, executor: CodeExecutor) -> None:
        """Allocating without bound ends in ``MemoryError`` or a memory kill that the result explains."""
        result = await self.run(executor, "chunks = []\nwhile True:\n    chunks.append(bytearray(50 * 1024 * 1024))")
        assert result.exit_code != 0, result
        if result.exit_code in self.memory_kill_exit_codes:
            assert self.memory_kill_note in result.output, result
        else:
            assert "MemoryError" in result.output, result
        await self.assert_usable(executor)

    async def test_endless_loop_is_stopped(self, executor: CodeExecutor) -> None:
        """A busy loop is stopped and reported; what it printed first is kept."""
        started = time.monotonic()
        result = await self.run(executor, "print('looping', flush=True)\nwhile True:\n    pass")
        elapsed = time.monotonic() - started
        assert result.exit_code == self.endless_loop_exit_code, result
        assert "looping" in result.output, result
        assert self.endless_loop_note.lower() in result.output.lower(), result
        if result.exit_code == 124:
            assert self.execution_timeout <= elapsed < self.execution_timeout + self.kill_grace, elapsed
        else:
            assert elapsed < self.execution_timeout, f"not stopped before the timeout ({elapsed:.1f}s)"
        await self.assert_usable(executor)

    async def test_sleeping_forever_hits_the_timeout(self, executor: CodeExecutor) -> None:
        """Code that uses no CPU is still stopped by the timeout; what it printed first is kept."""
        result = await self.run(executor, "import time\nprint('going to sleep', flush=True)\ntime.sleep(3600)")
        assert result.exit_code == 124, result
        assert "going to sleep" in result.output and "timeout" in result.output.lower(), result
        await self.assert_usable(executor)

    async def test_printing_gigabytes_is_cut_off(self, executor: CodeExecutor) -> None:
        """Endless output is cut at the bound with a note, before the timeout; this process's memory stays flat."""
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.monotonic()
        result = await self.run(executor, "import sys\nwhile True:\n    sys.stdout.write('x' * 1_000_000)")
        assert time.monotonic() - started < self.execution_timeout, "stopped at the timeout, not at the bound"
        assert result.exit_code != 0, result
        assert "output cut" in result.output, result.output[-200:]
        assert len(result.output) < self.max_output_bytes + 1000
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        assert rss_after - rss_before < 200 * 1024, (rss_before, rss_after)  # KiB: under 200 MiB
        result = await self.run(executor, "yes salon", language="sh")
        assert "output cut" in result.output, result.output[-200:]
        assert len(result.output) < self.max_output_bytes + 1000
        await self.assert_usable(executor)
