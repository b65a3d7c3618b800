"""What crosses the wire: results and errors keep their meaning, and nothing needs pickle."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from salon import SerializationRegistry
from salon.exceptions import CantHandleException, RemoteException
from salon_redis._runtime_wire import decode_error, decode_value, encode_error, encode_message, encode_value

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


@dataclass
class Reading:
    """A result type the receiving side may not have registered yet."""

    sensor: str
    values: list[float]


class NeedsTwoArguments(Exception):
    """An exception that cannot be rebuilt from its ``args``."""

    def __init__(self, code: int, detail: str) -> None:
        super().__init__(f"{code}: {detail}")


@given(json_values)
def test_plain_json_results_round_trip(value: Any) -> None:
    fields = encode_value(SerializationRegistry(), value)
    assert decode_value(SerializationRegistry(), fields) == value


def test_a_dataclass_result_is_found_by_its_qualified_name_on_the_caller_side() -> None:
    sender, caller = SerializationRegistry(), SerializationRegistry()
    fields = encode_value(sender, Reading("t1", [1.5, 2.0]))
    assert not caller.is_registered("Reading", "application/json")
    assert decode_value(caller, fields) == Reading("t1", [1.5, 2.0])


def test_a_result_that_is_not_json_data_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="not JSON data"):
        encode_value(SerializationRegistry(), {"when": object()})


def test_messages_go_through_the_registry_as_json() -> None:
    registry = SerializationRegistry()
    type_name, content_type, payload = encode_message(registry, Reading("t", [1.0]))
    assert (type_name, content_type, json.loads(payload)) == (
        "Reading",
        "application/json",
        {"sensor": "t", "values": [1.0]},
    )
    assert registry.deserialize(payload, type_name=type_name, data_content_type=content_type) == Reading("t", [1.0])


@pytest.mark.parametrize(
    "error", [ValueError("bad value"), KeyError("missing"), CantHandleException("nobody handles Reading")]
)
def test_an_importable_exception_keeps_its_type_message_and_a_note_with_the_remote_traceback(error: Exception) -> None:
    try:
        raise error
    except Exception as raised:
        data = encode_error(raised)
    rebuilt = decode_error(data)
    assert type(rebuilt) is type(error) and rebuilt.args == error.args
    assert any("Raised in another process" in note and "Traceback" in note for note in rebuilt.__notes__)


def test_an_exception_that_cannot_be_rebuilt_arrives_as_remote_exception() -> None:
    try:
        raise NeedsTwoArguments(7, "disk full")
    except NeedsTwoArguments as raised:
        data = encode_error(raised)
    rebuilt = decode_error(data)
    assert isinstance(rebuilt, RemoteException)
    assert rebuilt.type_name == f"{__name__}.NeedsTwoArguments"
    assert str(rebuilt) == f"{__name__}.NeedsTwoArguments: 7: disk full"
    assert "NeedsTwoArguments" in rebuilt.remote_traceback


def test_an_exception_from_a_module_not_imported_here_is_not_imported_because_of_wire_data() -> None:
    data = json.dumps(
        {"type": "antigravity:Fly", "args": ["up"], "message": "up", "traceback": "Traceback: ..."}
    ).encode()
    rebuilt = decode_error(data)
    assert isinstance(rebuilt, RemoteException) and rebuilt.type_name == "antigravity.Fly"
    import sys

    assert "antigravity" not in sys.modules
