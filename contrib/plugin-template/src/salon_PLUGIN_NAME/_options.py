"""The options of the ``PLUGIN_NAME`` agent, validated by Salon when a config says ``use: PLUGIN_NAME``."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["ExampleOptions"]


class ExampleOptions(BaseModel):
    """Options of the PLUGIN_NAME agent."""

    # Each field is one key under `options:` in a config, passed to the factory as a keyword argument.
    # extra="forbid": a misspelt option is an error that names it, not a setting silently ignored.
    # use_attribute_docstrings: the docstrings below describe the fields in `salon config schema` (editors
    # show them); the class docstring describes the whole options object there.
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    greeting: str = "Hello"
    """Put before the text in every answer."""
