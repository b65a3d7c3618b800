"""SelectorGroupChat: a model (or your function) picks who speaks next after every message."""

from __future__ import annotations

import inspect
import logging
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, cast

from salon import AgentRuntime
from salon.model_context import ChatCompletionContext, UnboundedChatCompletionContext
from salon.models import (
    AssistantMessage,
    ChatCompletionClient,
    CreateResult,
    LLMMessage,
    ModelFamily,
    SystemMessage,
    UserMessage,
)
from salon_agentchat import TRACE_LOGGER_NAME
from salon_agentchat.base import ChatAgent, Team, TerminationCondition
from salon_agentchat.group_chat import BaseGroupChat, BaseGroupChatManager
from salon_agentchat.messages import (
    BaseAgentEvent,
    BaseChatMessage,
    ModelClientStreamingChunkEvent,
    SelectorEvent,
)
from salon_agentchat.state import SelectorManagerState
from salon_agentchat.utils import add_to_model_context

__all__ = [
    "CandidateFuncType",
    "SelectorFuncType",
    "SelectorGroupChat",
    "SelectorGroupChatManager",
]

trace_logger = logging.getLogger(TRACE_LOGGER_NAME)

SyncSelectorFunc = Callable[[Sequence[BaseAgentEvent | BaseChatMessage]], str | None]
AsyncSelectorFunc = Callable[[Sequence[BaseAgentEvent | BaseChatMessage]], Awaitable[str | None]]
SelectorFuncType = SyncSelectorFunc | AsyncSelectorFunc
"""A function of the thread that names the next speaker, or returns ``None`` to let the model choose."""

SyncCandidateFunc = Callable[[Sequence[BaseAgentEvent | BaseChatMessage]], list[str]]
AsyncCandidateFunc = Callable[[Sequence[BaseAgentEvent | BaseChatMessage]], Awaitable[list[str]]]
CandidateFuncType = SyncCandidateFunc | AsyncCandidateFunc
"""A function of the thread that narrows the names the model may choose from."""

DEFAULT_SELECTOR_PROMPT = """You are in a role play game. The following roles are available:
{roles}.
Read the following conversation. Then select the next role from {participants} to play. Only return the role.

{history}

Read the above conversation. Then select the next role from {participants} to play. Only return the role.
"""


class SelectorGroupChatManager(BaseGroupChatManager):
    """Picks the next speaker with ``selector_func``, else by asking the model, retrying on a bad answer.

    The model sees ``selector_prompt`` filled with the roles, the candidates and the conversation (from the
    manager's own model context). An answer must name exactly one candidate; otherwise the model is told
    what was wrong and asked again, up to ``max_selector_attempts`` times. After that the choice falls
    back, deterministically, to the previous speaker if it is a candidate, else the first candidate, and a
    warning says so. (AutoGen may fall back to a previous speaker that is not a candidate, and accepts a
    named participant that ``candidate_func`` excluded; Salon keeps every choice within the candidates.
    A speaker chosen by ``selector_func`` also counts as the previous speaker, so that
    ``allow_repeated_speaker=False`` holds across the two ways of choosing; AutoGen forgets it.)
    """

    def __init__(
        self,
        *args: Any,
        model_client: ChatCompletionClient,
        selector_prompt: str,
        allow_repeated_speaker: bool,
        selector_func: SelectorFuncType | None,
        max_selector_attempts: int,
        candidate_func: CandidateFuncType | None,
        model_context: ChatCompletionContext | None,
        model_client_streaming: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self._model_client = model_client
        self._selector_prompt = selector_prompt
        self._allow_repeated_speaker = allow_repeated_speaker
        self._selector_func = selector_func
        self._is_selector_func_async = inspect.iscoroutinefunction(selector_func)
        self._max_selector_attempts = max_selector_attempts
        self._candidate_func = candidate_func
        self._is_candidate_func_async = inspect.iscoroutinefunction(candidate_func)
        self._model_client_streaming = model_client_streaming
        self._model_context = model_context if model_context is not None else UnboundedChatCompletionContext()

    async def validate_group_state(self, messages: list[BaseChatMessage] | None) -> None:
        """Any start is valid."""

    def _reset_strategy_state(self) -> None:
        """Forget the previous speaker."""
        self._previous_speaker: str | None = None

    async def reset(self) -> None:
        """Also clear the selector's model context."""
        await super().reset()
        await self._model_context.clear()

    async def save_state(self) -> Mapping[str, Any]:
        """The thread, the turn count and the previous speaker (a ``SelectorManagerState``)."""
        state = SelectorManagerState(**self._thread_state(), previous_speaker=self._previous_speaker)
        return state.model_dump()

    async def load_state(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`save_state`'s output; the model context is rebuilt from the thread."""
        loaded = SelectorManagerState.model_validate(state)
        self._load_thread_state(loaded.message_thread, loaded.current_turn)
        await self._model_context.clear()
        await add_to_model_context(
            self._model_context, [m for m in self._message_thread if isinstance(m, BaseChatMessage)]
        )
        self._previous_speaker = loaded.previous_speaker

    async def update_message_thread(self, messages: Sequence[BaseAgentEvent | BaseChatMessage]) -> None:
        """Extend the thread and feed the chat messages to the selector's model context."""
        self._message_thread.extend(messages)
        await add_to_model_context(self._model_context, [m for m in messages if isinstance(m, BaseChatMessage)])

    async def select_speaker(self, thread: Sequence[BaseAgentEvent | BaseChatMessage]) -> list[str] | str:
        """Ask ``selector_func``, then (if it abstains) the model; always returns one name.

        Raises:
            ValueError: ``selector_func`` named a non-participant, or ``candidate_func`` returned no names or
                names that are not participants.
        """
        if self._selector_func is not None:
            if self._is_selector_func_async:
                speaker = await cast(AsyncSelectorFunc, self._selector_func)(thread)
            else:
                speaker = cast(SyncSelectorFunc, self._selector_func)(thread)
            if speaker is not None:
                if speaker not in self._participant_names:
                    raise ValueError(
                        f"selector_func returned {speaker!r}, which is not a participant; "
                        f"expected one of {self._participant_names} (or None to let the model choose)."
                    )
                self._previous_speaker = speaker
                return [speaker]
        participants = await self._candidates(thread)
        if len(participants) > 1:
            roles = "\n".join(
                re.sub(r"\s+", " ", f"{name}: {description}").strip()
                for name, description in zip(self._participant_names, self._participant_descriptions, strict=True)
            )
            agent_name = await self._select_speaker(roles, participants, self._max_selector_attempts)
        else:
            agent_name = participants[0]
        self._previous_speaker = agent_name
        trace_logger.debug("Selected speaker: %s", agent_name)
        return [agent_name]

    async def _candidates(self, thread: Sequence[BaseAgentEvent | BaseChatMessage]) -> list[str]:
        if self._candidate_func is not None:
            if self._is_candidate_func_async:
                candidates = await cast(AsyncCandidateFunc, self._candidate_func)(thread)
            else:
                candidates = cast(SyncCandidateFunc, self._candidate_func)(thread)
            if not candidates:
                raise ValueError("candidate_func must return a non-empty list of participant names.")
            unknown = [c for c in candidates if c not in self._participant_names]
            if unknown:
                raise ValueError(
                    f"candidate_func returned {unknown}, which are not participants; "
                    f"expected names from {self._participant_names}."
                )
            return list(candidates)
        if self._previous_speaker is not None and not self._allow_repeated_speaker:
            return [p for p in self._participant_names if p != self._previous_speaker]
        return list(self._participant_names)

    def construct_message_history(self, message_history: list[LLMMessage]) -> str:
        """The conversation as ``"<source>: <content>"`` paragraphs (user and assistant messages only)."""
        lines = [
            f"{msg.source}: {msg.content}".rstrip() + "\n\n"
            for msg in message_history
            if isinstance(msg, UserMessage | AssistantMessage)
        ]
        return "\n".join(lines)

    async def _select_speaker(self, roles: str, participants: list[str], max_attempts: int) -> str:
        history = self.construct_message_history(await self._model_context.get_messages())
        prompt = self._selector_prompt.format(roles=roles, participants=str(participants), history=history)
        messages: list[LLMMessage] = (
            [SystemMessage(content=prompt)]
            if ModelFamily.is_openai(self._model_client.model_info["family"])
            else [UserMessage(content=prompt, source="user")]  # many other models want a user turn to answer
        )
        for attempt in range(1, max_attempts + 1):
            content = await self._ask_model(messages)
            messages.append(AssistantMessage(content=content, source="selector"))
            # Mentions are counted over all participants, so that naming an excluded one is caught and explained.
            mentions = self._mentioned_agents(content, self._participant_names)
            if len(mentions) == 1:
                agent_name = next(iter(mentions))
                if agent_name in participants:
                    trace_logger.debug("Model selected a valid name: %s (attempt %d)", agent_name, attempt)
                    return agent_name
                if not self._allow_repeated_speaker and agent_name == self._previous_speaker:
                    feedback = f"Repeated speaker is not allowed, please select a different name from: {participants}."
                else:
                    feedback = f"{agent_name} is not a candidate now. Please select from: {participants}."
            elif not mentions:
                feedback = f"No valid name was mentioned. Please select from: {participants}."
            else:
                feedback = f"Expected exactly one name to be mentioned. Please select only one from: {participants}."
            trace_logger.debug("Model answer rejected (attempt %d): %r", attempt, content)
            messages.append(UserMessage(content=feedback, source="user"))
        fallback = self._previous_speaker if self._previous_speaker in participants else participants[0]
        assert fallback is not None
        trace_logger.warning(
            "Selector model failed to select a speaker after %d attempts; falling back to %r.", max_attempts, fallback
        )
        return fallback

    async def _ask_model(self, messages: list[LLMMessage]) -> str:
        if not self._model_client_streaming:
            response = await self._model_client.create(messages=list(messages))
        else:
            result: CreateResult | str | None = None
            async for chunk in self._model_client.create_stream(messages=list(messages)):
                result = chunk
                if self._emit_team_events:
                    if isinstance(chunk, str):
                        self._output_message_queue.put_nowait(
                            ModelClientStreamingChunkEvent(content=chunk, source=self._name)
                        )
                    elif isinstance(chunk.content, str):
                        self._output_message_queue.put_nowait(SelectorEvent(content=chunk.content, source=self._name))
            if not isinstance(result, CreateResult):
                raise RuntimeError("The selector's model stream did not end with a CreateResult.")
            response = result
        if not isinstance(response.content, str):
            raise TypeError(
                f"The selector model must answer with text, got {type(response.content).__name__} "
                "(a tool call?); give the team a model client without tools."
            )
        return response.content

    def _mentioned_agents(self, message_content: str, agent_names: list[str]) -> dict[str, int]:
        """Count how often each name appears as a whole word (also spelt with spaces or escaped underscores)."""
        mentions: dict[str, int] = {}
        padded = f" {message_content} "
        for name in agent_names:
            variants = "|".join(re.escape(v) for v in (name, name.replace("_", " "), name.replace("_", r"\_")))
            count = len(re.findall(rf"(?<=\W)({variants})(?=\W)", padded))
            if count > 0:
                mentions[name] = count
        return mentions


class SelectorGroupChat(BaseGroupChat):
    """A team where, after every message, a model chooses the next speaker among the participants.

    Args:
        participants: The agents and teams; at least two, with unique names.
        model_client: The model that picks speakers.
        name: The team's name (default :attr:`DEFAULT_NAME`).
        description: The team's description (default :attr:`DEFAULT_DESCRIPTION`).
        termination_condition: Ends a run; without one (and without ``max_turns``) the team runs forever.
        max_turns: Ends a run after this many turns.
        runtime: Run on this runtime instead of an embedded one.
        selector_prompt: The prompt template, with the fields ``{roles}`` (``"<name>: <description>"`` lines),
            ``{participants}`` (the candidates' names as a list) and ``{history}`` (the conversation).
        allow_repeated_speaker: Whether the previous speaker may be chosen again (default no).
        max_selector_attempts: How many times to ask the model before falling back (see
            :class:`SelectorGroupChatManager`).
        selector_func: Picks the speaker itself (sync or async); returning ``None`` lets the model pick.
        candidate_func: Narrows the model's choice (sync or async); used only when ``selector_func`` abstains;
            overrides ``allow_repeated_speaker``.
        custom_message_types: Message classes beyond the built-in ones that participants exchange.
        emit_team_events: Put ``SelectSpeakerEvent`` (and, when streaming, the selector's chunks and
            ``SelectorEvent``) in the run's stream.
        model_client_streaming: Call the model with ``create_stream`` (useful for reasoning models).
        model_context: Holds the conversation the selector sees (default: unbounded); it may be preloaded,
            and is cleared by :meth:`reset`.

    Raises:
        ValueError: fewer than two participants, duplicate names, or ``max_selector_attempts`` below one.
    """

    DEFAULT_NAME = "SelectorGroupChat"
    DEFAULT_DESCRIPTION = "A team of agents."

    def __init__(
        self,
        participants: list[ChatAgent | Team],
        model_client: ChatCompletionClient,
        *,
        name: str | None = None,
        description: str | None = None,
        termination_condition: TerminationCondition | None = None,
        max_turns: int | None = None,
        runtime: AgentRuntime | None = None,
        selector_prompt: str = DEFAULT_SELECTOR_PROMPT,
        allow_repeated_speaker: bool = False,
        max_selector_attempts: int = 3,
        selector_func: SelectorFuncType | None = None,
        candidate_func: CandidateFuncType | None = None,
        custom_message_types: list[type[BaseAgentEvent | BaseChatMessage]] | None = None,
        emit_team_events: bool = False,
        model_client_streaming: bool = False,
        model_context: ChatCompletionContext | None = None,
    ) -> None:
        super().__init__(
            name=name or self.DEFAULT_NAME,
            description=description or self.DEFAULT_DESCRIPTION,
            participants=participants,
            group_chat_manager_name="SelectorGroupChatManager",
            group_chat_manager_class=SelectorGroupChatManager,
            termination_condition=termination_condition,
            max_turns=max_turns,
            runtime=runtime,
            custom_message_types=custom_message_types,
            emit_team_events=emit_team_events,
        )
        if len(participants) < 2:
            raise ValueError("SelectorGroupChat needs at least two participants; use RoundRobinGroupChat for one.")
        if max_selector_attempts < 1:
            raise ValueError(f"max_selector_attempts must be at least 1, got {max_selector_attempts}.")
        self._selector_prompt = selector_prompt
        self._model_client = model_client
        self._allow_repeated_speaker = allow_repeated_speaker
        self._selector_func = selector_func
        self._max_selector_attempts = max_selector_attempts
        self._candidate_func = candidate_func
        self._model_client_streaming = model_client_streaming
        self._model_context = model_context

    def _manager_options(self) -> dict[str, Any]:
        return {
            "model_client": self._model_client,
            "selector_prompt": self._selector_prompt,
            "allow_repeated_speaker": self._allow_repeated_speaker,
            "selector_func": self._selector_func,
            "max_selector_attempts": self._max_selector_attempts,
            "candidate_func": self._candidate_func,
            "model_context": self._model_context,
            "model_client_streaming": self._model_client_streaming,
        }
