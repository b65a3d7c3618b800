"""RoutedAgent: an agent whose messages are routed to decorated handler methods by type."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, ClassVar

from ._base_agent import BaseAgent
from ._constants import TRACE_LOGGER_NAME
from ._message_context import MessageContext
from ._message_handler import check_result
from .exceptions import CantHandleException

if TYPE_CHECKING:
    from ._serialization import MessageSerializer

__all__ = ["RoutedAgent"]

_logger = logging.getLogger(TRACE_LOGGER_NAME)

Handler = Callable[[Any, Any, MessageContext], Coroutine[Any, Any, Any]]


class RoutedAgent(BaseAgent):
    """An agent that routes each message to the handler declared for its type.

    Handlers are methods decorated with :func:`message_handler`, :func:`event` or :func:`rpc`.
    The routing table is built once per class (not per instance): a message goes to the handlers of
    its own class or, failing that, of the nearest base class in its MRO; among those, the first
    in declaration order whose router accepts it. A message no handler accepts goes to
    :meth:`on_unhandled_message`, which raises :class:`CantHandleException` for an RPC (so the caller
    learns of it) and logs a publish.
    """

    _handlers_by_type: ClassVar[dict[type, tuple[Handler, ...]]] = {}
    _route_cache: ClassVar[dict[type, tuple[Handler, ...]]] = {}
    _routes_by_default: ClassVar[bool] = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        ordered: dict[str, Any] = {}
        for klass in reversed(cls.__mro__):
            for name, value in vars(klass).items():
                ordered[name] = value
        by_type: dict[type, list[Handler]] = {}
        for value in ordered.values():
            if getattr(value, "is_message_handler", False) is True:
                for target in value.target_types:
                    by_type.setdefault(target, []).append(value)
        cls._handlers_by_type = {target: tuple(handlers) for target, handlers in by_type.items()}
        cls._route_cache = {}
        # The runtime may skip on_message/on_message_impl (two coroutine layers per delivery) and call
        # the handler directly, but only when the class has not customised that path.
        cls._routes_by_default = (
            cls.on_message_impl is RoutedAgent.on_message_impl and cls.on_message is BaseAgent.on_message
        )

    @classmethod
    def _handlers_for(cls, message_type: type) -> tuple[Handler, ...]:
        """Return the candidate handlers for ``message_type`` (nearest class in its MRO), cached."""
        try:
            return cls._route_cache[message_type]
        except KeyError:
            pass
        handlers: tuple[Handler, ...] = ()
        for klass in message_type.__mro__:
            found = cls._handlers_by_type.get(klass)
            if found:
                handlers = found
                break
        if len(cls._route_cache) > 1024:
            cls._route_cache.clear()
        cls._route_cache[message_type] = handlers
        return handlers

    def _select(self, message: Any, ctx: MessageContext) -> Handler | None:
        """Return the handler for ``message``, or ``None`` when no handler accepts it."""
        handlers = self._route_cache.get(type(message))
        if handlers is None:
            handlers = type(self)._handlers_for(type(message))
        for handler in handlers:
            router = handler._salon_router  # type: ignore[attr-defined]
            if router is None or router(message, ctx):
                return handler
        return None

    def __init__(self, description: str) -> None:
        super().__init__(description)

    @classmethod
    def _handles_types(cls) -> list[tuple[type[Any], list[MessageSerializer[Any]]]]:
        """The handled message types with their serializers, registered by ``register``."""
        from ._serialization import try_get_known_serializers_for_type

        handled: list[tuple[type[Any], list[MessageSerializer[Any]]]] = []
        for target in cls._handlers_by_type:
            serializers = try_get_known_serializers_for_type(target)
            if serializers:
                handled.append((target, serializers))
        return handled + super()._handles_types()

    async def on_message_impl(self, message: Any, ctx: MessageContext) -> Any:
        """Route ``message`` to its handler (see the class docstring)."""
        handler = self._select(message, ctx)
        if handler is None:
            return await self.on_unhandled_message(message, ctx)
        result = await handler(self, message, ctx)
        check_result(handler, result)
        return result

    async def on_unhandled_message(self, message: Any, ctx: MessageContext) -> Any:
        """Called for a message no handler accepts.

        Raises:
            CantHandleException: for a direct message (``send_message``), so the caller is not left
                with a silent ``None``. Publishes are logged and ignored.
        """
        if ctx.is_rpc:
            raise CantHandleException(
                f"{type(self).__name__} ({self.id}) has no handler that accepts a direct message of type "
                f"{type(message).__name__}. Handled types: {_handled(type(self))}."
            )
        _logger.info("Unhandled message: %s", message)
        return None


def _handled(cls: type[RoutedAgent]) -> str:
    names = sorted({t.__name__ for t in cls._handlers_by_type})
    return ", ".join(names) or "none"
