"""The model-client conformance suite, run on the replay client and on the response cache wrapping it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Callable, Sequence
from typing import Any

import pytest

from salon import EVENT_LOGGER_NAME
from salon.cache import ChatCompletionCache, InMemoryStore
from salon.models import (
    ChatCompletionClient,
    CreateResult,
    LLMMessage,
    ModelInfo,
    ReplayChatCompletionClient,
    RequestUsage,
)
from salon.testing import ModelClientConformanceSuite, ScriptedReply

FULL_INFO = ModelInfo(vision=False, function_calling=True, json_output=True, family="unknown", structured_output=True)


def scripted_replay(replies: Sequence[ScriptedReply]) -> ReplayChatCompletionClient:
    script: list[str | CreateResult] = []
    for reply in replies:
        if isinstance(reply, str):
            script.append(reply)
        else:
            usage = RequestUsage(prompt_tokens=1, completion_tokens=len(reply))
            script.append(CreateResult(finish_reason="function_calls", content=list(reply), usage=usage, cached=False))
    client = ReplayChatCompletionClient(script, model_info=FULL_INFO)
    client.set_cached_bool_value(False)  # these stand for fresh model answers
    return client


class TestReplayChatCompletionClient(ModelClientConformanceSuite):
    async def make_client(self, replies: Sequence[ScriptedReply]) -> ChatCompletionClient:
        return scripted_replay(replies)


class TestChatCompletionCacheOverReplay(ModelClientConformanceSuite):
    async def make_client(self, replies: Sequence[ScriptedReply]) -> ChatCompletionClient:
        return ChatCompletionCache(scripted_replay(replies), InMemoryStore())


# -- the suite fails clients that break the contract ------------------------------------------------------


class IgnoresCancellation(ReplayChatCompletionClient):
    async def create(self, messages: Sequence[LLMMessage], **kwargs: Any) -> CreateResult:
        kwargs.pop("cancellation_token", None)
        return await super().create(messages, **kwargs)


class ZeroStreamUsage(ReplayChatCompletionClient):
    """What AutoGen's OpenAI client does unless asked: a final result with zero usage."""

    async def create_stream(
        self, messages: Sequence[LLMMessage], **kwargs: Any
    ) -> AsyncGenerator[str | CreateResult, None]:
        async for item in super().create_stream(messages, **kwargs):
            yield item.model_copy(update={"usage": RequestUsage(0, 0)}) if isinstance(item, CreateResult) else item


class TwoFinalResults(ReplayChatCompletionClient):
    async def create_stream(
        self, messages: Sequence[LLMMessage], **kwargs: Any
    ) -> AsyncGenerator[str | CreateResult, None]:
        async for item in super().create_stream(messages, **kwargs):
            if isinstance(item, CreateResult):
                yield item
            yield item


class ClosesOnce(ReplayChatCompletionClient):
    closed = False

    async def close(self) -> None:
        if self.closed:
            raise RuntimeError("already closed")
        self.closed = True


class ConstantRemaining(ReplayChatCompletionClient):
    """AutoGen's replay client: remaining tokens ignore the messages."""

    def remaining_tokens(self, messages: Sequence[LLMMessage], *, tools: Sequence[Any] = ()) -> int:
        return 10000


class Silent(ReplayChatCompletionClient):
    async def create(self, messages: Sequence[LLMMessage], **kwargs: Any) -> CreateResult:
        logger = logging.getLogger(EVENT_LOGGER_NAME)
        level = logger.level
        logger.setLevel(logging.WARNING)
        try:
            return await super().create(messages, **kwargs)
        finally:
            logger.setLevel(level)


def factory_for(cls: type[ReplayChatCompletionClient]) -> Callable[[Sequence[ScriptedReply]], Any]:
    async def factory(replies: Sequence[ScriptedReply]) -> ChatCompletionClient:
        client = cls([r for r in replies if isinstance(r, str)], model_info=FULL_INFO)
        client.set_cached_bool_value(False)
        return client

    return factory


@pytest.mark.parametrize(
    ("client_class", "test_name"),
    [
        (IgnoresCancellation, "test_cancelled_token_cancels_create"),
        (ZeroStreamUsage, "test_stream_yields_chunks_then_one_final_result"),
        (TwoFinalResults, "test_stream_yields_chunks_then_one_final_result"),
        (ClosesOnce, "test_close_is_idempotent"),
        (ConstantRemaining, "test_remaining_tokens_shrink_as_the_conversation_grows"),
        (Silent, "test_calls_are_logged_with_their_usage"),
    ],
)
async def test_the_suite_catches_broken_clients(client_class: type[ReplayChatCompletionClient], test_name: str) -> None:
    suite = TestReplayChatCompletionClient()
    await getattr(suite, test_name)(factory_for(ReplayChatCompletionClient))  # the sound client passes
    with pytest.raises((AssertionError, pytest.fail.Exception, RuntimeError)):
        await getattr(suite, test_name)(factory_for(client_class))


def test_make_client_must_be_overridden() -> None:
    class Incomplete(ModelClientConformanceSuite):
        pass

    with pytest.raises(NotImplementedError, match="make_client"):
        asyncio.run(Incomplete().make_client([]))
    assert not ModelClientConformanceSuite.__name__.startswith("Test")
