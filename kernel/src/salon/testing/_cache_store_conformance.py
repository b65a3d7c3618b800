"""The cache store conformance suite: the behaviour every :class:`~salon.cache.CacheStore` must show."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, ClassVar

import pytest

from salon import FunctionCall
from salon.cache import CacheStore
from salon.models import CreateResult, RequestUsage

__all__ = ["CacheStoreConformanceSuite", "as_cached_value", "cache_payload", "check_cache_payload"]

#: Keys a store must keep apart and give back exactly (no NUL: SQLite and Redis users rarely need it).
ODD_KEYS: tuple[str, ...] = (
    "",
    " ",
    "plain",
    "plain ",
    "with space",
    "a/b/../c",
    "..",
    "key:with:colons",
    "*?[glob]",
    "line\nbreak\ttab",
    "quote'\"`\\",
    "ünïcødé 🔑 键",
    "%s %(x)s {0}",
    "x" * 2000,
)


def _result(text: str, *, tool: bool = False) -> CreateResult:
    content: Any = [FunctionCall(id="call-1", name="lookup", arguments=json.dumps({"q": text}))] if tool else text
    return CreateResult(
        finish_reason="function_calls" if tool else "stop",
        content=content,
        usage=RequestUsage(prompt_tokens=7, completion_tokens=len(text)),
        cached=False,
    )


def as_cached_value(value: Any) -> Any:
    """Normalise what a store returned to what :class:`~salon.cache.ChatCompletionCache` reads from it.

    Stores may give values back as the objects themselves, as their JSON data (dicts and lists, as a store
    that serialises to JSON does) or as JSON text; each rebuilds into the same :class:`CreateResult`.
    Other values are returned unchanged.
    """
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return value
    if isinstance(value, dict) and "finish_reason" in value:
        return CreateResult.model_validate(value)
    if isinstance(value, list):
        return [as_cached_value(item) if not isinstance(item, str) else item for item in value]
    return value


def _write_many(store: CacheStore[Any], writer: int, keys: int, rounds: int) -> None:
    for round_ in range(rounds):
        for index in range(keys):
            store.set(f"shared-{index}", cache_payload(writer, index, round_))
            store.set(f"own-{writer}-{index}", cache_payload(writer, index, round_))


def cache_payload(writer: int, index: int, round_: int = 0) -> list[str | CreateResult]:
    """A stream entry written by ``writer`` for key number ``index``.

    Every part of it names its writer, key and round, so an entry mixed from two writes shows.
    """
    tag = f"w{writer}-k{index}-r{round_}"
    return [f"{tag}-chunk-{n}-" + "z" * 200 for n in range(4)] + [_result(tag)]


def check_cache_payload(value: Any, *, writer: int | None, index: int) -> None:
    """Assert ``value`` is one whole :func:`cache_payload` write (by ``writer`` if given), not a mix of several."""
    value = as_cached_value(value)
    assert isinstance(value, list), f"entry is not a list: {value!r:.200}"
    assert len(value) == 5
    final = value[-1]
    assert isinstance(final, CreateResult)
    tag = final.content
    assert isinstance(tag, str)
    assert tag.startswith(f"w{writer}-" if writer is not None else "w")
    assert f"-k{index}-" in tag
    assert value[:-1] == [f"{tag}-chunk-{n}-" + "z" * 200 for n in range(4)], "entry mixes several writes"


class CacheStoreConformanceSuite:
    """The behaviour every :class:`~salon.cache.CacheStore` must show, as pytest tests.

    What it pins down (:class:`~salon.cache.ChatCompletionCache` relies on all of it):

    - ``get`` of a missing key returns ``default`` (``None`` when not given); ``set`` then ``get`` returns
      the value; a second ``set`` replaces it.
    - The values the model cache stores round-trip: a :class:`~salon.models.CreateResult` (text or tool
      calls) and a list of ``str`` chunks ending in one. A store may give them back as the objects or in
      their JSON form (see :func:`as_cached_value`); plain JSON-like values (str, int, dict) come back equal.
    - Keys with odd characters (empty, spaces, slashes, colons, glob characters, newlines, unicode, 2,000
      characters long) are kept apart and found again.
    - Writers in several threads, and in several asyncio tasks that run blocking calls in threads, never
      leave an entry mixed from two writes or lose one.
    - With ``persistent = True``: what one store instance wrote, a fresh instance over the same location
      reads back (after the first was closed).

    How a store author uses it: subclass it in a test module, name the subclass ``Test...``, and override
    :meth:`make_store`; override :meth:`close_store` when closing needs more than ``store.close()``::

        from salon.testing import CacheStoreConformanceSuite

        class TestMyStore(CacheStoreConformanceSuite):
            persistent = True

            def make_store(self, location):
                return MyStore(directory=location)

    A test that cannot apply may be switched off with ``test_name = None`` in the subclass, with a comment
    saying why.
    """

    persistent: ClassVar[bool] = False
    """Set to ``True`` when a fresh store over the same location sees what an earlier one wrote."""

    concurrent_writers: ClassVar[int] = 8
    """How many threads or tasks write at once in the concurrency tests."""

    def make_store(self, location: Path) -> CacheStore[Any]:
        """Return a new store over ``location`` (a directory unique to the test; it may not exist yet).

        Two calls with the same ``location`` must reach the same data for a persistent store; stores that
        are not directories (a server) map ``location`` to a namespace of their own, e.g. a key prefix.
        """
        raise NotImplementedError("override make_store() in your CacheStoreConformanceSuite subclass")

    def close_store(self, store: CacheStore[Any]) -> None:
        """Release what ``store`` holds (by default its ``close()``, when it has one)."""
        close = getattr(store, "close", None)
        if callable(close):
            close()

    @pytest.fixture
    def location(self, tmp_path: Path) -> Path:
        """Where the test's stores keep their data."""
        return tmp_path / "cache-store"

    @pytest.fixture
    def store(self, location: Path) -> Iterator[CacheStore[Any]]:
        """A fresh store, closed after the test."""
        made = self.make_store(location)
        try:
            yield made
        finally:
            self.close_store(made)

    # ---- get / set / default -------------------------------------------------------------------------

    def test_missing_key_gives_default(self, store: CacheStore[Any]) -> None:
        assert store.get("missing") is None
        assert store.get("missing", "fallback") == "fallback"
        assert store.get("missing", default=42) == 42

    def test_set_then_get(self, store: CacheStore[Any]) -> None:
        store.set("k", "value")
        assert store.get("k") == "value"
        assert store.get("k", "ignored default") == "value"

    def test_overwrite_replaces_value(self, store: CacheStore[Any]) -> None:
        store.set("k", "first")
        store.set("k", "second")
        assert store.get("k") == "second"
        store.set("k", [_result("third")])
        assert as_cached_value(store.get("k")) == [_result("third")]

    def test_plain_values_round_trip(self, store: CacheStore[Any]) -> None:
        values: dict[str, Any] = {
            "str": "hello",
            "digits": "5",
            "json-like text": '{"a": 1}',
            "int": 7,
            "float": 2.5,
            "bool": True,
            "dict": {"a": [1, 2, {"b": "c"}], "unicode": "ü🔑"},
            "list": ["a", "b", 3],
        }
        for key, value in values.items():
            store.set(key, value)
        for key, value in values.items():
            got = store.get(key)
            assert got == value and type(got) is type(value), (key, got)

    def test_keys_are_independent(self, store: CacheStore[Any]) -> None:
        store.set("a", "A")
        store.set("b", "B")
        assert (store.get("a"), store.get("b"), store.get("c")) == ("A", "B", None)

    # ---- the values ChatCompletionCache stores --------------------------------------------------------

    def test_create_result_round_trips(self, store: CacheStore[Any]) -> None:
        text, tool = _result("the answer"), _result("weather", tool=True)
        store.set("text", text)
        store.set("tool", tool)
        assert as_cached_value(store.get("text")) == text
        assert as_cached_value(store.get("tool")) == tool

    def test_stream_entry_round_trips(self, store: CacheStore[Any]) -> None:
        stream: list[str | CreateResult] = ["Hel", "lo", " wörld", "", _result("Hello wörld")]
        store.set("stream", stream)
        got = as_cached_value(store.get("stream"))
        assert got == stream
        assert [type(item) for item in got] == [str, str, str, str, CreateResult]

    def test_stored_value_is_not_changed_by_later_mutation(self, store: CacheStore[Any]) -> None:
        # ChatCompletionCache stores copies; a store must at least give back what was set at the time,
        # or the object itself. Either way, re-reading after a second set shows the second value.
        stream: list[str | CreateResult] = ["a", _result("a")]
        store.set("k", stream)
        store.set("k", ["b", _result("b")])
        assert as_cached_value(store.get("k")) == ["b", _result("b")]

    # ---- keys ----------------------------------------------------------------------------------------

    def test_odd_keys_are_kept_apart(self, store: CacheStore[Any]) -> None:
        for number, key in enumerate(ODD_KEYS):
            store.set(key, f"value-{number}")
        for number, key in enumerate(ODD_KEYS):
            assert store.get(key) == f"value-{number}", f"key {key!r:.60}"

    def test_sha256_keys(self, store: CacheStore[Any]) -> None:
        from salon.cache import chat_cache_key
        from salon.models import UserMessage

        key = chat_cache_key([UserMessage(content="hi", source="user")])
        store.set(key, _result("hi"))
        assert as_cached_value(store.get(key)) == _result("hi")

    # ---- concurrency ---------------------------------------------------------------------------------

    def test_concurrent_threads_never_corrupt_entries(self, store: CacheStore[Any]) -> None:
        writers, keys = self.concurrent_writers, 5
        with ThreadPoolExecutor(max_workers=writers) as pool:
            for future in [pool.submit(_write_many, store, writer, keys, 3) for writer in range(writers)]:
                future.result()
        for index in range(keys):
            check_cache_payload(store.get(f"shared-{index}"), writer=None, index=index)
            for writer in range(writers):
                check_cache_payload(store.get(f"own-{writer}-{index}"), writer=writer, index=index)

    def test_concurrent_tasks_never_corrupt_entries(self, store: CacheStore[Any]) -> None:
        writers, keys = self.concurrent_writers, 5

        async def write_all() -> None:
            await asyncio.gather(*(asyncio.to_thread(_write_many, store, w, keys, 2) for w in range(writers)))

        asyncio.run(write_all())
        for index in range(keys):
            check_cache_payload(store.get(f"shared-{index}"), writer=None, index=index)
            for writer in range(writers):
                check_cache_payload(store.get(f"own-{writer}-{index}"), writer=writer, index=index)

    # ---- persistence ---------------------------------------------------------------------------------

    def test_persists_across_fresh_instances(self, location: Path) -> None:
        """Persistent stores keep entries for a fresh instance; others start empty."""
        first = self.make_store(location)
        try:
            first.set("result", _result("kept"))
            first.set("stream", ["ke", "pt", _result("kept")])
            first.set("text", "kept")
        finally:
            self.close_store(first)
        second = self.make_store(location)
        try:
            if not self.persistent:  # a store that forgets must forget: nothing leaks into a fresh one
                assert (second.get("result"), second.get("stream"), second.get("text")) == (None, None, None)
                return
            assert as_cached_value(second.get("result")) == _result("kept")
            assert as_cached_value(second.get("stream")) == ["ke", "pt", _result("kept")]
            assert second.get("text") == "kept"
            assert second.get("never set") is None
        finally:
            self.close_store(second)

    def test_separate_locations_are_separate(self, tmp_path: Path) -> None:
        one, two = self.make_store(tmp_path / "one"), self.make_store(tmp_path / "two")
        try:
            one.set("k", "one")
            assert two.get("k") is None
            two.set("k", "two")
            assert (one.get("k"), two.get("k")) == ("one", "two")
        finally:
            self.close_store(one)
            self.close_store(two)
