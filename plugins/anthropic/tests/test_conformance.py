"""The model-client conformance suite, run through the real anthropic SDK against a scripted server."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pytest

from salon.models import ChatCompletionClient
from salon.testing import AnthropicTestServer, ModelClientConformanceSuite, ScriptedReply
from salon_anthropic import AnthropicChatCompletionClient

from .conftest import API_KEY, MODEL


class TestAnthropicConformance(ModelClientConformanceSuite):
    @pytest.fixture(autouse=True)
    def _server(self) -> Iterator[None]:
        with AnthropicTestServer() as server:
            self.server = server
            yield

    async def make_client(self, replies: Sequence[ScriptedReply]) -> ChatCompletionClient:
        self.server.script(*replies)
        return AnthropicChatCompletionClient(model=MODEL, base_url=self.server.url, api_key=API_KEY, max_retries=0)
