"""salon.testing.AnthropicTestServer over plain HTTP (no SDK): the wire format it speaks, and its lifecycle."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest

from salon import FunctionCall
from salon.testing import AnthropicFailure, AnthropicReply, AnthropicTestServer


def post(server: AnthropicTestServer, body: dict[str, Any], timeout: float = 5) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(
        f"{server.url}/v1/messages",
        data=json.dumps(body).encode(),
        headers={"content-type": "application/json", "x-api-key": "k"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


BODY = {"model": "claude-x", "max_tokens": 10, "messages": [{"role": "user", "content": "two words"}]}


def sse(data: bytes) -> list[tuple[str, dict[str, Any]]]:
    events = []
    for chunk in data.decode().strip().split("\n\n"):
        name, payload = chunk.split("\n")
        events.append((name.removeprefix("event: "), json.loads(payload.removeprefix("data: "))))
    return events


def test_text_message_and_request_record() -> None:
    with AnthropicTestServer() as server:
        server.script("Hello there")
        status, headers, data = post(server, BODY)
        assert status == 200 and headers["content-type"] == "application/json"
        message = json.loads(data)
        assert message["type"] == "message" and message["role"] == "assistant" and message["model"] == "claude-x"
        assert message["content"] == [{"type": "text", "text": "Hello there"}]
        assert message["stop_reason"] == "end_turn"
        assert message["usage"] == {"input_tokens": 2, "output_tokens": 2}  # words of the texts
        assert server.requests[0].body == BODY
        assert server.requests[0].headers["x-api-key"] == "k"
        assert server.pending == 0


def test_tool_calls_from_scripted_function_calls() -> None:
    with AnthropicTestServer() as server:
        server.script([FunctionCall(id="toolu_1", arguments='{"city": "Oslo"}', name="get_weather")])
        message = json.loads(post(server, BODY)[2])
        assert message["content"] == [
            {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Oslo"}}
        ]
        assert message["stop_reason"] == "tool_use"


def test_streaming_events() -> None:
    with AnthropicTestServer() as server:
        blocks = [
            {"type": "thinking", "thinking": "hmm ok", "signature": "sig"},
            {"type": "text", "text": "Hi you"},
            {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {"a": 1}},
        ]
        server.script(AnthropicReply(blocks, output_tokens=7))
        status, headers, data = post(server, {**BODY, "stream": True})
        assert status == 200 and headers["content-type"] == "text/event-stream"
        events = sse(data)
        names = [name for name, _ in events]
        assert names[0] == "message_start" and names[-2:] == ["message_delta", "message_stop"]
        assert all(payload["type"] == name for name, payload in events)
        deltas = [payload["delta"] for name, payload in events if name == "content_block_delta"]
        assert "".join(d["thinking"] for d in deltas if d["type"] == "thinking_delta") == "hmm ok"
        assert [d["signature"] for d in deltas if d["type"] == "signature_delta"] == ["sig"]
        assert "".join(d["text"] for d in deltas if d["type"] == "text_delta") == "Hi you"
        assert json.loads("".join(d["partial_json"] for d in deltas if d["type"] == "input_json_delta")) == {"a": 1}
        assert events[-2][1]["usage"]["output_tokens"] == 7
        assert events[-2][1]["delta"]["stop_reason"] == "tool_use"


def test_failures_and_an_empty_script() -> None:
    with AnthropicTestServer() as server:
        server.script(AnthropicFailure(429, "slow down", retry_after=1.5), AnthropicFailure(529))
        status, headers, data = post(server, BODY)
        assert (status, headers["retry-after"]) == (429, "1.5")
        assert json.loads(data) == {"type": "error", "error": {"type": "rate_limit_error", "message": "slow down"}}
        status, _, data = post(server, BODY)
        assert (status, json.loads(data)["error"]["type"]) == (529, "overloaded_error")
        status, _, data = post(server, BODY)
        assert status == 400 and "no scripted reply left" in json.loads(data)["error"]["message"]


def test_a_slow_reply_times_out_and_stop_does_not_wait_for_it() -> None:
    server = AnthropicTestServer().start()
    try:
        server.script(AnthropicReply.text("late", delay=30))
        with pytest.raises(TimeoutError):
            post(server, BODY, timeout=0.2)
    finally:
        server.stop()
    server.stop()  # idempotent
    with pytest.raises(RuntimeError, match="not running"):
        _ = server.url
