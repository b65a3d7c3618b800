"""The tool contract (:class:`Tool`) and the base classes that implement it on a pydantic arguments model."""

from __future__ import annotations

import copy
import json
import logging
from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, Mapping
from typing import (
    Annotated,
    Any,
    ClassVar,
    Generic,
    Protocol,
    TypeVar,
    cast,
    get_args,
    get_origin,
    runtime_checkable,
)

from pydantic import BaseModel, ValidationError

from .._cancellation_token import CancellationToken
from .._constants import EVENT_LOGGER_NAME
from ..logging import ToolCallEvent
from ._errors import ToolArgumentsError
from ._schema import ParametersSchema, ToolSchema, parameters_schema

__all__ = ["BaseStreamTool", "BaseTool", "BaseToolWithState", "StreamTool", "Tool", "ToolOverride"]

_event_logger = logging.getLogger(EVENT_LOGGER_NAME)


class ToolOverride(BaseModel):
    """A new name and/or description under which a workbench shows one of its tools.

    Attributes:
        name: The name models see and call; ``None`` keeps the tool's own.
        description: The description models see; ``None`` keeps the tool's own.
    """

    name: str | None = None
    description: str | None = None


@runtime_checkable
class Tool(Protocol):
    """Something a model can call: a name, a description, an arguments schema and a way to run it.

    Agents, workbenches and model clients depend only on this protocol, so a tool may be a
    :class:`FunctionTool`, a :class:`BaseTool` subclass, or any object with these members.
    """

    @property
    def name(self) -> str:
        """The name models call the tool by."""
        ...

    @property
    def description(self) -> str:
        """What the tool does; models decide whether to call it from this text."""
        ...

    @property
    def schema(self) -> ToolSchema:
        """The schema sent to the model provider."""
        ...

    def args_type(self) -> type[BaseModel]:
        """The pydantic model that validates the arguments."""
        ...

    def return_type(self) -> type[Any]:
        """The type :meth:`run_json` returns."""
        ...

    def state_type(self) -> type[BaseModel] | None:
        """The pydantic model of the tool's state, or ``None`` for a stateless tool."""
        ...

    def return_value_as_string(self, value: Any) -> str:
        """Render a return value as the text a model reads."""
        ...

    async def run_json(
        self, args: Mapping[str, Any], cancellation_token: CancellationToken, call_id: str | None = None
    ) -> Any:
        """Validate ``args`` (decoded JSON from the model) and run the tool."""
        ...

    async def save_state_json(self) -> Mapping[str, Any]:
        """Return the tool's state as JSON-compatible data."""
        ...

    async def load_state_json(self, state: Mapping[str, Any]) -> None:
        """Restore state produced by :meth:`save_state_json`."""
        ...


@runtime_checkable
class StreamTool(Tool, Protocol):
    """A tool that reports progress while it runs: it yields values and ends with its result."""

    def run_json_stream(
        self, args: Mapping[str, Any], cancellation_token: CancellationToken, call_id: str | None = None
    ) -> AsyncGenerator[Any, None]:
        """Validate ``args`` and run the tool, yielding progress and then the final result."""
        ...


ArgsT = TypeVar("ArgsT", bound=BaseModel, contravariant=True)
ReturnT = TypeVar("ReturnT", bound=BaseModel, covariant=True)
StateT = TypeVar("StateT", bound=BaseModel)
StreamT = TypeVar("StreamT", bound=BaseModel, covariant=True)


def _strip_annotated(tp: Any) -> Any:
    return get_args(tp)[0] if get_origin(tp) is Annotated else tp


class BaseTool(ABC, Tool, Generic[ArgsT, ReturnT]):
    """A tool whose arguments are a pydantic model: subclasses implement :meth:`run` on validated arguments.

    :meth:`run_json` validates what the model sent before :meth:`run` sees it, so ``run`` never deals
    with malformed input; invalid arguments raise :class:`ToolArgumentsError` naming each offending
    argument. Each successful call is logged as a :class:`~salon.logging.ToolCallEvent` on
    :data:`~salon.EVENT_LOGGER_NAME` (built only when that logger is enabled for INFO).

    Args:
        args_type: The arguments model; its JSON Schema becomes the tool's parameters.
        return_type: What :meth:`run` returns (``Annotated`` is reduced to its inner type).
        name: The name models call the tool by.
        description: What the tool does and when to use it.
        strict: Ask providers to constrain the model to the exact schema (OpenAI structured outputs). A
            strict tool must have no optional arguments and no extra arguments; that is checked here,
            so a tool that cannot be strict fails when it is made, not at its first request.
    """

    component_type: ClassVar[str] = "tool"

    def __init__(
        self,
        args_type: type[ArgsT],
        return_type: type[ReturnT],
        name: str,
        description: str,
        strict: bool = False,
    ) -> None:
        self._args_type = args_type
        self._return_type: type[Any] = _strip_annotated(return_type)
        self._name = name
        self._description = description
        self._strict = strict
        self._parameters: ParametersSchema | None = None
        if strict:
            self._parameters = parameters_schema(args_type, tool_name=name, strict=True)

    @property
    def schema(self) -> ToolSchema:
        """The tool's schema; a fresh copy each time, so callers may change it freely."""
        if self._parameters is None:
            self._parameters = parameters_schema(self._args_type, tool_name=self._name, strict=self._strict)
        return ToolSchema(
            name=self._name,
            description=self._description,
            parameters=copy.deepcopy(self._parameters),
            strict=self._strict,
        )

    @property
    def name(self) -> str:
        """The name models call the tool by."""
        return self._name

    @property
    def description(self) -> str:
        """What the tool does."""
        return self._description

    def args_type(self) -> type[BaseModel]:
        """The arguments model."""
        return self._args_type

    def return_type(self) -> type[Any]:
        """The type :meth:`run` returns."""
        return self._return_type

    def state_type(self) -> type[BaseModel] | None:
        """``None``: a plain tool keeps no state."""
        return None

    def return_value_as_string(self, value: Any) -> str:
        """Render a return value for the model: a pydantic model as JSON, anything else with ``str``."""
        if isinstance(value, BaseModel):
            dumped = value.model_dump(mode="json")
            return json.dumps(dumped) if isinstance(dumped, dict) else str(dumped)
        return str(value)

    @abstractmethod
    async def run(self, args: ArgsT, cancellation_token: CancellationToken) -> ReturnT:
        """Do the tool's work on validated arguments.

        Args:
            args: The validated arguments.
            cancellation_token: Cancelled when the caller gives up; long work should stop then.
        """

    def _validate_args(self, args: Mapping[str, Any]) -> Any:
        data = dict(args) if isinstance(args, Mapping) else args
        try:
            return self._args_type.model_validate(data)
        except ValidationError as e:
            accepted = [field.alias or name for name, field in self._args_type.model_fields.items()]
            raise ToolArgumentsError.from_validation_error(self._name, e, accepted) from e

    def _log_call(self, args: Mapping[str, Any], return_value: Any, call_id: str | None) -> None:
        if _event_logger.isEnabledFor(logging.INFO):
            event = ToolCallEvent(
                tool_name=self._name,
                arguments=dict(args),
                result=self.return_value_as_string(return_value),
                call_id=call_id,
            )
            _event_logger.info(event)

    async def run_json(
        self, args: Mapping[str, Any], cancellation_token: CancellationToken, call_id: str | None = None
    ) -> Any:
        """Validate ``args`` against :meth:`args_type` and run the tool.

        Args:
            args: The arguments as decoded from the model's JSON.
            cancellation_token: Passed on to :meth:`run`.
            call_id: The model's id for this call (for tracing).

        Returns:
            What :meth:`run` returned.

        Raises:
            ToolArgumentsError: ``args`` do not match the schema.
        """
        return_value = await self.run(self._validate_args(args), cancellation_token)
        self._log_call(args, return_value, call_id)
        return return_value

    async def save_state_json(self) -> Mapping[str, Any]:
        """Return ``{}``: a plain tool keeps no state."""
        return {}

    async def load_state_json(self, state: Mapping[str, Any]) -> None:
        """Do nothing: a plain tool keeps no state."""


class BaseStreamTool(BaseTool[ArgsT, ReturnT], StreamTool, ABC, Generic[ArgsT, StreamT, ReturnT]):
    """A :class:`BaseTool` that yields progress values before its final result.

    Subclasses implement :meth:`run_stream`; :meth:`run` (used by :meth:`run_json`) drains that stream
    and returns the final value, so a stream tool also works where only plain tools are expected.
    """

    @abstractmethod
    def run_stream(self, args: ArgsT, cancellation_token: CancellationToken) -> AsyncGenerator[StreamT | ReturnT, None]:
        """Yield progress values, then the final result (an instance of the return type) last."""

    async def run(self, args: ArgsT, cancellation_token: CancellationToken) -> ReturnT:
        """Run :meth:`run_stream` to its end and return its last value."""
        last: Any = None
        async for item in self.run_stream(args, cancellation_token):
            last = item
        return cast(ReturnT, self._check_final(last))

    def _check_final(self, value: Any) -> Any:
        if value is None:
            raise RuntimeError(f"Stream tool {self._name!r} ended without yielding its result.")
        if isinstance(self._return_type, type) and not isinstance(value, self._return_type):
            raise TypeError(
                f"Stream tool {self._name!r} must yield its result ({self._return_type.__name__}) last, "
                f"but its last value was a {type(value).__name__}."
            )
        return value

    async def run_json_stream(
        self, args: Mapping[str, Any], cancellation_token: CancellationToken, call_id: str | None = None
    ) -> AsyncGenerator[StreamT | ReturnT, None]:
        """Validate ``args``, then yield everything :meth:`run_stream` yields; the last item is the result.

        Raises:
            ToolArgumentsError: ``args`` do not match the schema.
            TypeError: The last value yielded is not of the tool's return type.
        """
        last: Any = None
        async for item in self.run_stream(self._validate_args(args), cancellation_token):
            last = item
            yield item
        self._log_call(args, self._check_final(last), call_id)


class BaseToolWithState(BaseTool[ArgsT, ReturnT], ABC, Generic[ArgsT, ReturnT, StateT]):
    """A :class:`BaseTool` with state that a workbench saves and restores (through JSON).

    Args:
        args_type: The arguments model.
        return_type: What :meth:`run` returns.
        state_type: The pydantic model of the state; :meth:`load_state_json` validates against it.
        name: The tool's name.
        description: What the tool does.
        strict: As for :class:`BaseTool`.
    """

    def __init__(
        self,
        args_type: type[ArgsT],
        return_type: type[ReturnT],
        state_type: type[StateT],
        name: str,
        description: str,
        strict: bool = False,
    ) -> None:
        super().__init__(args_type, return_type, name, description, strict)
        self._state_type = state_type

    def state_type(self) -> type[BaseModel] | None:
        """The state model."""
        return self._state_type

    @abstractmethod
    def save_state(self) -> StateT:
        """Return the current state."""

    @abstractmethod
    def load_state(self, state: StateT) -> None:
        """Replace the current state."""

    async def save_state_json(self) -> Mapping[str, Any]:
        """Return :meth:`save_state` as JSON-compatible data."""
        return self.save_state().model_dump(mode="json")

    async def load_state_json(self, state: Mapping[str, Any]) -> None:
        """Validate ``state`` against the state model and pass it to :meth:`load_state`."""
        self.load_state(self._state_type.model_validate(dict(state)))
