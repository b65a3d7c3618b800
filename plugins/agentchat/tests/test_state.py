"""State models: AutoGen's field names and defaults, so saved states move between the two and between releases."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import BaseModel

from salon_agentchat.messages import TextMessage
from salon_agentchat.state import (
    AssistantAgentState,
    BaseGroupChatManagerState,
    BaseState,
    ChatAgentContainerState,
    MagenticOneOrchestratorState,
    RoundRobinManagerState,
    SelectorManagerState,
    SocietyOfMindAgentState,
    SwarmManagerState,
    TeamState,
)

DEFAULTS: dict[type[BaseState], dict[str, Any]] = {
    BaseState: {},
    AssistantAgentState: {"llm_context": {"messages": []}},
    TeamState: {"agent_states": {}},
    BaseGroupChatManagerState: {"message_thread": [], "current_turn": 0},
    ChatAgentContainerState: {"agent_state": {}, "message_buffer": []},
    RoundRobinManagerState: {"message_thread": [], "current_turn": 0, "next_speaker_index": 0},
    SelectorManagerState: {"message_thread": [], "current_turn": 0, "previous_speaker": None},
    SwarmManagerState: {"message_thread": [], "current_turn": 0, "current_speaker": ""},
    MagenticOneOrchestratorState: {
        "message_thread": [],
        "current_turn": 0,
        "task": "",
        "facts": "",
        "plan": "",
        "n_rounds": 0,
        "n_stalls": 0,
    },
    SocietyOfMindAgentState: {"inner_team_state": {}},
}


@pytest.mark.parametrize("cls", list(DEFAULTS), ids=lambda c: c.__name__)
def test_defaults_and_type_tag(cls: type[BaseState]) -> None:
    dumped = cls().model_dump()
    assert dumped == {"type": cls.__name__, "version": "1.0.0", **DEFAULTS[cls]}


@pytest.mark.parametrize("cls", list(DEFAULTS), ids=lambda c: c.__name__)
def test_mutable_defaults_are_not_shared(cls: type[BaseState]) -> None:
    first, second = cls(), cls()
    for name, value in DEFAULTS[cls].items():
        if isinstance(value, list | dict):
            assert getattr(first, name) is not getattr(second, name)


def test_group_chat_states_are_group_chat_manager_states() -> None:
    for cls in (RoundRobinManagerState, SelectorManagerState, SwarmManagerState, MagenticOneOrchestratorState):
        assert issubclass(cls, BaseGroupChatManagerState)


def test_a_team_state_round_trips_through_json() -> None:
    thread = [TextMessage(content="hi", source="user").dump()]
    manager = RoundRobinManagerState(message_thread=thread, current_turn=2, next_speaker_index=1)
    container = ChatAgentContainerState(agent_state=AssistantAgentState().model_dump(), message_buffer=thread)
    team = TeamState(agent_states={"manager": manager.model_dump(), "writer": container.model_dump()})
    loaded = TeamState.model_validate(json.loads(team.model_dump_json()))
    assert loaded == team
    restored = RoundRobinManagerState.model_validate(loaded.agent_states["manager"])
    assert restored == manager
    assert TextMessage.load(restored.message_thread[0]).content == "hi"


def test_reads_state_as_autogen_writes_it() -> None:
    autogen_state = {
        "type": "TeamState",
        "version": "1.0.0",
        "agent_states": {
            "assistant": {
                "type": "ChatAgentContainerState",
                "version": "1.0.0",
                "agent_state": {
                    "type": "AssistantAgentState",
                    "version": "1.0.0",
                    "llm_context": {"messages": [{"content": "hi", "source": "user", "type": "UserMessage"}]},
                },
                "message_buffer": [],
            },
            "SelectorGroupChatManager": {
                "type": "SelectorManagerState",
                "version": "1.0.0",
                "message_thread": [],
                "current_turn": 3,
                "previous_speaker": "assistant",
            },
        },
    }
    team = TeamState.model_validate(autogen_state)
    container = ChatAgentContainerState.model_validate(team.agent_states["assistant"])
    assistant = AssistantAgentState.model_validate(container.agent_state)
    assert assistant.llm_context["messages"][0]["content"] == "hi"
    selector = SelectorManagerState.model_validate(team.agent_states["SelectorGroupChatManager"])
    assert (selector.previous_speaker, selector.current_turn) == ("assistant", 3)


def test_states_are_pydantic_models() -> None:
    assert all(issubclass(cls, BaseModel) for cls in DEFAULTS)
