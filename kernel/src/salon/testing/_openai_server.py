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

import threading
from collections import deque
from collections.abc import Iterable, Sequence
from http.server import ThreadingHTTPServer
from types import TracebackType

from ._openai_handler import ChatCompletionsHandler
from ._openai_replies import OpenAIRequest, OpenAIServerReply

__all__ = ["OpenAIChatServer"]


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

        class Handler(ChatCompletionsHandler):
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
