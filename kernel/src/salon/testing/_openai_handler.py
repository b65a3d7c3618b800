"""OpenAI's chat-completions wire protocol, as :class:`~salon.testing.OpenAIChatServer` speaks it over HTTP.

The request handler: it routes ``GET .../models`` and ``POST .../chat/completions``, checks the API key,
and turns each scripted reply into a ``chat.completion`` object, a stream of server-sent
``chat.completion.chunk`` events, or an error in OpenAI's format, counting usage as a provider would.
The server (``_openai_server``) owns the script and the record; this module only answers.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ._openai_replies import OpenAIErrorReply, OpenAIRequest, OpenAITextReply, OpenAIToolCallsReply, normalize_reply

if TYPE_CHECKING:
    from ._openai_server import OpenAIChatServer

__all__ = ["ChatCompletionsHandler"]


_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "invalid_request_error",
    403: "permission_error",
    404: "not_found_error",
    429: "rate_limit_exceeded",
    500: "server_error",
    503: "server_error",
}


def _words(text: str) -> int:
    return len(text.split())


def _prompt_words(body: Any) -> int:
    total = 0
    for message in body.get("messages", []) if isinstance(body, dict) else []:
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, str):
            total += _words(content)
        elif isinstance(content, list):
            for part in content:
                if isinstance(part, dict) and isinstance(part.get("text"), str):
                    total += _words(part["text"])
                else:
                    total += 1
        for call in message.get("tool_calls") or [] if isinstance(message, dict) else []:
            total += _words(json.dumps(call))
    for tool in body.get("tools", []) if isinstance(body, dict) else []:
        total += _words(json.dumps(tool))
    return max(total, 1)


def _chunks(text: str) -> list[str]:
    """Split ``text`` into word-sized pieces that join back into it (each keeps its trailing space)."""
    pieces: list[str] = []
    current = ""
    for char in text:
        if current and not current[-1].isspace() and char.isspace():
            current += char
            continue
        if current and current[-1].isspace() and not char.isspace():
            pieces.append(current)
            current = ""
        current += char
    if current:
        pieces.append(current)
    return pieces


def _halves(text: str) -> list[str]:
    """Split tool-call arguments into a few deltas, as providers stream them."""
    if len(text) < 4:
        return [text]
    step = max(len(text) // 3, 1)
    return [text[i : i + step] for i in range(0, len(text), step)]


class ChatCompletionsHandler(BaseHTTPRequestHandler):
    """Answers one connection's requests for :attr:`owner`, the server whose script and record it uses."""

    owner: OpenAIChatServer
    protocol_version = "HTTP/1.1"
    server_version = "salon-openai-test-server/1"

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: tests read :attr:`OpenAIChatServer.requests` instead."""

    # -- plumbing ---------------------------------------------------------------------------------------

    def _read_body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            return raw.decode("utf-8", "replace")

    def _record(self, body: Any) -> None:
        parts = urlsplit(self.path)
        headers = {name.lower(): value for name, value in self.headers.items()}
        self.owner._record(OpenAIRequest(self.command, parts.path, parts.query, headers, body))

    def _send_json(self, status: int, payload: Any, headers: Mapping[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-request-id", f"req_{self.owner._next_id()}")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def _send_error_reply(self, reply: OpenAIErrorReply) -> None:
        headers = {}
        if reply.retry_after is not None:
            headers["Retry-After"] = f"{reply.retry_after:g}"
        error = {
            "message": reply.message or f"Scripted error {reply.status} {HTTPStatus(reply.status).phrase}.",
            "type": reply.type or _ERROR_TYPES.get(reply.status, "api_error"),
            "param": None,
            "code": reply.code,
        }
        self._send_json(reply.status, {"error": error}, headers)

    def _authorized(self) -> bool:
        expected = self.owner._api_key
        if expected is None:
            return True
        given = self.headers.get("Authorization", "")
        return given == f"Bearer {expected}" or self.headers.get("api-key") == expected

    # -- routes -----------------------------------------------------------------------------------------

    def do_GET(self) -> None:
        """``GET .../models`` lists the models; anything else is 404."""
        self._record(None)
        path = urlsplit(self.path).path.rstrip("/")
        if not self._authorized():
            self._send_error_reply(OpenAIErrorReply(401, "Incorrect API key provided.", code="invalid_api_key"))
        elif path.endswith("/models"):
            created = int(time.time())
            data = [{"id": m, "object": "model", "created": created, "owned_by": "salon"} for m in self.owner._models]
            self._send_json(200, {"object": "list", "data": data})
        else:
            self._send_error_reply(OpenAIErrorReply(404, f"Unknown path {path!r}."))

    def do_POST(self) -> None:
        """``POST .../chat/completions`` answers with the next scripted reply."""
        body = self._read_body()
        self._record(body)
        path = urlsplit(self.path).path.rstrip("/")
        if not path.endswith("/chat/completions"):
            self._send_error_reply(OpenAIErrorReply(404, f"Unknown path {path!r}."))
            return
        if not self._authorized():
            self._send_error_reply(OpenAIErrorReply(401, "Incorrect API key provided.", code="invalid_api_key"))
            return
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list) or "model" not in body:
            self._send_error_reply(OpenAIErrorReply(400, "The body must be a JSON object with 'model' and 'messages'."))
            return
        reply = self.owner._next_reply()
        if reply is None:
            message = "OpenAIChatServer has no scripted reply left for this request; script more replies."
            self._send_error_reply(OpenAIErrorReply(400, message, code="script_exhausted"))
            return
        reply = normalize_reply(reply)
        self.owner._sleep(reply.delay)
        if isinstance(reply, OpenAIErrorReply):
            self._send_error_reply(reply)
        elif body.get("stream"):
            self._stream(body, reply)
        else:
            self._send_json(200, self._completion(body, reply))

    # -- responses --------------------------------------------------------------------------------------

    def _usage(self, body: Any, reply: OpenAITextReply | OpenAIToolCallsReply) -> dict[str, int]:
        if reply.usage is not None:
            prompt, completion = reply.usage.prompt_tokens, reply.usage.completion_tokens
        else:
            prompt = _prompt_words(body)
            if isinstance(reply, OpenAITextReply):
                completion = _words(reply.content or "") + _words(reply.reasoning or "")
            else:
                completion = sum(_words(c.name) + _words(c.arguments) for c in reply.calls)
                completion += _words(reply.content or "")
            completion = max(completion, 1)
        return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}

    def _completion(self, body: dict[str, Any], reply: OpenAITextReply | OpenAIToolCallsReply) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": reply.content, "refusal": None}
        if isinstance(reply, OpenAITextReply) and reply.reasoning is not None:
            message["reasoning_content"] = reply.reasoning
        if isinstance(reply, OpenAIToolCallsReply):
            message["tool_calls"] = [
                {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
                for c in reply.calls
            ]
        model = reply.model if isinstance(reply, OpenAITextReply) and reply.model else body["model"]
        return {
            "id": self.owner._next_id(),
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "system_fingerprint": "fp_salon",
            "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": reply.finish_reason}],
            "usage": self._usage(body, reply),
        }

    def _stream(self, body: dict[str, Any], reply: OpenAITextReply | OpenAIToolCallsReply) -> None:
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        completion_id = self.owner._next_id()
        created = int(time.time())
        model = reply.model if isinstance(reply, OpenAITextReply) and reply.model else body["model"]

        def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
            data: dict[str, Any] = {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "system_fingerprint": "fp_salon",
                "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}],
            }
            if include_usage:
                data["usage"] = None
            return data

        def events() -> Iterator[dict[str, Any]]:
            yield chunk({"role": "assistant", "content": "", "refusal": None})
            if isinstance(reply, OpenAITextReply) and reply.reasoning:
                for piece in _chunks(reply.reasoning):
                    yield chunk({"reasoning_content": piece})
            for piece in _chunks(reply.content or ""):
                yield chunk({"content": piece})
            if isinstance(reply, OpenAIToolCallsReply):
                for index, call in enumerate(reply.calls):
                    head = {"index": index, "id": call.id, "type": "function"}
                    yield chunk({"tool_calls": [{**head, "function": {"name": call.name, "arguments": ""}}]})
                    for piece in _halves(call.arguments):
                        yield chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
            yield chunk({}, reply.finish_reason)
            if include_usage:
                yield {
                    "id": completion_id,
                    "object": "chat.completion.chunk",
                    "created": created,
                    "model": model,
                    "system_fingerprint": "fp_salon",
                    "choices": [],
                    "usage": self._usage(body, reply),
                }

        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("x-request-id", f"req_{completion_id}")
        self.end_headers()
        try:
            for event in events():
                self._write_chunk(f"data: {json.dumps(event)}\n\n")
                self.owner._sleep(reply.chunk_delay)
            self._write_chunk("data: [DONE]\n\n")
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):  # the client went away (cancelled, timed out)
            self.close_connection = True

    def _write_chunk(self, text: str) -> None:
        data = text.encode()
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()
