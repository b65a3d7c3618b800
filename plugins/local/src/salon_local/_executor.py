"""``LocalCommandLineCodeExecutor``: python and shell blocks run as local processes, in a sandbox by default."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import signal
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from string import Template
from types import SimpleNamespace
from typing import Any, ClassVar

from salon import CancellationToken
from salon.code_executor import (
    CodeBlock,
    CodeExecutor,
    CommandLineCodeResult,
    FunctionWithRequirements,
    FunctionWithRequirementsStr,
    build_python_functions_file,
    to_stub,
)

from ._sandbox import SANDBOX_WORK_DIR, SandboxLimits, bwrap_path, sandbox_command

__all__ = ["LocalCommandLineCodeExecutor"]

logger = logging.getLogger("salon_local")

_PYTHON = ("python", "py", "python3")
_SHELLS = {"sh": "sh", "shell": "sh", "bash": "bash"}
_TIMEOUT_EXIT_CODE = 124
_READ_CHUNK = 64 * 1024

Function = FunctionWithRequirements[Any, Any] | FunctionWithRequirementsStr | Any

UNSANDBOXED_WARNING = (
    "bubblewrap (`bwrap`) is not installed, so LocalCommandLineCodeExecutor runs model-written code "
    "UNSANDBOXED, with your user's full access to files and network. Install it (Debian/Ubuntu: "
    "`apt-get install bubblewrap`; Fedora: `dnf install bubblewrap`) to sandbox the code, or pass "
    "sandbox=False to say you mean to run it unsandboxed."
)


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


class LocalCommandLineCodeExecutor(CodeExecutor):
    """Runs python and shell code blocks as local processes in a working directory.

    The port of ``autogen_ext.code_executors.local.LocalCommandLineCodeExecutor``, with the same options,
    plus a bubblewrap sandbox that is on by default where ``bwrap`` is installed.

    Each block is written to a file in the working directory and run with the Python interpreter (the
    virtual environment's when ``virtual_env_context`` is given) or ``sh``/``bash``. Blocks run in order
    and stop at the first failure; a block past ``timeout`` is killed and reported with exit code 124.

    The sandbox (``sandbox=True``, or ``None`` and ``bwrap`` found): no network, a read-only view of the
    host's files, a private ``/tmp``, only the working directory writable (mounted at ``/workspace``),
    a clean environment (no secrets from yours), and :class:`SandboxLimits` on CPU time, memory,
    processes and file size. As root, the code runs as uid 65534 so the process limit holds. See
    ``docs/plugins/local.md``.

    Args:
        timeout: Seconds each block may run. Default 60.
        work_dir: The working directory; ``None`` makes a temporary one that :meth:`stop` deletes.
        functions: Functions written to ``<functions_module>.py`` in the working directory before the first
            block runs, so code can ``from functions import ...``.
        functions_module: The module name of ``functions``; must be an identifier.
        cleanup_temp_files: Delete each block's code file after it ran. Default ``True``.
        virtual_env_context: A context from :func:`venv.EnvBuilder.ensure_directories` (anything with
            ``bin_path`` and ``env_exe``): python blocks use its interpreter and its ``bin`` comes first
            on ``PATH``.
        sandbox: ``True`` requires bubblewrap, ``False`` runs unsandboxed, ``None`` (default) sandboxes
            when ``bwrap`` is installed and logs a warning when it is not.
        sandbox_limits: The resource limits inside the sandbox.
        max_output_bytes: Output kept per block; a block printing more is stopped and the output ends with
            a note saying it was cut. Default 1 MiB.
    """

    SUPPORTED_LANGUAGES: ClassVar[list[str]] = ["bash", "shell", "sh", "python"]
    FUNCTION_PROMPT_TEMPLATE: ClassVar[str] = (
        "You have access to the following user defined functions. They can be accessed from the module "
        "called `$module_name` by their function names.\n\n"
        "For example, if there was a function called `foo` you could import it by writing "
        "`from $module_name import foo`\n\n$functions"
    )

    def __init__(
        self,
        timeout: int = 60,
        work_dir: Path | str | None = None,
        functions: Sequence[Function] = (),
        functions_module: str = "functions",
        cleanup_temp_files: bool = True,
        virtual_env_context: SimpleNamespace | None = None,
        *,
        sandbox: bool | None = None,
        sandbox_limits: SandboxLimits | None = None,
        max_output_bytes: int = 1024 * 1024,
    ) -> None:
        if timeout < 1:
            raise ValueError("timeout must be at least 1 second")
        if not functions_module.isidentifier():
            raise ValueError(f"functions_module must be a valid Python identifier, got {functions_module!r}")
        if max_output_bytes < 1:
            raise ValueError("max_output_bytes must be positive")
        self._timeout = timeout
        self._work_dir = Path(work_dir) if work_dir is not None else None
        self._functions = list(functions)
        self._functions_module = functions_module
        self._cleanup_temp_files = cleanup_temp_files
        self._virtual_env_context = virtual_env_context
        self._sandbox_limits = sandbox_limits or SandboxLimits()
        self._max_output_bytes = max_output_bytes
        self._bwrap = bwrap_path()
        if sandbox is True and self._bwrap is None:
            raise RuntimeError(
                "sandbox=True needs bubblewrap, but `bwrap` is not on PATH. Install it (Debian/Ubuntu: "
                "`apt-get install bubblewrap`) or pass sandbox=False to run code unsandboxed."
            )
        if sandbox is None and self._bwrap is None:
            logger.warning(UNSANDBOXED_WARNING)
        self._sandbox = self._bwrap is not None if sandbox is None else sandbox
        self._temp_dir: tempfile.TemporaryDirectory[str] | None = None
        self._functions_ready = not self._functions
        self._running: set[asyncio.subprocess.Process] = set()
        self._started = False

    # -- properties (AutoGen's) ----------------------------------------------------------------------------

    @property
    def timeout(self) -> int:
        """Seconds each block may run."""
        return self._timeout

    @property
    def work_dir(self) -> Path:
        """The working directory (a temporary one is made on first use when none was given)."""
        if self._work_dir is not None:
            return self._work_dir
        if self._temp_dir is None:
            self._temp_dir = tempfile.TemporaryDirectory(prefix="salon-local-")
        return Path(self._temp_dir.name)

    @property
    def functions(self) -> list[str]:
        """The names of the functions made importable."""
        names = []
        for func in self._functions:
            inner = func.func if isinstance(func, FunctionWithRequirements) else func
            names.append(
                inner.compiled_func.__name__ if isinstance(inner, FunctionWithRequirementsStr) else inner.__name__
            )
        return names

    @property
    def functions_module(self) -> str:
        """The module name the functions are importable as."""
        return self._functions_module

    @property
    def cleanup_temp_files(self) -> bool:
        """Whether each block's code file is deleted after it ran."""
        return self._cleanup_temp_files

    @property
    def sandboxed(self) -> bool:
        """Whether code runs in the bubblewrap sandbox."""
        return self._sandbox

    @property
    def sandbox_limits(self) -> SandboxLimits:
        """The resource limits inside the sandbox."""
        return self._sandbox_limits

    def format_functions_for_prompt(self, prompt_template: str = FUNCTION_PROMPT_TEMPLATE) -> str:
        """Describe the importable functions for a system message (``$module_name`` and ``$functions``)."""
        stubs = "\n\n".join(to_stub(func) for func in self._functions)
        return Template(prompt_template).substitute(module_name=self._functions_module, functions=stubs)

    # -- lifecycle -----------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Make the working directory ready. Calling it twice is harmless."""
        if self._started:
            return
        work_dir = self.work_dir
        await asyncio.to_thread(self._prepare_work_dir, work_dir)
        self._started = True

    def _prepare_work_dir(self, work_dir: Path) -> None:
        work_dir.mkdir(parents=True, exist_ok=True)
        if self._sandbox and os.geteuid() == 0:
            # The code runs as uid 65534 (see _sandbox.py), so that uid must be able to write here.
            from ._sandbox import SANDBOX_UID

            os.chown(work_dir, SANDBOX_UID, SANDBOX_UID)

    async def stop(self) -> None:
        """Kill running code and delete a temporary working directory. Calling it twice is harmless."""
        for process in list(self._running):
            await self._kill(process)
        if self._temp_dir is not None:
            temp_dir, self._temp_dir = self._temp_dir, None
            await asyncio.to_thread(temp_dir.cleanup)
        self._functions_ready = not self._functions
        self._started = False

    async def restart(self) -> None:
        """Stop running code; the working directory (and the files in it) stays."""
        for process in list(self._running):
            await self._kill(process)
        self._functions_ready = not self._functions

    # -- running code --------------------------------------------------------------------------------------

    async def execute_code_blocks(
        self, code_blocks: list[CodeBlock], cancellation_token: CancellationToken
    ) -> CommandLineCodeResult:
        """Run the blocks in order, stopping at the first that fails; see the class docstring."""
        if cancellation_token.is_cancelled():
            raise asyncio.CancelledError("the cancellation token was cancelled before any code ran")
        if not self._started:
            await self.start()
        if not self._functions_ready:
            await asyncio.to_thread(self._write_functions)
        outputs: list[str] = []
        exit_code = 0
        first_file: str | None = None
        for block in code_blocks:
            language = block.language.strip().lower()
            if language not in _PYTHON and language not in _SHELLS:
                outputs.append(f"Unsupported language: {block.language!r}; this executor runs python and sh/bash.")
                exit_code = 1
                break
            exit_code, output, code_file = await self._run_block(language, block.code, cancellation_token)
            first_file = first_file or code_file
            outputs.append(output)
            if exit_code != 0:
                break
        return CommandLineCodeResult(exit_code=exit_code, output="".join(outputs), code_file=first_file)

    def _write_functions(self) -> None:
        source = build_python_functions_file(self._functions)
        (self.work_dir / f"{self._functions_module}.py").write_text(source, encoding="utf-8")
        self._functions_ready = True

    def _python(self) -> str:
        if self._virtual_env_context is not None:
            return str(
                getattr(self._virtual_env_context, "env_exe", Path(self._virtual_env_context.bin_path) / "python")
            )
        return sys.executable

    def _python_paths(self) -> list[str]:
        """The directories the interpreter needs inside the sandbox."""
        paths = [sys.base_prefix, os.path.dirname(os.path.realpath(self._python()))]
        if self._virtual_env_context is None:
            paths += [sys.prefix, sys.exec_prefix]
        else:
            # Only the code's own environment, not the one running Salon: the latter may contain the former
            # (a test's venv inside nox's), and binding it read-only would keep closed directories closed.
            paths += [str(self._virtual_env_context.bin_path), str(Path(self._virtual_env_context.bin_path).parent)]
        return [os.path.abspath(path) for path in paths]

    def _environment(self) -> dict[str, str]:
        path = os.environ.get("PATH", os.defpath)
        if self._virtual_env_context is not None:
            path = f"{os.path.abspath(self._virtual_env_context.bin_path)}{os.pathsep}{path}"
        if not self._sandbox:
            return {**os.environ, "PATH": path, "PYTHONUNBUFFERED": "1"}
        # A clean environment: the model's code sees none of the caller's variables (API keys...).
        return {
            "PATH": path,
            "HOME": SANDBOX_WORK_DIR,
            "TMPDIR": "/tmp",
            "LANG": "C.UTF-8",
            "PYTHONUNBUFFERED": "1",
            "PYTHONIOENCODING": "utf-8",
        }

    async def _run_block(self, language: str, code: str, token: CancellationToken) -> tuple[int, str, str]:
        """Save ``code`` to ``tmp_code_<sha256>.<ext>`` (AutoGen's name) and run it: exit code, output, file."""
        digest = hashlib.sha256(code.encode("utf-8")).hexdigest()
        suffix = "py" if language in _PYTHON else "sh"
        filename = f"tmp_code_{digest}.{suffix}"
        code_file = self.work_dir / filename
        await asyncio.to_thread(code_file.write_text, code, encoding="utf-8")
        program = [self._python(), filename] if language in _PYTHON else [_SHELLS[language], filename]
        env = self._environment()
        if self._sandbox:
            assert self._bwrap is not None
            argv = sandbox_command(
                self._bwrap,
                self.work_dir,
                program,
                env,
                self._sandbox_limits,
                as_root=os.geteuid() == 0,
                needed=self._python_paths(),
            )
            process_env: dict[str, str] | None = {"PATH": env["PATH"]}
            cwd = None
        else:
            argv, process_env, cwd = program, env, self.work_dir
        try:
            exit_code, output = await self._run_process(argv, process_env, cwd, token)
            return exit_code, output, str(code_file)
        finally:
            if self._cleanup_temp_files:
                with contextlib.suppress(OSError):
                    code_file.unlink()

    async def _run_process(
        self, argv: list[str], env: dict[str, str] | None, cwd: Path | None, token: CancellationToken
    ) -> tuple[int, str]:
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env=env,
            cwd=cwd,
            start_new_session=True,
        )
        self._running.add(process)
        buffer = bytearray()
        collecting = asyncio.ensure_future(self._collect(process, buffer))
        token.link_future(collecting)
        try:
            try:
                async with asyncio.timeout(self._timeout):
                    output, cut = await collecting
                    if not cut:
                        await process.wait()
            except TimeoutError:
                await self._kill(process)
                partial = bytes(buffer).decode("utf-8", errors="replace")
                note = f"\nTimeout: the code ran longer than {self._timeout}s and was stopped."
                return _TIMEOUT_EXIT_CODE, partial + note
            except asyncio.CancelledError:
                await self._kill(process)
                raise
            if cut:
                await self._kill(process)
                note = f"\n[output cut: the code wrote more than {self._max_output_bytes} bytes and was stopped]"
                return 1, output.decode("utf-8", errors="replace") + note
            code = process.returncode if process.returncode is not None else 1
            text = output.decode("utf-8", errors="replace")
            if code < 0:  # unsandboxed: killed by a signal
                code = 128 - code
            if code > 128 and (self._sandbox or (process.returncode is not None and process.returncode < 0)):
                # bubblewrap reports a child killed by signal N as 128 + N, as shells do
                text += self._killed_note(code - 128)
            return code, text
        finally:
            self._running.discard(process)
            if not collecting.done():
                collecting.cancel()

    def _killed_note(self, number: int) -> str:
        name = _signal_name(number)
        if number == signal.SIGXCPU:
            reason = f" (it used more than {self._sandbox_limits.cpu_seconds}s of CPU time)"
        elif number == signal.SIGXFSZ:
            reason = f" (it wrote a file larger than {self._sandbox_limits.max_file_size_bytes} bytes)"
        else:
            reason = ""
        return f"\nThe code was killed by {name}{reason}."

    async def _collect(self, process: asyncio.subprocess.Process, buffer: bytearray) -> tuple[bytes, bool]:
        """Read the process's output into ``buffer`` up to the bound; ``True`` second when it was passed."""
        assert process.stdout is not None
        while True:
            chunk = await process.stdout.read(_READ_CHUNK)
            if not chunk:
                return bytes(buffer), False
            room = self._max_output_bytes - len(buffer)
            if len(chunk) > room:
                buffer += chunk[:room]
                return bytes(buffer), True
            buffer += chunk

    async def _kill(self, process: asyncio.subprocess.Process) -> None:
        """Kill the process's whole session (the sandbox's pid namespace dies with it) and reap it."""
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
            with contextlib.suppress(ProcessLookupError):
                process.kill()
        # asyncio's wait() also waits for the pipe to close; read what is left (a reader that stopped at
        # the output bound leaves the transport paused), discarding it.
        with contextlib.suppress(Exception):
            async with asyncio.timeout(10):
                while process.stdout is not None and await process.stdout.read(_READ_CHUNK):
                    pass
                await process.wait()
