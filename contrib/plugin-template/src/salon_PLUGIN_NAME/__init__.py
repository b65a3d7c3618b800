"""salon-PLUGIN_NAME: a Salon plugin.

Salon finds this module through the entry point ``PLUGIN_NAME = "salon_PLUGIN_NAME"`` in the group
``salon`` (see ``pyproject.toml``) and calls the ``@hookimpl`` functions below. It provides:

- the agent ``PLUGIN_NAME`` (``agents: {x: {use: PLUGIN_NAME, options: {greeting: Hi}}}`` in a config),
  an :class:`ExampleAgent` that answers a ``str`` with a greeting.

Replace the example agent with your own component; the hook reference (``docs/plugins/hooks.md`` in the
Salon repository) lists every kind a plugin can register.

Every ``salon`` command, ``salon plugins`` included, imports every installed plugin. So this module
imports nothing heavy at the top: the component class, its SDK and its pydantic options model are
imported only when a config uses them (inside ``_options_model`` and ``_make_agent``). Python users still
write ``from salon_PLUGIN_NAME import ExampleAgent``, served by the module ``__getattr__`` below.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from salon.hookspecs import Register, hookimpl

if TYPE_CHECKING:  # for type checkers only; at run time __getattr__ imports them on first use
    from ._agent import ExampleAgent
    from ._options import ExampleOptions

__version__ = "0.1.0"

__all__ = ["ExampleAgent", "ExampleOptions", "register_agents"]

_LAZY: dict[str, str] = {
    "ExampleAgent": "salon_PLUGIN_NAME._agent",
    "ExampleOptions": "salon_PLUGIN_NAME._options",
}


def __getattr__(name: str) -> Any:
    """Import the public classes on first access, so that loading the plugin stays cheap."""
    try:
        module = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'salon_PLUGIN_NAME' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def _options_model() -> type[ExampleOptions]:
    """Return the options model; Salon calls this only to validate a config or to build its JSON Schema."""
    from ._options import ExampleOptions

    return ExampleOptions


def _make_agent(*, greeting: str = "Hello") -> ExampleAgent:
    """Build one agent from validated options, given as keyword arguments (one per options field)."""
    from ._agent import ExampleAgent  # import your SDK here too, never at the top of this module

    return ExampleAgent(greeting=greeting)


# One function per hook, named exactly like the hook (a misspelt name is an error that names this
# plugin, because Salon always calls pluggy's check_pending). A registration hook receives a `register`
# callback; call it once per component:
#
#     register(name, factory, *, options=None, description="")
#
# - name: what a config's `use:` says; unique per kind across all installed plugins.
# - factory: builds the component from the validated options, passed as keyword arguments.
# - options: the pydantic model of those options, or (as here) a function returning it, so that pydantic
#   and your models are imported only when needed.
# - description: one line for `salon plugins`.
@hookimpl
def register_agents(register: Register) -> None:
    """Register the ``PLUGIN_NAME`` agent."""
    register(
        "PLUGIN_NAME",
        _make_agent,
        options=_options_model,
        description="ExampleAgent: answers a str with a greeting.",
    )


# More hooks, when you need them (see the hook reference for each one's contract):
#
# @hookimpl
# def register_tools(register: Register) -> None: ...
#
# @hookimpl
# def register_commands(cli: Any) -> None:
#     parser = cli.add_parser("PLUGIN_NAME", help="what `salon PLUGIN_NAME` does")
#     parser.set_defaults(handler=lambda args: 0)  # takes the parsed arguments, returns an exit status
