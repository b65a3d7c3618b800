"""Conditions that count: messages and tokens."""

from __future__ import annotations

from collections.abc import Sequence

from ..base import TerminationCondition
from ..messages import BaseAgentEvent, BaseChatMessage, StopMessage

__all__ = ["MaxMessageTermination", "TokenUsageTermination"]


class MaxMessageTermination(TerminationCondition):
    """Fires once ``max_messages`` messages have been produced, the task's messages included.

    Args:
        max_messages: How many messages end the conversation.
        include_agent_event: Count agent events too; by default only chat messages count.
    """

    def __init__(self, max_messages: int, include_agent_event: bool = False) -> None:
        self._max_messages = max_messages
        self._include_agent_event = include_agent_event
        self._message_count = 0

    @property
    def terminated(self) -> bool:
        return self._message_count >= self._max_messages

    async def __call__(self, messages: Sequence[BaseAgentEvent | BaseChatMessage]) -> StopMessage | None:
        if self.terminated:
            raise self._already_terminated()
        if self._include_agent_event:
            self._message_count += len(messages)
        else:
            self._message_count += sum(1 for message in messages if isinstance(message, BaseChatMessage))
        if self._message_count >= self._max_messages:
            return StopMessage(
                content=f"Maximum number of messages {self._max_messages} reached, "
                f"current message count: {self._message_count}",
                source="MaxMessageTermination",
            )
        return None

    async def reset(self) -> None:
        self._message_count = 0

    def __repr__(self) -> str:
        extra = ", include_agent_event=True" if self._include_agent_event else ""
        return f"MaxMessageTermination(max_messages={self._max_messages}{extra})"


class TokenUsageTermination(TerminationCondition):
    """Fires once the messages' model usage adds up to a limit (any one of the limits given).

    Only messages that carry ``models_usage`` count; total tokens are prompt plus completion tokens.

    Args:
        max_total_token: Limit on prompt + completion tokens.
        max_prompt_token: Limit on prompt tokens.
        max_completion_token: Limit on completion tokens.

    Raises:
        ValueError: no limit was given.
    """

    def __init__(
        self,
        max_total_token: int | None = None,
        max_prompt_token: int | None = None,
        max_completion_token: int | None = None,
    ) -> None:
        if max_total_token is None and max_prompt_token is None and max_completion_token is None:
            raise ValueError(
                "TokenUsageTermination needs a limit: pass at least one of max_total_token, max_prompt_token "
                "or max_completion_token."
            )
        self._max_total_token = max_total_token
        self._max_prompt_token = max_prompt_token
        self._max_completion_token = max_completion_token
        self._total_token_count = 0
        self._prompt_token_count = 0
        self._completion_token_count = 0

    @property
    def terminated(self) -> bool:
        return self._limit_reached()

    def _limit_reached(self) -> bool:
        return (
            (self._max_total_token is not None and self._total_token_count >= self._max_total_token)
            or (self._max_prompt_token is not None and self._prompt_token_count >= self._max_prompt_token)
            or (self._max_completion_token is not None and self._completion_token_count >= self._max_completion_token)
        )

    async def __call__(self, messages: Sequence[BaseAgentEvent | BaseChatMessage]) -> StopMessage | None:
        if self.terminated:
            raise self._already_terminated()
        for message in messages:
            usage = message.models_usage
            if usage is not None:
                self._prompt_token_count += usage.prompt_tokens
                self._completion_token_count += usage.completion_tokens
                self._total_token_count += usage.prompt_tokens + usage.completion_tokens
        if self._limit_reached():
            return StopMessage(
                content=f"Token usage limit reached, total token count: {self._total_token_count}, "
                f"prompt token count: {self._prompt_token_count}, "
                f"completion token count: {self._completion_token_count}.",
                source="TokenUsageTermination",
            )
        return None

    async def reset(self) -> None:
        self._total_token_count = 0
        self._prompt_token_count = 0
        self._completion_token_count = 0

    def __repr__(self) -> str:
        limits = {
            "max_total_token": self._max_total_token,
            "max_prompt_token": self._max_prompt_token,
            "max_completion_token": self._max_completion_token,
        }
        args = ", ".join(f"{key}={value}" for key, value in limits.items() if value is not None)
        return f"TokenUsageTermination({args})"
