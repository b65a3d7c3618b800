"""ShuffleGroupChat: one turn each per round, in a fresh random order every round."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import Field

from salon_agentchat.base import ChatAgent, TerminationCondition
from salon_agentchat.group_chat import BaseGroupChat, BaseGroupChatManager
from salon_agentchat.messages import BaseAgentEvent, BaseChatMessage
from salon_agentchat.state import BaseGroupChatManagerState

__all__ = ["ShuffleGroupChat", "ShuffleGroupChatManager"]


class ShuffleManagerState(BaseGroupChatManagerState):
    """What a shuffle manager saves: the base state plus the rest of the round and the RNG."""

    round_order: list[str] = Field(default_factory=list)
    rng_state: list[Any] = Field(default_factory=list)
    type: str = "ShuffleManagerState"


class ShuffleGroupChatManager(BaseGroupChatManager):
    """Draws a new permutation of the participants whenever a round is used up."""

    def __init__(self, *args: Any, seed: int | None = None, **kwargs: Any) -> None:
        self._seed = seed  # before the base __init__, which ends by calling _reset_strategy_state
        super().__init__(*args, **kwargs)

    async def validate_group_state(self, messages: list[BaseChatMessage] | None) -> None:
        """Any start is valid."""

    def _reset_strategy_state(self) -> None:
        """Start the shuffles from the seed again."""
        self._rng = random.Random(self._seed)
        self._round: list[str] = []
        self._last: str | None = None

    async def select_speaker(self, thread: Sequence[BaseAgentEvent | BaseChatMessage]) -> str:
        """The next speaker of the round; a new round never starts with the previous round's last speaker."""
        if not self._round:
            order = list(self._participant_names)
            self._rng.shuffle(order)
            if len(order) > 1 and order[0] == self._last:
                order[0], order[-1] = order[-1], order[0]
            self._round = order
        self._last = self._round.pop(0)
        return self._last

    async def save_state(self) -> Mapping[str, Any]:
        """The thread, the turn count, what is left of the round and the RNG, as JSON-able data."""
        version, internal, gauss = self._rng.getstate()
        state = ShuffleManagerState(
            **self._thread_state(),
            round_order=list(self._round),
            rng_state=[version, list(internal), gauss],
        )
        return state.model_dump()

    async def load_state(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`save_state`'s output, so the next speaker is the one the saved team would pick."""
        loaded = ShuffleManagerState.model_validate(state)
        self._load_thread_state(loaded.message_thread, loaded.current_turn)
        self._round = list(loaded.round_order)
        if loaded.rng_state:
            version, internal, gauss = loaded.rng_state
            self._rng.setstate((version, tuple(internal), gauss))


class ShuffleGroupChat(BaseGroupChat):
    """Every participant speaks once per round; each round's order is a new seeded shuffle.

    Args:
        participants: The agents; names must be unique.
        seed: Seed of the shuffles (``None``: different every run).
        termination_condition: Ends a run.
        max_turns: Ends a run after this many turns.
    """

    def __init__(
        self,
        participants: list[ChatAgent],
        *,
        seed: int | None = None,
        termination_condition: TerminationCondition | None = None,
        max_turns: int | None = None,
    ) -> None:
        self._seed = seed
        super().__init__(
            name="ShuffleGroupChat",
            description="A team whose members speak in a shuffled order.",
            participants=list(participants),
            group_chat_manager_name="ShuffleGroupChatManager",
            group_chat_manager_class=ShuffleGroupChatManager,
            termination_condition=termination_condition,
            max_turns=max_turns,
        )

    def _manager_options(self) -> dict[str, Any]:
        return {"seed": self._seed}
