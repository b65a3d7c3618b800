"""salon_agentchat.utils: flattening model-message content to text for models without vision."""

from __future__ import annotations

from PIL import Image as PILImage
from pydantic import BaseModel

from salon import FunctionCall, Image
from salon.models import AssistantMessage, FunctionExecutionResult, LLMMessage, SystemMessage, UserMessage
from salon_agentchat.utils import content_to_str, remove_images


def image() -> Image:
    return Image.from_pil(PILImage.new("RGB", (2, 2)))


class Point(BaseModel):
    x: int
    y: int


def test_content_to_str() -> None:
    assert content_to_str("plain") == "plain"
    parts: list[str | Image] = ["a", image(), "b"]
    assert content_to_str(parts) == "a\n<image>\nb"
    assert content_to_str(Point(x=1, y=2)) == '{"x":1,"y":2}'
    call = FunctionCall(id="1", arguments="{}", name="f")
    assert content_to_str([call]) == str(call)
    result = FunctionExecutionResult(content="ok", name="f", call_id="1")
    assert content_to_str([result, result]) == f"{result}\n{result}"
    assert content_to_str([]) == ""


def test_remove_images_flattens_only_multipart_user_messages() -> None:
    system = SystemMessage(content="be brief")
    text_user = UserMessage(content="hello", source="user")
    assistant = AssistantMessage(content="hi", source="bot")
    messages: list[LLMMessage] = [system, UserMessage(content=["look", image()], source="user"), text_user, assistant]
    flattened = remove_images(messages)
    assert flattened[1] == UserMessage(content="look\n<image>", source="user")
    assert flattened[0] is system and flattened[2] is text_user and flattened[3] is assistant
    assert isinstance(messages[1], UserMessage) and isinstance(messages[1].content, list)  # input untouched
