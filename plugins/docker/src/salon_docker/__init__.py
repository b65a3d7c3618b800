"""salon-docker: ``DockerCommandLineCodeExecutor`` (the port of ``autogen_ext.code_executors.docker``).

``from salon_docker import DockerCommandLineCodeExecutor`` replaces
``from autogen_ext.code_executors.docker import DockerCommandLineCodeExecutor``. The container is locked
down by default (no network, memory and process limits, non-root, read-only root file system); see
``docs/plugins/docker.md``. In a config::

    code_executors:
      docker: {use: docker, options: {image: "python:3-slim", timeout: 60}}

Salon imports this module for every ``salon`` command, so the executor (and the Docker SDK) load on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from salon.hookspecs import Register, hookimpl

if TYPE_CHECKING:
    from ._common import CommandLineCodeResult
    from ._executor import DockerCommandLineCodeExecutor
    from ._options import DockerCommandLineCodeExecutorOptions

__version__ = "0.1.0"

__all__ = [
    "CommandLineCodeResult",
    "DockerCommandLineCodeExecutor",
    "DockerCommandLineCodeExecutorOptions",
    "register_code_executors",
]

_LAZY: dict[str, str] = {
    "CommandLineCodeResult": "salon_docker._common",
    "DockerCommandLineCodeExecutor": "salon_docker._executor",
    "DockerCommandLineCodeExecutorOptions": "salon_docker._options",
}


def __getattr__(name: str) -> Any:
    """Import the public classes on first access, so loading the plugin stays cheap."""
    try:
        module = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'salon_docker' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def _options_model() -> type[DockerCommandLineCodeExecutorOptions]:
    from ._options import DockerCommandLineCodeExecutorOptions

    return DockerCommandLineCodeExecutorOptions


def _make_docker(**options: Any) -> DockerCommandLineCodeExecutor:
    """Build the executor from validated options."""
    from ._executor import DockerCommandLineCodeExecutor

    image = options.pop("image", "python:3-slim")
    container_name = options.pop("container_name", None)
    return DockerCommandLineCodeExecutor(image, container_name, **options)


@hookimpl
def register_code_executors(register: Register) -> None:
    """Register ``docker``."""
    register(
        "docker",
        _make_docker,
        options=_options_model,
        description="DockerCommandLineCodeExecutor: python and sh blocks run in a locked-down Docker container.",
    )
