"""Structured messages: pydantic content, format strings, and content models generated from JSON schemas."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from salon.models import UserMessage
from salon_agentchat.messages import MessageFactory, StructuredMessage, StructuredMessageFactory


class Verdict(BaseModel):
    verdict: str
    score: int


def test_type_names_the_parametrised_class() -> None:
    message = StructuredMessage[Verdict](content=Verdict(verdict="ok", score=3), source="critic")
    assert message.type == "StructuredMessage[Verdict]"
    assert message.dump()["type"] == "StructuredMessage[Verdict]"
    assert message.dump()["content"] == {"verdict": "ok", "score": 3}


def test_renders_as_json_or_through_the_format_string() -> None:
    content = Verdict(verdict="good", score=9)
    plain = StructuredMessage[Verdict](content=content, source="a")
    assert plain.to_text() == plain.to_model_text() == '{"verdict":"good","score":9}'
    formatted = StructuredMessage[Verdict](content=content, source="a", format_string="{verdict} ({score}/10)")
    assert formatted.to_text() == formatted.to_model_text() == "good (9/10)"
    # The model always reads the whole content, whatever the display format drops.
    assert formatted.to_model_message() == UserMessage(content='{"verdict":"good","score":9}', source="a")


def test_round_trips_through_json_and_a_message_factory() -> None:
    message = StructuredMessage[Verdict](content=Verdict(verdict="x", score=1), source="a", format_string="{verdict}")
    data = json.loads(json.dumps(message.dump()))
    assert StructuredMessage[Verdict].load(data) == message
    factory = MessageFactory()
    factory.register(StructuredMessage[Verdict])
    loaded = factory.create(data)
    assert isinstance(loaded, StructuredMessage) and loaded == message
    assert isinstance(loaded.content, Verdict)


def test_content_is_validated_against_its_model() -> None:
    with pytest.raises(ValidationError, match="score"):
        StructuredMessage[Verdict].load({"source": "a", "content": {"verdict": "x", "score": "many"}})


def test_factory_from_a_model_class() -> None:
    factory = StructuredMessageFactory(input_model=Verdict, format_string="{verdict}!")
    assert factory.ContentModel is Verdict
    assert factory.StructuredMessage is StructuredMessage[Verdict]
    message = factory.StructuredMessage(
        content=Verdict(verdict="yes", score=1), source="a", format_string=factory.format_string
    )
    assert message.to_text() == "yes!"


def test_factory_needs_a_model_or_a_schema() -> None:
    with pytest.raises(ValueError, match=r"input_model=.*json_schema="):
        StructuredMessageFactory()


def test_factory_from_a_models_own_schema_accepts_the_same_data() -> None:
    class Address(BaseModel):
        city: str
        zip_code: str | None = None

    class Person(BaseModel):
        name: str
        age: int
        tags: list[str]
        home: Address
        role: str = "member"

    factory = StructuredMessageFactory(json_schema=Person.model_json_schema(), content_model_name="PersonDyn")
    Generated = factory.ContentModel
    assert Generated.__name__ == "PersonDyn"
    data: dict[str, Any] = {"name": "Ada", "age": 36, "tags": ["math"], "home": {"city": "London"}}
    instance = Generated.model_validate(data)
    assert instance.model_dump()["home"] == {"city": "London", "zip_code": None}
    with pytest.raises(ValidationError):
        Generated.model_validate({**data, "age": "old"})
    with pytest.raises(ValidationError):
        Generated.model_validate({"name": "Ada"})
    message = factory.StructuredMessage(content=instance, source="a")
    assert message.type == "StructuredMessage[PersonDyn]"
    assert json.loads(message.to_model_text())["home"]["city"] == "London"


def test_factory_schema_constructs() -> None:
    schema = {
        "type": "object",
        "properties": {
            "mood": {"enum": ["happy", "sad"]},
            "count": {"type": ["integer", "null"]},
            "ratio": {"type": "number", "default": 0.5},
            "flags": {"type": "object", "additionalProperties": {"type": "boolean"}},
            "either": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
        },
        "required": ["mood", "count"],
    }
    Model = StructuredMessageFactory(json_schema=schema).ContentModel
    assert Model.__name__ == "GeneratedContentModel"
    made = Model.model_validate({"mood": "happy", "count": None, "flags": {"a": True}, "either": 3})
    assert made.model_dump() == {"mood": "happy", "count": None, "ratio": 0.5, "flags": {"a": True}, "either": 3}
    with pytest.raises(ValidationError):
        Model.model_validate({"mood": "angry", "count": 1})


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        ({"type": "array"}, "must describe an object"),
        ({"type": "object", "properties": {"x": {"$ref": "#/$defs/Missing"}}}, "names no definition"),
        ({"type": "object", "properties": {"x": {"$ref": "http://example.com/s.json"}}}, "only local references"),
        ({"type": "object", "properties": {"x": {"type": "frobnicate"}}}, "not supported"),
    ],
)
def test_unsupported_schemas_are_errors(schema: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        StructuredMessageFactory(json_schema=schema)
