"""The options of the ``docker`` code executor, validated when a config uses it."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["DockerCommandLineCodeExecutorOptions"]


class DockerCommandLineCodeExecutorOptions(BaseModel):
    """Options of :class:`salon_docker.DockerCommandLineCodeExecutor` (``functions`` are Python-only).

    The limits default to the executor's safe defaults; ``docs/plugins/docker.md`` says what relaxing
    each one allows.
    """

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    image: str = "python:3-slim"
    """The image to run; it needs /bin/sh and python."""
    container_name: str | None = None
    """The container's name; unset: salon-code-exec-<uuid>."""
    timeout: int = Field(default=60, ge=1)
    """Seconds each code block may run."""
    work_dir: str | None = None
    """The host working directory; unset: a temporary one."""
    bind_dir: str | None = None
    """The host path Docker mounts, when it differs from work_dir (Docker out of Docker)."""
    auto_remove: bool = True
    """Remove the container once it stops."""
    stop_container: bool = True
    """Stop the container at exit if it was never stopped."""
    functions_module: str = "functions"
    """The module name functions are importable as."""
    extra_volumes: dict[str, dict[str, str]] = Field(default_factory=dict)
    """More mounts: {host_path: {bind: container_path, mode: ro|rw}}."""
    extra_hosts: dict[str, str] = Field(default_factory=dict)
    """Host name to address entries; needs a network_mode with a network."""
    init_command: str | None = None
    """A shell command run once when the container starts."""
    delete_tmp_files: bool = False
    """Delete each block's code file after it ran."""
    network_mode: str = "none"
    """Docker network mode; "none" gives the code no network."""
    mem_limit: str | int | None = "512m"
    """Memory limit, swap included (bytes or "512m"); null lifts it."""
    pids_limit: int | None = Field(default=256, ge=8)
    """Processes and threads at once; null lifts it."""
    cpus: float | None = Field(default=None, gt=0)
    """CPUs the code may use; null: no quota."""
    user: str | None = None
    """uid:gid the code runs as; unset: yours, or 65534 when you are root."""
    read_only: bool = True
    """Read-only root file system (/workspace and /tmp stay writable)."""
    tmp_size: str = "64m"
    """Size of the in-memory /tmp."""
    no_new_privileges: bool = True
    """Forbid gaining privileges through setuid binaries."""
    max_output_bytes: int = Field(default=1024 * 1024, gt=0)
    """Output kept per block; more kills the block."""
