"""CodeExecutorAgent: running others' code, writing and fixing its own, approval, streaming, events."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from salon import CancellationToken
from salon.code_executor import CodeBlock, CodeExecutor, CodeResult
from salon.models import CreateResult, ModelFamily, ModelInfo, ReplayChatCompletionClient, RequestUsage, UserMessage
from salon_agentchat.agents import ApprovalFuncType, ApprovalRequest, ApprovalResponse, CodeExecutorAgent
from salon_agentchat.base import Response
from salon_agentchat.messages import (
    BaseAgentEvent,
    BaseChatMessage,
    CodeExecutionEvent,
    CodeGenerationEvent,
    HandoffMessage,
    ModelClientStreamingChunkEvent,
    TextMessage,
    ThoughtEvent,
)

pytestmark = pytest.mark.filterwarnings("ignore:CodeExecutorAgent has no approval_func:UserWarning")

STRUCTURED = ModelInfo(
    vision=False, function_calling=False, json_output=True, family=ModelFamily.UNKNOWN, structured_output=True
)


class SubprocessExecutor(CodeExecutor):
    """A small real executor: each block runs in its own ``python -c`` or ``sh -c`` process.

    Blocks run in order and stop at the first failure; cancelling the token kills the running process.
    ``runs`` records every block list it was given, so tests can tell whether anything ran at all.
    """

    def __init__(self) -> None:
        self.runs: list[list[CodeBlock]] = []
        self.started = asyncio.Event()

    async def execute_code_blocks(
        self, code_blocks: list[CodeBlock], cancellation_token: CancellationToken
    ) -> CodeResult:
        self.runs.append(list(code_blocks))
        outputs: list[str] = []
        exit_code = 0
        for block in code_blocks:
            language = block.language.lower()
            if language == "python":
                argv = [sys.executable, "-c", block.code]
            elif language in ("sh", "bash"):
                argv = ["sh", "-c", block.code]
            else:
                return CodeResult(exit_code=1, output=f"unsupported language {block.language}")
            process = await asyncio.create_subprocess_exec(
                *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
            )
            self.started.set()
            waiting = asyncio.ensure_future(process.communicate())
            cancellation_token.link_future(waiting)
            try:
                stdout, _ = await waiting
            except asyncio.CancelledError:
                process.kill()
                await process.wait()
                raise
            outputs.append(stdout.decode())
            exit_code = process.returncode or 0
            if exit_code != 0:
                break
        return CodeResult(exit_code=exit_code, output="".join(outputs))

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    async def restart(self) -> None:
        pass


def text(content: str, source: str = "assistant") -> TextMessage:
    return TextMessage(content=content, source=source)


async def collect(
    agent: CodeExecutorAgent, messages: Sequence[BaseChatMessage]
) -> list[BaseAgentEvent | BaseChatMessage | Response]:
    return [item async for item in agent.on_messages_stream(messages, CancellationToken())]


SQRT = '```python\nimport math\nprint("%0.3f" % math.sqrt(42))\n```'


# -- running others' code -------------------------------------------------------------------------------


async def test_runs_a_python_block_and_replies_with_its_output() -> None:
    agent = CodeExecutorAgent("runner", code_executor=SubprocessExecutor())
    response = await agent.on_messages([text(f"Here you go:\n{SQRT}\nDone.")], CancellationToken())
    assert isinstance(response.chat_message, TextMessage)
    assert response.chat_message.content.strip() == "6.481"
    assert response.chat_message.source == "runner"


async def test_failing_code_is_reported_with_its_exit_code_and_output() -> None:
    agent = CodeExecutorAgent("runner", code_executor=SubprocessExecutor())
    response = await agent.on_messages([text("```python\nimport math\nmath.sqrt(-1)\n```")], CancellationToken())
    content = response.chat_message.to_text()
    assert "The script ran, then exited with an error (POSIX exit code: 1)" in content
    assert "ValueError: math domain error" in content


async def test_silent_code_is_reported_as_silent() -> None:
    agent = CodeExecutorAgent("runner", code_executor=SubprocessExecutor())
    response = await agent.on_messages([text("```python\nx = 1\n```")], CancellationToken())
    assert response.chat_message.to_text().startswith(
        "The script ran but produced no output to console. The POSIX exit code was: 0."
    )


async def test_without_code_blocks_it_asks_for_them() -> None:
    agent = CodeExecutorAgent("runner", code_executor=SubprocessExecutor())
    response = await agent.on_messages([text("import math\nprint(1)")], CancellationToken())
    assert response.chat_message.to_text() == CodeExecutorAgent.NO_CODE_BLOCKS_FOUND_MESSAGE


async def test_blocks_from_several_messages_run_in_order_and_stop_at_the_first_failure() -> None:
    executor = SubprocessExecutor()
    agent = CodeExecutorAgent("runner", code_executor=executor)
    messages = [
        text("```python\nprint('one')\n```\n```sh\necho two\n```"),
        text("```sh\nexit 3\n```\n```python\nprint('never')\n```", source="coder"),
    ]
    response = await agent.on_messages(messages, CancellationToken())
    content = response.chat_message.to_text()
    assert "(POSIX exit code: 3)" in content
    assert content.index("one") < content.index("two")
    assert "never" not in content
    assert [b.language for b in executor.runs[0]] == ["python", "sh", "sh", "python"]


async def test_sources_limit_whose_code_runs() -> None:
    executor = SubprocessExecutor()
    agent = CodeExecutorAgent("runner", code_executor=executor, sources=["coder"])
    messages = [text("```python\nprint('stranger')\n```", source="stranger"), text(SQRT, source="coder")]
    response = await agent.on_messages(messages, CancellationToken())
    assert response.chat_message.to_text().strip() == "6.481"
    assert len(executor.runs[0]) == 1


async def test_only_text_messages_are_searched_for_code() -> None:
    agent = CodeExecutorAgent("runner", code_executor=SubprocessExecutor())
    handoff = HandoffMessage(content=SQRT, source="coder", target="runner")
    response = await agent.on_messages([handoff], CancellationToken())
    assert response.chat_message.to_text() == CodeExecutorAgent.NO_CODE_BLOCKS_FOUND_MESSAGE


async def test_supported_languages_choose_the_blocks_and_match_case_insensitively() -> None:
    agent = CodeExecutorAgent("runner", code_executor=SubprocessExecutor(), supported_languages=["sh"])
    blocks = await agent.extract_code_blocks_from_messages(
        [text("```python\nprint(1)\n```\n```SH\necho hi\n```\n```shell\necho no\n```\n```javascript\n1\n```")]
    )
    assert blocks == [CodeBlock(code="echo hi\n", language="SH")]
    default = CodeExecutorAgent("runner", code_executor=SubprocessExecutor())
    found = await default.extract_code_blocks_from_messages([text("``` Python\nprint(1)```\n```js\nx\n```")])
    assert found == [CodeBlock(code="print(1)", language="Python")]


@given(
    code=st.text(alphabet=st.characters(codec="utf-8", exclude_characters="`"), max_size=80),
    language=st.sampled_from(["python", "sh", "PYTHON", "Sh"]),
    prose=st.text(alphabet=st.characters(codec="utf-8", exclude_characters="`"), max_size=40),
)
def test_a_fenced_block_is_extracted_verbatim(code: str, language: str, prose: str) -> None:
    agent = CodeExecutorAgent("runner", code_executor=SubprocessExecutor())
    blocks = agent._extract_markdown_code_blocks(f"{prose}\n```{language}\n{code}```\n{prose}")
    assert blocks == [CodeBlock(code=code, language=language)]


async def test_cancelling_the_token_stops_running_code() -> None:
    executor = SubprocessExecutor()
    agent = CodeExecutorAgent("runner", code_executor=executor)
    token = CancellationToken()
    turn = asyncio.create_task(agent.on_messages([text("```python\nimport time\ntime.sleep(60)\n```")], token))
    await executor.started.wait()
    token.cancel()
    async with asyncio.timeout(10):
        with pytest.raises(asyncio.CancelledError):
            await turn


# -- approval -------------------------------------------------------------------------------------------


def allow_all(request: ApprovalRequest) -> ApprovalResponse:
    return ApprovalResponse(approved=True, reason="fine")


def deny_rm(request: ApprovalRequest) -> ApprovalResponse:
    if "rm " in request.code:
        return ApprovalResponse(approved=False, reason="rm is dangerous")
    return ApprovalResponse(approved=True, reason="fine")


async def async_deny_all(request: ApprovalRequest) -> ApprovalResponse:
    await asyncio.sleep(0)
    return ApprovalResponse(approved=False, reason="nothing runs today (async)")


@pytest.mark.parametrize(
    ("approval_func", "code", "language", "exit_code", "expected", "ran"),
    [
        (allow_all, "print('approved')", "python", 0, "approved", True),
        (deny_rm, "print('safe')", "python", 0, "safe", True),
        (deny_rm, "rm somefile.txt", "sh", 1, "Code execution was not approved. Reason: rm is dangerous", False),
        (async_deny_all, "print('no')", "python", 1, "Reason: nothing runs today (async)", False),
    ],
)
async def test_approval_decides_whether_code_runs(
    approval_func: ApprovalFuncType, code: str, language: str, exit_code: int, expected: str, ran: bool
) -> None:
    executor = SubprocessExecutor()
    agent = CodeExecutorAgent("runner", code_executor=executor, approval_func=approval_func)
    result = await agent.execute_code_block([CodeBlock(code=code, language=language)], CancellationToken())
    assert result.exit_code == exit_code
    assert expected in result.output
    assert bool(executor.runs) is ran


@pytest.mark.parametrize("is_async", [False, True])
async def test_approval_sees_every_block_fenced_and_the_model_context(is_async: bool) -> None:
    requests: list[ApprovalRequest] = []

    def record(request: ApprovalRequest) -> ApprovalResponse:
        requests.append(request)
        return ApprovalResponse(approved=True, reason="ok")

    async def record_async(request: ApprovalRequest) -> ApprovalResponse:
        return record(request)

    client = ReplayChatCompletionClient([f"Running:\n{SQRT}", "It printed 6.481."])
    agent = CodeExecutorAgent(
        "coder",
        code_executor=SubprocessExecutor(),
        model_client=client,
        approval_func=record_async if is_async else record,
    )
    await agent.on_messages([text("square root of 42?", source="user")], CancellationToken())
    (request,) = requests
    assert request.code == '```python\nimport math\nprint("%0.3f" % math.sqrt(42))\n\n```'
    assert [type(m).__name__ for m in request.context] == ["UserMessage", "AssistantMessage"]
    assert request.context[0].content == "square root of 42?"


async def test_a_refusal_reaches_the_model_like_a_failure() -> None:
    client = ReplayChatCompletionClient([f"Running:\n{SQRT}", "I was not allowed to run it."])
    agent = CodeExecutorAgent(
        "coder", code_executor=SubprocessExecutor(), model_client=client, approval_func=async_deny_all
    )
    items = await collect(agent, [text("go", source="user")])
    execution = next(i for i in items if isinstance(i, CodeExecutionEvent))
    assert execution.result.exit_code == 1
    assert "not approved" in execution.to_text()
    reflection_request = client.create_calls[-1]["messages"]
    assert any("not approved" in str(m.content) for m in reflection_request)


def test_without_approval_func_the_constructor_warns() -> None:
    with pytest.warns(UserWarning, match="no approval_func"):
        CodeExecutorAgent("runner", code_executor=SubprocessExecutor())


async def test_an_approval_func_that_returns_the_wrong_type_is_an_error() -> None:
    agent = CodeExecutorAgent("runner", code_executor=SubprocessExecutor(), approval_func=lambda r: True)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="must return an ApprovalResponse"):
        await agent.execute_code_block([CodeBlock(code="print(1)", language="python")], CancellationToken())


# -- writing its own code -------------------------------------------------------------------------------


async def test_generates_executes_and_reflects() -> None:
    client = ReplayChatCompletionClient(
        [
            f"Here is code:\n{SQRT}",
            CreateResult(finish_reason="stop", content="It is 6.481.", usage=RequestUsage(7, 3), cached=False),
        ]
    )
    agent = CodeExecutorAgent("coder", code_executor=SubprocessExecutor(), model_client=client)
    items = await collect(agent, [text("What is the square root of 42?", source="user")])
    generation, execution, response = items
    assert isinstance(generation, CodeGenerationEvent)
    assert generation.retry_attempt == 0
    assert generation.code_blocks == [
        CodeBlock(code='import math\nprint("%0.3f" % math.sqrt(42))\n', language="python")
    ]
    assert generation.models_usage is not None
    assert isinstance(execution, CodeExecutionEvent)
    assert execution.to_text().strip() == "6.481"
    assert isinstance(response, Response)
    assert response.chat_message.to_text() == "It is 6.481."
    assert response.chat_message.models_usage == RequestUsage(7, 3)
    assert list(response.inner_messages or []) == [generation, execution]
    # The system message leads every call; the reflection sees the execution output as a user message.
    reflection = client.create_calls[1]["messages"]
    assert reflection[0].content == CodeExecutorAgent.DEFAULT_SYSTEM_MESSAGE
    assert reflection[-1] == UserMessage(content=execution.result.output, source="coder")


async def test_an_answer_without_code_is_the_reply() -> None:
    client = ReplayChatCompletionClient(["Paris.", "unused"])
    agent = CodeExecutorAgent("coder", code_executor=SubprocessExecutor(), model_client=client, system_message=None)
    (response,) = await collect(agent, [text("Capital of France?", source="user")])
    assert isinstance(response, Response)
    assert response.chat_message.to_text() == "Paris."
    assert len(client.create_calls) == 1
    assert [type(m).__name__ for m in client.create_calls[0]["messages"]] == ["UserMessage"]


async def test_the_model_retries_after_an_error_and_the_task_enters_the_context_once() -> None:
    broken = "```python\nprint(sum([1, 2]) / len([1, 2]\n```"
    fixed = "```python\nprint(sum([1, 2]) / len([1, 2]))\n```"
    client = ReplayChatCompletionClient(
        [
            f"Try:\n{broken}",
            '{"retry": true, "reason": "missing parenthesis"}',
            f"Fixed:\n{fixed}",
            "The mean is 1.5.",
        ],
        model_info=STRUCTURED,
    )
    agent = CodeExecutorAgent("coder", code_executor=SubprocessExecutor(), model_client=client, max_retries_on_error=1)
    items = await collect(agent, [text("Mean of 1 and 2?", source="user")])
    kinds = [type(i).__name__ for i in items]
    assert kinds == [
        "CodeGenerationEvent",
        "CodeExecutionEvent",
        "CodeGenerationEvent",
        "CodeGenerationEvent",
        "CodeExecutionEvent",
        "Response",
    ]
    first_run, correction, second_run = items[1], items[2], items[4]
    assert isinstance(first_run, CodeExecutionEvent) and first_run.result.exit_code != 0
    assert "SyntaxError" in first_run.to_text()
    assert isinstance(correction, CodeGenerationEvent)
    assert correction.to_text() == "Attempt number: 1\nProposed correction: missing parenthesis"
    assert correction.code_blocks == []
    assert isinstance(second_run, CodeExecutionEvent) and second_run.to_text().strip() == "1.5"
    assert client.create_calls[1]["json_output"] is not None
    context = await agent.model_context.get_messages()
    assert sum(1 for m in context if m.content == "Mean of 1 and 2?") == 1


async def test_a_declined_retry_goes_straight_to_reflection() -> None:
    client = ReplayChatCompletionClient(
        ["```python\nraise SystemExit(2)\n```", '{"retry": false, "reason": "exiting was intended"}', "It exited."],
        model_info=STRUCTURED,
    )
    agent = CodeExecutorAgent("coder", code_executor=SubprocessExecutor(), model_client=client, max_retries_on_error=3)
    items = await collect(agent, [text("exit with 2", source="user")])
    assert [type(i).__name__ for i in items] == ["CodeGenerationEvent", "CodeExecutionEvent", "Response"]
    assert items[-1].chat_message.to_text() == "It exited."  # type: ignore[union-attr]


async def test_retries_stop_at_the_limit_without_asking_again() -> None:
    failing = "```sh\nexit 1\n```"
    client = ReplayChatCompletionClient(
        [failing, '{"retry": true, "reason": "again"}', failing, "Gave up."], model_info=STRUCTURED
    )
    agent = CodeExecutorAgent("coder", code_executor=SubprocessExecutor(), model_client=client, max_retries_on_error=1)
    items = await collect(agent, [text("fail", source="user")])
    executions = [i for i in items if isinstance(i, CodeExecutionEvent)]
    assert [e.retry_attempt for e in executions] == [0, 1]
    assert items[-1].chat_message.to_text() == "Gave up."  # type: ignore[union-attr]
    assert len(client.create_calls) == 4


async def test_an_unreadable_retry_decision_means_no_retry(caplog: pytest.LogCaptureFixture) -> None:
    client = ReplayChatCompletionClient(["```sh\nexit 1\n```", "sure, why not", "Failed."], model_info=STRUCTURED)
    agent = CodeExecutorAgent("coder", code_executor=SubprocessExecutor(), model_client=client, max_retries_on_error=2)
    with caplog.at_level(logging.WARNING):
        items = await collect(agent, [text("fail", source="user")])
    assert [type(i).__name__ for i in items] == ["CodeGenerationEvent", "CodeExecutionEvent", "Response"]
    assert "retry decision" in caplog.text


async def test_streaming_chunks_name_the_message_they_become() -> None:
    client = ReplayChatCompletionClient([f"Code:\n{SQRT}", "All good."])
    agent = CodeExecutorAgent(
        "coder", code_executor=SubprocessExecutor(), model_client=client, model_client_stream=True
    )
    items = await collect(agent, [text("go", source="user")])
    generation = next(i for i in items if isinstance(i, CodeGenerationEvent))
    response = items[-1]
    assert isinstance(response, Response)
    chunks = [i for i in items if isinstance(i, ModelClientStreamingChunkEvent)]
    by_message: dict[str | None, str] = {}
    for chunk in chunks:
        by_message[chunk.full_message_id] = by_message.get(chunk.full_message_id, "") + chunk.content
    assert by_message == {generation.id: generation.content, response.chat_message.id: "All good."}
    assert not any(isinstance(m, ModelClientStreamingChunkEvent) for m in response.inner_messages or [])


async def test_thoughts_are_reported() -> None:
    client = ReplayChatCompletionClient(
        [
            CreateResult(finish_reason="stop", content=SQRT, thought="maths", usage=RequestUsage(1, 1), cached=False),
            CreateResult(
                finish_reason="stop", content="Done.", thought="check", usage=RequestUsage(1, 1), cached=False
            ),
        ]
    )
    agent = CodeExecutorAgent("coder", code_executor=SubprocessExecutor(), model_client=client)
    items = await collect(agent, [text("go", source="user")])
    thoughts = [i.content for i in items if isinstance(i, ThoughtEvent)]
    assert thoughts == ["maths", "check"]
    context = await agent.model_context.get_messages()
    assert [getattr(m, "thought", None) for m in context if type(m).__name__ == "AssistantMessage"] == [
        "maths",
        "check",
    ]


async def test_handoff_context_enters_the_model_context_and_reset_clears_it() -> None:
    client = ReplayChatCompletionClient(["No code needed."])
    agent = CodeExecutorAgent("coder", code_executor=SubprocessExecutor(), model_client=client)
    earlier = UserMessage(content="earlier question", source="user")
    await agent.on_messages(
        [HandoffMessage(content="over to you", source="planner", target="coder", context=[earlier])],
        CancellationToken(),
    )
    context = await agent.model_context.get_messages()
    assert [m.content for m in context] == ["earlier question", "over to you", "No code needed."]
    await agent.on_reset(CancellationToken())
    assert await agent.model_context.get_messages() == []


async def test_run_reports_the_same_events_as_run_stream() -> None:
    def make() -> CodeExecutorAgent:
        client = ReplayChatCompletionClient([SQRT, "Done."])
        return CodeExecutorAgent("coder", code_executor=SubprocessExecutor(), model_client=client)

    result = await make().run(task="go")
    streamed = [item async for item in make().run_stream(task="go")][-1]
    assert [type(m).__name__ for m in result.messages] == [type(m).__name__ for m in streamed.messages]  # type: ignore[union-attr]
    assert [type(m).__name__ for m in result.messages] == [
        "TextMessage",
        "CodeGenerationEvent",
        "CodeExecutionEvent",
        "TextMessage",
    ]


# -- construction ---------------------------------------------------------------------------------------


def test_default_descriptions_depend_on_the_model_client() -> None:
    terminal = CodeExecutorAgent("runner", code_executor=SubprocessExecutor())
    coder = CodeExecutorAgent("coder", code_executor=SubprocessExecutor(), model_client=ReplayChatCompletionClient([]))
    assert terminal.description == CodeExecutorAgent.DEFAULT_TERMINAL_DESCRIPTION
    assert coder.description == CodeExecutorAgent.DEFAULT_AGENT_DESCRIPTION
    assert terminal.produced_message_types == (TextMessage,)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_retries_on_error": -1}, "must be 0 or more"),
        ({"max_retries_on_error": 1}, "needs a model_client"),
        ({"max_retries_on_error": 1, "model_client": ReplayChatCompletionClient([])}, "structured output"),
        ({"supported_languages": []}, "non-empty list"),
    ],
)
def test_bad_settings_are_explained(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        CodeExecutorAgent("runner", code_executor=SubprocessExecutor(), **kwargs)  # type: ignore[arg-type]


def test_the_executor_must_be_a_code_executor() -> None:
    with pytest.raises(TypeError, match=r"salon\.code_executor\.CodeExecutor"):
        CodeExecutorAgent("runner", code_executor="docker")  # type: ignore[arg-type]
