"""The container behind the executor: how it is locked down, kept alive, and cleared of running code.

Everything here is blocking Docker SDK calls; the executor runs them in worker threads.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import docker  # type: ignore[import-untyped]  # the SDK ships no type hints
from docker.errors import APIError, DockerException, ImageNotFound, NotFound  # type: ignore[import-untyped]
from docker.models.containers import Container  # type: ignore[import-untyped]

__all__ = [
    "BUILD_HINT",
    "CONTAINER_WORK_DIR",
    "NOBODY",
    "ContainerSettings",
    "ExecStream",
    "connect",
    "create_container",
    "ensure_image",
    "kill_code",
    "list_pids",
    "ready_count",
    "start_exec",
    "wait_until_ready",
]

CONTAINER_WORK_DIR = "/workspace"
NOBODY = "65534:65534"
READY_MARKER = "salon-docker-ready"

BUILD_HINT = (
    "Build an image without a registry with plugins/docker/scripts/build-test-image.sh (Debian + python3 "
    "via mmdebstrap, imported as salon-test-python:<suite>) and pass it as image=..., or `docker pull` / "
    "`docker build` one where a registry is reachable. See docs/plugins/docker.md."
)

# PID 1 of the container: reaps orphans (killed code leaves zombies, which count against the pids limit)
# and exits at once on SIGTERM, so stopping the container does not wait out Docker's grace period.
_INIT = """
import os, signal, time
signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
print("salon-docker-ready", flush=True)
while True:
    try:
        os.waitpid(-1, 0)
    except ChildProcessError:
        time.sleep(0.5)
    except InterruptedError:
        pass
"""

_INIT_SHELL = 'if command -v python3 >/dev/null 2>&1; then exec python3 -c "$0"; else exec python -c "$0"; fi'

# Kills every process of the container except PID 1, itself and the pids given as arguments (what
# init_command left running), and waits until they are gone. kill(-1) is atomic against fork(), so a fork
# bomb cannot outrun it; with pids to spare, repeated passes catch what forked in between.
_KILL = """
import os, sys, time
keep = {1, os.getpid(), *map(int, sys.argv[1:])}

def others():
    return [int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) not in keep]

if keep == {1, os.getpid()}:
    try:
        os.kill(-1, 9)
    except ProcessLookupError:
        pass
else:
    for _ in range(50):
        alive = others()
        if not alive:
            break
        for pid in alive:
            try:
                os.kill(pid, 9)
            except OSError:
                pass
# Wait until PID 1 has reaped them: until then they hold process slots (and the next block could see them).
deadline = time.monotonic() + 5
while others() and time.monotonic() < deadline:
    time.sleep(0.005)
print("killed" if not others() else "left", flush=True)
"""

_LIST_PIDS = (
    "import os; print(' '.join(p for p in os.listdir('/proc') if p.isdigit() and int(p) not in (1, os.getpid())))"
)

# Raise the code's own OOM score, so that at the memory limit the kernel kills the code, not PID 1.
_EXEC_WRAPPER = 'echo 1000 >/proc/self/oom_score_adj 2>/dev/null; exec "$@"'


@dataclass
class ContainerSettings:
    """Everything ``containers.create`` gets; the defaults are the executor's safe defaults."""

    image: str
    name: str
    bind_dir: str
    user: str
    network_mode: str = "none"
    mem_limit: str | int | None = "512m"
    pids_limit: int | None = 256
    cpus: float | None = None
    read_only: bool = True
    tmp_size: str = "64m"
    no_new_privileges: bool = True
    auto_remove: bool = True
    init_command: str | None = None
    extra_volumes: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    extra_hosts: Mapping[str, str] = field(default_factory=dict)
    device_requests: list[Any] | None = None
    environment: Mapping[str, str] = field(default_factory=dict)

    def create_kwargs(self) -> dict[str, Any]:
        """The keyword arguments of ``client.containers.create`` (after the image)."""
        script = f"{self.init_command}\n{_INIT_SHELL}" if self.init_command else _INIT_SHELL
        kwargs: dict[str, Any] = {
            "name": self.name,
            "entrypoint": ["/bin/sh"],
            "command": ["-c", script, _INIT],
            "detach": True,
            "auto_remove": self.auto_remove,
            "user": self.user,
            "working_dir": CONTAINER_WORK_DIR,
            "volumes": {self.bind_dir: {"bind": CONTAINER_WORK_DIR, "mode": "rw"}, **self.extra_volumes},
            "network_mode": self.network_mode,
            "read_only": self.read_only,
            "tmpfs": {"/tmp": f"rw,nosuid,nodev,size={self.tmp_size}"},
            "cap_drop": ["ALL"],
            "environment": {
                "HOME": "/tmp",
                "TMPDIR": "/tmp",
                "LANG": "C.UTF-8",
                "PYTHONUNBUFFERED": "1",
                "PYTHONIOENCODING": "utf-8",
                **self.environment,
            },
            "labels": {"salon.component": "salon-docker"},
        }
        if self.no_new_privileges:
            kwargs["security_opt"] = ["no-new-privileges"]
        if self.mem_limit is not None:
            kwargs["mem_limit"] = self.mem_limit
            kwargs["memswap_limit"] = self.mem_limit  # no swap: the limit is the limit
        if self.pids_limit is not None:
            kwargs["pids_limit"] = self.pids_limit
        if self.cpus is not None:
            kwargs["nano_cpus"] = int(self.cpus * 1e9)
        if self.extra_hosts:
            kwargs["extra_hosts"] = dict(self.extra_hosts)
        if self.device_requests:
            kwargs["device_requests"] = self.device_requests
        return kwargs


def connect() -> docker.DockerClient:
    """A client for the daemon ``DOCKER_HOST`` (or the default socket) names, checked to answer."""
    where = os.environ.get("DOCKER_HOST", "the default socket (unix:///var/run/docker.sock)")
    try:
        client = docker.from_env()
        client.ping()
    except DockerException as error:
        raise RuntimeError(
            f"Cannot reach the Docker daemon at {where}: {error}. Start dockerd (or Docker Desktop) and point "
            "DOCKER_HOST at it; docs/plugins/docker.md shows how to run one locally."
        ) from error
    return client


def ensure_image(client: docker.DockerClient, image: str) -> None:
    """Make sure ``image`` is in the daemon, pulling it when it is not; explain how to build one otherwise."""
    try:
        client.images.get(image)
        return
    except ImageNotFound:
        pass
    try:
        client.images.pull(image)
    except DockerException as error:
        raise RuntimeError(
            f"The Docker image {image!r} is not in the daemon and pulling it failed ({error}). {BUILD_HINT}"
        ) from error


def create_container(client: docker.DockerClient, settings: ContainerSettings) -> Container:
    """Replace any container of the same name with a new, started one."""
    with contextlib.suppress(NotFound):
        client.containers.get(settings.name).remove(force=True)
    container = client.containers.create(settings.image, **settings.create_kwargs())
    container.start()
    return container


def ready_count(container: Container) -> int:
    """How many times the container's PID 1 has started (its logs survive restarts)."""
    try:
        logs: bytes = container.logs()
    except DockerException:
        return 0
    return logs.decode("utf-8", errors="replace").count(READY_MARKER)


def wait_until_ready(container: Container, after: int = 0, timeout: float = 60.0) -> None:
    """Wait until PID 1 announced itself (init_command is done); fail with the logs if the container died.

    ``after``: how many announcements came before (from :func:`ready_count`), when waiting for a restart.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            container.reload()
            logs = container.logs().decode("utf-8", errors="replace")
        except NotFound:
            raise RuntimeError(
                f"Container {container.name} exited during start-up (and was removed). Check that its image "
                "has /bin/sh and python, and that init_command succeeds; auto_remove=False keeps it to inspect."
            ) from None
        if logs.count(READY_MARKER) > after:
            return
        if container.status in ("exited", "dead"):
            raise RuntimeError(f"Container {container.name} exited during start-up. Its output:\n{logs}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"Container {container.name} was not ready after {timeout}s. Its output:\n{logs}")
        time.sleep(0.05)


def list_pids(container: Container) -> list[int]:
    """The processes running in the container besides PID 1 (what init_command started)."""
    exit_code, output = container.exec_run(["python", "-c", _LIST_PIDS])
    if exit_code != 0:
        return []
    return [int(pid) for pid in output.decode().split()]


def kill_code(container: Container, keep: list[int]) -> bool:
    """Kill all code running in the container; ``False`` when that could not be done (then restart it)."""
    try:
        exit_code, output = container.exec_run(["python", "-c", _KILL, *map(str, keep)])
    except DockerException:
        return False
    return exit_code == 0 and b"killed" in output


class _Closable(Protocol):
    def close(self) -> None: ...


class ExecStream:
    """One command running in the container, its output read (up to a bound) by a worker thread."""

    def __init__(self, client: docker.DockerClient, container: Container, argv: list[str]) -> None:
        api = client.api
        self._api = api
        self._exec_id: str = api.exec_create(container.id, ["sh", "-c", _EXEC_WRAPPER, "salon", *argv])["Id"]
        self._stream: Any = api.exec_start(self._exec_id, stream=True)
        self._lock = threading.Lock()
        self.buffer = bytearray()

    def pump(self, limit: int, on_cut: Callable[[], None]) -> bool:
        """Read the output into :attr:`buffer` until it ends; ``True`` when it passed ``limit`` bytes.

        Past the limit the rest is read and dropped (``on_cut`` is called once): a stream nobody reads
        stalls the daemon's handling of the container, including the exec that kills the code.
        """
        cut = False
        try:
            chunks: Iterator[bytes] = iter(self._stream)
            for chunk in chunks:
                if cut:
                    continue
                with self._lock:
                    room = limit - len(self.buffer)
                    self.buffer += chunk[:room]
                if len(chunk) > room:
                    cut = True
                    on_cut()
        except (OSError, ValueError, AttributeError):
            # The stream was closed under us (cancellation, timeout): what was read so far stands.
            pass
        return cut

    def output(self) -> bytes:
        with self._lock:
            return bytes(self.buffer)

    def close(self) -> None:
        stream: _Closable = self._stream
        # Closing a dead socket may fail in many ways; nothing is lost by ignoring them.
        with contextlib.suppress(Exception):
            stream.close()

    def exit_code(self, timeout: float = 10.0) -> int | None:
        """The command's exit status, waiting briefly for Docker to notice that it ended."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                info = self._api.exec_inspect(self._exec_id)
            except APIError:
                return None
            if not info.get("Running") and info.get("ExitCode") is not None:
                code: int = info["ExitCode"]
                return code
            if time.monotonic() > deadline:
                return None
            time.sleep(0.02)


def start_exec(client: docker.DockerClient, container: Container, argv: list[str]) -> ExecStream:
    """Start ``argv`` in the container's working directory; read its output with :meth:`ExecStream.pump`."""
    return ExecStream(client, container, argv)
