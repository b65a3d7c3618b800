"""salon-echo: the smallest useful Salon plugin, and the tutorial for writing your own.

Salon finds this module through the entry point ``echo = "salon_echo"`` in group ``salon`` (see this
distribution's ``pyproject.toml``) and calls the hook implementations below. What it provides:

- the agent ``echo`` (``agents: {x: {use: echo, options: {prefix: "> "}}}`` in a config), an
  :class:`EchoAgent` that answers a ``str`` with the same text behind a prefix;
- the command ``salon echo TEXT``, which runs that agent once on an in-process runtime.

The module is imported by every ``salon`` command (``salon plugins`` included), so it imports nothing
heavy at the top: the agent class, its pydantic options model and the command's code are imported only
when they are used. Python users who do not go through a config import the agent directly::

    from salon_echo import EchoAgent
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from salon.hookspecs import Register, hookimpl

if TYPE_CHECKING:  # for type checkers only; at run time __getattr__ below imports them on first use
    from ._agent import EchoAgent
    from ._options import EchoOptions

__version__ = "0.1.0"

__all__ = ["EchoAgent", "EchoOptions", "register_agents", "register_commands"]

_LAZY: dict[str, str] = {"EchoAgent": "salon_echo._agent", "EchoOptions": "salon_echo._options"}


def __getattr__(name: str) -> Any:
    """Import the public classes on first access, so loading the plugin stays cheap."""
    try:
        module = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'salon_echo' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def _options_model() -> type[EchoOptions]:
    """Return the options model; Salon calls this only when it validates a config or builds a schema."""
    from ._options import EchoOptions

    return EchoOptions


def _make_echo_agent(*, prefix: str = "echo: ") -> EchoAgent:
    """Build one agent from validated options (the runtime calls this once per agent id)."""
    from ._agent import EchoAgent

    return EchoAgent(prefix=prefix)


@hookimpl
def register_agents(register: Register) -> None:
    """Register the ``echo`` agent.

    The options are given as a function rather than the model class itself, so that pydantic is not
    imported until someone needs the options (``salon plugins`` never does).
    """
    register(
        "echo",
        _make_echo_agent,
        options=_options_model,
        description="EchoAgent: answers a str with the same text behind a prefix.",
    )


@hookimpl
def register_commands(cli: Any) -> None:
    """Add ``salon echo TEXT``; the command's code is imported only when the command runs."""
    parser = cli.add_parser(
        "echo",
        help="send TEXT to an echo agent on an in-process runtime and print its answer",
        description="Send TEXT to an EchoAgent on an in-process runtime and print its answer.",
    )
    parser.add_argument("text", metavar="TEXT", help="what to send")
    parser.add_argument("--prefix", default="echo: ", help="what the agent puts before the text (default: %(default)r)")
    parser.set_defaults(handler=_run_echo_command)


def _run_echo_command(args: Any) -> int:
    """Run ``salon echo`` (see :func:`salon_echo._command.main`)."""
    from ._command import main

    return main(text=args.text, prefix=args.prefix)
