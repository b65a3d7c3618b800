"""A model's request to call a tool."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["FunctionCall"]


@dataclass
class FunctionCall:
    """One tool call requested by a model.

    Attributes:
        id: The call's id, echoed back with its result.
        arguments: The arguments as a JSON string, exactly as the model produced them.
        name: The tool's name.
    """

    id: str
    arguments: str
    name: str
