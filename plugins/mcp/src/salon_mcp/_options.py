"""The options of the ``mcp`` workbench in a composition config."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from salon import Ref
from salon.tools import ToolOverride

from ._config import McpServerParams

__all__ = ["McpWorkbenchOptions"]


class McpWorkbenchOptions(BaseModel):
    """``workbenches: {x: {use: mcp, options: ...}}``.

    Example::

        workbenches:
          files:
            use: mcp
            options:
              server: {type: StdioServerParams, command: npx, args: [-y, "@modelcontextprotocol/server-filesystem", .]}
              tool_overrides: {read_file: {name: read, description: Read a text file.}}

    Attributes:
        server: Where the server is; ``type`` picks the transport (``StdioServerParams``,
            ``SseServerParams`` or ``StreamableHttpServerParams``) and the other keys are its fields.
        tool_overrides: New names and/or descriptions, keyed by the server's tool names.
        model_client: The model client (by its name in the config) that answers the server's sampling
            requests.
        roots: Directories offered to the server as roots.
    """

    model_config = ConfigDict(extra="forbid")

    server: McpServerParams
    tool_overrides: dict[str, ToolOverride] = Field(default_factory=dict)
    model_client: Annotated[str, Ref("model_client")] | None = None
    roots: list[str] | None = None
