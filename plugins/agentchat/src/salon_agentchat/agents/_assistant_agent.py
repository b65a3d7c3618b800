"""AssistantAgent: the model-driven chat agent with tools, workbenches, handoffs, memory and structured output."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncGenerator, Mapping, Sequence
from typing import Any

from pydantic import BaseModel

from salon import CancellationToken
from salon.memory import Memory
from salon.model_context import ChatCompletionContext, UnboundedChatCompletionContext
from salon.models import (
    AssistantMessage,
    ChatCompletionClient,
    CreateResult,
    FunctionExecutionResultMessage,
    SystemMessage,
)
from salon.tools import Tool, Workbench

from .. import EVENT_LOGGER_NAME
from ..base import Handoff, Response
from ..messages import (
    BaseAgentEvent,
    BaseChatMessage,
    HandoffMessage,
    MemoryQueryEvent,
    StructuredMessage,
    StructuredMessageFactory,
    TextMessage,
    ThoughtEvent,
    ToolCallExecutionEvent,
    ToolCallRequestEvent,
    ToolCallSummaryMessage,
)
from ..state import AssistantAgentState
from ..utils import add_to_model_context
from ._assistant_inference import ImageScan, ToolListing, ToolRouter, call_model, compatible_messages, prompt
from ._assistant_replies import SummaryFormatter, final_message, handoff_message, tool_call_summary
from ._assistant_setup import ToolSpec, build_tool_setup, check_max_tool_iterations, check_memory
from ._assistant_tool_calls import ExecutedCall, run_tool_calls
from ._base_chat_agent import BaseChatAgent

__all__ = ["AssistantAgent"]

_event_logger = logging.getLogger(EVENT_LOGGER_NAME)

_DEFAULT_DESCRIPTION = "An agent that provides assistance with ability to use tools."
_DEFAULT_SYSTEM_MESSAGE = (
    "You are a helpful AI assistant. Solve tasks using your tools. Reply with TERMINATE when the task has been "
    "completed."
)

_Item = BaseAgentEvent | BaseChatMessage
"""What a turn reports before its :class:`Response`."""


class AssistantAgent(BaseChatAgent):
    """An agent that answers with a model, calling tools and handing off to other agents as the model asks.

    Each turn (:meth:`on_messages` / :meth:`on_messages_stream`, or :meth:`run` for a task):

    1. The new messages go into the model context (a :class:`HandoffMessage` brings its ``context``
       first); pass only the new messages each time, since the agent remembers the conversation.
    2. Each memory updates the context; a :class:`MemoryQueryEvent` reports what it added.
    3. The model is called with the system message, the context and the tools (streamed as
       :class:`ModelClientStreamingChunkEvent` chunks with ``model_client_stream=True``). A reasoning model's
       thought is reported as a :class:`ThoughtEvent`.
    4. A text answer ends the turn as a :class:`TextMessage` (a :class:`StructuredMessage` with
       ``output_content_type``). Tool calls are announced (:class:`ToolCallRequestEvent`), run concurrently,
       and reported (:class:`ToolCallExecutionEvent`). A handoff call ends the turn with a
       :class:`HandoffMessage`. Otherwise the model is called again with the results, up to
       ``max_tool_iterations`` rounds; after the last round the agent either asks the model once more to
       answer from the results (``reflect_on_tool_use``) or ends with a :class:`ToolCallSummaryMessage`.

    The agent holds conversation state and is not safe to run from two coroutines at once: a team or a
    caller runs it one turn at a time. For the same reason, a model calling one :class:`AgentTool` several
    times in parallel would run one agent concurrently; disable parallel tool calls in such a setup.

    Deliberate differences from AutoGen's agent: a workbench that raises instead of returning an error
    result gives the model an error result too (AutoGen ends the turn); a tool call with empty arguments
    (``""``, sent by some models for tools without parameters) means no arguments; arguments a model adds
    to a handoff call are ignored; ``output_content_type_format`` also applies to the answer after
    reflection; :meth:`load_state` refuses another kind of state with an error naming it.

    Args:
        name: The agent's name, a Python identifier unique in its team.
        model_client: The model. Tools and handoffs need ``model_info["function_calling"]``.
        tools: Tools, or plain functions (wrapped in :class:`~salon.tools.FunctionTool`, their docstring as
            description). Names must be unique. Not together with ``workbench``.
        workbench: One workbench or several (searched in order) instead of ``tools``.
        handoffs: :class:`~salon_agentchat.base.Handoff` objects or target agent names; each becomes a tool
            ``transfer_to_<target>`` the model can call.
        model_context: Where the conversation is kept; :class:`~salon.model_context.UnboundedChatCompletionContext`
            by default. A bounded context limits what the model sees, not what is stored.
        description: What the agent does, for teams that pick speakers.
        system_message: The instructions put before the conversation; ``None`` for none.
        model_client_stream: Stream the model's answer as chunk events.
        reflect_on_tool_use: After tool calls, ask the model to answer from the results instead of
            returning their summary. Defaults to ``True`` when ``output_content_type`` is set, else ``False``.
        max_tool_iterations: Rounds of tool calls per turn (at least 1).
        tool_call_summary_format: The line per call in a :class:`ToolCallSummaryMessage`; may use
            ``{tool_name}``, ``{arguments}``, ``{result}`` and ``{is_error}``.
        tool_call_summary_formatter: A function ``(call, result) -> str`` used instead of the format string,
            for example to word errors differently.
        output_content_type: A pydantic model the answer must be (structured output): the model is asked
            for it through ``json_output`` and the answer is parsed into a :class:`StructuredMessage`.
        output_content_type_format: A format string over the model's fields for the message's text form.
        memory: Memories consulted before every model call.
        metadata: Free-form string annotations (kept on the agent, for the application's own use).

    Raises:
        ValueError: Tools together with a workbench; tools or handoffs for a model without function calling;
            duplicate tool or handoff names; a handoff named like a tool; an unsupported tool or handoff;
            ``max_tool_iterations`` below 1.
        TypeError: ``memory`` is not a list of memories.

    Example::

        agent = AssistantAgent("assistant", model_client=client, tools=[get_weather])
        result = await agent.run(task="What is the weather in Paris?")
        print(result.messages[-1].to_text())
    """

    def __init__(
        self,
        name: str,
        model_client: ChatCompletionClient,
        *,
        tools: Sequence[ToolSpec] | None = None,
        workbench: Workbench | Sequence[Workbench] | None = None,
        handoffs: Sequence[Handoff | str] | None = None,
        model_context: ChatCompletionContext | None = None,
        description: str = _DEFAULT_DESCRIPTION,
        system_message: str | None = _DEFAULT_SYSTEM_MESSAGE,
        model_client_stream: bool = False,
        reflect_on_tool_use: bool | None = None,
        max_tool_iterations: int = 1,
        tool_call_summary_format: str = "{result}",
        tool_call_summary_formatter: SummaryFormatter | None = None,
        output_content_type: type[BaseModel] | None = None,
        output_content_type_format: str | None = None,
        memory: Sequence[Memory] | None = None,
        metadata: dict[str, str] | None = None,
    ) -> None:
        super().__init__(name=name, description=description)
        self._metadata = metadata or {}
        self._model_client = model_client
        self._model_client_stream = model_client_stream
        self._output_content_type = output_content_type
        self._output_content_type_format = output_content_type_format
        self._structured_message_factory: StructuredMessageFactory | None = None
        if output_content_type is not None:
            self._structured_message_factory = StructuredMessageFactory(
                input_model=output_content_type, format_string=output_content_type_format
            )
        self._memory = check_memory(memory)
        self._system_messages: list[SystemMessage] = (
            [] if system_message is None else [SystemMessage(content=system_message)]
        )
        setup = build_tool_setup(model_client, tools, workbench, handoffs)
        self._tools: list[Tool] = setup.tools
        self._workbench: list[Workbench] = setup.workbenches
        self._handoff_tools: list[Tool] = setup.handoff_tools
        self._handoffs: dict[str, Handoff] = setup.handoffs
        self._handoff_tools_by_name = {tool.name: tool for tool in setup.handoff_tools}
        self._router = ToolRouter(
            setup.workbenches, setup.handoff_tools, static_tools=setup.tools if setup.owns_workbench else None
        )
        self._model_context = model_context if model_context is not None else UnboundedChatCompletionContext()
        self._image_scan = ImageScan()
        if reflect_on_tool_use is None:
            reflect_on_tool_use = output_content_type is not None
        self._reflect_on_tool_use = reflect_on_tool_use
        self._max_tool_iterations = check_max_tool_iterations(max_tool_iterations)
        self._tool_call_summary_format = tool_call_summary_format
        self._tool_call_summary_formatter = tool_call_summary_formatter

    # -- what the agent is -------------------------------------------------------------------------------

    @property
    def produced_message_types(self) -> Sequence[type[BaseChatMessage]]:
        """Text, tool-call summaries and handoffs, plus structured messages when ``output_content_type`` is set."""
        types: list[type[BaseChatMessage]] = [TextMessage, ToolCallSummaryMessage, HandoffMessage]
        if self._structured_message_factory is not None:
            types.append(StructuredMessage)
        return types

    @property
    def model_context(self) -> ChatCompletionContext:
        """The context holding this agent's conversation."""
        return self._model_context

    @property
    def metadata(self) -> Mapping[str, str]:
        """The ``metadata`` the agent was made with."""
        return self._metadata

    _get_compatible_context = staticmethod(compatible_messages)

    # -- a turn ------------------------------------------------------------------------------------------

    async def on_messages(self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken) -> Response:
        """Take the new messages and return the agent's answer (see the class docstring for the steps)."""
        async for item in self.on_messages_stream(messages, cancellation_token):
            if isinstance(item, Response):
                return item
        raise AssertionError("on_messages_stream ended without a Response")  # pragma: no cover

    async def on_messages_stream(
        self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken
    ) -> AsyncGenerator[BaseAgentEvent | BaseChatMessage | Response, None]:
        """Take the new messages; yield the turn's events as they happen, and its :class:`Response` last."""
        name = self.name
        context = self._model_context
        await add_to_model_context(context, messages)

        inner: list[_Item] = []
        if self._memory:
            for memory_event in await self._query_memory():
                inner.append(memory_event)
                yield memory_event

        message_id = str(uuid.uuid4())
        listing = await self._router.listing()
        result: CreateResult | None = None
        async for output in self._infer(listing, message_id, cancellation_token):
            if isinstance(output, CreateResult):
                result = output
            else:
                yield output
        assert result is not None

        executed: list[ExecutedCall] = []
        last_round = self._max_tool_iterations - 1
        for round_index in range(self._max_tool_iterations):
            if result.thought:
                thought = ThoughtEvent(content=result.thought, source=name, id=message_id)
                inner.append(thought)
                yield thought
                message_id = str(uuid.uuid4())  # the chunks streamed so far belong to the thought
            await context.add_message(AssistantMessage(content=result.content, source=name, thought=result.thought))

            if isinstance(result.content, str):
                chat_message = final_message(
                    result.content,
                    source=name,
                    usage=result.usage,
                    message_id=message_id,
                    structured=self._structured_message_factory,
                )
                yield Response(chat_message=chat_message, inner_messages=inner)
                return

            request = ToolCallRequestEvent(content=result.content, source=name, models_usage=result.usage)
            if _event_logger.isEnabledFor(logging.DEBUG):
                _event_logger.debug(request)
            inner.append(request)
            yield request
            async for item in run_tool_calls(
                result.content, listing[1], self._handoff_tools_by_name, cancellation_token
            ):
                if isinstance(item, list):
                    executed = item
                else:
                    inner.append(item)
                    yield item
            results = [call_result for _, call_result in executed]
            execution = ToolCallExecutionEvent(content=results, source=name)
            if _event_logger.isEnabledFor(logging.DEBUG):
                _event_logger.debug(execution)
            await context.add_message(FunctionExecutionResultMessage(content=results))
            inner.append(execution)
            yield execution

            if self._handoffs:
                handoff = handoff_message(result, executed, source=name, handoffs=self._handoffs)
                if handoff is not None:
                    yield Response(chat_message=handoff, inner_messages=inner)
                    return
            if round_index == last_round:
                break

            listing = await self._router.listing()
            result = None
            async for output in self._infer(listing, message_id, cancellation_token):
                if isinstance(output, CreateResult):
                    result = output
                else:
                    yield output
            assert result is not None

        if self._reflect_on_tool_use:
            async for reflection in self._reflect(inner, cancellation_token):
                yield reflection
            return
        summary = tool_call_summary(
            executed,
            source=name,
            handoffs=self._handoffs,
            summary_format=self._tool_call_summary_format,
            formatter=self._tool_call_summary_formatter,
        )
        yield Response(chat_message=summary, inner_messages=inner)

    async def _query_memory(self) -> list[MemoryQueryEvent]:
        events: list[MemoryQueryEvent] = []
        for memory in self._memory or ():
            update = await memory.update_context(self._model_context)
            if update is not None and update.memories.results:
                events.append(MemoryQueryEvent(content=update.memories.results, source=self.name))
        return events

    async def _infer(
        self, listing: ToolListing, message_id: str, cancellation_token: CancellationToken
    ) -> AsyncGenerator[Any, None]:
        messages = await prompt(self._model_client, self._system_messages, self._model_context, self._image_scan)
        options: dict[str, Any] = {
            "tools": listing[0],
            "json_output": self._output_content_type,
            "cancellation_token": cancellation_token,
        }
        async for output in call_model(
            self._model_client,
            messages,
            options,
            stream=self._model_client_stream,
            agent_name=self.name,
            message_id=message_id,
        ):
            yield output

    async def _reflect(
        self, inner: list[_Item], cancellation_token: CancellationToken
    ) -> AsyncGenerator[BaseAgentEvent | Response, None]:
        """Ask the model, without tools, to answer from the tool results; yield its chunks, thought and answer."""
        name = self.name
        messages = await prompt(self._model_client, self._system_messages, self._model_context, self._image_scan)
        message_id = str(uuid.uuid4())
        options: dict[str, Any] = {
            "json_output": self._output_content_type,
            "cancellation_token": cancellation_token,
            "tool_choice": "none",
        }
        result: CreateResult | None = None
        async for output in call_model(
            self._model_client,
            messages,
            options,
            stream=self._model_client_stream,
            agent_name=name,
            message_id=message_id,
        ):
            if isinstance(output, CreateResult):
                result = output
            else:
                yield output
        if result is None or not isinstance(result.content, str):
            raise RuntimeError(
                "Reflect on tool use produced no valid text response: the model answered the reflection request "
                "with tool calls. Use a model client that honours tool_choice='none', or set reflect_on_tool_use=False."
            )
        if result.thought:
            thought = ThoughtEvent(content=result.thought, source=name)
            inner.append(thought)
            yield thought
        await self._model_context.add_message(
            AssistantMessage(content=result.content, source=name, thought=result.thought)
        )
        chat_message = final_message(
            result.content,
            source=name,
            usage=result.usage,
            message_id=message_id,
            structured=self._structured_message_factory,
        )
        yield Response(chat_message=chat_message, inner_messages=inner)

    # -- lifecycle and state -----------------------------------------------------------------------------

    async def on_reset(self, cancellation_token: CancellationToken) -> None:
        """Forget the conversation (the model context is cleared; memories and tools keep their contents)."""
        await self._model_context.clear()

    async def save_state(self) -> Mapping[str, Any]:
        """Return the conversation as an :class:`~salon_agentchat.state.AssistantAgentState` dump."""
        return AssistantAgentState(llm_context=await self._model_context.save_state()).model_dump()

    async def load_state(self, state: Mapping[str, Any]) -> None:
        """Replace the conversation with one saved by :meth:`save_state` (of this or another assistant agent).

        Raises:
            ValueError: ``state`` is another kind of state (a team's, another agent type's).
            pydantic.ValidationError: ``state`` is not a valid saved state.
        """
        kind = state.get("type") if isinstance(state, Mapping) else None
        if kind is not None and kind != "AssistantAgentState":
            raise ValueError(
                f"Cannot load a {kind} into AssistantAgent {self.name!r}: it expects an AssistantAgentState, as "
                "returned by AssistantAgent.save_state(). Load a team's state into the team instead."
            )
        loaded = AssistantAgentState.model_validate(state)
        await self._model_context.load_state(loaded.llm_context)

    async def close(self) -> None:
        """Release nothing: the model client, workbenches and memories belong to the caller, who may share them.

        Close them yourself when every agent using them is done (``await model_client.close()``).
        """
