"""Worker OS processes for salon-redis's tests: a test module runs itself as the worker script.

A test module that needs agents in another process defines an ``async`` serve function and ends with
``if __name__ == "__main__": run_worker(serve)``; its tests call :func:`start_worker` with the module's
``__file__`` and the arguments the serve function takes, and :func:`stop_worker` (or kill the process, for
a crash). The worker prints ``ready`` once its runtime is started and runs until its stdin closes.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Callable, Coroutine, Mapping
from typing import Any

import pytest

from salon_redis import RedisAgentRuntime

__all__ = ["READY", "run_worker", "serve_until_stdin_closes", "start_worker", "stop_worker"]

READY = "ready"
"""What a worker prints on its stdout once its runtime is started."""


def start_worker(script: str, *args: str, env: Mapping[str, str] | None = None) -> subprocess.Popen[str]:
    """Run ``python script args...`` and return once it printed :data:`READY` (fail the test if it did not)."""
    proc = subprocess.Popen(
        [sys.executable, script, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=None if env is None else {**os.environ, **env},
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if line.strip() != READY:
        proc.kill()
        pytest.fail(f"worker {' '.join(args)} did not start: {line!r}\n{proc.communicate(timeout=10)[1]}")
    return proc


def stop_worker(proc: subprocess.Popen[str], timeout: float = 30) -> str:
    """Close the worker's stdin (it closes its runtime and exits); kill it if it does not. Returns its stderr."""
    try:
        _, stderr = proc.communicate(input="", timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, stderr = proc.communicate()
    except ValueError:  # its pipes were closed already (it was killed and reaped): nothing more to read
        stderr = ""
    return stderr


async def serve_until_stdin_closes(runtime: RedisAgentRuntime) -> None:
    """Start ``runtime``, say :data:`READY`, and close it once the test closes this process's stdin."""
    await runtime.start()
    print(READY, flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await runtime.close()


def run_worker(serve: Callable[..., Coroutine[Any, Any, None]]) -> None:
    """The worker script's entry: ``serve(*sys.argv[1:])`` on a new event loop."""
    asyncio.run(serve(*sys.argv[1:]))
