"""The cross-process tests of a persistent cache store: a restart keeps answers, racing writers corrupt nothing.

They need real processes (a fresh interpreter after a "restart", several writers at once), so they are a
suite of their own beside :class:`~salon.testing.CacheStoreConformanceSuite`, which runs in one process.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any, ClassVar

import pytest

from ..cache import ChatCompletionCache
from ..models import CreateResult, ReplayChatCompletionClient, UserMessage
from ._cache_store_conformance import check_cache_payload

__all__ = ["CacheStoreProcessSuite"]

_QUESTION = "What is the capital of France?"

# The same requests in a fresh process, over a client with no scripted answers: any model request would
# raise "No more mock responses available". `open_store` comes from the suite's `store_source`.
_RESTARTED = """
import asyncio, json, sys
from salon.cache import ChatCompletionCache
from salon.models import CreateResult, ReplayChatCompletionClient, UserMessage

async def main():
    store = open_store(sys.argv[1], "restart:")
    client = ReplayChatCompletionClient([])
    cached = ChatCompletionCache(client, store)
    question = [UserMessage(content=QUESTION, source="user")]
    result = await cached.create(question)
    streamed = [item async for item in cached.create_stream(question + question)]
    store.close()
    final = streamed[-1]
    print(json.dumps({
        "content": result.content, "cached": result.cached,
        "chunks": [item for item in streamed if isinstance(item, str)],
        "stream_cached": isinstance(final, CreateResult) and final.cached,
        "model_calls": client._current_index,
        "prompt_tokens": client.total_usage().prompt_tokens,
    }))

asyncio.run(main())
"""

_WRITER = """
import sys, time
from pathlib import Path
from salon.testing import cache_payload

location, writer, go = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
store = open_store(location, "writers:")
while not go.exists():
    time.sleep(0.005)
for round_ in range(10):
    for index in range(6):
        store.set(f"shared-{index}", cache_payload(writer, index, round_))
        store.set(f"own-{writer}-{index}", cache_payload(writer, index, round_))
store.close()
"""


class CacheStoreProcessSuite:
    r"""What a cache store shared by processes must show: it survives a restart, racing writers corrupt nothing.

    How a store author uses it: subclass it in a test module, name the subclass ``Test...``, set
    :attr:`store_source` to Python source defining ``open_store(location, prefix)`` (it runs in this
    process and in fresh interpreters, so it imports what it needs), and override the :meth:`location`
    fixture to give the place the store lives (a directory, a URL)::

        class TestMyStoreProcesses(CacheStoreProcessSuite):
            store_source = "from my_store import MyStore\\n"
                           "def open_store(location, prefix):\\n"
                           "    return MyStore(location, prefix=prefix)\\n"

            @pytest.fixture
            def location(self, tmp_path):
                return str(tmp_path / "cache")
    """

    store_source: ClassVar[str] = ""
    writers: ClassVar[int] = 4

    @pytest.fixture
    def location(self) -> str:
        """Where the store lives (passed to ``open_store``); override it."""
        raise NotImplementedError(f"{type(self).__name__} must override the location fixture.")

    def open_store(self, location: str, prefix: str) -> Any:
        """The store, opened in this process by :attr:`store_source`'s ``open_store``."""
        if not self.store_source:
            raise NotImplementedError(f"{type(self).__name__} must set store_source (defining open_store).")
        namespace: dict[str, Any] = {}
        exec(compile(self.store_source, "<store_source>", "exec"), namespace)
        return namespace["open_store"](location, prefix)

    def _script(self, body: str) -> str:
        return f"{textwrap.dedent(self.store_source)}\nQUESTION = {_QUESTION!r}\n{body}"

    @pytest.mark.asyncio
    async def test_second_identical_request_needs_no_model_call_after_a_restart(self, location: str) -> None:
        store = self.open_store(location, "restart:")
        client = ReplayChatCompletionClient(["Paris.", "Paris, on the Seine."])
        client.set_cached_bool_value(False)  # the replay client reports cached=True by default (as AutoGen's)
        cached = ChatCompletionCache(client, store)
        question = [UserMessage(content=_QUESTION, source="user")]
        first = await cached.create(question)
        streamed = [item async for item in cached.create_stream(question + question)]
        assert (first.content, first.cached) == ("Paris.", False)
        assert isinstance(streamed[-1], CreateResult) and not streamed[-1].cached
        store.close()

        child = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-c", self._script(_RESTARTED), location],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert child.returncode == 0, child.stderr
        assert json.loads(child.stdout) == {
            "content": "Paris.",
            "cached": True,
            "chunks": [item for item in streamed if isinstance(item, str)],
            "stream_cached": True,
            "model_calls": 0,
            "prompt_tokens": 0,
        }

    def test_concurrent_writer_processes_never_corrupt_entries(self, location: str, tmp_path: Path) -> None:
        self.open_store(location, "writers:").close()  # create the store before the race
        go, script = tmp_path / "go", self._script(_WRITER)
        procs = [
            subprocess.Popen([sys.executable, "-c", script, location, str(writer), str(go)], stderr=subprocess.PIPE)
            for writer in range(self.writers)
        ]
        time.sleep(0.5)  # let every writer reach the start line
        go.touch()
        for proc in procs:
            _, stderr = proc.communicate(timeout=120)
            assert proc.returncode == 0, stderr.decode()
        store = self.open_store(location, "writers:")
        try:
            for index in range(6):
                check_cache_payload(store.get(f"shared-{index}"), writer=None, index=index)
                for writer in range(self.writers):
                    check_cache_payload(store.get(f"own-{writer}-{index}"), writer=writer, index=index)
        finally:
            store.close()
