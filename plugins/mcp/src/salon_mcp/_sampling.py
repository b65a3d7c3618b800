"""MCP sampling answered by a Salon model client: a server asks "complete this for me" mid-tool-call."""

from __future__ import annotations

import logging
from typing import Any

import mcp_types
from mcp.client.session import ClientRequestContext, SamplingFnT

from salon import Image
from salon.models import AssistantMessage, ChatCompletionClient, LLMMessage, SystemMessage, UserMessage

__all__ = ["sampling_callback_for"]

_logger = logging.getLogger(__name__)

_STOP_REASONS = {"stop": "endTurn", "length": "maxTokens"}


def _content_parts(content: Any, *, vision: bool) -> list[str | Image]:
    blocks = content if isinstance(content, list) else [content]
    parts: list[str | Image] = []
    for block in blocks:
        if isinstance(block, mcp_types.TextContent):
            parts.append(block.text)
        elif isinstance(block, mcp_types.ImageContent):
            if not vision:
                raise ValueError("the sampling request holds an image, but the model client has no vision")
            parts.append(Image.from_base64(block.data))
        else:
            raise ValueError(
                f"sampling content of type {getattr(block, 'type', type(block).__name__)!r} is not supported"
            )
    return parts


def _to_llm_message(message: mcp_types.SamplingMessage, *, vision: bool) -> LLMMessage:
    parts = _content_parts(message.content, vision=vision)
    if message.role == "user":
        return UserMessage(content=parts, source="user")
    texts = [part for part in parts if isinstance(part, str)]
    if len(texts) != len(parts):
        raise ValueError("an assistant message in a sampling request may only hold text")
    return AssistantMessage(content="\n".join(texts), source="assistant")


def sampling_callback_for(model_client: ChatCompletionClient | None) -> SamplingFnT:
    """Build the session's sampling callback: the server's messages go to ``model_client.create``.

    Without a model client every sampling request is refused with an error the server sees (the mcp SDK's
    default). Errors are returned to the server as JSON-RPC errors, never raised into the session.
    """

    async def sample(
        context: ClientRequestContext, params: mcp_types.CreateMessageRequestParams
    ) -> mcp_types.CreateMessageResult | mcp_types.ErrorData:
        if model_client is None:
            return mcp_types.ErrorData(
                code=mcp_types.INVALID_REQUEST,
                message="This MCP client has no model for sampling: give the workbench a model_client.",
            )
        try:
            vision = bool(model_client.model_info.get("vision", False))
            messages: list[LLMMessage] = []
            if params.system_prompt:
                messages.append(SystemMessage(content=params.system_prompt))
            messages.extend(_to_llm_message(message, vision=vision) for message in params.messages)
        except ValueError as e:
            return mcp_types.ErrorData(code=mcp_types.INVALID_PARAMS, message=f"Bad sampling request: {e}")
        try:
            result = await model_client.create(messages)
        except Exception as e:
            _logger.warning("The model client failed to answer an MCP sampling request", exc_info=True)
            return mcp_types.ErrorData(
                code=mcp_types.INTERNAL_ERROR, message=f"The model client failed: {type(e).__name__}: {e}"
            )
        text = result.content if isinstance(result.content, str) else str(result.content)
        return mcp_types.CreateMessageResult(
            role="assistant",
            content=mcp_types.TextContent(type="text", text=text),
            model=str(model_client.model_info.get("family", "unknown")),
            stop_reason=_STOP_REASONS.get(result.finish_reason, result.finish_reason),
        )

    return sample
