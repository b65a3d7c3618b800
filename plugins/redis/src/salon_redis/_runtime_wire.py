"""How messages, results and errors become stream fields and back, through the serialization registry only.

No pickle: a message is ``(type name, content type, bytes)`` from the kernel's
:class:`~salon.SerializationRegistry`. Results may also be ``None`` or plain JSON values (an RPC that
returns a string needs no serializer), and errors travel as JSON describing the exception.
"""

from __future__ import annotations

import json
import sys
import traceback
from typing import Any

from salon import JSON_DATA_CONTENT_TYPE, SerializationRegistry, try_get_known_serializers_for_type
from salon.exceptions import RemoteException

__all__ = ["Encoded", "decode_error", "decode_value", "encode_error", "encode_message", "encode_value"]

_NONE = "!none"
_JSON = "!json"
_PLAIN = (str, int, float, bool, list, dict)


def _qualified(cls: type[Any]) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def encode_message(registry: SerializationRegistry, message: Any) -> tuple[str, str, bytes]:
    """Serialize a message with the registry, teaching it the message's built-in serializer if needed.

    Raises:
        ValueError: the message's type has no serializer and is not a dataclass, pydantic model or
            protobuf message (the error says how to register one).
    """
    type_name = registry.type_name(message)
    if not registry.is_registered(type_name, JSON_DATA_CONTENT_TYPE):
        known = try_get_known_serializers_for_type(type(message))
        if known:
            registry.add_serializer(known)
            content_type = known[0].data_content_type
            return (
                type_name,
                content_type,
                registry.serialize(message, type_name=type_name, data_content_type=content_type),
            )
        registered = [ct for ct in ("application/x-protobuf",) if registry.is_registered(type_name, ct)]
        if registered:
            return (
                type_name,
                registered[0],
                registry.serialize(message, type_name=type_name, data_content_type=registered[0]),
            )
    return (
        type_name,
        JSON_DATA_CONTENT_TYPE,
        registry.serialize(message, type_name=type_name, data_content_type=JSON_DATA_CONTENT_TYPE),
    )


Encoded = tuple[list[str], bytes]
"""An RPC result on the wire: its description (type name, content type, qualified class) and its payload."""


def encode_value(registry: SerializationRegistry, value: Any) -> Encoded:
    """An RPC result: ``None``, a plain JSON value, or a registered message type.

    Raises:
        ValueError: the value is neither (the message says why).
    """
    if value is None:
        return [_NONE], b""
    if type(value) in _PLAIN:
        try:
            return [_JSON], json.dumps(value).encode()
        except (TypeError, ValueError) as e:
            raise ValueError(f"The handler's result {value!r} is not JSON data and cannot cross processes: {e}") from e
    type_name, content_type, payload = encode_message(registry, value)
    return [type_name, content_type, _qualified(type(value))], payload


def decode_value(registry: SerializationRegistry, encoded: Encoded | tuple[list[str], bytes]) -> Any:
    """The result described by :func:`encode_value`.

    A result type this process never registered is looked up by its qualified name among the modules
    already imported here (nothing is imported because of wire data), then registered.

    Raises:
        ValueError: no serializer for the result's type is known here.
    """
    described, payload = encoded
    type_name = described[0]
    if type_name == _NONE:
        return None
    if type_name == _JSON:
        return json.loads(payload)
    content_type = described[1]
    if not registry.is_registered(type_name, content_type) and len(described) > 2:
        cls = _lookup(described[2])
        if isinstance(cls, type):
            registry.add_serializer(try_get_known_serializers_for_type(cls))
    return registry.deserialize(payload, type_name=type_name, data_content_type=content_type)


def _lookup(qualified: str) -> Any:
    module_name, _, qualname = qualified.partition(":")
    target: Any = sys.modules.get(module_name)
    for part in qualname.split("."):
        if target is None or part == "<locals>":
            return None
        target = getattr(target, part, None)
    return target


def encode_error(error: BaseException) -> bytes:
    """Describe an exception as JSON: qualified type, args (if JSON data), message and traceback text."""
    args: list[Any] | None
    try:
        args = json.loads(json.dumps(list(error.args)))
    except (TypeError, ValueError):
        args = None
    cls = type(error)
    return json.dumps(
        {
            "type": _qualified(cls),
            "args": args,
            "message": str(error),
            "traceback": "".join(traceback.format_exception(error)),
        }
    ).encode()


def decode_error(data: bytes) -> Exception:
    """Rebuild an exception with its original type where possible, else a :class:`RemoteException`.

    The original type is used when its module is already imported here, it is an ``Exception`` and it
    can be built from the remote ``args``; the remote traceback is attached as a note.
    """
    described = json.loads(data)
    qualified, message, remote_tb = described["type"], described["message"], described["traceback"]
    cls = _lookup(qualified)
    if isinstance(cls, type) and issubclass(cls, Exception) and described["args"] is not None:
        try:
            error = cls(*described["args"])
        except Exception:  # a constructor with other parameters: fall back to RemoteException
            pass
        else:
            error.add_note(f"Raised in another process:\n{remote_tb}")
            return error
    return RemoteException(qualified.replace(":", "."), message, remote_tb)
