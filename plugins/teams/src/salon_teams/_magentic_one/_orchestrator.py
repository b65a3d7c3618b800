"""The Magentic-One orchestrator: a manager that plans with a model and directs one agent at a time.

Outer loop (the task ledger): the model lists the facts of the task and writes a plan; the ledger (task,
team, facts, plan) is shown to everyone. Inner loop (the progress ledger): after each step the model
answers five questions as JSON (is the request satisfied, are we in a loop, are we making progress, who
speaks next, what to tell them). A step that makes no progress or loops is a stall; too many stalls
send the orchestrator back to the outer loop to revise facts and plan. When the request is satisfied
(or the round budget is spent) the model writes the final answer and the run stops.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any

from salon import AgentId, CancellationToken, MessageContext, event, rpc
from salon.models import AssistantMessage, ChatCompletionClient, CreateResult, LLMMessage, UserMessage
from salon_agentchat import TRACE_LOGGER_NAME
from salon_agentchat.base import Response
from salon_agentchat.group_chat import (
    BaseGroupChatManager,
    GroupChatAgentResponse,
    GroupChatMessage,
    GroupChatRequestPublish,
    GroupChatReset,
    GroupChatStart,
    GroupChatTeamResponse,
    SerializableException,
)
from salon_agentchat.messages import (
    BaseAgentEvent,
    BaseChatMessage,
    SelectSpeakerEvent,
    StopMessage,
    TextMessage,
)
from salon_agentchat.state import MagenticOneOrchestratorState
from salon_agentchat.utils import remove_images

from ._ledger import extract_json_objects, ledger_problem, thread_to_context
from ._prompts import (
    ORCHESTRATOR_FINAL_ANSWER_PROMPT,
    ORCHESTRATOR_PROGRESS_LEDGER_PROMPT,
    ORCHESTRATOR_TASK_LEDGER_FACTS_PROMPT,
    ORCHESTRATOR_TASK_LEDGER_FACTS_UPDATE_PROMPT,
    ORCHESTRATOR_TASK_LEDGER_FULL_PROMPT,
    ORCHESTRATOR_TASK_LEDGER_PLAN_PROMPT,
    ORCHESTRATOR_TASK_LEDGER_PLAN_UPDATE_PROMPT,
    LedgerEntry,
)

__all__ = ["MagenticOneOrchestrator"]

trace_logger = logging.getLogger(TRACE_LOGGER_NAME)

MAX_JSON_RETRIES = 10
"""How many times the model may answer the progress ledger before the run fails."""


class MagenticOneOrchestrator(BaseGroupChatManager):
    """The manager of :class:`~salon_teams.MagenticOneGroupChat` (see the module docstring for the loop)."""

    def __init__(
        self, *args: Any, model_client: ChatCompletionClient, max_stalls: int, final_answer_prompt: str, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self._model_client = model_client
        self._max_stalls = max_stalls
        self._final_answer_prompt = final_answer_prompt
        self._max_json_retries = MAX_JSON_RETRIES
        # One line per member, whitespace collapsed, so the model reads the roster as a list.
        self._team_description = "\n".join(
            re.sub(r"\s+", " ", f"{member}: {description}").strip()
            for member, description in zip(self._participant_names, self._participant_descriptions, strict=True)
        )

    def _reset_strategy_state(self) -> None:
        """Forget the task, its ledgers and counters."""
        self._task = ""
        self._facts = ""
        self._plan = ""
        self._n_rounds = 0
        self._n_stalls = 0

    # ------------------------------------------------------------------ handlers

    @rpc
    async def handle_start(self, message: GroupChatStart, ctx: MessageContext) -> None:
        """Plan the task (facts, then plan) and start the inner loop; without a task, resume it."""
        self._active_speakers.clear()
        if self._termination_condition is not None and self._termination_condition.terminated:
            await self._signal_termination(
                StopMessage(content="The group chat has already terminated.", source=self._name)
            )
            return
        await self.validate_group_state(message.messages)
        if not message.messages:
            if not self._task:
                raise ValueError("MagenticOneGroupChat needs a task: run it with task=... before resuming it.")
            await self._orchestrate_step(ctx.cancellation_token)
            return
        await self.publish_message(GroupChatStart(messages=message.messages), topic_id=self._output_topic)
        if message.output_task_messages:
            for task_message in message.messages:
                self._output_message_queue.put_nowait(task_message)

        self._task = " ".join(task_message.to_model_text() for task_message in message.messages)
        self._n_rounds = 0  # a new task gets the whole round budget
        self._n_stalls = 0
        planning: list[LLMMessage] = [
            UserMessage(content=ORCHESTRATOR_TASK_LEDGER_FACTS_PROMPT.format(task=self._task), source=self._name)
        ]
        self._facts = await self._complete(planning, ctx.cancellation_token)
        planning.append(AssistantMessage(content=self._facts, source=self._name))
        planning.append(
            UserMessage(
                content=ORCHESTRATOR_TASK_LEDGER_PLAN_PROMPT.format(team=self._team_description), source=self._name
            )
        )
        self._plan = await self._complete(planning, ctx.cancellation_token)
        await self._reenter_outer_loop(ctx.cancellation_token)

    @event
    async def handle_agent_response(
        self, message: GroupChatAgentResponse | GroupChatTeamResponse, ctx: MessageContext
    ) -> None:
        """Record the directed agent's answer, check termination, and take the next step."""
        try:
            if not isinstance(message, GroupChatAgentResponse):
                raise TypeError("MagenticOneGroupChat cannot have teams as participants (got a team's response).")
            await self.update_message_thread([message.response.chat_message])
            if message.name not in self._active_speakers:
                return  # a late answer from a cancelled run: recorded, but it takes no step
            self._active_speakers.remove(message.name)
            inner = message.response.inner_messages
            delta = [*inner, message.response.chat_message] if inner else [message.response.chat_message]
            if self._termination_condition is not None:
                stop_message = await self._termination_condition(delta)
                if stop_message is not None:
                    await self._termination_condition.reset()
                    await self._signal_termination(stop_message)
                    return
            await self._orchestrate_step(ctx.cancellation_token)
        except Exception as e:
            await self._signal_termination_with_error(SerializableException.from_exception(e))

    # ------------------------------------------------------------------ the loops

    async def _reenter_outer_loop(self, cancellation_token: CancellationToken) -> None:
        """Start the team afresh on the current facts and plan: reset everyone and show the task ledger."""
        for topic_type in self._participant_name_to_topic_type.values():
            await self.send_message(
                GroupChatReset(), AgentId(type=topic_type, key=self.id.key), cancellation_token=cancellation_token
            )
        self._message_thread.clear()
        ledger = ORCHESTRATOR_TASK_LEDGER_FULL_PROMPT.format(
            task=self._task, team=self._team_description, facts=self._facts, plan=self._plan
        )
        await self._say(TextMessage(content=ledger, source=self._name), cancellation_token)
        await self._orchestrate_step(cancellation_token)

    async def _orchestrate_step(self, cancellation_token: CancellationToken) -> None:
        """One round of the inner loop: read the progress ledger, then finish, re-plan or direct a speaker."""
        if self._max_turns is not None and self._n_rounds > self._max_turns:
            await self._prepare_final_answer("Max rounds reached.", cancellation_token)
            return
        self._n_rounds += 1
        ledger = await self._progress_ledger(cancellation_token)
        trace_logger.debug("Progress ledger: %s", ledger)

        if ledger["is_request_satisfied"]["answer"]:
            await self._prepare_final_answer(str(ledger["is_request_satisfied"]["reason"]), cancellation_token)
            return
        if not ledger["is_progress_being_made"]["answer"] or ledger["is_in_loop"]["answer"]:
            self._n_stalls += 1
        else:
            self._n_stalls = max(0, self._n_stalls - 1)
        if self._n_stalls >= self._max_stalls:
            trace_logger.debug("Stalled %d times: revising facts and plan.", self._n_stalls)
            await self._update_task_ledger(cancellation_token)
            await self._reenter_outer_loop(cancellation_token)
            return

        next_speaker = str(ledger["next_speaker"]["answer"])
        instruction = str(ledger["instruction_or_question"]["answer"])
        await self._say(TextMessage(content=instruction, source=self._name), cancellation_token)
        self._active_speakers.append(next_speaker)
        await self.publish_message(
            GroupChatRequestPublish(),
            topic_id=self._speaker_topics[next_speaker],
            cancellation_token=cancellation_token,
        )
        if self._emit_team_events:
            select = SelectSpeakerEvent(content=[next_speaker], source=self._name)
            await self.publish_message(GroupChatMessage(message=select), topic_id=self._output_topic)
            self._output_message_queue.put_nowait(select)

    async def _progress_ledger(self, cancellation_token: CancellationToken) -> dict[str, Any]:
        """Ask the model for the progress ledger until it is valid JSON naming a participant."""
        context = thread_to_context(self._message_thread, self._name)
        context.append(
            UserMessage(
                content=ORCHESTRATOR_PROGRESS_LEDGER_PROMPT.format(
                    task=self._task, team=self._team_description, names=", ".join(self._participant_names)
                ),
                source=self._name,
            )
        )
        problem = "no answer"
        answer: object = None
        for _ in range(self._max_json_retries):
            result = await self._create(context, cancellation_token, json_ledger=True)
            answer = result.content
            if not isinstance(answer, str):
                problem = "the model answered with tool calls instead of JSON"
                continue
            try:
                objects = extract_json_objects(answer)
            except json.JSONDecodeError as e:
                problem = f"not valid JSON ({e})"
                trace_logger.debug("Progress ledger is not JSON, retrying: %s", answer)
                continue
            if len(objects) != 1:
                problem = f"expected one JSON object, found {len(objects)}"
                continue
            ledger = objects[0]
            if isinstance(ledger, dict) and len(self._participant_names) == 1:
                # With one member there is nobody else to choose.
                ledger["next_speaker"] = {
                    "reason": "The team has only one member.",
                    "answer": self._participant_names[0],
                }
            problem_found = ledger_problem(ledger, self._participant_names)
            if problem_found is None:
                return ledger  # type: ignore[no-any-return]
            problem = problem_found
            trace_logger.debug("Progress ledger rejected (%s), retrying: %s", problem, answer)
        raise ValueError(
            f"Failed to parse ledger information after multiple retries ({self._max_json_retries} answers; "
            f"last problem: {problem}; last answer: {answer!r}). The orchestrator's model must answer with the "
            "JSON progress ledger; use a model that follows JSON instructions (or supports structured output)."
        )

    async def _update_task_ledger(self, cancellation_token: CancellationToken) -> None:
        """Revise the facts, then the plan, in the light of the conversation so far."""
        context = thread_to_context(self._message_thread, self._name)
        context.append(
            UserMessage(
                content=ORCHESTRATOR_TASK_LEDGER_FACTS_UPDATE_PROMPT.format(task=self._task, facts=self._facts),
                source=self._name,
            )
        )
        self._facts = await self._complete(context, cancellation_token)
        context.append(AssistantMessage(content=self._facts, source=self._name))
        context.append(
            UserMessage(
                content=ORCHESTRATOR_TASK_LEDGER_PLAN_UPDATE_PROMPT.format(team=self._team_description),
                source=self._name,
            )
        )
        self._plan = await self._complete(context, cancellation_token)

    async def _prepare_final_answer(self, reason: str, cancellation_token: CancellationToken) -> None:
        """Have the model answer the user from the conversation, then stop with ``reason``."""
        context = thread_to_context(self._message_thread, self._name)
        if self._final_answer_prompt == ORCHESTRATOR_FINAL_ANSWER_PROMPT:
            prompt = ORCHESTRATOR_FINAL_ANSWER_PROMPT.format(task=self._task)
        else:
            prompt = self._final_answer_prompt  # a custom prompt is used as written, as in AutoGen
        context.append(UserMessage(content=prompt, source=self._name))
        answer = await self._complete(context, cancellation_token)
        await self._say(TextMessage(content=answer, source=self._name), cancellation_token)
        if self._termination_condition is not None:
            await self._termination_condition.reset()
        await self._signal_termination(StopMessage(content=reason, source=self._name))

    # ------------------------------------------------------------------ helpers

    async def _say(self, message: TextMessage, cancellation_token: CancellationToken) -> None:
        """Put the orchestrator's message in its thread and the run's stream, and show it to the team."""
        await self.update_message_thread([message])
        await self.publish_message(GroupChatMessage(message=message), topic_id=self._output_topic)
        self._output_message_queue.put_nowait(message)
        await self.publish_message(
            GroupChatAgentResponse(response=Response(chat_message=message), name=self._name),
            topic_id=self._group_topic,
            cancellation_token=cancellation_token,
        )

    async def _create(
        self, messages: list[LLMMessage], cancellation_token: CancellationToken, *, json_ledger: bool = False
    ) -> CreateResult:
        info = self._model_client.model_info
        if not info.get("vision", False):
            messages = remove_images(messages)
        if json_ledger and info.get("structured_output", False):
            return await self._model_client.create(
                messages, json_output=LedgerEntry, cancellation_token=cancellation_token
            )
        if json_ledger and info.get("json_output", False):
            return await self._model_client.create(messages, json_output=True, cancellation_token=cancellation_token)
        return await self._model_client.create(messages, cancellation_token=cancellation_token)

    async def _complete(self, messages: list[LLMMessage], cancellation_token: CancellationToken) -> str:
        result = await self._create(messages, cancellation_token)
        if not isinstance(result.content, str):
            raise TypeError(
                "The orchestrator's model answered with tool calls where text was expected; give "
                "MagenticOneGroupChat a model client without tools."
            )
        return result.content

    # ------------------------------------------------------------------ strategy hooks and state

    async def validate_group_state(self, messages: list[BaseChatMessage] | None) -> None:
        """Any task is accepted."""

    async def select_speaker(self, thread: Sequence[BaseAgentEvent | BaseChatMessage]) -> list[str] | str:
        """Unused: the progress ledger names the next speaker."""
        return []

    async def save_state(self) -> Mapping[str, Any]:
        """The thread, task, facts, plan and counters, as :class:`MagenticOneOrchestratorState` data."""
        state = MagenticOneOrchestratorState(
            **self._thread_state(),
            task=self._task,
            facts=self._facts,
            plan=self._plan,
            n_rounds=self._n_rounds,
            n_stalls=self._n_stalls,
        )
        return state.model_dump()

    async def load_state(self, state: Mapping[str, Any]) -> None:
        """Restore what :meth:`save_state` returned."""
        saved = MagenticOneOrchestratorState.model_validate(state)
        self._load_thread_state(saved.message_thread, saved.current_turn)
        self._task = saved.task
        self._facts = saved.facts
        self._plan = saved.plan
        self._n_rounds = saved.n_rounds
        self._n_stalls = saved.n_stalls
