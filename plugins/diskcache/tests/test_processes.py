"""Across processes: a cached answer survives a restart, and concurrent writer processes never corrupt entries."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from salon.cache import ChatCompletionCache
from salon.models import CreateResult, ReplayChatCompletionClient, UserMessage
from salon.testing import check_cache_payload
from salon_diskcache import DiskCacheStore

QUESTION = [UserMessage(content="What is the capital of France?", source="user")]

# Runs the same requests in a fresh process, over a client with no scripted answers: any model request
# would raise "No more mock responses available".
_RESTARTED = textwrap.dedent(
    """
    import asyncio, json, sys
    from salon.cache import ChatCompletionCache
    from salon.models import CreateResult, ReplayChatCompletionClient, UserMessage
    from salon_diskcache import DiskCacheStore

    async def main():
        store = DiskCacheStore.from_directory(sys.argv[1])
        client = ReplayChatCompletionClient([])
        cached = ChatCompletionCache(client, store)
        question = [UserMessage(content="What is the capital of France?", source="user")]
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
)

_WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from salon.testing import cache_payload
    from salon_diskcache import DiskCacheStore

    directory, writer, go = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
    store = DiskCacheStore.from_directory(directory)
    while not go.exists():
        time.sleep(0.005)
    for round_ in range(10):
        for index in range(6):
            store.set(f"shared-{index}", cache_payload(writer, index, round_))
            store.set(f"own-{writer}-{index}", cache_payload(writer, index, round_))
    store.close()
    """
)


async def test_second_identical_request_needs_no_model_call_after_a_restart(tmp_path: Path) -> None:
    directory = tmp_path / "cache"
    store = DiskCacheStore[object].from_directory(directory)
    client = ReplayChatCompletionClient(["Paris.", "Paris, on the Seine."])
    client.set_cached_bool_value(False)  # the replay client reports cached=True by default (as AutoGen's)
    cached = ChatCompletionCache(client, store)  # type: ignore[arg-type]
    first = await cached.create(QUESTION)
    streamed = [item async for item in cached.create_stream(QUESTION + QUESTION)]
    assert (first.content, first.cached) == ("Paris.", False)
    assert isinstance(streamed[-1], CreateResult) and not streamed[-1].cached
    store.close()

    child = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", _RESTARTED, str(directory)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert child.returncode == 0, child.stderr
    seen = json.loads(child.stdout)
    assert seen == {
        "content": "Paris.",
        "cached": True,
        "chunks": [item for item in streamed if isinstance(item, str)],
        "stream_cached": True,
        "model_calls": 0,
        "prompt_tokens": 0,
    }


def test_concurrent_writer_processes_never_corrupt_entries(tmp_path: Path) -> None:
    directory, go, writers = tmp_path / "cache", tmp_path / "go", 4
    DiskCacheStore[object].from_directory(directory).close()  # create the database before the race
    procs = [
        subprocess.Popen([sys.executable, "-c", _WRITER, str(directory), str(writer), str(go)], stderr=subprocess.PIPE)
        for writer in range(writers)
    ]
    time.sleep(0.5)  # let every writer reach the start line
    go.touch()
    for proc in procs:
        _, stderr = proc.communicate(timeout=120)
        assert proc.returncode == 0, stderr.decode()
    store = DiskCacheStore[object].from_directory(directory)
    try:
        for index in range(6):
            check_cache_payload(store.get(f"shared-{index}"), writer=None, index=index)
            for writer in range(writers):
                check_cache_payload(store.get(f"own-{writer}-{index}"), writer=writer, index=index)
    finally:
        store.close()
