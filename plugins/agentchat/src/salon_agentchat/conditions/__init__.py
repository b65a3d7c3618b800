"""Termination conditions (the port of ``autogen_agentchat.conditions``).

Combine them with ``|`` and ``&``; each is stateful and must be reset (teams do it) before reuse.
"""

from __future__ import annotations

from ._control import ExternalTermination, FunctionalTermination, TimeoutTermination
from ._counting import MaxMessageTermination, TokenUsageTermination
from ._matching import (
    FunctionCallTermination,
    HandoffTermination,
    SourceMatchTermination,
    StopMessageTermination,
    TextMentionTermination,
    TextMessageTermination,
)

__all__ = [
    "ExternalTermination",
    "FunctionCallTermination",
    "FunctionalTermination",
    "HandoffTermination",
    "MaxMessageTermination",
    "SourceMatchTermination",
    "StopMessageTermination",
    "TextMentionTermination",
    "TextMessageTermination",
    "TimeoutTermination",
    "TokenUsageTermination",
]
