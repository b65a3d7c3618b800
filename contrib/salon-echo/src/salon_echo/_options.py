"""The ``echo`` agent's options, validated by Salon when a config says ``use: echo``."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["EchoOptions"]


class EchoOptions(BaseModel):
    """Options of the ``echo`` agent.

    ``extra="forbid"`` makes a misspelt option in a config an error that names it, instead of a
    setting that is silently ignored.
    """

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    prefix: str = "echo: "
    """Put before every answer."""
