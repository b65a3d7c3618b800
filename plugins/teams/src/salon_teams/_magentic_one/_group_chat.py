"""MagenticOneGroupChat: a team led by a planning orchestrator (the port of AutoGen's ``MagenticOneGroupChat``)."""

from __future__ import annotations

from typing import Any

from salon import AgentRuntime
from salon.models import ChatCompletionClient
from salon_agentchat.base import ChatAgent, TerminationCondition
from salon_agentchat.group_chat import BaseGroupChat
from salon_agentchat.messages import BaseAgentEvent, BaseChatMessage

from ._orchestrator import MagenticOneOrchestrator
from ._prompts import ORCHESTRATOR_FINAL_ANSWER_PROMPT

__all__ = ["MagenticOneGroupChat"]


class MagenticOneGroupChat(BaseGroupChat):
    """A team whose orchestrator plans the task with a model and tells one member at a time what to do.

    The orchestrator (after the Magentic-One architecture, Fourney et al. 2024, arXiv:2411.04468) first
    writes a fact sheet and a plan, then repeatedly asks its model for a JSON progress ledger: whether the
    request is satisfied, whether the team is looping or stalling, who should act next and with what
    instruction. After ``max_stalls`` stalled steps it revises facts and plan and starts the team afresh.
    When the request is satisfied, or after ``max_turns`` rounds, it writes the final answer; the stop
    reason is the ledger's reason (or ``"Max rounds reached."``).

    Args:
        participants: The agents (teams cannot be participants); their descriptions tell the orchestrator
            what each can do.
        model_client: The orchestrator's model. It must follow JSON instructions; structured output or
            JSON mode is used when its ``model_info`` declares it.
        name: The team's name (default :attr:`DEFAULT_NAME`).
        description: What the team does (default :attr:`DEFAULT_DESCRIPTION`).
        termination_condition: An extra condition, checked on each member's answer.
        max_turns: The orchestrator's round budget (default 20).
        runtime: Run on this runtime instead of a private one.
        max_stalls: Stalled steps tolerated before re-planning (default 3).
        final_answer_prompt: The prompt for the final answer; the default one gets the task filled in, a
            custom one is used as written.
        custom_message_types: Message classes of your own the agents produce, so saved state can be read.
        emit_team_events: Also stream a :class:`~salon_agentchat.messages.SelectSpeakerEvent` per step.

    Raises:
        ValueError: There are no participants.
        TypeError: A participant is not a chat agent.

    Example::

        coder = AssistantAgent("coder", model_client=client, description="Writes Python code.")
        team = MagenticOneGroupChat([coder], model_client=client)
        result = await team.run(task="Write a program that prints 'Hello, world!'")
    """

    DEFAULT_NAME = "MagenticOneGroupChat"
    DEFAULT_DESCRIPTION = "A team of agents."

    def __init__(
        self,
        participants: list[ChatAgent],
        model_client: ChatCompletionClient,
        *,
        name: str | None = None,
        description: str | None = None,
        termination_condition: TerminationCondition | None = None,
        max_turns: int | None = 20,
        runtime: AgentRuntime | None = None,
        max_stalls: int = 3,
        final_answer_prompt: str = ORCHESTRATOR_FINAL_ANSWER_PROMPT,
        custom_message_types: list[type[BaseAgentEvent | BaseChatMessage]] | None = None,
        emit_team_events: bool = False,
    ) -> None:
        if not participants:
            raise ValueError("At least one participant is required for MagenticOneGroupChat.")
        for participant in participants:
            if not isinstance(participant, ChatAgent):
                raise TypeError(
                    f"Participant {participant!r} must be a ChatAgent; MagenticOneGroupChat cannot have teams "
                    "as participants."
                )
        if max_stalls < 1:
            raise ValueError(f"max_stalls must be at least 1, got {max_stalls}.")
        self._model_client = model_client
        self._max_stalls = max_stalls
        self._final_answer_prompt = final_answer_prompt
        super().__init__(
            name=name or self.DEFAULT_NAME,
            description=description or self.DEFAULT_DESCRIPTION,
            participants=list(participants),
            group_chat_manager_name="MagenticOneOrchestrator",
            group_chat_manager_class=MagenticOneOrchestrator,
            termination_condition=termination_condition,
            max_turns=max_turns,
            runtime=runtime,
            custom_message_types=custom_message_types,
            emit_team_events=emit_team_events,
        )

    def _manager_options(self) -> dict[str, Any]:
        return {
            "model_client": self._model_client,
            "max_stalls": self._max_stalls,
            "final_answer_prompt": self._final_answer_prompt,
        }
