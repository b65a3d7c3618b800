"""The ``@message_handler``, ``@event`` and ``@rpc`` decorators that declare what a RoutedAgent handles."""

from __future__ import annotations

import inspect
import types
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, Literal, Protocol, TypeVar, Union, cast, get_args, get_origin, get_type_hints, overload

from ._message_context import MessageContext

__all__ = ["MessageHandler", "message_handler", "event", "rpc", "handler_types", "check_result"]

AgentT = TypeVar("AgentT", contravariant=True)
ReceivesT = TypeVar("ReceivesT", contravariant=True)
ProducesT = TypeVar("ProducesT", covariant=True)

HandlerKind = Literal["any", "event", "rpc"]
F = TypeVar("F", bound=Callable[..., Coroutine[Any, Any, Any]])
Router = Callable[[Any, MessageContext], bool]


class MessageHandler(Protocol[AgentT, ReceivesT, ProducesT]):
    """A decorated handler method, with the routing facts the agent class reads once."""

    target_types: Sequence[type]
    produces_types: Sequence[type]
    is_message_handler: Literal[True]
    router: Router

    @staticmethod
    async def __call__(agent: AgentT, message: ReceivesT, ctx: MessageContext) -> ProducesT: ...


def handler_types(annotation: Any) -> tuple[type, ...]:
    """Flatten a handler annotation (a class, a ``Union``/``|``, ``Optional``) into its classes.

    ``Any`` and ``object`` both mean "every message"; ``None`` means ``NoneType``.
    """
    if annotation is Any:
        return (object,)
    if annotation is None or annotation is type(None):
        return (type(None),)
    origin = get_origin(annotation)
    if origin is Union or origin is types.UnionType:
        result: list[type] = []
        for arg in get_args(annotation):
            result.extend(handler_types(arg))
        return tuple(result)
    if origin is not None:  # e.g. list[int]: route on the runtime class
        return handler_types(origin)
    if isinstance(annotation, type):
        return (annotation,)
    raise TypeError(f"Unsupported message type annotation {annotation!r}: use classes, unions of classes, or Any.")


def _build(func: F, *, kind: HandlerKind, strict: bool, match: Router | None) -> F:
    name = getattr(func, "__qualname__", repr(func))
    if not inspect.iscoroutinefunction(func):
        raise TypeError(f"Message handler {name} must be an `async def` method.")
    params = list(inspect.signature(func).parameters.values())
    if len(params) != 3:
        raise TypeError(
            f"Message handler {name} must take exactly (self, message, ctx); "
            f"it takes ({', '.join(p.name for p in params)})."
        )
    message_param = params[1].name
    try:
        hints = get_type_hints(func)
    except Exception as e:  # an unresolvable forward reference, typically
        raise TypeError(f"Cannot resolve the type annotations of message handler {name}: {e}") from e
    if message_param not in hints:
        raise TypeError(
            f"Message handler {name}: the `{message_param}` parameter has no type annotation. Annotate it with "
            f"the message type(s) the handler accepts, e.g. `{message_param}: MyMessage` or `MyMessage | Other`."
        )
    if "return" not in hints:
        raise TypeError(
            f"Message handler {name} has no return annotation. Annotate the response type, or `-> None` for "
            "handlers that do not answer."
        )
    target_types = handler_types(hints[message_param])
    produces_types = handler_types(hints["return"])

    # The function itself is the handler (no wrapper coroutine per delivery): routing by type already
    # guarantees the message's type, and the runtime checks a strict handler's result (see check_result).
    handler: Any = func
    handler.target_types = list(target_types)
    handler.produces_types = list(produces_types)
    handler.is_message_handler = True
    handler.handler_kind = kind
    handler.match = match
    handler.router = _router(kind, match)
    # None means "accepts every message of its types": RoutedAgent then skips the router call.
    handler._salon_router = None if kind == "any" and match is None else handler.router
    handler._salon_returns = produces_types if strict and object not in produces_types else None
    return cast(F, handler)


def check_result(handler: Any, result: Any) -> None:
    """Raise ``ValueError`` if a strict handler returned a value outside its return annotation.

    Raises:
        ValueError: naming the handler, what it returned and what its annotation allows.
    """
    returns: tuple[type, ...] | None = handler._salon_returns
    if returns is not None and not isinstance(result, returns):
        raise ValueError(
            f"Handler {handler.__qualname__} returned {type(result).__name__}, but its return annotation allows "
            f"{_names(returns)} (strict=True). Return one of those, or declare the handler with strict=False."
        )


def _router(kind: HandlerKind, match: Router | None) -> Router:
    if kind == "any":
        return match if match is not None else (lambda _m, _c: True)
    want_rpc = kind == "rpc"
    if match is None:
        return lambda _m, ctx: ctx.is_rpc is want_rpc
    return lambda m, ctx: ctx.is_rpc is want_rpc and match(m, ctx)


def _names(classes: Sequence[type]) -> str:
    return " | ".join(c.__name__ for c in classes)


@overload
def message_handler(func: F) -> F: ...


@overload
def message_handler(func: None = None, *, strict: bool = ..., match: Router | None = ...) -> Callable[[F], F]: ...


def message_handler(func: F | None = None, *, strict: bool = True, match: Router | None = None) -> F | Callable[[F], F]:
    """Declare a method of a :class:`RoutedAgent` as the handler of the message types it annotates.

    The handler serves both direct messages and publishes. Routing is decided once per agent class:
    a message goes to the handler of its own class or, failing that, of the nearest base class in its
    MRO; among handlers of the same class, the first declared whose ``match`` accepts the message.

    Args:
        func: The ``async def (self, message: T, ctx: MessageContext) -> R`` method.
        strict: Raise ``ValueError`` (to an RPC's caller; logged for a publish) when the handler returns a
            value outside its return annotation. On by default, as in AutoGen.
        match: Extra predicate ``(message, ctx) -> bool`` to choose between handlers of the same type.

    Raises:
        TypeError: the method is not async, or its message parameter or return value is not annotated.
    """
    if func is None:
        return lambda f: _build(f, kind="any", strict=strict, match=match)
    return _build(func, kind="any", strict=strict, match=match)


@overload
def event(func: F) -> F: ...


@overload
def event(func: None = None, *, strict: bool = ..., match: Router | None = ...) -> Callable[[F], F]: ...


def event(func: F | None = None, *, strict: bool = True, match: Router | None = None) -> F | Callable[[F], F]:
    """Like :func:`message_handler`, but only for published messages (``publish_message``)."""
    if func is None:
        return lambda f: _build(f, kind="event", strict=strict, match=match)
    return _build(func, kind="event", strict=strict, match=match)


@overload
def rpc(func: F) -> F: ...


@overload
def rpc(func: None = None, *, strict: bool = ..., match: Router | None = ...) -> Callable[[F], F]: ...


def rpc(func: F | None = None, *, strict: bool = True, match: Router | None = None) -> F | Callable[[F], F]:
    """Like :func:`message_handler`, but only for direct messages (``send_message``)."""
    if func is None:
        return lambda f: _build(f, kind="rpc", strict=strict, match=match)
    return _build(func, kind="rpc", strict=strict, match=match)
