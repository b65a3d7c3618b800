"""Message serialization: how a message crosses a process boundary as ``(type name, content type, bytes)``.

A runtime that moves messages between processes keeps a :class:`SerializationRegistry` keyed by
``(type_name, data_content_type)``. Agents register the message types their handlers accept when they are
registered, so most code never touches this module directly.

Decisions (where Salon departs from, or pins down, AutoGen 0.7):

* Unknown types. Serializing a message whose type has no serializer always raises :class:`ValueError`, as in
  AutoGen: there is nothing sensible to send. Deserializing an unknown ``(type_name, content_type)`` raises
  :class:`ValueError` by default, so a missing registration is loud instead of reaching a handler as an opaque
  object; ``SerializationRegistry(unknown_payloads=True)`` gives AutoGen's behaviour, an :class:`UnknownPayload`
  (what a relay, or a worker hosting only some agent types, wants). An :class:`UnknownPayload` serializes back
  to its own bytes under its own type name and content type, so such a worker can forward it unchanged.
* Dataclasses are read with a pydantic ``TypeAdapter`` (built once per serializer, on first use), so nested
  dataclasses and models, lists, dicts, unions, ``Literal``, enums and datetimes round-trip (AutoGen refuses
  nesting and unions). They are written by pydantic's type-inferring encoder which, like AutoGen's
  ``json.dumps``, writes infinities as ``Infinity``. Pydantic models keep their own JSON configuration and
  are written by alias, which is what ``model_validate_json`` reads back.
* Import cost. Importing this module imports neither pydantic nor protobuf. A class can only be a pydantic
  model (or a protobuf message) if that library is already in ``sys.modules``, so detection looks there; the
  libraries are imported when a serializer first needs them.
* Every failure is a :class:`ValueError` (what runtimes catch) naming the type, the content type and the
  field at fault, chained to the underlying pydantic or protobuf error.
"""

from __future__ import annotations

import dataclasses
import importlib
import sys
import warnings
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar, get_type_hints

if TYPE_CHECKING:
    from pydantic import BaseModel, TypeAdapter

__all__ = [
    "DataclassJsonMessageSerializer",
    "JSON_DATA_CONTENT_TYPE",
    "MessageSerializer",
    "PROTOBUF_DATA_CONTENT_TYPE",
    "ProtobufMessageSerializer",
    "PydanticJsonMessageSerializer",
    "SerializationRegistry",
    "UnknownPayload",
    "try_get_known_serializers_for_type",
    "type_name_of",
]

JSON_DATA_CONTENT_TYPE = "application/json"
"""Content type of JSON payloads (dataclasses and pydantic models)."""

PROTOBUF_DATA_CONTENT_TYPE = "application/x-protobuf"
"""Content type of protobuf payloads (a serialized ``google.protobuf.Any`` wrapping the message)."""

T = TypeVar("T")


class MessageSerializer(Protocol[T]):
    """Turns one message type into bytes of one content type and back.

    Implement it for a wire format the built-in serializers do not cover and register it with
    ``runtime.add_message_serializer``; runtimes look it up by ``(type_name, data_content_type)``.
    """

    @property
    def data_content_type(self) -> str:
        """The MIME type of the bytes, e.g. :data:`JSON_DATA_CONTENT_TYPE`."""
        ...

    @property
    def type_name(self) -> str:
        """The name the message type travels under; sender and receiver must agree on it."""
        ...

    def deserialize(self, payload: bytes) -> T:
        """Rebuild a message from ``payload``; raise :class:`ValueError` if the bytes are not one."""
        ...

    def serialize(self, message: T) -> bytes:
        """Encode ``message``; raise :class:`ValueError` if it cannot be encoded."""
        ...


class _DataclassInstance(Protocol):
    __dataclass_fields__: ClassVar[dict[str, Any]]


DataclassT = TypeVar("DataclassT", bound=_DataclassInstance)
PydanticT = TypeVar("PydanticT", bound="BaseModel")


@dataclasses.dataclass
class UnknownPayload:
    """A payload of a type this process has no serializer for, kept as raw bytes so it can be forwarded."""

    type_name: str
    data_content_type: str
    payload: bytes


def _pydantic_base_model() -> Any:
    """``pydantic.BaseModel`` if pydantic is loaded, else ``None`` (no class can subclass it then)."""
    module = sys.modules.get("pydantic.main")
    return None if module is None else module.BaseModel


def _protobuf_message() -> Any:
    """``google.protobuf.message.Message`` if protobuf is loaded, else ``None``."""
    module = sys.modules.get("google.protobuf.message")
    return None if module is None else module.Message


def type_name_of(cls_or_obj: Any) -> str:
    """Return the name a class, or the class of an instance, travels under.

    Protobuf messages use their descriptor's full name (``package.Message``), as protobuf peers expect; other
    classes use ``__name__``, so two classes with the same name collide in a registry.
    """
    cls: Any = cls_or_obj if isinstance(cls_or_obj, type) else type(cls_or_obj)
    message_base = _protobuf_message()
    if message_base is not None and issubclass(cls, message_base):
        return str(cls.DESCRIPTOR.full_name)
    return str(cls.__name__)


def _find_unserializable(value: object, path: str, seen: set[int]) -> tuple[str, object, Exception] | None:
    """Walk ``value`` and return ``(path, leaf, error)`` for the first leaf with no JSON form."""
    from pydantic_core import to_json

    base_model = _pydantic_base_model()
    children: list[tuple[str, object]] = []
    if id(value) in seen:
        return None
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        children = [(f"{path}.{f.name}", getattr(value, f.name)) for f in dataclasses.fields(value)]
    elif base_model is not None and isinstance(value, base_model):
        children = [(f"{path}.{name}", getattr(value, name)) for name in type(value).model_fields]
    elif isinstance(value, dict):
        children = [(f"{path}[{k!r}] (key)", k) for k in value] + [(f"{path}[{k!r}]", v) for k, v in value.items()]
    elif isinstance(value, list | tuple | set | frozenset):
        children = [(f"{path}[{index}]", item) for index, item in enumerate(value)]
    else:
        try:
            to_json(value)
        except ValueError as exc:
            return path.lstrip("."), value, exc
        return None
    seen.add(id(value))
    for child_path, child in children:
        found = _find_unserializable(child, child_path, seen)
        if found is not None:
            return found
    return None


def _serialize_error(message: object, exc: Exception) -> ValueError:
    name = type(message).__name__
    found = _find_unserializable(message, "", set())
    if found is None:
        return ValueError(f"Cannot serialize {name} to JSON: {exc}")
    path, leaf, leaf_exc = found
    return ValueError(
        f"Cannot serialize {name} to JSON: field '{path}' holds a value of type {type(leaf).__qualname__} with "
        f"no JSON form ({leaf_exc}). Keep JSON-compatible values there (str, int, float, bool, None, lists, dicts, "
        f"dataclasses, pydantic models, enums, datetimes), or make {name} a pydantic model with a custom serializer."
    )


def _deserialize_error(type_name: str, exc: Exception) -> ValueError:
    from pydantic import ValidationError

    prefix = f"Cannot deserialize {type_name!r} from {JSON_DATA_CONTENT_TYPE!r}"
    if not isinstance(exc, ValidationError):
        return ValueError(f"{prefix}: {exc}")
    problems = []
    for error in exc.errors(include_url=False)[:5]:
        loc = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in error["loc"]).lstrip(".")
        problems.append(f"field '{loc}': {error['msg']}" if loc else f"payload: {error['msg']}")
    more = f" (and {exc.error_count() - 5} more)" if exc.error_count() > 5 else ""
    return ValueError(f"{prefix}: {'; '.join(problems)}{more}")


class _BuiltInSerializer:
    """What the built-in serializers share: the class, its wire name, its content type and a type check."""

    _content_type: ClassVar[str] = JSON_DATA_CONTENT_TYPE

    def __init__(self, cls: type[Any]) -> None:
        self.cls = cls
        self._type_name = type_name_of(cls)

    @property
    def data_content_type(self) -> str:
        """The content type of the bytes this serializer produces."""
        return self._content_type

    @property
    def type_name(self) -> str:
        """The class's wire name (see :func:`type_name_of`)."""
        return self._type_name

    def _check(self, message: object) -> None:
        if not isinstance(message, self.cls):
            raise ValueError(
                f"{type(self).__name__} for {self.cls.__qualname__} cannot serialize a "
                f"{type(message).__qualname__} instance."
            )


class DataclassJsonMessageSerializer(_BuiltInSerializer, MessageSerializer[DataclassT]):
    """JSON serializer for a dataclass message type, nested values included.

    The pydantic schema is built on first deserialization, not here: agents register a serializer for every
    handled type, and an in-process runtime never uses them.

    Raises:
        ValueError: ``cls`` is not a dataclass.
    """

    cls: type[DataclassT]

    def __init__(self, cls: type[DataclassT]) -> None:
        if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
            raise ValueError(f"DataclassJsonMessageSerializer needs a dataclass type, got {cls!r}.")
        super().__init__(cls)
        self._adapter: TypeAdapter[DataclassT] | None = None
        self._to_json: Callable[..., bytes] | None = None

    def _build_adapter(self) -> TypeAdapter[DataclassT]:
        from pydantic import TypeAdapter

        try:
            adapter = TypeAdapter(self.cls)
            if not adapter.pydantic_complete:  # unresolved forward references: fail here, not in validate_json
                adapter.rebuild(raise_errors=True)
        except Exception as exc:  # pydantic raises several unrelated types for unsupported annotations
            raise ValueError(f"Cannot deserialize dataclass {self.cls.__qualname__}: {self._culprit()}{exc}") from exc
        self._adapter = adapter
        return adapter

    def _culprit(self) -> str:
        """Name the field whose annotation pydantic cannot handle, so the error points at it."""
        from pydantic import TypeAdapter

        try:
            hints = get_type_hints(self.cls, include_extras=True)
        except Exception as exc:
            return f"its annotations cannot be resolved ({exc}). "
        for name, hint in hints.items():
            try:
                TypeAdapter(hint)
            except Exception:
                return f"field {name!r} has a type with no JSON schema ({hint!r}). "
        return ""

    def deserialize(self, payload: bytes) -> DataclassT:
        """Validate ``payload`` into ``cls``; a :class:`ValueError` names each field that does not match."""
        adapter = self._adapter or self._build_adapter()
        try:
            return adapter.validate_json(payload)
        except ValueError as exc:
            raise _deserialize_error(self._type_name, exc) from exc

    def serialize(self, message: DataclassT) -> bytes:
        """Encode ``message`` as JSON; a :class:`ValueError` names a field holding a value with no JSON form."""
        self._check(message)
        if self._to_json is None:
            from pydantic_core import to_json

            self._to_json = to_json
        try:
            return self._to_json(message, by_alias=True, round_trip=True)
        except ValueError as exc:
            raise _serialize_error(message, exc) from exc


class PydanticJsonMessageSerializer(_BuiltInSerializer, MessageSerializer[PydanticT]):
    """JSON serializer for a pydantic model type; the model's own JSON configuration applies.

    Raises:
        ValueError: ``cls`` is not a pydantic ``BaseModel`` subclass.
    """

    cls: type[PydanticT]

    def __init__(self, cls: type[PydanticT]) -> None:
        base_model = _pydantic_base_model()
        if base_model is None or not (isinstance(cls, type) and issubclass(cls, base_model)):
            raise ValueError(f"PydanticJsonMessageSerializer needs a pydantic BaseModel subclass, got {cls!r}.")
        super().__init__(cls)

    def deserialize(self, payload: bytes) -> PydanticT:
        """Validate ``payload`` into the model; a :class:`ValueError` names each field that fails."""
        try:
            return self.cls.model_validate_json(payload)
        except ValueError as exc:
            raise _deserialize_error(self._type_name, exc) from exc

    def serialize(self, message: PydanticT) -> bytes:
        """Encode ``message`` by alias (what validation reads back); a :class:`ValueError` names a bad field."""
        self._check(message)
        try:
            return self.cls.__pydantic_serializer__.to_json(message, by_alias=True, round_trip=True)
        except ValueError as exc:
            raise _serialize_error(message, exc) from exc


class ProtobufMessageSerializer(_BuiltInSerializer, MessageSerializer[Any]):
    """Serializer for a protobuf message class; the bytes are a ``google.protobuf.Any`` wrapping the message."""

    _content_type = PROTOBUF_DATA_CONTENT_TYPE

    def __init__(self, cls: type[Any]) -> None:
        super().__init__(cls)
        self._any = importlib.import_module("google.protobuf.any_pb2").Any
        self._decode_error: type[Exception] = importlib.import_module("google.protobuf.message").DecodeError

    def deserialize(self, payload: bytes) -> Any:
        """Parse the ``Any`` wrapper and unpack it into ``cls``, or raise :class:`ValueError`."""
        prefix = f"Cannot deserialize {self._type_name!r} from {PROTOBUF_DATA_CONTENT_TYPE!r}"
        wrapper, message = self._any(), self.cls()
        try:
            wrapper.ParseFromString(payload)
        except self._decode_error as exc:
            raise ValueError(f"{prefix}: the payload is not a google.protobuf.Any ({exc}).") from exc
        if not wrapper.Unpack(message):
            raise ValueError(f"{prefix}: the payload wraps {wrapper.TypeName()!r}.")
        return message

    def serialize(self, message: Any) -> bytes:
        """Wrap ``message`` in an ``Any`` and encode it."""
        self._check(message)
        wrapper = self._any()
        wrapper.Pack(message)
        return bytes(wrapper.SerializeToString())


def try_get_known_serializers_for_type(cls: type[Any]) -> list[MessageSerializer[Any]]:
    """Return the built-in serializers for ``cls`` (pydantic model, dataclass, protobuf message), else ``[]``.

    Pass the result to ``runtime.add_message_serializer`` to make a type sendable across processes.
    """
    target: Any = cls  # not trusted to be a class: handler annotations can be unions or generic aliases
    if not isinstance(target, type):
        return []
    base_model = _pydantic_base_model()
    if base_model is not None and issubclass(target, base_model):
        return [PydanticJsonMessageSerializer(target)]
    if dataclasses.is_dataclass(target):
        return [DataclassJsonMessageSerializer(target)]
    message_base = _protobuf_message()
    if message_base is not None and issubclass(target, message_base):
        return [ProtobufMessageSerializer(target)]
    return []


class SerializationRegistry:
    """Serializers keyed by ``(type_name, data_content_type)``: what a runtime uses on the wire.

    Lookups are single dict reads and :meth:`type_name` is cached per class, since both run per message.

    Args:
        unknown_payloads: Make :meth:`deserialize` return an :class:`UnknownPayload` for an unregistered
            type instead of raising (AutoGen's behaviour).
    """

    def __init__(self, *, unknown_payloads: bool = False) -> None:
        self._serializers: dict[tuple[str, str], MessageSerializer[Any]] = {}
        self._type_names: dict[type[Any], str] = {}
        self._unknown_payloads = unknown_payloads

    def add_serializer(self, serializer: MessageSerializer[Any] | Sequence[MessageSerializer[Any]]) -> None:
        """Register one serializer or several; a later one for the same key replaces the earlier one.

        Re-adding a built-in serializer of the same class keeps the registered one and its built schema.
        A serializer of a *different* class under a taken type name warns, since the two would be confused.
        """
        if isinstance(serializer, Sequence):
            for item in serializer:
                self.add_serializer(item)
            return
        key = (serializer.type_name, serializer.data_content_type)
        old = self._serializers.get(key)
        if old is not None and old is not serializer:
            old_cls, new_cls = getattr(old, "cls", None), getattr(serializer, "cls", None)
            if old_cls is new_cls and type(old) is type(serializer) and isinstance(old, _BuiltInSerializer):
                return
            if isinstance(old_cls, type) and isinstance(new_cls, type) and _qualified(old_cls) != _qualified(new_cls):
                warnings.warn(
                    f"Message type name {key[0]!r} ({key[1]}) now means {_qualified(new_cls)} instead of "
                    f"{_qualified(old_cls)}; rename one of the classes so both can cross processes.",
                    RuntimeWarning,
                    stacklevel=2,
                )
        self._serializers[key] = serializer

    def deserialize(self, payload: bytes, *, type_name: str, data_content_type: str) -> Any:
        """Decode ``payload`` with the serializer registered for ``(type_name, data_content_type)``.

        Raises:
            ValueError: Nothing is registered for that key (and not ``unknown_payloads``), or a bad payload.
        """
        serializer = self._serializers.get((type_name, data_content_type))
        if serializer is None:
            if self._unknown_payloads:
                return UnknownPayload(type_name, data_content_type, payload)
            raise self._unregistered("deserialize", type_name, data_content_type)
        return serializer.deserialize(payload)

    def serialize(self, message: Any, *, type_name: str, data_content_type: str) -> bytes:
        """Encode ``message`` with the serializer registered for ``(type_name, data_content_type)``.

        An :class:`UnknownPayload` is passed through as its bytes when the key is its own.

        Raises:
            ValueError: Nothing is registered for that key, or the message cannot be encoded.
        """
        key = (type_name, data_content_type)
        if type(message) is UnknownPayload and (message.type_name, message.data_content_type) == key:
            return message.payload
        serializer = self._serializers.get(key)
        if serializer is None:
            raise self._unregistered("serialize", type_name, data_content_type)
        return serializer.serialize(message)

    def is_registered(self, type_name: str, data_content_type: str) -> bool:
        """Return whether a serializer is registered for ``(type_name, data_content_type)``."""
        return (type_name, data_content_type) in self._serializers

    def type_name(self, message: Any) -> str:
        """Return the type name ``message`` travels under; an :class:`UnknownPayload` keeps its original one."""
        cls = type(message)
        name = self._type_names.get(cls)
        if name is None:
            if cls is UnknownPayload:
                return str(message.type_name)
            if isinstance(message, type):  # a class, not an instance: do not cache it under its metaclass
                return type_name_of(message)
            name = self._type_names[cls] = type_name_of(cls)
        return name

    def _unregistered(self, verb: str, type_name: str, data_content_type: str) -> ValueError:
        others = sorted(content for name, content in self._serializers if name == type_name)
        also = f" ({type_name!r} is registered only as {', '.join(others)})" if others else ""
        fix = (
            "Register it with runtime.add_message_serializer(try_get_known_serializers_for_type("
            f"{type_name.rsplit('.', 1)[-1]})). The types an agent's handlers accept are registered automatically "
            "when that agent type is registered in this process."
        )
        if verb == "deserialize":
            fix += " A registry created with unknown_payloads=True returns an UnknownPayload instead."
        return ValueError(
            f"Cannot {verb} {type_name!r} as {data_content_type!r}: no serializer is registered{also}. {fix}"
        )


def _qualified(cls: type[Any]) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"
