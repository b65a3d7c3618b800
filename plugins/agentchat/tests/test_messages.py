"""AgentChat messages: defaults, text renderings, and JSON round trips in AutoGen's shape."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image as PILImage
from pydantic import TypeAdapter, ValidationError

from salon import FunctionCall, Image
from salon.code_executor import CodeBlock, CodeResult
from salon.memory import MemoryContent, MemoryMimeType
from salon.models import AssistantMessage, FunctionExecutionResult, RequestUsage, UserMessage
from salon_agentchat.messages import (
    AgentEvent,
    BaseAgentEvent,
    BaseChatMessage,
    BaseMessage,
    BaseTextChatMessage,
    ChatMessage,
    CodeExecutionEvent,
    CodeGenerationEvent,
    HandoffMessage,
    MemoryQueryEvent,
    MessageFactory,
    ModelClientStreamingChunkEvent,
    MultiModalMessage,
    SelectorEvent,
    SelectSpeakerEvent,
    StopMessage,
    TextMessage,
    ThoughtEvent,
    ToolCallExecutionEvent,
    ToolCallRequestEvent,
    ToolCallSummaryMessage,
    UserInputRequestedEvent,
)


def red_square() -> Image:
    return Image.from_pil(PILImage.new("RGB", (4, 4), (255, 0, 0)))


def examples() -> list[BaseAgentEvent | BaseChatMessage]:
    """One instance of every built-in message type the factory knows, with non-default fields set."""
    call = FunctionCall(id="c1", arguments='{"city": "Paris"}', name="weather")
    result = FunctionExecutionResult(content="sunny", name="weather", call_id="c1", is_error=False)
    return [
        TextMessage(content="hello", source="user", metadata={"k": "v"}, models_usage=RequestUsage(3, 4)),
        MultiModalMessage(content=["look", red_square(), "there"], source="user"),
        StopMessage(content="done", source="critic"),
        HandoffMessage(
            content="over to you",
            target="flights",
            source="triage",
            context=[
                UserMessage(content="book it", source="user"),
                AssistantMessage(content=[call], source="triage"),
            ],
        ),
        ToolCallSummaryMessage(content="sunny", source="a", tool_calls=[call], results=[result]),
        ToolCallRequestEvent(content=[call], source="a"),
        ToolCallExecutionEvent(content=[result], source="a"),
        MemoryQueryEvent(content=[MemoryContent(content="likes tea", mime_type=MemoryMimeType.TEXT.value)], source="a"),
        UserInputRequestedEvent(request_id="r1", source="user_proxy"),
        ModelClientStreamingChunkEvent(content="hel", source="a", full_message_id="m1"),
        ThoughtEvent(content="thinking", source="a"),
        SelectSpeakerEvent(content=["a", "b"], source="manager"),
        CodeGenerationEvent(
            retry_attempt=1,
            content="```python\nprint(1)\n```",
            code_blocks=[CodeBlock("print(1)", "python")],
            source="c",
        ),
        CodeExecutionEvent(retry_attempt=0, result=CodeResult(exit_code=0, output="1\n"), source="c"),
    ]


@pytest.mark.parametrize("message", examples(), ids=lambda m: type(m).__name__)
def test_every_built_in_type_round_trips_through_json_text(message: BaseAgentEvent | BaseChatMessage) -> None:
    text = json.dumps(message.dump())
    data = json.loads(text)
    assert data["type"] == type(message).__name__
    loaded = MessageFactory().create(data)
    assert type(loaded) is type(message)
    assert loaded == message
    assert type(message).load(data) == message


def test_the_json_shape_is_autogens() -> None:
    message = TextMessage(content="hi", source="user")
    data = message.dump()
    assert set(data) == {"id", "source", "models_usage", "metadata", "created_at", "content", "type"}
    assert data["created_at"].endswith("Z") or data["created_at"].endswith("+00:00")
    usage = ToolCallRequestEvent(content=[FunctionCall("1", "{}", "f")], source="a", models_usage=RequestUsage(1, 2))
    assert usage.dump()["models_usage"] == {"prompt_tokens": 1, "completion_tokens": 2}
    assert usage.dump()["content"] == [{"id": "1", "arguments": "{}", "name": "f"}]


def test_reads_a_message_as_autogen_writes_it() -> None:
    autogen_dump: dict[str, Any] = {
        "id": "0b3a2a9e-2f9c-4a8e-9d3e-1c2b3a4d5e6f",
        "source": "assistant",
        "models_usage": {"prompt_tokens": 10, "completion_tokens": 2},
        "metadata": {},
        "created_at": "2025-06-01T12:00:00.123456Z",
        "content": "TERMINATE",
        "type": "TextMessage",
    }
    message = MessageFactory().create(autogen_dump)
    assert isinstance(message, TextMessage)
    assert message.models_usage == RequestUsage(prompt_tokens=10, completion_tokens=2)
    assert message.created_at == datetime(2025, 6, 1, 12, 0, 0, 123456, tzinfo=UTC)
    assert message.id == autogen_dump["id"]


def test_defaults_are_fresh_per_message() -> None:
    first = TextMessage(content="a", source="x")
    second = TextMessage(content="a", source="x")
    assert first.id != second.id
    assert len(first.id) == 36
    assert first.created_at.tzinfo is not None and first.created_at.utcoffset() == UTC.utcoffset(None)
    assert first.models_usage is None
    first.metadata["k"] = "v"
    assert second.metadata == {}
    assert HandoffMessage(content="", target="t", source="s").context == []


def test_base_classes_cannot_be_instantiated() -> None:
    for cls in (BaseMessage, BaseChatMessage, BaseAgentEvent):
        with pytest.raises(TypeError):
            cls(source="x", content="y")  # type: ignore[abstract,call-arg]


def test_required_fields_are_required() -> None:
    with pytest.raises(ValidationError, match="source"):
        TextMessage(content="no source")  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="target"):
        HandoffMessage(content="x", source="a")  # type: ignore[call-arg]


def test_text_messages_render_their_content() -> None:
    message = TextMessage(content="hi there", source="bob")
    assert message.to_text() == message.to_model_text() == "hi there"
    assert message.to_model_message() == UserMessage(content="hi there", source="bob")
    stop = StopMessage(content="stop", source="x")
    assert stop.to_model_message() == UserMessage(content="stop", source="x")


def test_multimodal_message_renderings() -> None:
    image = red_square()
    message = MultiModalMessage(content=["see", image, "ok"], source="user")
    assert message.to_text() == "see\n<image>\nok"
    assert message.to_model_text() == "see [image]ok"
    assert message.to_model_text(image_placeholder="<pic>") == "see <pic>ok"
    assert message.to_model_text(image_placeholder=None) == f"see {image.to_base64()}ok"
    assert message.to_text(iterm=True) == f"see\n\033]1337;File=inline=1:{image.to_base64()}\a\n\nok"
    model_message = message.to_model_message()
    assert model_message.source == "user" and model_message.content == ["see", image, "ok"]


def test_event_renderings() -> None:
    call = FunctionCall(id="1", arguments="{}", name="f")
    result = FunctionExecutionResult(content="r", name="f", call_id="1")
    assert ToolCallRequestEvent(content=[call], source="a").to_text() == str([call])
    assert ToolCallExecutionEvent(content=[result], source="a").to_text() == str([result])
    assert ThoughtEvent(content="hmm", source="a").to_text() == "hmm"
    assert ModelClientStreamingChunkEvent(content="ch", source="a").to_text() == "ch"
    assert ModelClientStreamingChunkEvent(content="ch", source="a").full_message_id is None
    assert SelectSpeakerEvent(content=["x"], source="m").to_text() == "['x']"
    assert SelectorEvent(content="picked x", source="m").to_text() == "picked x"
    assert UserInputRequestedEvent(request_id="r", source="u").to_text() == ""
    code = CodeExecutionEvent(retry_attempt=0, result=CodeResult(exit_code=1, output="boom"), source="c")
    assert code.to_text() == "boom"
    generated = CodeGenerationEvent(retry_attempt=0, content="text", code_blocks=[], source="c")
    assert generated.to_text() == "text"


def test_user_input_requested_content_is_always_empty() -> None:
    with pytest.raises(ValidationError):
        UserInputRequestedEvent(request_id="r", source="u", content="not empty")  # type: ignore[arg-type]


def test_selector_event_loads_by_its_own_class() -> None:
    event = SelectorEvent(content="x", source="m")
    assert SelectorEvent.load(event.dump()) == event
    factory = MessageFactory()
    assert not factory.is_registered(SelectorEvent)
    factory.register(SelectorEvent)
    assert factory.create(event.dump()) == event


def test_union_types_discriminate_by_type() -> None:
    chat: TypeAdapter[Any] = TypeAdapter(ChatMessage)
    events: TypeAdapter[Any] = TypeAdapter(AgentEvent)
    assert isinstance(chat.validate_python({"type": "StopMessage", "content": "x", "source": "a"}), StopMessage)
    assert isinstance(events.validate_python({"type": "ThoughtEvent", "content": "x", "source": "a"}), ThoughtEvent)
    with pytest.raises(ValidationError):
        chat.validate_python({"type": "ThoughtEvent", "content": "x", "source": "a"})
    mixed: TypeAdapter[list[Any]] = TypeAdapter(list[ChatMessage | AgentEvent])
    originals = examples()
    assert mixed.validate_python([m.dump() for m in originals]) == originals


def test_message_factory_errors_say_what_is_wrong() -> None:
    factory = MessageFactory()
    with pytest.raises(ValueError, match="'type' is required"):
        factory.create({"content": "x", "source": "a"})
    with pytest.raises(ValueError, match="Unknown message type: Nope"):
        factory.create({"type": "Nope", "content": "x", "source": "a"})
    with pytest.raises(ValueError, match="must be a string"):
        factory.create({"type": 3, "content": "x", "source": "a"})
    with pytest.raises(ValueError, match="already registered"):
        factory.register(TextMessage)
    with pytest.raises(ValueError, match="subclass of BaseChatMessage or BaseAgentEvent"):
        factory.register(UserMessage)  # type: ignore[arg-type]


def test_custom_message_types_register_and_load() -> None:
    class Shout(BaseTextChatMessage):
        type: str = "Shout"

        def to_text(self) -> str:
            return self.content.upper()

    factory = MessageFactory()
    factory.register(Shout)
    assert factory.is_registered(Shout)
    loaded = factory.create(Shout(content="hey", source="a").dump())
    assert isinstance(loaded, Shout) and loaded.to_text() == "HEY"


# -------------------------------------------------------------------------------------- properties

_text = st.text(max_size=40)
_metadata = st.dictionaries(_text, _text, max_size=3)
_usage = st.none() | st.builds(RequestUsage, st.integers(0, 10**6), st.integers(0, 10**6))
_calls = st.lists(st.builds(FunctionCall, id=_text, arguments=_text, name=_text), max_size=4)
_results = st.lists(
    st.builds(FunctionExecutionResult, content=_text, name=_text, call_id=_text, is_error=st.none() | st.booleans()),
    max_size=4,
)


@given(content=_text, source=_text, metadata=_metadata, usage=_usage)
def test_text_message_round_trips_any_text(
    content: str, source: str, metadata: dict[str, str], usage: RequestUsage | None
) -> None:
    message = TextMessage(content=content, source=source, metadata=metadata, models_usage=usage)
    loaded = MessageFactory().create(json.loads(json.dumps(message.dump())))
    assert loaded == message
    assert loaded.to_text() == content


@given(calls=_calls, results=_results, source=_text)
def test_tool_call_events_round_trip(
    calls: list[FunctionCall], results: list[FunctionExecutionResult], source: str
) -> None:
    factory = MessageFactory()
    for message in (
        ToolCallRequestEvent(content=calls, source=source),
        ToolCallExecutionEvent(content=results, source=source),
        ToolCallSummaryMessage(content="summary", tool_calls=calls, results=results, source=source),
    ):
        assert factory.create(json.loads(json.dumps(message.dump()))) == message
