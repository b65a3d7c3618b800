"""SocietyOfMindAgent: a whole team behind one agent's name.

An outer team sees one participant; behind it an inner team discusses each turn, and a model condenses
that discussion into one standalone reply, so the outer conversation stays short.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping, Sequence
from typing import Any

from salon import CancellationToken
from salon.model_context import ChatCompletionContext, UnboundedChatCompletionContext
from salon.models import ChatCompletionClient, LLMMessage, SystemMessage, UserMessage

from ..base import Response, TaskResult, Team
from ..messages import (
    BaseAgentEvent,
    BaseChatMessage,
    HandoffMessage,
    ModelClientStreamingChunkEvent,
    TextMessage,
)
from ..state import SocietyOfMindAgentState
from ._base_chat_agent import BaseChatAgent

__all__ = ["SocietyOfMindAgent"]


class SocietyOfMindAgent(BaseChatAgent):
    """An agent that answers by running an inner team, then summarising its discussion with a model.

    Each turn runs ``team`` on the new messages (earlier turns' messages, kept in ``model_context``,
    go first as the context of a :class:`~salon_agentchat.messages.HandoffMessage`), streams the inner
    team's events and messages to the caller, and then asks ``model_client`` for the reply: the
    ``instruction``, the inner team's chat messages, and the ``response_prompt``. The two prompts are
    system messages when the model accepts several (``model_info["multiple_system_messages"]``), else
    user messages. If the inner team said nothing, the reply is ``"No response."``. The inner team is
    reset after every turn, so its conversation never grows across turns.

    The reply's ``inner_messages`` is empty, as in AutoGen: :meth:`run` reports only the task and the
    reply, while :meth:`run_stream` also shows the inner team at work.

    Args:
        name: The agent's name.
        team: The inner team.
        model_client: The model that writes the reply from the inner discussion.
        description: For selectors choosing the next speaker.
        instruction: Put before the inner team's messages; defaults to :attr:`DEFAULT_INSTRUCTION`.
        response_prompt: Put after them; defaults to :attr:`DEFAULT_RESPONSE_PROMPT`.
        model_context: Keeps the messages of earlier turns; a bounded context limits how many the inner
            team sees again. Preloaded messages are cleared by :meth:`on_reset`.

    Example::

        inner = RoundRobinGroupChat([writer, editor], termination_condition=TextMentionTermination("APPROVE"))
        author = SocietyOfMindAgent("author", team=inner, model_client=model_client)
        team = RoundRobinGroupChat([author, translator], max_turns=2)
        await Console(team.run_stream(task="Write a short story with a surprising ending."))
    """

    DEFAULT_INSTRUCTION = (
        "Earlier you were asked to fulfill a request. You and your team worked diligently to address that "
        "request. Here is a transcript of that conversation:"
    )
    """The default text put before the inner team's messages."""

    DEFAULT_RESPONSE_PROMPT = (
        "Output a standalone response to the original request, without mentioning any of the intermediate discussion."
    )
    """The default text put after the inner team's messages."""

    DEFAULT_DESCRIPTION = "An agent that uses an inner team of agents to generate responses."
    """The default description."""

    def __init__(
        self,
        name: str,
        team: Team,
        model_client: ChatCompletionClient,
        *,
        description: str = DEFAULT_DESCRIPTION,
        instruction: str = DEFAULT_INSTRUCTION,
        response_prompt: str = DEFAULT_RESPONSE_PROMPT,
        model_context: ChatCompletionContext | None = None,
    ) -> None:
        super().__init__(name=name, description=description)
        if not isinstance(team, Team):
            raise TypeError(
                f"team must be a Team (for example salon_teams.RoundRobinGroupChat), got {type(team).__name__}."
            )
        self._team = team
        self._model_client = model_client
        self._instruction = instruction
        self._response_prompt = response_prompt
        self._model_context = model_context if model_context is not None else UnboundedChatCompletionContext()

    @property
    def produced_message_types(self) -> Sequence[type[BaseChatMessage]]:
        """Always a text reply."""
        return (TextMessage,)

    @property
    def model_context(self) -> ChatCompletionContext:
        """The messages of earlier turns, replayed to the inner team at the start of each turn."""
        return self._model_context

    async def on_messages(self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken) -> Response:
        """Run the inner team and return the summarised reply (see :meth:`on_messages_stream`)."""
        response: Response | None = None
        async for item in self.on_messages_stream(messages, cancellation_token):
            if isinstance(item, Response):
                response = item
        if response is None:
            raise AssertionError("SocietyOfMindAgent.on_messages_stream ended without a Response.")
        return response

    async def on_messages_stream(
        self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken
    ) -> AsyncGenerator[BaseAgentEvent | BaseChatMessage | Response, None]:
        """Relay the inner team's run, then yield the model's summary as the reply."""
        task: list[BaseChatMessage] = list(messages)
        earlier = await self._model_context.get_messages()
        if earlier:
            task.insert(
                0, HandoffMessage(content="relevant previous messages", source=self.name, target="", context=earlier)
            )
        discussion: list[BaseAgentEvent | BaseChatMessage] = []
        result: TaskResult | None = None
        async for item in self._team.run_stream(
            task=task or None, cancellation_token=cancellation_token, output_task_messages=False
        ):
            if isinstance(item, TaskResult):
                result = item
                continue
            yield item
            if not isinstance(item, ModelClientStreamingChunkEvent):
                discussion.append(item)
        if result is None:
            raise RuntimeError(f"The inner team of {self.name!r} ended its stream without a TaskResult.")
        if discussion:
            yield Response(chat_message=await self._summarise(discussion, cancellation_token), inner_messages=[])
        else:
            yield Response(chat_message=TextMessage(content="No response.", source=self.name), inner_messages=[])
        await self._remember(messages)
        await self._team.reset()

    async def _summarise(
        self, discussion: Sequence[BaseAgentEvent | BaseChatMessage], cancellation_token: CancellationToken
    ) -> TextMessage:
        """Ask the model for one standalone reply written from the inner team's chat messages."""
        as_system = bool(self._model_client.model_info.get("multiple_system_messages", False))

        def prompt(text: str) -> LLMMessage:
            return SystemMessage(content=text) if as_system else UserMessage(content=text, source="user")

        request: list[LLMMessage] = [prompt(self._instruction)]
        request.extend(message.to_model_message() for message in discussion if isinstance(message, BaseChatMessage))
        request.append(prompt(self._response_prompt))
        completion = await self._model_client.create(request, cancellation_token=cancellation_token)
        if not isinstance(completion.content, str):
            raise RuntimeError(
                f"{self.name!r} asked its model for a text reply but got {type(completion.content).__name__}; "
                "the model client must not be given tools for this call."
            )
        return TextMessage(content=completion.content, source=self.name, models_usage=completion.usage)

    async def _remember(self, messages: Sequence[BaseChatMessage]) -> None:
        """Keep this turn's incoming messages (and what handoffs carried) for the next turns."""
        for message in messages:
            if isinstance(message, HandoffMessage):
                for carried in message.context:
                    await self._model_context.add_message(carried)
            await self._model_context.add_message(message.to_model_message())

    async def on_reset(self, cancellation_token: CancellationToken) -> None:
        """Reset the inner team and forget earlier turns."""
        await self._team.reset()
        await self._model_context.clear()

    async def save_state(self) -> Mapping[str, Any]:
        """The inner team's state, as a :class:`~salon_agentchat.state.SocietyOfMindAgentState`."""
        return SocietyOfMindAgentState(inner_team_state=await self._team.save_state()).model_dump()

    async def load_state(self, state: Mapping[str, Any]) -> None:
        """Restore the inner team from :meth:`save_state`'s result."""
        await self._team.load_state(SocietyOfMindAgentState.model_validate(state).inner_team_state)
