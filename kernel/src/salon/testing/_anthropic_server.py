"""A scripted server speaking Anthropic's Messages API, for testing clients through the real SDK.

Standard library only: a :class:`http.server.ThreadingHTTPServer` on ``127.0.0.1`` (a free port) in a
background thread. Tests script what the "model" answers, point the ``anthropic`` SDK at :attr:`url`,
and assert on what the SDK sent (:attr:`AnthropicTestServer.requests`)::

    with AnthropicTestServer() as server:
        server.script("Hello!", AnthropicReply.tool_use("get_weather", {"city": "Oslo"}))
        client = AnthropicChatCompletionClient(model="claude-sonnet-4-0", base_url=server.url, api_key="k")
        ...
        assert server.requests[0].body["system"] == "Be brief."

What it speaks: ``POST /v1/messages``, non-streaming (one JSON ``message``) and streaming (server-sent
events ``message_start``, ``content_block_start`` / ``content_block_delta`` / ``content_block_stop`` with
``text_delta``, ``thinking_delta`` + ``signature_delta`` and ``input_json_delta``, ``ping``,
``message_delta`` with usage and ``message_stop``); error statuses with Anthropic's error body and
optional ``retry-after`` (:class:`AnthropicFailure`); slow answers for timeouts (``delay``). Usage is
counted from the request and the reply (words), so it is always positive and grows with the prompt.
An unscripted request gets a 400 (which SDKs do not retry) saying the script ran out.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from .. import FunctionCall

__all__ = ["AnthropicFailure", "AnthropicReply", "AnthropicTestServer", "AnthropicRequest"]

_WORDS = re.compile(r"\S+\s*|\s+")
_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    408: "request_timeout",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}


@dataclass
class AnthropicReply:
    """One scripted answer: the content blocks of an assistant ``message``, as the API writes them.

    Blocks are dicts: ``{"type": "text", "text": ...}``, ``{"type": "tool_use", "id", "name", "input"}``,
    ``{"type": "thinking", "thinking", "signature"}``, ``{"type": "redacted_thinking", "data"}``. A
    ``tool_use`` whose ``input`` is a ``str`` is raw JSON text exactly as a (broken) model produced it:
    streamed as is in ``input_json_delta`` chunks, and sent as a string when not streaming.

    Attributes:
        blocks: The content blocks, in order.
        stop_reason: ``None`` for the natural one (``tool_use`` when there is a tool call, else ``end_turn``).
        input_tokens: The usage to report; ``None`` counts the request's words.
        output_tokens: The usage to report; ``None`` counts the reply's words.
        cache_read_input_tokens: Reported as prompt-cache reads, when set.
        delay: Seconds to wait before answering (for client timeouts).
        chunk_delay: Seconds to wait between streamed events.
    """

    blocks: list[dict[str, Any]]
    stop_reason: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_read_input_tokens: int | None = None
    delay: float = 0.0
    chunk_delay: float = 0.0

    @classmethod
    def text(cls, text: str, **kwargs: Any) -> AnthropicReply:
        """A text answer."""
        return cls([{"type": "text", "text": text}], **kwargs)

    @classmethod
    def tool_use(
        cls, name: str, tool_input: dict[str, Any] | str, *, id: str = "toolu_01", **kwargs: Any
    ) -> AnthropicReply:
        """One tool call (``tool_input`` as a dict, or raw JSON text; see the class docstring)."""
        return cls([{"type": "tool_use", "id": id, "name": name, "input": tool_input}], **kwargs)

    @classmethod
    def from_scripted(cls, reply: str | Sequence[FunctionCall]) -> AnthropicReply:
        """The reply for a :data:`salon.testing.ScriptedReply`: a text, or tool calls (arguments are JSON)."""
        if isinstance(reply, str):
            return cls.text(reply)
        blocks: list[dict[str, Any]] = []
        for call in reply:
            try:
                arguments: Any = json.loads(call.arguments)
            except ValueError:
                arguments = call.arguments
            blocks.append({"type": "tool_use", "id": call.id, "name": call.name, "input": arguments})
        return cls(blocks)


@dataclass
class AnthropicFailure:
    """A scripted error response: ``status`` with Anthropic's error body.

    Attributes:
        status: The HTTP status (429, 500, 529, 400, ...).
        message: The error's message.
        retry_after: Sent as the ``retry-after`` header (seconds) when set.
        headers: More headers to send.
        delay: Seconds to wait before answering.
    """

    status: int
    message: str = "scripted failure"
    retry_after: float | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass(frozen=True)
class AnthropicRequest:
    """A request the server received."""

    method: str
    path: str
    headers: dict[str, str]
    """Header names are lower case."""
    body: Any
    """The parsed JSON body (``None`` when there was none or it was not JSON)."""


ScriptEntry = str | Sequence[FunctionCall] | AnthropicReply | AnthropicFailure


_NOT_WORDS = frozenset({"type", "role", "id", "tool_use_id", "signature", "media_type", "data"})


def _count_words(value: Any) -> int:
    """Words of the texts in a JSON value (keys, and markers such as ``type`` and ids, excluded)."""
    if isinstance(value, str):
        return len(value.split())
    if isinstance(value, list):
        return sum(_count_words(item) for item in value)
    if isinstance(value, dict):
        return sum(_count_words(item) for key, item in value.items() if key not in _NOT_WORDS)
    return 0


class AnthropicTestServer:
    """A scripted Anthropic Messages API on ``127.0.0.1`` (see the module docstring).

    Use it as a context manager, or call :meth:`start` and :meth:`stop` (also in a ``finally``). Scripted
    entries are answered in order, one per request (a retried request takes the next entry, so a
    failure followed by a reply tests a retry). Thread-safe: the SDK may send from any thread.
    """

    def __init__(self, *, model: str | None = None) -> None:
        """Create a stopped server; ``model`` overrides the model name echoed in answers."""
        self._model = model
        self._lock = threading.Lock()
        self._script: deque[AnthropicReply | AnthropicFailure] = deque()
        self._requests: list[AnthropicRequest] = []
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._ids = itertools.count(1)

    # -- lifecycle ------------------------------------------------------------------------------------

    def start(self) -> AnthropicTestServer:
        """Listen on a free port of 127.0.0.1 and serve in a daemon thread; returns ``self``."""
        if self._server is not None:
            return self
        self._stopping.clear()
        server = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self))
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.02}, name="AnthropicTestServer", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving (slow answers in progress are cut short); calling it again does nothing."""
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> AnthropicTestServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The base URL to give the SDK (``http://127.0.0.1:<port>``)."""
        if self._server is None:
            raise RuntimeError("AnthropicTestServer is not running: call start() or use it in a with block")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    # -- script and records -----------------------------------------------------------------------------

    def script(self, *entries: ScriptEntry) -> None:
        """Append answers: texts, tool-call lists (``list[FunctionCall]``), replies or failures."""
        converted = [
            entry if isinstance(entry, AnthropicReply | AnthropicFailure) else AnthropicReply.from_scripted(entry)
            for entry in entries
        ]
        with self._lock:
            self._script.extend(converted)

    def reset(self) -> None:
        """Forget the remaining script and the recorded requests."""
        with self._lock:
            self._script.clear()
            self._requests.clear()

    @property
    def requests(self) -> list[AnthropicRequest]:
        """Every request received so far, oldest first (a copy)."""
        with self._lock:
            return list(self._requests)

    @property
    def pending(self) -> int:
        """How many scripted entries are still unused."""
        with self._lock:
            return len(self._script)

    # -- serving (called from the handler threads) ----------------------------------------------------

    def _record(self, request: AnthropicRequest) -> AnthropicReply | AnthropicFailure | None:
        with self._lock:
            self._requests.append(request)
            return self._script.popleft() if self._script else None

    def _wait(self, seconds: float) -> bool:
        """Sleep ``seconds``; ``False`` when the server is stopping (then the answer is abandoned)."""
        return seconds <= 0 or not self._stopping.wait(seconds)

    def _message(self, reply: AnthropicReply, body: Any) -> dict[str, Any]:
        blocks = [dict(block) for block in reply.blocks]
        has_tool = any(block.get("type") == "tool_use" for block in blocks)
        stop_reason = reply.stop_reason or ("tool_use" if has_tool else "end_turn")
        prompt = [body.get(key) for key in ("system", "messages", "tools")] if isinstance(body, dict) else []
        input_tokens = reply.input_tokens if reply.input_tokens is not None else max(1, _count_words(prompt))
        output_tokens = reply.output_tokens
        if output_tokens is None:
            output_tokens = max(1, sum(_count_words(block) for block in blocks))
        usage: dict[str, Any] = {"input_tokens": input_tokens, "output_tokens": output_tokens}
        if reply.cache_read_input_tokens is not None:
            usage["cache_read_input_tokens"] = reply.cache_read_input_tokens
            usage["cache_creation_input_tokens"] = 0
        model = self._model or (body.get("model") if isinstance(body, dict) else None) or "claude-test"
        return {
            "id": f"msg_{next(self._ids):06d}",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": blocks,
            "stop_reason": stop_reason,
            "stop_sequence": None,
            "usage": usage,
        }

    def _events(self, message: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
        """The server-sent events that stream ``message``."""
        usage = message["usage"]
        start = {**message, "content": [], "stop_reason": None, "usage": {**usage, "output_tokens": 1}}
        yield "message_start", {"type": "message_start", "message": start}
        yield "ping", {"type": "ping"}
        for index, block in enumerate(message["content"]):
            kind = block.get("type")
            if kind == "text":
                yield "content_block_start", _block_start(index, {"type": "text", "text": ""})
                for piece in _WORDS.findall(block["text"]):
                    yield "content_block_delta", _delta(index, {"type": "text_delta", "text": piece})
            elif kind == "thinking":
                yield "content_block_start", _block_start(index, {"type": "thinking", "thinking": "", "signature": ""})
                for piece in _WORDS.findall(block.get("thinking", "")):
                    yield "content_block_delta", _delta(index, {"type": "thinking_delta", "thinking": piece})
                yield "content_block_delta", _delta(index, {"type": "signature_delta", "signature": block["signature"]})
            elif kind == "tool_use":
                start_block = {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}
                yield "content_block_start", _block_start(index, start_block)
                raw = block["input"] if isinstance(block["input"], str) else json.dumps(block["input"])
                for offset in range(0, len(raw), 8):
                    partial = {"type": "input_json_delta", "partial_json": raw[offset : offset + 8]}
                    yield "content_block_delta", _delta(index, partial)
            else:
                yield "content_block_start", _block_start(index, block)
            yield "content_block_stop", {"type": "content_block_stop", "index": index}
        delta = {"stop_reason": message["stop_reason"], "stop_sequence": None}
        yield "message_delta", {"type": "message_delta", "delta": delta, "usage": usage}
        yield "message_stop", {"type": "message_stop"}


def _block_start(index: int, block: dict[str, Any]) -> dict[str, Any]:
    return {"type": "content_block_start", "index": index, "content_block": block}


def _delta(index: int, delta: dict[str, Any]) -> dict[str, Any]:
    return {"type": "content_block_delta", "index": index, "delta": delta}


def _make_handler(owner: AnthropicTestServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "AnthropicTestServer/1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet: tests assert on requests instead
            pass

        def do_POST(self) -> None:
            try:
                self._answer()
            except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout, cancellation)
                self.close_connection = True

        def _answer(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body: Any = json.loads(raw) if raw else None
            except ValueError:
                body = None
            headers = {key.lower(): value for key, value in self.headers.items()}
            path = self.path.split("?", 1)[0]
            entry = owner._record(AnthropicRequest("POST", self.path, headers, body))
            if path != "/v1/messages":
                self._error(404, "not_found_error", f"AnthropicTestServer serves POST /v1/messages, not {path}")
                return
            if not isinstance(body, dict):
                self._error(400, "invalid_request_error", "the request body must be a JSON object")
                return
            if entry is None:
                self._error(400, "invalid_request_error", "AnthropicTestServer: no scripted reply left")
                return
            if not owner._wait(entry.delay):
                return
            if isinstance(entry, AnthropicFailure):
                extra = dict(entry.headers)
                if entry.retry_after is not None:
                    extra["retry-after"] = f"{entry.retry_after:g}"
                self._error(entry.status, _ERROR_TYPES.get(entry.status, "api_error"), entry.message, extra)
                return
            message = owner._message(entry, body)
            if body.get("stream"):
                self._stream(owner._events(message), entry.chunk_delay)
            else:
                self._json(200, message)

        def _json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.send_header("request-id", f"req_{next(owner._ids):06d}")
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        def _error(self, status: int, kind: str, message: str, headers: dict[str, str] | None = None) -> None:
            self._json(status, {"type": "error", "error": {"type": kind, "message": message}}, headers)

        def _stream(self, events: Iterator[tuple[str, dict[str, Any]]], chunk_delay: float) -> None:
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
            self.send_header("cache-control", "no-cache")
            self.send_header("connection", "close")
            self.end_headers()
            self.close_connection = True
            for name, data in events:
                self.wfile.write(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode())
                self.wfile.flush()
                if not owner._wait(chunk_delay):
                    return

    return Handler
