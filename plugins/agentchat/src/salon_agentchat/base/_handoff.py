"""Handoffs: how an agent passes the turn to another agent in a Swarm, offered to its model as a tool."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, model_validator

if TYPE_CHECKING:
    from salon.tools import BaseTool

__all__ = ["Handoff"]


class Handoff(BaseModel):
    """A handoff to ``target``; empty fields are filled from the target's name.

    Example: ``Handoff(target="flights")`` becomes a tool ``transfer_to_flights`` described as
    ``"Handoff to flights."`` whose result tells the model it was transferred.
    """

    target: str
    """The name of the agent to hand off to."""

    description: str = ""
    """When to hand off, shown to the model as the tool's description. Default: ``"Handoff to <target>."``"""

    name: str = ""
    """The tool's name, a Python identifier. Default: ``transfer_to_<target>`` in lower case."""

    message: str = ""
    """The tool's result, which the target sees. Default: a sentence saying the target takes over."""

    @model_validator(mode="before")
    @classmethod
    def _fill_defaults(cls, values: Any) -> Any:
        if not isinstance(values, dict) or "target" not in values:
            return values  # pydantic reports the missing target
        values = dict(values)
        target = values["target"]
        if not values.get("description"):
            values["description"] = f"Handoff to {target}."
        name = values.get("name")
        if not name:
            values["name"] = f"transfer_to_{target}".lower()
        elif not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"Handoff name must be a valid Python identifier (it becomes a tool name), got {name!r}")
        if not values.get("message"):
            values["message"] = f"Transferred to {target}, adopting the role of {target} immediately."
        return values

    @property
    def handoff_tool(self) -> BaseTool[BaseModel, BaseModel]:
        """A tool without arguments, named :attr:`name`, that returns :attr:`message`."""
        from salon.tools import FunctionTool

        message = self.message

        def _handoff_tool() -> str:
            return message

        return FunctionTool(_handoff_tool, name=self.name, description=self.description, strict=True)
