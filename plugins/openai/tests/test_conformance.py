"""The model-client conformance suite, run for both clients through the real openai SDK over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pytest

from salon.models import ChatCompletionClient
from salon.testing import ModelClientConformanceSuite, OpenAIChatServer, ScriptedReply
from salon_openai import AzureOpenAIChatCompletionClient, OpenAIChatCompletionClient


class TestOpenAIChatCompletionClientConformance(ModelClientConformanceSuite):
    server: OpenAIChatServer

    @pytest.fixture(autouse=True)
    def _server(self) -> Iterator[None]:
        with OpenAIChatServer() as server:
            self.server = server
            yield

    async def make_client(self, replies: Sequence[ScriptedReply]) -> ChatCompletionClient:
        self.server.script(replies)
        return OpenAIChatCompletionClient(model="gpt-4o-mini", base_url=self.server.url, api_key="test", max_retries=0)


class TestAzureOpenAIChatCompletionClientConformance(ModelClientConformanceSuite):
    server: OpenAIChatServer

    @pytest.fixture(autouse=True)
    def _server(self) -> Iterator[None]:
        with OpenAIChatServer() as server:
            self.server = server
            yield

    async def make_client(self, replies: Sequence[ScriptedReply]) -> ChatCompletionClient:
        self.server.script(replies)
        return AzureOpenAIChatCompletionClient(
            model="gpt-4o",
            azure_endpoint=self.server.root_url,
            azure_deployment="my-gpt-4o",
            api_version="2024-06-01",
            api_key="test",
            max_retries=0,
        )

    async def test_requests_go_to_the_deployment(self) -> None:
        client = await self.make_client(["Hi."])
        try:
            from salon.models import UserMessage

            await self.within(client.create([UserMessage(content="Hello", source="user")]))
        finally:
            await client.close()
        request = self.server.chat_requests[-1]
        assert request.path == "/openai/deployments/my-gpt-4o/chat/completions"
        assert "api-version=2024-06-01" in request.query
        assert request.headers["api-key"] == "test"
