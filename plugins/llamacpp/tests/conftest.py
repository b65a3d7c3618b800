"""Shared fixtures: clients of the real default model (SmolLM2-135M-Instruct), small and seeded."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest_asyncio

from salon_llamacpp import LlamaCppChatCompletionClient

#: Small answers keep the suite fast; seeded, low-temperature sampling keeps it reproducible.
FAST: dict[str, Any] = {"seed": 1234, "temperature": 0.0, "max_tokens": 24, "n_threads": 2}


@pytest_asyncio.fixture
async def client() -> AsyncIterator[LlamaCppChatCompletionClient]:
    made = LlamaCppChatCompletionClient(**FAST)
    yield made
    await made.close()
