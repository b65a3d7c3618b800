"""``DockerCommandLineCodeExecutor``: code blocks run in a locked-down Docker container."""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import hashlib
import logging
import os
import shlex
import tempfile
import uuid
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import docker  # type: ignore[import-untyped]  # the SDK ships no type hints
from docker.errors import DockerException, NotFound  # type: ignore[import-untyped]
from docker.models.containers import Container  # type: ignore[import-untyped]
from docker.types import DeviceRequest  # type: ignore[import-untyped]

from salon import CancellationToken
from salon.code_executor import (
    CodeBlock,
    CodeExecutor,
    FunctionWithRequirements,
    FunctionWithRequirementsStr,
    build_python_functions_file,
)

from . import _container as box
from ._common import SUPPORTED_LANGUAGES, CommandLineCodeResult, command_for, file_name_from_content, silence_pip

__all__ = ["DockerCommandLineCodeExecutor"]

logger = logging.getLogger("salon_docker")

_TIMEOUT_EXIT_CODE = 124
_SIGKILL_EXIT_CODE = 128 + 9
_KILL_TIMEOUT = 15  # seconds for the exec that kills the code; past it the container is restarted

Function = FunctionWithRequirements[Any, Any] | FunctionWithRequirementsStr | Any

# Containers still running at interpreter exit (stop_container=True): stopped by the atexit hook below.
_LIVE: dict[str, DockerCommandLineCodeExecutor] = {}


@atexit.register
def _stop_leftover_containers() -> None:
    for executor in list(_LIVE.values()):
        executor._stop_container_now()


class DockerCommandLineCodeExecutor(CodeExecutor):
    """Runs python and shell code blocks in a Docker container, locked down by default.

    The port of ``autogen_ext.code_executors.docker.DockerCommandLineCodeExecutor`` with the same
    arguments. Each block is saved to a file in the working directory, which is mounted at
    ``/workspace`` in the container, and run there; blocks run in order and stop at the first failure.

    Unlike AutoGen's, the container is locked down unless you relax it (see ``docs/plugins/docker.md``):
    no network (``network_mode="none"``), a memory limit without swap (``mem_limit``), a process limit
    (``pids_limit``), a non-root user (``user``), a read-only root file system with only the working
    directory and a small ``/tmp`` writable (``read_only``), no capabilities and no privilege gain
    (``no_new_privileges``). Output is bounded (``max_output_bytes``). When a block times out, is
    cancelled or floods its output, every process it started is killed, not just the first.

    Args:
        image: The image to run; it needs ``/bin/sh`` and ``python``. Pulled when missing.
        container_name: The container's name; default ``salon-code-exec-<uuid>``. An existing container of
            that name is replaced.
        timeout: Seconds each block may run; past it the block is killed and reported with exit code 124.
        work_dir: The host directory code runs in; ``None`` makes a temporary one that :meth:`stop` deletes.
        bind_dir: The host path Docker mounts, when it differs from ``work_dir`` (this process itself runs
            in a container that shares the host's Docker socket). Default: ``work_dir``.
        auto_remove: Remove the container once it stops.
        stop_container: Stop the container at interpreter exit if :meth:`stop` was never called.
        device_requests: Devices for the container, e.g. ``[DeviceRequest(count=-1, capabilities=[["gpu"]])]``.
        functions: Functions written to ``<functions_module>.py`` in the working directory before the first
            block, so code can import them.
        functions_module: The module name of ``functions``; must be an identifier.
        extra_volumes: More mounts, ``{host_path: {"bind": container_path, "mode": "ro" | "rw"}}``.
        extra_hosts: Host name to address entries for the container; needs a ``network_mode`` with a network.
        init_command: A shell command run once when the container starts (processes it leaves running are
            spared when code is killed).
        delete_tmp_files: Delete each block's code file after it ran.
        network_mode: Docker's network mode; ``"none"`` (default) gives the code no network at all.
        mem_limit: Memory limit (bytes or ``"512m"``), swap included; ``None`` lifts it.
        pids_limit: Processes and threads at once; ``None`` lifts it.
        cpus: CPUs the code may use (``1.5``); ``None`` (default): no CPU quota.
        user: The ``uid:gid`` code runs as. ``None``: your uid and gid, or 65534 (nobody) when you are root,
            in which case the working directory is handed to that uid so the code can write there.
        read_only: Make the root file system read-only (default); ``/workspace`` and ``/tmp`` stay writable.
        tmp_size: Size of the in-memory ``/tmp``.
        no_new_privileges: Forbid gaining privileges (setuid binaries); all capabilities are dropped anyway.
        max_output_bytes: Output kept per block; a block writing more is killed and the output ends with a note.
    """

    SUPPORTED_LANGUAGES: ClassVar[list[str]] = list(SUPPORTED_LANGUAGES)
    FUNCTION_PROMPT_TEMPLATE: ClassVar[str] = (
        "You have access to the following user defined functions. They can be accessed from the module "
        "called `$module_name` by their function names.\n\n"
        "For example, if there was a function called `foo` you could import it by writing "
        "`from $module_name import foo`\n\n$functions"
    )

    def __init__(
        self,
        image: str = "python:3-slim",
        container_name: str | None = None,
        *,
        timeout: int = 60,
        work_dir: Path | str | None = None,
        bind_dir: Path | str | None = None,
        auto_remove: bool = True,
        stop_container: bool = True,
        device_requests: list[DeviceRequest] | None = None,
        functions: Sequence[Function] = (),
        functions_module: str = "functions",
        extra_volumes: Mapping[str, Mapping[str, str]] | None = None,
        extra_hosts: Mapping[str, str] | None = None,
        init_command: str | None = None,
        delete_tmp_files: bool = False,
        network_mode: str = "none",
        mem_limit: str | int | None = "512m",
        pids_limit: int | None = 256,
        cpus: float | None = None,
        user: str | None = None,
        read_only: bool = True,
        tmp_size: str = "64m",
        no_new_privileges: bool = True,
        max_output_bytes: int = 1024 * 1024,
    ) -> None:
        if timeout < 1:
            raise ValueError("timeout must be at least 1 second")
        if not functions_module.isidentifier():
            raise ValueError(f"functions_module must be a valid Python identifier, got {functions_module!r}")
        if max_output_bytes < 1:
            raise ValueError("max_output_bytes must be positive")
        if pids_limit is not None and pids_limit < 8:
            raise ValueError(f"pids_limit={pids_limit} leaves no room to run code; use at least 8 (or None)")
        if extra_hosts and network_mode == "none":
            raise ValueError(
                "extra_hosts needs a network, but network_mode is 'none' (the safe default); "
                "pass network_mode='bridge' (or another Docker network) to use extra_hosts"
            )
        self._work_dir: Path | None = None
        if work_dir is not None:
            self._work_dir = Path(work_dir)
            if self._work_dir.resolve() == Path.cwd().resolve():
                warnings.warn("Using the current directory as work_dir is deprecated.", DeprecationWarning, 2)
            self._work_dir.mkdir(parents=True, exist_ok=True)
        self._bind_dir = Path(bind_dir) if bind_dir is not None else None
        self.container_name = container_name or f"salon-code-exec-{uuid.uuid4()}"
        self._image = image
        self._timeout = timeout
        self._auto_remove = auto_remove
        self._stop_container = stop_container
        self._device_requests = device_requests
        self._functions = list(functions)
        self._functions_module = functions_module
        self._extra_volumes = dict(extra_volumes or {})
        self._extra_hosts = dict(extra_hosts or {})
        self._init_command = init_command
        self._delete_tmp_files = delete_tmp_files
        self._network_mode = network_mode
        self._mem_limit = mem_limit
        self._pids_limit = pids_limit
        self._cpus = cpus
        self._user = user
        self._read_only = read_only
        self._tmp_size = tmp_size
        self._no_new_privileges = no_new_privileges
        self._max_output_bytes = max_output_bytes
        self._temp_dir: tempfile.TemporaryDirectory[str] | None = None
        self._client: docker.DockerClient | None = None
        self._container: Container | None = None
        self._keep: list[int] = []
        self._functions_ready = not self._functions
        self._lock = asyncio.Lock()

    # -- properties (AutoGen's) ----------------------------------------------------------------------------

    @property
    def timeout(self) -> int:
        """Seconds each block may run."""
        return self._timeout

    @property
    def work_dir(self) -> Path:
        """The host directory code runs in (mounted at ``/workspace``)."""
        if self._work_dir is not None:
            return self._work_dir
        if self._temp_dir is not None:
            return Path(self._temp_dir.name)
        raise RuntimeError("The working directory is made by start(); start the executor first.")

    @property
    def bind_dir(self) -> Path:
        """The host path Docker mounts at ``/workspace`` (``work_dir`` unless given)."""
        return self._bind_dir if self._bind_dir is not None else self.work_dir

    @property
    def running(self) -> bool:
        """Whether the container is up."""
        return self._container is not None

    # -- lifecycle -----------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Start the container (pulling the image if needed). Calling it twice is harmless.

        Raises:
            RuntimeError: The daemon cannot be reached, the image is missing and cannot be pulled (the
                message says how to build one), or the container dies while starting.
        """
        if self._container is not None:
            return
        if self._work_dir is None and self._temp_dir is None:
            self._temp_dir = tempfile.TemporaryDirectory(prefix="salon-docker-")
        try:
            await asyncio.to_thread(self._start_container)
        except BaseException:
            self._cleanup_temp_dir()
            raise
        if self._stop_container:
            _LIVE[self.container_name] = self

    def _resolve_user(self) -> str:
        if self._user is not None:
            return self._user
        if os.geteuid() == 0:
            return box.NOBODY
        return f"{os.getuid()}:{os.getgid()}"

    def _start_container(self) -> None:
        client = self._client or box.connect()
        self._client = client
        box.ensure_image(client, self._image)
        user = self._resolve_user()
        if self._user is None and os.geteuid() == 0:
            # The code runs as nobody; the working directory must be theirs to write in.
            os.chown(self.work_dir, 65534, 65534)
        settings = box.ContainerSettings(
            image=self._image,
            name=self.container_name,
            bind_dir=str(self.bind_dir.resolve()),
            user=user,
            network_mode=self._network_mode,
            mem_limit=self._mem_limit,
            pids_limit=self._pids_limit,
            cpus=self._cpus,
            read_only=self._read_only,
            tmp_size=self._tmp_size,
            no_new_privileges=self._no_new_privileges,
            auto_remove=self._auto_remove,
            init_command=self._init_command,
            extra_volumes=self._extra_volumes,
            extra_hosts=self._extra_hosts,
            device_requests=self._device_requests,
        )
        try:
            container = box.create_container(client, settings)
        except DockerException as error:
            raise RuntimeError(f"Could not start a container from image {self._image!r}: {error}") from error
        box.wait_until_ready(container)
        self._container = container
        self._keep = box.list_pids(container) if self._init_command else []

    async def stop(self) -> None:
        """Stop (and with ``auto_remove`` remove) the container; delete a temporary working directory.

        Running code is killed. Calling it twice is harmless.
        """
        _LIVE.pop(self.container_name, None)
        if self._container is not None:
            await asyncio.to_thread(self._stop_container_now)
        self._cleanup_temp_dir()
        self._functions_ready = not self._functions

    def _stop_container_now(self) -> None:
        container, self._container = self._container, None
        if container is None:
            return
        with contextlib.suppress(NotFound):
            try:
                container.stop(timeout=5)
            except DockerException as error:
                logger.warning("Could not stop container %s: %s", container.name, error)

    def _cleanup_temp_dir(self) -> None:
        if self._temp_dir is not None:
            temp_dir, self._temp_dir = self._temp_dir, None
            temp_dir.cleanup()

    async def restart(self) -> None:
        """Restart the container: all running code dies, ``/tmp`` is emptied, the working directory stays.

        Raises:
            ValueError: The executor is not started.
        """
        if self._container is None:
            raise ValueError("The executor is not running; start it (or use `async with`) before restart().")
        async with self._lock:
            await asyncio.to_thread(self._restart_container)

    def _restart_container(self) -> None:
        container = self._container
        assert container is not None
        try:
            started_before = box.ready_count(container)
            container.restart(timeout=5)
            box.wait_until_ready(container, after=started_before)
        except (DockerException, RuntimeError) as error:
            # An auto-removed container may vanish on restart; a new one is as good.
            logger.info("Restarting container %s failed (%s); starting a new one", container.name, error)
            self._container = None
            self._start_container()
            return
        self._keep = box.list_pids(container) if self._init_command else []

    # -- running code --------------------------------------------------------------------------------------

    async def execute_code_blocks(
        self, code_blocks: list[CodeBlock], cancellation_token: CancellationToken
    ) -> CommandLineCodeResult:
        """Run the blocks in order in the container, stopping at the first that fails.

        Raises:
            ValueError: The executor is not started, or ``code_blocks`` is empty.
            asyncio.CancelledError: The token was cancelled; the running code was killed first.
        """
        if cancellation_token.is_cancelled():
            raise asyncio.CancelledError("the cancellation token was cancelled before any code ran")
        if self._container is None:
            raise ValueError("The executor is not running; start it (or use `async with`) before running code.")
        if not code_blocks:
            raise ValueError("No code blocks to execute.")
        async with self._lock:
            if not self._functions_ready:
                await self._setup_functions(cancellation_token)
            return await self._run_blocks(code_blocks, cancellation_token)

    async def _setup_functions(self, token: CancellationToken) -> None:
        source = build_python_functions_file(self._functions)
        await asyncio.to_thread((self.work_dir / f"{self._functions_module}.py").write_text, source, encoding="utf-8")
        packages = sorted(
            {
                pkg
                for func in self._functions
                if isinstance(func, FunctionWithRequirements)
                for pkg in func.python_packages
            }
        )
        if packages:
            result = await self._run_blocks(
                [CodeBlock(code=f"python -m pip install {shlex.join(packages)}", language="sh")], token
            )
            if result.exit_code != 0:
                raise ValueError(
                    f"Installing the functions' packages {packages} failed: {result.output}\nThe container has no "
                    "network by default (network_mode='none') and a read-only root file system; put the packages "
                    "in the image instead (docs/plugins/docker.md)."
                )
        result = await self._run_blocks([CodeBlock(code=source, language="python")], token)
        if result.exit_code != 0:
            raise ValueError(f"Functions failed to load: {result.output}")
        self._functions_ready = True

    async def _run_blocks(self, code_blocks: list[CodeBlock], token: CancellationToken) -> CommandLineCodeResult:
        outputs: list[str] = []
        files: list[Path] = []
        exit_code = 0
        try:
            for block in code_blocks:
                language = block.language.strip().lower()
                program = command_for(language)
                if program is None:
                    outputs.append(
                        f"Unsupported language: {block.language!r}; this executor runs "
                        f"{', '.join(self.SUPPORTED_LANGUAGES)}."
                    )
                    exit_code = 1
                    break
                code = silence_pip(block.code, language)
                try:
                    filename = file_name_from_content(code, self.work_dir)
                except ValueError:
                    outputs.append("Filename is not in the workspace")
                    exit_code = 1
                    break
                if filename is None:
                    filename = f"tmp_code_{hashlib.sha256(code.encode('utf-8')).hexdigest()}.{language}"
                code_path = self.work_dir / filename
                await asyncio.to_thread(self._write_code, code_path, code)
                files.append(code_path)
                exit_code, output = await self._run_command([program, filename], token)
                outputs.append(output)
                if exit_code != 0:
                    break
        finally:
            if self._delete_tmp_files:
                for path in files:
                    with contextlib.suppress(OSError):
                        path.unlink()
        return CommandLineCodeResult(
            exit_code=exit_code, output="".join(outputs), code_file=str(files[0]) if files else None
        )

    @staticmethod
    def _write_code(path: Path, code: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(code, encoding="utf-8")

    async def _run_command(self, argv: list[str], token: CancellationToken) -> tuple[int, str]:
        container, client = self._container, self._client
        if container is None or client is None:
            raise ValueError("The executor is not running; start it (or use `async with`) before running code.")
        stream = await asyncio.to_thread(box.start_exec, client, container, argv)
        loop = asyncio.get_running_loop()
        overflowing = asyncio.Event()

        def on_cut() -> None:  # called from the reading thread
            loop.call_soon_threadsafe(overflowing.set)

        reading = asyncio.ensure_future(asyncio.to_thread(stream.pump, self._max_output_bytes, on_cut))
        token.link_future(reading)
        overflow = asyncio.ensure_future(overflowing.wait())
        try:
            async with asyncio.timeout(self._timeout):
                await asyncio.wait({reading, overflow}, return_when=asyncio.FIRST_COMPLETED)
            if reading.cancelled():
                raise asyncio.CancelledError("the cancellation token was cancelled")
        except TimeoutError:
            await self._kill_code(stream, reading)
            text = stream.output().decode("utf-8", errors="replace")
            return _TIMEOUT_EXIT_CODE, f"{text}\n Timeout: the code ran longer than {self._timeout}s and was killed."
        except asyncio.CancelledError:
            await self._kill_code(stream, reading)
            raise
        finally:
            overflow.cancel()
        text = stream.output().decode("utf-8", errors="replace")
        if overflowing.is_set():
            await self._kill_code(stream, reading)
            note = f"\n[output cut: the code wrote more than {self._max_output_bytes} bytes and was killed]"
            return 1, text + note
        exit_code = await asyncio.to_thread(stream.exit_code)
        if self._container is not container:
            return 1, text + "\nThe container was stopped while the code ran."
        # Whatever the block left running in the background (daemons, forked children) dies with it.
        await self._kill_code(stream, None)
        if exit_code is None:
            return 1, text + "\nThe exit status of the code could not be read from Docker."
        if exit_code == _SIGKILL_EXIT_CODE:
            limit = f" (mem_limit={self._mem_limit})" if self._mem_limit is not None else ""
            text += f"\nThe code was killed (SIGKILL), most likely for going over the container's memory limit{limit}."
        return exit_code, text

    async def _kill_code(self, stream: box.ExecStream, reading: asyncio.Future[bool] | None) -> None:
        """Kill every process the code started; restart the container if even that cannot run."""
        container = self._container
        if container is None:
            return
        try:
            async with asyncio.timeout(_KILL_TIMEOUT):
                killed = await asyncio.to_thread(box.kill_code, container, self._keep)
        except TimeoutError:
            killed = False
        if not killed:
            logger.warning("Could not kill the code in %s; restarting the container", container.name)
            await asyncio.to_thread(self._restart_container)
        if reading is not None:
            # With the code dead the output ends at once; the bound is for a daemon that misbehaves.
            if not reading.done():
                with contextlib.suppress(BaseException):
                    async with asyncio.timeout(3):
                        await asyncio.shield(reading)
            stream.close()
