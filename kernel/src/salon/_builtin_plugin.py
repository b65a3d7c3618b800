"""The kernel's own components, registered through the same hooks as any plugin's (as llm does)."""

from __future__ import annotations

from typing import Any

from .hookspecs import Register, hookimpl


def _runtime_options() -> Any:
    from pydantic import BaseModel, ConfigDict

    class LocalRuntimeOptions(BaseModel):
        """Options of the in-process runtime."""

        model_config = ConfigDict(extra="forbid")

        ignore_unhandled_exceptions: bool = True
        """If false, an exception in a publish handler is re-raised by the next stop call."""

    return LocalRuntimeOptions


def _no_options() -> Any:
    from pydantic import BaseModel, ConfigDict

    class NoOptions(BaseModel):
        """This component takes no options."""

        model_config = ConfigDict(extra="forbid")

    return NoOptions


def _replay_options() -> Any:
    from pydantic import BaseModel, ConfigDict, Field

    class ReplayOptions(BaseModel):
        """Options of the scripted model client."""

        model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

        chat_completions: list[str] = Field(min_length=1)
        """The answers to give, in order, one per call."""
        model_info: dict[str, Any] | None = None
        """What the model can do (vision, function_calling, json_output, family, structured_output)."""
        token_limit: int = 10000
        """The context size remaining_tokens counts against."""

    return ReplayOptions


def _replay_client(**options: Any) -> Any:
    from .models import ReplayChatCompletionClient

    return ReplayChatCompletionClient(**options)


def _local_runtime(**options: Any) -> Any:
    from ._single_threaded_agent_runtime import SingleThreadedAgentRuntime

    return SingleThreadedAgentRuntime(**options)


def _memory_store(**options: Any) -> Any:
    from .cache import InMemoryStore

    return InMemoryStore[Any](**options)


@hookimpl
def register_runtimes(register: Register) -> None:
    """The in-process runtime."""
    register(
        "local",
        _local_runtime,
        options=_runtime_options,
        description="SingleThreadedAgentRuntime: agents in this process, on the running event loop.",
    )


@hookimpl
def register_cache_stores(register: Register) -> None:
    """The in-memory cache store."""
    register("memory", _memory_store, options=_no_options, description="InMemoryStore: a dict in this process.")


@hookimpl
def register_model_clients(register: Register) -> None:
    """The scripted model client (no network), for tests and offline examples."""
    register(
        "replay",
        _replay_client,
        options=_replay_options,
        description="ReplayChatCompletionClient: answers with scripted completions, in order.",
    )
