"""Tests for the message serialization registry (salon._serialization)."""

from __future__ import annotations

import subprocess
import sys
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from typing import Any, Literal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from salon._serialization import (
    JSON_DATA_CONTENT_TYPE,
    PROTOBUF_DATA_CONTENT_TYPE,
    DataclassJsonMessageSerializer,
    MessageSerializer,
    PydanticJsonMessageSerializer,
    SerializationRegistry,
    UnknownPayload,
    try_get_known_serializers_for_type,
    type_name_of,
)

# --- message types ------------------------------------------------------------------------------------------


class Color(Enum):
    RED = "red"
    BLUE = "blue"


@dataclass
class Leaf:
    n: int
    text: str
    ratio: float
    flag: bool = False


@dataclass
class Tree:
    name: str
    leaf: Leaf
    leaves: list[Leaf]
    maybe: Leaf | None
    counts: dict[str, int]
    color: Color
    when: datetime
    kind: Literal["a", "b"]
    children: list[Tree] = field(default_factory=list)


@dataclass
class SubLeaf(Leaf):
    extra: str = "x"


class PLeaf(BaseModel):
    n: int
    text: str
    ratio: float


class PTree(BaseModel):
    name: str
    leaf: PLeaf
    leaves: list[PLeaf]
    maybe: PLeaf | None
    dc: Leaf
    children: list[PTree] = []


@dataclass
class Mixed:
    model: PLeaf
    models: list[PLeaf]
    optional_tree: Tree | None = None


class Aliased(BaseModel):
    value: int = Field(alias="Value")


@dataclass
class WithAliased:
    inner: Aliased
    many: list[Aliased]


@dataclass
class Holder:
    label: str
    extra: Any = None
    items: list[Any] = field(default_factory=list)


class PHolder(BaseModel):
    label: str
    extra: Any = None


@dataclass
class HasLock:
    name: str
    lock: threading.Lock


class _Opaque:
    """A class pydantic has no JSON form for."""


class InfModel(BaseModel):
    model_config = ConfigDict(ser_json_inf_nan="constants")
    ratio: float
    dc: Leaf


@dataclass
class Dangling:
    ref: NotDefinedAnywhere  # type: ignore[name-defined]  # noqa: F821


def _dc_roundtrip(value: Any) -> Any:
    serializer = DataclassJsonMessageSerializer(type(value))
    return serializer.deserialize(serializer.serialize(value))


def _model_roundtrip(value: BaseModel) -> BaseModel:
    serializer = PydanticJsonMessageSerializer(type(value))
    return serializer.deserialize(serializer.serialize(value))


def _registry(*types: type[Any], unknown_payloads: bool = False) -> SerializationRegistry:
    registry = SerializationRegistry(unknown_payloads=unknown_payloads)
    for cls in types:
        registry.add_serializer(try_get_known_serializers_for_type(cls))
    return registry


# --- import cost ---------------------------------------------------------------------------------------------


def test_importing_the_module_imports_neither_pydantic_nor_protobuf() -> None:
    # Load the module file alone in a fresh interpreter, so the rest of the package cannot mask (or cause) imports.
    code = (
        "import importlib.util, pathlib, sys\n"
        "path = pathlib.Path(importlib.util.find_spec('salon').origin).parent / '_serialization.py'\n"
        "spec = importlib.util.spec_from_file_location('serialization_probe', path)\n"
        "module = importlib.util.module_from_spec(spec)\n"
        "sys.modules['serialization_probe'] = module\n"
        "spec.loader.exec_module(module)\n"
        "assert module.try_get_known_serializers_for_type(int) == []\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in {'pydantic', 'pydantic_core', 'google'})\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --- type names and serializer discovery ---------------------------------------------------------------------


def test_type_name_of_class_and_instance() -> None:
    assert type_name_of(Leaf) == "Leaf"
    assert type_name_of(Leaf(1, "a", 0.5)) == "Leaf"
    assert type_name_of(PLeaf) == "PLeaf"


def test_registry_type_name_is_stable_and_handles_classes_and_unknown_payloads() -> None:
    registry = SerializationRegistry()
    assert registry.type_name(Leaf(1, "a", 0.5)) == "Leaf"
    assert registry.type_name(Leaf(2, "b", 1.5)) == "Leaf"
    assert registry.type_name(Leaf) == "Leaf"
    assert registry.type_name(PLeaf) == "PLeaf"  # a class whose metaclass is pydantic's, not cached as "type"
    assert registry.type_name(PLeaf(n=1, text="t", ratio=0.0)) == "PLeaf"
    assert registry.type_name(UnknownPayload("Remote", JSON_DATA_CONTENT_TYPE, b"{}")) == "Remote"
    assert registry.type_name(UnknownPayload("Other", JSON_DATA_CONTENT_TYPE, b"{}")) == "Other"


def test_known_serializers_for_each_kind() -> None:
    (dc,) = try_get_known_serializers_for_type(Tree)
    assert isinstance(dc, DataclassJsonMessageSerializer)
    assert (dc.type_name, dc.data_content_type) == ("Tree", JSON_DATA_CONTENT_TYPE)
    (model,) = try_get_known_serializers_for_type(PTree)
    assert isinstance(model, PydanticJsonMessageSerializer)
    assert (model.type_name, model.data_content_type) == ("PTree", JSON_DATA_CONTENT_TYPE)


@pytest.mark.parametrize("cls", [int, str, object, list[int], Leaf | None, Literal["a"]])
def test_no_known_serializer_for_other_types(cls: Any) -> None:
    assert try_get_known_serializers_for_type(cls) == []


def test_serializer_constructors_refuse_wrong_kinds() -> None:
    with pytest.raises(ValueError, match="needs a dataclass type, got <class 'int'>"):
        DataclassJsonMessageSerializer(int)  # type: ignore[type-var]
    with pytest.raises(ValueError, match="needs a pydantic BaseModel subclass"):
        PydanticJsonMessageSerializer(Leaf)  # type: ignore[type-var]


# --- example round trips ---------------------------------------------------------------------------------------

WHEN = datetime(2024, 5, 17, 12, 30, 15, 123456, tzinfo=UTC)


def _tree() -> Tree:
    child = Tree("child", Leaf(2, "c", -1.5), [], None, {}, Color.BLUE, datetime(1999, 1, 1), "b")
    return Tree(
        name="root",
        leaf=Leaf(1, "ünïcode ✓", 0.25, True),
        leaves=[Leaf(3, "", 1e300), Leaf(-(2**70), "big", -0.0)],
        maybe=Leaf(4, "m", 2.0),
        counts={"a": 1, "": -2},
        color=Color.RED,
        when=WHEN,
        kind="a",
        children=[child],
    )


def test_nested_dataclass_round_trip_keeps_types() -> None:
    tree = _tree()
    back = _dc_roundtrip(tree)
    assert back == tree
    assert type(back.leaf) is Leaf
    assert type(back.children[0]) is Tree
    assert back.color is Color.RED
    assert back.when == WHEN
    assert back.when.tzinfo is not None


def test_dataclass_round_trips_infinities_like_json_dumps() -> None:
    value = Leaf(1, "inf", float("inf"))
    payload = DataclassJsonMessageSerializer(Leaf).serialize(value)
    assert b"Infinity" in payload
    assert _dc_roundtrip(value) == value
    assert _dc_roundtrip(Leaf(1, "ninf", float("-inf"))).ratio == float("-inf")


def test_models_inside_dataclasses_and_dataclasses_inside_models() -> None:
    mixed = Mixed(PLeaf(n=1, text="a", ratio=0.5), [PLeaf(n=2, text="b", ratio=1.0)], _tree())
    assert _dc_roundtrip(mixed) == mixed
    ptree = PTree(
        name="p",
        leaf=PLeaf(n=1, text="x", ratio=0.1),
        leaves=[],
        maybe=None,
        dc=Leaf(5, "dc", 3.0),
        children=[PTree(name="c", leaf=PLeaf(n=2, text="y", ratio=0.2), leaves=[], maybe=None, dc=Leaf(6, "", 0.0))],
    )
    assert _model_roundtrip(ptree) == ptree


def test_infinities_inside_a_model_follow_the_models_json_config() -> None:
    value = PTree(name="p", leaf=PLeaf(n=1, text="", ratio=0.0), leaves=[], maybe=None, dc=Leaf(1, "", float("inf")))
    with pytest.raises(ValueError, match=r"field 'dc\.ratio'"):  # pydantic's default writes inf as null
        _model_roundtrip(value)
    configured = InfModel(ratio=float("-inf"), dc=Leaf(1, "", float("inf")))
    assert _model_roundtrip(configured) == configured


def test_pydantic_model_with_alias_round_trips() -> None:
    value = Aliased(Value=3)
    payload = PydanticJsonMessageSerializer(Aliased).serialize(value)
    assert payload == b'{"Value":3}'
    assert _model_roundtrip(value) == value
    wrapped = WithAliased(value, [Aliased(Value=4)])
    assert _dc_roundtrip(wrapped) == wrapped


def test_subclass_instance_in_a_field_comes_back_as_the_declared_type() -> None:
    tree = Tree("r", SubLeaf(1, "s", 0.0, extra="dropped"), [], None, {}, Color.RED, WHEN, "a")
    back = _dc_roundtrip(tree)
    assert type(back.leaf) is Leaf
    assert back.leaf == Leaf(1, "s", 0.0)


def test_registry_round_trip_and_is_registered() -> None:
    registry = _registry(Tree, PTree)
    assert registry.is_registered("Tree", JSON_DATA_CONTENT_TYPE)
    assert registry.is_registered("PTree", JSON_DATA_CONTENT_TYPE)
    assert not registry.is_registered("Tree", PROTOBUF_DATA_CONTENT_TYPE)
    assert not registry.is_registered("Leaf", JSON_DATA_CONTENT_TYPE)
    tree = _tree()
    name = registry.type_name(tree)
    payload = registry.serialize(tree, type_name=name, data_content_type=JSON_DATA_CONTENT_TYPE)
    assert registry.deserialize(payload, type_name=name, data_content_type=JSON_DATA_CONTENT_TYPE) == tree


class _UpperSerializer:
    """A user-written serializer satisfying the MessageSerializer protocol structurally."""

    @property
    def data_content_type(self) -> str:
        return "text/plain"

    @property
    def type_name(self) -> str:
        return "str"

    def deserialize(self, payload: bytes) -> str:
        return payload.decode().lower()

    def serialize(self, message: str) -> bytes:
        return message.upper().encode()


def test_custom_serializer_is_used() -> None:
    custom: MessageSerializer[str] = _UpperSerializer()
    registry = SerializationRegistry()
    registry.add_serializer([custom])
    assert registry.serialize("hi", type_name="str", data_content_type="text/plain") == b"HI"
    assert registry.deserialize(b"HI", type_name="str", data_content_type="text/plain") == "hi"


# --- registration details --------------------------------------------------------------------------------------


def test_readding_a_built_in_serializer_for_the_same_class_keeps_the_first() -> None:
    registry = SerializationRegistry()
    (first,) = try_get_known_serializers_for_type(Leaf)
    registry.add_serializer(first)
    registry.add_serializer(try_get_known_serializers_for_type(Leaf))
    assert registry._serializers[("Leaf", JSON_DATA_CONTENT_TYPE)] is first


def test_two_classes_with_one_type_name_warn_and_the_later_wins() -> None:
    def make() -> type[Any]:
        @dataclass
        class Leaf:  # same __name__ as the module-level Leaf, different class
            other: str

        return Leaf

    registry = _registry(Leaf)
    with pytest.warns(RuntimeWarning, match=r"'Leaf'.*make.<locals>.Leaf instead of .*test_serialization.Leaf"):
        registry.add_serializer(try_get_known_serializers_for_type(make()))
    back = registry.deserialize(b'{"other": "o"}', type_name="Leaf", data_content_type=JSON_DATA_CONTENT_TYPE)
    assert back.other == "o"


# --- unknown types -----------------------------------------------------------------------------------------------


def test_serialize_unregistered_type_explains_the_fix() -> None:
    registry = SerializationRegistry()
    with pytest.raises(ValueError, match="Cannot serialize 'Leaf' as 'application/json'") as info:
        registry.serialize(Leaf(1, "a", 0.0), type_name="Leaf", data_content_type=JSON_DATA_CONTENT_TYPE)
    text = str(info.value)
    assert "runtime.add_message_serializer(try_get_known_serializers_for_type(Leaf))" in text
    assert "registered automatically" in text
    assert "UnknownPayload" not in text


def test_deserialize_unregistered_type_raises_by_default() -> None:
    registry = SerializationRegistry()
    with pytest.raises(ValueError, match="Cannot deserialize 'Leaf' as 'application/json'") as info:
        registry.deserialize(b"{}", type_name="Leaf", data_content_type=JSON_DATA_CONTENT_TYPE)
    text = str(info.value)
    assert "try_get_known_serializers_for_type(Leaf)" in text
    assert "unknown_payloads=True" in text


def test_unregistered_error_mentions_other_content_types_of_the_same_name() -> None:
    registry = _registry(Leaf)
    with pytest.raises(ValueError, match="'Leaf' is registered only as application/json"):
        registry.deserialize(b"", type_name="Leaf", data_content_type=PROTOBUF_DATA_CONTENT_TYPE)


def test_unknown_payloads_option_returns_unknown_payload_and_forwards_it_unchanged() -> None:
    registry = SerializationRegistry(unknown_payloads=True)
    raw = b'{"anything": [1, 2]}'
    got = registry.deserialize(raw, type_name="Remote", data_content_type=JSON_DATA_CONTENT_TYPE)
    assert got == UnknownPayload("Remote", JSON_DATA_CONTENT_TYPE, raw)
    name = registry.type_name(got)
    assert registry.serialize(got, type_name=name, data_content_type=got.data_content_type) == raw
    # Serializing stays strict, as in AutoGen: an unknown payload cannot be re-encoded as something else.
    with pytest.raises(ValueError, match="Cannot serialize 'Remote' as 'text/plain'"):
        registry.serialize(got, type_name="Remote", data_content_type="text/plain")


# --- malformed payloads and unserializable values ------------------------------------------------------------------


def test_invalid_json_names_type_and_problem_and_chains_the_cause() -> None:
    registry = _registry(Leaf)
    with pytest.raises(
        ValueError, match=r"Cannot deserialize 'Leaf' from 'application/json': payload: Invalid JSON"
    ) as info:
        registry.deserialize(b'{"n": ', type_name="Leaf", data_content_type=JSON_DATA_CONTENT_TYPE)
    assert isinstance(info.value.__cause__, ValidationError)


def test_mismatched_payload_names_each_bad_field_with_its_path() -> None:
    registry = _registry(Tree)
    payload = (
        b'{"name": "r", "leaf": {"n": "NaN-int", "text": "t", "ratio": 1}, "leaves": [{"n": 1, "text": "", "ratio": 0},'
        b' {"text": "", "ratio": 0}], "maybe": null, "counts": {}, "color": "green", "when": "2024-01-01T00:00:00",'
        b' "kind": "a"}'
    )
    with pytest.raises(ValueError, match="Cannot deserialize 'Tree'") as info:
        registry.deserialize(payload, type_name="Tree", data_content_type=JSON_DATA_CONTENT_TYPE)
    text = str(info.value)
    assert "field 'leaf.n': Input should be a valid integer" in text
    assert "field 'leaves[1].n': Field required" in text
    assert "field 'color'" in text
    assert isinstance(info.value.__cause__, ValidationError)


def test_pydantic_payload_errors_name_the_field() -> None:
    serializer = PydanticJsonMessageSerializer(PLeaf)
    with pytest.raises(ValueError, match=r"Cannot deserialize 'PLeaf'.*field 'ratio': Input should be a valid number"):
        serializer.deserialize(b'{"n": 1, "text": "t", "ratio": "x"}')
    with pytest.raises(ValueError, match="payload: Input should be an object"):
        serializer.deserialize(b"[1, 2]")


def test_too_many_errors_are_summarised() -> None:
    serializer = DataclassJsonMessageSerializer(Tree)
    with pytest.raises(ValueError, match=r"\(and \d+ more\)"):
        serializer.deserialize(b"{}")


def test_any_field_holding_a_non_json_value_is_refused_at_serialize_time() -> None:
    serializer = DataclassJsonMessageSerializer(Holder)
    assert serializer.deserialize(serializer.serialize(Holder("ok", {"a": [1, None]}))) == Holder(
        "ok", {"a": [1, None]}
    )
    with pytest.raises(ValueError, match="Cannot serialize Holder to JSON: field 'extra' holds a value of type object"):
        serializer.serialize(Holder("bad", object()))
    with pytest.raises(ValueError, match=r"field 'items\[2\]\.extra' holds a value of type lock"):
        serializer.serialize(Holder("nested", None, [1, "two", Holder("inner", threading.Lock())]))
    with pytest.raises(ValueError, match=r"field 'extra\['k'\]\[0\]' holds a value of type _Opaque") as info:
        serializer.serialize(Holder("dict", {"k": [_Opaque()]}))
    assert info.value.__cause__ is not None


def test_a_cycle_is_reported_not_recursed_into() -> None:
    looped = Holder("loop")
    looped.items.append(looped)
    with pytest.raises(ValueError, match=r"Cannot serialize Holder to JSON: .*[Cc]ircular reference"):
        DataclassJsonMessageSerializer(Holder).serialize(looped)


def test_pydantic_model_holding_a_non_json_value_names_the_field() -> None:
    with pytest.raises(
        ValueError, match="Cannot serialize PHolder to JSON: field 'extra' holds a value of type object"
    ):
        PydanticJsonMessageSerializer(PHolder).serialize(PHolder(label="x", extra=object()))


def test_dataclass_with_a_field_type_pydantic_cannot_read_names_the_field() -> None:
    serializer = DataclassJsonMessageSerializer(HasLock)
    with pytest.raises(
        ValueError, match="Cannot deserialize dataclass HasLock: field 'lock' has a type with no JSON schema"
    ):
        serializer.deserialize(b'{"name": "n", "lock": null}')


def test_dataclass_with_an_unresolvable_annotation_is_refused_clearly() -> None:
    with pytest.raises(ValueError, match="Cannot deserialize dataclass Dangling: its annotations cannot be resolved"):
        DataclassJsonMessageSerializer(Dangling).deserialize(b'{"ref": 1}')


def test_serializing_the_wrong_class_is_refused() -> None:
    with pytest.raises(ValueError, match="DataclassJsonMessageSerializer for Leaf cannot serialize a Holder instance"):
        DataclassJsonMessageSerializer(Leaf).serialize(Holder("x"))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="PydanticJsonMessageSerializer for PLeaf cannot serialize a Aliased instance"):
        PydanticJsonMessageSerializer(PLeaf).serialize(Aliased(Value=1))  # type: ignore[arg-type]


# --- property tests -----------------------------------------------------------------------------------------------

texts = st.text(max_size=20)
ints = st.integers()
finite = st.floats(allow_nan=False, allow_infinity=False)
floats_no_nan = st.floats(allow_nan=False)
datetimes = st.datetimes(timezones=st.none() | st.just(UTC))

leaves = st.builds(Leaf, n=ints, text=texts, ratio=floats_no_nan, flag=st.booleans())


def _tree_node(children: st.SearchStrategy[list[Tree]]) -> st.SearchStrategy[Tree]:
    return st.builds(
        Tree,
        name=texts,
        leaf=leaves,
        leaves=st.lists(leaves, max_size=3),
        maybe=st.none() | leaves,
        counts=st.dictionaries(texts, ints, max_size=3),
        color=st.sampled_from(Color),
        when=datetimes,
        kind=st.sampled_from(["a", "b"]),
        children=children,
    )


trees = st.recursive(_tree_node(st.just([])), lambda inner: _tree_node(st.lists(inner, max_size=2)), max_leaves=6)

pleaves = st.builds(PLeaf, n=ints, text=texts, ratio=finite)


def _ptree_node(children: st.SearchStrategy[list[PTree]]) -> st.SearchStrategy[PTree]:
    return st.builds(
        PTree,
        name=texts,
        leaf=pleaves,
        leaves=st.lists(pleaves, max_size=3),
        maybe=st.none() | pleaves,
        dc=st.builds(Leaf, n=ints, text=texts, ratio=finite),  # the model's JSON config decides infinities
        children=children,
    )


ptrees = st.recursive(_ptree_node(st.just([])), lambda inner: _ptree_node(st.lists(inner, max_size=2)), max_leaves=6)


@settings(max_examples=150, deadline=None)
@given(trees)
def test_property_dataclass_round_trip(tree: Tree) -> None:
    assert _dc_roundtrip(tree) == tree


@settings(max_examples=150, deadline=None)
@given(ptrees)
def test_property_pydantic_round_trip(tree: PTree) -> None:
    assert _model_roundtrip(tree) == tree


@settings(max_examples=100, deadline=None)
@given(st.builds(Mixed, model=pleaves, models=st.lists(pleaves, max_size=3), optional_tree=st.none() | trees))
def test_property_mixed_round_trip_through_registry(value: Mixed) -> None:
    registry = _registry(Mixed)
    name = registry.type_name(value)
    payload = registry.serialize(value, type_name=name, data_content_type=JSON_DATA_CONTENT_TYPE)
    assert registry.deserialize(payload, type_name=name, data_content_type=JSON_DATA_CONTENT_TYPE) == value


@settings(max_examples=100, deadline=None)
@given(type_name=texts, payload=st.binary(max_size=64))
def test_property_unknown_payload_forwarding_is_lossless(type_name: str, payload: bytes) -> None:
    registry = SerializationRegistry(unknown_payloads=True)
    got = registry.deserialize(payload, type_name=type_name, data_content_type=JSON_DATA_CONTENT_TYPE)
    assert (
        registry.serialize(got, type_name=registry.type_name(got), data_content_type=JSON_DATA_CONTENT_TYPE) == payload
    )


# --- protobuf (only where protobuf is installed) ---------------------------------------------------------------------


def test_protobuf_round_trip_and_errors() -> None:
    wrappers = pytest.importorskip("google.protobuf.wrappers_pb2")
    (serializer,) = try_get_known_serializers_for_type(wrappers.StringValue)
    assert (serializer.type_name, serializer.data_content_type) == (
        "google.protobuf.StringValue",
        PROTOBUF_DATA_CONTENT_TYPE,
    )
    assert type_name_of(wrappers.StringValue(value="v")) == "google.protobuf.StringValue"
    value = wrappers.StringValue(value="hello")
    assert serializer.deserialize(serializer.serialize(value)) == value

    registry = _registry(wrappers.StringValue, wrappers.Int32Value)
    other = registry.serialize(
        wrappers.Int32Value(value=3),
        type_name="google.protobuf.Int32Value",
        data_content_type=PROTOBUF_DATA_CONTENT_TYPE,
    )
    with pytest.raises(
        ValueError, match=r"Cannot deserialize 'google.protobuf.StringValue'.*wraps 'google.protobuf.Int32Value'"
    ):
        serializer.deserialize(other)
    with pytest.raises(ValueError, match=r"not a google\.protobuf\.Any"):
        serializer.deserialize(b"\xff\xff\xff")
    with pytest.raises(ValueError, match="cannot serialize a Int32Value instance"):
        serializer.serialize(wrappers.Int32Value(value=3))
