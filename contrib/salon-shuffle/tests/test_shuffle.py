"""ShuffleGroupChat behaves as documented, and plugs in through config like a built-in strategy."""

from __future__ import annotations

import itertools
from collections import Counter

from salon import Container
from salon.models import ReplayChatCompletionClient
from salon_agentchat.agents import AssistantAgent
from salon_agentchat.conditions import MaxMessageTermination
from salon_agentchat.messages import BaseChatMessage
from salon_shuffle import ShuffleGroupChat

NAMES = ["alice", "bob", "carol"]


def agents() -> list[AssistantAgent]:
    return [
        AssistantAgent(name, model_client=ReplayChatCompletionClient([f"{name} {i}" for i in range(40)]))
        for name in NAMES
    ]


def speakers(messages: list[object]) -> list[str]:
    return [m.source for m in messages if isinstance(m, BaseChatMessage) and m.source != "user"]


async def test_everyone_speaks_once_per_round_and_never_twice_in_a_row() -> None:
    team = ShuffleGroupChat(agents(), seed=3, termination_condition=MaxMessageTermination(31))
    order = speakers((await team.run(task="go")).messages)

    assert len(order) == 30
    for start in range(0, 30, 3):
        assert sorted(order[start : start + 3]) == NAMES, f"round {start // 3} is not a permutation: {order}"
    assert all(a != b for a, b in itertools.pairwise(order))
    assert len({tuple(order[i : i + 3]) for i in range(0, 30, 3)}) > 1, "every round had the same order"


async def test_the_seed_makes_runs_repeat_and_reset_starts_over() -> None:
    first = ShuffleGroupChat(agents(), seed=11, termination_condition=MaxMessageTermination(10))
    second = ShuffleGroupChat(agents(), seed=11, termination_condition=MaxMessageTermination(10))
    a = speakers((await first.run(task="go")).messages)
    assert a == speakers((await second.run(task="go")).messages)
    await first.reset()
    assert speakers((await first.run(task="go")).messages) == a


async def test_state_saved_mid_round_continues_with_the_right_speaker() -> None:
    reference = ShuffleGroupChat(agents(), seed=5, termination_condition=MaxMessageTermination(9))
    whole = speakers((await reference.run(task="go")).messages)  # 8 turns

    team = ShuffleGroupChat(agents(), seed=5, termination_condition=MaxMessageTermination(5))
    head = speakers((await team.run(task="go")).messages)  # 4 turns: one round and one speaker
    state = await team.save_state()
    # No task this time: the four turns are the whole delta the condition sees.
    fresh = ShuffleGroupChat(agents(), seed=5, termination_condition=MaxMessageTermination(4))
    await fresh.load_state(state)
    tail = speakers((await fresh.run()).messages)

    assert head + tail == whole


async def test_a_config_uses_the_strategy_by_its_registered_name(tmp_path: object) -> None:
    container = Container.from_dict(
        {
            "agents": {name: {"use": "assistant", "options": {"model_client": "m"}} for name in NAMES},
            "model_clients": {"m": {"use": "replay", "options": {"chat_completions": ["hi"] * 12}}},
            "team": {
                "use": "shuffle",
                "options": {
                    "participants": NAMES,
                    "seed": 1,
                    "termination": {"use": "max_messages", "options": {"max_messages": 7}},
                },
            },
        }
    )
    team = container.component("team")
    assert isinstance(team, ShuffleGroupChat)
    assert Counter(speakers((await team.run(task="go")).messages)) == Counter(dict.fromkeys(NAMES, 2))
