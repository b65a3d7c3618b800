"""Shared fixtures: one scripted Anthropic server per test, and clients pointed at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from salon.testing import AnthropicTestServer

MODEL = "claude-sonnet-4-6"
API_KEY = "sk-ant-test-key-never-shown"


@pytest.fixture
def server() -> Iterator[AnthropicTestServer]:
    with AnthropicTestServer() as running:
        yield running
