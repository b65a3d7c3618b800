"""The seed guide's model-client, caching and model-context examples, ported to Salon by rewriting imports.

Each test keeps the guide's code as written, with the import map of DESIGN.md §2 applied
(``autogen_core`` -> ``salon``, ``autogen_core.models`` -> ``salon.models``, ``autogen_ext.models.openai``
-> ``salon_openai``, ``autogen_ext.models.cache`` -> ``salon.cache``). The one other change: every
``OpenAIChatCompletionClient(...)`` also gets ``base_url`` and ``api_key="test"`` so that it talks to a
scripted :class:`~salon.testing.OpenAIChatServer` on 127.0.0.1 instead of OpenAI; the server answers
with the replies the guide shows (the long Seattle lists abbreviated to their first items), and each
test asserts what the guide says happens.

Differences from the guide, on purpose:

- Caching: ``salon-diskcache`` is not part of this tree yet, so the caching example uses
  ``salon.cache.InMemoryStore`` where the guide builds a ``DiskCacheStore`` over ``diskcache.Cache``
  (the point of the example is ``ChatCompletionCache`` itself: a repeated request is answered from the
  store with ``cached=True`` and no new usage).
- Streaming: the guide's output shows zero usage, AutoGen's default; Salon's ``create_stream`` asks the
  server for usage and reports it (issue 4), so the test asserts the server's real counts.
"""

# The guide's code is kept as written: list concatenation.
# ruff: noqa: RUF005

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import pytest
from pydantic import BaseModel

from salon import EVENT_LOGGER_NAME, AgentId, MessageContext, RoutedAgent, SingleThreadedAgentRuntime, message_handler
from salon.cache import CHAT_CACHE_VALUE_TYPE, ChatCompletionCache, InMemoryStore
from salon.model_context import BufferedChatCompletionContext
from salon.models import (
    AssistantMessage,
    ChatCompletionClient,
    CreateResult,
    RequestUsage,
    SystemMessage,
    UserMessage,
)
from salon.testing import OpenAIChatServer, OpenAITextReply
from salon_openai import OpenAIChatCompletionClient


@pytest.fixture
def server() -> Iterator[OpenAIChatServer]:
    with OpenAIChatServer() as running:
        yield running


# -- "Log Model Calls" + "Call Model Client" ------------------------------------------------------------


async def test_call_model_client_and_log_model_calls(
    server: OpenAIChatServer, capsys: pytest.CaptureFixture[str]
) -> None:
    server.script(
        [OpenAITextReply("The capital of France is Paris.", usage=RequestUsage(prompt_tokens=15, completion_tokens=8))]
    )
    # The snippet changes global logging state; remember it so the test can put it back.
    root = logging.getLogger()
    saved_root = (root.level, list(root.handlers))
    saved_event_logger = (
        logging.getLogger(EVENT_LOGGER_NAME).level,
        list(logging.getLogger(EVENT_LOGGER_NAME).handlers),
    )
    try:
        logging.basicConfig(level=logging.WARNING)
        logger = logging.getLogger(EVENT_LOGGER_NAME)
        logger.addHandler(logging.StreamHandler())
        logger.setLevel(logging.INFO)

        model_client = OpenAIChatCompletionClient(
            model="gpt-4", temperature=0.3, base_url=server.url, api_key="test"
        )  # assuming OPENAI_API_KEY is set in the environment.

        result = await model_client.create([UserMessage(content="What is the capital of France?", source="user")])
        print(result)
        await model_client.close()
    finally:
        root.setLevel(saved_root[0])
        root.handlers[:] = saved_root[1]
        event_logger = logging.getLogger(EVENT_LOGGER_NAME)
        event_logger.setLevel(saved_event_logger[0])
        event_logger.handlers[:] = saved_event_logger[1]

    captured = capsys.readouterr()
    assert captured.out == (
        "finish_reason='stop' content='The capital of France is Paris.' "
        "usage=RequestUsage(prompt_tokens=15, completion_tokens=8) cached=False logprobs=None thought=None\n"
    )
    # The LLMCall event went to the handler the snippet added, with the usage the provider reported.
    assert '"type": "LLMCall"' in captured.err
    assert '"prompt_tokens": 15' in captured.err
    assert '"completion_tokens": 8' in captured.err
    request = server.chat_requests[0].json
    assert request["model"] == "gpt-4"
    assert request["temperature"] == 0.3


# -- "API Keys From Environment Variables" ----------------------------------------------------------------


async def test_api_key_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # The guide's clients are built without api_key: the openai package reads OPENAI_API_KEY.
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    with OpenAIChatServer(["Paris."], api_key="sk-from-env") as server:  # rejects any other key with a 401
        model_client = OpenAIChatCompletionClient(model="gpt-4o-mini", base_url=server.url)
        result = await model_client.create([UserMessage(content="What is the capital of France?", source="user")])
        await model_client.close()
    assert result.content == "Paris."
    assert server.requests[0].headers["authorization"] == "Bearer sk-from-env"


# -- "Streaming Tokens" ---------------------------------------------------------------------------------

STORY = (
    "In the heart of an ancient forest, beneath the shadow of snow-capped peaks, a dragon named Elara lived "
    "secretly for centuries. Elara was unlike any dragon from the old tales; her scales shimmered with a deep "
    "emerald hue, each scale engraved with symbols of lost wisdom."
)


async def test_streaming_tokens(server: OpenAIChatServer, capsys: pytest.CaptureFixture[str]) -> None:
    server.script([STORY])
    model_client = OpenAIChatCompletionClient(
        model="gpt-4o", base_url=server.url, api_key="test"
    )  # assuming OPENAI_API_KEY is set in the environment.

    messages = [
        UserMessage(content="Write a very short story about a dragon.", source="user"),
    ]

    # Create a stream.
    stream = model_client.create_stream(messages=messages)

    # Iterate over the stream and print the responses.
    print("Streamed responses:")
    chunks: list[str | CreateResult] = []
    async for chunk in stream:  # type: ignore
        chunks.append(chunk)
        if isinstance(chunk, str):
            # The chunk is a string.
            print(chunk, flush=True, end="")
        else:
            # The final chunk is a CreateResult object.
            assert isinstance(chunk, CreateResult) and isinstance(chunk.content, str)
            # The last response is a CreateResult object with the complete message.
            print("\n\n------------\n")
            print("The complete response:", flush=True)
            print(chunk.content, flush=True)
    await model_client.close()

    assert capsys.readouterr().out == (
        f"Streamed responses:\n{STORY}\n\n------------\n\nThe complete response:\n{STORY}\n"
    )
    # Text chunks (more than one), then exactly one final CreateResult.
    assert len(chunks) > 2
    assert all(isinstance(chunk, str) for chunk in chunks[:-1])
    final = chunks[-1]
    assert isinstance(final, CreateResult)
    assert final.content == STORY
    assert final.usage == RequestUsage(prompt_tokens=8, completion_tokens=len(STORY.split()))


# -- "Structured Output" --------------------------------------------------------------------------------


# The response format for the agent as a Pydantic base model.
class AgentResponse(BaseModel):
    thoughts: str
    response: Literal["happy", "sad", "neutral"]


HAPPY_THOUGHTS = (
    "I'm glad to hear that you're feeling happy! It's such a great emotion that can brighten your whole day. "
    "Is there anything in particular that's bringing you joy today? \U0001f60a"
)


async def test_structured_output(server: OpenAIChatServer, capsys: pytest.CaptureFixture[str]) -> None:
    server.script([AgentResponse(thoughts=HAPPY_THOUGHTS, response="happy").model_dump_json()])

    # Create an agent that uses the OpenAI GPT-4o model with the custom response format.
    model_client = OpenAIChatCompletionClient(
        model="gpt-4o",
        response_format=AgentResponse,  # type: ignore
        base_url=server.url,
        api_key="test",
    )

    # Send a message list to the model and await the response.
    messages = [
        UserMessage(content="I am happy.", source="user"),
    ]
    response = await model_client.create(messages=messages)
    assert isinstance(response.content, str)
    parsed_response = AgentResponse.model_validate_json(response.content)
    print(parsed_response.thoughts)
    print(parsed_response.response)

    # Close the connection to the model client.
    await model_client.close()

    assert capsys.readouterr().out == f"{HAPPY_THOUGHTS}\nhappy\n"
    # The pydantic model went to the server as a JSON schema response format.
    response_format = server.chat_requests[0].json["response_format"]
    assert response_format["type"] == "json_schema"
    assert response_format["json_schema"]["name"] == "AgentResponse"
    assert set(response_format["json_schema"]["schema"]["properties"]) == {"thoughts", "response"}


# -- "Caching Model Responses" (InMemoryStore instead of DiskCacheStore: see the module docstring) -----


async def test_caching_model_responses(server: OpenAIChatServer, capsys: pytest.CaptureFixture[str]) -> None:
    server.script(["I'm doing well, thank you! How can I help you today?"])
    usages: list[RequestUsage] = []

    async def main() -> None:
        # Initialize the original client
        openai_model_client = OpenAIChatCompletionClient(model="gpt-4o", base_url=server.url, api_key="test")

        # Then initialize the CacheStore; the seed uses diskcache.Cache here.
        cache_store = InMemoryStore[CHAT_CACHE_VALUE_TYPE]()
        cache_client = ChatCompletionCache(openai_model_client, cache_store)

        response = await cache_client.create([UserMessage(content="Hello, how are you?", source="user")])
        print(response)  # Should print response from OpenAI
        usages.append(cache_client.total_usage())
        response = await cache_client.create([UserMessage(content="Hello, how are you?", source="user")])
        print(response)  # Should print cached response
        usages.append(cache_client.total_usage())
        usages.append(openai_model_client.total_usage())

        await openai_model_client.close()
        await cache_client.close()

    await main()

    first, second = capsys.readouterr().out.splitlines()
    assert 'content="I\'m doing well, thank you! How can I help you today?"' in first
    assert first.endswith("cached=False logprobs=None thought=None")
    assert second == first.replace("cached=False", "cached=True")
    # Only the first call reached the server; usage is identical before and after the cached response.
    assert len(server.chat_requests) == 1
    assert usages[0] == usages[1] == usages[2]
    assert usages[0].prompt_tokens > 0


# -- "Build an Agent with a Model Client" ---------------------------------------------------------------


@dataclass
class Message:
    content: str


class SimpleAgent(RoutedAgent):
    def __init__(self, model_client: ChatCompletionClient) -> None:
        super().__init__("A simple agent")
        self._system_messages = [SystemMessage(content="You are a helpful AI assistant.")]
        self._model_client = model_client

    @message_handler
    async def handle_user_message(self, message: Message, ctx: MessageContext) -> Message:
        # Prepare input to the chat completion model.
        user_message = UserMessage(content=message.content, source="user")
        response = await self._model_client.create(
            self._system_messages + [user_message], cancellation_token=ctx.cancellation_token
        )
        # Return with the model's response.
        assert isinstance(response.content, str)
        return Message(content=response.content)


SEATTLE = (
    "Seattle is a vibrant city with a wide range of activities and attractions. Here are some fun things to do "
    "in Seattle:\n\n"
    "1. **Space Needle**: Visit this iconic observation tower for stunning views of the city and surrounding "
    "mountains.\n\n"
    "2. **Pike Place Market**: Explore this historic market where you can see the famous fish toss, buy local "
    "produce, and find unique crafts and eateries.\n\n"
    "Whether you're interested in culture, nature, food, or history, Seattle has something for everyone to enjoy!"
)


async def test_agent_with_model_client(server: OpenAIChatServer, capsys: pytest.CaptureFixture[str]) -> None:
    server.script([SEATTLE])

    model_client = OpenAIChatCompletionClient(
        model="gpt-4o-mini",
        # api_key="sk-...", # Optional if you have an OPENAI_API_KEY set in the environment.
        base_url=server.url,
        api_key="test",
    )

    runtime = SingleThreadedAgentRuntime()
    await SimpleAgent.register(
        runtime,
        "simple_agent",
        lambda: SimpleAgent(model_client=model_client),
    )
    # Start the runtime processing messages.
    runtime.start()
    # Send a message to the agent and get the response.
    message = Message("Hello, what are some fun things to do in Seattle?")
    response = await runtime.send_message(message, AgentId("simple_agent", "default"))
    print(response.content)
    # Stop the runtime processing messages.
    await runtime.stop()
    await model_client.close()

    assert capsys.readouterr().out == SEATTLE + "\n"
    sent = server.chat_requests[0].json["messages"]
    assert sent == [
        {"role": "system", "content": "You are a helpful AI assistant."},
        {"role": "user", "content": "Hello, what are some fun things to do in Seattle?", "name": "user"},
    ]


# -- "Model Context" ------------------------------------------------------------------------------------


class SimpleAgentWithContext(RoutedAgent):
    def __init__(self, model_client: ChatCompletionClient) -> None:
        super().__init__("A simple agent")
        self._system_messages = [SystemMessage(content="You are a helpful AI assistant.")]
        self._model_client = model_client
        self._model_context = BufferedChatCompletionContext(buffer_size=5)

    @message_handler
    async def handle_user_message(self, message: Message, ctx: MessageContext) -> Message:
        # Prepare input to the chat completion model.
        user_message = UserMessage(content=message.content, source="user")
        # Add message to model context.
        await self._model_context.add_message(user_message)
        # Generate a response.
        response = await self._model_client.create(
            self._system_messages + (await self._model_context.get_messages()),
            cancellation_token=ctx.cancellation_token,
        )
        # Return with the model's response.
        assert isinstance(response.content, str)
        # Add message to model context.
        await self._model_context.add_message(AssistantMessage(content=response.content, source=self.metadata["type"]))
        return Message(content=response.content)


FIRST_ANSWER = (
    "Seattle offers a variety of fun activities and attractions. Here are some highlights:\n\n"
    "1. **Pike Place Market**: Visit this iconic market to explore local vendors, fresh produce, artisanal "
    "products, and watch the famous fish throwing.\n\n"
    "2. **Space Needle**: Take a trip to the observation deck for stunning panoramic views of the city, Puget "
    "Sound, and the surrounding mountains.\n\n"
    "These are just a few options, and Seattle has something for everyone, whether you're into outdoor "
    "activities, culture, history, or food!"
)
SECOND_ANSWER = (
    "The first thing I mentioned was **Pike Place Market**. It's an iconic market in Seattle known for its local "
    "vendors, fresh produce, artisanal products, and the famous fish throwing by the fishmongers. It's a vibrant "
    "place full of sights, sounds, and delicious food."
)


async def test_model_context_buffered(server: OpenAIChatServer, capsys: pytest.CaptureFixture[str]) -> None:
    server.script([FIRST_ANSWER, SECOND_ANSWER])

    model_client = OpenAIChatCompletionClient(
        model="gpt-4o-mini",
        # api_key="sk-...", # Optional if you have an OPENAI_API_KEY set in the environment.
        base_url=server.url,
        api_key="test",
    )

    runtime = SingleThreadedAgentRuntime()
    await SimpleAgentWithContext.register(
        runtime,
        "simple_agent_context",
        lambda: SimpleAgentWithContext(model_client=model_client),
    )
    # Start the runtime processing messages.
    runtime.start()
    agent_id = AgentId("simple_agent_context", "default")

    # First question.
    message = Message("Hello, what are some fun things to do in Seattle?")
    print(f"Question: {message.content}")
    response = await runtime.send_message(message, agent_id)
    print(f"Response: {response.content}")
    print("-----")

    # Second question.
    message = Message("What was the first thing you mentioned?")
    print(f"Question: {message.content}")
    response = await runtime.send_message(message, agent_id)
    print(f"Response: {response.content}")

    # Stop the runtime processing messages.
    await runtime.stop()
    await model_client.close()

    assert capsys.readouterr().out == (
        "Question: Hello, what are some fun things to do in Seattle?\n"
        f"Response: {FIRST_ANSWER}\n"
        "-----\n"
        "Question: What was the first thing you mentioned?\n"
        f"Response: {SECOND_ANSWER}\n"
    )
    # The agent "remembers": the second request carries the first question and answer from the context.
    second_request = server.chat_requests[1].json["messages"]
    assert [(m["role"], m["content"]) for m in second_request] == [
        ("system", "You are a helpful AI assistant."),
        ("user", "Hello, what are some fun things to do in Seattle?"),
        ("assistant", FIRST_ANSWER),
        ("user", "What was the first thing you mentioned?"),
    ]
