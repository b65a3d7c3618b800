"""From a Python function's signature to the pydantic model that validates a model's call of it."""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, create_model
from pydantic_core import PydanticUndefined

__all__ = ["FunctionArguments", "callable_name", "function_arguments", "is_async_callable"]

CANCELLATION_TOKEN_PARAMETER = "cancellation_token"


def callable_name(func: Callable[..., Any]) -> str:
    """The name a function is known by (``functools.partial`` objects by the function they wrap)."""
    target: Any = func
    while isinstance(target, functools.partial):
        target = target.func
    return str(getattr(target, "__name__", type(target).__name__))


def is_async_callable(func: Callable[..., Any]) -> bool:
    """Whether calling ``func`` returns a coroutine (async functions, partials of them, async ``__call__``)."""
    target: Any = func
    while isinstance(target, functools.partial):
        target = target.func
    if inspect.iscoroutinefunction(target):
        return True
    call = getattr(target, "__call__", None)  # noqa: B004 - an object with an async __call__
    return not inspect.isfunction(target) and not inspect.ismethod(target) and inspect.iscoroutinefunction(call)


def _type_hints(func: Callable[..., Any], name: str) -> dict[str, Any]:
    target: Any = func
    while isinstance(target, functools.partial):
        target = target.func
    if not (inspect.isfunction(target) or inspect.ismethod(target)) and callable(target):
        target = target.__call__
    try:
        return typing.get_type_hints(target, include_extras=True)
    except Exception as e:
        raise TypeError(
            f"Could not resolve the type hints of {name!r}: {type(e).__name__}: {e}. "
            "Every type a tool function's annotations name must be importable from the function's module."
        ) from e


def _describe(parameter: str, annotation: Any) -> tuple[Any, str]:
    """Split ``Annotated[T, "description", *constraints]`` into the type to validate and the description."""
    if get_origin(annotation) is not Annotated:
        return annotation, parameter
    inner, *metadata = get_args(annotation)
    texts = [item for item in metadata if isinstance(item, str)]
    others = [item for item in metadata if not isinstance(item, str)]
    description = (
        texts[0]
        if texts
        else next((item.description for item in others if getattr(item, "description", None)), parameter)
    )
    # Constraints such as Field(ge=0) stay on the type so pydantic enforces them and shows them in the schema.
    return (Annotated[(inner, *others)] if others else inner), description


@dataclass(frozen=True)
class FunctionArguments:
    """How a function's parameters map onto its arguments model.

    Attributes:
        model: The pydantic model validating a call's arguments (extra arguments are refused).
        positional: Positional-only parameters, in order, as ``(parameter, field)`` pairs.
        keyword: The other parameters as ``parameter -> field`` (fields differ from parameters only
            where a parameter's name would shadow a ``BaseModel`` attribute such as ``json``).
        takes_cancellation_token: The function has a ``cancellation_token`` parameter to receive the token.
        return_type: The return annotation (``Any`` when there is none).
    """

    model: type[BaseModel]
    positional: tuple[tuple[str, str], ...]
    keyword: dict[str, str]
    takes_cancellation_token: bool
    return_type: Any


def function_arguments(func: Callable[..., Any], name: str) -> FunctionArguments:
    """Inspect ``func`` and build the model that validates calls of it.

    Args:
        func: The function (or partial, bound method, callable object).
        name: The tool's name: the model is called ``f"{name}args"`` as in AutoGen.

    Raises:
        TypeError: The function's annotations cannot be resolved.
        ValueError: A parameter has no annotation, or is ``*args``/``**kwargs``, which no schema can describe.
    """
    signature = inspect.signature(func)
    hints = _type_hints(func, name)
    fields: dict[str, Any] = {}
    positional: list[tuple[str, str]] = []
    keyword: dict[str, str] = {}
    missing: list[str] = []
    takes_token = False
    for parameter in signature.parameters.values():
        if parameter.name == CANCELLATION_TOKEN_PARAMETER:
            takes_token = True
            continue
        if parameter.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
            star = "*" if parameter.kind is inspect.Parameter.VAR_POSITIONAL else "**"
            raise ValueError(
                f"Tool function {name!r} has a variadic parameter ({star}{parameter.name}), which a schema "
                "cannot describe. Give the function named, annotated parameters."
            )
        annotation = hints.get(parameter.name, parameter.annotation)
        if annotation is inspect.Parameter.empty:
            missing.append(parameter.name)
            continue
        field_type, description = _describe(parameter.name, annotation)
        default = PydanticUndefined if parameter.default is inspect.Parameter.empty else parameter.default
        field_name = parameter.name
        alias: str | None = None
        if hasattr(BaseModel, field_name):
            while field_name in signature.parameters or field_name in fields or hasattr(BaseModel, field_name):
                field_name += "_"
            alias = parameter.name
        fields[field_name] = (field_type, Field(default=default, description=description, alias=alias))
        if parameter.kind is inspect.Parameter.POSITIONAL_ONLY:
            positional.append((parameter.name, field_name))
        else:
            keyword[parameter.name] = field_name
    if missing:
        raise ValueError(
            f"Every parameter of tool function {name!r} needs a type annotation, from which its schema is built; "
            f"missing for: {', '.join(missing)}."
        )
    model: type[BaseModel] = create_model(f"{name}args", __config__=ConfigDict(extra="forbid"), **fields)
    return FunctionArguments(
        model=model,
        positional=tuple(positional),
        keyword=keyword,
        takes_cancellation_token=takes_token,
        return_type=hints.get("return", Any),
    )
