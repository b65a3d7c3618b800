"""Response caching for any model client: :class:`ChatCompletionCache`."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import enum
import hashlib
import json
import warnings
from collections.abc import AsyncGenerator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

from pydantic import BaseModel, ValidationError

from ..models import ChatCompletionClient, CreateResult, LLMMessage, ModelCapabilities, ModelInfo, RequestUsage
from ..models._model_client import NO_EXTRA_ARGS
from ._cache_store import CacheStore, InMemoryStore

if TYPE_CHECKING:
    from .._cancellation_token import CancellationToken
    from ..tools import Tool, ToolSchema

__all__ = ["CHAT_CACHE_VALUE_TYPE", "ChatCompletionCache", "chat_cache_key"]

CHAT_CACHE_VALUE_TYPE: TypeAlias = CreateResult | list[str | CreateResult]
"""What the cache stores: the result of ``create``, or every item ``create_stream`` yielded."""

_KEY_VERSION = 1  # bump when the key's contents change, so old entries are never misread


def _schema_of(tool: Any) -> Any:
    schema = getattr(tool, "schema", None)
    return schema if schema is not None else tool


def _json_fallback(value: Any) -> Any:
    """Make values that ``json`` cannot encode part of the key, as stably as they allow."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, type) and issubclass(value, BaseModel):
        return {"pydantic_model": value.__qualname__, "schema": value.model_json_schema()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, set | frozenset):
        return sorted(json.dumps(item, sort_keys=True, default=_json_fallback) for item in value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return repr(value)  # last resort: stable for values whose repr is, a miss (never a wrong hit) otherwise


def chat_cache_key(
    messages: Sequence[LLMMessage],
    *,
    tools: Sequence[Tool | ToolSchema] = (),
    tool_choice: Tool | Literal["auto", "required", "none"] = "auto",
    json_output: bool | type[BaseModel] | None = None,
    extra_create_args: Mapping[str, Any] = NO_EXTRA_ARGS,
    namespace: str = "",
) -> str:
    """Return the cache key of a request: a SHA-256 hex digest of its canonical JSON form.

    The key covers everything that changes what the model answers: the messages (every field, through
    their JSON form), the tool schemas in order, the tool choice, the JSON mode or structured-output
    schema, the extra create arguments, and the cache's namespace. Keys are stable across processes and
    Python versions (sorted keys, no ``hash()``), so a persistent store can be shared.
    """
    if isinstance(json_output, type):
        json_mode: Any = {"schema": json_output.model_json_schema()}
    else:
        json_mode = json_output
    request = {
        "v": _KEY_VERSION,
        "namespace": namespace,
        "messages": [message.model_dump(mode="json") for message in messages],
        "tools": [_schema_of(tool) for tool in tools],
        "tool_choice": tool_choice if isinstance(tool_choice, str) else {"tool": tool_choice.name},
        "json_output": json_mode,
        "extra_create_args": dict(extra_create_args),
    }
    text = json.dumps(request, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_json_fallback)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _decode(value: Any) -> CreateResult | list[str | CreateResult] | None:
    """Rebuild a stored value, whichever form the store kept it in; ``None`` when it is not a valid entry.

    In-memory stores return the objects themselves; persistent stores may return dicts (pickled or JSON
    data) or JSON text. Anything that does not rebuild into a result or a stream ending in one is a miss,
    and the next response overwrites it.
    """
    try:
        if isinstance(value, str):
            value = json.loads(value)
        if isinstance(value, CreateResult):
            return value
        if isinstance(value, dict):
            return CreateResult.model_validate(value)
        if isinstance(value, list) and value:
            items: list[str | CreateResult] = []
            for item in value:
                if isinstance(item, str | CreateResult):
                    items.append(item)
                elif isinstance(item, dict):
                    items.append(CreateResult.model_validate(item))
                else:
                    return None
            return items if isinstance(items[-1], CreateResult) else None
    except (ValueError, ValidationError):  # JSONDecodeError is a ValueError
        return None
    return None


def _final(entry: CreateResult | list[str | CreateResult]) -> CreateResult:
    result = entry if isinstance(entry, CreateResult) else entry[-1]
    assert isinstance(result, CreateResult)  # _decode guarantees it
    return result.model_copy(update={"cached": True}, deep=True)


def _check_token(cancellation_token: CancellationToken | None) -> None:
    if cancellation_token is not None and cancellation_token.is_cancelled():
        raise asyncio.CancelledError("the call's cancellation token was cancelled")


class ChatCompletionCache(ChatCompletionClient):
    """Wraps a model client and answers repeated requests from a :class:`~salon.cache.CacheStore`.

    A request whose key (:func:`chat_cache_key`) is in the store is answered from it without calling the
    wrapped client: the result has ``cached=True`` and keeps the usage the original call reported, while
    the client's usage counters do not change. Other requests go to the wrapped client and their results
    are stored. A stream is stored only when it ran to its final :class:`~salon.models.CreateResult`;
    replaying it yields the same chunks. ``create`` can be answered from a stored stream and
    ``create_stream`` from a stored ``create`` result (its text as one chunk).

    Improvements over AutoGen's cache: the key includes ``tool_choice`` (a forced tool and free choice
    are different requests) and a ``namespace``; a hit returns a copy, so the stored entry and results
    handed out earlier never change; a cancelled token is honoured on hits too; an entry the store
    returns in an unusable form is a miss instead of an error.

    Args:
        client: The model client to wrap.
        store: Where entries live; an :class:`InMemoryStore` by default. The caller owns its lifecycle
            (clearing, closing).
        namespace: Mixed into every key. Give each model its own namespace when several wrapped clients
            share one store, since the key cannot tell two models apart from the request alone.

    Example::

        cached = ChatCompletionCache(client, DiskCacheStore[CHAT_CACHE_VALUE_TYPE](Cache(directory)))
        first = await cached.create([UserMessage(content="Hi", source="user")])   # calls the model
        second = await cached.create([UserMessage(content="Hi", source="user")])  # second.cached is True
    """

    def __init__(
        self,
        client: ChatCompletionClient,
        store: CacheStore[CHAT_CACHE_VALUE_TYPE] | None = None,
        *,
        namespace: str = "",
    ) -> None:
        self.client = client
        self.store: CacheStore[CHAT_CACHE_VALUE_TYPE] = store if store is not None else InMemoryStore()
        self.namespace = namespace

    async def _lookup(
        self,
        messages: Sequence[LLMMessage],
        tools: Sequence[Tool | ToolSchema],
        tool_choice: Tool | Literal["auto", "required", "none"],
        json_output: bool | type[BaseModel] | None,
        extra_create_args: Mapping[str, Any],
    ) -> tuple[CreateResult | list[str | CreateResult] | None, str]:
        key = chat_cache_key(
            messages,
            tools=tools,
            tool_choice=tool_choice,
            json_output=json_output,
            extra_create_args=extra_create_args,
            namespace=self.namespace,
        )
        aget = getattr(self.store, "aget", None)  # a store written for AutoGen may have only get/set
        stored = await aget(key) if aget is not None else self.store.get(key)
        return (None if stored is None else _decode(stored)), key

    async def create(
        self,
        messages: Sequence[LLMMessage],
        *,
        tools: Sequence[Tool | ToolSchema] = (),
        tool_choice: Tool | Literal["auto", "required", "none"] = "auto",
        json_output: bool | type[BaseModel] | None = None,
        extra_create_args: Mapping[str, Any] = NO_EXTRA_ARGS,
        cancellation_token: CancellationToken | None = None,
    ) -> CreateResult:
        """Return the stored result for this request, or call the wrapped client and store its result."""
        _check_token(cancellation_token)
        entry, key = await self._lookup(messages, tools, tool_choice, json_output, extra_create_args)
        if entry is not None:
            return _final(entry)
        result = await self.client.create(
            messages,
            tools=tools,
            tool_choice=tool_choice,
            json_output=json_output,
            extra_create_args=extra_create_args,
            cancellation_token=cancellation_token,
        )
        await self._store(key, result.model_copy(deep=True))
        return result

    async def create_stream(
        self,
        messages: Sequence[LLMMessage],
        *,
        tools: Sequence[Tool | ToolSchema] = (),
        tool_choice: Tool | Literal["auto", "required", "none"] = "auto",
        json_output: bool | type[BaseModel] | None = None,
        extra_create_args: Mapping[str, Any] = NO_EXTRA_ARGS,
        cancellation_token: CancellationToken | None = None,
    ) -> AsyncGenerator[str | CreateResult, None]:
        """Replay the stored stream for this request, or stream from the wrapped client and store it."""
        _check_token(cancellation_token)
        entry, key = await self._lookup(messages, tools, tool_choice, json_output, extra_create_args)
        if entry is not None:
            if isinstance(entry, CreateResult):
                if isinstance(entry.content, str) and entry.content:
                    yield entry.content
            else:
                for item in entry[:-1]:
                    if isinstance(item, str):
                        _check_token(cancellation_token)
                        yield item
            yield _final(entry)
            return
        collected: list[str | CreateResult] = []
        async for item in self.client.create_stream(
            messages,
            tools=tools,
            tool_choice=tool_choice,
            json_output=json_output,
            extra_create_args=extra_create_args,
            cancellation_token=cancellation_token,
        ):
            collected.append(item.model_copy(deep=True) if isinstance(item, CreateResult) else item)
            yield item
        if collected and isinstance(collected[-1], CreateResult):
            await self._store(key, collected)

    async def _store(self, key: str, value: CHAT_CACHE_VALUE_TYPE) -> None:
        aset = getattr(self.store, "aset", None)
        if aset is not None:
            await aset(key, value)
        else:
            self.store.set(key, value)

    async def close(self) -> None:
        """Close the wrapped client (the store is the caller's to close)."""
        await self.client.close()

    def actual_usage(self) -> RequestUsage:
        """The wrapped client's usage of its most recent real call (hits use nothing)."""
        return self.client.actual_usage()

    def total_usage(self) -> RequestUsage:
        """The wrapped client's total usage; hits add nothing to it."""
        return self.client.total_usage()

    def count_tokens(self, messages: Sequence[LLMMessage], *, tools: Sequence[Tool | ToolSchema] = ()) -> int:
        """Count as the wrapped client does."""
        return self.client.count_tokens(messages, tools=tools)

    def remaining_tokens(self, messages: Sequence[LLMMessage], *, tools: Sequence[Tool | ToolSchema] = ()) -> int:
        """Count as the wrapped client does."""
        return self.client.remaining_tokens(messages, tools=tools)

    @property
    def capabilities(self) -> ModelCapabilities:
        """Deprecated: the wrapped client's capabilities."""
        warnings.warn("capabilities is deprecated; use model_info instead.", DeprecationWarning, stacklevel=2)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            return self.client.capabilities

    @property
    def model_info(self) -> ModelInfo:
        """The wrapped client's model info."""
        return self.client.model_info
