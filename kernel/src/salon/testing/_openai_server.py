"""A scripted server that speaks OpenAI's chat-completions wire protocol, for tests of model clients.

:class:`OpenAIChatServer` listens on 127.0.0.1 (a free port), answers ``POST .../chat/completions`` with
the replies it was scripted with, in order, and records every request it received so that a test can
assert what a client (or the real ``openai`` SDK under it) sent. Standard library only: it runs in a
background thread, so it serves synchronous and asynchronous clients alike.

What it speaks:

- non-streaming responses (a ``chat.completion`` object with ``usage``);
- ``stream: true`` as server-sent events (``data: {chunk}`` lines ending with ``data: [DONE]``), text in
  word-sized deltas and tool calls as argument deltas, plus the final usage chunk when the request sets
  ``stream_options.include_usage``;
- tool calls (one or several in a response), reasoning text (``reasoning_content``), any finish reason;
- scripted errors (:class:`OpenAIErrorReply`: 429 with ``Retry-After``, 500, 503, ...), slow replies
  (``delay``, for timeouts) and malformed tool-call arguments (they are sent exactly as scripted);
- ``GET .../models``.

Usage is reported the way a provider does: prompt tokens are the whitespace-separated words of the
request's messages (at least 1), completion tokens those of the reply (at least 1); a reply may also
carry its own :class:`~salon.models.RequestUsage`.

Example::

    with OpenAIChatServer() as server:
        server.script(["Hello!", OpenAIErrorReply(429, retry_after=0.01), "Again."])
        client = OpenAIChatCompletionClient(model="gpt-4o-mini", base_url=server.url, api_key="test")
        ...
        assert server.requests[0].json["messages"][0]["role"] == "user"
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, TypeAlias
from urllib.parse import urlsplit

from salon import FunctionCall
from salon.models import RequestUsage

__all__ = [
    "OpenAIErrorReply",
    "OpenAIChatServer",
    "OpenAIRequest",
    "OpenAIServerReply",
    "OpenAITextReply",
    "OpenAIToolCallsReply",
]


@dataclass
class OpenAITextReply:
    """A text answer.

    Attributes:
        content: The text (``None`` sends ``"content": null``).
        reasoning: Reasoning text, sent as the message's ``reasoning_content`` (as DeepSeek, vLLM and
            llama.cpp servers do).
        finish_reason: The choice's ``finish_reason``.
        usage: The usage to report; by default words are counted.
        delay: Seconds to wait before answering (for timeout tests).
        chunk_delay: Seconds to wait between streamed chunks.
        model: The ``model`` field of the response; by default the request's.
    """

    content: str | None
    reasoning: str | None = None
    finish_reason: str = "stop"
    usage: RequestUsage | None = None
    delay: float = 0.0
    chunk_delay: float = 0.0
    model: str | None = None


@dataclass
class OpenAIToolCallsReply:
    """Tool calls, optionally with text beside them.

    The ``arguments`` of each call are sent exactly as given, so a malformed JSON string reaches the
    client as a model would send it.

    Attributes:
        calls: The calls, in order (``id``, ``name``, ``arguments``).
        content: Text sent alongside the calls, if any.
        finish_reason: The choice's ``finish_reason`` (some servers say ``"stop"`` here).
        usage: The usage to report; by default counted.
        delay: Seconds to wait before answering.
        chunk_delay: Seconds to wait between streamed chunks.
    """

    calls: Sequence[FunctionCall]
    content: str | None = None
    finish_reason: str = "tool_calls"
    usage: RequestUsage | None = None
    delay: float = 0.0
    chunk_delay: float = 0.0


@dataclass
class OpenAIErrorReply:
    """An HTTP error in OpenAI's error format (``{"error": {"message", "type", "code", "param"}}``).

    Attributes:
        status: The HTTP status: 429, 500, 503, 400, 401, ...
        message: The error's message.
        retry_after: Seconds sent as ``Retry-After`` (``None`` sends no such header).
        type: The error's ``type``; by default derived from the status.
        code: The error's ``code``.
        delay: Seconds to wait before answering.
    """

    status: int
    message: str = ""
    retry_after: float | None = None
    type: str | None = None
    code: str | None = None
    delay: float = 0.0


OpenAIServerReply: TypeAlias = str | Sequence[FunctionCall] | OpenAITextReply | OpenAIToolCallsReply | OpenAIErrorReply
"""One scripted reply: a text, tool calls, or one of the reply classes for more control."""


@dataclass(frozen=True)
class OpenAIRequest:
    """One request the server received.

    Attributes:
        method: ``"GET"`` or ``"POST"``.
        path: The path, without the query string.
        query: The query string (Azure clients send ``api-version`` there).
        headers: The request headers (names lower-cased).
        json: The decoded JSON body, or ``None``.
    """

    method: str
    path: str
    query: str
    headers: Mapping[str, str]
    json: Any


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


class OpenAIChatServer:
    """A scripted OpenAI chat-completions server on 127.0.0.1; see the module docstring.

    Use it as a context manager (``with OpenAIChatServer() as server:``) or call :meth:`start` and
    :meth:`stop`. Replies are consumed one per chat-completions request (error replies too, so
    ``[OpenAIErrorReply(429), "ok"]`` scripts a retry that succeeds). A request that finds no reply left gets
    a 400 error saying so (400 is never retried, so a test fails fast).

    Args:
        replies: The first replies (more can be added with :meth:`script`).
        models: The model ids ``GET /v1/models`` lists.
        api_key: When set, requests without ``Authorization: Bearer <api_key>`` get a 401 error.
        id_prefix: The prefix of completion ids (``chatcmpl-`` and a counter).
    """

    def __init__(
        self,
        replies: Iterable[OpenAIServerReply] = (),
        *,
        models: Sequence[str] = ("gpt-4o-mini", "gpt-4o"),
        api_key: str | None = None,
        id_prefix: str = "chatcmpl-salon",
    ) -> None:
        self._replies: deque[OpenAIServerReply] = deque(replies)
        self._lock = threading.Lock()
        self._requests: list[OpenAIRequest] = []
        self._models = list(models)
        self._api_key = api_key
        self._id_prefix = id_prefix
        self._counter = 0
        self._served = 0
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------------------

    def start(self) -> OpenAIChatServer:
        """Start serving in a background thread; returns the server itself."""
        if self._httpd is not None:
            return self
        server = self

        class Handler(_Handler):
            owner = server

        httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        httpd.daemon_threads = True
        self._stopping.clear()
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, name="OpenAIChatServer", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket; slow replies still waiting are abandoned. Idempotent."""
        httpd, thread = self._httpd, self._thread
        self._httpd = self._thread = None
        if httpd is None:
            return
        self._stopping.set()
        httpd.shutdown()
        httpd.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> OpenAIChatServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- scripting and inspection -------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The port it listens on (the server must be started)."""
        if self._httpd is None:
            raise RuntimeError("OpenAIChatServer is not running; call start() or use it as a context manager.")
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """The base URL to give a client, ending in ``/v1`` (``http://127.0.0.1:PORT/v1``)."""
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def root_url(self) -> str:
        """The URL without ``/v1`` (an Azure client's ``azure_endpoint``)."""
        return f"http://127.0.0.1:{self.port}"

    def script(self, replies: Iterable[OpenAIServerReply]) -> None:
        """Append replies to the script."""
        with self._lock:
            self._replies.extend(replies)

    def reset(self, replies: Iterable[OpenAIServerReply] = ()) -> None:
        """Forget the remaining script and the recorded requests, then script ``replies``."""
        with self._lock:
            self._replies = deque(replies)
            self._requests.clear()
            self._served = 0

    @property
    def requests(self) -> list[OpenAIRequest]:
        """Every request received so far, oldest first (a copy)."""
        with self._lock:
            return list(self._requests)

    @property
    def chat_requests(self) -> list[OpenAIRequest]:
        """The chat-completions requests received so far, oldest first."""
        return [r for r in self.requests if r.method == "POST" and r.path.endswith("/chat/completions")]

    @property
    def remaining(self) -> int:
        """How many scripted replies are still unused."""
        with self._lock:
            return len(self._replies)

    # -- used by the handler --------------------------------------------------------------------------

    def _record(self, request: OpenAIRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def _next_reply(self) -> OpenAIServerReply | None:
        with self._lock:
            if not self._replies:
                return None
            self._served += 1
            return self._replies.popleft()

    def _next_id(self) -> str:
        with self._lock:
            self._counter += 1
            return f"{self._id_prefix}-{self._counter}"

    def _sleep(self, seconds: float) -> None:
        if seconds > 0:
            self._stopping.wait(seconds)


class _Handler(BaseHTTPRequestHandler):
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
        reply = _normalize(reply)
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


def _normalize(reply: OpenAIServerReply) -> OpenAITextReply | OpenAIToolCallsReply | OpenAIErrorReply:
    if isinstance(reply, str):
        return OpenAITextReply(reply)
    if isinstance(reply, OpenAITextReply | OpenAIToolCallsReply | OpenAIErrorReply):
        return reply
    calls = list(reply)
    if not all(isinstance(call, FunctionCall) for call in calls):
        raise TypeError(f"a scripted reply must be a str, a list of FunctionCall or a reply object, got {reply!r}")
    return OpenAIToolCallsReply(calls)
