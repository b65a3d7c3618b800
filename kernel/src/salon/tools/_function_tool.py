"""FunctionTool: any typed Python function, sync or async, as a tool a model can call."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
from collections.abc import Callable, Sequence
from typing import Any, cast

from pydantic import BaseModel

from .._cancellation_token import CancellationToken
from ..code_executor import Import
from ._base import BaseTool
from ._signature import callable_name, function_arguments, is_async_callable

__all__ = ["FunctionTool"]


class FunctionTool(BaseTool[BaseModel, BaseModel]):
    """Wrap a Python function as a tool; its type hints become the schema the model sees.

    Every parameter needs a type annotation. ``Annotated[str, "Date in YYYY/MM/DD"]`` gives the
    parameter a description (otherwise the description is the parameter's name, as in AutoGen);
    pydantic constraints in ``Annotated`` (``Field(ge=0)``) are enforced and shown in the schema.
    Parameters with defaults are optional. Pydantic models, ``Literal``, lists and optionals all work.

    How it runs:

    - An async function is awaited on the event loop.
    - A sync function runs in the loop's default thread pool, so a slow or blocking function never
      stalls other agents (context variables are copied into the thread). Python cannot stop a thread:
      after cancellation the call returns at once but the function runs on to its end.
    - A parameter named ``cancellation_token`` receives the call's :class:`~salon.CancellationToken`
      and is left out of the schema; such a function handles cancellation itself. Otherwise
      cancelling the token cancels the call.
    - Arguments beyond the signature are refused with an error naming them, as the schema's
      ``additionalProperties: false`` says (AutoGen drops them silently, which can hide a misspelt
      optional argument).

    Args:
        func: The function: a plain or async function, a bound method, a ``functools.partial`` or a
            callable object.
        description: What the function does and when to use it; the model chooses tools by it.
        name: The tool's name; the function's name by default.
        global_imports: Imports the function's source needs, kept for code executors and config dumps.
        strict: Strict mode for providers with structured outputs: then no parameter may have a
            default, which is checked now.

    Raises:
        ValueError: A parameter is not annotated or is variadic, the name cannot be derived (a
            lambda needs ``name=``), or ``strict`` is set but a parameter has a default.
        TypeError: The function's annotations cannot be resolved.
    """

    def __init__(
        self,
        func: Callable[..., Any],
        description: str,
        name: str | None = None,
        global_imports: Sequence[Import] = (),
        strict: bool = False,
    ) -> None:
        tool_name = name or callable_name(func)
        if name is None and not tool_name.isidentifier():
            raise ValueError(f"Cannot name a tool after {tool_name!r}; pass name= to FunctionTool.")
        self._func = func
        self._global_imports = list(global_imports)
        self._signature = inspect.signature(func)
        self._arguments = function_arguments(func, tool_name)
        self._has_cancellation_support = self._arguments.takes_cancellation_token
        self._is_async = is_async_callable(func)
        super().__init__(
            self._arguments.model,
            cast(type[BaseModel], self._arguments.return_type),
            tool_name,
            description,
            strict,
        )

    async def run(self, args: BaseModel, cancellation_token: CancellationToken) -> Any:
        """Call the function with the validated arguments and return what it returns."""
        positional = [getattr(args, field) for _, field in self._arguments.positional]
        keyword = {parameter: getattr(args, field) for parameter, field in self._arguments.keyword.items()}
        if self._has_cancellation_support:
            keyword["cancellation_token"] = cancellation_token
        future: asyncio.Future[Any]
        if self._is_async:
            future = asyncio.ensure_future(self._func(*positional, **keyword))
        else:
            context = contextvars.copy_context()
            call = functools.partial(context.run, self._func, *positional, **keyword)
            future = asyncio.get_running_loop().run_in_executor(None, call)
        if not self._has_cancellation_support:
            cancellation_token.link_future(future)
        result = await future
        if inspect.isawaitable(result):  # a sync callable that returned a coroutine
            result = await result
        return result
