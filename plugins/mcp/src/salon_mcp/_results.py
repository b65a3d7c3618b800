"""Translating between MCP's wire types and Salon's: tool schemas in, tool results out."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import mcp_types
from pydantic import BaseModel

from salon import Image
from salon.tools import ImageResultContent, ParametersSchema, TextResultContent, ToolOverride, ToolResult, ToolSchema

__all__ = ["content_to_parts", "tool_result", "tool_schema"]


def tool_schema(tool: mcp_types.Tool, override: ToolOverride | None = None) -> ToolSchema:
    """The schema a model sees for an MCP tool, under its override name and description if any."""
    name = tool.name
    description = tool.description or tool.title or ""
    if override is not None:
        name = override.name if override.name is not None else name
        description = override.description if override.description is not None else description
    input_schema: Mapping[str, Any] = tool.input_schema or {}
    parameters = ParametersSchema(
        type="object",
        properties=dict(input_schema.get("properties", {})),
        required=list(input_schema.get("required", [])),
        additionalProperties=bool(input_schema.get("additionalProperties", False)),
    )
    return ToolSchema(name=name, description=description, parameters=parameters)


def _resource_text(block: mcp_types.EmbeddedResource) -> str:
    resource = block.resource
    text = getattr(resource, "text", None)
    if isinstance(text, str):
        return text
    return json.dumps(block.model_dump(mode="json", by_alias=True, exclude_none=True))


def content_to_parts(content: list[Any]) -> list[TextResultContent | ImageResultContent]:
    """MCP content blocks as result parts: text and images kept, other blocks rendered as JSON text.

    An embedded text resource becomes its text (AutoGen renders it as JSON); audio, binary resources and
    resource links become their JSON description, so nothing the server sent is dropped.
    """
    parts: list[TextResultContent | ImageResultContent] = []
    for block in content:
        if isinstance(block, mcp_types.TextContent):
            parts.append(TextResultContent(content=block.text))
        elif isinstance(block, mcp_types.ImageContent):
            try:
                parts.append(ImageResultContent(content=Image.from_base64(block.data)))
            except ValueError as e:
                parts.append(TextResultContent(content=f"[unreadable {block.mime_type} image from the server: {e}]"))
        elif isinstance(block, mcp_types.EmbeddedResource):
            parts.append(TextResultContent(content=_resource_text(block)))
        elif isinstance(block, BaseModel):
            parts.append(TextResultContent(content=block.model_dump_json(by_alias=True, exclude_none=True)))
        else:
            parts.append(TextResultContent(content=str(block)))
    return parts


def tool_result(name: str, result: mcp_types.CallToolResult) -> ToolResult:
    """A Salon result for an MCP call result, under the name the caller used.

    A result with no content but structured content shows the structured content as JSON text, so a
    model never reads an empty answer from a tool that did answer.
    """
    parts = content_to_parts(list(result.content))
    if not parts and result.structured_content is not None:
        parts.append(TextResultContent(content=json.dumps(result.structured_content)))
    return ToolResult(name=name, result=parts, is_error=bool(result.is_error))
