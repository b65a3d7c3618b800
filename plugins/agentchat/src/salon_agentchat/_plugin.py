"""The salon-agentchat plugin: registers chat agents and termination conditions for config files.

Each area registers its own components from its own module (``_register_*.py``) so that this file stays
a table of contents; the modules import the classes they register lazily, which keeps ``salon plugins``
fast.
"""

from __future__ import annotations

from typing import Any

from salon.hookspecs import Register, hookimpl

__all__ = ["register_agents", "register_termination_conditions", "run_console"]


@hookimpl
def register_termination_conditions(register: Register) -> None:
    """Register AutoGen's termination conditions (``max_messages``, ``text_mention``, ...)."""
    from . import _register_conditions

    _register_conditions.register_conditions(register)


@hookimpl
def register_agents(register: Register) -> None:
    """Register the chat agents (``assistant``, ``user_proxy``, ``code_executor``, ...)."""
    from . import _register_agents

    _register_agents.register_agents(register)


@hookimpl
def run_console(stream: Any, output: Any) -> Any:
    """Render ``salon run``'s stream with :class:`~salon_agentchat.ui.Console`, token totals included."""
    from .ui import Console

    return Console(stream, output_stats=True, output=output)
