"""LLM message types, model info, and the import boundary of salon.models."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from salon import FunctionCall
from salon.models import (
    AssistantMessage,
    ChatCompletionTokenLogprob,
    CreateResult,
    FunctionExecutionResult,
    FunctionExecutionResultMessage,
    LLMMessage,
    ModelFamily,
    ModelInfo,
    RequestUsage,
    SystemMessage,
    TopLogprob,
    UserMessage,
    validate_model_info,
)

MESSAGES = TypeAdapter(list[LLMMessage])

text = st.text(max_size=30)
calls = st.builds(FunctionCall, id=text, arguments=text, name=text)
results = st.builds(FunctionExecutionResult, content=text, name=text, call_id=text, is_error=st.none() | st.booleans())
messages = st.one_of(
    st.builds(SystemMessage, content=text),
    st.builds(UserMessage, content=text | st.lists(text, max_size=3), source=text),
    st.builds(
        AssistantMessage,
        content=text | st.lists(calls, max_size=3),
        thought=st.none() | text,
        source=text,
    ),
    st.builds(FunctionExecutionResultMessage, content=st.lists(results, max_size=3)),
)


@given(st.lists(messages, max_size=8))
def test_messages_round_trip_through_json(conversation: list[LLMMessage]) -> None:
    """Any conversation survives JSON (agent state, caches and remote runtimes rely on it)."""
    restored = MESSAGES.validate_json(MESSAGES.dump_json(conversation))
    assert restored == conversation
    assert [type(m) for m in restored] == [type(m) for m in conversation]


def test_the_type_field_picks_the_message_class() -> None:
    data = [
        {"type": "SystemMessage", "content": "s"},
        {"type": "UserMessage", "content": "u", "source": "user"},
        {"type": "AssistantMessage", "content": [{"id": "1", "name": "f", "arguments": "{}"}], "source": "a"},
        {"type": "FunctionExecutionResultMessage", "content": [{"content": "r", "name": "f", "call_id": "1"}]},
    ]
    parsed = MESSAGES.validate_python(data)
    assert [type(m) for m in parsed] == [SystemMessage, UserMessage, AssistantMessage, FunctionExecutionResultMessage]
    call_message = parsed[2]
    assert isinstance(call_message, AssistantMessage)
    assert call_message.content == [FunctionCall(id="1", arguments="{}", name="f")]
    with pytest.raises(ValidationError):
        MESSAGES.validate_python([{"type": "NoSuchMessage", "content": "x"}])


def test_create_result_round_trips_with_calls_usage_and_logprobs() -> None:
    result = CreateResult(
        finish_reason="function_calls",
        content=[FunctionCall(id="c", arguments='{"x": 1}', name="f")],
        usage=RequestUsage(prompt_tokens=3, completion_tokens=4),
        cached=False,
        logprobs=[ChatCompletionTokenLogprob(token="a", logprob=-0.5, top_logprobs=[TopLogprob(logprob=-1.0)])],
        thought="because",
    )
    restored = CreateResult.model_validate_json(result.model_dump_json())
    assert restored == result
    assert isinstance(restored.usage, RequestUsage)
    with pytest.raises(ValidationError):
        CreateResult(finish_reason="tired", content="x", usage=RequestUsage(0, 0), cached=False)  # type: ignore[arg-type]


def test_model_family_is_a_namespace() -> None:
    with pytest.raises(TypeError, match="namespace"):
        ModelFamily()
    assert ModelFamily.is_openai(ModelFamily.GPT_4O) and not ModelFamily.is_openai(ModelFamily.CLAUDE_3_OPUS)
    assert ModelFamily.is_claude(ModelFamily.CLAUDE_4_SONNET)
    assert ModelFamily.is_gemini(ModelFamily.GEMINI_2_5_PRO)
    assert ModelFamily.is_llama(ModelFamily.LLAMA_4_SCOUT)
    assert ModelFamily.is_mistral(ModelFamily.CODESRAL)
    assert not any(
        check("my-own-family")
        for check in (
            ModelFamily.is_openai,
            ModelFamily.is_claude,
            ModelFamily.is_gemini,
            ModelFamily.is_llama,
            ModelFamily.is_mistral,
        )
    )


def test_validate_model_info_names_every_missing_key_and_shows_what_to_pass() -> None:
    with pytest.raises(ValueError, match="'vision', 'json_output'") as info:
        validate_model_info({"function_calling": True, "family": "x"})  # type: ignore[typeddict-item]
    assert "model_info={" in str(info.value)


def test_validate_model_info_warns_when_structured_output_is_missing() -> None:
    old_style: ModelInfo = {"vision": False, "function_calling": True, "json_output": False, "family": "x"}  # type: ignore[typeddict-item]
    with pytest.warns(UserWarning, match="structured_output"):
        validate_model_info(old_style)
    complete = ModelInfo(vision=False, function_calling=True, json_output=False, family="x", structured_output=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        validate_model_info(complete)


def test_import_salon_does_not_import_pydantic_or_models() -> None:
    """``salon.models`` is a subpackage loaded on use; the kernel's import stays free of pydantic."""
    code = (
        "import sys, salon, salon.logging, salon.cache\n"
        "heavy = ('pydantic', 'salon.models', 'salon.model_context', 'salon.memory')\n"
        "loaded = [m for m in heavy if m in sys.modules]\n"
        "assert not loaded, loaded\n"
        "from salon.models import UserMessage\n"
        "assert 'pydantic' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_messages_dump_to_the_same_json_as_autogen() -> None:
    """The JSON shape (field names, ``type`` values) is AutoGen's, so saved states port across."""
    message = AssistantMessage(content=[FunctionCall(id="1", arguments="{}", name="f")], source="a")
    assert json.loads(message.model_dump_json()) == {
        "content": [{"id": "1", "arguments": "{}", "name": "f"}],
        "thought": None,
        "source": "a",
        "type": "AssistantMessage",
    }
