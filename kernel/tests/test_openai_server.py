"""salon.testing.OpenAIChatServer spoken to with the standard library only (the kernel has no openai SDK).

The server is tested through the real ``openai`` SDK in salon-openai's tests; these check the wire format
itself: JSON responses, SSE streams with the usage chunk, errors with Retry-After, recording, auth.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

import pytest

from salon import FunctionCall
from salon.models import RequestUsage
from salon.testing import OpenAIChatServer, OpenAIErrorReply, OpenAITextReply, OpenAIToolCallsReply


def post(url: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(
        url + "/chat/completions",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **(headers or {})},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def events(raw: bytes) -> list[Any]:
    lines = [line for line in raw.decode().split("\n\n") if line.strip()]
    assert all(line.startswith("data: ") for line in lines)
    assert lines[-1] == "data: [DONE]"
    return [json.loads(line[len("data: ") :]) for line in lines[:-1]]


BODY: dict[str, Any] = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hello there"}]}


def test_json_completion_and_recording() -> None:
    with OpenAIChatServer(["Hi, friend."]) as server:
        status, headers, raw = post(server.url, BODY)
        assert server.remaining == 0
        recorded = server.chat_requests
    assert status == 200 and headers["Content-Type"] == "application/json"
    data = json.loads(raw)
    assert data["object"] == "chat.completion"
    assert data["choices"][0]["message"] == {"role": "assistant", "content": "Hi, friend.", "refusal": None}
    assert data["choices"][0]["finish_reason"] == "stop"
    assert data["usage"] == {"prompt_tokens": 2, "completion_tokens": 2, "total_tokens": 4}
    assert [(r.method, r.path, r.json) for r in recorded] == [("POST", "/v1/chat/completions", BODY)]


def test_tool_calls_and_scripted_usage() -> None:
    calls = [FunctionCall("a", '{"x": 1}', "f"), FunctionCall("b", "{not json", "g")]
    with OpenAIChatServer([OpenAIToolCallsReply(calls, usage=RequestUsage(7, 9))]) as server:
        _, _, raw = post(server.url, BODY)
    choice = json.loads(raw)["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert [(c["id"], c["function"]["name"], c["function"]["arguments"]) for c in choice["message"]["tool_calls"]] == [
        ("a", "f", '{"x": 1}'),
        ("b", "g", "{not json"),
    ]
    assert json.loads(raw)["usage"]["prompt_tokens"] == 7


def test_stream_with_usage_chunk() -> None:
    with OpenAIChatServer([OpenAITextReply("one two three", reasoning="think")]) as server:
        status, headers, raw = post(server.url, {**BODY, "stream": True, "stream_options": {"include_usage": True}})
    assert status == 200 and headers["Content-Type"].startswith("text/event-stream")
    chunks = events(raw)
    deltas = [c["choices"][0]["delta"] for c in chunks if c["choices"]]
    assert deltas[0]["role"] == "assistant"
    assert "".join(d.get("content") or "" for d in deltas) == "one two three"
    assert "".join(d.get("reasoning_content") or "" for d in deltas) == "think"
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] == 4
    assert all(c["usage"] is None for c in chunks[:-1])


def test_stream_without_usage_and_tool_call_deltas() -> None:
    call = FunctionCall("c1", '{"city": "Oslo"}', "get_weather")
    with OpenAIChatServer([[call]]) as server:
        _, _, raw = post(server.url, {**BODY, "stream": True})
    chunks = events(raw)
    assert all("usage" not in c for c in chunks)
    pieces = [tc for c in chunks for tc in c["choices"][0]["delta"].get("tool_calls") or []]
    assert pieces[0]["id"] == "c1" and pieces[0]["function"]["name"] == "get_weather"
    assert "".join(p["function"]["arguments"] for p in pieces) == call.arguments
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"


@pytest.mark.parametrize(
    ("status", "kind"), [(429, "rate_limit_exceeded"), (500, "server_error"), (503, "server_error")]
)
def test_error_replies(status: int, kind: str) -> None:
    with OpenAIChatServer([OpenAIErrorReply(status, "Slow down.", retry_after=1.5)]) as server:
        code, headers, raw = post(server.url, BODY)
    assert code == status and headers["Retry-After"] == "1.5"
    assert json.loads(raw)["error"]["message"] == "Slow down." and json.loads(raw)["error"]["type"] == kind


def test_exhausted_script_bad_body_auth_and_models() -> None:
    with OpenAIChatServer(api_key="secret", models=["m1"]) as server:
        assert post(server.url, BODY)[0] == 401
        auth = {"Authorization": "Bearer secret"}
        code, _, raw = post(server.url, BODY, auth)
        assert code == 400 and "no scripted reply left" in json.loads(raw)["error"]["message"]
        assert post(server.url, {"messages": "nope"}, auth)[0] == 400
        request = urllib.request.Request(server.url + "/models", headers=auth)
        with urllib.request.urlopen(request, timeout=10) as response:
            assert [m["id"] for m in json.loads(response.read())["data"]] == ["m1"]


def test_delay_and_stop_is_idempotent() -> None:
    server = OpenAIChatServer([OpenAITextReply("late", delay=0.2)]).start()
    try:
        started = time.monotonic()
        assert post(server.url, BODY)[0] == 200
        assert time.monotonic() - started >= 0.2
    finally:
        server.stop()
        server.stop()
    with pytest.raises(RuntimeError, match="not running"):
        _ = server.url
