"""Config names of the termination conditions, with the options each takes.

The options models mirror the constructors' arguments one to one, so ``{use: max_messages, options:
{max_messages: 8}}`` means ``MaxMessageTermination(max_messages=8)``. ``FunctionalTermination`` takes a
Python function and has no config form.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from salon.hookspecs import Register

__all__ = ["register_conditions"]

_CONDITIONS: tuple[tuple[str, str, str, str], ...] = (
    # (config name, class name, options model name, description)
    ("max_messages", "MaxMessageTermination", "MaxMessageTerminationOptions", "Stop after N messages."),
    ("text_mention", "TextMentionTermination", "TextMentionTerminationOptions", "Stop when a text is mentioned."),
    ("stop_message", "StopMessageTermination", "NoOptions", "Stop when an agent sends a StopMessage."),
    ("token_usage", "TokenUsageTermination", "TokenUsageTerminationOptions", "Stop at a token usage limit."),
    ("handoff", "HandoffTermination", "HandoffTerminationOptions", "Stop on a handoff to a target."),
    ("timeout", "TimeoutTermination", "TimeoutTerminationOptions", "Stop after a number of seconds."),
    ("external", "ExternalTermination", "NoOptions", "Stop when the application calls set()."),
    ("source_match", "SourceMatchTermination", "SourceMatchTerminationOptions", "Stop once given agents spoke."),
    ("text_message", "TextMessageTermination", "TextMessageTerminationOptions", "Stop on a TextMessage."),
    ("function_call", "FunctionCallTermination", "FunctionCallTerminationOptions", "Stop once a tool ran."),
)


def _factory(class_name: str) -> Any:
    def make(**options: Any) -> Any:
        from . import conditions

        return getattr(conditions, class_name)(**options)

    make.__name__ = make.__qualname__ = class_name
    return make


def _options(model_name: str) -> Any:
    def options_model() -> Any:
        from . import _condition_options

        return getattr(_condition_options, model_name)

    return options_model


def register_conditions(register: Register) -> None:
    """Register every configurable termination condition under its short name."""
    for name, class_name, options_name, description in _CONDITIONS:
        register(name, _factory(class_name), options=_options(options_name), description=f"{class_name}: {description}")
