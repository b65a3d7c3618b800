"""The options of the ``local`` code executor, validated when a config uses it."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["LocalCommandLineCodeExecutorOptions", "SandboxLimitsOptions"]


class SandboxLimitsOptions(BaseModel):
    """Resource limits inside the sandbox (:class:`salon_local.SandboxLimits`)."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    cpu_seconds: int = Field(default=60, gt=0)
    """CPU seconds per process."""
    memory_bytes: int = Field(default=2 * 1024**3, gt=0)
    """Address space per process, in bytes."""
    max_processes: int = Field(default=256, gt=0)
    """Processes and threads at once."""
    max_file_size_bytes: int = Field(default=256 * 1024**2, gt=0)
    """The largest file the code may write, in bytes."""


class LocalCommandLineCodeExecutorOptions(BaseModel):
    """Options of :class:`salon_local.LocalCommandLineCodeExecutor` (``functions`` are Python-only)."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    timeout: int = Field(default=60, ge=1)
    """Seconds each code block may run."""
    work_dir: str | None = None
    """The working directory; unset: a temporary one."""
    functions_module: str = "functions"
    """The module name functions are importable as."""
    cleanup_temp_files: bool = True
    """Delete each block's code file after it ran."""
    sandbox: bool | None = None
    """true: require bubblewrap; false: run unsandboxed; unset: sandbox when bwrap is installed."""
    sandbox_limits: SandboxLimitsOptions = Field(default_factory=SandboxLimitsOptions)
    """Resource limits inside the sandbox."""
    max_output_bytes: int = Field(default=1024 * 1024, gt=0)
    """Output kept per block; more stops the block."""
