"""Feeding chat messages to a model context, the one way every model-backed agent and team does it."""

from __future__ import annotations

from collections.abc import Sequence

from salon.model_context import ChatCompletionContext

from ..messages import BaseChatMessage, HandoffMessage

__all__ = ["add_to_model_context"]


async def add_to_model_context(model_context: ChatCompletionContext, messages: Sequence[BaseChatMessage]) -> None:
    """Add ``messages`` to ``model_context`` as model messages, in order.

    A :class:`~salon_agentchat.messages.HandoffMessage` first adds the conversation it carries (the tool
    calls and results that led to the handoff), so the agent receiving it sees why it was called.
    """
    for message in messages:
        if isinstance(message, HandoffMessage):
            for carried in message.context:
                await model_context.add_message(carried)
        await model_context.add_message(message.to_model_message())
