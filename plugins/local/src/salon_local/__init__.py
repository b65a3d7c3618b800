"""salon-local: ``LocalCommandLineCodeExecutor`` (the port of ``autogen_ext.code_executors.local``).

``from salon_local import LocalCommandLineCodeExecutor`` replaces
``from autogen_ext.code_executors.local import LocalCommandLineCodeExecutor``. Code runs in a bubblewrap
sandbox by default where ``bwrap`` is installed (see ``docs/plugins/local.md``). In a config::

    code_executors:
      local: {use: local, options: {work_dir: coding, timeout: 60}}

Salon imports this module for every ``salon`` command, so the executor and its options load on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from salon.hookspecs import Register, hookimpl

if TYPE_CHECKING:
    from ._executor import LocalCommandLineCodeExecutor
    from ._options import LocalCommandLineCodeExecutorOptions, SandboxLimitsOptions
    from ._sandbox import SandboxLimits

__version__ = "0.1.0"

__all__ = [
    "LocalCommandLineCodeExecutor",
    "LocalCommandLineCodeExecutorOptions",
    "SandboxLimits",
    "SandboxLimitsOptions",
    "register_code_executors",
]

_LAZY: dict[str, str] = {
    "LocalCommandLineCodeExecutor": "salon_local._executor",
    "LocalCommandLineCodeExecutorOptions": "salon_local._options",
    "SandboxLimitsOptions": "salon_local._options",
    "SandboxLimits": "salon_local._sandbox",
}


def __getattr__(name: str) -> Any:
    """Import the public classes on first access, so loading the plugin stays cheap."""
    try:
        module = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'salon_local' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def _options_model() -> type[LocalCommandLineCodeExecutorOptions]:
    from ._options import LocalCommandLineCodeExecutorOptions

    return LocalCommandLineCodeExecutorOptions


def _make_local(**options: Any) -> LocalCommandLineCodeExecutor:
    """Build the executor from validated options."""
    from ._executor import LocalCommandLineCodeExecutor
    from ._sandbox import SandboxLimits

    limits = options.pop("sandbox_limits", None)
    if limits is not None and not isinstance(limits, SandboxLimits):
        data = limits.model_dump() if hasattr(limits, "model_dump") else dict(limits)
        limits = SandboxLimits(**data)
    return LocalCommandLineCodeExecutor(sandbox_limits=limits, **options)


@hookimpl
def register_code_executors(register: Register) -> None:
    """Register ``local``."""
    register(
        "local",
        _make_local,
        options=_options_model,
        description="LocalCommandLineCodeExecutor: python and sh blocks run locally, sandboxed by default.",
    )
