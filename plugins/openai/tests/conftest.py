"""Fixtures: a scripted OpenAI wire-protocol server on 127.0.0.1 and clients pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
import pytest_asyncio

from salon.testing import OpenAIChatServer
from salon_openai import OpenAIChatCompletionClient

MakeClient = Callable[..., OpenAIChatCompletionClient]


@pytest.fixture
def server() -> Iterator[OpenAIChatServer]:
    with OpenAIChatServer() as running:
        yield running


@pytest_asyncio.fixture
async def make_client(server: OpenAIChatServer) -> AsyncIterator[MakeClient]:
    """Build clients against ``server`` (no retries unless asked); all are closed after the test."""
    made: list[OpenAIChatCompletionClient] = []

    def make(**options: Any) -> OpenAIChatCompletionClient:
        options.setdefault("model", "gpt-4o-mini")
        options.setdefault("api_key", "test-key")
        options.setdefault("base_url", server.url)
        options.setdefault("max_retries", 0)
        client = OpenAIChatCompletionClient(**options)
        made.append(client)
        return client

    yield make
    for client in made:
        await client.close()
